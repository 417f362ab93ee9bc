#!/usr/bin/env bash
# Builds AegisRT with CUDA on the GPU machine and runs every GPU test and
# benchmark in one call. The GPU machine has CUDA, CMake, ninja, g++ and
# Python 3.12 but no network, so scripts/gpu/prepare.sh (run here first)
# packs what it lacks into .gpu/parts/part.NN (git-ignored), each under the
# device tool's 64 MiB per-call limit:
#   device call k < last:  scripts/gpu/run_all.sh --collect   (carry .gpu/parts/part.NN)
#   device call last:      scripts/gpu/run_all.sh             (carry the last part, MANIFEST, SHA256)
# `run_all.sh --build` stops after building and `run_all.sh --test` only tests and
# benchmarks an existing build/gpu, to split the work over two calls of 10 minutes.
# `run_all.sh --bench` (after --build, machine still warm) runs bench/gpu/run_gpu_bench.sh
# (issue 16: one markdown table, $OUT/gpu_bench.md) in one call; `run_all.sh --tune`
# runs bench/gpu/tvm_tune_bench.py (TVM-CUDA MetaSchedule tuning on ResNet-50).
# A machine stays warm only ~30 s between calls, so send the calls back to back.
# Logs and results go to $OUT (device tool) or out/gpu.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
PARTS=/tmp/aegis-parts
mkdir -p "$PARTS"
cp .gpu/parts/part.* "$PARTS/" 2>/dev/null
if [ "${1:-}" = "--collect" ]; then ls -la "$PARTS"; exit 0; fi

OUT="${OUT:-$ROOT/out/gpu}"
mkdir -p "$OUT"
STAGE=/tmp/aegis-stage
DEPS=/tmp/aegis-deps
SITE=/tmp/aegis-site
JOBS="$(nproc)"
summary() { echo "$*" | tee -a "$OUT/summary.txt"; }

MODE="${1:-all}"
if [ "$MODE" = "--serve" ]; then
  # Serving on the GPU (issue 17): tritonserver (its own CUDA 12.6 runtime) with the
  # aegisrt backend (built with CUDA 13) in one process, cuda vs onnx (CPU), gRPC only.
  export CMAKE_PREFIX_PATH="$DEPS/usr" PYTHONPATH="$SITE" AEGISRT_PYTHON=/tmp/aegis-python
  export LD_LIBRARY_PATH="$(cat /tmp/aegis-ldpath)"
  [ -x /tmp/aegis-triton/bin/tritonserver ] || { echo "no tritonserver: run the build call with the Triton part first"; exit 2; }
  export AEGISRT_TRITON_DIR=/tmp/aegis-triton AEGISRT_TEST_PYTHON=/tmp/aegis-python
  : > "$OUT/summary.txt"
  for spec in "cuda 1" "cuda 4" "onnx 1"; do
    set -- $spec
    timeout 170 bench/serving/run_figures.sh --backend "$1" --instances "$2" --build build/gpu --protocols grpc \
      --requests 200 --threads 4 --out "$OUT/serve_$1_$2" > "$OUT/serve_$1_$2.log" 2>&1
    summary "serve $1 x$2: rc=$?"
    grep -E "^\| (image|frame|tensor)|^in-process (image|frame|tensor)" "$OUT/serve_$1_$2/figures.md" 2>/dev/null | tee -a "$OUT/summary.txt"
    tail -3 "$OUT/serve_$1_$2.log" >> "$OUT/summary.txt"
  done
  grep -m3 -iE "cuda|gpu" "$OUT/serve_cuda_1/serve.log" 2>/dev/null | tee -a "$OUT/summary.txt"
  tar -czf "$OUT/serve_logs.tgz" -C "$OUT" --exclude serve_logs.tgz . 2>/dev/null
  exit 0
