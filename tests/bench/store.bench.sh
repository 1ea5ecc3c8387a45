#!/usr/bin/env bash
# Store benchmark: starts Debian's etcd 3.4 (/usr/bin/etcd) on free loopback ports with a
# temporary data dir, runs store_bench against it and against our store (in-process and behind
# the same gRPC API), and prints the table. etcd is killed by PID at the end, also on failure.
# Usage: tests/bench/store.bench.sh [BIN_DIR]   (BIN_DIR defaults to build/bin)
# STORE_BENCH_SECONDS sets the time per workload (default 3), STORE_BENCH_ROUNDS the rounds
# (default 2, best round per figure); data dirs go under $TMPDIR
# (default /var/tmp) so both stores fsync to the same disk.
set -euo pipefail
bin_dir=${1:-build/bin}
seconds=${STORE_BENCH_SECONDS:-3}
rounds=${STORE_BENCH_ROUNDS:-2}
root=${TMPDIR:-/var/tmp}
bench="$bin_dir/store_bench"
[ -x "$bench" ] || { echo "store.bench.sh: $bench not built" >&2; exit 1; }
[ -x /usr/bin/etcd ] || { echo "store.bench.sh: /usr/bin/etcd missing (Debian etcd-server)" >&2; exit 1; }

data=$(mktemp -d "$root/ck-etcd-bench-XXXXXX")
etcd_pid=""
cleanup() {
  if [ -n "$etcd_pid" ]; then
    kill -9 "$etcd_pid" 2>/dev/null || true
    wait "$etcd_pid" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A loopback port nobody listens on (and not the one picked before).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    [ "$p" = "${1:-}" ] && continue
    ss -ltnH "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
}
client_port=$(free_port)
peer_port=$(free_port "$client_port")

/usr/bin/etcd --name bench --data-dir "$data/data" \
  --listen-client-urls "http://127.0.0.1:$client_port" \
  --advertise-client-urls "http://127.0.0.1:$client_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "bench=http://127.0.0.1:$peer_port" \
  --logger zap --log-level error --log-outputs "$data/etcd.log" &
etcd_pid=$!

"$bench" --etcd "127.0.0.1:$client_port" --dir "$root" --seconds "$seconds" --rounds "$rounds"
