#!/usr/bin/env bash
# OPTIONAL: Debian's OpenCV, used only by bench/vision to compare our CPU
# pre-processing with cv::resize + cv::dnn::blobFromImage. Never needed to
# build or run AegisRT. Runs only when AEGISRT_BENCH_OPENCV=1.
set -euo pipefail
if [ "${AEGISRT_BENCH_OPENCV:-0}" != "1" ]; then
  echo "OpenCV (benchmarks only): skipped (set AEGISRT_BENCH_OPENCV=1 to install)"
  exit 0
fi
PKGS=(libopencv-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing (benchmarks only): ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "OpenCV for benchmarks present"
fi
