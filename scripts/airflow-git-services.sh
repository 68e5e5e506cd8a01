#!/usr/bin/env bash
# Starts (or stops) the services of AirflowOrchestrator's `delivery: git` and `delivery: s3` tests, on loopback:
# - a real git server over HTTP with basic auth: Debian's git http-backend as a CGI of
#   lighttpd (apt: lighttpd) on :18110, one bare repository `dags.git` (branch main, a
#   `dags/` folder), one user whose password is generated per start;
# - a real S3-compatible server (scripts/s3-services.sh: versitygw on :18120, bucket
#   lolpop-dags, prefix dags/);
# - an Airflow 3.3.2 of its own (scripts/airflow-services.sh on :18100-18102, with the git
#   and amazon providers added in a venv of its own, airflow-git-requirements.txt) reading
#   that repository through a GitDagBundle (`lolpop-git`, subdir dags) and that bucket
#   prefix through an S3DagBundle (`lolpop-s3`), each with refresh_interval 5 s.
# `start` prints KEY=value lines (LOLPOP_TEST_GIT_*, LOLPOP_TEST_S3_*, LOLPOP_TEST_AIRFLOW_GIT_*,
# LOLPOP_TEST_AIRFLOW_S3_BUNDLE); `env` prints them again.
# Used by .ci/run and by developers: `bash scripts/airflow-git-services.sh start|stop|env|restarts`.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
STATE="${LOLPOP_GIT_SERVICES_DIR:-/tmp/lolpop-deploy-airflow-git}"
GIT_PORT="${LOLPOP_GIT_PORT:-18110}"
AIRFLOW_PORT="${LOLPOP_AIRFLOW_GIT_PORT:-18100}"
REPO_URL="http://127.0.0.1:$GIT_PORT/git/dags.git"
USERNAME="lolpop-pusher"
BUNDLE="lolpop-git"
S3_BUNDLE="lolpop-s3"
# How often the bundle is refreshed, and how often the dag-processor looks for due bundles.
REFRESH_INTERVAL=5
REFRESH_CHECK_INTERVAL=1

log() { echo "airflow-git-services: $*" >&2; }
die() { log "$*"; exit 1; }

# The web server for git: git http-backend as CGI, every URL under /git behind basic auth.
start_git_server() {
  local password=$1 backend
  backend="$(git --exec-path)/git-http-backend"
  [ -x "$backend" ] || die "no $backend (Debian's git package has it)"
  command -v lighttpd >/dev/null || die "no lighttpd: apt-get install lighttpd"
  mkdir -p "$STATE/repos" "$STATE/www"
  git init --quiet --bare -b main "$STATE/repos/dags.git"
  # http-backend lets an authenticated user (REMOTE_USER set) push; say it explicitly.
  git -C "$STATE/repos/dags.git" config http.receivepack true
  local seed; seed="$(mktemp -d)"
  git -C "$seed" init --quiet -b main
  mkdir -p "$seed/dags" && echo "DAGs delivered by lolpop-deploy (delivery: git)." >"$seed/dags/README.md"
  git -C "$seed" add . && git -C "$seed" -c user.name=ci -c user.email=ci@example.invalid commit --quiet -m "dags/ folder"
  git -C "$seed" push --quiet "$STATE/repos/dags.git" main
  rm -rf "$seed"
  printf '%s:%s\n' "$USERNAME" "$password" >"$STATE/users"
  chmod 600 "$STATE/users"
  cat >"$STATE/lighttpd.conf" <<EOF
server.modules = ("mod_alias", "mod_auth", "mod_authn_file", "mod_cgi", "mod_setenv")
server.bind = "127.0.0.1"
server.port = $GIT_PORT
server.document-root = "$STATE/www"
server.errorlog = "$STATE/lighttpd-error.log"
alias.url = ("/git" => "$backend")
\$HTTP["url"] =~ "^/git" {
  cgi.assign = ("" => "")
  setenv.add-environment = ("GIT_PROJECT_ROOT" => "$STATE/repos", "GIT_HTTP_EXPORT_ALL" => "")
  auth.backend = "plain"
  auth.backend.plain.userfile = "$STATE/users"
  auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
}
EOF
  setsid lighttpd -D -f "$STATE/lighttpd.conf" </dev/null >"$STATE/lighttpd.log" 2>&1 &
  echo $! >"$STATE/lighttpd.pid"
  for _ in $(seq 1 50); do
    if GIT_TERMINAL_PROMPT=0 git -c "http.extraHeader=Authorization: Basic $(printf '%s:%s' "$USERNAME" "$password" | base64 -w0)" \
      ls-remote "$REPO_URL" main >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  cat "$STATE/lighttpd.log" "$STATE/lighttpd-error.log" >&2 2>/dev/null || true
  die "the git server did not answer on $REPO_URL"
}

stop_git_server() {
  if [ -f "$STATE/lighttpd.pid" ]; then
    kill -TERM "$(cat "$STATE/lighttpd.pid")" 2>/dev/null || true
    rm -f "$STATE/lighttpd.pid"
  fi
}

