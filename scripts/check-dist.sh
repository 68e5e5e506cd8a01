#!/usr/bin/env bash
# dist/ (and the published schema) must be exactly the bundle of src/: rebuild
# and fail if anything differs from what is committed (actions/checkout's check-dist).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s bundle >/dev/null
if ! git diff --quiet --exit-code -- dist schema || [ -n "$(git status --porcelain -- dist schema)" ]; then
  echo "dist/ or schema/ is not the bundle of src/: run 'npm run bundle' and commit the result" >&2
  git status --porcelain -- dist schema >&2
  exit 1
fi
echo "dist/ is the bundle of src/"
