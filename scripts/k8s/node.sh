#!/usr/bin/env bash
# The test cluster's one node, run by scripts/k8s-services.sh as PID 1 of a private
# mount + network + PID namespace: etcd, the control plane, containerd and the kubelet, and
# so every pod, live in here. Killing this process ends all of them (the kernel kills the
# rest of a PID namespace with its init) and takes its mounts and network with it.
# Usage (inside the namespaces): node.sh STATE BIN DEBS NODE_IP
set -euo pipefail
STATE="$1" BIN="$2" DEBS="$3" NODE_IP="$4"
cd "$STATE"

# --- what would otherwise reach the host -------------------------------------------------
# Host paths the components write (/run, /var/lib/kubelet, /var/log/pods, /var/lib/cni):
# a private /run and a /var whose changes go to a tmpfs.
mount -t tmpfs tmpfs /run
mkdir -p /run/var && mount -t tmpfs tmpfs /run/var && mkdir -p /run/var/upper /run/var/work
mount -t overlay overlay -o lowerdir=/var,upperdir=/run/var/upper,workdir=/run/var/work /var
# Anything else a component would write on the host by a hard-coded path fails loudly here
# instead (the flag directories are set to $STATE in kubelet.yaml and for the controller-manager).
for dir in /usr /etc /opt; do mount --bind "$dir" "$dir" && mount -o remount,bind,ro "$dir"; done
# The kubelet's kernel defaults are global sysctls, not per namespace: it is told to only
# check them (protectKernelDefaults), and reads here files holding what it expects.
mkdir -p "$STATE/sysctl"
for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
  kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  key="${kv%=*}" want="${kv#*=}"
  if [ "$(cat "/proc/sys/$key")" != "$want" ]; then
    f="$STATE/sysctl/${key//\//.}"; echo "$want" >"$f"; mount --bind -o ro "$f" "/proc/sys/$key"
  fi
done
# The node's address: not loopback (the kubelet refuses one), on this namespace's own lo.
ip link set lo up
ip addr add "$NODE_IP/32" dev lo

# --- control plane ------------------------------------------------------------------------
ETCD="$DEBS/usr/bin/etcd"
"$ETCD" --name node --data-dir "$STATE/etcd" --listen-client-urls http://127.0.0.1:12379 \
  --advertise-client-urls http://127.0.0.1:12379 --listen-peer-urls http://127.0.0.1:12380 \
  --initial-advertise-peer-urls http://127.0.0.1:12380 --initial-cluster node=http://127.0.0.1:12380 \
  --logger=zap --log-level=warn >"$STATE/etcd.log" 2>&1 &
P="$STATE/pki"
# --endpoint-reconciler-type=none: the apiserver otherwise refuses a loopback advertise address.
"$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:12379 --bind-address=0.0.0.0 --secure-port=16443 \
  --advertise-address="$NODE_IP" --endpoint-reconciler-type=none \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" \
  --token-auth-file="$STATE/tokens.csv" --authorization-mode=RBAC \
  --kubelet-client-certificate="$P/kubelet-client.crt" --kubelet-client-key="$P/kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$P/sa.key" \
  --service-account-signing-key-file="$P/sa.key" --service-cluster-ip-range=10.96.0.0/16 \
  >"$STATE/apiserver.log" 2>&1 &
for _ in $(seq 1 300); do
  curl -sf --cacert "$P/ca.crt" https://127.0.0.1:16443/readyz >/dev/null 2>&1 && break
  sleep 0.2
done
"$BIN/kube-controller-manager" --kubeconfig="$STATE/admin.kubeconfig" --bind-address=127.0.0.1 \
  --leader-elect=false --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --use-service-account-credentials=false --flex-volume-plugin-dir="$STATE/flex" \
  >"$STATE/controller-manager.log" 2>&1 &
"$BIN/kube-scheduler" --kubeconfig="$STATE/admin.kubeconfig" --bind-address=127.0.0.1 --leader-elect=false \
  >"$STATE/scheduler.log" 2>&1 &

# --- the node: containerd (its own socket and state, not the host's) and the kubelet -----
PATH="$DEBS/usr/bin:$DEBS/usr/sbin:$PATH" containerd --config "$STATE/containerd.toml" >"$STATE/containerd.log" 2>&1 &
for _ in $(seq 1 100); do [ -S "$STATE/containerd/containerd.sock" ] && break; sleep 0.1; done
ctr --address "$STATE/containerd/containerd.sock" -n k8s.io images import "$STATE/pause.tar" >/dev/null
"$BIN/kubelet" --config="$STATE/kubelet.yaml" --kubeconfig="$STATE/admin.kubeconfig" \
  --node-ip="$NODE_IP" --hostname-override=lolpop-node --root-dir="$STATE/kubelet" \
  --cert-dir="$STATE/kubelet-pki" >"$STATE/kubelet.log" 2>&1 &
echo ready >"$STATE/node.started"
wait
