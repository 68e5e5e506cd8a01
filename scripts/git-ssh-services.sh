#!/usr/bin/env bash
# Starts (or stops) a real git server over SSH on loopback for `delivery: git` with an SSH
# deploy key: Debian's OpenSSH sshd (apt: openssh-server) on 127.0.0.1:18130 with a config,
# a host key and an authorized_keys of its own (nothing of the machine's sshd is used or
# started), letting one user in, `lolpop-git`, by public key only, whose shell is
# git-shell (git push/fetch and nothing else). One bare repository `dags.git` (branch
# main, a `dags/` folder). A deploy key pair and the host key are generated per start.
# For Airflow 2.10 (no DAG bundles: it reads a folder that git-sync keeps up to date), the
# same repository is also served read-only by Debian's `git daemon` on :18131, and, when
# LOLPOP_GIT_SYNC_LINK names a path inside an Airflow 2.10 DAGs folder, a git-sync-style
# loop (scripts/git-sync-loop.sh) keeps that link on the branch's tip every 2 s.
# `start` prints KEY=value lines (LOLPOP_TEST_GIT_SSH_*, LOLPOP_TEST_GIT_SYNC_*); `env` prints them again.
# Used by .ci/run and by developers: `bash scripts/git-ssh-services.sh start|stop|env`.
set -euo pipefail

STATE="${LOLPOP_GIT_SSH_DIR:-/tmp/lolpop-deploy-git-ssh}"
PORT="${LOLPOP_GIT_SSH_PORT:-18130}"
DAEMON_PORT="${LOLPOP_GIT_DAEMON_PORT:-18131}"
SYNC_LINK="${LOLPOP_GIT_SYNC_LINK:-}"
SYNC_PERIOD=2
USER_NAME="lolpop-git"
REPO="$STATE/repos/dags.git"
HERE="$(cd "$(dirname "$0")" && pwd)"

log() { echo "git-ssh-services: $*" >&2; }
die() { log "$*"; exit 1; }

