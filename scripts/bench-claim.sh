#!/usr/bin/env bash
# Benchmark 5: the scheduler claim with many rotations stored (default 1,000,000, 1,000 due),
# on a throwaway Postgres cluster; prints EXPLAIN ANALYZE of each claim statement. By hand:
#   scripts/bench-claim.sh [ROWS [DUE]]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ROTARY_BENCH_INNER:-}" ]; then
  cargo build --release --locked --quiet
  export ROTARY_BENCH_INNER=1
  exec scripts/with-postgres.sh "$0" "$@"
fi
psql -q "$DATABASE_URL" -c 'CREATE DATABASE claim_bench'
URL="${DATABASE_URL%/*}/claim_bench"
DATABASE_URL="$URL" target/release/rotary migrate
echo "machine: $(nproc) cores; PostgreSQL $(psql -tA "$URL" -c 'SHOW server_version')"
time psql -q "$URL" -v rows="${1:-1000000}" -v due="${2:-1000}" -f bench/claim.sql
