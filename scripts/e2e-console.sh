#!/usr/bin/env bash
# Browser tests of the web console (e2e/console.js) in headless Chromium, run by scripts/test.sh
# against a real server and the mock Salesforce org. Installs Debian's chromium and, from npm,
# playwright-core (pinned, into target/e2e-node) when missing. Screenshots of each page at
# laptop and phone width land in target/e2e-screenshots/. Needs DATABASE_URL
# (scripts/with-postgres.sh gives one) and a built target/debug/rotary.
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYWRIGHT_VERSION=1.65.1
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
MISSING=""
[ -x /usr/bin/chromium ] || MISSING="chromium"
command -v node >/dev/null || MISSING="$MISSING nodejs npm"
if [ -n "$MISSING" ]; then
  echo "e2e: installing $MISSING (apt-get)..." >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi
NODE_DIR=target/e2e-node
if [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ] \
  || ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$NODE_DIR/node_modules/playwright-core/package.json"; then
  echo "e2e: installing playwright-core $PLAYWRIGHT_VERSION into $NODE_DIR..." >&2
  mkdir -p "$NODE_DIR"
  npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" "playwright-core@$PLAYWRIGHT_VERSION" >&2
fi

BIN=target/debug/rotary
[ -x "$BIN" ] || cargo build --locked --quiet
psql -q "$DATABASE_URL" -c 'CREATE DATABASE rotary_e2e'
export DATABASE_URL="${DATABASE_URL%/*}/rotary_e2e"
export ROTARY_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
export ROTARY_ALLOW_INTERNAL_URLS=true
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); MOCK_PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
LOG=$(mktemp -t rotary-e2e.XXXXXX.log)
ORG=$(mktemp -t rotary-e2e-org.XXXXXX.json)
"$BIN" mock-salesforce --listen "127.0.0.1:$MOCK_PORT" --rng-seed 20261125 > "$ORG" 2>/dev/null &
MOCK=$!
"$BIN" serve --listen "127.0.0.1:$PORT" 2> "$LOG" &
SERVER=$!
trap 'kill $SERVER $MOCK 2>/dev/null || true; wait $SERVER $MOCK 2>/dev/null || true' EXIT
until curl -fsS "$BASE/api/status" >/dev/null 2>&1 && [ -s "$ORG" ]; do
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done

# Set up through the API: the identity and the project.
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
ADMIN=$(curl -fsS "$BASE/api/v1/admin/bootstrap" -H 'Content-Type: application/json' -d '{"organization":"E2E"}')
CLIENT_ID=$(echo "$ADMIN" | json '["identity"]["credentials"]["clientId"]')
CLIENT_SECRET=$(echo "$ADMIN" | json '["identity"]["credentials"]["clientSecret"]')
TOKEN=$(curl -fsS "$BASE/api/v1/auth/universal-auth/login" -H 'Content-Type: application/json' \
  -d "{\"clientId\":\"$CLIENT_ID\",\"clientSecret\":\"$CLIENT_SECRET\"}" | json '["accessToken"]')
api() { curl -fsS "$BASE$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2"; }
api /api/v2/workspace '{"projectName":"Billing"}' >/dev/null
# The connection and the rotation are created in the browser.
export E2E_INSTANCE_URL=$(json '["instanceUrl"]' < "$ORG")
export E2E_CONSUMER_KEY=$(json '["apps"][0]["key"]' < "$ORG")
export E2E_CONSUMER_SECRET=$(json '["apps"][0]["secret"]' < "$ORG")
OUT=target/e2e-screenshots
rm -rf "$OUT"; mkdir -p "$OUT"
NODE_PATH="$NODE_DIR/node_modules" node e2e/console.js "$BASE" "$CLIENT_ID" "$CLIENT_SECRET" "$OUT"
if grep -q '"panicked\|handler panicked' "$LOG"; then
  echo "e2e: the server panicked; see $LOG" >&2
  exit 1
fi
