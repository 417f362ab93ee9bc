#!/usr/bin/env bash
# Builds AegisRT with CUDA on the GPU machine and runs every GPU test and
# benchmark in one call. The GPU machine has CUDA, CMake, ninja and a compiler
# but no network, so the Debian packages we build against travel with the call
# (scripts/gpu/prepare.sh downloads them into .gpu/, which git ignores):
#   here:   scripts/gpu/prepare.sh
#   device: scripts/gpu/run_all.sh        (run with carry: [".gpu", "third_party"])
# Logs and result files go to $OUT (or out/gpu when OUT is unset).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/out/gpu}"
mkdir -p "$OUT"
DEPS=/tmp/aegis-deps
JOBS="$(nproc)"

echo "== environment"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
nvcc --version | tail -1; g++ --version | head -1; cmake --version | head -1
ldd --version | head -1

echo "== unpack carried Debian packages into $DEPS"
mkdir -p "$DEPS"
for f in .gpu/debs/*.deb; do dpkg-deb -x "$f" "$DEPS"; done
export CMAKE_PREFIX_PATH="$DEPS/usr:$DEPS/usr/lib/x86_64-linux-gnu/cmake"
export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== configure + build (CUDA on, sm_90)"
BUILD=build/gpu
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DAEGISRT_WITH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DAEGISRT_BUILD_BENCH=ON \
  -DSTB_INCLUDE_DIR="$DEPS/usr/include/stb" -DAEGISRT_WERROR=ON \
  -DCMAKE_CXX_FLAGS="-isystem $DEPS/usr/include" 2>&1 | tee "$OUT/configure.log" | tail -15
cmake --build "$BUILD" -j "$JOBS" 2>&1 | tee "$OUT/build.log" | tail -5

echo "== tests"
(cd "$BUILD" && ctest -j 8 --output-on-failure 2>&1 | tee "$OUT/ctest.log" | tail -40)
