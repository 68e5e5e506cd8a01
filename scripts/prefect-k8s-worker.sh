#!/usr/bin/env bash
# Starts (or stops) a real Prefect kubernetes worker for the kubernetes work-pool tests, for
# one Prefect major (LOLPOP_PREFECT_K8S_MAJOR: 3, the default, or 2):
#   - Prefect 3: prefect-kubernetes 0.8.0 (Prefect 3 only), prefect-k8s-requirements.txt,
#     against the Prefect 3 server of scripts/services.sh (LOLPOP_TEST_PREFECT_URL, :4200),
#     pool lolpop-k8s in namespace lolpop-pool;
#   - Prefect 2: prefect-kubernetes 0.4.6 (the newest for Prefect 2), prefect2-k8s-requirements.txt,
#     against its Prefect 2 server (LOLPOP_TEST_PREFECT2_URL, :4202), pool lolpop-k8s2 in
#     namespace lolpop-pool2;
#   - each in a venv of its own, cached under /opt/lolpop-deploy-ci (installed with
#     --no-deps), with a state directory of its own, on the cluster of scripts/k8s-services.sh
#     (its kubeconfig); the server and the cluster are started first;
#   - its namespace holds an image pull Secret (lolpop-registry) for the test registry of
#     scripts/docker-services.sh;
#   - the kubernetes work pool's base job template is prefect-kubernetes' default plus: that
#     namespace, that pull Secret, PREFECT_API_URL as pods reach the server (the node's
#     forwarder: the worker would otherwise hand pods its own 127.0.0.1 URL), and the
#     variables deploy.resources needs beyond the default's (gpu_limit, node_selector,
#     tolerations; on Prefect 2 also cpu/memory request/limit, which 0.4.6's default lacks;
#     see docs/prefect.md).
# `start` prints KEY=value lines on stdout (progress goes to stderr); `env` prints them again.
# `install` only builds the venv (.ci/run does it early, beside the other installs).
# Usage: [LOLPOP_PREFECT_K8S_MAJOR=2] bash scripts/prefect-k8s-worker.sh install|start|stop|env
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
MAJOR="${LOLPOP_PREFECT_K8S_MAJOR:-3}"
case "$MAJOR" in
  3)
    STATE="${LOLPOP_PREFECT_K8S_DIR:-/tmp/lolpop-deploy-prefect-k8s}"
    REQUIREMENTS="$HERE/prefect-k8s-requirements.txt"
    VENV="$CACHE/prefect-k8s-$(sha256sum "$REQUIREMENTS" | cut -c1-12)"
    PREFECT_URL="${LOLPOP_TEST_PREFECT_URL:-http://127.0.0.1:${LOLPOP_PREFECT_PORT:-4200}/api}"
    POOL="${LOLPOP_PREFECT_K8S_POOL:-lolpop-k8s}"
    NAMESPACE="${LOLPOP_PREFECT_K8S_NAMESPACE:-lolpop-pool}"
    ENV_PREFIX=LOLPOP_TEST_PREFECT_K8S
    ;;
  2)
    STATE="${LOLPOP_PREFECT_K8S_DIR:-/tmp/lolpop-deploy-prefect-k8s2}"
    REQUIREMENTS="$HERE/prefect2-k8s-requirements.txt"
    VENV="$CACHE/prefect2-k8s-$(sha256sum "$REQUIREMENTS" | cut -c1-12)"
    PREFECT_URL="${LOLPOP_TEST_PREFECT2_URL:-http://127.0.0.1:${LOLPOP_PREFECT2_PORT:-4202}/api}"
    POOL="${LOLPOP_PREFECT_K8S_POOL:-lolpop-k8s2}"
    NAMESPACE="${LOLPOP_PREFECT_K8S_NAMESPACE:-lolpop-pool2}"
    ENV_PREFIX=LOLPOP_TEST_PREFECT2_K8S
    ;;
  *) echo "prefect-k8s-worker: LOLPOP_PREFECT_K8S_MAJOR is 2 or 3, not '$MAJOR'" >&2; exit 2 ;;
