#!/usr/bin/env bash
# Starts (or stops) a real Apache Airflow 3 for the AirflowOrchestrator integration tests,
# on loopback: api-server (:18080), scheduler and dag-processor, LocalExecutor with
# SQLite, a fresh AIRFLOW_HOME (a temp dir) per start, one fixed SimpleAuthManager user
# whose password is generated into a file. No triggerer: nothing here defers.
# With LOLPOP_AIRFLOW_MAJOR=2: Apache Airflow 2.10 instead (/api/v1 with basic auth), on
# :18090: webserver and scheduler, SequentialExecutor (2.x runs only that one on SQLite),
# one FAB user; its KEY=value lines are LOLPOP_TEST_AIRFLOW2_*.
# LOLPOP_AIRFLOW_REQUIREMENTS names another frozen set for Airflow 3 (airflow-git-services.sh
# adds the git provider that way, in a venv of its own).
# `start` prints KEY=value lines on stdout (progress goes to stderr); `env` prints them again.
# Used by .ci/run and by developers: `bash scripts/airflow-services.sh start|stop|env|restarts`.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
MAJOR="${LOLPOP_AIRFLOW_MAJOR:-3}"
case "$MAJOR" in
  3) SUFFIX="" REQUIREMENTS="${LOLPOP_AIRFLOW_REQUIREMENTS:-$HERE/airflow-requirements.txt}" DEFAULT_PORT=18080 ;;
  2) SUFFIX="2" REQUIREMENTS="$HERE/airflow2-requirements.txt" DEFAULT_PORT=18090 ;;
  *) echo "LOLPOP_AIRFLOW_MAJOR must be 3 or 2" >&2; exit 2 ;;
esac
# Overrides are per major (LOLPOP_AIRFLOW2_PORT, …), so the two can start side by side.
override() { local name="$1$SUFFIX$2"; echo "${!name:-}"; }
STATE="$(override LOLPOP_AIRFLOW _SERVICES_DIR)"; STATE="${STATE:-/tmp/lolpop-deploy-airflow$SUFFIX}"
# Keyed by the requirements, so checkouts with different sets (e.g. with and without the
# docker provider) each keep their venv instead of reinstalling over each other's.
VENV="$(override AIRFLOW _VENV)"; VENV="${VENV:-$CACHE/airflow-venv-$(sha256sum "$REQUIREMENTS" | cut -c1-12)}"
API_PORT="$(override LOLPOP_AIRFLOW _PORT)"; API_PORT="${API_PORT:-$DEFAULT_PORT}"
WORKER_LOG_PORT=$((API_PORT + 1))
TRIGGER_LOG_PORT=$((API_PORT + 2))
URL="http://127.0.0.1:$API_PORT"
USERNAME="lolpop-ci"
START_TIMEOUT="${LOLPOP_AIRFLOW_START_TIMEOUT:-180}"

log() { echo "airflow-services: $*" >&2; }
die() { log "$*"; exit 1; }

# The venv is reused while its stamp holds the requirements file's hash; the stamp is
# written last, so a run killed half-way through pip is redone rather than trusted.
install_airflow() {
  local want stamp="$VENV/.lolpop-deploy-ci-ok" python
  want="$(sha256sum "$REQUIREMENTS" | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c '' 2>/dev/null; then return 0; fi
  python="$(command -v python3.11 || command -v python3)"
  log "installing $(sed -n 's/^apache-airflow==//p' "$REQUIREMENTS" | head -1) into $VENV with $python"
  rm -rf "$VENV" && "$python" -m venv "$VENV"
  # --no-deps: exactly the frozen set, no resolver run (fast, and the same every time).
  if "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$REQUIREMENTS" >"$STATE/install.log" 2>&1 \
    && "$VENV/bin/pip" check >>"$STATE/install.log" 2>&1 \
    && "$VENV/bin/airflow" version >>"$STATE/install.log" 2>&1; then
    echo "$want" >"$stamp"
  else
    tail -20 "$STATE/install.log" >&2
    rm -rf "$VENV"; return 1
  fi
}

# DockerOperator tasks (task: docker) talk to the engine at DOCKER_HOST, else the socket;
# the components run as this user and inherit DOCKER_HOST. Only a note: bash tasks need no engine.
docker_engine_note() {
  [ "$MAJOR" = 2 ] && return 0   # no docker provider in the 2.x set
  if "$VENV/bin/python" -c 'import docker; docker.from_env(timeout=5).ping()' 2>/dev/null; then
    log "the Docker engine answers the workers (${DOCKER_HOST:-unix:///var/run/docker.sock}): DockerOperator tasks can run"
  else
    log "no Docker engine answers (${DOCKER_HOST:-unix:///var/run/docker.sock}): DockerOperator tasks would fail"
  fi
}

# Ports held by something else would make a component die late and obscurely.
check_ports_free() {
  python3 - "$API_PORT" "$WORKER_LOG_PORT" "$TRIGGER_LOG_PORT" <<'EOF'
import socket, sys
for port in map(int, sys.argv[1:]):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"something already listens on 127.0.0.1:{port}")
EOF
}

