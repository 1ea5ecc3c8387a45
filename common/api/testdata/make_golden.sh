#!/usr/bin/env bash
# Regenerates the golden files of the JSON codec (common/api/testdata/golden/) with the real
# kubectl. Run by hand when kubectl or the manifests change; the tests only read the committed
# files and never need kubectl, a network or a cluster.
#
#   common/api/testdata/make_golden.sh
#
# What it writes:
#   gen/<name>.cmd, gen/<name>.json       kubectl's generators (`kubectl create deployment ...
#                                         --dry-run=client -o json`): typed objects as Go prints them
#   manifests/<name>.kubectl.json         `kubectl create --dry-run=client -f <name>.yaml -o json`:
#                                         kubectl's YAML-to-JSON conversion of the manifest
#   manifests/<name>.typed.{cmd,json}     the manifest decoded into Go types and printed again, through
#                                         a `kubectl set ... --local` that changes nothing (only kinds
#                                         with such a command)
#   protobuf/<name>.{cmd,pb,json}         one request body, sent by kubectl 1.32 (protobuf, "k8s\0"
#                                         envelope) and by kubectl 1.31 (JSON) for the same command
#
# kubectl needs an API server for discovery (create -f, create role) and to receive request
# bodies: the recording probe apiserver of ../shared/reference runs on a free 127.0.0.1 port for
# the duration of the script and is stopped by its PID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
golden=$here/golden
bin=${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}
K32=$bin/kubectl.1.32
K31=$bin/kubectl.1.31
probe=${PROBE:-$(cd "$here/../../.." && pwd)/../shared/reference/kubectl_probe_server.py}
for f in "$K32" "$K31" "$probe"; do [ -e "$f" ] || { echo "make_golden: missing $f" >&2; exit 1; }; done

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$probe" --setup "$work" --port "$port" >/dev/null
extra=()
for r in batch/v1/jobs/Job batch/v1/cronjobs/CronJob networking.k8s.io/v1/networkpolicies/NetworkPolicy \
         networking.k8s.io/v1/ingresses/Ingress rbac.authorization.k8s.io/v1/roles/Role \
         rbac.authorization.k8s.io/v1/rolebindings/RoleBinding \
         rbac.authorization.k8s.io/v1/clusterroles/ClusterRole/cluster \
         rbac.authorization.k8s.io/v1/clusterrolebindings/ClusterRoleBinding/cluster \
         admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/MutatingWebhookConfiguration/cluster \
         admissionregistration.k8s.io/v1/validatingwebhookconfigurations/ValidatingWebhookConfiguration/cluster \
         policy/v1/poddisruptionbudgets/PodDisruptionBudget scheduling.k8s.io/v1/priorityclasses/PriorityClass/cluster \
         v1/resourcequotas/ResourceQuota; do
  extra+=(--add-resource "${r/#v1\//\/v1/}")
done
python3 "$here/record_bodies.py" "$probe" "${extra[@]}" --dir "$work" --port "$port" 2>"$work/server.log" &
server_pid=$!
export KUBECONFIG=$work/kubeconfig
k() { "$K32" --cache-dir "$work/cache32" "$@"; }
k31() { "$K31" --cache-dir "$work/cache31" "$@"; }
for _ in $(seq 100); do k version >/dev/null 2>&1 && break; sleep 0.1; done
k version >/dev/null

