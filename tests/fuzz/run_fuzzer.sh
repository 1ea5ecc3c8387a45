#!/usr/bin/env bash
# Runs one libFuzzer binary for N seconds over its corpus folder (kept in git, grown in a temp copy).
# A crashing or slow input is kept in the directory the script was started from (the test's build
# folder under ctest) and printed in hex, so a failure in CI can be reproduced.
# Usage: run_fuzzer.sh BINARY CORPUS_DIR SECONDS
set -euo pipefail
bin=$(realpath -m "$1") corpus=$(realpath -m "$2") seconds=$3
if [ ! -x "$bin" ]; then echo "fuzzer $bin is not built (make build-fuzz)"; exit 1; fi
here=$PWD
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
[ -d "$corpus" ] && cp -r "$corpus"/. "$work/corpus"/ 2>/dev/null || true
cd "$work"
status=0
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1 || status=$?
tail -n 40 "$work/log"
for a in "$work"/crash-* "$work"/timeout-* "$work"/oom-* "$work"/leak-* "$work"/slow-unit-*; do
  [ -e "$a" ] || continue
  cp "$a" "$here/"
  echo "kept $here/$(basename "$a"): $(head -c 512 "$a" | od -An -tx1 | tr -d ' \n')"
done
exit $status