# Everything Airflow reads, for one home. See docs/airflow.md for why each is set.
airflow_env() { # home
  local home=$1
  export AIRFLOW_HOME="$home"
  export AIRFLOW__CORE__DAGS_FOLDER="$home/dags"
  export AIRFLOW__CORE__LOAD_EXAMPLES=False
  export PATH="$VENV/bin:$PATH"
  if [ "$MAJOR" = 2 ]; then
    export AIRFLOW__CORE__EXECUTOR=SequentialExecutor
    export AIRFLOW__WEBSERVER__WEB_SERVER_HOST=127.0.0.1 AIRFLOW__WEBSERVER__WEB_SERVER_PORT="$API_PORT" AIRFLOW__WEBSERVER__WORKERS=1
    export AIRFLOW__WEBSERVER__BASE_URL="$URL" AIRFLOW__WEBSERVER__SECRET_KEY="$(cat "$home/jwt-secret")"
    # The webserver's gunicorn monitor shuts the whole webserver down when a worker does not
    # come back within web_server_master_timeout (120 s): on 2 loaded cores that can happen
    # mid-run. A longer bound, and no periodic worker refresh (6000 s) that would need one.
    export AIRFLOW__WEBSERVER__WEB_SERVER_MASTER_TIMEOUT=600 AIRFLOW__WEBSERVER__WEB_SERVER_WORKER_TIMEOUT=600
    export AIRFLOW__WEBSERVER__WORKER_REFRESH_INTERVAL=0
    export AIRFLOW__API__AUTH_BACKENDS=airflow.api.auth.backend.basic_auth   # /api/v1 with basic auth
    export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="$WORKER_LOG_PORT" AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT="$TRIGGER_LOG_PORT"
    export AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL=3        # new-file discovery; the default is 300 s
    export AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL=5
    return 0
  fi
  export AIRFLOW__CORE__EXECUTOR=LocalExecutor
  export AIRFLOW__CORE__PARALLELISM=4                      # 4 pre-forked workers, not 32 (2-core machine)
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="$USERNAME:admin"
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$home/passwords.json"   # rewritten by Airflow: must be writable
  export AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT="$API_PORT" AIRFLOW__API__WORKERS=1
  export AIRFLOW__API__BASE_URL="$URL"                     # tasks reach the execution API here; the default is :8080
  export AIRFLOW__API_AUTH__JWT_SECRET="$(cat "$home/jwt-secret")"
  export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="$WORKER_LOG_PORT" AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT="$TRIGGER_LOG_PORT"
  export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=3         # new-file discovery; the default is 300 s
  export AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH="$home/bundles"
}

# The components each major runs.
components() { if [ "$MAJOR" = 2 ]; then echo "webserver scheduler"; else echo "api-server scheduler dag-processor"; fi; }

# Whether every component's supervising loop still runs (before the server is healthy, a
# loop ends with its component).
all_alive() { # home
  local c
  for c in $(components); do
    [ -f "$1/$c.pid" ] || continue   # not launched yet
    kill -0 "$(cat "$1/$c.pid")" 2>/dev/null || return 1
  done
}

wait_healthy() { # home
  local deadline=$((SECONDS + START_TIMEOUT)) health
  local health_url="$URL/api/v2/monitor/health"
  [ "$MAJOR" = 2 ] && health_url="$URL/api/v1/health"
  while :; do
    health="$(curl -fsS "$health_url" 2>/dev/null || true)"
    if printf '%s' "$health" | python3 -c '
import json, sys
h = json.load(sys.stdin)
processor = (h.get("dag_processor") or {}).get("status")
# 2.x parses inside the scheduler unless a standalone dag-processor runs: its status is null then.
sys.exit(0 if h["scheduler"]["status"] == "healthy" and processor in ("healthy", None if sys.argv[1] == "2" else "healthy") else 1)' "$MAJOR" 2>/dev/null; then
      return 0
    fi
    if ! all_alive "$1"; then
      log "an Airflow component exited; the end of its logs:"
      for f in $(components); do echo "--- $f" >&2; tail -15 "$1/$f.log" >&2; done
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "not healthy after $START_TIMEOUT s ($health_url: ${health:-no answer}); the end of the logs:"
      for f in $(components); do echo "--- $f" >&2; tail -15 "$1/$f.log" >&2; done
      return 1
    fi
    sleep 1
  done
}

