#!/usr/bin/env bash
# The whole test suite: unit tests, HTTP integration tests against a throwaway PostgreSQL, a
# throwaway MariaDB, and throwaway Redis and slapd servers (scripts/with-postgres.sh,
# scripts/with-mariadb.sh, scripts/with-redis.sh, scripts/with-slapd.sh, and moto's AWS server by
# scripts/with-moto.sh), and
# (when no arguments are given) API fuzzing against openapi.yaml (scripts/fuzz-api.sh) and the
# web console in headless Chromium (scripts/e2e-console.sh, screenshots in
# target/e2e-screenshots/). Extra arguments go to `cargo test` (e.g. scripts/test.sh secrets)
# and skip the fuzzing and the browser.
set -euo pipefail
cd "$(dirname "$0")/.."
# crash-points lets the tests kill the server right after a chosen rotation step.
scripts/with-postgres.sh scripts/with-mariadb.sh scripts/with-redis.sh scripts/with-slapd.sh scripts/with-moto.sh cargo test --locked --features crash-points "$@"
if [ $# -eq 0 ]; then
  scripts/with-postgres.sh scripts/fuzz-api.sh
  scripts/with-postgres.sh scripts/e2e-console.sh
fi
