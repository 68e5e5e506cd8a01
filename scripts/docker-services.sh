#!/usr/bin/env bash
# Starts (or stops) what the Docker integration tests use, on loopback:
#   - a Docker engine (Debian's docker.io; started only when none answers),
#   - a registry (Debian's docker-registry, Distribution 2.8) on 127.0.0.1:5000 with
#     htpasswd (bcrypt) auth,
#   - local base images, since nothing can be pulled here: local/busybox:1 (busybox-static),
#     a Debian bookworm image with Python and the pinned Prefect, and
#     prefecthq/prefect:2-python3.11 (the same Debian with the lolpop 0.2.0 + Prefect 2.20
#     runtime; the name is lolpop-deploy's default base_image) (both cached as tarballs
#     under /opt/lolpop-deploy-ci, keyed by their requirements and this recipe),
#   - a Prefect docker work pool and a prefect-docker worker, against the Prefect server
#     scripts/services.sh started (LOLPOP_TEST_PREFECT_URL, else LOLPOP_PREFECT_PORT),
#   - the same for its Prefect 2 server (pool ci-docker-2; LOLPOP_TEST_PREFECT2_URL, else
#     LOLPOP_PREFECT2_PORT), with a Prefect 2 worker from a venv of its own.
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
# Prefect 2, for lolpop 0.2.0 (which needs Prefect 2): the server on :4202, its docker pool
# and worker, and the image lolpop-deploy's generated Dockerfile starts FROM by default.
PREFECT2_URL="${LOLPOP_TEST_PREFECT2_URL:-http://127.0.0.1:${LOLPOP_PREFECT2_PORT:-4202}/api}"
POOL2="${LOLPOP_DOCKER_POOL_2:-ci-docker-2}"
PREFECT2_REQUIREMENTS="$HERE/prefect2-docker-requirements.txt"
VENV2="$CACHE/prefect2-docker-$(sha256sum "$PREFECT2_REQUIREMENTS" | cut -c1-12)"
LOLPOP_IMAGE_REQUIREMENTS="$HERE/lolpop-image-requirements.txt"
LOLPOP_IMAGE="prefecthq/prefect:2-python3.11"
PREFECT2_VERSION="$(sed -n 's/^prefect==//p' "$HERE/lolpop-requirements.txt")"
# Bump when the lolpop image's own steps below change. RECIPE is in its key too: it starts
# from the same debootstrap rootfs.
LOLPOP_RECIPE=2
LOLPOP_KEY="$(cat "$HERE/lolpop-requirements.txt" "$LOLPOP_IMAGE_REQUIREMENTS" <(echo "recipe $RECIPE lolpop $LOLPOP_RECIPE") | sha256sum | cut -c1-12)"
# The tag is fixed, so which build an image is (and whether it is stale) is kept in a label.
KEY_LABEL=org.lolpop-deploy.ci-key
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

# Debian bookworm (minbase) + python3, the rootfs both Python images start from.
debootstrap_rootfs() { # dir
  local root=$1 mirror
  mirror="$(debian_mirror)"
  log "debootstrap bookworm from $mirror (about a minute; the images made from it are cached)"
  rm -rf "$root"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$mirror" \
    >"$STATE/debootstrap.log" 2>&1 || { tail -20 "$STATE/debootstrap.log" >&2; die "debootstrap failed"; }
  # pip inside needs what pip on the host needs: the CA bundle (a TLS-inspecting proxy
  # may sit in front of PyPI) and the host's pip settings. The CA bundle stays in the
  # image so that `RUN pip install` in a generated Dockerfile works here too.
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
}

