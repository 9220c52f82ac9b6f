#!/usr/bin/env bash
# The local demo: a throwaway PostgreSQL (kept under .rotary-dev/ so a restart keeps state;
# --fresh starts over), the Rotary server, a bootstrapped admin identity, and a printed curl
# walkthrough. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE_DIR="$PWD/.rotary-dev"
if [ "${1:-}" = "--fresh" ]; then
  rm -rf "$STATE_DIR"
fi
mkdir -p "$STATE_DIR"

if [ -z "${ROTARY_DEMO_INNER:-}" ]; then
  echo "Building rotary (first build takes a few minutes)..." >&2
  cargo build --locked --quiet
  export ROTARY_DEMO_INNER=1 ROTARY_PG_DIR="$STATE_DIR/pg"
  exec scripts/with-postgres.sh "$0"
fi

# From here on, DATABASE_URL points at the demo's PostgreSQL.
BIN="$PWD/target/debug/rotary"
PORT="${ROTARY_DEMO_PORT:-8080}"
BASE="http://127.0.0.1:$PORT"
[ -f "$STATE_DIR/root-key" ] || (umask 077; head -c 32 /dev/urandom | base64 > "$STATE_DIR/root-key")
export ROTARY_ROOT_KEY="$(cat "$STATE_DIR/root-key")"

"$BIN" migrate --log-level warn
if [ ! -s "$STATE_DIR/admin.json" ]; then
  (umask 077; "$BIN" bootstrap --organization "Demo" > "$STATE_DIR/admin.json")
fi
CLIENT_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["identity"]["credentials"]["clientId"])' "$STATE_DIR/admin.json")
CLIENT_SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["identity"]["credentials"]["clientSecret"])' "$STATE_DIR/admin.json")

"$BIN" serve --listen "127.0.0.1:$PORT" --log-level "${ROTARY_LOG_LEVEL:-info}" 2> "$STATE_DIR/server.log" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; echo "Rotary stopped." >&2' EXIT
trap 'exit 0' INT TERM
for _ in $(seq 1 100); do
  curl -fsS "$BASE/api/status" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { cat "$STATE_DIR/server.log" >&2; exit 1; }
  sleep 0.1
done

cat <<EOT

Rotary is running at $BASE   (logs: .rotary-dev/server.log; Ctrl-C stops it)

The admin machine identity of organization "Demo" (also in .rotary-dev/admin.json):
  clientId:     $CLIENT_ID
  clientSecret: $CLIENT_SECRET

Paste these into another terminal:

  # 1. log in
  TOKEN=\$(curl -s $BASE/api/v1/auth/universal-auth/login -H 'Content-Type: application/json' \\
    -d '{"clientId":"$CLIENT_ID","clientSecret":"$CLIENT_SECRET"}' \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')

  # 2. create a project (it gets environments dev, staging and prod)
  PROJECT=\$(curl -s $BASE/api/v2/workspace -H "Authorization: Bearer \$TOKEN" \\
    -H 'Content-Type: application/json' -d '{"projectName":"Billing"}' \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["project"]["id"])')

  # 3. write a secret
  curl -s $BASE/api/v3/secrets/raw/DB_PASSWORD -H "Authorization: Bearer \$TOKEN" \\
    -H 'Content-Type: application/json' \\
    -d "{\"workspaceId\":\"\$PROJECT\",\"environment\":\"dev\",\"secretValue\":\"hunter2\"}"

  # 4. read it back, as the SDKs do
  curl -s "$BASE/api/v3/secrets/raw/DB_PASSWORD?workspaceId=\$PROJECT&environment=dev" \\
    -H "Authorization: Bearer \$TOKEN"

  # 5. list every secret of the environment
  curl -s "$BASE/api/v3/secrets/raw?workspaceId=\$PROJECT&environment=dev" -H "Authorization: Bearer \$TOKEN"

EOT
wait $SERVER
