#!/usr/bin/env bash
# Deploy start → "parsed", per Airflow delivery, side by side in one run:
#   folder: the shared Airflow 3 (scripts/airflow-services.sh), the DAG written into its DAGs folder;
#   git:    the Airflow 3 of scripts/airflow-git-services.sh, the DAG pushed to its git server
#           and read through a GitDagBundle.
# For each: a new DAG, then a changed redeploy of it, with `node dist/cli/index.js up --steps deploy`
# (deploy returns once Airflow shows this release's fingerprint tag, then unpauses). Prints the
# wall-clock seconds of the step and the refresh interval that gave it.
# Needs both scripts started and `npm run bundle`. Usage: bash bench/airflow-delivery.sh [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
eval "$(bash scripts/airflow-services.sh env)"
eval "$(bash scripts/airflow-git-services.sh env)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The same tiny runner for both; only the orchestrator config differs.
config() { # delivery name greeting
  local delivery_block
  if [ "$1" = folder ]; then
    delivery_block="    dags_folder: $LOLPOP_TEST_AIRFLOW_DAGS_FOLDER"
  else
    delivery_block="    delivery: git
    git:
      url: $LOLPOP_TEST_GIT_URL
      username: $LOLPOP_TEST_GIT_USERNAME
      token: \${GIT_TOKEN}
      bundle_name: $LOLPOP_TEST_AIRFLOW_GIT_BUNDLE"
  fi
  cat <<YAML
config: {greeting: "$3"}
orchestrator:
  config:
$delivery_block
    parse_timeout: 300s
    request_timeout: 90s
  deployment:
    name: $2
    type: local
    package: {lolpop_class: R, lolpop_module: r, lolpop_entrypoint: build_all, package_type: none, config_file: lolpop.yaml, copy_files: [r.py]}
YAML
}

deploy_seconds() { # delivery name greeting → seconds
  local dir="$WORK/$2" url user pass t0 t1
  mkdir -p "$dir"
  printf 'class R:\n    def __init__(self, conf, skip_config_validation=False): pass\n    def build_all(self, **kw): pass\n' >"$dir/r.py"
  config "$1" "$2" "$3" >"$dir/lolpop.yaml"
  if [ "$1" = folder ]; then url=$LOLPOP_TEST_AIRFLOW_URL user=$LOLPOP_TEST_AIRFLOW_USERNAME pass=$LOLPOP_TEST_AIRFLOW_PASSWORD
  else url=$LOLPOP_TEST_AIRFLOW_GIT_URL user=$LOLPOP_TEST_AIRFLOW_GIT_USERNAME pass=$LOLPOP_TEST_AIRFLOW_GIT_PASSWORD; fi
  t0=$(date +%s.%N)
  (cd "$dir" && AIRFLOW_API_URL=$url AIRFLOW_USERNAME=$user AIRFLOW_PASSWORD=$pass GIT_TOKEN=${LOLPOP_TEST_GIT_TOKEN:-} \
    node "$OLDPWD/dist/cli/index.js" up -c lolpop.yaml --orchestrator AirflowOrchestrator --steps deploy >"$dir/out.log" 2>&1) \
    || { tail -5 "$dir/out.log" >&2; echo "deploy failed ($1)" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}

printf '%-8s %-22s %-14s %-14s %s\n' delivery refresh "new DAG (s)" "redeploy (s)" run
for i in $(seq 1 "$RUNS"); do
  id="$(date +%s)-$i"
  f_new=$(deploy_seconds folder "bench-folder-$id" one); f_re=$(deploy_seconds folder "bench-folder-$id" two)
  g_new=$(deploy_seconds git "bench-git-$id" one); g_re=$(deploy_seconds git "bench-git-$id" two)
  printf '%-8s %-22s %-14s %-14s %s\n' folder "refresh_interval 3 s" "$f_new" "$f_re" "$i"
  printf '%-8s %-22s %-14s %-14s %s\n' git "bundle 5 s, check 1 s" "$g_new" "$g_re" "$i"
done