airflow_services() { # start|stop|restarts
  LOLPOP_AIRFLOW_PORT="$AIRFLOW_PORT" LOLPOP_AIRFLOW_SERVICES_DIR="$STATE/airflow" \
    LOLPOP_AIRFLOW_REQUIREMENTS="$HERE/airflow-git-requirements.txt" bash "$HERE/airflow-services.sh" "$1"
}

start() {
  local t0=$SECONDS password
  stop
  rm -rf "$STATE" && mkdir -p "$STATE/airflow"
  password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  start_git_server "$password"
  log "git server ready at $REPO_URL ($((SECONDS - t0)) s)"
  bash "$HERE/s3-services.sh" start >"$STATE/s3.env" || { stop_git_server; die "the S3 server did not start (see above)"; }
  local s3_endpoint s3_bucket s3_prefix s3_access s3_secret
  s3_endpoint="$(sed -n 's/^LOLPOP_TEST_S3_ENDPOINT=//p' "$STATE/s3.env")"
  s3_bucket="$(sed -n 's/^LOLPOP_TEST_S3_BUCKET=//p' "$STATE/s3.env")"
  s3_prefix="$(sed -n 's/^LOLPOP_TEST_S3_PREFIX=//p' "$STATE/s3.env")"
  s3_access="$(sed -n 's/^LOLPOP_TEST_S3_ACCESS_KEY=//p' "$STATE/s3.env")"
  s3_secret="$(sed -n 's/^LOLPOP_TEST_S3_SECRET_KEY=//p' "$STATE/s3.env")"
  # Airflow reads the repository as the same user (a read-only one would do) and the bucket
  # with the same keys: a connection each in its environment (the aws one carries the
  # endpoint), and the two bundles instead of the dags-folder.
  AIRFLOW_CONN_LOLPOP_GIT="$(python3 -c 'import json, sys; print(json.dumps({"conn_type": "git", "host": sys.argv[1], "login": sys.argv[2], "password": sys.argv[3]}))' "$REPO_URL" "$USERNAME" "$password")" \
  AIRFLOW_CONN_LOLPOP_S3="$(python3 -c 'import json, sys; print(json.dumps({"conn_type": "aws", "login": sys.argv[2], "password": sys.argv[3], "extra": {"endpoint_url": sys.argv[1], "region_name": "us-east-1", "config_kwargs": {"s3": {"addressing_style": "path"}}}}))' "$s3_endpoint" "$s3_access" "$s3_secret")" \
  AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST="$(python3 -c 'import json, sys; print(json.dumps([
      {"name": sys.argv[1], "classpath": "airflow.providers.git.bundles.git.GitDagBundle", "kwargs": {"git_conn_id": "lolpop_git", "tracking_ref": "main", "subdir": "dags", "refresh_interval": int(sys.argv[2])}},
      {"name": sys.argv[3], "classpath": "airflow.providers.amazon.aws.bundles.s3.S3DagBundle", "kwargs": {"aws_conn_id": "lolpop_s3", "bucket_name": sys.argv[4], "prefix": sys.argv[5], "refresh_interval": int(sys.argv[2])}}]))' \
      "$BUNDLE" "$REFRESH_INTERVAL" "$S3_BUNDLE" "$s3_bucket" "$s3_prefix")" \
  AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL="$REFRESH_CHECK_INTERVAL" \
    airflow_services start | sed 's/^LOLPOP_TEST_AIRFLOW_/LOLPOP_TEST_AIRFLOW_GIT_/' >"$STATE/airflow.env" \
    || { stop_git_server; bash "$HERE/s3-services.sh" stop; die "the Airflow reading the repository and the bucket did not start (see above)"; }
  {
    grep -E '^LOLPOP_TEST_AIRFLOW_GIT_(URL|USERNAME|PASSWORD|HOME|PYTHON)=' "$STATE/airflow.env"
    echo "LOLPOP_TEST_AIRFLOW_GIT_BUNDLE=$BUNDLE"
    echo "LOLPOP_TEST_AIRFLOW_GIT_REFRESH_INTERVAL=$REFRESH_INTERVAL"
    echo "LOLPOP_TEST_GIT_URL=$REPO_URL"
    echo "LOLPOP_TEST_GIT_USERNAME=$USERNAME"
    echo "LOLPOP_TEST_GIT_TOKEN=$password"
    echo "LOLPOP_TEST_AIRFLOW_S3_BUNDLE=$S3_BUNDLE"
    cat "$STATE/s3.env"
  } | tee "$STATE/env"
  log "ready in $((SECONDS - t0)) s"
}

stop() {
  [ -d "$STATE/airflow" ] && airflow_services stop || true
  stop_git_server
  bash "$HERE/s3-services.sh" stop
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) cat "$STATE/env" 2>/dev/null || die "not started (no $STATE/env)" ;;
  restarts) airflow_services restarts ;;
  *) echo "usage: $0 start|stop|env|restarts" >&2; exit 2 ;;
esac
