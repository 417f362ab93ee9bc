#!/usr/bin/env bash
# The GPU benchmark of issue 16 (item 5) in one device call of < 10 minutes:
# prints ONE markdown table (and writes it to $OUT/gpu_bench.md, raw outputs in
# $OUT/raw) comparing, on the same models (demo detector, a YOLOv8n-shaped
# export and ResNet-50 built here with random weights) and the same images:
# end-to-end images/s and p50/p99 of `aegisrt bench` (device path, CPU path)
# vs the Python pipeline (onnxruntime-gpu + OpenCV), the device path with
# ORT's CUDA graph replay (--backend-option cuda_graph=1), end-to-end / inference
# latency, the pre-processing kernel's share of the D2D copy bandwidth,
# 1/2/4 pipelines in flight, ORT overhead on the micro model, and time to
# first output with a warm cache for ResNet-50. Each row that fails prints its
# error and the run goes on (bench/gpu/gpu_bench.py does the work).
#
# Usage (on the GPU machine, after scripts/gpu/run_all.sh --build; run_all.sh
# --bench calls it with the environment set up):
#   bench/gpu/run_gpu_bench.sh [--build build/gpu] [--out DIR] [--iterations N] [--budget SECONDS]
# AEGISRT_BENCH_PYTHON: a Python with onnxruntime-gpu, OpenCV, torch/torchvision
# (and ultralytics for the YOLOv8n row); default: python3.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT_DIR="${OUT:-$HERE/../../out/gpu_bench}"
args=()
have_out=0
for a in "$@"; do [ "$a" = "--out" ] && have_out=1; args+=("$a"); done
[ "$have_out" = 1 ] || args+=(--out "$OUT_DIR")
exec python3 "$HERE/gpu_bench.py" --python "${AEGISRT_BENCH_PYTHON:-python3}" "${args[@]}"
