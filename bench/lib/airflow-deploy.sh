# shellcheck shell=bash
# Sourced by the Airflow delivery benchmarks: the same tiny workflow and the same timed
# `up --steps deploy` for every delivery, so only the orchestrator config differs.

# tiny_workflow DIR NAME GREETING DELIVERY_BLOCK: writes DIR/r.py and DIR/lolpop.yaml.
# DELIVERY_BLOCK is the delivery part of orchestrator.config, indented by four spaces.
tiny_workflow() {
  mkdir -p "$1"
  printf 'class R:\n    def __init__(self, conf, skip_config_validation=False): pass\n    def build_all(self, **kw): pass\n' >"$1/r.py"
  cat >"$1/lolpop.yaml" <<YAML
config: {greeting: "$3"}
orchestrator:
  config:
$4
    parse_timeout: 300s
    request_timeout: 90s
  deployment:
    name: $2
    type: local
    package: {lolpop_class: R, lolpop_module: r, lolpop_entrypoint: build_all, package_type: none, config_file: lolpop.yaml, copy_files: [r.py]}
YAML
}

# timed_deploy DIR LABEL [VAR=value…]: runs the bundled CLI's deploy in DIR with those
# variables and prints its wall-clock seconds; on failure, the log's tail and exit 1.
timed_deploy() {
  local dir="$1" label="$2" t0 t1
  shift 2
  t0=$(date +%s.%N)
  (cd "$dir" && env "$@" node "$ROOT/dist/cli/index.js" up -c lolpop.yaml --orchestrator AirflowOrchestrator --steps deploy >"$dir/out.log" 2>&1) \
    || { tail -5 "$dir/out.log" >&2; echo "deploy failed ($label)" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}