mkdir -p "$golden/gen" "$golden/manifests" "$golden/protobuf"
rm -f "$golden"/gen/* "$golden"/manifests/*.json "$golden"/manifests/*.cmd "$golden"/protobuf/*

# Inputs some generators read.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj /CN=shop.example.com -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
printf 'LOG_LEVEL=debug\nGREETING=hello world\n' > "$work/app.env"

# ---- 1. kubectl's generators -------------------------------------------------------------
gen() {
  local name=$1
  shift
  printf 'kubectl %s\n' "$*" > "$golden/gen/$name.cmd"
  k "$@" > "$golden/gen/$name.json"
}
gen deployment create deployment web --image=nginx:1.27 --replicas=3 --port=80 -n shop --dry-run=client -o json
gen deployment-multi create deployment multi --image=nginx:1.27 --image=redis:7 --dry-run=client -o json
gen service-clusterip create service clusterip web --tcp=80:8080 --tcp=443:8443 --dry-run=client -o json
gen service-nodeport create service nodeport np --tcp=80:8080 --node-port=30080 --dry-run=client -o json
gen service-externalname create service externalname db --external-name=db.example.com --dry-run=client -o json
gen configmap create configmap cfg --from-literal=a=1 "--from-literal=b=two words" --dry-run=client -o json
gen configmap-envfile create configmap env --from-env-file="$work/app.env" --dry-run=client -o json
gen secret-generic create secret generic creds --from-literal=user=admin '--from-literal=password=s3cr3t!&<>' --dry-run=client -o json
gen secret-tls create secret tls shop-tls --cert="$work/tls.crt" --key="$work/tls.key" --dry-run=client -o json
gen secret-docker create secret docker-registry regcred --docker-server=registry.example.com --docker-username=ci --docker-password=pw --docker-email=ci@example.com --dry-run=client -o json
gen job create job hello --image=busybox:1.36 --dry-run=client -o json -- echo hello
gen cronjob create cronjob tick --image=busybox:1.36 '--schedule=*/5 * * * *' --dry-run=client -o json -- date
gen role create role pod-reader --verb=get,list,watch --resource=pods,pods/log --dry-run=client -o json
gen clusterrole create clusterrole node-reader --verb=get,list --resource=nodes --dry-run=client -o json
gen clusterrole-nonresource create clusterrole health --verb=get --non-resource-url=/healthz --non-resource-url=/readyz --dry-run=client -o json
gen rolebinding create rolebinding readers --role=pod-reader --user=alice --group=devs --serviceaccount=ci:deployer --dry-run=client -o json
gen clusterrolebinding create clusterrolebinding ops --clusterrole=node-reader --group=ops --dry-run=client -o json
gen namespace create namespace shop --dry-run=client -o json
gen ingress create ingress shop --class=nginx '--rule=shop.example.com/=web:80' '--rule=shop.example.com/api*=api:8080,tls=shop-tls' --annotation=team=shop --dry-run=client -o json
gen pdb create poddisruptionbudget web --selector=app=web --min-available=50% --dry-run=client -o json
gen priorityclass create priorityclass high --value=1000 '--description=for the shop' --preemption-policy=Never --dry-run=client -o json
gen quota create quota compute --hard=cpu=1,memory=1G,pods=2,requests.storage=10Gi --scopes=NotTerminating --dry-run=client -o json
gen serviceaccount create serviceaccount deployer --dry-run=client -o json
gen pod run web --image=nginx:1.27 --port=80 --labels=app=web,tier=front --env=MODE=prod --restart=Never --dry-run=client -o json

# ---- 2. Manifests ------------------------------------------------------------------------
typed() {
  local name=$1
  shift
  printf 'kubectl %s\n' "$*" > "$golden/manifests/$name.typed.cmd"
  (cd "$golden/manifests" && k "$@" -o json) > "$golden/manifests/$name.typed.json"
}
for m in "$golden"/manifests/*.yaml; do
  name=$(basename "$m" .yaml)
  (cd "$golden/manifests" && k create --dry-run=client --validate=false -f "$name.yaml" -o json) \
    > "$golden/manifests/$name.kubectl.json"
done
typed deployment set serviceaccount --local -f deployment.yaml web
typed statefulset set serviceaccount --local -f statefulset.yaml db
typed cronjob set serviceaccount --local -f cronjob.yaml backup
typed pod-values set serviceaccount --local -f pod-values.yaml default
typed service set selector --local -f service.yaml app.kubernetes.io/name=web

# ---- 3. Request bodies: protobuf from kubectl 1.32, JSON from kubectl 1.31 -----------------
body() {  # name kubectl-args...: runs the command with each kubectl and keeps its one body
  local name=$1
  shift
  printf 'kubectl %s\n' "$*" > "$golden/protobuf/$name.cmd"
  rm -rf "$work/bodies"
  k "$@" >/dev/null 2>&1 || true  # the probe cannot decode every protobuf body; the bytes are what matter
  cp "$work"/bodies/*.pb "$golden/protobuf/$name.pb"
  rm -rf "$work/bodies"
  k31 "$@" >/dev/null 2>&1 || true
  cp "$work"/bodies/*.json "$golden/protobuf/$name.json"
}
body can-i-get-pods auth can-i get pods
body can-i-create-deployments auth can-i create deployments.apps --namespace=shop
body can-i-log auth can-i get pods --subresource=log -n shop
body can-i-nonresource auth can-i get /healthz
body namespace create namespace shop
body configmap create configmap cfg --from-literal=a=1 '--from-literal=b=two words'
body deployment create deployment web --image=nginx:1.27 --replicas=2 --port=80
body secret create secret generic creds --from-literal=user=admin '--from-literal=password=s3cr3t!'

echo "golden files written to $golden"
