#!/usr/bin/env bash
# Benchmark: secret reads per second and latency at 2 and 64 concurrent connections, and the
# server's resident memory idle and after load. Run by hand, not in CI:
#   scripts/bench-secrets.sh            (DURATION=10s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}

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
"$BIN" serve --listen "127.0.0.1:$PORT" --log-level warn 2>/tmp/rotary-bench.log &
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

rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$SERVER/status; }
echo "machine: $(nproc) cores; server: $BIN (release); database: local PostgreSQL, fsync off"
sleep 1
echo "idle resident memory (20 secrets stored): $(rss)"
URL="$BASE/api/v3/secrets/raw/KEY_7?workspaceId=$PROJECT&environment=dev&secretPath=/"
for c in 2 64; do
  echo
  echo "== GET one secret, $c connections, $DURATION =="
  wrk -t2 -c"$c" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL" \
    | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
done
LIST="$BASE/api/v3/secrets/raw?workspaceId=$PROJECT&environment=dev"
echo
echo "== GET the list of 20 secrets, 64 connections, $DURATION =="
wrk -t2 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$LIST" \
  | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
echo
echo "resident memory after load: $(rss)"
