#!/usr/bin/env bash
# Rotation benchmarks (see benches/rotations.rs), run by hand, not in CI. On a throwaway
# Postgres cluster (fsync off, as scripts/with-postgres.sh starts it):
#   scripts/bench-rotations.sh throughput   full rotations at 0 ms latency, default caps, then
#                                           pgbench TPC-B with the same client count, and
#                                           a rotation's own SQL alone (bench/rotation-floor.sql)
#   scripts/bench-rotations.sh postgres     postgres-credentials rotations against this cluster at
#                                           0 ms, default caps, then pgbench replaying one
#                                           ALTER ROLE on a fresh scram login per transaction
#                                           (bench/pg-alter-login.sql), same client count
#   scripts/bench-rotations.sh mysql        mysql-credentials rotations against a throwaway
#                                           MariaDB (scripts/with-mariadb.sh) at 0 ms, then the
#                                           server alone replaying a rotation's statements
#   scripts/bench-rotations.sh redis        redis-credentials rotations against a throwaway
#                                           redis-server at 0 ms, then the server alone replaying
#                                           a rotation's commands from as many clients
#   scripts/bench-rotations.sh ldap         ldap-password rotations (open-ldap) against a throwaway
#                                           slapd over ldaps:// at 0 ms, then slapd alone replaying
#                                           a rotation's operations from as many clients
#   scripts/bench-rotations.sh okta [MS]    okta-client-secret rotations against a mock Okta org in
#                                           the benchmark, MS ms (0) added to every call to it
#   scripts/bench-rotations.sh auth0 [MS]   auth0-client-secret rotations against a mock Auth0
#                                           tenant in the benchmark, MS ms (0) added to every call
#   scripts/bench-rotations.sh azure [MS]   azure-client-secret rotations against a mock of Microsoft
#                                           in the benchmark, MS ms (0) added to every call
#   scripts/bench-rotations.sh aws [MS]     aws-iam-user-secret rotations against moto's server
#                                           (scripts/with-moto.sh), MS ms (0) added to every call
#                                           by a proxy; then moto alone replaying a rotation's calls
#   scripts/bench-rotations.sh mongodb [MS] mongodb-credentials rotations against Rotary's MongoDB
#                                           protocol server in the benchmark, MS ms (0) before every
#                                           command; then the server alone doing a rotation's work
#   scripts/bench-rotations.sh mssql [MS]   mssql-credentials rotations against Rotary's SQL Server
#                                           protocol server in the benchmark, MS ms (0) before every
#                                           TDS message; then the server alone doing a rotation's work
#   scripts/bench-rotations.sh oracle [MS]  oracledb-credentials rotations against Rotary's Oracle
#                                           protocol server in the benchmark, MS ms (0) before every
#                                           answer; then the server alone doing a rotation's work
#   scripts/bench-rotations.sh burst [N C]  N rotations (10000) over C connections (100), all due
#                                           at once, 50 ms per call to the org
#   scripts/bench-rotations.sh -- FLAGS     benches/rotations.rs with FLAGS as given
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ROTARY_BENCH_INNER:-}" ]; then
  cargo bench --locked --bench rotations --no-run >/dev/null 2>&1 || cargo bench --locked --bench rotations --no-run
  export ROTARY_BENCH_INNER=1
  exec scripts/with-postgres.sh "$0" "$@"
fi

