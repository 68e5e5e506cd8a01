#!/usr/bin/env bash
# Starts (or stops) the real services the integration tests use, on loopback:
#   a Prefect server on :4200 with a process work pool and worker, and a second
#   Prefect server on :4201 with basic auth and CSRF protection turned on.
# Used by .ci/run and by developers: `bash scripts/services.sh start|stop|env`.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REQUIREMENTS="$HERE/prefect-requirements.txt"
PREFECT_VERSION="$(sed -n 's/^prefect==//p' "$REQUIREMENTS")"
STATE="${LOLPOP_SERVICES_DIR:-/tmp/lolpop-deploy-services}"
# The venv is cached between runs, keyed by the requirements file's content.
VENV="${PREFECT_VENV:-/opt/lolpop-deploy-ci/prefect-$(sha256sum "$REQUIREMENTS" | cut -c1-12)}"
MAIN_PORT="${LOLPOP_PREFECT_PORT:-4200}"
AUTH_PORT="${LOLPOP_PREFECT_AUTH_PORT:-4201}"
AUTH_STRING="ci-admin:ci-password"

quiet_prefect_env() {
  export PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_SERVER_UI_ENABLED=false \
    PREFECT_TELEMETRY_ENABLED=false PREFECT_SERVER_LOGGING_LEVEL=WARNING \
    DO_NOT_TRACK=1 PREFECT_CLI_PROMPT=false
}

install_prefect() {
  if [ ! -x "$VENV/bin/prefect" ]; then
    echo "installing prefect==$PREFECT_VERSION into $VENV"
    rm -rf "$VENV" && python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REQUIREMENTS" || { rm -rf "$VENV"; return 1; }
  fi
}

wait_for() { # url, seconds, [auth]
  local url=$1 deadline=$((SECONDS + $2))
  until curl -fsS ${3:+-u "$3"} "$url" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for $url" >&2; return 1; fi
    sleep 1
  done
}

start_server() { # name port [extra env...]
  local name=$1 port=$2; shift 2
  mkdir -p "$STATE/$name"
  (
    export PREFECT_HOME="$STATE/$name" "$@"
    quiet_prefect_env
    exec "$VENV/bin/prefect" server start --host 127.0.0.1 --port "$port" >"$STATE/$name.log" 2>&1
  ) &
  echo $! >"$STATE/$name.pid"
}

start() {
  install_prefect
  rm -rf "$STATE" && mkdir -p "$STATE"
  start_server main "$MAIN_PORT"
  start_server auth "$AUTH_PORT" PREFECT_SERVER_API_AUTH_STRING="$AUTH_STRING" PREFECT_SERVER_CSRF_PROTECTION_ENABLED=true
  wait_for "http://127.0.0.1:$MAIN_PORT/api/health" 120
  wait_for "http://127.0.0.1:$AUTH_PORT/api/health" 120
  (
    export PREFECT_API_URL="http://127.0.0.1:$MAIN_PORT/api" PREFECT_HOME="$STATE/worker"
    quiet_prefect_env
    "$VENV/bin/prefect" work-pool create ci-process --type process >"$STATE/pool.log" 2>&1 || true
    PREFECT_WORKER_QUERY_SECONDS=1 PREFECT_WORKER_PREFETCH_SECONDS=5 \
      exec "$VENV/bin/prefect" worker start --pool ci-process --name ci-process-worker >"$STATE/worker.log" 2>&1
  ) &
  echo $! >"$STATE/worker.pid"
  # The worker is ready when the pool has been polled.
  local deadline=$((SECONDS + 60))
  until curl -fsS "http://127.0.0.1:$MAIN_PORT/api/work_pools/ci-process" 2>/dev/null | grep -q '"status":"READY"'; do
    if [ $SECONDS -ge $deadline ]; then echo "the process worker did not start; see $STATE/worker.log" >&2; tail -20 "$STATE/worker.log" >&2; return 1; fi
    sleep 1
  done
  env_lines
}

env_lines() {
  echo "LOLPOP_TEST_PREFECT_URL=http://127.0.0.1:$MAIN_PORT/api"
  echo "LOLPOP_TEST_PREFECT_AUTH_URL=http://127.0.0.1:$AUTH_PORT/api"
  echo "LOLPOP_TEST_PREFECT_AUTH_STRING=$AUTH_STRING"
  echo "LOLPOP_TEST_PROCESS_POOL=ci-process"
  echo "LOLPOP_TEST_PREFECT_VERSION=$PREFECT_VERSION"
}

stop() {
  for name in worker main auth; do
    if [ -f "$STATE/$name.pid" ]; then
      pkill -TERM -P "$(cat "$STATE/$name.pid")" 2>/dev/null || true
      kill -TERM "$(cat "$STATE/$name.pid")" 2>/dev/null || true
    fi
  done
  # prefect server spawns uvicorn children; make sure none survive on our ports.
  pkill -f "prefect server start --host 127.0.0.1 --port $MAIN_PORT" 2>/dev/null || true
  pkill -f "prefect server start --host 127.0.0.1 --port $AUTH_PORT" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
