#!/usr/bin/env bash
# Kubelet and launcher benchmark (whole-process timings on this machine):
#   1. `ck up --nodes 3` (built binaries, fresh state dir) until it prints the KUBECONFIG line,
#      i.e. every node Ready; three runs, median (target <= 2 s);
#   2. pod create -> Running p50/p99 at 20 pods/s with the process runtime (target p99 <= 300 ms);
#   3. idle CPU (% of one core over 30 s) and RSS of every daemon with 100 pods per node;
#   4. fake runtime: one ck-kubelet simulating 1,000 nodes, 30 Deployments x 1,000 pods: time to
#      all Running, and RSS of apiserver + scheduler + controller-manager (target <= 300 MB).
# Every cluster is stopped with `ck down` (by the PIDs it recorded) and its state dir removed.
# Usage: tests/bench/kubelet.bench.sh [BIN_DIR] [--quick|--no-fake|--fake-only]
#   --quick: one start-up run, 10 pods per node, a fake run of 50 nodes x 300 pods
#   --no-fake: steps 1-3 only (the 1,000-node fake run takes about 10 minutes on 2 cores)
#   --fake-only: step 4 only
set -euo pipefail
bin_dir=$(realpath "${1:-build/bin}")
quick=${2:-}
for b in ck ck-apiserver ck-scheduler ck-controller-manager ck-kubelet ck-shim kubelet_perf; do
  [ -x "$bin_dir/$b" ] || { echo "kubelet.bench.sh: $bin_dir/$b not built (make bench)" >&2; exit 1; }
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/ck-kubelet-bench.XXXXXX)
state=""
cleanup() {
  if [ -n "$state" ] && [ -d "$state" ]; then "$bin_dir/ck" down --state-dir "$state" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

rss_mib() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pid_of() { cat "$state/run/$1.pid" 2>/dev/null || true; }
components() { for f in "$state"/run/*.pid; do basename "$f" .pid; done | grep -v '^ck$' || true; }

if [ "$quick" != "--fake-only" ]; then
# 1. Start-up to 3 Ready nodes.
runs=3; [ "$quick" = "--quick" ] && runs=1
times=()
for i in $(seq 1 "$runs"); do
  state="$work/up-$i"
  t0=$(date +%s%N)
  "$bin_dir/ck" up --nodes 3 --state-dir "$state" --profile teaching --detach >"$work/up-$i.log" 2>&1 ||
    { echo "ck up failed:"; tail -30 "$work/up-$i.log"; exit 1; }
  t1=$(date +%s%N)
  times+=("$(( (t1 - t0) / 1000000 ))")
  "$bin_dir/ck" down --state-dir "$state" >/dev/null 2>&1
  rm -rf "$state"; state=""
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf '%-52s %8s ms   (runs: %s; target <= 2000 ms)\n' "ck up --nodes 3 -> all nodes Ready (median)" "$median" "${times[*]}"

# 2. and 3. on one process-mode cluster.
state="$work/proc"
"$bin_dir/ck" up --nodes 3 --state-dir "$state" --profile teaching --detach >"$work/proc.log" 2>&1 ||
  { echo "ck up failed:"; tail -30 "$work/proc.log"; exit 1; }
kc="$state/admin.kubeconfig"
"$bin_dir/kubelet_perf" --kubeconfig="$kc" --mode=latency --pods=200 --rate=20 --namespace=lat
per_node=100; [ "$quick" = "--quick" ] && per_node=10
"$bin_dir/kubelet_perf" --kubeconfig="$kc" --mode=fill --pods=$((per_node * 3 - 200 > 0 ? per_node * 3 - 200 : 0)) --namespace=fill >/dev/null || true
total_pods=$((per_node * 3 > 200 ? per_node * 3 : 200))
echo "idle, $total_pods pods on 3 nodes (the 200 sleeping pods of the latency run + more), 30 s:"
declare -A before
for c in $(components); do before[$c]=$(cpu_ticks "$(pid_of "$c")"); done
sleep 30
hz=$(getconf CLK_TCK)
printf '  %-28s %10s %10s\n' component "cpu %" "RSS MiB"
for c in $(components); do
  p=$(pid_of "$c"); after=$(cpu_ticks "$p")
  printf '  %-28s %10s %10s\n' "$c" "$(awk -v a="$after" -v b="${before[$c]}" -v hz="$hz" 'BEGIN {printf "%.1f", (a - b) * 100 / hz / 30}')" "$(rss_mib "$p")"
done
"$bin_dir/ck" down --state-dir "$state" >/dev/null 2>&1
rm -rf "$state"; state=""

# 4. Fake runtime at scale.
fi
[ "$quick" = "--no-fake" ] && exit 0
nodes=1000; deps=30; reps=1000
[ "$quick" = "--quick" ] && { nodes=50; deps=3; reps=100; }
state="$work/fake"
t0=$(date +%s%N)
"$bin_dir/ck" up --nodes "$nodes" --runtime fake --state-dir "$state" --detach >"$work/fake.log" 2>&1 ||
  { echo "ck up (fake) failed:"; tail -30 "$work/fake.log"; exit 1; }
t1=$(date +%s%N)
printf '%-52s %8s ms\n' "ck up --nodes $nodes --runtime fake -> all Ready" "$(( (t1 - t0) / 1000000 ))"
"$bin_dir/kubelet_perf" --kubeconfig="$state/admin.kubeconfig" --mode=scale --deployments=$deps --replicas=$reps --namespace=scale
total=0
for c in apiserver scheduler controller-manager; do
  p=$(pid_of "$c"); r=$(rss_mib "$p"); total=$((total + r))
  printf '  RSS %-24s %6s MiB\n' "$c" "$r"
done
printf '  RSS apiserver + scheduler + controller-manager: %s MiB at %s pods (target <= 300 MB)\n' "$total" "$((deps * reps))"
