#!/usr/bin/env bash
# Runs a command against a throwaway MariaDB server on loopback, then stops and removes it.
#   scripts/with-mariadb.sh cargo test
# The command gets MYSQL_URL (root, with a password, over TCP: every account logs in with its
# password, so the MySQL rotation tests check that old and new passwords really work).
# Installs Debian's mariadb-server first when it is missing; never starts its system service.
set -euo pipefail

MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
if [ ! -x "$MARIADBD" ] || ! command -v mariadb-install-db >/dev/null; then
  echo "with-mariadb: installing MariaDB (apt-get install -y mariadb-server)..." >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mariadb-server >/dev/null
  MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
fi

DIR=$(mktemp -d -t rotary-mariadb.XXXXXX)
USER_ARGS=()
if [ "$(id -u)" = 0 ]; then
  # mariadbd refuses to run as root: it runs as the mysql user the package made.
  chown mysql:mysql "$DIR"
  USER_ARGS=(--user=mysql)
fi
PORT=${ROTARY_MYSQL_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
ROOT_PASSWORD="rotary-test-root-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"

mariadb-install-db --no-defaults "${USER_ARGS[@]}" --datadir="$DIR/data" \
  --auth-root-authentication-method=normal --skip-test-db >"$DIR/install.log" 2>&1 \
  || { cat "$DIR/install.log" >&2; exit 1; }

"$MARIADBD" --no-defaults "${USER_ARGS[@]}" --datadir="$DIR/data" --port="$PORT" \
  --bind-address=127.0.0.1 --socket="$DIR/mysqld.sock" --pid-file="$DIR/mysqld.pid" \
  --skip-name-resolve --skip-log-bin --innodb-flush-log-at-trx-commit=0 --max-connections=400 \
  --log-error="$DIR/server.log" &
SERVER=$!

stop() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$DIR"
}
trap stop EXIT

for _ in $(seq 1 100); do
  mariadb-admin --no-defaults --socket="$DIR/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
  sleep 0.1
done
# Root over TCP from loopback, with a password (install-db made passwordless root accounts).
mariadb --no-defaults --socket="$DIR/mysqld.sock" -uroot <<SQL
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$ROOT_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
SQL

export MYSQL_URL="mysql://root:$ROOT_PASSWORD@127.0.0.1:$PORT/mysql"
set +e
"$@"
status=$?
set -e
exit $status
