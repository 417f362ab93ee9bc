#!/usr/bin/env bash
# Tensor-file I/O (tools/lib/io, the aegisrt_tools library): libzip for .npz; ONNX's protobuf library
# (libonnx-dev 1.12 ships onnx-ml.pb.h + libonnx_proto) and protobuf for .pb
# TensorProto files. Debian packages only; idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/apt_lib.sh"
PKGS=(libzip-dev libonnx-dev libprotobuf-dev protobuf-compiler)
apt_install_missing "io" "${PKGS[@]}"
# The io tests write bfloat16 files with ml_dtypes (a dependency of onnx,
# already in the venv through scripts/requirements.txt).
if [ -x "${AEGISRT_VENV:-}/bin/python" ]; then
  "${AEGISRT_VENV}/bin/python" -c "import ml_dtypes, numpy, onnx" \
    || echo "warning: the venv lacks ml_dtypes/numpy/onnx; io tests that need numpy files will skip"
fi
