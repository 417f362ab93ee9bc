#!/usr/bin/env bash
# OpenVINO for the C++ build, into third_party/openvino, from the pinned PyPI
# `openvino` wheel. The wheel ships the whole C++ SDK next to its Python module:
#   openvino/include/            C++ headers (openvino/openvino.hpp, ...)
#   openvino/cmake/              OpenVINOConfig.cmake (find_package(OpenVINO CONFIG))
#   openvino/libs/               libopenvino.so.<ver>, the ONNX frontend, the CPU
#                                (and GPU/NPU) plugins, oneTBB
# Only those three folders (and the licences) are unpacked; the wheel's Python
# parts are not needed. The wheel is fetched with `pip download` (no install:
# the project's .venv is not changed) for a fixed Python tag and platform, so the
# file, and therefore its SHA-256, is the same whatever Python runs this script.
# Layout (what cmake/AegisDependencies.cmake looks for):
#   third_party/openvino/openvino/{include,cmake,libs}
#   third_party/openvino/VERSION     openvino=<ver> / wheel_sha256=<sha>
# Idempotent: a matching VERSION file means nothing to do.
#
# Environment:
#   AEGISRT_THIRD_PARTY, AEGISRT_VENV  set by scripts/setup.sh
#   AEGISRT_OPENVINO_WHEEL  use this already downloaded wheel file (no network);
#                           its SHA-256 must still match the pin
#   AEGISRT_OPENVINO_DEST   install here instead of third_party/openvino
set -euo pipefail

OV_VERSION="2026.4.1"
OV_WHEEL="openvino-2026.4.1-22982-cp311-cp311-manylinux_2_28_x86_64.whl"
OV_WHEEL_SHA256="2d22b1da03f7caf74df30e9f6417d0ab2f637e4a38e08e1dcd294d2c37407aaf"
OV_SOVERSION="2641"  # libopenvino.so.<this>

ROOT="${AEGISRT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
THIRD_PARTY="${AEGISRT_THIRD_PARTY:-$ROOT/third_party}"
VENV="${AEGISRT_VENV:-$ROOT/.venv}"
DEST="${AEGISRT_OPENVINO_DEST:-$THIRD_PARTY/openvino}"

die() { echo "35-openvino: $*" >&2; exit 1; }

if [ "$(uname -m)" != "x86_64" ]; then
  echo "35-openvino: the pinned wheel is for x86_64; skipping on $(uname -m) (AEGISRT_WITH_OPENVINO=AUTO builds without it)"
  exit 0
fi

stamp_want="openvino=$OV_VERSION
wheel=$OV_WHEEL
wheel_sha256=$OV_WHEEL_SHA256"
if [ -f "$DEST/VERSION" ] && [ "$(cat "$DEST/VERSION")" = "$stamp_want" ] &&
   [ -f "$DEST/openvino/cmake/OpenVINOConfig.cmake" ] &&
   [ -f "$DEST/openvino/include/openvino/openvino.hpp" ]; then
  echo "openvino $OV_VERSION present in $DEST"
  exit 0
fi

PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

wheel="${AEGISRT_OPENVINO_WHEEL:-}"
if [ -z "$wheel" ]; then
  echo "downloading $OV_WHEEL from PyPI"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
      --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
      -d "$work/dl" "openvino==$OV_VERSION" ||
    die "pip download openvino==$OV_VERSION failed (no network? set AEGISRT_OPENVINO_WHEEL to a downloaded $OV_WHEEL)"
  wheel="$work/dl/$OV_WHEEL"
fi
[ -f "$wheel" ] || die "$wheel: no such wheel"
got="$(sha256sum "$wheel" | cut -d' ' -f1)"
[ "$got" = "$OV_WHEEL_SHA256" ] || die "$wheel: sha256 $got, expected $OV_WHEEL_SHA256 (pinned $OV_WHEEL)"

stage="$DEST.tmp.$$"
rm -rf "$stage"
mkdir -p "$stage" "$(dirname "$DEST")"
# A wheel is a zip; Python's zipfile unpacks it (no unzip needed). Only the SDK
# folders and the licences; file modes are kept so the libraries stay executable.
"$PY" - "$wheel" "$stage" <<'PYEOF' || { rm -rf "$stage"; die "cannot unpack $wheel"; }
import os, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
keep = ("openvino/include/", "openvino/cmake/", "openvino/libs/")
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not (name.startswith(keep) or (".dist-info/licenses/" in name and name.startswith("openvino-"))):
            continue
        if name.endswith("/") or ".." in name.split("/"):
            continue
        path = z.extract(info, dest)
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PYEOF
for f in openvino/cmake/OpenVINOConfig.cmake openvino/include/openvino/openvino.hpp \
         "openvino/libs/libopenvino.so.$OV_SOVERSION" "openvino/libs/libopenvino_onnx_frontend.so.$OV_SOVERSION" \
         openvino/libs/libopenvino_intel_cpu_plugin.so; do
  [ -e "$stage/$f" ] || { rm -rf "$stage"; die "$OV_WHEEL has no $f"; }
done
printf '%s\n' "$stamp_want" > "$stage/VERSION"
rm -rf "$DEST.old"
[ -e "$DEST" ] && mv "$DEST" "$DEST.old"
mv "$stage" "$DEST"
rm -rf "$DEST.old"
echo "openvino: $OV_VERSION (PyPI wheel) -> $DEST"
