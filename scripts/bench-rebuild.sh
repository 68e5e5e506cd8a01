#!/usr/bin/env bash
# How long a rebuild takes after a code-only change, with the Dockerfile lolpop-deploy
# generates (dependencies installed before the code is copied) and with lolpop's own
# template order (code copied, then `pip install`), side by side. Not a test: it prints
# build times. Needs the Docker services: `bash scripts/docker-services.sh start`.
#   bash scripts/bench-rebuild.sh [requirement ...]   (default: scikit-learn==1.5.2)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
REQUIREMENTS=("${@:-scikit-learn==1.5.2}")
BASE_IMAGE="${LOLPOP_TEST_BASE_IMAGE:-$(bash "$HERE/docker-services.sh" env | sed -n 's/^LOLPOP_TEST_BASE_IMAGE=//p')}"
DOCKER="$(command -v docker)"
WORK="$(mktemp -d /tmp/lolpop-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
"$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1 || { echo "no base image $BASE_IMAGE: run scripts/docker-services.sh start" >&2; exit 1; }

# The quickstart example, with real dependencies to install.
project() {
  local dir=$1
  mkdir -p "$dir"
  cp "$ROOT"/examples/quickstart/{quickstart_runner.py,train.csv,test.csv,dev.yaml} "$dir/"
  printf '%s\n' "${REQUIREMENTS[@]}" >"$dir/requirements.txt"
}

# Ours: the package step writes run.py and the Dockerfile (no daemon at DOCKER_HOST, so it only writes).
project "$WORK/ours"
cat >"$WORK/ours/lolpop.yaml" <<EOF
decorator: {orchestrator: LocalOrchestrator}
orchestrator:
  deployment:
    name: bench
    type: docker
    package:
      lolpop_class: QuickstartRunner
      lolpop_module: quickstart_runner
      copy_files: [requirements.txt, quickstart_runner.py, train.csv, test.csv, dev.yaml]
      config_file: dev.yaml
      lolpop_install_location: ""
      base_image: $BASE_IMAGE
EOF
DOCKER_HOST=unix:///nonexistent.sock node "$ROOT/dist/cli/index.js" package QuickstartRunner -c "$WORK/ours/lolpop.yaml" >/dev/null

# lolpop 0.2.0's template order (LOLPOP.md): code and data first, then pip install.
project "$WORK/lolpop"
cp -r "$WORK/ours/prefect_files" "$WORK/lolpop/"
cat >"$WORK/lolpop/Dockerfile" <<EOF
FROM $BASE_IMAGE
WORKDIR /opt/prefect
COPY prefect_files prefect_files/
COPY requirements.txt quickstart_runner.py train.csv test.csv dev.yaml ./
RUN pip install --no-cache-dir -r requirements.txt
ENV PYTHONPATH=/opt/prefect
CMD ["python", "prefect_files/run.py"]
EOF

build() { # dir tag [extra docker build args] → seconds
  local dir=$1 tag=$2 start end; shift 2
  start=$(date +%s.%N)
  "$DOCKER" build --network host -q "$@" -t "$tag" "$dir" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

declare -A first second
for variant in ours lolpop; do
  echo "building $variant…" >&2
  first[$variant]=$(build "$WORK/$variant" "lolpop-bench/$variant:1" --no-cache)
  echo "# a code-only change $(date +%s%N)" >>"$WORK/$variant/quickstart_runner.py"
  second[$variant]=$(build "$WORK/$variant" "lolpop-bench/$variant:2")
done

echo "dependencies: ${REQUIREMENTS[*]}; base image: $BASE_IMAGE; builder: $("$DOCKER" version --format '{{.Server.Version}}') $("$DOCKER" info --format '{{.Driver}}')"
printf '%-44s %12s %22s\n' "Dockerfile" "first build" "after a code change"
printf '%-44s %11.1fs %21.1fs\n' "lolpop-deploy (deps before code)" "${first[ours]}" "${second[ours]}"
printf '%-44s %11.1fs %21.1fs\n' "lolpop 0.2.0 template order (code, then pip)" "${first[lolpop]}" "${second[lolpop]}"