# Runs a shell command in the rootfs (chroot) with the host's pip cache and pip settings;
# the requirements files it needs are copied to its /tmp first.
pip_in_rootfs() { # root log-name command file...
  local root=$1 log="$STATE/$2.log" command=$3; shift 3
  cp "$@" "$root/tmp/"
  local pip_cache
  pip_cache="$(python3 -m pip cache dir 2>/dev/null || echo /root/.cache/pip)"
  mkdir -p "$pip_cache" "$root/pip-cache"
  mount --bind /proc "$root/proc"
  mount --bind "$pip_cache" "$root/pip-cache"
  local status=0
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    PIP_CACHE_DIR=/pip-cache PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-120}" ${PIP_INDEX_URL:+PIP_INDEX_URL=$PIP_INDEX_URL} \
    /bin/sh -c "$command" >"$log" 2>&1 || status=$?
  umount "$root/pip-cache" "$root/proc"
  [ $status = 0 ] || { tail -20 "$log" >&2; die "pip install in $root failed (see $log)"; }
  # The pip cache stays on the host: nothing of it goes into the image.
  rm -rf "$root/pip-cache" "$root/tmp/"*.txt "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
}

# Imports a rootfs as an image: from its cached tarball, or, when the rootfs was just
# built, straight from the directory while the tarball is written (one pass over the
# files instead of two; the tarball is kept only once the import succeeded).
import_rootfs() { # image tarball root-or-empty docker-import-option...
  local image=$1 tarball=$2 root=$3; shift 3
  if [ -z "$root" ]; then
    log "importing $image from $tarball"
    "$DOCKER" import "$@" "$tarball" "$image" >/dev/null
    return
  fi
  log "importing $image (and caching it as $tarball)"
  mkdir -p "$(dirname "$tarball")"
  tar -C "$root" --numeric-owner -c . | tee "$tarball.partial" | "$DOCKER" import "$@" - "$image" >/dev/null
  mv "$tarball.partial" "$tarball"
  rm -rf "$root"
}

# The Prefect 3 base image: a venv with the pinned Prefect and prefect-docker.
build_base_rootfs() { # dir
  log "building the Python+Prefect base rootfs"
  rm -rf "$1" && cp -a "$STATE/bookworm-rootfs" "$1"
  pip_in_rootfs "$1" base-pip 'python3 -m venv /opt/venv && /opt/venv/bin/pip install -q -r /tmp/docker-requirements.txt' \
    "$HERE/prefect-requirements.txt" "$REQUIREMENTS"
}

make_base_image() {
  "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return
  local tarball="$CACHE/base-image-$KEY.tar" root=""
  # (not `||`: that would turn set -e off inside the build)
  if [ ! -s "$tarball" ]; then root="$STATE/base-rootfs"; build_base_rootfs "$root"; fi
  import_rootfs "$BASE_IMAGE" "$tarball" "$root" \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'CMD ["python3"]'
}

# prefecthq/prefect:2-python3.11 as lolpop-deploy's generated Dockerfile expects it: `python`
# and `pip` on PATH (a venv, as Debian's own Python refuses pip installs), WORKDIR
# /opt/prefect, git (lolpop imports GitPython, which fails to import without a git
# executable; Prefect's own images have git for the same reason), and the lolpop runtime
# already installed, so the Dockerfile's `pip install 'lolpop[prefect]>=0.2.0'` is
# satisfied without downloading it again. apt (git) and pip (/opt/venv) touch different
# files, so they run at the same time. The import check runs before anything is cached,
# so a set that does not import together is never cached.
build_lolpop_rootfs() { # dir
  log "building the $LOLPOP_IMAGE rootfs (lolpop runtime)"
  rm -rf "$1" && cp -a "$STATE/bookworm-rootfs" "$1"
  pip_in_rootfs "$1" lolpop-pip "set -e
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git && apt-get clean) >/tmp/apt.log 2>&1 &
    apt=\$!
    pip=0
    { python3 -m venv /opt/venv && /opt/venv/bin/pip install -q -r /tmp/lolpop-image-requirements.txt; } || pip=\$?
    wait \$apt || { cat /tmp/apt.log; echo 'apt-get install git failed'; exit 1; }
    [ \$pip = 0 ] || exit \$pip
    rm -f /tmp/apt.log
    /opt/venv/bin/pip check
    PREFECT_HOME=/tmp/prefect-check /opt/venv/bin/python -c 'import sys, lolpop.component.orchestrator.prefect_orchestrator, prefect
