#!/usr/bin/env bash
# Security path benchmark: security_bench starts two ck-apiservers (from BIN_DIR) one after the
# other — AlwaysAllow with no admission, then Node,RBAC with every default admission plugin — and
# prints pod creates/s for each and their ratio. Servers are stopped by PID.
# Usage: tests/bench/security.bench.sh [BIN_DIR] [--pods N] [--rounds N]
set -euo pipefail
bin_dir=$(realpath "${1:-build/bin}")
[ -x "$bin_dir/security_bench" ] || { echo "security.bench.sh: $bin_dir/security_bench not built (make bench)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
CK_BIN_DIR="$bin_dir" "$bin_dir/security_bench" "${@:2}"
