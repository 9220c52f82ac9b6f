#!/usr/bin/env bash
# Runs a command with Redis available for the tests, then removes what they left.
#   scripts/with-redis.sh cargo test
# The Redis tests start a throwaway redis-server each (own directory under ROTARY_REDIS_DIR,
# own loopback port, killed when the test ends): each test lists every ACL user of its server,
# so none may share one. This script installs Debian's redis-server when it is missing (never
# starting its system service), gives the command REDIS_SERVER and ROTARY_REDIS_DIR, and kills
# any server a killed test process left behind.
set -euo pipefail

REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
if [ ! -x "$REDIS_SERVER" ]; then
  echo "with-redis: installing Redis (apt-get install -y redis-server)..." >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  # A policy-rc.d that answers 101 keeps the package from starting its service.
  POLICY=/usr/sbin/policy-rc.d
  OWN_POLICY=""
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod +x "$POLICY"
    OWN_POLICY=1
  fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
  [ -z "$OWN_POLICY" ] || $SUDO rm -f "$POLICY"
  REDIS_SERVER=$(command -v redis-server || echo /usr/bin/redis-server)
fi

DIR=$(mktemp -d -t rotary-redis.XXXXXX)
stop() {
  pkill -f -- "--dir $DIR/" 2>/dev/null || true
  rm -rf "$DIR"
}
trap stop EXIT

export REDIS_SERVER ROTARY_REDIS_DIR="$DIR"
set +e
"$@"
status=$?
set -e
exit $status
