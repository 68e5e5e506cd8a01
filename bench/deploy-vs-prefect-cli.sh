#!/usr/bin/env bash
# Deploy + start a run, two ways, against the same real Prefect server, side by side:
#   A. what users do today on a runner: a venv with prefect, `prefect deploy`, `prefect deployment run`
#   B. lolpop-deploy: `node dist/cli/index.js up --steps deploy,run` (REST, no Python)
# Prints wall-clock seconds for each phase, best of N. Needs `bash scripts/services.sh start`.
# Usage: bash bench/deploy-vs-prefect-cli.sh [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
eval "$(bash scripts/services.sh env)"
API="$LOLPOP_TEST_PREFECT_URL"
REQ=scripts/prefect-requirements.txt
VENV_CACHED="/opt/lolpop-deploy-ci/prefect-$(sha256sum "$REQ" | cut -c1-12)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/flows"
cat >"$WORK/flows/flows.py" <<'PY'
from prefect import flow

@flow
def hello(name: str = "world"):
    print(f"hello, {name}!")
PY
cat >"$WORK/lolpop.yaml" <<YAML
decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  config: {prefect_settings: {PREFECT_API_URL: "$API"}}
  deployment:
    name: bench-lpd
    deploy:
      work_pool: $LOLPOP_TEST_PROCESS_POOL
      flow_entrypoint: flows/flows.py:hello
      pull_steps: [{prefect.deployments.steps.set_working_directory: {directory: "$WORK"}}]
YAML

now() { date +%s.%N; }
best() { sort -n | head -1; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

install_times=() ; prefect_times=() ; lpd_times=()
for i in $(seq "$RUNS"); do
  # A1: installing Prefect on a fresh runner (pip, from this machine's package cache: a lower bound).
  t0=$(now); python3 -m venv "$WORK/venv-$i" && "$WORK/venv-$i/bin/pip" install -q -r "$REQ" >/dev/null; t1=$(now)
  install_times+=("$(secs "$t0" "$t1")")
  rm -rf "$WORK/venv-$i"
  # A2: prefect deploy + prefect deployment run (with an installed Prefect).
  t0=$(now)
  (cd "$WORK" && PREFECT_API_URL="$API" "$VENV_CACHED/bin/prefect" --no-prompt deploy flows/flows.py:hello \
     -n bench-cli -p "$LOLPOP_TEST_PROCESS_POOL" >/dev/null 2>&1 \
   && PREFECT_API_URL="$API" "$VENV_CACHED/bin/prefect" deployment run hello/bench-cli >/dev/null 2>&1)
  t1=$(now)
  prefect_times+=("$(secs "$t0" "$t1")")
  # B: lolpop-deploy, deploy + run over REST.
  t0=$(now); node dist/cli/index.js up -c "$WORK/lolpop.yaml" --steps deploy,run >/dev/null 2>&1; t1=$(now)
  lpd_times+=("$(secs "$t0" "$t1")")
done

printf '%-58s %10s\n' "phase (best of $RUNS, seconds)" "time"
printf '%-58s %10s\n' "A1 pip install prefect into a fresh venv (cached wheels)" "$(printf '%s\n' "${install_times[@]}" | best)"
printf '%-58s %10s\n' "A2 prefect deploy + prefect deployment run" "$(printf '%s\n' "${prefect_times[@]}" | best)"
printf '%-58s %10s\n' "B  lolpop-deploy up --steps deploy,run (no Python)" "$(printf '%s\n' "${lpd_times[@]}" | best)"
echo "A (what a runner pays today) = A1 + A2; B needs only Node, already on every runner."
