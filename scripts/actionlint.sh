#!/usr/bin/env bash
# Builds actionlint (the linter for GitHub workflow files) from the Go module proxy, once:
# the binary is cached under $CACHE/actionlint-<version>/ and reused. Debian 12 packages
# no actionlint, and no GitHub release can be downloaded here. Installs Debian's
# shellcheck too, which actionlint runs on the workflows' `run:` scripts.
# `install` prints LOLPOP_TEST_ACTIONLINT=<path> and LOLPOP_TEST_SHELLCHECK=<path> on stdout
# (progress goes to stderr); `env` prints them again without installing. Used by .ci/run
# and by developers:
#   bash scripts/actionlint.sh install
#   "$(bash scripts/actionlint.sh path)" examples/workflows/*.yml .github/workflows/*.yml
set -euo pipefail

CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
ACTIONLINT_VERSION=v1.7.12
DIR="$CACHE/actionlint-$ACTIONLINT_VERSION"
BIN="$DIR/bin/actionlint"

log() { echo "actionlint: $*" >&2; }
die() { log "$*"; exit 1; }

install() {
  [ -x "$BIN" ] && return 0
  command -v go >/dev/null || die "go is needed to build actionlint $ACTIONLINT_VERSION (Debian 12 has no package for it)"
  log "building actionlint $ACTIONLINT_VERSION into $DIR"
  mkdir -p "$DIR"
  # The module and build caches are the CI cache's, shared with the buildx build.
  GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/cache" GOBIN="$DIR/bin.tmp" \
    nice -n 10 go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >"$DIR/build.log" 2>&1 \
    || { tail -20 "$DIR/build.log" >&2; rm -rf "$DIR/bin.tmp"; die "building actionlint failed"; }
  # Renamed into place only when built: a killed build leaves no half binary behind.
  rm -rf "$DIR/bin" && mv "$DIR/bin.tmp" "$DIR/bin"
}

install_shellcheck() {
  command -v shellcheck >/dev/null && return 0
  log "installing shellcheck (apt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; } >/dev/null \
    || die "apt-get install shellcheck failed"
}

env_lines() {
  echo "LOLPOP_TEST_ACTIONLINT=$BIN"
  echo "LOLPOP_TEST_SHELLCHECK=$(command -v shellcheck || true)"
}

case "${1:-}" in
  install) install_shellcheck; install; env_lines ;;
  env) env_lines ;;
  path) echo "$BIN" ;;
  *) echo "usage: $0 install|env|path" >&2; exit 2 ;;
esac
