#!/usr/bin/env bash
# The README's main command: on a fresh Debian 12 machine, install what AegisRT
# needs (scripts/setup.sh: Debian packages + PyPI wheels), build the release
# CLI, generate the demonstration detector and demo images
# (python/gen_demo.py), run `aegisrt run` on the demo image with ONNX Runtime
# on CPU, and print where the annotated image and the JSON are.
#
#   scripts/demo.sh                 # everything
#   AEGISRT_SKIP_SETUP=1 scripts/demo.sh   # dependencies already installed
# Environment: AEGISRT_BUILD_DIR (default build/release), AEGISRT_DEMO_OUT
# (default out/demo), AEGISRT_DEMO_IMAGE (default the generated demo_shapes.png).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${AEGISRT_BUILD_DIR:-$ROOT/build/release}"
OUT="${AEGISRT_DEMO_OUT:-$ROOT/out/demo}"
PY="$ROOT/.venv/bin/python"

step() { printf '\n== demo: %s\n' "$*"; }

if [ "${AEGISRT_SKIP_SETUP:-0}" != "1" ]; then
  step "installing dependencies (scripts/setup.sh)"
  bash "$ROOT/scripts/setup.sh"
fi
if [ ! -x "$PY" ]; then
  echo "error: $PY is missing; run scripts/setup.sh (or unset AEGISRT_SKIP_SETUP)" >&2
  exit 1
fi

# The release preset (and a plain CMake configure) leaves warnings as warnings:
# AEGISRT_WERROR defaults to OFF; only the dev, nobackend, asan and tsan
# presets (CI) turn it on.
step "configuring and building the release CLI"
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache); fi
if [ -f "$ROOT/CMakePresets.json" ] && grep -q '"name": *"release"' "$ROOT/CMakePresets.json" &&
   [ -z "${AEGISRT_BUILD_DIR:-}" ]; then
  cmake --preset release -DAEGISRT_BUILD_TESTS=OFF -DAEGISRT_BUILD_BENCH=OFF \
    "${launcher[@]}" >/dev/null
  BUILD="$ROOT/build/release"  # the release preset's binaryDir
else
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DAEGISRT_BUILD_TESTS=OFF -DAEGISRT_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$BUILD" --target aegisrt_cli
AEGISRT="$BUILD/tools/aegisrt/aegisrt"
if [ ! -x "$AEGISRT" ]; then
  echo "error: the build did not produce $AEGISRT" >&2
  exit 1
fi
if ! "$AEGISRT" info --json | "$PY" -c 'import json,sys; b={x["name"]:x for x in json.load(sys.stdin)["backends"]}; sys.exit(0 if b["onnx"]["compiled_in"] else 1)'; then
  echo "error: ONNX Runtime was not found at configure time, so the default backend is missing." >&2
  echo "       Run scripts/setup.sh (it installs ONNX Runtime into third_party/onnxruntime) and retry." >&2
  exit 1
fi

step "generating the demonstration detector and demo images"
# demo.onnx goes where `aegisrt` looks for generated models (<build>/models/<model>/).
"$PY" "$ROOT/python/gen_demo.py" "$BUILD/models/yolo" --images-dir "$BUILD/demo"
IMAGE="${AEGISRT_DEMO_IMAGE:-$BUILD/demo/demo_shapes.png}"

step "aegisrt run --model yolo --variant demo --backend onnx --input $IMAGE --output $OUT"
"$AEGISRT" run --model yolo --variant demo --backend onnx --input "$IMAGE" --output "$OUT"

stem="$(basename "${IMAGE%.*}")"
cat <<EOF

Done. Results for $(basename "$IMAGE"):
  annotated image : $OUT/$stem.annotated.png
  detections JSON : $OUT/$stem.json
The detector is a demonstration model whose weights were constructed to find
the coloured shapes in the demo images (docs/PIPELINE.md). For real YOLO
weights: pip install ultralytics && yolo export model=yolov8n.pt format=onnx
then: $AEGISRT run --model yolo --variant v8n --onnx yolov8n.onnx --input your.jpg
More demo images: $BUILD/demo/ ; benchmark: $AEGISRT bench --model yolo --variant demo --input $BUILD/demo
EOF
