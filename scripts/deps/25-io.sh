#!/usr/bin/env bash
# Tensor-file I/O (src/io): libzip for .npz; ONNX's protobuf library
# (libonnx-dev 1.12 ships onnx-ml.pb.h + libonnx_proto) and protobuf for .pb
# TensorProto files. Debian packages only; idempotent.
set -euo pipefail
PKGS=(libzip-dev libonnx-dev libprotobuf-dev protobuf-compiler)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "io packages present"
fi
# The io tests write bfloat16 files with ml_dtypes (a dependency of onnx,
# already in the venv through scripts/requirements.txt).
if [ -x "${AEGISRT_VENV:-}/bin/python" ]; then
  "${AEGISRT_VENV}/bin/python" -c "import ml_dtypes, numpy, onnx" \
    || echo "warning: the venv lacks ml_dtypes/numpy/onnx; io tests that need numpy files will skip"
fi
