#!/usr/bin/env bash
# OpenVINO vs ONNX Runtime on this machine's CPU (docs/PERFORMANCE.md "OpenVINO"):
# generates the ResNet-50- and ViT-S/16-shaped models (gen_bench_models.py) and
# the demo detector (python/gen_demo.py) if absent, then runs bench_openvino
# for latency (one run, interleaved) and for OpenVINO's cold vs warm first output.
#   bench/openvino/run_bench.sh [BUILD_DIR (default build/release)] [THREADS (default 2)]
# Results: <build>/bench_openvino/{latency,first_output}.json
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build/release}"
THREADS="${2:-2}"
PY="${AEGISRT_PYTHON:-$ROOT/.venv/bin/python}"
BIN="$BUILD/bench/openvino/bench_openvino"
OUT="$BUILD/bench_openvino"
[ -x "$BIN" ] || { echo "run_bench.sh: $BIN missing (cmake --build $BUILD --target bench_openvino)" >&2; exit 1; }
mkdir -p "$OUT"
[ -f "$OUT/resnet50.onnx" ] && [ -f "$OUT/vit_s16.onnx" ] || "$PY" "$ROOT/bench/openvino/gen_bench_models.py" "$OUT"
[ -f "$OUT/demo/demo.onnx" ] || "$PY" "$ROOT/python/gen_demo.py" "$OUT/demo" >/dev/null
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" --threads "$THREADS" --model "$OUT/demo/demo.onnx" --model "$OUT/resnet50.onnx" --model "$OUT/vit_s16.onnx" \
       --json "$OUT/latency.json"
"$BIN" --threads "$THREADS" --first-output --trials 3 \
       --model "$OUT/demo/demo.onnx" --model "$OUT/resnet50.onnx" --model "$OUT/vit_s16.onnx" \
       --json "$OUT/first_output.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
