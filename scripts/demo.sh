#!/usr/bin/env bash
# The local demo: a throwaway PostgreSQL (kept under .rotary-dev/ so a restart keeps state;
# --fresh starts over), the mock Salesforce org, the Rotary server in rotation dev mode
# (intervals in minutes), a bootstrapped identity, project and Salesforce connection, and a
# printed curl walkthrough. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE_DIR="$PWD/.rotary-dev"
if [ "${1:-}" = "--fresh" ]; then
  rm -rf "$STATE_DIR"
fi
mkdir -p "$STATE_DIR"

if [ -z "${ROTARY_DEMO_INNER:-}" ]; then
  echo "Building rotary (the first build takes a few minutes)..." >&2
  cargo build --locked --quiet
  export ROTARY_DEMO_INNER=1 ROTARY_PG_DIR="$STATE_DIR/pg"
  exec scripts/with-postgres.sh "$0"
fi

# From here on, DATABASE_URL points at the demo's PostgreSQL.
BIN="$PWD/target/debug/rotary"
PORT="${ROTARY_DEMO_PORT:-8080}"
MOCK_PORT="${ROTARY_DEMO_MOCK_PORT:-8787}"
BASE="http://127.0.0.1:$PORT"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

[ -f "$STATE_DIR/root-key" ] || (umask 077; head -c 32 /dev/urandom | base64 > "$STATE_DIR/root-key")
export ROTARY_ROOT_KEY="$(cat "$STATE_DIR/root-key")"
export ROTARY_ALLOW_INTERNAL_URLS=true ROTARY_ROTATION_DEV_MODE=true

# The mock org: a fixed random seed gives the same apps, ids and keys on every start.
"$BIN" mock-salesforce --listen "127.0.0.1:$MOCK_PORT" --rng-seed 20261125 \
  > "$STATE_DIR/mock-org.json" 2> "$STATE_DIR/mock-org.log" &
MOCK=$!
"$BIN" serve --listen "127.0.0.1:$PORT" --log-level "${ROTARY_LOG_LEVEL:-info}" 2> "$STATE_DIR/server.log" &
SERVER=$!
trap 'kill -TERM $SERVER $MOCK 2>/dev/null; wait $SERVER $MOCK 2>/dev/null; echo "Rotary stopped." >&2' EXIT
trap 'exit 0' INT TERM
for _ in $(seq 1 200); do
  curl -fsS "$BASE/api/status" >/dev/null 2>&1 && [ -s "$STATE_DIR/mock-org.json" ] && break
  kill -0 $SERVER 2>/dev/null || { cat "$STATE_DIR/server.log" >&2; exit 1; }
  sleep 0.1
done
ORG=$(cat "$STATE_DIR/mock-org.json")
INSTANCE_URL=$(echo "$ORG" | json '["instanceUrl"]')
CONNECTOR_KEY=$(echo "$ORG" | json '["apps"][0]["key"]')
CONNECTOR_SECRET=$(echo "$ORG" | json '["apps"][0]["secret"]')

if [ ! -s "$STATE_DIR/setup.json" ]; then
  ADMIN=$(curl -fsS "$BASE/api/v1/admin/bootstrap" -H 'Content-Type: application/json' -d '{"organization":"Demo"}')
  CLIENT_ID=$(echo "$ADMIN" | json '["identity"]["credentials"]["clientId"]')
  CLIENT_SECRET=$(echo "$ADMIN" | json '["identity"]["credentials"]["clientSecret"]')
  TOKEN=$(curl -fsS "$BASE/api/v1/auth/universal-auth/login" -H 'Content-Type: application/json' \
    -d "{\"clientId\":\"$CLIENT_ID\",\"clientSecret\":\"$CLIENT_SECRET\"}" | json '["accessToken"]')
  PROJECT=$(curl -fsS "$BASE/api/v2/workspace" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"projectName":"Billing","slug":"billing"}' | json '["project"]["id"]')
  CONNECTION=$(curl -fsS "$BASE/api/v1/app-connections/salesforce" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"name\":\"demo-org\",\"method\":\"client-credentials\",\"projectId\":\"$PROJECT\",\"credentials\":{\"instanceUrl\":\"$INSTANCE_URL\",\"consumerKey\":\"$CONNECTOR_KEY\",\"consumerSecret\":\"$CONNECTOR_SECRET\"}}" \
    | json '["appConnection"]["id"]')
  (umask 077; printf '{"clientId":"%s","clientSecret":"%s","projectId":"%s","connectionId":"%s"}\n' \
    "$CLIENT_ID" "$CLIENT_SECRET" "$PROJECT" "$CONNECTION" > "$STATE_DIR/setup.json")
