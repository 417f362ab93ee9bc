#!/usr/bin/env bash
# OPTIONAL: PyTorch + Ultralytics + transformers (+ rtmlib) for python/gen_golden_models.py,
# python/gen_golden_depth.py, python/gen_golden_zoedepth.py, python/gen_golden_rtmpose.py and python/gen_golden_sam.py (segment-anything), which regenerate tests/data/golden (tiny YOLO
# seg/pose and depth exports and the reference outputs). Never needed to build, test or run AegisRT: the golden tests use
# the committed files. Runs only when AEGISRT_GOLDEN_GENERATOR=1. PyPI only.
set -euo pipefail
if [ "${AEGISRT_GOLDEN_GENERATOR:-0}" != "1" ]; then
  echo "golden generator (torch, ultralytics, transformers): skipped (set AEGISRT_GOLDEN_GENERATOR=1 to install)"
  exit 0
fi
ROOT="${AEGISRT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
VENV="${AEGISRT_VENV:-$ROOT/.venv}"
"$VENV/bin/python" -m pip install -q -r "$ROOT/scripts/requirements-golden.txt"
"$VENV/bin/python" -m pip install -q --no-deps ultralytics==8.4.190
# rtmlib (RTMPose's published pre/post-processing, the reference of
# gen_golden_rtmpose.py); --no-deps: numpy, onnxruntime, opencv and tqdm are
# already in the venv, and its opencv-contrib-python would be a second OpenCV.
"$VENV/bin/python" -m pip install -q --no-deps rtmlib==0.0.16
"$VENV/bin/python" -c "import torch, ultralytics, transformers, rtmlib, segment_anything; print('golden generator: torch', torch.__version__, 'ultralytics', ultralytics.__version__, 'transformers', transformers.__version__)"
