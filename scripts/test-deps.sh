#!/usr/bin/env bash
# What the tests need from Debian, installed when missing (npm test runs this first, so a new
# user's `npm test` and CI's `.ci/run` set up the same machine). Needs root for apt-get; prints
# what is missing and fails otherwise. No test is ever skipped for a missing dependency.
#
# docker-registry: the real registry (CNCF Distribution 2.8.2); skopeo: pushes test images and is
# the peer puller; umoci: unpacks test layouts; apache2-utils: htpasswd; openssl: the token
# server's certificate; bsdutils: `script`, the pseudo-terminal the progress-bar test draws on;
# chromium: the browser the web UI tests drive with playwright-core (test/web/); zstd: makes the
# zstd layers the unpack tests (test/unpack/) decode; python3: reads xattrs (os.listxattr) in
# the umoci conformance test; attr: setfattr/getfattr for the xattr tests; util-linux: runuser,
# how the tests act as another local user (nobody); curl: that user's HTTP client; perl (Essential
# on Debian, so always there): what kimg unpack makes lsetxattr/mknodat calls with; podman and
# containerd (ctr): what `kimg export`'s archives must load into (test/export/).
set -euo pipefail
apt_pkgs=(docker-registry skopeo umoci apache2-utils openssl bsdutils chromium zstd python3 attr util-linux curl perl-base podman containerd)
apt_bins=(docker-registry skopeo umoci htpasswd openssl script chromium zstd python3 setfattr runuser curl perl podman ctr containerd)
missing=()
for b in "${apt_bins[@]}"; do
  command -v "$b" >/dev/null 2>&1 || missing+=("$b")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "test dependencies: all present (${apt_bins[*]})"
  exit 0
fi
echo "test dependencies: missing ${missing[*]}; installing ${apt_pkgs[*]} with apt-get"
if [ "$(id -u)" -ne 0 ]; then
  echo "FATAL: installing needs root: run as root, or: sudo apt-get install ${apt_pkgs[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
  echo "FATAL: apt-get update failed; the tests cannot run" >&2
  exit 1
fi
if ! apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null; then
  echo "FATAL: apt-get install ${apt_pkgs[*]} failed; the tests cannot run" >&2
  exit 1
fi
for b in "${apt_bins[@]}"; do
  command -v "$b" >/dev/null 2>&1 || { echo "FATAL: $b still missing after apt-get install" >&2; exit 1; }
done
