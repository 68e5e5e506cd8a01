#!/usr/bin/env bash
# Starts (or stops) the Prefect servers the scale benchmark compares, on loopback, apart
# from the test services (scripts/services.sh) so that nothing else writes to them:
#   - PostgreSQL (Debian's packages, installed with apt when missing), a cluster of its
#     own on :5442 in $STATE/pg,
#   - Prefect (the venv scripts/services.sh builds, same pins) on :4210, on that
#     PostgreSQL,
#   - the same Prefect on :4211 on SQLite, as the test services run it.
# Both servers run as `prefect server start` does by default (one process, with its
# services). No work pool or worker: bench/startup-and-scale.mjs creates a pool of its
# own on each server and removes it; no flow run executes.
# `start` prints KEY=value lines on stdout (progress goes to stderr); `env` prints them
# again. `start` leaves running servers running; `stop` stops only what `start` started.
# Used by developers: `bash scripts/bench-services.sh start|stop|env`.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
STATE="${LOLPOP_BENCH_SERVICES_DIR:-/tmp/lolpop-deploy-bench-services}"
key() { sha256sum "$1" | cut -c1-12; }
REQUIREMENTS="$HERE/prefect-requirements.txt"
PREFECT_VERSION="$(sed -n 's/^prefect==//p' "$REQUIREMENTS")"
# The venv scripts/services.sh builds (the same key), built here the same way if missing.
VENV="${PREFECT_VENV:-$CACHE/prefect-$(key "$REQUIREMENTS")}"
PG_PORT="${LOLPOP_BENCH_PG_PORT:-5442}"
POSTGRES_PORT="${LOLPOP_BENCH_PREFECT_POSTGRES_PORT:-4210}"
SQLITE_PORT="${LOLPOP_BENCH_PREFECT_SQLITE_PORT:-4211}"
PG_DATA="$STATE/pg/data"
PG_SOCKETS="$STATE/pg/sockets"
# Loopback only, trust auth: a throwaway database for a benchmark, holding nothing.
DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$PG_PORT/prefect"

log() { echo "bench-services: $*" >&2; }
die() { log "$*"; exit 1; }

pg_bin() { # the newest installed PostgreSQL's bin directory
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install_postgres() {
  if pg_bin >/dev/null; then return 0; fi
  log "installing PostgreSQL (apt)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
  pg_bin >/dev/null || die "apt installed no /usr/lib/postgresql/*/bin/initdb"
}

install_prefect() {
  if [ ! -x "$VENV/bin/prefect" ]; then
    log "installing prefect==$PREFECT_VERSION into $VENV"
    rm -rf "$VENV" && python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REQUIREMENTS" >&2 || { rm -rf "$VENV"; die "pip failed"; }
  fi
  # Prefect's server reaches PostgreSQL through asyncpg, a dependency of prefect itself.
  "$VENV/bin/python" -c 'import asyncpg' 2>/dev/null || die "$VENV has no asyncpg (prefect depends on it)"
}

# initdb and postgres refuse to run as root: as root, the cluster belongs to the postgres
# user the Debian package creates.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

running() { # name
  [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null
}

port_free() { # port
  python3 - "$1" <<'EOF'
import socket, sys
with socket.socket() as probe:
    sys.exit(probe.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0)
EOF
}

start_postgres() {
  local bin
  bin="$(pg_bin)"
  if running pg; then return 0; fi
  port_free "$PG_PORT" || die "something else listens on 127.0.0.1:$PG_PORT (LOLPOP_BENCH_PG_PORT)"
  rm -rf "$STATE/pg" && mkdir -p "$PG_DATA" "$PG_SOCKETS"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$STATE/pg"; fi
  as_postgres "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >"$STATE/pg-initdb.log" 2>&1 \
    || { tail -20 "$STATE/pg-initdb.log" >&2; die "initdb failed"; }
  # Enough connections for Prefect's pool (5 + 10 overflow) and its services.
  as_postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$STATE/pg/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_SOCKETS -c max_connections=100" start >&2 \
    || { tail -20 "$STATE/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
  head -1 "$PG_DATA/postmaster.pid" >"$STATE/pg.pid"
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c 'CREATE DATABASE prefect' >&2
}

start_server() { # name port [extra env...]
  local name=$1 port=$2; shift 2
  if running "$name"; then return 0; fi
  port_free "$port" || die "something else listens on 127.0.0.1:$port"
  rm -rf "${STATE:?}/$name" && mkdir -p "$STATE/$name"
  (
    export PREFECT_HOME="$STATE/$name" "$@"
    export PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_SERVER_UI_ENABLED=false \
      PREFECT_TELEMETRY_ENABLED=false PREFECT_SERVER_LOGGING_LEVEL=WARNING DO_NOT_TRACK=1 PREFECT_CLI_PROMPT=false
    exec "$VENV/bin/prefect" server start --host 127.0.0.1 --port "$port" >"$STATE/$name.log" 2>&1
  ) &
  echo $! >"$STATE/$name.pid"
}

wait_for_server() { # name port
  local url="http://127.0.0.1:$2/api/health" deadline=$((SECONDS + 180))
  until curl -fsS "$url" >/dev/null 2>&1; do
    running "$1" || { log "the $1 server exited; the end of $STATE/$1.log:"; tail -20 "$STATE/$1.log" >&2; return 1; }
    [ $SECONDS -lt $deadline ] || { log "timed out waiting for $url"; tail -20 "$STATE/$1.log" >&2; return 1; }
    sleep 1
  done
}

start() {
  local t0=$SECONDS
  mkdir -p "$STATE"
  install_postgres
  install_prefect
  start_postgres
  start_server prefect-postgres "$POSTGRES_PORT" PREFECT_SERVER_DATABASE_CONNECTION_URL="$DATABASE_URL"
  start_server prefect-sqlite "$SQLITE_PORT"
  wait_for_server prefect-postgres "$POSTGRES_PORT"
  wait_for_server prefect-sqlite "$SQLITE_PORT"
  # The server really runs on PostgreSQL: its tables are there.
  "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d prefect -tAc "SELECT to_regclass('public.deployment') IS NOT NULL" | grep -qx t \
    || die "the PostgreSQL database has no deployment table: is the server on SQLite?"
  log "ready in $((SECONDS - t0)) s"
  env_lines
}

env_lines() {
  echo "LOLPOP_BENCH_PREFECT_POSTGRES_URL=http://127.0.0.1:$POSTGRES_PORT/api"
  echo "LOLPOP_BENCH_PREFECT_SQLITE_URL=http://127.0.0.1:$SQLITE_PORT/api"
  echo "LOLPOP_BENCH_PREFECT_VERSION=$PREFECT_VERSION"
}

descendants() { # pid
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
    echo "$child"
    descendants "$child"
  done
}

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
  stop_recorded prefect-postgres prefect-sqlite
  if [ -f "$STATE/pg.pid" ]; then
    if [ -f "$PG_DATA/postmaster.pid" ] && pg_bin >/dev/null; then
      as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >&2 || true
    fi
    rm -f "$STATE/pg.pid"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
