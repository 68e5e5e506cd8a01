#!/usr/bin/env bash
# Deploy start → "parsed", per Airflow delivery, side by side in one run:
#   folder: the shared Airflow 3 (scripts/airflow-services.sh), the DAG written into its DAGs folder;
#   git:    the Airflow 3 of scripts/airflow-git-services.sh, the DAG pushed to its git server
#           and read through a GitDagBundle;
#   s3:     the same Airflow 3, the DAG uploaded to its S3-compatible server (versitygw) and
#           read through an S3DagBundle.
# For each: a new DAG, then a changed redeploy of it, with `node dist/cli/index.js up --steps deploy`
# (deploy returns once Airflow shows this release's fingerprint tag, then unpauses). Prints the
# wall-clock seconds of the step and the refresh interval that gave it.
# Needs both scripts started and `npm run bundle`. Usage: bash bench/airflow-delivery.sh [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
eval "$(bash scripts/airflow-services.sh env)"
eval "$(bash scripts/airflow-git-services.sh env)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

. bench/lib/airflow-deploy.sh
ROOT="$PWD"

delivery_block() { # delivery
  if [ "$1" = folder ]; then
    echo "    dags_folder: $LOLPOP_TEST_AIRFLOW_DAGS_FOLDER"
  elif [ "$1" = s3 ]; then
    echo "    delivery: s3
    s3:
      bucket: $LOLPOP_TEST_S3_BUCKET
      prefix: $LOLPOP_TEST_S3_PREFIX
      endpoint_url: $LOLPOP_TEST_S3_ENDPOINT
      bundle_name: $LOLPOP_TEST_AIRFLOW_S3_BUNDLE"
  else
    echo "    delivery: git
    git:
      url: $LOLPOP_TEST_GIT_URL
      username: $LOLPOP_TEST_GIT_USERNAME
      token: \${GIT_TOKEN}
      bundle_name: $LOLPOP_TEST_AIRFLOW_GIT_BUNDLE"
  fi
}

deploy_seconds() { # delivery name greeting → seconds
  local url user pass
  tiny_workflow "$WORK/$2" "$2" "$3" "$(delivery_block "$1")"
  if [ "$1" = folder ]; then url=$LOLPOP_TEST_AIRFLOW_URL user=$LOLPOP_TEST_AIRFLOW_USERNAME pass=$LOLPOP_TEST_AIRFLOW_PASSWORD
  else url=$LOLPOP_TEST_AIRFLOW_GIT_URL user=$LOLPOP_TEST_AIRFLOW_GIT_USERNAME pass=$LOLPOP_TEST_AIRFLOW_GIT_PASSWORD; fi
  timed_deploy "$WORK/$2" "$1" AIRFLOW_API_URL="$url" AIRFLOW_USERNAME="$user" AIRFLOW_PASSWORD="$pass" GIT_TOKEN="${LOLPOP_TEST_GIT_TOKEN:-}" \
    AWS_ACCESS_KEY_ID="$LOLPOP_TEST_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$LOLPOP_TEST_S3_SECRET_KEY"
}

printf '%-8s %-22s %-14s %-14s %s\n' delivery refresh "new DAG (s)" "redeploy (s)" run
for i in $(seq 1 "$RUNS"); do
  id="$(date +%s)-$i"
  f_new=$(deploy_seconds folder "bench-folder-$id" one); f_re=$(deploy_seconds folder "bench-folder-$id" two)
  g_new=$(deploy_seconds git "bench-git-$id" one); g_re=$(deploy_seconds git "bench-git-$id" two)
  s_new=$(deploy_seconds s3 "bench-s3-$id" one); s_re=$(deploy_seconds s3 "bench-s3-$id" two)
  printf '%-8s %-22s %-14s %-14s %s\n' folder "refresh_interval 3 s" "$f_new" "$f_re" "$i"
  printf '%-8s %-22s %-14s %-14s %s\n' git "bundle 5 s, check 1 s" "$g_new" "$g_re" "$i"
  printf '%-8s %-22s %-14s %-14s %s\n' s3 "bundle 5 s, check 1 s" "$s_new" "$s_re" "$i"
done