fi
# The benchmark's Python (bench/gpu/run_gpu_bench.sh): the machine's python3 (numpy,
# torch) + onnxruntime-gpu (the cp312 package prepare.sh carries in ortgpu.tar.zst,
# unpacked to /tmp/ortgpu) + the bench-wheels (OpenCV, ultralytics) installed into
# /tmp/aegis-bench-site. Done in the build call, where the parts are joined.
setup_bench_python() {
  if [ -d "$STAGE/bench-wheels" ] && ls "$STAGE"/bench-wheels/*.whl > /dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/aegis-bench-site \
      "$STAGE"/bench-wheels/*.whl 2>&1 | tail -2
  fi
  cat > /tmp/aegis-bench-python <<PYEOF
#!/bin/sh
PYTHONPATH="/tmp/aegis-bench-site:/tmp/ortgpu\${PYTHONPATH:+:\$PYTHONPATH}" exec python3 "\$@"
PYEOF
  chmod +x /tmp/aegis-bench-python
  /tmp/aegis-bench-python -c "import onnxruntime as o, cv2; print('bench python: onnxruntime', o.__version__, o.get_available_providers(), 'opencv', cv2.__version__)" 2>&1 | tail -1 | tee -a "$OUT/summary.txt"
}
if [ "$MODE" = "--bench" ]; then
  export CMAKE_PREFIX_PATH="$DEPS/usr" PYTHONPATH="$SITE" AEGISRT_PYTHON=/tmp/aegis-python
  export LD_LIBRARY_PATH="$(cat /tmp/aegis-ldpath 2>/dev/null)"
  [ -x build/gpu/tools/aegisrt/aegisrt ] || { echo "no build/gpu: run run_all.sh --build first (same warm machine)"; exit 2; }
  [ -x /tmp/aegis-bench-python ] || setup_bench_python
  AEGISRT_BENCH_PYTHON=/tmp/aegis-bench-python OUT="$OUT" timeout 580 bench/gpu/run_gpu_bench.sh \
    --build build/gpu --out "$OUT" --budget 540
  rc=$?
  tar -czf "$OUT/gpu_bench_raw.tgz" -C "$OUT" raw 2>/dev/null
  exit $rc
fi
if [ "$MODE" = "--tune" ]; then
  # TVM-CUDA tuned vs untuned vs ORT CUDA on ResNet-50 (bench/gpu/tvm_tune_bench.py),
  # after --build on the same warm machine. AEGISRT_TUNE_SECONDS: the MetaSchedule budget.
  export CMAKE_PREFIX_PATH="$DEPS/usr" PYTHONPATH="$SITE" AEGISRT_PYTHON=/tmp/aegis-python
  export LD_LIBRARY_PATH="$(cat /tmp/aegis-ldpath 2>/dev/null)"
  [ -x build/gpu/tools/aegisrt/aegisrt ] || { echo "no build/gpu: run run_all.sh --build first (same warm machine)"; exit 2; }
  [ -x /tmp/aegis-bench-python ] || setup_bench_python
  timeout 590 python3 bench/gpu/tvm_tune_bench.py --build build/gpu --out "$OUT" \
    --seconds "${AEGISRT_TUNE_SECONDS:-240}" --python /tmp/aegis-bench-python
  rc=$?
  tar -czf "$OUT/tvm_tune_raw.tgz" -C "$OUT" --exclude '*.onnx' --exclude '*.so' tune_raw 2>/dev/null
  rm -rf "$OUT/tune_raw"
  exit $rc
fi
if [ "$MODE" = "--test" ]; then
  # Re-create the environment of the build call (same paths, machine still warm).
  export CMAKE_PREFIX_PATH="$DEPS/usr" PYTHONPATH="$SITE" AEGISRT_PYTHON=/tmp/aegis-python
  export LD_LIBRARY_PATH="$(cat /tmp/aegis-ldpath)"
  BUILD=build/gpu
  : > "$OUT/summary.txt"
else
echo "== environment" | tee "$OUT/summary.txt"
{ nvidia-smi --query-gpu=name,uuid,driver_version,memory.total --format=csv,noheader
  nvcc --version | tail -1; g++ --version | head -1; cmake --version | head -1; python3 --version; } 2>&1 | tee -a "$OUT/summary.txt"

echo "== join parts"
missing=0
while read -r p; do [ -f "$PARTS/$p" ] || { echo "missing $p"; missing=1; }; done < .gpu/parts/MANIFEST
[ "$missing" = 0 ] || { summary "parts missing: send every part with --collect first"; exit 2; }
have="$(cd "$PARTS" && cat $(cat "$ROOT/.gpu/parts/MANIFEST") | sha256sum | cut -d' ' -f1)"
[ "$have" = "$(cat .gpu/parts/SHA256)" ] || { summary "joined parts fail their checksum"; exit 2; }
rm -rf "$STAGE" && mkdir -p "$STAGE" && (cd "$PARTS" && cat $(cat "$ROOT/.gpu/parts/MANIFEST")) | tar -x -C "$STAGE"
# The commit prepare.sh packed these parts from (bench/gpu/gpu_bench.py reads the same file).
summary "source: $(tr '\n' ' ' < "$STAGE/SOURCE" 2>/dev/null || echo 'unknown (parts from a prepare.sh without SOURCE)')"

echo "== Debian packages -> $DEPS"
mkdir -p "$DEPS"
for f in "$STAGE"/debs/*.deb; do dpkg-deb -x "$f" "$DEPS"; done
# Debian 12's libz.so points at /lib/.../libz.so.1.2.13, absent on the GPU image:
# link the system's zlib instead, and drop libz.a so nothing links it into a .so.
rm -f "$DEPS/usr/lib/x86_64-linux-gnu/libz.a"
for z in /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1; do
  [ -e "$z" ] && { ln -sfn "$z" "$DEPS/usr/lib/x86_64-linux-gnu/libz.so"; break; }
done
export CMAKE_PREFIX_PATH="$DEPS/usr"
export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== TVM wheels (Python 3.12 here) -> $SITE"
python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" "$STAGE"/wheels/*.whl
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
TVM_ROOT=/tmp/aegis-tvm
mkdir -p "$TVM_ROOT/lib"
ln -sfn "$SITE/tvm_ffi/include" "$TVM_ROOT/include"
ln -sfn "$SITE/tvm_ffi/lib/libtvm_ffi.so" "$TVM_ROOT/lib/libtvm_ffi.so"
for l in libtvm_runtime.so libtvm_runtime_cuda.so libtvm_runtime_extra.so; do
  [ -e "$SITE/tvm/lib/$l" ] && ln -sfn "$SITE/tvm/lib/$l" "$TVM_ROOT/lib/$l"
done
printf 'tvm=%s\ntvm_ffi=%s\n' "$(sed -n 's/^apache-tvm==\([^ ]*\).*/\1/p' scripts/requirements.txt)" \
  "$(sed -n 's/^apache-tvm-ffi==\([^ ]*\).*/\1/p' scripts/requirements.txt)" > "$TVM_ROOT/VERSION"
cat > /tmp/aegis-python <<PYEOF
#!/bin/sh
PYTHONPATH="$SITE\${PYTHONPATH:+:\$PYTHONPATH}" exec python3 "\$@"
PYEOF
chmod +x /tmp/aegis-python
echo /tmp/aegis-python > "$TVM_ROOT/PYTHON"
export AEGISRT_PYTHON=/tmp/aegis-python
python3 -c "import tvm; print('tvm', tvm.__version__, 'cuda enabled:', tvm.cuda(0).exist)" 2>&1 | tail -1 | tee -a "$OUT/summary.txt"

NVJPEG_ARGS=(-DAEGISRT_WITH_NVJPEG=OFF)
if ls "$STAGE"/nvjpeg/nvidia_nvjpeg-*.whl > /dev/null 2>&1; then
  echo "== nvJPEG (nvidia-nvjpeg wheel) -> /tmp/aegis-nvjpeg"
  AEGISRT_ROOT="$ROOT" AEGISRT_NVJPEG_WHEEL="$(ls "$STAGE"/nvjpeg/nvidia_nvjpeg-*.whl | head -1)" \
    AEGISRT_NVJPEG_DEST=/tmp/aegis-nvjpeg bash scripts/deps/45-nvjpeg.sh 2>&1 | tail -2 | tee -a "$OUT/summary.txt"
  [ -f /tmp/aegis-nvjpeg/lib/libnvjpeg.so.13 ] && NVJPEG_ARGS=(-DAEGISRT_WITH_NVJPEG=ON -DNvJpeg_ROOT=/tmp/aegis-nvjpeg)
else
  summary "no nvJPEG wheel in the parts: building without GPU JPEG decode"
fi

ORT_ARGS=(-DAEGISRT_WITH_ONNXRUNTIME=OFF)
if [ -f "$STAGE/ortgpu.tar.zst" ]; then
  echo "== onnxruntime-gpu libraries"
  ZSTD="$(command -v zstd || echo "$ROOT/.gpu/bin/zstd")"  # prepare.sh carries Debian's zstd
  mkdir -p /tmp/ortgpu && "$ZSTD" -q -dc "$STAGE/ortgpu.tar.zst" | tar -x -C /tmp/ortgpu
  ORT=/tmp/aegis-ort-gpu
  mkdir -p "$ORT/lib" && cp -r "$STAGE/ort-headers/include" "$STAGE/ort-headers/VERSION" "$ORT/"
  AEGISRT_ROOT="$ROOT" AEGISRT_THIRD_PARTY=/tmp AEGISRT_VENV=/nonexistent \
    AEGISRT_ORT_CAPI_DIR=/tmp/ortgpu/onnxruntime/capi AEGISRT_ORT_HEADERS_FROM="$STAGE/ort-headers" \
    AEGISRT_ORT_DEST="$ORT" bash scripts/deps/20-onnxruntime.sh 2>&1 | tail -3
  # The CUDA provider needs CUDA 13's cuBLAS/cuFFT/cuRAND/cuDNN: take them from the
  # nvidia-* Python packages that ship with PyTorch here.
  NV="$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null)/nvidia"
  for d in "$NV"/*/lib "$NV"/cu13/lib; do [ -d "$d" ] && LD_LIBRARY_PATH="$d:$LD_LIBRARY_PATH"; done
  export LD_LIBRARY_PATH
  ldd "$ORT/lib/libonnxruntime_providers_cuda.so" | grep "not found" | tee -a "$OUT/summary.txt"
  setup_bench_python
  if [ -f "$ORT/lib/libonnxruntime_providers_cuda.so" ]; then
    ORT_ARGS=(-DAEGISRT_WITH_ONNXRUNTIME=ON -DONNXRuntime_ROOT="$ORT")
  else
    summary "onnxruntime-gpu could not be laid out: building without ONNX Runtime"
  fi
fi

TRITON_ARGS=(-DAEGISRT_WITH_TRITON=OFF)
if [ -f "$STAGE/triton.tar.zst" ]; then
  echo "== tritonserver (nvidia-pytriton wheel) + tritonclient gRPC for Python 3.12"
  ZSTD="$(command -v zstd || echo "$ROOT/.gpu/bin/zstd")"
  TRI=/tmp/aegis-triton
  rm -rf "$TRI" && mkdir -p "$TRI/bin" /tmp/aegis-tc-site
  "$ZSTD" -q -dc "$STAGE/triton.tar.zst" | tar -x -C "$TRI"
  ln -sfn "$TRI/pytriton/tritonserver/bin/tritonserver" "$TRI/bin/tritonserver"
  ln -sfn "$TRI/nvidia_pytriton.libs" "$TRI/lib"
  python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/aegis-tc-site \
    "$STAGE"/triton-wheels/*.whl
  cat > /tmp/aegis-tc-python <<PYEOF
#!/bin/sh
PYTHONPATH="/tmp/aegis-tc-site:$SITE\${PYTHONPATH:+:\$PYTHONPATH}" exec python3 "\$@"
PYEOF
  chmod +x /tmp/aegis-tc-python
  echo /tmp/aegis-tc-python > "$TRI/PYTHON"
  printf 'pytriton=0.7.0\ntritonclient=2.51.0\ntriton=%s\n' "$(cat "$STAGE/triton-wheels/TRITON_VERSION")" > "$TRI/VERSION"
  usage="$(LD_LIBRARY_PATH="$TRI/lib:$LD_LIBRARY_PATH" "$TRI/bin/tritonserver" --help 2>&1 || true)"  # --help exits 1
  case "$usage" in *--model-repository*) true ;; *) false ;; esac &&
    summary "tritonserver starts (its own libcudart $(ls "$TRI/lib" | grep -o 'libcudart[^ ]*' | head -1))" ||
    summary "tritonserver does not start here: $(LD_LIBRARY_PATH="$TRI/lib" ldd "$TRI/bin/tritonserver" | grep 'not found' | head -3 | tr '\n' ' ')"
  /tmp/aegis-tc-python -c "import tritonclient.grpc; print('tritonclient.grpc ok')" 2>&1 | tail -1 | tee -a "$OUT/summary.txt"
  TRITON_ARGS=(-DAEGISRT_WITH_TRITON=ON -DAEGISRT_TRITON_DIR="$TRI")
fi

echo "== configure + build (CUDA on, sm_90)"
BUILD=build/gpu
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DAEGISRT_WITH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DAEGISRT_WITH_TVM=ON -DTVM_ROOT="$TVM_ROOT" \
  "${ORT_ARGS[@]}" "${TRITON_ARGS[@]}" "${NVJPEG_ARGS[@]}" -DAEGISRT_BUILD_BENCH=ON -DAEGISRT_WERROR=OFF \
  -DSTB_INCLUDE_DIR="$DEPS/usr/include/stb" -DAEGISRT_TEST_PYTHON=/tmp/aegis-python \
  -DCMAKE_CXX_FLAGS="-isystem $DEPS/usr/include" > "$OUT/configure.log" 2>&1
grep -E "^--   (CUDA|NVJPEG|ONNX|TVM|TENSORRT|TRITON)|AegisRT io: .pb" "$OUT/configure.log" | tee -a "$OUT/summary.txt"
cmake --build "$BUILD" -j "$JOBS" > "$OUT/build.log" 2>&1
summary "build rc=$? warnings=$(grep -c 'warning:' "$OUT/build.log")"
tail -5 "$OUT/build.log"
echo "$LD_LIBRARY_PATH" > /tmp/aegis-ldpath
[ "$MODE" = "--build" ] && exit 0
fi

# The device tool brings back at most 8 files of $OUT (the first 8 by name): the
# logs go to /tmp/aegis-logs and come back as $OUT/logs.tgz (written after the
# tests and at the end, so a call that runs past its limit still returns the
# tests' logs), beside $OUT/summary.txt.
LOG=/tmp/aegis-logs
rm -rf "$LOG"
mkdir -p "$LOG"
snapshot() { tar -czf "$OUT/logs.tgz" -C "$LOG" . 2>/dev/null; }
echo "== all tests (GPU tests run now; CPU tests too)"
# The serving tests use tritonclient's HTTP client too, which has no Python 3.12
# wheel here: serving runs on the GPU through scripts/gpu/serve_gpu.sh (gRPC) instead.
(cd "$BUILD" && timeout 300 ctest -j 12 --timeout 200 -LE serving > "$LOG/ctest.log" 2>&1)
grep -E "tests passed|tests failed" "$LOG/ctest.log" | tee -a "$OUT/summary.txt"
# Every gtest binary must list its tests (ctest's PRE_TEST discovery drops a binary
# that cannot start, e.g. a missing shared library, without failing the run).
for t in $(find "$BUILD/tests" -type f -executable -name '*_test'); do
  "$t" --gtest_list_tests > /dev/null 2>&1 || summary "cannot list tests: $t ($("$t" --gtest_list_tests 2>&1 | head -2 | tr '\n' ' '))"
done
grep -E "\(Failed\)|\(SEGFAULT\)|\(Timeout\)|Exception" "$LOG/ctest.log" | head -30 | tee -a "$OUT/summary.txt"
# What the GPU-labelled tests did, case by case (passed vs skipped):
for t in tests/cuda/cuda_test tests/vision/vision_cuda_test \
         tests/backends/onnxruntime/onnxruntime_conformance_test tests/backends/onnxruntime/onnxruntime_cuda_test \
         tests/pipeline/pipeline_device_path_test tests/pipeline/pipeline_sam_test; do
  [ -x "$BUILD/$t" ] || continue
  timeout 200 "$BUILD/$t" > "$LOG/$(basename "$t").log" 2>&1
  summary "$(basename "$t"): $(grep -E '^\[  PASSED  \]' "$LOG/$(basename "$t").log") $(grep -E '^\[  SKIPPED \] [0-9]' "$LOG/$(basename "$t").log") $(grep -E '^\[  FAILED  \] [0-9]' "$LOG/$(basename "$t").log")"
done
# The CUDA-graph instances race (two pipelines, one ORT session, cuda_graph=1) failed
# 1 run in 3 on the H200 before the cuda layer relaxed its capture mode: repeat it.
if [ -x "$BUILD/tests/pipeline/pipeline_device_path_test" ]; then
  timeout 240 "$BUILD/tests/pipeline/pipeline_device_path_test" --gtest_filter='DevicePathGpu.CudaGraph*' \
    --gtest_repeat=15 > "$LOG/cuda_graph_repeat.log" 2>&1
  summary "cuda graph cases x15: rc=$? instances ok $(grep -c '^\[       OK \] DevicePathGpu.CudaGraphInstances' "$LOG/cuda_graph_repeat.log")/15, over-20-runs ok $(grep -c '^\[       OK \] DevicePathGpu.CudaGraphMatches' "$LOG/cuda_graph_repeat.log")/15"
  grep -m3 -E "CUDNN|Invalidated|capture" "$LOG/cuda_graph_repeat.log" | tee -a "$OUT/summary.txt"
fi
grep -h "max abs" "$LOG/vision_cuda_test.log" "$LOG/pipeline_device_path_test.log" 2>/dev/null | head -32 | tee -a "$OUT/summary.txt"

snapshot
echo "== benchmarks"
B="$BUILD/bench"
[ -x "$B/vision/bench_vision_cuda" ] && timeout 60 "$B/vision/bench_vision_cuda" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true > "$LOG/bench_vision_cuda.txt" 2>&1
[ -x "$B/tvm/bench_tvm_latency" ] && timeout 120 "$B/tvm/bench_tvm_latency" --benchmark_min_time=1 \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true > "$LOG/bench_tvm_latency.txt" 2>&1
[ -x "$B/tvm/bench_tvm_first_output" ] && timeout 90 "$B/tvm/bench_tvm_first_output" --device cuda > "$LOG/bench_tvm_first_output.txt" 2>&1
CLI="$BUILD/tools/aegisrt/aegisrt"
"$CLI" info > "$LOG/info.txt" 2>&1
DEMO="$BUILD/test_data/demo"
if [ -f "$STAGE/ortgpu.tar.zst" ]; then
  timeout 60 "$CLI" run --model yolo --variant demo --backend cuda --model-data "$DEMO" --input "$DEMO" --output "$LOG/demo_cuda" > "$LOG/run_cuda.txt" 2>&1
  timeout 60 "$CLI" bench --model yolo --variant demo --backend cuda --model-data "$DEMO" --input "$DEMO" --iterations 300 > "$LOG/bench_cuda.txt" 2>&1
  timeout 60 "$CLI" bench --model yolo --variant demo --backend onnx --model-data "$DEMO" --input "$DEMO" --iterations 100 > "$LOG/bench_cpu.txt" 2>&1
  # Several streams over one loaded model (issue 16 item 2): aggregate images/s.
  for n in 1 2 4 8; do
    timeout 60 "$CLI" bench --model yolo --variant demo --backend cuda --model-data "$DEMO" --input "$DEMO" \
      --iterations 400 --streams "$n" > "$LOG/bench_cuda_streams$n.txt" 2>&1
    summary "bench cuda --streams $n: $(grep -o 'throughput.*' "$LOG/bench_cuda_streams$n.txt")"
  done
  for n in 1 4; do
    timeout 60 "$CLI" bench --model yolo --variant demo --backend onnx --model-data "$DEMO" --input "$DEMO" \
      --iterations 200 --streams "$n" --backend-option intra_op_threads=4 > "$LOG/bench_cpu_streams$n.txt" 2>&1
    summary "bench onnx(cpu, 4 threads) --streams $n: $(grep -o 'throughput.*' "$LOG/bench_cpu_streams$n.txt")"
  done
fi
# Issue 11 §5: an fp32 selection on ORT-CUDA must be fp32 (TF32 off), within 1e-5 of float64.
if [ -f "$STAGE/ortgpu.tar.zst" ] || [ "$MODE" = "--test" ]; then
  timeout 300 python3 scripts/gpu/fp32_check.py "$CLI" /tmp/aegis-fp32 > "$LOG/fp32_check.txt" 2>&1
  summary "fp32 check (rc=$?): $(grep -E '^(fp32|tf32):' "$LOG/fp32_check.txt" | tr '\n' ' ')"
fi
# Issue 11 §4: the TVM test binary alone, inside its 200 s timeout.
if [ -x "$BUILD/tests/backends/tvm/tvm_backend_test" ]; then
  start=$(date +%s)
  # The MetaSchedule tuning cases (1-2.5 min each, llvm only, run by ctest above and
  # in CI) are left out: this is the 200 s check of everything else.
  timeout 200 "$BUILD/tests/backends/tvm/tvm_backend_test" --gtest_filter='-TvmTune.*:TvmCli.BuildTune*' > "$LOG/tvm_alone.log" 2>&1
  summary "tvm_backend_test alone: rc=$? in $(( $(date +%s) - start )) s; $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$LOG/tvm_alone.log" | tr '\n' ' ')"
fi
grep -E "us_per_launch|BM_" "$LOG/bench_vision_cuda.txt" 2>/dev/null | head -12 | tee -a "$OUT/summary.txt"
snapshot
echo "== summary"; cat "$OUT/summary.txt"