fi
SETUP=$(cat "$STATE_DIR/setup.json")
CLIENT_ID=$(echo "$SETUP" | json '["clientId"]')
CLIENT_SECRET=$(echo "$SETUP" | json '["clientSecret"]')
PROJECT=$(echo "$SETUP" | json '["projectId"]')
CONNECTION=$(echo "$SETUP" | json '["connectionId"]')

cat <<EOT

Rotary is running at $BASE, with a mock Salesforce org at $INSTANCE_URL.
Logs: .rotary-dev/server.log and .rotary-dev/mock-org.log. Ctrl-C stops everything.
(The mock org keeps its state in memory: after a restart, start over with scripts/demo.sh --fresh.)

Set up for you: organization "Demo", project "Billing" ($PROJECT)
and the Salesforce connection "demo-org" ($CONNECTION).
Paste these into another terminal:

  # 1. log in as the admin machine identity
  TOKEN=\$(curl -s $BASE/api/v1/auth/universal-auth/login -H 'Content-Type: application/json' \\
    -d '{"clientId":"$CLIENT_ID","clientSecret":"$CLIENT_SECRET"}' \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')

  # 2. list the org's External Client Apps
  curl -s $BASE/api/v1/app-connections/salesforce/$CONNECTION/oauth-apps -H "Authorization: Bearer \$TOKEN"

  # 3. create a rotation of Billing_Sync's consumer secret (the seed's sample body)
  APP_ID=\$(curl -s $BASE/api/v1/app-connections/salesforce/$CONNECTION/oauth-apps -H "Authorization: Bearer \$TOKEN" \\
    | python3 -c 'import json,sys; print([a for a in json.load(sys.stdin)["apps"] if a["developerName"]=="Billing_Sync"][0]["identifier"])')
  ROTATION=\$(curl -s $BASE/api/v2/secret-rotations/salesforce-oauth-credentials \\
    -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' --data "{
      \"name\": \"my-salesforce-rotation\", \"projectId\": \"$PROJECT\",
      \"description\": \"Salesforce ECA consumer secret rotation\", \"connectionId\": \"$CONNECTION\",
      \"environment\": \"dev\", \"secretPath\": \"/\", \"isAutoRotationEnabled\": true,
      \"rotationInterval\": 30, \"rotateAtUtc\": { \"hours\": 0, \"minutes\": 0 },
      \"parameters\": { \"appId\": \"\$APP_ID\", \"appName\": \"Billing_Sync\" },
      \"secretsMapping\": { \"consumerKey\": \"SALESFORCE_CONSUMER_KEY\", \"consumerSecret\": \"SALESFORCE_CONSUMER_SECRET\" }
    }" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secretRotation"]["id"])')

  # 4. read the mapped secrets, as applications do
  curl -s "$BASE/api/v3/secrets/raw?workspaceId=$PROJECT&environment=dev" -H "Authorization: Bearer \$TOKEN"

  # 5. rotate now, then check the new credential works at Salesforce (204)
  curl -s -X POST $BASE/api/v2/secret-rotations/salesforce-oauth-credentials/\$ROTATION/rotate-secrets \\
    -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{}'
  curl -s -o /dev/null -w '%{http_code}\n' -X POST \\
    $BASE/api/v2/secret-rotations/salesforce-oauth-credentials/\$ROTATION/check-credentials -H "Authorization: Bearer \$TOKEN"

  # 6. the run history, newest first
  curl -s $BASE/api/v2/secret-rotations/salesforce-oauth-credentials/\$ROTATION/runs -H "Authorization: Bearer \$TOKEN"

  # 7. what the mock org holds (test-only control API)
  curl -s $INSTANCE_URL/__mock/apps/\$APP_ID/credentials

EOT
wait $SERVER
