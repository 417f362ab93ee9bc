#!/usr/bin/env bash
# ONNX Runtime for the C++ build, into third_party/onnxruntime/{include,lib}:
#  * the shared library from the pinned PyPI `onnxruntime` wheel in .venv
#    (scripts/requirements.txt pins it; 10-python.sh installs it);
#  * the C/C++ headers from Debian trixie's `libonnxruntime-dev` .deb, downloaded
#    with a private apt configuration (nothing is installed and the system's apt
#    sources are not changed) and unpacked with dpkg-deb.
# The headers may be older than the library: the C API is backward compatible
# (a library serves every ORT_API_VERSION up to its own).
# Idempotent: a matching VERSION file means nothing to do.
#
# Environment:
#   AEGISRT_THIRD_PARTY, AEGISRT_VENV  set by scripts/setup.sh
#   AEGISRT_ORT_CAPI_DIR   take the library from this onnxruntime/capi folder
#                          instead of .venv (e.g. an onnxruntime-gpu install);
#                          every libonnxruntime*.so* there is copied, so the
#                          CUDA/TensorRT provider libraries come along.
#   AEGISRT_ORT_DEST       install here instead of third_party/onnxruntime
#   AEGISRT_DEBIAN_MIRROR  Debian mirror URI; default: the one the system's apt uses
#   AEGISRT_ORT_HEADERS_FROM  an existing install (<dir>/include + VERSION) whose
#                          pinned headers are reused instead of downloading them
#                          (for machines without network, e.g. the GPU machine).
# Headers already in DEST at the pinned version are reused too, so swapping in
# another wheel's library needs no network.
set -euo pipefail

ORT_DEB_PACKAGE=libonnxruntime-dev
ORT_DEB_VERSION="1.21.0+dfsg-1"
ORT_DEB_SHA256="14f7d959d5deacbcf1504830d4189f91fc67382b399ed9ae9d3aa9c4050ced08"
ORT_DEB_SUITE=trixie
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

ROOT="${AEGISRT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
THIRD_PARTY="${AEGISRT_THIRD_PARTY:-$ROOT/third_party}"
VENV="${AEGISRT_VENV:-$ROOT/.venv}"
DEST="${AEGISRT_ORT_DEST:-$THIRD_PARTY/onnxruntime}"

die() { echo "20-onnxruntime: $*" >&2; exit 1; }

# --- the library: from the wheel ------------------------------------------------
capi="${AEGISRT_ORT_CAPI_DIR:-}"
if [ -z "$capi" ]; then
  capi="$(ls -d "$VENV"/lib/python3*/site-packages/onnxruntime/capi 2>/dev/null | head -n1 || true)"
fi
[ -n "$capi" ] && [ -d "$capi" ] ||
  die "no onnxruntime wheel found in $VENV (run scripts/deps/10-python.sh) or set AEGISRT_ORT_CAPI_DIR"
lib_file="$(cd "$capi" && ls libonnxruntime.so.[0-9]*.[0-9]*.[0-9]* 2>/dev/null | head -n1 || true)"
[ -n "$lib_file" ] || die "no libonnxruntime.so.<x.y.z> in $capi"
LIB_VERSION="${lib_file#libonnxruntime.so.}"
LIB_SHA256="$(sha256sum "$capi/$lib_file" | cut -d' ' -f1)"
# Where the pinned wheel is known, its version must match the pin.
pinned="$(sed -n 's/^onnxruntime\(-gpu\)\?==\([0-9.]*\).*/\2/p' "$ROOT/scripts/requirements.txt" 2>/dev/null | head -n1)"
if [ -z "${AEGISRT_ORT_CAPI_DIR:-}" ] && [ -n "$pinned" ] && [ "$pinned" != "$LIB_VERSION" ]; then
  die "wheel library is $LIB_VERSION but scripts/requirements.txt pins onnxruntime==$pinned (rerun 10-python.sh)"
fi

stamp_want="library=$LIB_VERSION
library_sha256=$LIB_SHA256
headers=$ORT_DEB_VERSION
headers_sha256=$ORT_DEB_SHA256"
if [ -f "$DEST/VERSION" ] && [ "$(cat "$DEST/VERSION")" = "$stamp_want" ] &&
   [ -f "$DEST/include/onnxruntime_cxx_api.h" ] && [ -e "$DEST/lib/libonnxruntime.so" ]; then
  echo "onnxruntime $LIB_VERSION (headers $ORT_DEB_VERSION) present in $DEST"
  exit 0
