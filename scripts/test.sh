#!/usr/bin/env bash
# The whole test suite: unit tests and HTTP integration tests against a throwaway PostgreSQL.
# Extra arguments go to `cargo test` (e.g. scripts/test.sh secrets).
set -euo pipefail
cd "$(dirname "$0")/.."
# crash-points lets the tests kill the server right after a chosen rotation step.
exec scripts/with-postgres.sh cargo test --locked --features crash-points "$@"
