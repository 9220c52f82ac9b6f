#!/usr/bin/env bash
# API benchmark (issue 7, benchmarks 3 and 4): GET of one secret, of the secrets list and of a
# rotation, at 2 and 64 concurrent connections (wrk), with ROTATIONS rotations stored (100,000
# by default: one real, the rest synthetic rows in the same folder), and the server's
# resident memory idle, after load and after a /metrics scrape. Run by hand, not in CI:
#   scripts/bench-secrets.sh            (DURATION=10s, ROTATIONS=100000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
ROTATIONS=${ROTATIONS:-100000}

if [ -z "${ROTARY_BENCH_INNER:-}" ]; then
  command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  cargo build --release --locked --quiet
  export ROTARY_BENCH_INNER=1
  exec scripts/with-postgres.sh "$0"
fi

BIN=target/release/rotary
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export ROTARY_ROOT_KEY=$(head -c 32 /dev/urandom | base64)
ROTARY_ALLOW_INTERNAL_URLS=true "$BIN" serve --listen "127.0.0.1:$PORT" --log-level warn 2>/tmp/rotary-bench.log &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -fsS "$BASE/api/status" >/dev/null 2>&1; do sleep 0.1; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
CREDS=$(curl -s "$BASE/api/v1/admin/bootstrap" -H 'Content-Type: application/json' -d '{"organization":"Bench"}')
CID=$(echo "$CREDS" | json '["identity"]["credentials"]["clientId"]')
CSECRET=$(echo "$CREDS" | json '["identity"]["credentials"]["clientSecret"]')
TOKEN=$(curl -s "$BASE/api/v1/auth/universal-auth/login" -H 'Content-Type: application/json' \
  -d "{\"clientId\":\"$CID\",\"clientSecret\":\"$CSECRET\"}" | json '["accessToken"]')
PROJECT=$(curl -s "$BASE/api/v2/workspace" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"projectName":"Bench"}' | json '["project"]["id"]')
for i in $(seq 1 20); do
  curl -s -o /dev/null "$BASE/api/v3/secrets/raw/KEY_$i" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"workspaceId\":\"$PROJECT\",\"environment\":\"dev\",\"secretValue\":\"value-$i-$(head -c 16 /dev/urandom | base64)\"}"
done

# One real rotation (through the mock org), then synthetic ones beside it, auto-rotation off.
MOCK_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOCK_JSON=$(mktemp)
"$BIN" mock-salesforce --listen "127.0.0.1:$MOCK_PORT" --rng-seed 7 > "$MOCK_JSON" 2>/dev/null &
MOCK=$!
trap 'kill $SERVER $MOCK 2>/dev/null || true' EXIT
until [ -s "$MOCK_JSON" ]; do sleep 0.1; done
ORG=$(cat "$MOCK_JSON")
CONNECTION=$(curl -s "$BASE/api/v1/app-connections/salesforce" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"name\":\"org\",\"method\":\"client-credentials\",\"projectId\":\"$PROJECT\",\"credentials\":{\"instanceUrl\":\"$(echo "$ORG" | json '["instanceUrl"]')\",\"consumerKey\":\"$(echo "$ORG" | json '["apps"][0]["key"]')\",\"consumerSecret\":\"$(echo "$ORG" | json '["apps"][0]["secret"]')\"}}" \
  | json '["appConnection"]["id"]')
ROTATION=$(curl -s "$BASE/api/v2/secret-rotations/salesforce-oauth-credentials" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"name\":\"billing\",\"projectId\":\"$PROJECT\",\"connectionId\":\"$CONNECTION\",\"environment\":\"dev\",\"secretPath\":\"/\",\"isAutoRotationEnabled\":true,\"rotationInterval\":30,\"parameters\":{\"appId\":\"$(echo "$ORG" | json '["apps"][1]["id"]')\",\"appName\":\"Billing_Sync\"},\"secretsMapping\":{\"consumerKey\":\"SF_KEY\",\"consumerSecret\":\"SF_SECRET\"}}" \
  | json '["secretRotation"]["id"]')
psql -q "$DATABASE_URL" -c "
  INSERT INTO secret_rotations (id, org_id, project_id, env_id, folder_path, folder_id, type, name, connection_id,
      parameters, secrets_mapping, is_auto_rotation_enabled, rotation_interval, rotate_at_hours, rotate_at_minutes,
      lifecycle, generated_credentials_ct)
  SELECT gen_random_uuid(), r.org_id, r.project_id, r.env_id, r.folder_path, r.folder_id, r.type, 'synthetic-' || i,
      r.connection_id, r.parameters, jsonb_build_object('consumerKey', 'K_' || i, 'consumerSecret', 'S_' || i),
      false, 30, 0, 0, 'active', r.generated_credentials_ct
  FROM secret_rotations r, generate_series(2, $ROTATIONS) AS i WHERE r.id = '$ROTATION';" -c 'VACUUM ANALYZE secret_rotations'

rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$SERVER/status; }
echo "machine: $(nproc) cores; server: $BIN (release); database: local PostgreSQL, fsync off"
sleep 1
echo "idle resident memory (20 secrets and $ROTATIONS rotations stored): $(rss)"
URL="$BASE/api/v3/secrets/raw/KEY_7?workspaceId=$PROJECT&environment=dev&secretPath=/"
for c in 2 64; do
  echo
  echo "== GET one secret, $c connections, $DURATION =="
  wrk -t2 -c"$c" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL" \
    | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
done
LIST="$BASE/api/v3/secrets/raw?workspaceId=$PROJECT&environment=dev"
ONE_ROTATION="$BASE/api/v2/secret-rotations/salesforce-oauth-credentials/$ROTATION"
for c in 2 64; do
  echo
  echo "== GET one rotation, $c connections, $DURATION =="
  wrk -t2 -c"$c" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$ONE_ROTATION" \
    | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
done
echo
echo "== GET the list of secrets (20 plus the 2 mapped), 64 connections, $DURATION =="
wrk -t2 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$LIST" \
  | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
echo
echo "resident memory after load: $(rss)"
# A Prometheus scrape with every rotation stored (its per-rotation series are capped).
for i in 1 2; do
  curl -s -o /dev/null -w "GET /metrics: %{time_total} s, %{size_download} bytes; " "$BASE/metrics" -H "Authorization: Bearer $TOKEN"
  echo "resident memory after: $(rss)"
done
# What the machine allows: a route with no database work, and one with a single SELECT 1.
for c in 2 64; do
  echo
  echo "== ceiling: an unknown route (404, no database), $c connections, $DURATION =="
  wrk -t2 -c"$c" -d"$DURATION" --latency "$BASE/no-such-route" | grep -E 'Requests/sec|50%|99%'
  echo "== ceiling: GET /api/status (one SELECT 1), $c connections, $DURATION =="
  wrk -t2 -c"$c" -d"$DURATION" --latency "$BASE/api/status" | grep -E 'Requests/sec|50%|99%'
done