start() {
  local t0=$SECONDS home password
  mkdir -p "$STATE"
  stop_airflow
  check_ports_free || die "the Airflow ports $API_PORT-$TRIGGER_LOG_PORT are taken"
  install_airflow || die "installing Airflow failed (see above)"
  log "venv ready ($((SECONDS - t0)) s)"
  docker_engine_note
  home="$(mktemp -d /tmp/lolpop-airflow-home.XXXXXX)"
  echo "$home" >"$STATE/home"
  mkdir -p "$home/dags"
  password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  python3 -c 'import json, sys; print(json.dumps({sys.argv[1]: sys.argv[2]}))' "$USERNAME" "$password" >"$home/passwords.json"
  python3 -c 'import secrets; print(secrets.token_hex(32))' >"$home/jwt-secret"
  chmod 600 "$home/passwords.json" "$home/jwt-secret"
  airflow_env "$home"
  airflow db migrate >"$home/db-migrate.log" 2>&1 || { tail -20 "$home/db-migrate.log" >&2; die "airflow db migrate failed"; }
  if [ "$MAJOR" = 2 ]; then
    # 2.x keeps users in its own tables (FAB): one admin, its password only in this run's env.
    # --password=…: a generated password may start with '-' (1 start in 64), which argparse
    # would take for an option after a separate --password (a CI start failed so).
    airflow users create --role Admin --username "$USERNAME" --password="$password" --email ci@example.invalid \
      --firstname lolpop --lastname ci >"$home/users.log" 2>&1 || { tail -20 "$home/users.log" >&2; die "airflow users create failed"; }
  fi
  log "database ready ($((SECONDS - t0)) s)"
  # One process group for the components, so stop can signal them all at once. Each runs in
  # a loop that, once the server was healthy, starts it again if it exits (a CI run lost
  # Airflow 2.10's webserver mid-run and eight tests with it), at most 5 times: every exit
  # and its last lines stay in $home/restarts.log, which `restarts` prints. Before the
  # server was healthy, an exit ends the start. $c.pid is the loop's pid: alive while the
  # component is or will be again.
  setsid bash -c 'cd "$AIRFLOW_HOME"; for c in '"$(components)"'; do
      ( n=0
        while :; do
          airflow "$c" >>"$c.log" 2>&1; rc=$?
          { echo "$(date -u +%FT%TZ) airflow $c exited with status $rc. Its last lines:"; tail -40 "$c.log"; } >>restarts.log
          [ -f healthy ] || exit "$rc"
          n=$((n + 1))
          if [ "$n" -gt 5 ]; then echo "gave up on airflow $c after 5 restarts" >>restarts.log; exit "$rc"; fi
          echo "started airflow $c again ($n of 5)" >>restarts.log
          sleep 2
        done ) & echo $! >"$c.pid"
    done; wait' </dev/null >/dev/null 2>&1 &
  echo $! >"$STATE/pgid"
  wait_healthy "$home" || { stop_airflow; die "Airflow did not start"; }
  touch "$home/healthy"
  log "Airflow $("$VENV/bin/python" -c 'import airflow; print(airflow.__version__)') healthy at $URL ($((SECONDS - t0)) s in all); AIRFLOW_HOME=$home"
  {
    echo "LOLPOP_TEST_AIRFLOW${SUFFIX}_URL=$URL"
    echo "LOLPOP_TEST_AIRFLOW${SUFFIX}_USERNAME=$USERNAME"
    echo "LOLPOP_TEST_AIRFLOW${SUFFIX}_PASSWORD=$password"
    echo "LOLPOP_TEST_AIRFLOW${SUFFIX}_DAGS_FOLDER=$home/dags"
    echo "LOLPOP_TEST_AIRFLOW${SUFFIX}_HOME=$home"
    echo "LOLPOP_TEST_AIRFLOW${SUFFIX}_PYTHON=$VENV/bin/python"
  } | tee "$STATE/env"
}

# TERM to the whole group, KILL what is left after 20 s (LocalExecutor workers can linger).
stop_airflow() {
  local pgid home
  if [ -f "$STATE/pgid" ]; then
    pgid="$(cat "$STATE/pgid")"
    if kill -TERM -- "-$pgid" 2>/dev/null; then
      for _ in $(seq 1 40); do pgrep -g "$pgid" >/dev/null || break; sleep 0.5; done
      if pgrep -g "$pgid" >/dev/null; then
        log "some Airflow processes ignored TERM; killing them"
        kill -KILL -- "-$pgid" 2>/dev/null || true
      fi
      log "stopped the Airflow processes (group $pgid)"
    fi
    rm -f "$STATE/pgid"
  fi
  if [ -f "$STATE/home" ]; then
    home="$(cat "$STATE/home")"
    case "$home" in /tmp/lolpop-airflow-home.*) [ "${LOLPOP_AIRFLOW_KEEP_HOME:-}" = 1 ] || rm -rf "$home" ;; esac
    rm -f "$STATE/home" "$STATE/env"
  fi
}

# What the supervising loops recorded: every component that exited after the server was
# healthy, when, and its last lines. Nothing printed when none did.
restarts() {
  local home
  [ -f "$STATE/home" ] || return 0
  home="$(cat "$STATE/home")"
  if [ -s "$home/restarts.log" ]; then
    log "Airflow at $URL: components exited during the run (the last 300 lines of what was recorded):"
    tail -n 300 "$home/restarts.log" >&2
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop_airflow ;;
  restarts) restarts ;;
  env) cat "$STATE/env" 2>/dev/null || die "not started (no $STATE/env)" ;;
  *) echo "usage: $0 start|stop|env|restarts" >&2; exit 2 ;;
esac
