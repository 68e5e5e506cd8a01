#!/usr/bin/env bash
# What git-sync (k8s.io/git-sync v4, the Airflow Helm chart's DAG syncer) does, with git
# alone, for the Airflow 2.10 tests: k8s.io/git-sync cannot be built here (the Go module
# proxy answers 403 for every version of it). Every PERIOD seconds: fetch the branch
# into ROOT/repo; on a new commit, check it out into ROOT/.worktrees/<commit> and swap
# the LINK symlink to it atomically (a rename), then remove the previous worktree — the
# layout and swap git-sync's --root/--link give, so Airflow, walking its DAGs folder
# through LINK, never sees half a checkout.
# Usage: git-sync-loop.sh REPO_URL BRANCH ROOT LINK PERIOD (runs until killed).
set -euo pipefail
url="$1" branch="$2" root="$3" link="$4" period="$5"
mkdir -p "$root/.worktrees"
[ -d "$root/repo" ] || git init --quiet --bare "$root/repo"
current=""
while true; do
  if git -C "$root/repo" fetch --quiet --depth 1 "$url" "+refs/heads/$branch:refs/heads/$branch" 2>>"$root/sync.log"; then
    rev="$(git -C "$root/repo" rev-parse "refs/heads/$branch")"
    if [ "$rev" != "$current" ]; then
      git -C "$root/repo" worktree add --quiet --detach --force "$root/.worktrees/$rev" "$rev" 2>>"$root/sync.log" || { sleep "$period"; continue; }
      ln -sfn "$root/.worktrees/$rev" "$link.tmp" && mv -T "$link.tmp" "$link"
      if [ -n "$current" ]; then git -C "$root/repo" worktree remove --force "$root/.worktrees/$current" 2>>"$root/sync.log" || true; fi
      current="$rev"
      echo "$(date -u +%FT%TZ) synced $rev" >>"$root/sync.log"
    fi
  fi
  sleep "$period"
done
