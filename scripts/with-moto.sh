#!/usr/bin/env bash
# Runs a command with moto's AWS server available for the tests, then stops it.
#   scripts/with-moto.sh cargo test
# moto (PyPI moto[server], pinned, a third-party AWS mock) goes into a venv under target/; its
# server runs on a free loopback port with request authentication on after its first three
# actions (INITIAL_NO_AUTH_ACTION_COUNT), which create an administrator IAM user and its key.
# From then on every request must be signed by a key moto knows: a deleted or wrong key is
# refused, as by AWS. The command gets ROTARY_TEST_AWS_URL and ROTARY_TEST_AWS_ADMIN
# (`<access key id>:<secret>`); each test makes IAM users of its own with that key.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION=5.2.5
VENV=target/moto-venv
INSTALLED=$("$VENV/bin/pip" show moto 2>/dev/null || true)
if [ ! -x "$VENV/bin/moto_server" ] || [[ "$INSTALLED" != *"Version: $MOTO_VERSION"* ]]; then
  echo "with-moto: installing moto[server] $MOTO_VERSION into $VENV..." >&2
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's own python3 keeps venv in a separate package.
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$VENV"; python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$(mktemp -t rotary-moto.XXXXXX.log)
INITIAL_NO_AUTH_ACTION_COUNT=3 "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" > "$LOG" 2>&1 &
MOTO_PID=$!
stop() {
  kill "$MOTO_PID" 2>/dev/null || true
  wait "$MOTO_PID" 2>/dev/null || true
  rm -f "$LOG"
}
trap stop EXIT
export ROTARY_TEST_AWS_URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
  curl -s -o /dev/null "$ROTARY_TEST_AWS_URL/moto-api/" && break
  sleep 0.1
done

# The three unauthenticated actions: an administrator, its policy, its key.
ROTARY_TEST_AWS_ADMIN=$("$VENV/bin/python" - <<'PY'
import json, os, boto3
iam = boto3.client("iam", endpoint_url=os.environ["ROTARY_TEST_AWS_URL"], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="rotary-test-admin")
iam.put_user_policy(UserName="rotary-test-admin", PolicyName="admin", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="rotary-test-admin")["AccessKey"]
print(f'{key["AccessKeyId"]}:{key["SecretAccessKey"]}')
PY
)
export ROTARY_TEST_AWS_ADMIN

set +e
"$@"
status=$?
set -e
exit $status