sys.exit(prefect.__version__ != \"$PREFECT2_VERSION\" and f\"prefect is {prefect.__version__}\")'
    rm -rf /tmp/prefect-check" \
    "$HERE/lolpop-requirements.txt" "$LOLPOP_IMAGE_REQUIREMENTS"
  # Documentation, manuals and translations nothing in the image reads.
  rm -rf "$1/usr/share/doc/"* "$1/usr/share/man/"* "$1/usr/share/info/"* "$1/usr/share/locale/"*
  mkdir -p "$1/opt/prefect"
}

lolpop_image_current() {
  [ "$("$DOCKER" image inspect -f "{{ index .Config.Labels \"$KEY_LABEL\" }}" "$LOLPOP_IMAGE" 2>/dev/null || true)" = "$LOLPOP_KEY" ]
}

make_lolpop_image() {
  lolpop_image_current && return
  local tarball="$CACHE/lolpop-image-$LOLPOP_KEY.tar" root=""
  if [ ! -s "$tarball" ]; then root="$STATE/lolpop-rootfs"; build_lolpop_rootfs "$root"; fi
  # A stale build under the same name is untagged first (kept if something still uses it).
  "$DOCKER" image rm "$LOLPOP_IMAGE" >/dev/null 2>&1 || true
  import_rootfs "$LOLPOP_IMAGE" "$tarball" "$root" \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'ENV LC_ALL=C.UTF-8' --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'WORKDIR /opt/prefect' --change "LABEL $KEY_LABEL=$LOLPOP_KEY" \
    --change 'CMD ["python"]'
}

# Both Python images start from one debootstrap, run only if a tarball is missing; then
# each installs its venv and is imported, the two in parallel.
make_python_images() {
  local need=0 jobs=() job failed=0
  if ! "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1 && [ ! -s "$CACHE/base-image-$KEY.tar" ]; then need=1; fi
  if ! lolpop_image_current && [ ! -s "$CACHE/lolpop-image-$LOLPOP_KEY.tar" ]; then need=1; fi
  if [ $need = 1 ]; then debootstrap_rootfs "$STATE/bookworm-rootfs"; fi
  make_base_image & jobs+=($!)
  make_lolpop_image & jobs+=($!)
  for job in "${jobs[@]}"; do wait "$job" || failed=1; done
  rm -rf "$STATE/bookworm-rootfs"
  [ $failed = 0 ] || die "a base image could not be made (see above)"
}

install_worker_venv() {
  [ -x "$VENV/bin/prefect" ] && return
  log "installing the prefect-docker worker into $VENV"
  rm -rf "$VENV" && python3 -m venv "$VENV"
  nice -n 10 "$VENV/bin/pip" install -q -r "$REQUIREMENTS" || { rm -rf "$VENV"; die "pip install of the worker failed"; }
}

# Prefect 2.20 pins pendulum 2.1.2, which has no wheels for Python 3.12: insist on 3.11.
python311() {
  local python
  for python in python3.11 python3; do
    if command -v "$python" >/dev/null && "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      command -v "$python"; return 0
    fi
  done
  die "the Prefect 2 worker needs Python 3.11; python3 is $(python3 --version 2>&1)"
}

# The stamp is written last, so a venv whose pip was killed half-way is redone, not trusted.
install_worker2_venv() {
  [ -f "$VENV2/.lolpop-deploy-ci-ok" ] && "$VENV2/bin/python" -c '' 2>/dev/null && return
  local python; python="$(python311)"
  log "installing the Prefect 2 docker worker into $VENV2"
  rm -rf "$VENV2" && "$python" -m venv "$VENV2"
  if nice -n 10 "$VENV2/bin/pip" install -q -r "$PREFECT2_REQUIREMENTS" && "$VENV2/bin/pip" check >/dev/null; then
    touch "$VENV2/.lolpop-deploy-ci-ok"
  else
    rm -rf "$VENV2"; die "pip install of the Prefect 2 worker failed"
  fi
}

prefect() {
  PREFECT_API_URL="$PREFECT_URL" PREFECT_HOME="$STATE/prefect-home" PREFECT_CLI_PROMPT=false \
    PREFECT_TELEMETRY_ENABLED=false DO_NOT_TRACK=1 "$VENV/bin/prefect" "$@"
}

prefect2() {
  PREFECT_API_URL="$PREFECT2_URL" PREFECT_HOME="$STATE/prefect2-home" PREFECT_CLI_PROMPT=false \
    PREFECT_TELEMETRY_ENABLED=false DO_NOT_TRACK=1 "$VENV2/bin/prefect" "$@"
}

# The workers pull with the credentials of their own Docker config, as a real host would.
worker_docker_login() {
  export DOCKER_CONFIG="$STATE/worker-docker-config"
  mkdir -p "$DOCKER_CONFIG"
  # shellcheck disable=SC1091
  . "$STATE/registry.env"
  echo "$LOLPOP_TEST_REGISTRY_PASSWORD" | "$DOCKER" login "$REGISTRY" -u "$LOLPOP_TEST_REGISTRY_USER" --password-stdin >/dev/null
}

# Containers get host networking (there is no bridge; it is also how a flow run reaches a
# server on 127.0.0.1) and pull only what is not local. Prefect 2's and 3's docker base
# job templates both have these two variables.
write_docker_template() { # python template.json
  "$1" - "$2" <<'EOF'
import json, sys
path = sys.argv[1]
template = json.load(open(path))
props = template["variables"]["properties"]
props["network_mode"]["default"] = "host"
props["image_pull_policy"]["default"] = "IfNotPresent"
json.dump(template, open(path, "w"), indent=1)
EOF
}

# A worker is ready when its pool has been polled.
wait_for_pool() { # url pool worker-name
  local deadline=$((SECONDS + 90))
  until curl -fsS "$1/work_pools/$2" 2>/dev/null | grep -q '"status":"READY"'; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$STATE/$3.log" >&2; die "the docker worker for $2 did not start; see $STATE/$3.log"; }
    sleep 1
  done
}

# Checked before anything starts: a missing server would otherwise be found only after
# minutes of image building, which would go on in the background after `start` failed.
require_servers() {
  curl -fsS "$PREFECT_URL/health" >/dev/null 2>&1 || die "no Prefect server answers at $PREFECT_URL (start scripts/services.sh first)"
  curl -fsS "$PREFECT2_URL/health" >/dev/null 2>&1 || die "no Prefect 2 server answers at $PREFECT2_URL (start scripts/services.sh first)"
}

start_docker_worker() {
  prefect work-pool get-default-base-job-template --type docker --file "$STATE/docker-template.json" >/dev/null
  write_docker_template "$VENV/bin/python" "$STATE/docker-template.json"
  prefect work-pool create "$POOL" --type docker --base-job-template "$STATE/docker-template.json" --overwrite >"$STATE/pool.log" 2>&1 \
    || { cat "$STATE/pool.log" >&2; die "could not create the docker work pool $POOL"; }
  (
    export PREFECT_WORKER_QUERY_SECONDS=1 PREFECT_WORKER_PREFETCH_SECONDS=5
    exec env PREFECT_API_URL="$PREFECT_URL" PREFECT_HOME="$STATE/prefect-home" PREFECT_TELEMETRY_ENABLED=false DO_NOT_TRACK=1 \
      "$VENV/bin/prefect" worker start --pool "$POOL" --type docker --name "$POOL-worker" >"$STATE/worker.log" 2>&1
  ) &
  echo $! >"$STATE/worker.pid"
}

# The same for the Prefect 2 server, from the Prefect 2 worker venv: its own CLI writes
# the Prefect 2 docker base job template (prefect-docker 0.5's), with the same defaults.
start_docker_worker2() {
  prefect2 work-pool get-default-base-job-template --type docker --file "$STATE/docker-template-2.json" >/dev/null
  write_docker_template "$VENV2/bin/python" "$STATE/docker-template-2.json"
  prefect2 work-pool create "$POOL2" --type docker --base-job-template "$STATE/docker-template-2.json" --overwrite >"$STATE/pool2.log" 2>&1 \
    || { cat "$STATE/pool2.log" >&2; die "could not create the docker work pool $POOL2"; }
  # No PREFECT_HOME here: the docker worker hands the PREFECT_* settings of its own
  # environment to every flow-run container, where Prefect 2 cannot create a host path
  # (it makes PREFECT_HOME without parents) and warns on every run. A HOME of its own
  # keeps the worker's ~/.prefect under $STATE instead.
  mkdir -p "$STATE/worker2-home"
  HOME="$STATE/worker2-home" PREFECT_WORKER_QUERY_SECONDS=1 PREFECT_WORKER_PREFETCH_SECONDS=5 \
    PREFECT_API_URL="$PREFECT2_URL" PREFECT_TELEMETRY_ENABLED=false DO_NOT_TRACK=1 \
    "$VENV2/bin/prefect" worker start --pool "$POOL2" --type docker --name "$POOL2-worker" >"$STATE/worker2.log" 2>&1 &
  echo $! >"$STATE/worker2.pid"
}

# A chroot build killed half-way leaves the host's /proc and pip cache bound under $STATE:
# unmount them before anything removes $STATE, or rm -rf would reach into them.
release_mounts() {
  awk -v state="$STATE/" 'index($2, state) == 1 {print $2}' /proc/mounts | sort -r | while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done
}

# docker buildx, for the tests of `docker buildx build` (BuildKit in the engine, the
# docker driver). Debian 12 packages no buildx: it is built from the Go module proxy
# once (several minutes on two cores) and cached. Tests put it in a DOCKER_CONFIG of
# their own, so every other build here still meets the classic builder.
BUILDX_VERSION=v0.19.3
BUILDX_PLUGIN="$CACHE/buildx-$BUILDX_VERSION/cli-plugins/docker-buildx"
install_buildx() {
  [ -x "$BUILDX_PLUGIN" ] && return 0
  command -v go >/dev/null || die "go is needed to build docker buildx (Debian 12 has no package for it)"
  log "building docker buildx $BUILDX_VERSION (log: $STATE/buildx.log)"
  local bin="$CACHE/buildx-$BUILDX_VERSION/bin"
  GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/cache" GOBIN="$bin" \
    nice -n 10 go install "github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION" >"$STATE/buildx.log" 2>&1 \
    || { tail -20 "$STATE/buildx.log" >&2; die "building docker buildx failed"; }
  mkdir -p "$(dirname "$BUILDX_PLUGIN")" && mv "$bin/buildx" "$BUILDX_PLUGIN"
}

start() {
  stop 2>/dev/null || true
  release_mounts
  rm -rf "$STATE" && mkdir -p "$STATE" "$CACHE"
  require_servers
  local t0=$SECONDS
  # The workers' venvs need only Python and PyPI: they install while apt, dockerd and the
  # images proceed, niced (see the pip commands), because on a cold start the images are
  # the longer path and debootstrap and the chroot pips need the CPU more.
  install_worker_venv &
  local venv_job=$!
  install_worker2_venv &
  local venv2_job=$!
  install_buildx &
  local buildx_job=$!
  install_packages
  start_dockerd
  start_registry
  make_busybox_image
  # The workers need none of the images to start (only to run flows), so they start,
  # and their pools are polled, while the images are built or imported.
  { make_python_images; log "images ready at $((SECONDS - t0)) s"; } &
  local images_job=$!
  wait $venv_job || die "the worker venv failed"
  wait $venv2_job || die "the Prefect 2 worker venv failed"
  worker_docker_login
  start_docker_worker
  start_docker_worker2
  wait_for_pool "$PREFECT_URL" "$POOL" worker
  wait_for_pool "$PREFECT2_URL" "$POOL2" worker2
  log "workers ready at $((SECONDS - t0)) s"
  wait $images_job || die "the base images could not be made"
  wait $buildx_job || die "docker buildx could not be built"
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
  echo "LOLPOP_TEST_DOCKER_POOL_2=$POOL2"
  echo "LOLPOP_TEST_LOLPOP_BASE_IMAGE=$LOLPOP_IMAGE"
  echo "LOLPOP_TEST_BUILDX_PLUGIN=$BUILDX_PLUGIN"
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
  stop_pid worker2
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
