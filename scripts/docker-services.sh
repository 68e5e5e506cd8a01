#!/usr/bin/env bash
# Starts (or stops) what the Docker integration tests use, on loopback:
#   - a Docker engine (Debian's docker.io; started only when none answers),
#   - a registry (Debian's docker-registry, Distribution 2.8) on 127.0.0.1:5000 with
#     htpasswd (bcrypt) auth,
#   - local base images, since nothing can be pulled here: local/busybox:1 (busybox-static)
#     and a Debian bookworm image with Python and the pinned Prefect (cached as a tarball
#     under /opt/lolpop-deploy-ci, keyed by the requirements and this recipe),
#   - a Prefect docker work pool and a prefect-docker worker, against the Prefect server
#     scripts/services.sh started (LOLPOP_TEST_PREFECT_URL, else LOLPOP_PREFECT_PORT).
# `start` prints KEY=value lines on stdout (progress goes to stderr); `env` prints them again.
# Usage: bash scripts/docker-services.sh start|stop|env
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REQUIREMENTS="$HERE/docker-requirements.txt"
CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
STATE="${LOLPOP_DOCKER_DIR:-/tmp/lolpop-deploy-docker}"
REGISTRY="127.0.0.1:${LOLPOP_REGISTRY_PORT:-5000}"
PREFECT_URL="${LOLPOP_TEST_PREFECT_URL:-http://127.0.0.1:${LOLPOP_PREFECT_PORT:-4200}/api}"
POOL="${LOLPOP_DOCKER_POOL:-ci-docker}"
PREFECT_VERSION="$(sed -n 's/^prefect==//p' "$HERE/prefect-requirements.txt")"
# Bump when the base-image recipe below changes, so the cached tarball is rebuilt.
RECIPE=3
KEY="$(cat "$HERE/prefect-requirements.txt" "$REQUIREMENTS" <(echo "recipe $RECIPE") | sha256sum | cut -c1-12)"
BASE_IMAGE="local/prefect:$PREFECT_VERSION-$KEY"
BUSYBOX_IMAGE="local/busybox:1"
VENV="$CACHE/prefect-docker-$KEY"
# The Debian client, when installed: the one on PATH may be a newer client without buildx.
DOCKER="$(command -v /usr/bin/docker || command -v docker || echo docker)"

log() { echo "docker-services: $*" >&2; }
die() { log "$*"; exit 1; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  # Keep the packages' init scripts from starting a default dockerd/registry on :5000.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy && created=1; fi
  local status=0
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") \
    >"$STATE/apt.log" 2>&1 || status=$?
  [ $created = 1 ] && rm -f $policy
  [ $status = 0 ] || { tail -20 "$STATE/apt.log" >&2; die "apt-get install failed"; }
  DOCKER="$(command -v /usr/bin/docker || command -v docker)"
}

# overlay2 where the kernel and /var/lib allow it, else vfs. vfs copies the whole image
# for every build step and container: ~15 s each for the 400 MB Prefect image, which
# would make a 6-step build take 90 s instead of 2.
storage_driver() {
  if [ -n "${LOLPOP_DOCKER_STORAGE_DRIVER:-}" ]; then echo "$LOLPOP_DOCKER_STORAGE_DRIVER"; return; fi
  local probe driver=vfs
  probe="$(mktemp -d /var/lib/lolpop-overlay-probe.XXXXXX)"
  mkdir -p "$probe/l" "$probe/u" "$probe/w" "$probe/m"
  if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null; then
    umount "$probe/m"; driver=overlay2
  fi
  rm -rf "$probe"
  echo $driver
}

start_dockerd() {
  if "$DOCKER" info >/dev/null 2>&1; then log "using the Docker engine that answers"; return; fi
  local driver; driver="$(storage_driver)"
  log "starting dockerd with the $driver storage driver (log: $STATE/dockerd.log)"
  dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver="$driver" \
    --pidfile "$STATE/dockerd.pidfile" >"$STATE/dockerd.log" 2>&1 &
  echo $! >"$STATE/dockerd.pid"
  local deadline=$((SECONDS + 60))
  until "$DOCKER" info >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$STATE/dockerd.log" >&2; die "dockerd did not start"; }
    sleep 1
  done
}

