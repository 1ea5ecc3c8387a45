#!/usr/bin/env bash
# Kubelet API benchmark (whole-process timings on this machine), on a 1-node `ck up` cluster:
#   1. exec round trip p50/p99: kubelet_api_perf opens a TLS connection to the apiserver per exec,
#      upgrades GET .../exec?command=true to WebSocket v5 as kubectl 1.30+ does, the apiserver
#      relays it to the kubelet, the kubelet runs `true` in the container; done at the Status and
#      close frame (target p99 <= 50 ms);
#   2. the same through the real kubectl (`kubectl exec POD -- true`, p50/p99 of the whole
#      process), beside kubectl's own floor (`kubectl get --raw /version`);
#   3. log streaming throughput: a pod writes 2,000,000 lines (about 200 MB of CRI log); the whole
#      log read through the apiserver's relay (target >= 50 MB/s), and `kubectl logs` of it.
# The cluster is stopped with `ck down` (by the PIDs it recorded) and its state dir removed.
# Usage: tests/bench/kubelet_api.bench.sh [BIN_DIR] [--quick]
set -euo pipefail
bin_dir=$(realpath "${1:-build/bin}")
quick=${2:-}
for b in ck ck-apiserver ck-scheduler ck-controller-manager ck-kubelet ck-shim kubelet_api_perf; do
  [ -x "$bin_dir/$b" ] || { echo "kubelet_api.bench.sh: $bin_dir/$b not built (make bench)" >&2; exit 1; }
done
kubectl=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
[ -x "$kubectl" ] || kubectl=kubectl
work=$(mktemp -d /tmp/ck-kubelet-api-bench.XXXXXX)
state="$work/state"
cleanup() {
  "$bin_dir/ck" down --state-dir "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin_dir/ck" up --nodes 1 --state-dir "$state" --profile teaching --detach --apiserver-port 16543 \
  --controller-manager-port 16557 --scheduler-port 16559 --kubelet-port 16550 >"$work/up.log" 2>&1 ||
  { echo "ck up failed:"; tail -30 "$work/up.log"; exit 1; }
export KUBECONFIG="$state/admin.kubeconfig"
k() { "$kubectl" --cache-dir "$work/cache" "$@"; }
k run sleeper --image=busybox --restart=Never --command -- sleep 100000 >/dev/null
lines=2000000; [ "$quick" = "--quick" ] && lines=200000
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: biglog}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "yes 'the quick brown fox jumps over the lazy dog, a line of log text of about one hundred bytes ....' | head -n $lines; echo done-writing; exec sleep 100000"]
YAML
k wait --for=condition=Ready pod/sleeper --timeout=60s >/dev/null
runs=200; [ "$quick" = "--quick" ] && runs=50
"$bin_dir/kubelet_api_perf" --kubeconfig="$KUBECONFIG" --mode=exec --pod=sleeper --runs=$runs

pctl() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(p*NR+0.999); if (i<1) i=1; print a[i]}'; }
kruns=30; [ "$quick" = "--quick" ] && kruns=10
: >"$work/kexec"; : >"$work/kraw"
for i in $(seq 1 "$kruns"); do
  t0=$(date +%s%N); k exec sleeper -- true; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >>"$work/kexec"
  t0=$(date +%s%N); k get --raw /version >/dev/null; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >>"$work/kraw"
done
printf '%-52s p50 %6s ms  p99 %6s ms  (%d runs)\n' "kubectl exec POD -- true (whole process)" \
  "$(pctl 0.5 <"$work/kexec")" "$(pctl 0.99 <"$work/kexec")" "$kruns"
printf '%-52s p50 %6s ms  p99 %6s ms  (the floor of any kubectl call)\n' "kubectl get --raw /version (whole process)" \
  "$(pctl 0.5 <"$work/kraw")" "$(pctl 0.99 <"$work/kraw")"

deadline=$(( $(date +%s) + 120 ))
until k logs biglog --tail=1 2>/dev/null | grep -q done-writing; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "biglog did not finish writing"; exit 1; }
  sleep 0.5
done
"$bin_dir/kubelet_api_perf" --kubeconfig="$KUBECONFIG" --mode=logs --pod=biglog
t0=$(date +%s%N); bytes=$(k logs biglog | wc -c); t1=$(date +%s%N)
awk -v b="$bytes" -v ns=$((t1 - t0)) 'BEGIN {printf "%-52s %8.1f MB/s  (%.0f MB)\n", "kubectl logs POD (whole process, output counted by wc)", b/1e6/(ns/1e9), b/1e6}'
