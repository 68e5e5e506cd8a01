#!/usr/bin/env bash
# Starts (or stops) a real HTTP forward proxy on loopback for the proxy tests: Debian's
# tinyproxy on 127.0.0.1:18888, with a config of our own and every request it forwards
# logged (one "Request" line each), so a test can count what went through it.
# `start` prints KEY=value lines on stdout (progress goes to stderr); `env` prints them again.
# Used by .ci/run and by developers: `bash scripts/proxy-services.sh start|stop|env`.
set -euo pipefail

STATE="${LOLPOP_PROXY_DIR:-/tmp/lolpop-deploy-proxy}"
PORT="${LOLPOP_PROXY_PORT:-18888}"

log() { echo "proxy-services: $*" >&2; }
die() { log "$*"; exit 1; }

install() {
  command -v tinyproxy >/dev/null && return 0
  log "installing tinyproxy (apt)"
  # The package's init script would start a default instance on :8888: keep it from starting.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  local status=0
  { apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq tinyproxy; } >/dev/null 2>&1 || status=$?
  rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || die "apt-get install tinyproxy failed"
}

print_env() {
  echo "LOLPOP_TEST_PROXY_URL=http://127.0.0.1:$PORT"
  echo "LOLPOP_TEST_PROXY_LOG=$STATE/tinyproxy.log"
}

start() {
  install
  # A default instance the package's init script may have started anyway: not ours, not
  # wanted. Only that one, by its own pid file: `service tinyproxy stop` would also end any
  # other tinyproxy on the machine (another checkout's tests), as it once did.
  local system_pid
  system_pid="$(cat /run/tinyproxy/tinyproxy.pid 2>/dev/null || true)"
  if [ -n "$system_pid" ]; then kill "$system_pid" 2>/dev/null || true; fi
  stop_ours
  mkdir -p "$STATE"
  : >"$STATE/tinyproxy.log"
  chmod 666 "$STATE/tinyproxy.log"
  cat >"$STATE/tinyproxy.conf" <<CONF
Port $PORT
Listen 127.0.0.1
Timeout 600
LogFile "$STATE/tinyproxy.log"
LogLevel Info
PidFile "$STATE/tinyproxy.pid"
MaxClients 100
Allow 127.0.0.1
DisableViaHeader Yes
CONF
  tinyproxy -c "$STATE/tinyproxy.conf" || die "tinyproxy did not start (see $STATE/tinyproxy.log)"
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      log "tinyproxy listening on 127.0.0.1:$PORT"
      print_env
      return 0
    fi
    sleep 0.1
  done
  die "tinyproxy is not listening on 127.0.0.1:$PORT (see $STATE/tinyproxy.log)"
}

stop_ours() {
  local pid
  pid="$(cat "$STATE/tinyproxy.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$STATE/tinyproxy.pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop_ours ;;
  env) print_env ;;
  *) die "usage: $0 start|stop|env" ;;
esac
