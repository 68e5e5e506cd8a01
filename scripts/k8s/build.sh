#!/usr/bin/env bash
# Builds the Kubernetes binaries the test cluster runs from the Go module proxy, at the
# version pinned in scripts/k8s/go.mod, into $1 (e.g. /opt/lolpop-deploy-ci/k8s-v1.37.2/bin).
# Only the binaries are kept: the module and build caches (about 5 GB) live in a temp dir
# that is removed on exit. Runs under `nice` because the CI machine's cores are shared.
set -euo pipefail
dest="$1"
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$here/go.mod")"
minor="$(echo "$version" | cut -d. -f2)"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp "$here/go.mod" "$here/go.sum" "$here/tools.go" "$work/"
cd "$work"
export GOPATH="$work/gopath" GOMODCACHE="$work/gopath/pkg/mod" GOCACHE="$work/gocache" \
  GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=mod" CGO_ENABLED=0
# Without these the binaries report v0.0.0-master and kubectl warns about version skew.
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1"
ldflags="$ldflags -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
mkdir -p "$work/bin"
nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$work/bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.partial" && mv "$work/bin" "$dest.partial" && mv "$dest.partial" "$dest"