esac
PULL_SECRET=lolpop-registry
REGISTRY="${LOLPOP_TEST_REGISTRY:-127.0.0.1:5000}"
K8S_VERSION="$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$HERE/k8s/go.mod")"
KUBECTL="$CACHE/k8s-$K8S_VERSION/bin/kubectl"

log() { echo "prefect-k8s-worker (Prefect $MAJOR): $*" >&2; }
die() { log "$*"; exit 1; }

# The stamp is written last, so a venv whose pip was killed half-way is redone, not trusted.
install_venv() {
  [ -f "$VENV/.lolpop-deploy-ci-ok" ] && "$VENV/bin/python" -c '' 2>/dev/null && return
  local python; python="$(command -v python3.11 || command -v python3)"
  log "installing prefect-kubernetes into $VENV"
  rm -rf "$VENV" && "$python" -m venv "$VENV"
  if nice -n 10 "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$REQUIREMENTS" >"$STATE/pip.log" 2>&1 \
    && "$VENV/bin/pip" check >>"$STATE/pip.log" 2>&1; then
    touch "$VENV/.lolpop-deploy-ci-ok"
  else
    tail -20 "$STATE/pip.log" >&2; rm -rf "$VENV"; die "pip install of the kubernetes worker failed"
  fi
}

# The cluster and registry this worker needs, from the env of .ci/run or their scripts' own env.
read_services() {
  if [ -z "${LOLPOP_TEST_KUBECONFIG:-}" ] || [ -z "${LOLPOP_TEST_K8S_NODE_ADDRESS:-}" ]; then
    eval "$(bash "$HERE/k8s-services.sh" env | grep '^LOLPOP_TEST_K8S\|^LOLPOP_TEST_KUBECONFIG')"
  fi
  [ -s "${LOLPOP_TEST_KUBECONFIG:-}" ] || die "no kubeconfig at ${LOLPOP_TEST_KUBECONFIG:-}: start scripts/k8s-services.sh first"
  if [ -z "${LOLPOP_TEST_REGISTRY_USER:-}" ]; then
    # shellcheck disable=SC1091
    . "${LOLPOP_DOCKER_DIR:-/tmp/lolpop-deploy-docker}/registry.env" 2>/dev/null || die "no registry credentials: start scripts/docker-services.sh first"
  fi
  curl -fsS "$PREFECT_URL/health" >/dev/null 2>&1 || die "no Prefect server answers at $PREFECT_URL (start scripts/services.sh first)"
  [ -x "$KUBECTL" ] || die "no $KUBECTL (scripts/k8s-services.sh builds it)"
}

kubectl() { KUBECACHEDIR="$STATE/kube-cache" "$KUBECTL" --kubeconfig "$LOLPOP_TEST_KUBECONFIG" "$@"; }

# PYTHONWARNINGS: prefect-kubernetes 0.4 on Prefect 2.20 warns of its pydantic v1 models on
# every command; noise on stderr, nothing to act on.
prefect() {
  PYTHONWARNINGS=ignore::UserWarning PREFECT_API_URL="$PREFECT_URL" PREFECT_HOME="$STATE/prefect-home" PREFECT_CLI_PROMPT=false \
    PREFECT_TELEMETRY_ENABLED=false DO_NOT_TRACK=1 "$VENV/bin/prefect" "$@"
}

make_namespace() {
  kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply --server-side -f - >/dev/null
  kubectl -n "$NAMESPACE" create secret docker-registry "$PULL_SECRET" --docker-server="$REGISTRY" \
    --docker-username="$LOLPOP_TEST_REGISTRY_USER" --docker-password="$LOLPOP_TEST_REGISTRY_PASSWORD" \
    --dry-run=client -o yaml | kubectl apply --server-side --force-conflicts -f - >/dev/null
}

