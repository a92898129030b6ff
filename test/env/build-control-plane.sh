#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager 1.20.2 from Debian's `kubernetes`
# source package and installs etcd from Debian, once per machine. Binaries are cached
# outside the repo in $OFI_CACHE_DIR (default ~/.cache/openshift-finish-install).
# Skipped entirely when KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN
# point at existing binaries.
set -euo pipefail

CACHE="${OFI_CACHE_DIR:-$HOME/.cache/openshift-finish-install}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

have() { [ -n "${1:-}" ] && [ -x "$1" ]; }

if have "${KUBE_APISERVER_BIN:-}" && have "${KUBE_CONTROLLER_MANAGER_BIN:-}" && have "${ETCD_BIN:-}"; then
  echo "control plane: using binaries from the environment"
  exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
apt_updated=""
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if ! have "${ETCD_BIN:-}" && ! command -v etcd >/dev/null 2>&1; then
  echo "control plane: installing etcd-server from Debian"
  apt_install etcd-server
  # the package starts a system etcd on 2379; the tests start their own on free ports
  $SUDO systemctl disable --now etcd >/dev/null 2>&1 || $SUDO service etcd stop >/dev/null 2>&1 || true
fi

# Bump when the build or its patches change, so that cached binaries get rebuilt.
BUILD_STAMP="kubernetes-1.20.2 patches=2"
if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && [ "$(cat "$BIN/.stamp" 2>/dev/null)" = "$BUILD_STAMP" ]; then
  echo "control plane: cached binaries in $BIN"
  exit 0
fi

start=$(date +%s)
echo "control plane: building kube-apiserver and kube-controller-manager 1.20.2 (first run on this machine, about 5-10 minutes)"
apt_install golang-go rsync jq ca-certificates golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev

SRC_LIST=/etc/apt/sources.list.d/ofi-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee "$SRC_LIST" >/dev/null
  $SUDO apt-get update -qq
fi

WORK="$CACHE/src"
rm -rf "$WORK"; mkdir -p "$WORK"
cd "$WORK"
apt-get source --download-only kubernetes >/dev/null 2>&1 || apt-get source --download-only kubernetes
ORIG=$(ls kubernetes_*.orig.tar.* | head -1)
tar xf "$ORIG"
TREE=$(find . -maxdepth 1 -mindepth 1 -type d | head -1)
cd "$TREE"

# Patch 1: reflect2 1.0.1 crashes under Go >= 1.18; use Debian's 1.0.2 and json-iterator 1.1.12.
GOCODE=/usr/share/gocode/src/github.com
rm -rf vendor/github.com/modern-go/reflect2 vendor/github.com/json-iterator/go
mkdir -p vendor/github.com/modern-go vendor/github.com/json-iterator
cp -rL "$GOCODE/modern-go/reflect2" vendor/github.com/modern-go/reflect2
cp -rL "$GOCODE/json-iterator/go" vendor/github.com/json-iterator/go
find vendor/github.com/modern-go/reflect2 vendor/github.com/json-iterator/go -name '*_test.go' -delete
sed -i 's#^\(github.com/modern-go/reflect2\) v1.0.1#\1 v1.0.2#; s#^\(github.com/json-iterator/go\) v1\.1\.[0-9]*#\1 v1.1.12#' vendor/modules.txt
sed -i 's#\(github.com/modern-go/reflect2\) v1.0.1$#\1 v1.0.2#; s#\(github.com/json-iterator/go\) v1\.1\.[0-9]*$#\1 v1.1.12#' go.mod

# Patch 2: under Go >= 1.19 the zero-value check
#   if data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data)) {
# treats "" (and 0, false) as null; for JSON data it means nil.
patched2=0
for f in vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go vendor/github.com/go-openapi/validate/type.go; do
  [ -f "$f" ] || continue
  sed -i -E 's#reflect\.DeepEqual\(reflect\.Zero\(reflect\.TypeOf\(data\)\)(\.Interface\(\))?, *reflect\.ValueOf\(data\)(\.Interface\(\))?\)#data == nil#' "$f"
  if grep -n 'reflect.DeepEqual(reflect.Zero' "$f" >&2; then echo "patch 2 did not apply to $f" >&2; exit 1; fi
  patched2=$((patched2 + 1))
done
[ "$patched2" -gt 0 ] || { echo "patch 2: no validator type.go found" >&2; exit 1; }

export CGO_ENABLED=0 GOFLAGS=-mod=vendor GOTOOLCHAIN=local KUBE_BUILD_PLATFORMS=linux/amd64
make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$CACHE/build.log" 2>&1 || { tail -50 "$CACHE/build.log" >&2; exit 1; }
OUT=_output/bin; [ -x "$OUT/kube-apiserver" ] || OUT=_output/local/bin/linux/amd64
# copy, then rename: a running binary (a test in progress) cannot be overwritten in place
for b in kube-apiserver kube-controller-manager; do cp "$OUT/$b" "$BIN/.$b.new"; mv -f "$BIN/.$b.new" "$BIN/$b"; done
echo "$BUILD_STAMP" >"$BIN/.stamp"
cd "$CACHE"; rm -rf "$WORK"
echo "control plane: built in $(( $(date +%s) - start ))s into $BIN"
