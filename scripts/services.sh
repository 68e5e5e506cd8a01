#!/usr/bin/env bash
# Starts (or stops) the real services the integration tests use, on loopback:
#   - a Prefect 3 server on :4200 with a process work pool and worker,
#   - a second Prefect 3 server on :4201 with basic auth and CSRF protection turned on,
#   - a Prefect 2 server on :4202 with a process work pool and worker, run from the
#     "lolpop runtime" venv (lolpop 0.2.0 + Prefect 2.20), so lolpop's own
#     PrefectOrchestrator can be run against a real server as the reference,
# and installs the real lolpop CLI (`lolpop deployment ...`) in a venv of its own.
# `start` prints KEY=value lines on stdout (progress goes to stderr); `env` prints them again.
# Used by .ci/run and by developers: `bash scripts/services.sh start|stop|env`.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
STATE="${LOLPOP_SERVICES_DIR:-/tmp/lolpop-deploy-services}"
# Venvs are cached between runs, keyed by their requirements file's content.
key() { sha256sum "$1" | cut -c1-12; }
REQUIREMENTS="$HERE/prefect-requirements.txt"
PREFECT_VERSION="$(sed -n 's/^prefect==//p' "$REQUIREMENTS")"
VENV="${PREFECT_VENV:-$CACHE/prefect-$(key "$REQUIREMENTS")}"
LOLPOP_REQUIREMENTS="$HERE/lolpop-requirements.txt"
PREFECT2_VERSION="$(sed -n 's/^prefect==//p' "$LOLPOP_REQUIREMENTS")"
LOLPOP_VENV="$CACHE/lolpop-runtime-$(key "$LOLPOP_REQUIREMENTS")"
LOLPOP_CLI_REQUIREMENTS="$HERE/lolpop-cli-requirements.txt"
LOLPOP_CLI_VENV="$CACHE/lolpop-cli-$(key "$LOLPOP_CLI_REQUIREMENTS")"
MAIN_PORT="${LOLPOP_PREFECT_PORT:-4200}"
AUTH_PORT="${LOLPOP_PREFECT_AUTH_PORT:-4201}"
PREFECT2_PORT="${LOLPOP_PREFECT2_PORT:-4202}"
AUTH_STRING="ci-admin:ci-password"
POOL="ci-process"
POOL2="ci-process-2"

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }

# Prefect 3 and Prefect 2 name some settings differently; each ignores the other's.
quiet_prefect_env() {
  export PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_SERVER_UI_ENABLED=false PREFECT_UI_ENABLED=false \
    PREFECT_TELEMETRY_ENABLED=false PREFECT_SERVER_LOGGING_LEVEL=WARNING PREFECT_LOGGING_SERVER_LEVEL=WARNING \
    DO_NOT_TRACK=1 PREFECT_CLI_PROMPT=false
}

install_prefect() {
  if [ ! -x "$VENV/bin/prefect" ]; then
    echo "installing prefect==$PREFECT_VERSION into $VENV"
    rm -rf "$VENV" && python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REQUIREMENTS" || { rm -rf "$VENV"; return 1; }
  fi
}

# lolpop 0.2.0 requires Python < 3.12, and on 3.12 pip would not fail but quietly fall
# back to lolpop 0.1.0a2 (no orchestrator) if the pins were ever loosened: insist on 3.11.
python311() {
  local python
  for python in python3.11 python3; do
    if command -v "$python" >/dev/null && "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      command -v "$python"; return 0
    fi
  done
  echo "lolpop 0.2.0 needs Python 3.11; python3 is $(python3 --version 2>&1)" >&2
  return 1
}

# A lolpop venv is used only once its check passed: the stamp is written last, so a run
# killed half-way through pip is redone rather than trusted.
install_lolpop_venv() { # venv requirements check-function
  local venv=$1 requirements=$2 check=$3 python
  if [ -f "$venv/.lolpop-deploy-ci-ok" ] && "$venv/bin/python" -c '' 2>/dev/null; then return 0; fi
  python="$(python311)"
  echo "installing $(basename "$requirements") into $venv with $python"
  rm -rf "$venv" && "$python" -m venv "$venv"
  if "$venv/bin/pip" install -q -r "$requirements" && "$venv/bin/pip" check && "$check" "$venv"; then
    touch "$venv/.lolpop-deploy-ci-ok"
  else
    rm -rf "$venv"; return 1
  fi
}

