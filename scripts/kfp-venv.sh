#!/usr/bin/env bash
# Builds (once) the venv with the real Kubeflow Pipelines SDK that the KFP contract tests
# run: it parses our IR strictly, loads it as a component, runs it with kfp.local's
# DockerRunner, and drives the KFP stand-in with kfp.Client. The venv lives under
# /opt/lolpop-deploy-ci/kfp-<hash of scripts/kfp-requirements.txt>, so a changed pin
# builds a new one. Needs Python 3.9+ (kfp 2.17 supports 3.9-3.13).
# Prints LOLPOP_TEST_KFP_PYTHON=<venv python> on stdout; progress goes to stderr.
# Usage: bash scripts/kfp-venv.sh [start|env]   (both build if needed, then print)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REQUIREMENTS="$HERE/kfp-requirements.txt"
CACHE="${LOLPOP_CI_CACHE:-/opt/lolpop-deploy-ci}"
VENV="$CACHE/kfp-$(sha256sum "$REQUIREMENTS" | cut -c1-12)"

log() { echo "kfp-venv: $*" >&2; }

# The stamp is written last: a venv left by a pip run killed half-way is rebuilt, not trusted.
if ! { [ -f "$VENV/.lolpop-deploy-ci-ok" ] && "$VENV/bin/python" -c '' 2>/dev/null; }; then
  started=$SECONDS
  log "installing $(basename "$REQUIREMENTS") into $VENV"
  mkdir -p "$CACHE"
  rm -rf "$VENV" && python3 -m venv "$VENV"
  if ! { "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS" >&2 \
      && "$VENV/bin/pip" check >&2 \
      && "$VENV/bin/python" -c 'import kfp, kfp.local, kfp_server_api, docker; from kfp.pipeline_spec import pipeline_spec_pb2' >&2; }; then
    rm -rf "$VENV"; log "install failed"; exit 1
  fi
  touch "$VENV/.lolpop-deploy-ci-ok"
  log "ready in $((SECONDS - started)) s"
fi
echo "LOLPOP_TEST_KFP_PYTHON=$VENV/bin/python"
