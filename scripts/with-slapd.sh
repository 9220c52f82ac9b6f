#!/usr/bin/env bash
# Runs a command with OpenLDAP's slapd available for the tests, then removes what they left.
#   scripts/with-slapd.sh cargo test
# The LDAP tests start a throwaway slapd each (own directory under ROTARY_LDAP_DIR, own
# loopback ports for ldap:// and ldaps://, a certificate from a test CA, killed when the test
# ends). This script installs Debian's slapd when it is missing (unconfigured, never starting
# its system service), gives the command SLAPD and ROTARY_LDAP_DIR, and kills any server a
# killed test process left behind.
set -euo pipefail

SLAPD=${SLAPD:-/usr/sbin/slapd}
if [ ! -x "$SLAPD" ] || [ ! -e /etc/ldap/schema/inetorgperson.schema ]; then
  echo "with-slapd: installing OpenLDAP (apt-get install -y slapd)..." >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  # A policy-rc.d that answers 101 keeps the package from starting its service; debconf's
  # no_configuration keeps it from making a directory of its own.
  POLICY=/usr/sbin/policy-rc.d
  OWN_POLICY=""
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod +x "$POLICY"
    OWN_POLICY=1
  fi
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq slapd >/dev/null
  [ -z "$OWN_POLICY" ] || $SUDO rm -f "$POLICY"
fi

DIR=$(mktemp -d -t rotary-slapd.XXXXXX)
stop() {
  pkill -f -- "-f $DIR/" 2>/dev/null || true
  rm -rf "$DIR"
}
trap stop EXIT

export SLAPD ROTARY_LDAP_DIR="$DIR"
set +e
"$@"
status=$?
set -e
exit $status
