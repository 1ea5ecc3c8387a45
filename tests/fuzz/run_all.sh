#!/usr/bin/env bash
# Runs every libFuzzer target in BIN_DIR (files named fuzz_*) for SECONDS each.
set -euo pipefail
bin_dir=$1 seconds=${2:-300}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for f in "$bin_dir"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  echo "== $name for ${seconds}s"
  "$here/run_fuzzer.sh" "$f" "$here/corpus/$name" "$seconds" || status=1
done
exit $status
