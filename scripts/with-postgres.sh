#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster on loopback, then stops and removes it.
#   scripts/with-postgres.sh cargo test
# The command gets DATABASE_URL (a superuser that may create databases). Installs Debian's
# postgresql package first when it is missing. Keeps the cluster under $ROTARY_PG_DIR when that
# is set (the demo uses this to keep state across restarts); otherwise uses a temporary directory.
set -euo pipefail

find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

PGBIN=$(find_pg_bin)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "with-postgres: installing PostgreSQL (apt-get install -y postgresql)..." >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  PGBIN=$(find_pg_bin)
fi

# initdb refuses to run as root: run the server as the postgres user in that case.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

KEEP=""
if [ -n "${ROTARY_PG_DIR:-}" ]; then
  DIR="$ROTARY_PG_DIR"
  KEEP=1
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d -t rotary-pg.XXXXXX)
fi
[ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR" && chmod 700 "$DIR"

PORT=${ROTARY_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}

if [ ! -f "$DIR/data/PG_VERSION" ]; then
  as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
# The superuser (DATABASE_URL) logs in without a password; every other role needs its own
# (scram-sha-256): the Postgres rotation tests check that old and new passwords really work.
cat > "$DIR/data/pg_hba.conf" <<'HBA'
local all postgres trust
host  all postgres 127.0.0.1/32 trust
host  all postgres ::1/128 trust
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128 scram-sha-256
HBA
[ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR/data/pg_hba.conf"

stop() {
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  [ -n "$KEEP" ] || rm -rf "$DIR"
}
trap stop EXIT

as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 ${ROTARY_PG_OPTIONS:-}" \
  start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }

export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
set +e
"$@"
status=$?
set -e
exit $status
