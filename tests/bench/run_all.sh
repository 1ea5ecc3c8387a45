#!/usr/bin/env bash
# `make bench`: runs every tests/bench/*.bench.sh in name order; each prints its own table.
# Usage: tests/bench/run_all.sh BIN_DIR
set -uo pipefail
bin=${1:-build/bin}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*.bench.sh; do
  echo "== $(basename "$script" .bench.sh)"
  "$script" "$bin" || { echo "benchmark $(basename "$script") failed"; status=1; }
  echo
done
exit $status
