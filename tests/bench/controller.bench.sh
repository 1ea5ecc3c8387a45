#!/usr/bin/env bash
# Controller benchmark: controller_perf starts a ck-apiserver and a ck-controller-manager (from
# BIN_DIR), plays the kubelet for every pod in its own process, and prints for a Deployment of
# 1,000 replicas the time from create to 1,000 pods, the time of a rolling update to a new image
# (all replicas updated and available), and the controller-manager's CPU seconds and RSS.
# Processes are stopped by PID.
# Usage: tests/bench/controller.bench.sh [BIN_DIR] [--replicas N] [--runs K]
set -euo pipefail
bin_dir=$(realpath "${1:-build/bin}")
[ -x "$bin_dir/controller_perf" ] || { echo "controller.bench.sh: $bin_dir/controller_perf not built (make bench)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
CK_BIN_DIR="$bin_dir" "$bin_dir/controller_perf" "${@:2}"