fi

# --- the headers: reused if pinned ones are at hand, else from the Debian .deb ----
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
hdr=""
for have in "${AEGISRT_ORT_HEADERS_FROM:-}" "$DEST"; do
  [ -n "$have" ] && [ -f "$have/VERSION" ] && [ -f "$have/include/onnxruntime_cxx_api.h" ] || continue
  if grep -qx "headers=$ORT_DEB_VERSION" "$have/VERSION" &&
     grep -qx "headers_sha256=$ORT_DEB_SHA256" "$have/VERSION"; then
    mkdir -p "$work/have"
    cp -a "$have/include/." "$work/have/"
    hdr="$work/have"
    echo "reusing onnxruntime headers $ORT_DEB_VERSION from $have"
    break
  fi
done
if [ -z "$hdr" ]; then
  mirror="${AEGISRT_DEBIAN_MIRROR:-}"
  if [ -z "$mirror" ]; then
    # The first plain Debian archive URI the system's apt already uses
    # (one-line .list entries or deb822 .sources files).
    mirror="$( { cat /etc/apt/sources.list 2>/dev/null || true
                 cat /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
               sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\/\?\)[[:space:]].*/\2/p' |
               head -n1)"
  fi
  if [ -z "$mirror" ]; then
    mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
              sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\/\?\)\([[:space:]].*\)\?$/\1/p' | head -n1)"
  fi
  [ -n "$mirror" ] || die "cannot find a Debian mirror in /etc/apt; set AEGISRT_DEBIAN_MIRROR"
  [ -f "$DEBIAN_KEYRING" ] || die "$DEBIAN_KEYRING missing (apt-get install debian-archive-keyring)"

  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
  echo "deb [signed-by=$DEBIAN_KEYRING] $mirror $ORT_DEB_SUITE main" > "$work/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
            -o "Dir::State::status=/dev/null" -o "Debug::NoLocking=1")
  # Private, throw-away directories: no need for apt's unprivileged download user.
  [ "$(id -u)" -eq 0 ] && APT_OPTS+=(-o "APT::Sandbox::User=root")
  echo "fetching $ORT_DEB_PACKAGE=$ORT_DEB_VERSION ($ORT_DEB_SUITE) index"
  apt-get "${APT_OPTS[@]}" -qq update >/dev/null ||
    die "apt-get update of the private $ORT_DEB_SUITE index failed"
  (cd "$work/dl" && apt-get "${APT_OPTS[@]}" -qq download "$ORT_DEB_PACKAGE=$ORT_DEB_VERSION") ||
    die "cannot download $ORT_DEB_PACKAGE=$ORT_DEB_VERSION from $ORT_DEB_SUITE (version gone from the archive? update the pin)"
  deb="$(ls "$work"/dl/*.deb | head -n1)"
  got="$(sha256sum "$deb" | cut -d' ' -f1)"
  [ "$got" = "$ORT_DEB_SHA256" ] || die "$deb: sha256 $got, expected $ORT_DEB_SHA256"
  dpkg-deb -x "$deb" "$work/x"
  hdr="$work/x/usr/include/onnxruntime"
  [ -f "$hdr/onnxruntime_cxx_api.h" ] || die "$deb has no onnxruntime_cxx_api.h"
fi

# --- assemble atomically ------------------------------------------------------------
stage="$DEST.tmp.$$"
rm -rf "$stage"
mkdir -p "$stage/include" "$stage/lib" "$(dirname "$DEST")"
cp -a "$hdr/." "$stage/include/"
for f in "$capi"/libonnxruntime*.so*; do
  cp -L "$f" "$stage/lib/"
done
ln -sf "$lib_file" "$stage/lib/libonnxruntime.so"
ln -sf "$lib_file" "$stage/lib/libonnxruntime.so.${LIB_VERSION%%.*}"
printf '%s\n' "$stamp_want" > "$stage/VERSION"
rm -rf "$DEST.old"
[ -e "$DEST" ] && mv "$DEST" "$DEST.old"
mv "$stage" "$DEST"
rm -rf "$DEST.old"
echo "onnxruntime: library $LIB_VERSION (PyPI wheel), headers $ORT_DEB_VERSION (Debian $ORT_DEB_SUITE) -> $DEST"
