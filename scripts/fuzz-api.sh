#!/usr/bin/env bash
# API fuzzing against openapi.yaml with schemathesis (PyPI, pinned), run by scripts/test.sh:
# every operation, positive and negative inputs, a fixed seed and a bounded number of examples.
# Fails when any response is a 5xx or does not match the documented schema. Needs
# DATABASE_URL (scripts/with-postgres.sh gives one) and a built target/debug/rotary.
#   scripts/with-postgres.sh scripts/fuzz-api.sh     (FUZZ_EXAMPLES=N, FUZZ_SEED=N to vary)
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
VENV=target/fuzz-venv
if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into $VENV..." >&2
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's own python3 keeps venv in a separate package.
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$VENV"; python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

BIN=target/debug/rotary
[ -x "$BIN" ] || cargo build --locked --quiet
psql -q "$DATABASE_URL" -c 'CREATE DATABASE rotary_fuzz'
export DATABASE_URL="${DATABASE_URL%/*}/rotary_fuzz"
export ROTARY_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
LOG=$(mktemp -t rotary-fuzz.XXXXXX.log)
"$BIN" serve --listen "127.0.0.1:$PORT" --log-format json 2> "$LOG" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
until curl -fsS "$BASE/api/status" >/dev/null 2>&1; do
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done

# A bootstrapped identity with a project, so authenticated operations get past the auth check.
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
ADMIN=$(curl -fsS "$BASE/api/v1/admin/bootstrap" -H 'Content-Type: application/json' -d '{"organization":"Fuzz"}')
TOKEN=$(curl -fsS "$BASE/api/v1/auth/universal-auth/login" -H 'Content-Type: application/json' \
  -d "{\"clientId\":\"$(echo "$ADMIN" | json '["identity"]["credentials"]["clientId"]')\",\"clientSecret\":\"$(echo "$ADMIN" | json '["identity"]["credentials"]["clientSecret"]')\"}" \
  | json '["accessToken"]')
curl -fsS -o /dev/null "$BASE/api/v2/workspace" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"projectName":"Fuzz"}'

# Token revocation would end the run's own session; it is covered by the integration tests.
# One worker: CPython 3.11's ast module keeps its recursion depth per interpreter, so two
# threads parsing at once (Hypothesis describing strategies, schemathesis's --workers 2) fail
# with "SystemError: AST constructor recursion depth mismatch" (cpython gh-106905), a tool
# error in no request. No `examples` phase: it died of the same error; the coverage phase sends
# the schema's own examples and boundary values anyway.
fuzz() {
  "$VENV/bin/schemathesis" run openapi.yaml --url "$BASE" \
    -H "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --phases coverage,fuzzing \
    --exclude-path /api/v1/auth/token/revoke \
    --seed "${FUZZ_SEED:-20261125}" --max-examples "${FUZZ_EXAMPLES:-25}" \
    --no-shrink --workers 1 --generation-database none \
    --request-timeout 10 --no-color --warnings off
}
set +e
fuzz
status=$?
set -e
if grep -q '"panicked' "$LOG"; then
  echo "fuzz: the server panicked; see $LOG" >&2
  exit 1
fi
exit $status