start_registry() {
  local user=ci-pusher password
  password="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
  htpasswd -Bbc "$STATE/htpasswd" "$user" "$password" >/dev/null 2>&1
  mkdir -p "$STATE/registry-data"
  cat >"$STATE/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $STATE/registry-data}, delete: {enabled: true}}
http: {addr: $REGISTRY}
auth: {htpasswd: {realm: lolpop-deploy-ci, path: $STATE/htpasswd}}
EOF
  /usr/bin/docker-registry serve "$STATE/registry.yml" >"$STATE/registry.log" 2>&1 &
  echo $! >"$STATE/registry.pid"
  local deadline=$((SECONDS + 30))
  # 401 means it is up and asks for credentials.
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/")" = 401 ]; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$STATE/registry.log" >&2; die "the registry did not start on $REGISTRY"; }
    sleep 0.5
  done
  printf 'LOLPOP_TEST_REGISTRY_USER=%s\nLOLPOP_TEST_REGISTRY_PASSWORD=%s\n' "$user" "$password" >"$STATE/registry.env"
}

make_busybox_image() {
  "$DOCKER" image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1 && return
  log "making $BUSYBOX_IMAGE from busybox-static"
  local root="$STATE/busybox-rootfs"
  rm -rf "$root" && mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  tar -C "$root" -c . | "$DOCKER" import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >/dev/null
  rm -rf "$root"
}

debian_mirror() {
  local uri
  uri="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)"
  [ -n "$uri" ] || uri="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep debian | grep -v security | head -1 || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}

# Debian bookworm (minbase) + python3 + a venv with the pinned Prefect, as a rootfs tarball.
build_base_tarball() {
  local tarball=$1 root="$STATE/base-rootfs" mirror
  mirror="$(debian_mirror)"
  log "building the Python+Prefect base rootfs (debootstrap bookworm from $mirror; a few minutes, cached as $tarball)"
  rm -rf "$root"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$mirror" \
    >"$STATE/debootstrap.log" 2>&1 || { tail -20 "$STATE/debootstrap.log" >&2; die "debootstrap failed"; }
  # pip inside needs what pip on the host needs: the CA bundle (a TLS-inspecting proxy
  # may sit in front of PyPI) and the host's pip settings. The CA bundle stays in the
  # image so that `RUN pip install` in a generated Dockerfile works here too.
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp "$HERE/prefect-requirements.txt" "$REQUIREMENTS" "$root/tmp/"
  local pip_cache
  pip_cache="$(python3 -m pip cache dir 2>/dev/null || echo /root/.cache/pip)"
  mkdir -p "$pip_cache" "$root/pip-cache"
  mount --bind /proc "$root/proc"
  mount --bind "$pip_cache" "$root/pip-cache"
  local status=0
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    PIP_CACHE_DIR=/pip-cache PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-120}" ${PIP_INDEX_URL:+PIP_INDEX_URL=$PIP_INDEX_URL} \
    /bin/sh -c 'python3 -m venv /opt/venv && /opt/venv/bin/pip install -q -r /tmp/docker-requirements.txt' \
    >"$STATE/base-pip.log" 2>&1 || status=$?
  umount "$root/pip-cache" "$root/proc"
  [ $status = 0 ] || { tail -20 "$STATE/base-pip.log" >&2; die "pip install in the base rootfs failed"; }
  rm -rf "$root/pip-cache" "$root/tmp/"*.txt "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  mkdir -p "$(dirname "$tarball")"
  tar -C "$root" --numeric-owner -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
  rm -rf "$root"
}

make_base_image() {
  "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return
  local tarball="$CACHE/base-image-$KEY.tar"
  [ -s "$tarball" ] || build_base_tarball "$tarball"
  log "importing $BASE_IMAGE from $tarball"
  "$DOCKER" import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'CMD ["python3"]' "$tarball" "$BASE_IMAGE" >/dev/null
}

install_worker_venv() {
  [ -x "$VENV/bin/prefect" ] && return
  log "installing the prefect-docker worker into $VENV"
  rm -rf "$VENV" && python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REQUIREMENTS" || { rm -rf "$VENV"; die "pip install of the worker failed"; }
}

