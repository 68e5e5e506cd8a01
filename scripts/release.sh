#!/usr/bin/env bash
# Cut a release locally; nothing is pushed.
#
#   bash scripts/release.sh 1.2.3          # or v1.2.3
#   bash scripts/release.sh --notes 1.2.3  # print CHANGELOG.md's section for 1.2.3 (used by
#                                          # .github/workflows/release.yml for the release notes)
#
# It refuses a dirty tree, a version that is not semver, an existing tag, a dist/ that is
# not the bundle of src/ (scripts/check-dist.sh) and a CHANGELOG.md without a
# "## [<version>]" section. Then it sets the version in package.json and package-lock.json
# (npm version --no-git-tag-version), rebuilds dist/ (the CLI's --version is read from
# package.json at bundle time), commits "Release v<version>", creates the annotated tag
# v<version>, moves the major tag v<major> to it (not for a pre-release), and prints the
# git push commands to run.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "release: $*" >&2; exit 1; }

# semver.org 2.0.0: MAJOR.MINOR.PATCH, optional -pre.release and +build metadata.
SEMVER='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-((0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'

# The body of CHANGELOG.md's "## [<version>]" section (without its heading), up to the
# next "## " heading; empty output when there is no such section.
changelog_section() {
  awk -v want="## [$1]" '
    index($0, "## ") == 1 { if (found) exit; if (index($0, want) == 1) { found = 1; next } }
    found { print }
  ' CHANGELOG.md | sed -e '/./,$!d' | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}'
}
has_section() { awk -v want="## [$1]" 'index($0, want) == 1 { found = 1 } END { exit !found }' CHANGELOG.md; }

notes=0
if [ "${1:-}" = "--notes" ]; then notes=1; shift; fi
[ $# -eq 1 ] || die "usage: bash scripts/release.sh [--notes] <version>   (e.g. 1.0.0)"
version="${1#v}"
[[ "$version" =~ $SEMVER ]] || die "'$1' is not a semantic version (MAJOR.MINOR.PATCH[-pre][+build], e.g. 1.0.0)"
major="${BASH_REMATCH[1]}"
prerelease="${BASH_REMATCH[4]}"
tag="v$version"

[ -f CHANGELOG.md ] || die "CHANGELOG.md not found"
if [ "$notes" = 1 ]; then
  has_section "$version" || die "CHANGELOG.md has no '## [$version]' section"
  changelog_section "$version"
  exit 0
fi

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "not a git work tree"
if [ -n "$(git status --porcelain)" ]; then
  git status --short >&2
  die "the work tree is not clean: commit or remove the changes above first"
fi
if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
  die "tag $tag already exists"
fi
has_section "$version" \
  || die "CHANGELOG.md has no '## [$version]' section: move the Unreleased entries under '## [$version] - $(date -u +%F)'"
[ -n "$(changelog_section "$version")" ] || die "CHANGELOG.md's '## [$version]' section is empty"
[ -x node_modules/.bin/ncc ] || die "node_modules is missing: run 'npm ci' first"

# From here on the tree was clean: on any failure, put back what this script changed.
committed=0
restore() {
  if [ "$committed" = 0 ]; then
    git checkout -q -- package.json package-lock.json dist schema 2>/dev/null || true
    git clean -fdq -- dist schema 2>/dev/null || true
  fi
}
trap restore EXIT

echo "release: checking that dist/ is the bundle of src/"
bash scripts/check-dist.sh || die "dist/ is not the bundle of src/: rebuild (npm run bundle), commit, and run this again"

echo "release: setting the version to $version"
npm version "$version" --no-git-tag-version --allow-same-version --ignore-scripts >/dev/null
# The CLI's --version is package.json's version, compiled into dist/cli/index.js.
npm run -s bundle >/dev/null
got="$(node dist/cli/index.js --version)"
[ "$got" = "$version" ] || die "dist/cli/index.js --version prints '$got', not '$version'"

# Only the version may have changed: package.json, package-lock.json, dist/, schema/.
unexpected="$(git status --porcelain | grep -vE '^ ?M (package\.json|package-lock\.json)$|^.. (dist|schema)/' || true)"
[ -z "$unexpected" ] || die "unexpected changes after the version bump:"$'\n'"$unexpected"

git add package.json package-lock.json dist schema
git commit -q --allow-empty -m "Release $tag" -- package.json package-lock.json dist schema
committed=1
git tag -a "$tag" -m "lolpop-deploy $tag" HEAD
echo "release: committed 'Release $tag' ($(git rev-parse --short HEAD)) and tagged $tag"

branch="$(git symbolic-ref --short -q HEAD || echo HEAD)"
if [ -z "$prerelease" ]; then
  git tag -f -a "v$major" -m "lolpop-deploy v$major (points at $tag)" HEAD >/dev/null
  echo "release: moved v$major to $tag"
  cat <<EOF

Now push (the release workflow then creates the GitHub release from CHANGELOG.md):

  git push origin $branch
  git push origin $tag
  git push --force origin v$major
EOF
else
  cat <<EOF

$tag is a pre-release: v$major was not moved. Now push:

  git push origin $branch
  git push origin $tag
EOF
fi
