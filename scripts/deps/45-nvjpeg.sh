#!/usr/bin/env bash
# NVIDIA nvJPEG (GPU JPEG decode on the device path, issue 16) from PyPI: the
# `nvidia-nvjpeg` wheel for CUDA 13 ships nvidia/cu13/include/nvjpeg.h and
# nvidia/cu13/lib/libnvjpeg.so.13 (the CUDA toolkit's own nvjpeg is not part of
# every install). Downloaded with pip (no install into any environment), checked
# against its pinned sha256 and unpacked into third_party/nvjpeg:
#   third_party/nvjpeg/include/nvjpeg.h
#   third_party/nvjpeg/lib/libnvjpeg.so.13 (+ libnvjpeg.so -> it, for the linker)
#   third_party/nvjpeg/VERSION             (read by cmake/FindNvJpeg.cmake)
# CMake finds it when CUDA is on (AEGISRT_WITH_NVJPEG=AUTO). Without a GPU the
# library still links (it loads the driver lazily); decoding needs a GPU.
# Idempotent: a matching VERSION file means nothing to do.
#
# Environment:
#   AEGISRT_THIRD_PARTY, AEGISRT_VENV  set by scripts/setup.sh
#   AEGISRT_NVJPEG_WHEEL   use this wheel file instead of downloading it
#                          (machines without network: scripts/gpu/run_all.sh)
#   AEGISRT_NVJPEG_DEST    install here instead of third_party/nvjpeg
set -euo pipefail

NVJPEG_VERSION=13.0.2.28   # CUDA 13.0 (the toolkit scripts/deps and the GPU machine use)
NVJPEG_WHEEL=nvidia_nvjpeg-13.0.2.28-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
NVJPEG_SHA256=5d7080cfcd8d1eefb0d7fd1086011c8aa09e9c66c4e1fe69a87321a51acce556

ROOT="${AEGISRT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
THIRD_PARTY="${AEGISRT_THIRD_PARTY:-$ROOT/third_party}"
VENV="${AEGISRT_VENV:-$ROOT/.venv}"
DEST="${AEGISRT_NVJPEG_DEST:-$THIRD_PARTY/nvjpeg}"

die() { echo "45-nvjpeg: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || { echo "45-nvjpeg: only the x86_64 wheel is pinned; skipped on $(uname -m)"; exit 0; }

stamp_want="nvidia-nvjpeg=$NVJPEG_VERSION
sha256=$NVJPEG_SHA256"
if [ -f "$DEST/VERSION" ] && [ "$(cat "$DEST/VERSION")" = "$stamp_want" ] &&
   [ -f "$DEST/include/nvjpeg.h" ] && [ -f "$DEST/lib/libnvjpeg.so.13" ]; then
  echo "45-nvjpeg: nvJPEG $NVJPEG_VERSION already in $DEST"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
wheel="${AEGISRT_NVJPEG_WHEEL:-}"
if [ -z "$wheel" ]; then
  PY="$VENV/bin/python"
  [ -x "$PY" ] || PY=python3
  "$PY" -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    --python-version 3.12 -d "$tmp" "nvidia-nvjpeg==$NVJPEG_VERSION" ||
    die "pip download nvidia-nvjpeg==$NVJPEG_VERSION failed"
  wheel="$tmp/$NVJPEG_WHEEL"
fi
[ -f "$wheel" ] || die "wheel $wheel not found"
have="$(sha256sum "$wheel" | cut -d' ' -f1)"
[ "$have" = "$NVJPEG_SHA256" ] || die "$(basename "$wheel"): sha256 $have, expected $NVJPEG_SHA256"

members=(nvidia/cu13/include/nvjpeg.h nvidia/cu13/lib/libnvjpeg.so.13)
if command -v unzip > /dev/null; then
  (cd "$tmp" && unzip -q -o "$wheel" "${members[@]}")
else  # e.g. the GPU machine: Python's zipfile
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], sys.argv[3:])' \
    "$wheel" "$tmp" "${members[@]}"
fi || die "$(basename "$wheel") lacks ${members[*]}"
rm -rf "$DEST"
mkdir -p "$DEST/include" "$DEST/lib"
cp "$tmp/nvidia/cu13/include/nvjpeg.h" "$DEST/include/"
cp "$tmp/nvidia/cu13/lib/libnvjpeg.so.13" "$DEST/lib/"
ln -sfn libnvjpeg.so.13 "$DEST/lib/libnvjpeg.so"
printf '%s\n' "$stamp_want" > "$DEST/VERSION"
echo "45-nvjpeg: nvJPEG $NVJPEG_VERSION -> $DEST"