# What the tests use the runtime venv for: lolpop's PrefectOrchestrator on Prefect 2.20.
check_lolpop_runtime() { # venv
  PREFECT_HOME="$STATE/check-runtime" "$1/bin/python" -c '
import sys, prefect, lolpop.component.orchestrator.prefect_orchestrator
sys.exit(prefect.__version__ != sys.argv[1] and f"prefect is {prefect.__version__}, not {sys.argv[1]}")
' "$PREFECT2_VERSION"
}

check_lolpop_cli() { # venv
  PREFECT_HOME="$STATE/check-cli" "$1/bin/lolpop" deployment --help >/dev/null
}

# The three venvs are independent and mostly wait on downloads: install them at once,
# and report each as it finishes (`wait -n -p` needs bash 5.1; Debian 12 has 5.2).
install_all() {
  local -A jobs=()
  local t0=$SECONDS pid name status failed=0
  install_prefect >"$STATE/install-prefect.log" 2>&1 &
  jobs[$!]=prefect
  install_lolpop_venv "$LOLPOP_VENV" "$LOLPOP_REQUIREMENTS" check_lolpop_runtime >"$STATE/install-lolpop-runtime.log" 2>&1 &
  jobs[$!]=lolpop-runtime
  install_lolpop_venv "$LOLPOP_CLI_VENV" "$LOLPOP_CLI_REQUIREMENTS" check_lolpop_cli >"$STATE/install-lolpop-cli.log" 2>&1 &
  jobs[$!]=lolpop-cli
  while [ ${#jobs[@]} -gt 0 ]; do
    status=0
    wait -n -p pid "${!jobs[@]}" || status=$?
    name=${jobs[$pid]}
    unset "jobs[$pid]"
    if [ $status = 0 ]; then
      log "the $name venv is ready ($((SECONDS - t0)) s)"
    else
      failed=1
      log "installing the $name venv failed (exit $status); the end of $STATE/install-$name.log:"
      tail -20 "$STATE/install-$name.log" >&2
    fi
  done
  [ $failed = 0 ] || die "a venv could not be installed (see above)"
}

# A server is up when its health endpoint answers; one that exited will never answer,
# so say so at once, with the end of its log, instead of waiting out the deadline.
wait_for_server() { # name port
  local url="http://127.0.0.1:$2/api/health" deadline=$((SECONDS + 180))
  until curl -fsS "$url" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; then
      log "the $1 server exited; the end of $STATE/$1.log:"; tail -20 "$STATE/$1.log" >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "timed out waiting for $url; the end of $STATE/$1.log:"; tail -20 "$STATE/$1.log" >&2; return 1
    fi
    sleep 1
  done
}

# Prefect 2's `server start` refuses a port it cannot bind without SO_REUSEADDR (Prefect 3
# sets it), and that includes a port whose server-side connections from the previous run
# are still in TIME_WAIT, for up to 60 s after `stop`. Wait those out; fail at once if
# something really listens there.
await_port_release() { # port
  python3 - "$1" <<'EOF'
import socket, sys, time
port, deadline, said = int(sys.argv[1]), time.time() + 90, False
while True:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"something else already listens on 127.0.0.1:{port}")
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
        break
    except OSError:
        if time.time() > deadline:
            sys.exit(f"127.0.0.1:{port} is still in use")
        if not said:
            print(f"waiting for the last run's connections on 127.0.0.1:{port} to leave TIME_WAIT", file=sys.stderr)
            said = True
        time.sleep(1)
EOF
}

start_server() { # name venv port [extra env...]
  local name=$1 venv=$2 port=$3; shift 3
  mkdir -p "$STATE/$name"
  (
    export PREFECT_HOME="$STATE/$name" "$@"
    quiet_prefect_env
    if [ "$venv" = "$LOLPOP_VENV" ]; then await_port_release "$port" >"$STATE/$name.log" 2>&1; fi
    exec "$venv/bin/prefect" server start --host 127.0.0.1 --port "$port" >>"$STATE/$name.log" 2>&1
  ) &
  echo $! >"$STATE/$name.pid"
}

start_worker() { # name venv port pool [extra env...]
  local name=$1 venv=$2 port=$3 pool=$4; shift 4
  mkdir -p "$STATE/$name"
  (
    export PREFECT_API_URL="http://127.0.0.1:$port/api" PREFECT_HOME="$STATE/$name" "$@"
    quiet_prefect_env
    "$venv/bin/prefect" work-pool create "$pool" --type process >"$STATE/$name-pool.log" 2>&1 || true
    PREFECT_WORKER_QUERY_SECONDS=1 PREFECT_WORKER_PREFETCH_SECONDS=5 \
      exec "$venv/bin/prefect" worker start --pool "$pool" --name "$pool-worker" >"$STATE/$name.log" 2>&1
  ) &
  echo $! >"$STATE/$name.pid"
}

# A worker is ready when its pool has been polled.
wait_for_pool() { # name port pool
  local deadline=$((SECONDS + 90))
  until curl -fsS "http://127.0.0.1:$2/api/work_pools/$3" 2>/dev/null | grep -q '"status":"READY"'; do
    if [ $SECONDS -ge $deadline ]; then
      log "the process worker for $3 did not start; see $STATE/$1.log and $STATE/$1-pool.log"
      tail -20 "$STATE/$1-pool.log" "$STATE/$1.log" >&2; return 1
    fi
    sleep 1
  done
}

start() {
  # Whatever a previous `start` left running would lose its pid files below.
  stop
  rm -rf "$STATE" && mkdir -p "$STATE"
  local t0=$SECONDS
  install_all
  # Three servers start (and migrate their databases) in parallel.
  start_server main "$VENV" "$MAIN_PORT"
  start_server auth "$VENV" "$AUTH_PORT" PREFECT_SERVER_API_AUTH_STRING="$AUTH_STRING" PREFECT_SERVER_CSRF_PROTECTION_ENABLED=true
  start_server prefect2 "$LOLPOP_VENV" "$PREFECT2_PORT"
  wait_for_server main "$MAIN_PORT"
  wait_for_server auth "$AUTH_PORT"
  wait_for_server prefect2 "$PREFECT2_PORT"
  start_worker worker "$VENV" "$MAIN_PORT" "$POOL"
  # lolpop's PrefectOrchestrator shells out to `prefect profile use`, so the flow runs
  # this worker starts must find the runtime venv's prefect first on PATH.
  start_worker worker2 "$LOLPOP_VENV" "$PREFECT2_PORT" "$POOL2" PATH="$LOLPOP_VENV/bin:$PATH"
  wait_for_pool worker "$MAIN_PORT" "$POOL"
  wait_for_pool worker2 "$PREFECT2_PORT" "$POOL2"
  log "ready in $((SECONDS - t0)) s"
  env_lines
}

env_lines() {
  echo "LOLPOP_TEST_PREFECT_URL=http://127.0.0.1:$MAIN_PORT/api"
  echo "LOLPOP_TEST_PREFECT_AUTH_URL=http://127.0.0.1:$AUTH_PORT/api"
  echo "LOLPOP_TEST_PREFECT_AUTH_STRING=$AUTH_STRING"
  echo "LOLPOP_TEST_PROCESS_POOL=$POOL"
  echo "LOLPOP_TEST_PREFECT_VERSION=$PREFECT_VERSION"
  echo "LOLPOP_TEST_PREFECT2_URL=http://127.0.0.1:$PREFECT2_PORT/api"
  echo "LOLPOP_TEST_PREFECT2_VERSION=$PREFECT2_VERSION"
  echo "LOLPOP_TEST_PROCESS_POOL_2=$POOL2"
  echo "LOLPOP_TEST_LOLPOP_PYTHON=$LOLPOP_VENV/bin/python"
  echo "LOLPOP_TEST_LOLPOP_CLI=$LOLPOP_CLI_VENV/bin/lolpop"
}

descendants() { # pid: its children, their children, ...
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
    echo "$child"
    descendants "$child"
  done
}

# Stops what `start` recorded, and only that: each pid file's process and everything
# under it (a server's uvicorn child, a worker's flow-run subprocesses).
stop_recorded() { # name...
  local name pids=()
  for name in "$@"; do
    [ -f "$STATE/$name.pid" ] || continue
    # shellcheck disable=SC2207
    pids+=($(cat "$STATE/$name.pid") $(descendants "$(cat "$STATE/$name.pid")"))
    rm -f "$STATE/$name.pid"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "${pids[@]}" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

stop() {
  # Workers first: a connection its client closes leaves the client's port in TIME_WAIT,
  # not the server's, so the next `start` waits less often (see await_port_release).
  stop_recorded worker worker2
  stop_recorded main auth prefect2
  # A uvicorn child whose server died first is no longer under a recorded pid: find it
  # by our venvs' interpreters on our ports, never another server's.
  local venv port
  for venv in "$VENV" "$LOLPOP_VENV"; do
    for port in "$MAIN_PORT" "$AUTH_PORT" "$PREFECT2_PORT"; do
      pkill -KILL -f "^$venv/bin/python[0-9.]* .*--port $port( |\$)" 2>/dev/null || true
    done
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
