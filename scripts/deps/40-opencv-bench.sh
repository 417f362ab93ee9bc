#!/usr/bin/env bash
# OPTIONAL: Debian's OpenCV, used only by bench/vision to compare our CPU
# pre-processing with cv::resize + cv::dnn::blobFromImage. Never needed to
# build or run AegisRT. Runs only when AEGISRT_BENCH_OPENCV=1.
set -euo pipefail
if [ "${AEGISRT_BENCH_OPENCV:-0}" != "1" ]; then
  echo "OpenCV (benchmarks only): skipped (set AEGISRT_BENCH_OPENCV=1 to install)"
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt_lib.sh"
PKGS=(libopencv-dev)
apt_install_missing "OpenCV (benchmarks only)" "${PKGS[@]}"