prefect() {
  PREFECT_API_URL="$PREFECT_URL" PREFECT_HOME="$STATE/prefect-home" PREFECT_CLI_PROMPT=false \
    PREFECT_TELEMETRY_ENABLED=false DO_NOT_TRACK=1 "$VENV/bin/prefect" "$@"
}

start_docker_worker() {
  curl -fsS "$PREFECT_URL/health" >/dev/null 2>&1 || die "no Prefect server answers at $PREFECT_URL (start scripts/services.sh first)"
  # The worker pulls with the credentials of its own Docker config, as a real host would.
  export DOCKER_CONFIG="$STATE/worker-docker-config"
  mkdir -p "$DOCKER_CONFIG"
  # shellcheck disable=SC1091
  . "$STATE/registry.env"
  echo "$LOLPOP_TEST_REGISTRY_PASSWORD" | "$DOCKER" login "$REGISTRY" -u "$LOLPOP_TEST_REGISTRY_USER" --password-stdin >/dev/null
  # Containers get host networking (there is no bridge) and pull only what is not local.
  prefect work-pool get-default-base-job-template --type docker --file "$STATE/docker-template.json" >/dev/null
  "$VENV/bin/python" - "$STATE/docker-template.json" <<'EOF'
import json, sys
path = sys.argv[1]
template = json.load(open(path))
props = template["variables"]["properties"]
props["network_mode"]["default"] = "host"
props["image_pull_policy"]["default"] = "IfNotPresent"
json.dump(template, open(path, "w"), indent=1)
EOF
  prefect work-pool create "$POOL" --type docker --base-job-template "$STATE/docker-template.json" --overwrite >"$STATE/pool.log" 2>&1 \
    || { cat "$STATE/pool.log" >&2; die "could not create the docker work pool $POOL"; }
  (
    export PREFECT_WORKER_QUERY_SECONDS=1 PREFECT_WORKER_PREFETCH_SECONDS=5
    exec env PREFECT_API_URL="$PREFECT_URL" PREFECT_HOME="$STATE/prefect-home" PREFECT_TELEMETRY_ENABLED=false DO_NOT_TRACK=1 \
      "$VENV/bin/prefect" worker start --pool "$POOL" --type docker --name "$POOL-worker" >"$STATE/worker.log" 2>&1
  ) &
  echo $! >"$STATE/worker.pid"
  local deadline=$((SECONDS + 90))
  until curl -fsS "$PREFECT_URL/work_pools/$POOL" 2>/dev/null | grep -q '"status":"READY"'; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$STATE/worker.log" >&2; die "the docker worker did not start; see $STATE/worker.log"; }
    sleep 1
  done
}

start() {
  stop 2>/dev/null || true
  rm -rf "$STATE" && mkdir -p "$STATE" "$CACHE"
  local t0=$SECONDS
  install_packages
  start_dockerd
  start_registry
  # The worker's venv (pip) and the base image (debootstrap) are independent: in parallel.
  install_worker_venv &
  local venv_job=$!
  make_busybox_image
  make_base_image
  wait $venv_job || die "the worker venv failed"
  start_docker_worker
  log "ready in $((SECONDS - t0)) s"
  env_lines
}

env_lines() {
  echo "LOLPOP_TEST_REGISTRY=$REGISTRY"
  cat "$STATE/registry.env"
  echo "LOLPOP_TEST_BASE_IMAGE=$BASE_IMAGE"
  echo "LOLPOP_TEST_BUSYBOX_IMAGE=$BUSYBOX_IMAGE"
  echo "LOLPOP_TEST_DOCKER_POOL=$POOL"
  echo "LOLPOP_TEST_DOCKER_PREFECT_URL=$PREFECT_URL"
}

stop_pid() { # name [signal]
  local file="$STATE/$1.pid"
  [ -f "$file" ] || return 0
  local pid; pid="$(cat "$file")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$file"
}

stop() {
  [ -d "$STATE" ] || return 0
  stop_pid worker
  stop_pid registry
  # Only a dockerd this script started; one that was already running is left alone.
  if [ -f "$STATE/dockerd.pid" ]; then
    stop_pid dockerd
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
