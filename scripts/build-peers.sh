#!/usr/bin/env bash
# Builds the test peers pinned in test/peers/versions.env, each once, from the Go module proxy,
# into ${XDG_CACHE_HOME:-~/.cache}/kimg-peers/<name>-<version>/ (outside the checkout), with a
# stamp file; a built peer is not built again. One progress line per component; a failed build
# names the component and shows the last lines of Go's output, and the script exits 1.
#
#   scripts/build-peers.sh            all peers
#   scripts/build-peers.sh crane etcd some of them
#   scripts/build-peers.sh --print-dir NAME   the directory of one peer (built or not)
#
# Go is used for these test peers only; kimg itself never runs it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../test/peers/versions.env
source "$ROOT/test/peers/versions.env"
CACHE="${KIMG_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kimg-peers}"
export GOFLAGS="${GOFLAGS:--mod=mod}"
export CGO_ENABLED="${CGO_ENABLED:-0}"

version_of() {
  case "$1" in
    crane) echo "$CRANE_VERSION" ;;
    crictl) echo "$CRI_TOOLS_VERSION" ;;
    containerd) echo "$CONTAINERD_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    kubernetes) echo "$KUBERNETES_VERSION" ;;
    conformance) echo "$DISTRIBUTION_SPEC_CONFORMANCE_VERSION" ;;
    *) echo "unknown peer: $1" >&2; return 2 ;;
  esac
}
dir_of() { echo "$CACHE/$1-$(version_of "$1")"; }

# A Go module of ours in $1 (a fresh directory): go.mod from stdin-less arguments.
new_module() {
  local work="$1" name="$2"
  mkdir -p "$work"
  (cd "$work" && go mod init "kimg.test/peers/$name" >/dev/null 2>&1)
}

build_crane() { GOBIN="$1" go install "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"; }
build_crictl() { GOBIN="$1" go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS_VERSION"; }
build_containerd() {
  # no_btrfs: no cgo headers needed; containerd's own Makefile offers the same tag.
  GOBIN="$1" go install -tags no_btrfs \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
}
build_etcd() {
  local out="$1" work="$2"
  new_module "$work" etcd
  cat >"$work/main.go" <<'GO'
// etcd's own main (go.etcd.io/etcd/v3's main.go) is two lines around etcdmain.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy && go build -o "$out/etcd" .)
}
build_kubernetes() {
  local out="$1" work="$2"
  new_module "$work" kubernetes
  local staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
    cloud-provider cluster-bootstrap code-generator component-base component-helpers
    controller-manager cri-api cri-client cri-streaming csi-translation-lib
    dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
    kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils
    pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming)
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
  {
    echo "//go:build tools"
    echo ""
    echo "// The Kubernetes programs this module builds (the tools.go pattern: go mod tidy keeps them)."
    echo "package tools"
    echo ""
    echo "import ("
    for c in "${cmds[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
    echo ")"
  } >"$work/tools.go"
  (
    cd "$work"
    for m in "${staging[@]}"; do
      go mod edit -replace "k8s.io/$m=k8s.io/$m@$KUBERNETES_STAGING_VERSION"
    done
    go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION"
    go mod tidy
    for c in "${cmds[@]}"; do go build -tags tools -o "$out/$c" "k8s.io/kubernetes/cmd/$c"; done
  )
}
build_conformance() {
  local out="$1" work="$2"
  new_module "$work" conformance
  (
    cd "$work"
    go get "github.com/opencontainers/distribution-spec/conformance@$DISTRIBUTION_SPEC_CONFORMANCE_VERSION"
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/opencontainers/distribution-spec/conformance"\n' >tools.go
    go mod tidy
    go test -c -o "$out/conformance.test" github.com/opencontainers/distribution-spec/conformance
  )
}

build_one() {
  local name="$1" dir; dir="$(dir_of "$name")"
  if [[ -f "$dir/.stamp" ]]; then
    echo "peers: $name $(version_of "$name"): built ($dir)"
    return 0
  fi
  echo "peers: $name $(version_of "$name"): building into $dir"
  local start=$SECONDS tmp log work
  tmp="$dir.tmp.$$"; work="$(mktemp -d)"; log="$work.log"
  rm -rf "$tmp"; mkdir -p "$tmp"
  if ! "build_$name" "$tmp" "$work/src" >"$log" 2>&1; then
    echo "peers: $name $(version_of "$name"): BUILD FAILED; the last lines of Go's output:" >&2
    tail -n 25 "$log" >&2
    rm -rf "$tmp" "$work" "$log"
    return 1
  fi
  echo "$(version_of "$name") built $(date -u +%FT%TZ) with $(go version)" >"$tmp/.stamp"
  rm -rf "$dir"; mv "$tmp" "$dir"; rm -rf "$work" "$log"
  echo "peers: $name $(version_of "$name"): done in $((SECONDS - start)) s"
}

if [[ "${1:-}" == "--print-dir" ]]; then dir_of "$2"; exit 0; fi
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(crane crictl etcd containerd conformance kubernetes)
command -v go >/dev/null || { echo "peers: go is not installed (it is needed to build the test peers)" >&2; exit 1; }
mkdir -p "$CACHE"
status=0
for n in "${names[@]}"; do build_one "$n" || status=1; done
exit $status
