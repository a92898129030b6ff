#!/usr/bin/env bash
# Builds kubectl 1.20.2 from Debian's `kubernetes` source package (the tree the test control
# plane is built from, see test/env/build-control-plane.sh), once per machine, for the benchmark's
# shell-loop baselines only (`npm test` never needs it). Cached in $OFI_CACHE_DIR/bin/kubectl
# (default ~/.cache/openshift-finish-install). Skipped when KUBECTL_BIN names an executable.
# Prints the path of the kubectl binary on its last line.
set -euo pipefail

CACHE="${OFI_CACHE_DIR:-$HOME/.cache/openshift-finish-install}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

if [ -n "${KUBECTL_BIN:-}" ]; then
  [ -x "$KUBECTL_BIN" ] || { echo "KUBECTL_BIN=$KUBECTL_BIN is not executable" >&2; exit 1; }
  echo "kubectl: using KUBECTL_BIN" >&2
  echo "$KUBECTL_BIN"
  exit 0
fi

BUILD_STAMP="kubectl kubernetes-1.20.2"
if [ -x "$BIN/kubectl" ] && [ "$(cat "$BIN/.kubectl.stamp" 2>/dev/null)" = "$BUILD_STAMP" ]; then
  echo "$BIN/kubectl"
  exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
missing=()
for p in golang-go rsync jq ca-certificates; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

SRC_LIST=/etc/apt/sources.list.d/ofi-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee "$SRC_LIST" >/dev/null
  $SUDO apt-get update -qq
fi

start=$(date +%s)
echo "kubectl: building 1.20.2 from Debian's kubernetes source (first benchmark run on this machine, a few minutes)" >&2
WORK="$CACHE/kubectl-src"
rm -rf "$WORK"; mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get source --download-only kubernetes >/dev/null 2>&1 || apt-get source --download-only kubernetes >&2
ORIG=$(ls kubernetes_*.orig.tar.* | head -1)
tar xf "$ORIG"
TREE=$(find . -maxdepth 1 -mindepth 1 -type d | head -1)
cd "$TREE"

# kubectl does not serve custom resources, so the control plane's reflect2/json-iterator and
# validator patches are not needed; it builds with Debian's Go as it is.
export CGO_ENABLED=0 GOFLAGS=-mod=vendor GOTOOLCHAIN=local KUBE_BUILD_PLATFORMS=linux/amd64
make WHAT="cmd/kubectl" >"$CACHE/kubectl-build.log" 2>&1 || { tail -50 "$CACHE/kubectl-build.log" >&2; exit 1; }
OUT=_output/bin; [ -x "$OUT/kubectl" ] || OUT=_output/local/bin/linux/amd64
cp "$OUT/kubectl" "$BIN/.kubectl.new"; mv -f "$BIN/.kubectl.new" "$BIN/kubectl"
echo "$BUILD_STAMP" >"$BIN/.kubectl.stamp"
echo "kubectl: built in $(( $(date +%s) - start ))s into $BIN" >&2
echo "$BIN/kubectl"