bench() { cargo bench --locked --quiet --bench rotations -- "$@"; }
mode=${1:-throughput}
shift || true
case "$mode" in
  throughput)
    CLIENTS=${CLIENTS:-16}
    bench --rotations "${ROTATIONS:-2000}" --connections 4 --latency-ms 0 --concurrency "$CLIENTS" --per-connection 4
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    "$PGBIN/createdb" -d "$DATABASE_URL" pgbench 2>/dev/null || psql "$DATABASE_URL" -qc 'CREATE DATABASE pgbench' >/dev/null
    PGB_URL="${DATABASE_URL%/*}/pgbench"
    "$PGBIN/pgbench" -q -i -s 10 "$PGB_URL" >/dev/null 2>&1
    echo
    echo "== pgbench TPC-B, $CLIENTS clients, 10 s, same cluster =="
    "$PGBIN/pgbench" -c "$CLIENTS" -j 2 -T 10 "$PGB_URL" 2>/dev/null | grep -E '^(tps|latency average)'
    # The floor: a rotation's own SQL (bench/rotation-floor.sql) on the rotations the benchmark
    # left, by Postgres alone.
    BENCH_DB=$(psql -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'rotary_bench_%' LIMIT 1" "$DATABASE_URL")
    BENCH_URL="${DATABASE_URL%/*}/$BENCH_DB"
    psql -q "$BENCH_URL" -c "CREATE TABLE floor_ids AS SELECT row_number() OVER (ORDER BY r.id) AS n, r.id AS rotation_id,
        (SELECT s.id FROM secrets s WHERE s.rotation_id = r.id ORDER BY s.key LIMIT 1) AS secret_a,
        (SELECT s.id FROM secrets s WHERE s.rotation_id = r.id ORDER BY s.key OFFSET 1 LIMIT 1) AS secret_b
      FROM secret_rotations r WHERE r.lifecycle = 'active'" -c 'ALTER TABLE floor_ids ADD PRIMARY KEY (n)' -c 'VACUUM ANALYZE'
    PER_CLIENT=$(( $(psql -tAc 'SELECT count(*) FROM floor_ids' "$BENCH_URL") / CLIENTS ))
    echo
    echo "== a rotation's SQL alone (bench/rotation-floor.sql), $CLIENTS clients, 10 s: rotations/s =="
    "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T 10 -D per_client="$PER_CLIENT" -f bench/rotation-floor.sql "$BENCH_URL" 2>&1 \
      | grep -E '^(tps|latency average|number of failed)|ERROR'
    ;;
  postgres)
    CLIENTS=${CLIENTS:-16}
    bench --postgres 1 --rotations "${ROTATIONS:-1000}" --connections 4 --latency-ms 0 --concurrency "$CLIENTS" --per-connection 4
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    # What the cluster does alone: one ALTER ROLE (a new scram verifier) on a fresh scram login
    # of a CREATEROLE role, per transaction (-C), four users per client (64 for 16 clients).
    {
      echo "CREATE ROLE pgb_conn LOGIN CREATEROLE PASSWORD 'pgb-conn-pw';"
      for i in $(seq 1 $((CLIENTS * 4))); do
        echo "CREATE ROLE pgb_u$i LOGIN PASSWORD 'initial'; GRANT pgb_u$i TO pgb_conn WITH ADMIN OPTION;"
      done
    } | psql -q "$DATABASE_URL" >/dev/null
    HOSTPORT=${DATABASE_URL#*@}; HOSTPORT=${HOSTPORT%%/*}
    echo
    echo "== pgbench: ALTER ROLE on a fresh login per transaction, $CLIENTS clients, 10 s, same cluster =="
    PGPASSWORD=pgb-conn-pw "$PGBIN/pgbench" -n -C -c "$CLIENTS" -j 2 -T 10 -f bench/pg-alter-login.sql \
      "postgres://pgb_conn@$HOSTPORT/postgres" 2>&1 | grep -E '^(tps|latency average|number of failed)|ERROR'
    ;;
  mysql)
    CLIENTS=${CLIENTS:-16}
    scripts/with-mariadb.sh cargo bench --locked --quiet --bench rotations -- --mysql 1 \
      --rotations "${ROTATIONS:-1000}" --connections 4 --latency-ms 0 --concurrency "$CLIENTS" --per-connection 4
    ;;
  redis)
    CLIENTS=${CLIENTS:-16}
    DIR=$(mktemp -d -t rotary-bench-redis.XXXXXX)
    RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$DIR" --save '' --appendonly no \
      --logfile "$DIR/redis.log" --daemonize no &
    RPID=$!
    trap 'kill $RPID 2>/dev/null || true; wait $RPID 2>/dev/null || true; rm -rf "$DIR"' EXIT
    until redis-cli -p "$RPORT" PING >/dev/null 2>&1; do sleep 0.05; done
    redis-cli -p "$RPORT" ACL SETUSER bench_manager on '>bench-manager-pw' '+acl|setuser' '+acl|deluser' '+acl|save' '~*' >/dev/null
    bench --redis "$RPORT" --rotations "${ROTATIONS:-2000}" --connections 4 --latency-ms 0 --concurrency "$CLIENTS" --per-connection 4
    ;;
  ldap)
    CLIENTS=${CLIENTS:-16}
    scripts/with-slapd.sh cargo bench --locked --quiet --bench rotations -- --ldap 1 \
      --rotations "${ROTATIONS:-1000}" --connections 4 --latency-ms 0 --concurrency "$CLIENTS" --per-connection 4
    ;;
  okta)
    bench --okta 1 --rotations "${ROTATIONS:-1000}" --connections 10 --latency-ms "${1:-0}"
    ;;
  auth0)
    bench --auth0 1 --rotations "${ROTATIONS:-1000}" --connections 10 --latency-ms "${1:-0}"
    ;;
  mongodb)
    bench --mongodb 1 --rotations "${ROTATIONS:-1000}" --connections 10 --latency-ms "${1:-0}"
    ;;
  mssql)
    bench --mssql 1 --rotations "${ROTATIONS:-1000}" --connections 10 --latency-ms "${1:-0}"
    ;;
  oracle)
    bench --oracle 1 --rotations "${ROTATIONS:-1000}" --connections 10 --latency-ms "${1:-0}"
    ;;
  aws)
    scripts/with-moto.sh cargo bench --locked --quiet --bench rotations -- --aws 1 --rotations "${ROTATIONS:-300}" --connections 10 --latency-ms "${1:-0}"
    ;;
  azure)
    bench --azure 1 --rotations "${ROTATIONS:-1000}" --connections 10 --latency-ms "${1:-0}"
    ;;
  burst)
    bench --rotations "${1:-10000}" --connections "${2:-100}" --latency-ms 50 "${@:3}"
    ;;
  --)
    bench "$@"
    ;;
  *)
    echo "usage: $0 throughput | postgres | mysql | redis | ldap | okta [MS] | auth0 [MS] | azure [MS] | aws [MS] | mongodb [MS] | mssql [MS] | oracle [MS] | burst [ROTATIONS CONNECTIONS [FLAGS]] | -- FLAGS" >&2
    exit 2
    ;;
esac
