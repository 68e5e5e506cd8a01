#!/usr/bin/env bash
# Starts (or stops) the Kubernetes cluster the kubernetes integration tests use: one node,
# all of it inside a private mount + network + PID namespace made here (scripts/k8s/node.sh):
#   - etcd (Debian's etcd-server, unpacked, not installed), kube-apiserver,
#     kube-controller-manager, kube-scheduler, and a kubelet with a containerd of its own
#     (its own socket and state: the host's Docker engine and containerd are not touched),
#     runc and Debian's CNI plugins (a bridge network for pods);
#   - the Kubernetes binaries are built from the Go module proxy at the version pinned in
#     scripts/k8s/go.mod and cached (the binaries only) under /opt/lolpop-deploy-ci/k8s-<version>;
#   - on the host: one forwarder (scripts/k8s/forward.py), 127.0.0.1:16443 → the apiserver,
#     and, inside the node, <node address>:{4200,4201,4202,5000} → the host's Prefect servers
#     and registry, so the node pulls from the authenticated registry with an image pull
#     secret, and pods reach Prefect at http://<node address>:<port>.
# The host's network settings and sysctls are left as they were (see node.sh).
# `start` prints KEY=value lines on stdout (progress goes to stderr); `env` prints them again.
# Usage: bash scripts/k8s-services.sh start|stop|env
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
STATE="${LOLPOP_K8S_DIR:-/tmp/lolpop-deploy-k8s}"
VERSION="$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$HERE/k8s/go.mod")"
BIN="$CACHE/k8s-$VERSION/bin"
DEB_PACKAGES="etcd-server containernetworking-plugins"
DEBS="$CACHE/k8s-debs-$(echo "$DEB_PACKAGES" | sha256sum | cut -c1-12)"
NODE_IP=10.250.0.1
# Ports of the host's loopback that pods and the node reach at $NODE_IP (the test services).
FORWARDED_PORTS="${LOLPOP_K8S_FORWARD_PORTS:-4200 4201 4202 5000}"
APISERVER=127.0.0.1:16443

log() { echo "k8s-services: $*" >&2; }
die() { log "$*"; exit 1; }

install_binaries() {
  [ -x "$BIN/kubelet" ] && return 0
  command -v go >/dev/null || die "go is needed to build Kubernetes $VERSION from the Go module proxy"
  log "building Kubernetes $VERSION (about 15 min on 2 cores; log: $STATE/build.log)"
  bash "$HERE/k8s/build.sh" "$BIN" >"$STATE/build.log" 2>&1 || { tail -20 "$STATE/build.log" >&2; die "building Kubernetes failed"; }
}

install_packages() {
  # containerd and runc run from the system (docker.io needs them too); etcd and the CNI
  # plugins are only unpacked, into the cache.
  if ! command -v containerd >/dev/null || ! command -v runc >/dev/null || ! dpkg -s busybox-static >/dev/null 2>&1; then
    # .ci/run starts this beside docker-services.sh, whose apt-get may hold the lock: wait for it.
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends containerd runc busybox-static >/dev/null \
      || die "apt-get install containerd runc busybox-static failed"
  fi
  [ -x "$DEBS/root/usr/bin/etcd" ] && return 0
  local dl; dl="$(mktemp -d)"; chmod 755 "$dl" # apt-get download runs as _apt
  (cd "$dl" && apt-get download -qq $DEB_PACKAGES >/dev/null) || die "apt-get download $DEB_PACKAGES failed"
  mkdir -p "$DEBS.partial/root"
  for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$DEBS.partial/root"; done
  rm -rf "$dl" "$DEBS" && mv "$DEBS.partial" "$DEBS"
}

make_pki() {
  local p="$STATE/pki"; mkdir -p "$p"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/ca.key" -out "$p/ca.crt" -days 7 -subj /CN=lolpop-deploy-k8s-ca 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/apiserver.key" -out "$p/apiserver.crt" -days 7 -subj /CN=kube-apiserver \
    -CA "$p/ca.crt" -CAkey "$p/ca.key" \
    -addext "subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:10.96.0.1,DNS:localhost,DNS:kubernetes.default.svc" 2>/dev/null
  # The apiserver's client certificate for the kubelet (pod logs).
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/kubelet-client.key" -out "$p/kubelet-client.crt" -days 7 \
    -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" -CA "$p/ca.crt" -CAkey "$p/ca.key" 2>/dev/null
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  TOKEN="$(openssl rand -hex 24)"
  echo "$TOKEN,admin,admin,system:masters" >"$STATE/tokens.csv"
  kubeconfig "https://$APISERVER" >"$STATE/kubeconfig"
  kubeconfig "https://127.0.0.1:16443" >"$STATE/admin.kubeconfig"
}

kubeconfig() {
  cat <<YAML
apiVersion: v1
kind: Config
clusters: [{name: lolpop-ci, cluster: {server: "$1", certificate-authority: "$STATE/pki/ca.crt"}}]
users: [{name: admin, user: {token: "$TOKEN"}}]
contexts: [{name: lolpop-ci, context: {cluster: lolpop-ci, user: admin}}]
current-context: lolpop-ci
YAML
}