# prefect-kubernetes' own default template, with what this cluster needs added.
write_template() {
  prefect work-pool get-default-base-job-template --type kubernetes --file "$STATE/template.json" >/dev/null
  "$VENV/bin/python" - "$STATE/template.json" "$NAMESPACE" "$PULL_SECRET" "http://$LOLPOP_TEST_K8S_NODE_ADDRESS:${PREFECT_URL#http://127.0.0.1:}" <<'EOF'
import json, sys
path, namespace, pull_secret, pod_api_url = sys.argv[1:]
template = json.load(open(path))
props = template["variables"]["properties"]
container = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
# prefect-kubernetes 0.4 (Prefect 2) has no cpu/memory variables nor container resources:
# added as 0.8's default has them (a variable left unset drops its key from the Job).
if "cpu_request" not in props:
    for name in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"):
        props[name] = {"type": "string", "title": name.replace("_", " ").capitalize()}
    container["resources"] = {
        "requests": {"cpu": "{{ cpu_request }}", "memory": "{{ memory_request }}"},
        "limits": {"cpu": "{{ cpu_limit }}", "memory": "{{ memory_limit }}"},
    }
props["namespace"]["default"] = namespace
props["env"]["default"] = {"PREFECT_API_URL": pod_api_url}
props["gpu_limit"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "GPU limit", "description": "nvidia.com/gpu count"}
props["node_selector"] = {"type": "object", "additionalProperties": {"type": "string"}, "title": "Node selector"}
props["tolerations"] = {"type": "array", "items": {"type": "object"}, "title": "Tolerations"}
pod = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
pod["imagePullSecrets"] = [{"name": pull_secret}]
pod["nodeSelector"] = "{{ node_selector }}"
pod["tolerations"] = "{{ tolerations }}"
container["resources"]["limits"]["nvidia.com/gpu"] = "{{ gpu_limit }}"
json.dump(template, open(path, "w"), indent=1)
EOF
}

# A worker is ready when its pool has been polled.
wait_for_pool() {
  local deadline=$((SECONDS + 120))
  until curl -fsS "$PREFECT_URL/work_pools/$POOL" 2>/dev/null | grep -q '"status":"READY"'; do
    kill -0 "$(cat "$STATE/worker.pid")" 2>/dev/null || { tail -20 "$STATE/worker.log" >&2; die "the kubernetes worker exited"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$STATE/worker.log" >&2; die "the kubernetes worker did not poll $POOL within 120 s"; }
    sleep 1
  done
}

start() {
  local t0=$SECONDS
  stop
  mkdir -p "$STATE" "$CACHE"
  read_services
  install_venv
  log "venv ready ($((SECONDS - t0)) s)"
  make_namespace
  write_template
  prefect work-pool create "$POOL" --type kubernetes --base-job-template "$STATE/template.json" --overwrite >"$STATE/pool.log" 2>&1 \
    || { cat "$STATE/pool.log" >&2; die "could not create the kubernetes work pool $POOL"; }
  # setsid: the worker outlives this script; its own process group, stopped as one.
  PREFECT_WORKER_QUERY_SECONDS=1 PREFECT_WORKER_PREFETCH_SECONDS=5 KUBECONFIG="$LOLPOP_TEST_KUBECONFIG" \
    PREFECT_API_URL="$PREFECT_URL" PREFECT_HOME="$STATE/prefect-home" PREFECT_TELEMETRY_ENABLED=false DO_NOT_TRACK=1 \
    setsid "$VENV/bin/prefect" worker start --pool "$POOL" --type kubernetes --name "$POOL-worker" >"$STATE/worker.log" 2>&1 </dev/null &
  echo $! >"$STATE/worker.pid"
  wait_for_pool
  log "worker polling $POOL ($((SECONDS - t0)) s in all)"
  env_lines | tee "$STATE/env"
}

env_lines() {
  echo "${ENV_PREFIX}_POOL=$POOL"
  echo "${ENV_PREFIX}_NAMESPACE=$NAMESPACE"
}

stop() {
  [ -f "$STATE/worker.pid" ] || return 0
  local pid; pid="$(cat "$STATE/worker.pid")"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$STATE/worker.pid" "$STATE/env"
}

case "${1:-}" in
  install) mkdir -p "$STATE" "$CACHE"; install_venv ;;
  start) start ;;
  stop) stop ;;
  env) cat "$STATE/env" 2>/dev/null || die "not started (no $STATE/env)" ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