install() {
  [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null && return 0
  log "installing openssh-server (apt)"
  # The package's init script would start the machine's own sshd on :22: keep it from starting.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  local status=0
  { apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends openssh-server; } >/dev/null 2>&1 || status=$?
  rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || die "apt-get install openssh-server failed"
}

# The one account sshd lets in: git-shell as its shell, so a key holder can fetch and push, not run commands.
ensure_user() {
  local shell; shell="$(command -v git-shell)" || die "no git-shell (Debian's git package has it)"
  if ! id "$USER_NAME" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir "$STATE/home" --shell "$shell" "$USER_NAME"
  else
    usermod --home "$STATE/home" --shell "$shell" "$USER_NAME"
  fi
  # A `!` password (useradd's) is a locked account, which sshd refuses even for a key; `*` is no password.
  usermod -p '*' "$USER_NAME"
}

start() {
  local t0=$SECONDS
  install
  stop
  rm -rf "$STATE" && mkdir -p "$STATE/repos" "$STATE/home"
  ensure_user
  git init --quiet --bare -b main "$REPO"
  local seed; seed="$(mktemp -d)"
  git -C "$seed" init --quiet -b main
  mkdir -p "$seed/dags" && echo "DAGs delivered by lolpop-deploy (delivery: git over SSH)." >"$seed/dags/README.md"
  git -C "$seed" add . && git -C "$seed" -c user.name=ci -c user.email=ci@example.invalid commit --quiet -m "dags/ folder"
  git -C "$seed" push --quiet "$REPO" main
  rm -rf "$seed"
  chown -R "$USER_NAME" "$REPO" "$STATE/home"

  ssh-keygen -q -t ed25519 -N '' -C lolpop-git-ssh-host -f "$STATE/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C lolpop-deploy-key -f "$STATE/deploy_key"
  # restrict: no forwarding, no pty; the login shell (git-shell) limits the commands.
  echo "restrict $(cat "$STATE/deploy_key.pub")" >"$STATE/authorized_keys"
  echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$STATE/ssh_host_ed25519_key.pub")" >"$STATE/known_hosts"
  chmod 644 "$STATE/authorized_keys" "$STATE/known_hosts"
  # sshd's privilege separation directory.
  mkdir -p /run/sshd && chmod 755 /run/sshd
  cat >"$STATE/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $STATE/ssh_host_ed25519_key
PidFile $STATE/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys
AllowUsers $USER_NAME
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
# The state folder lives under /tmp (world-writable), which strict modes would refuse.
StrictModes no
PrintMotd no
LogLevel VERBOSE
EOF
  /usr/sbin/sshd -t -f "$STATE/sshd_config" -p "$PORT" || die "sshd refused its config ($STATE/sshd_config)"
  setsid /usr/sbin/sshd -D -e -f "$STATE/sshd_config" -p "$PORT" </dev/null >"$STATE/sshd.log" 2>&1 &
  echo $! >"$STATE/sshd.pid.own"
  # Read-only (git daemon serves no push unless told to); run as root, so the repository of another user is declared safe.
  setsid git -c safe.directory='*' daemon --reuseaddr --listen=127.0.0.1 --port="$DAEMON_PORT" --base-path="$STATE/repos" --export-all \
    --informative-errors "$STATE/repos" </dev/null >"$STATE/git-daemon.log" 2>&1 &
  echo $! >"$STATE/git-daemon.pid"
  local ssh="ssh -F /dev/null -i $STATE/deploy_key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$STATE/known_hosts"
  for _ in $(seq 1 50); do
    if GIT_SSH_COMMAND="$ssh" git ls-remote "$(url)" main >/dev/null 2>&1 && git ls-remote "$(daemon_url)" main >/dev/null 2>&1; then
      start_sync
      print_env | tee "$STATE/env"
      log "ready in $((SECONDS - t0)) s"
      return 0
    fi
    sleep 0.1
  done
  cat "$STATE/sshd.log" >&2 || true
  cat "$STATE/git-daemon.log" >&2 || true
  die "the git server did not answer on $(url) or $(daemon_url)"
}

# git-sync's part: the branch, checked out behind a symlink inside Airflow 2.10's DAGs folder.
start_sync() {
  [ -n "$SYNC_LINK" ] || return 0
  [ -d "$(dirname "$SYNC_LINK")" ] || die "LOLPOP_GIT_SYNC_LINK: no folder $(dirname "$SYNC_LINK") (the Airflow DAGs folder)"
  rm -rf "$SYNC_LINK"
  setsid bash "$HERE/git-sync-loop.sh" "$(daemon_url)" main "$STATE/sync" "$SYNC_LINK" "$SYNC_PERIOD" </dev/null >"$STATE/sync.out" 2>&1 &
  echo $! >"$STATE/sync.pid"
  for _ in $(seq 1 100); do [ -L "$SYNC_LINK" ] && return 0; sleep 0.1; done
  cat "$STATE/sync/sync.log" >&2 || true
  die "the git-sync loop did not check out $(daemon_url) into $SYNC_LINK"
}

url() { echo "ssh://$USER_NAME@127.0.0.1:$PORT$REPO"; }
daemon_url() { echo "git://127.0.0.1:$DAEMON_PORT/dags.git"; }

print_env() {
  echo "LOLPOP_TEST_GIT_SSH_URL=$(url)"
  echo "LOLPOP_TEST_GIT_SSH_REPO=$REPO"
  echo "LOLPOP_TEST_GIT_SSH_KEY_FILE=$STATE/deploy_key"
  echo "LOLPOP_TEST_GIT_SSH_KNOWN_HOSTS_FILE=$STATE/known_hosts"
  echo "LOLPOP_TEST_GIT_DAEMON_URL=$(daemon_url)"
  if [ -n "$SYNC_LINK" ]; then
    echo "LOLPOP_TEST_GIT_SYNC_LINK=$SYNC_LINK"
    echo "LOLPOP_TEST_GIT_SYNC_PERIOD=$SYNC_PERIOD"
  fi
}

stop() {
  for pidfile in "$STATE/sshd.pid.own" "$STATE/git-daemon.pid" "$STATE/sync.pid"; do
    if [ -f "$pidfile" ]; then
      kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
  # The link in the Airflow DAGs folder goes with the loop: its DAGs are not kept after the tests.
  [ -n "$SYNC_LINK" ] && [ -L "$SYNC_LINK" ] && rm -f "$SYNC_LINK"
  return 0
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) cat "$STATE/env" 2>/dev/null || die "not started (no $STATE/env)" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
