#!/usr/bin/env bash
# Deploy start → "parsed" on Airflow 2.10, folder delivery beside git delivery, in one run:
#   folder: the DAG written into the shared Airflow 2.10's DAGs folder;
#   git:    the DAG pushed over SSH with the deploy key (scripts/git-ssh-services.sh) and
#           checked out into that DAGs folder by the git-sync-style loop (period 2 s).
# For each: a new DAG, then a changed redeploy of it, with `node dist/cli/index.js up --steps deploy`
# (deploy returns once Airflow shows this release's fingerprint tag, then unpauses). Prints the
# wall-clock seconds of the step and the intervals that gave it (Airflow 2.10's
# dag_dir_list_interval 3 s, min_file_process_interval 5 s, in scripts/airflow-services.sh).
# Needs `LOLPOP_AIRFLOW_MAJOR=2 bash scripts/airflow-services.sh start`,
# `LOLPOP_GIT_SYNC_LINK=<its DAGs folder>/lolpop-git-sync bash scripts/git-ssh-services.sh start`
# and `npm run bundle`. Usage: bash bench/airflow2-git-delivery.sh [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
eval "$(LOLPOP_AIRFLOW_MAJOR=2 bash scripts/airflow-services.sh env)"
eval "$(bash scripts/git-ssh-services.sh env)"
[ -n "${LOLPOP_TEST_GIT_SYNC_LINK:-}" ] || { echo "git-ssh-services.sh was started without LOLPOP_GIT_SYNC_LINK" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
DEPLOY_KEY="$(cat "$LOLPOP_TEST_GIT_SSH_KEY_FILE")"

. bench/lib/airflow-deploy.sh
ROOT="$PWD"

delivery_block() { # delivery
  if [ "$1" = folder ]; then
    echo "    dags_folder: $LOLPOP_TEST_AIRFLOW2_DAGS_FOLDER"
  else
    echo "    delivery: git
    git:
      url: $LOLPOP_TEST_GIT_SSH_URL
      ssh_key_env: AIRFLOW_DAGS_DEPLOY_KEY
      known_hosts_file: $LOLPOP_TEST_GIT_SSH_KNOWN_HOSTS_FILE"
  fi
}

deploy_seconds() { # delivery name greeting → seconds
  tiny_workflow "$WORK/$2" "$2" "$3" "$(delivery_block "$1")"
  timed_deploy "$WORK/$2" "$1" AIRFLOW_API_URL="$LOLPOP_TEST_AIRFLOW2_URL" AIRFLOW_USERNAME="$LOLPOP_TEST_AIRFLOW2_USERNAME" \
    AIRFLOW_PASSWORD="$LOLPOP_TEST_AIRFLOW2_PASSWORD" AIRFLOW_DAGS_DEPLOY_KEY="$DEPLOY_KEY"
}

printf '%-8s %-30s %-14s %-14s %s\n' delivery refresh "new DAG (s)" "redeploy (s)" run
for i in $(seq 1 "$RUNS"); do
  id="$(date +%s)-$i"
  f_new=$(deploy_seconds folder "bench2-folder-$id" one); f_re=$(deploy_seconds folder "bench2-folder-$id" two)
  g_new=$(deploy_seconds git "bench2-git-$id" one); g_re=$(deploy_seconds git "bench2-git-$id" two)
  printf '%-8s %-30s %-14s %-14s %s\n' folder "dag_dir_list_interval 3 s" "$f_new" "$f_re" "$i"
  printf '%-8s %-30s %-14s %-14s %s\n' git "sync 2 s + dag_dir_list 3 s" "$g_new" "$g_re" "$i"
done
