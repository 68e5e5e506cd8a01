#!/usr/bin/env bash
# Starts (or stops) a real S3-compatible server on loopback for AirflowOrchestrator's
# `delivery: s3` tests: Versity's versitygw (posix backend: a bucket is a folder) on
# 127.0.0.1:18120, one bucket `lolpop-dags` holding a `dags/` prefix (an S3DagBundle refuses to
# start on a prefix with no object under it), one root key pair generated per start.
# versitygw is built once from the Go module proxy (no prebuilt binary can be downloaded
# here) and only its binary is cached, under $CACHE/versitygw-<version>/bin; the module and
# build caches live in a temp dir removed after the build.
# `start` prints KEY=value lines (LOLPOP_TEST_S3_*); `env` prints them again; `build` only builds.
# Used by scripts/airflow-git-services.sh (its Airflow reads the bucket through an
# S3DagBundle) and by developers: `bash scripts/s3-services.sh start|stop|env|build`.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
VERSITYGW_VERSION=v1.8.0
BIN="$CACHE/versitygw-$VERSITYGW_VERSION/bin/versitygw"
STATE="${LOLPOP_S3_SERVICES_DIR:-/tmp/lolpop-deploy-s3}"
PORT="${LOLPOP_S3_PORT:-18120}"
ENDPOINT="http://127.0.0.1:$PORT"
BUCKET="lolpop-dags"
PREFIX="dags"
REGION="us-east-1"

log() { echo "s3-services: $*" >&2; }
die() { log "$*"; exit 1; }

build() {
  [ -x "$BIN" ] && return 0
  command -v go >/dev/null || die "go is needed to build versitygw $VERSITYGW_VERSION"
  local work t0=$SECONDS
  work="$(mktemp -d)"
  # shellcheck disable=SC2064 # the path is fixed now
  trap "chmod -R u+w '$work' 2>/dev/null; rm -rf '$work'" EXIT
  log "building versitygw $VERSITYGW_VERSION into $(dirname "$BIN") (cold: a few minutes)"
  GOPATH="$work/gopath" GOMODCACHE="$work/gopath/pkg/mod" GOCACHE="$work/gocache" GOBIN="$work/bin" \
    GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=mod" CGO_ENABLED=0 \
    nice -n 10 go install -trimpath -ldflags "-s -w" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >"$work/build.log" 2>&1 \
    || { tail -20 "$work/build.log" >&2; die "building versitygw failed"; }
  # Renamed into place only when built: a killed build leaves no half binary behind.
  mkdir -p "$(dirname "$(dirname "$BIN")")"
  rm -rf "$(dirname "$BIN").partial" && mv "$work/bin" "$(dirname "$BIN").partial" && mv "$(dirname "$BIN").partial" "$(dirname "$BIN")"
  log "built in $((SECONDS - t0)) s"
}

start() {
  local t0=$SECONDS access secret
  build
  stop
  rm -rf "$STATE" && mkdir -p "$STATE/data" "$STATE/iam"
  access="lolpop$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
  secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
  # The posix backend keeps object metadata in extended attributes of the files ($STATE must be on a filesystem with user xattrs, as ext4 is).
  ROOT_ACCESS_KEY="$access" ROOT_SECRET_KEY="$secret" \
    setsid "$BIN" --port "127.0.0.1:$PORT" --region "$REGION" --iam-dir "$STATE/iam" posix "$STATE/data" </dev/null >"$STATE/versitygw.log" 2>&1 &
  echo $! >"$STATE/versitygw.pid"
  for _ in $(seq 1 100); do
    # Any HTTP answer (an anonymous request is refused with 403) means it listens.
    if curl -s -o /dev/null -w '%{http_code}' "$ENDPOINT/" 2>/dev/null | grep -q '^[1-5]'; then break; fi
    kill -0 "$(cat "$STATE/versitygw.pid")" 2>/dev/null || { cat "$STATE/versitygw.log" >&2; die "versitygw exited"; }
    sleep 0.1
  done
  # The bucket and its prefix, created as the root user through the S3 API (a folder made by hand would have no owner).
  # shellcheck disable=SC2016 # the quoted text is JavaScript
  (cd "$HERE/.." && AWS_ACCESS_KEY_ID="$access" AWS_SECRET_ACCESS_KEY="$secret" NODE_NO_WARNINGS=1 node --input-type=module -e '
    import { S3Client, CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
    const [endpoint, bucket, prefix] = process.argv.slice(1);
    const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/README.md`, Body: "DAGs delivered by lolpop-deploy (delivery: s3).\n" }));
  ' "$ENDPOINT" "$BUCKET" "$PREFIX") || { cat "$STATE/versitygw.log" >&2; die "could not create bucket $BUCKET on $ENDPOINT"; }
  {
    echo "LOLPOP_TEST_S3_ENDPOINT=$ENDPOINT"
    echo "LOLPOP_TEST_S3_BUCKET=$BUCKET"
    echo "LOLPOP_TEST_S3_PREFIX=$PREFIX"
    echo "LOLPOP_TEST_S3_REGION=$REGION"
    echo "LOLPOP_TEST_S3_ACCESS_KEY=$access"
    echo "LOLPOP_TEST_S3_SECRET_KEY=$secret"
  } | tee "$STATE/env"
  log "versitygw ready at $ENDPOINT ($((SECONDS - t0)) s)"
}

stop() {
  if [ -f "$STATE/versitygw.pid" ]; then
    kill -TERM "$(cat "$STATE/versitygw.pid")" 2>/dev/null || true
    rm -f "$STATE/versitygw.pid"
  fi
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  env) cat "$STATE/env" 2>/dev/null || die "not started (no $STATE/env)" ;;
  *) echo "usage: $0 start|stop|env|build" >&2; exit 2 ;;
esac
