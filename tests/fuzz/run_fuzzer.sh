#!/usr/bin/env bash
# Runs one libFuzzer binary for N seconds over its corpus folder (kept in git, grown in a temp copy).
# Usage: run_fuzzer.sh BINARY CORPUS_DIR SECONDS
set -euo pipefail
bin=$(realpath -m "$1") corpus=$(realpath -m "$2") seconds=$3
if [ ! -x "$bin" ]; then echo "fuzzer $bin is not built (make build-fuzz)"; exit 1; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
cd "$work"
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work" 2>&1 | tail -n 25