write_configs() {
  mkdir -p "$STATE/cni" "$STATE/certs.d/127.0.0.1:5000"
  cat >"$STATE/containerd.toml" <<TOML
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$STATE/containerd/containerd.sock"
[ttrpc]
  address = "$STATE/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "lolpop.local/pause:1"
  # CRI gives sandboxes oom_score_adj -998, which needs CAP_SYS_RESOURCE (not held here).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$DEBS/root/usr/lib/cni"
    conf_dir = "$STATE/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/certs.d"
TOML
  # The test registry speaks plain HTTP (on the node, the forwarder to the host's).
  cat >"$STATE/certs.d/127.0.0.1:5000/hosts.toml" <<TOML
server = "http://127.0.0.1:5000"
[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
TOML
  cat >"$STATE/cni/10-lolpop.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "lolpop", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$STATE/cni-ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
  cat >"$STATE/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This host has cgroup v1, which 1.37 refuses unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$STATE/containerd/containerd.sock
protectKernelDefaults: true
# Its default is under /usr (read-only in the node).
volumePluginDir: $STATE/kubelet-plugins
failSwapOn: false
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}, x509: {clientCAFile: $STATE/pki/ca.crt}}
authorization: {mode: AlwaysAllow}
# A shared CI disk: no evictions for a nearly full one.
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
YAML
  python3 "$HERE/k8s/mkimage.py" "$STATE/pause.tar" lolpop.local/pause:1 /bin/busybox sleep 2147483647
}

wait_ready() {
  local deadline=$((SECONDS + 120)) ca="$STATE/pki/ca.crt" auth="Authorization: Bearer $TOKEN"
  until curl -sf --cacert "$ca" -H "$auth" "https://$APISERVER/api/v1/nodes/lolpop-node" 2>/dev/null \
    | jq -e '.status.conditions[] | select(.type == "Ready" and .status == "True")' >/dev/null; do
    kill -0 "$(cat "$STATE/node.pid")" 2>/dev/null || { tail -5 "$STATE"/*.log >&2; die "the node exited"; }
    [ $SECONDS -lt $deadline ] || { tail -5 "$STATE"/kubelet.log "$STATE"/apiserver.log >&2; die "the node was not Ready within 120 s"; }
    sleep 0.5
  done
}

start() {
  stop 2>/dev/null || true
  mkdir -p "$STATE" && rm -rf "${STATE:?}"/* && mkdir -p "$CACHE"
  local t0=$SECONDS
  install_packages
  install_binaries
  log "binaries ready at $((SECONDS - t0)) s"
  make_pki
  write_configs
  # setsid: the node outlives this script.
  setsid unshare --mount --net --pid --fork --mount-proc --propagation private \
    bash "$HERE/k8s/node.sh" "$STATE" "$BIN" "$DEBS/root" "$NODE_IP" >"$STATE/node.log" 2>&1 </dev/null &
  echo $! >"$STATE/node.pid"
  local node_init=""
  for _ in $(seq 1 50); do
    node_init="$(pgrep -P "$(cat "$STATE/node.pid")" || true)"
    [ -n "$node_init" ] && break; sleep 0.1
  done
  [ -n "$node_init" ] || die "the node namespace did not start"
  local rules=("host:127.0.0.1:16443=node:127.0.0.1:16443")
  for port in $FORWARDED_PORTS; do rules+=("node:$NODE_IP:$port=host:127.0.0.1:$port" "node:127.0.0.1:$port=host:127.0.0.1:$port"); done
  # The node's lo must have its address before the forwarder binds it.
  for _ in $(seq 1 50); do nsenter -t "$node_init" -n ip -o addr show lo | grep -q "$NODE_IP" && break; sleep 0.1; done
  setsid python3 "$HERE/k8s/forward.py" "$node_init" "${rules[@]}" >"$STATE/forward.log" 2>&1 </dev/null &
  echo $! >"$STATE/forward.pid"
  echo "$node_init" >"$STATE/node-init.pid"
  for _ in $(seq 1 100); do grep -q '^forwarding' "$STATE/forward.log" && break; sleep 0.1; done
  grep -q '^forwarding' "$STATE/forward.log" || { cat "$STATE/forward.log" >&2; die "the forwarder did not start"; }
  wait_ready
  log "ready in $((SECONDS - t0)) s (node Ready)"
  env_lines
}

env_lines() {
  echo "LOLPOP_TEST_KUBECONFIG=$STATE/kubeconfig"
  echo "LOLPOP_TEST_K8S_NODE_ADDRESS=$NODE_IP"
  echo "LOLPOP_TEST_K8S_VERSION=$VERSION"
  echo "LOLPOP_TEST_KUBECTL=$BIN/kubectl"
}

stop_pid() { # name
  local file="$STATE/$1.pid"
  [ -f "$file" ] || return 0
  local pid; pid="$(cat "$file")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$file"
}

stop() {
  [ -d "$STATE" ] || return 0
  stop_pid forward
  # The node's init: the kernel then kills everything in its PID namespace (pods, shims,
  # containerd, the control plane). unshare ignores SIGTERM, and --kill-child cannot
  # signal a namespace's init, so it is killed directly.
  if [ -f "$STATE/node-init.pid" ]; then kill -KILL "$(cat "$STATE/node-init.pid")" 2>/dev/null || true; rm -f "$STATE/node-init.pid"; fi
  stop_pid node
  # The (empty) cgroups the kubelet and containerd made for pods.
  for dir in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/k8s.io; do
    [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) TOKEN="" env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
