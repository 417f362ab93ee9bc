#!/usr/bin/env bash
# The README's test command: installs every dependency (Debian + PyPI), then
# builds and runs the test suite in three configurations: the `dev` preset
# (Debug, warnings as errors, every backend found; all tests), the `nobackend`
# preset (the same without CUDA, ONNX Runtime, TVM and TensorRT; the unit
# tests, so "builds and passes without any backend" is checked on every run)
# and the `asan` preset (AddressSanitizer + UndefinedBehaviorSanitizer; all tests).
#   scripts/test.sh            # everything
#   AEGISRT_SKIP_NOBACKEND=1 AEGISRT_SKIP_ASAN=1 scripts/test.sh   # dev preset only (quicker local loop)
#   AEGISRT_SKIP_FUZZ=1 scripts/test.sh   # without the libFuzzer smoke (scripts/fuzz_smoke.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${AEGISRT_JOBS:-$(nproc)}"

bash scripts/setup.sh

echo "== dev preset: configure, build, test"
cmake --preset dev
cmake --build --preset dev -j "$JOBS"
ctest --preset dev -j "$JOBS"

if [ "${AEGISRT_SKIP_NOBACKEND:-0}" != "1" ]; then
  echo "== nobackend preset (no CUDA, ONNX Runtime, TVM or TensorRT): configure, build, unit tests"
  cmake --preset nobackend
  cmake --build --preset nobackend -j "$JOBS"
  ctest --preset nobackend -j "$JOBS"  # the test preset selects label 'unit'
fi

if [ "${AEGISRT_SKIP_ASAN:-0}" != "1" ]; then
  echo "== asan preset (ASan + UBSan): configure, build, test"
  cmake --preset asan
  cmake --build --preset asan -j "$JOBS"
  ctest --preset asan -j "$JOBS"
fi
# ---- libFuzzer smoke over every file decoder (issue 12 §10) -------------------
# clang + ASan/UBSan build in build/fuzz; npy, npz, pb, sidecar and manifest
# targets, a fixed seed and input count each (deterministic). AEGISRT_SKIP_FUZZ=1 skips.
if [ "${AEGISRT_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== libFuzzer smoke (clang, ASan + UBSan): every file decoder"
  bash scripts/fuzz_smoke.sh
fi
# ---- end of the libFuzzer smoke ----------------------------------------------
echo "== all tests passed"
