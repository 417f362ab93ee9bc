#!/usr/bin/env bash
# Run HERE (not on the GPU machine): gathers what the GPU machine cannot
# download (it has no network) into .gpu/ (git-ignored), split into parts that
# fit the device tool's 64 MiB per-call transfer:
#   - Debian packages we build against (yaml-cpp, spdlog, fmt, CLI11, json, stb, gtest, benchmark,
#     libjpeg-turbo's TurboJPEG, libpng + zlib, libzip; libonnx + protobuf for .pb TensorProto
#     files, the same packages scripts/deps/25-io.sh installs here: without them the GPU
#     build has no .pb support)
#   - apache-tvm + apache-tvm-ffi wheels for the GPU machine's Python 3.12 (TVM compiler + runtime),
#     with cloudpickle + psutil (MetaSchedule's worker pool, aegisrt build --tune); pins from
#     scripts/requirements.txt
#   - ONNX Runtime headers (third_party/onnxruntime/include) and the onnxruntime-gpu
#     1.31.1 cp312 wheel's package (CUDA execution provider libraries + Python module), zstd-compressed
#   - bench-wheels: opencv-python-headless, ultralytics + thop for bench/gpu/run_gpu_bench.sh
#   - nvjpeg: the pinned nvidia-nvjpeg wheel (CUDA 13, ~4 MB) that scripts/deps/45-nvjpeg.sh
#     unpacks (GPU JPEG decode on the device path; the GPU machine's CUDA has no nvJPEG)
#   - SOURCE: the commit this tree was prepared from (commit=, dirty= count of
#     uncommitted tracked files, prepared= UTC time), also written to .gpu/SOURCE;
#     bench/gpu/gpu_bench.py prints it in its header (the GPU machine's copy of the
#     tree has a stale .git, so its `git rev-parse HEAD` names the wrong commit).
#     Re-run prepare.sh after committing, or pass AEGISRT_SOURCE_COMMIT=<id> on the
#     device call, else the header names the tree of the last prepare.
# Then each part travels in its own device call (scripts/gpu/run_all.sh --collect)
# and the last call runs scripts/gpu/run_all.sh, which joins them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
G=.gpu
PY="$ROOT/.venv/bin/python"
rm -rf "$G/stage" "$G/parts"
mkdir -p "$G/bin" && cp "$(command -v zstd)" "$G/bin/"  # the GPU machine has no zstd
mkdir -p "$G/stage/debs" "$G/stage/wheels" "$G/stage/ort-headers" "$G/stage/nvjpeg" "$G/parts" "$G/cache"
(cd "$G/stage/debs" && apt-get download -qq libyaml-cpp-dev libyaml-cpp0.7 libspdlog-dev libspdlog1.10 \
   libfmt-dev libfmt9 nlohmann-json3-dev libcli11-dev libstb-dev libstb0 libgtest-dev libgmock-dev \
   googletest libbenchmark-dev libbenchmark1debian libzip-dev libzip4 \
   libturbojpeg0-dev libturbojpeg0 libpng-dev libpng16-16 zlib1g-dev zlib1g \
   libonnx-dev libonnx1 libonnxifi libprotobuf-dev libprotobuf32 libprotobuf-lite32 \
   protobuf-compiler libprotoc32 libicu-dev libicu72 2>/dev/null)
# ONNX's CMake package (ONNXTargets.cmake) checks that every file it lists
# exists, so libonnx-dev travels with libonnx1 and libonnxifi; protoc comes
# along so that FindProtobuf sees a compiler of the same version as the library.
# ICU (src/text tokenizers): Debian's 72 travels, headers and library together.
for pkg in libonnx-dev libonnx1 libonnxifi libprotobuf-dev libprotobuf32 libicu-dev libicu72; do
  ls "$G/stage/debs/${pkg}_"*.deb >/dev/null 2>&1 || { echo "error: apt-get download $pkg failed" >&2; exit 1; }
done
PLAT=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${PLAT[@]}" \
  -d "$G/stage/wheels" $(grep -E '^(apache-tvm|apache-tvm-ffi|cloudpickle|psutil)==' scripts/requirements.txt | cut -d' ' -f1)
cp -r third_party/onnxruntime/include third_party/onnxruntime/VERSION "$G/stage/ort-headers/"
# nvJPEG: the wheel 45-nvjpeg.sh pins (its version and sha256 are checked there, on the GPU machine).
nvj="$(sed -n 's/^NVJPEG_VERSION=\([0-9.]*\).*/\1/p' scripts/deps/45-nvjpeg.sh)"
"$PY" -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.12 \
  -d "$G/stage/nvjpeg" "nvidia-nvjpeg==$nvj"
if [ "${AEGISRT_GPU_WITH_ORT_GPU:-1}" = "1" ]; then
  # The cp312 wheel, whole: its onnxruntime/capi libraries are what the C++ build links
  # (run_all.sh lays them out with scripts/deps/20-onnxruntime.sh), and the same package
  # is the Python onnxruntime-gpu of bench/gpu/run_gpu_bench.sh's baseline (PYTHONPATH).
  if [ ! -f "$G/cache/ortgpu-cp312.tar.zst" ]; then
    tmp="$(mktemp -d)"
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${PLAT[@]}" \
      -d "$tmp" onnxruntime-gpu==1.31.1
    (cd "$tmp" && unzip -q -o ./*.whl 'onnxruntime/*' 'onnxruntime_gpu-*.dist-info/*' &&
     tar -cf - onnxruntime onnxruntime_gpu-*.dist-info | zstd -q -T0 -15 --long=27 -o "$ROOT/$G/cache/ortgpu-cp312.tar.zst")
    rm -rf "$tmp"
  fi
  cp "$G/cache/ortgpu-cp312.tar.zst" "$G/stage/ortgpu.tar.zst"
fi
# The GPU benchmark's Python side (bench/gpu/run_gpu_bench.sh, issue 16): OpenCV as
# pinned in scripts/requirements.txt (abi3 wheel) for the python_baseline.py rows, and
# ultralytics (+ thop, no other deps: pinned as in scripts/requirements-golden.txt) to
# build the YOLOv8n-shaped export on the device; numpy and torch are the machine's own.
if [ "${AEGISRT_GPU_WITH_BENCH:-1}" = "1" ]; then
  mkdir -p "$G/stage/bench-wheels"
  cv="$(sed -n 's/^opencv-python-headless==//p' scripts/requirements.txt)"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${PLAT[@]}" \
    -d "$G/stage/bench-wheels" "opencv-python-headless==$cv"
  ul="$("$PY" -c 'import importlib.metadata as m; print(m.version("ultralytics"))' 2>/dev/null || true)"
  thop="$(sed -n 's/^ultralytics-thop==//p' scripts/requirements-golden.txt)"
  if [ -n "$ul" ]; then
    "$PY" -m pip download -q --no-deps --only-binary=:all: -d "$G/stage/bench-wheels" \
      "ultralytics==$ul" "ultralytics-thop==$thop" ||
      echo "warning: ultralytics wheels not fetched: the YOLOv8n row will be skipped on the GPU" >&2
  fi
fi
# Triton (issue 17, serving on the GPU): the tritonserver binary + its libraries
# from the installed nvidia-pytriton wheel (third_party/triton, scripts/deps/50-triton.sh),
# and tritonclient's gRPC client for the GPU machine's Python 3.12 (its HTTP client
# needs geventhttpclient<=2.0.2, which has no 3.12 wheel; numpy is the machine's own).
if [ "${AEGISRT_GPU_WITH_TRITON:-1}" = "1" ] && [ -x third_party/triton/bin/tritonserver ]; then
  if [ ! -f "$G/cache/triton.tar.zst" ]; then
    (cd "$(readlink -f third_party/triton/lib)/.." &&
     tar -chf - pytriton/tritonserver/bin nvidia_pytriton.libs | zstd -q -T0 -19 --long=27 -o "$ROOT/$G/cache/triton.tar.zst")
  fi
  cp "$G/cache/triton.tar.zst" "$G/stage/"
  mkdir -p "$G/stage/triton-wheels"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${PLAT[@]}" \
    --platform manylinux1_x86_64 -d "$G/stage/triton-wheels" tritonclient==2.51.0 python-rapidjson==1.25 \
    urllib3==2.8.0 grpcio==1.85.3 protobuf==4.25.9 packaging==26.4
  sed -n 's/^triton=//p' third_party/triton/VERSION > "$G/stage/triton-wheels/TRITON_VERSION"
fi
{
  echo "commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
  echo "prepared=$(date -u '+%Y-%m-%d %H:%M UTC')"
} > "$G/stage/SOURCE"
cp "$G/stage/SOURCE" "$G/SOURCE"
# Fixed order: what every run needs comes first, the large optional ORT GPU libraries
# and the Triton server last.
(cd "$G/stage" && tar -cf - SOURCE debs wheels ort-headers nvjpeg $(ls -d ortgpu.tar.zst bench-wheels triton.tar.zst triton-wheels 2>/dev/null)) |
  split -b "${AEGISRT_GPU_PART_MB:-40}M" -d -a 2 - "$G/parts/part."  # + the working tree (~18 MB tracked): under 64 MiB a call
(cd "$G/parts" && ls part.* > MANIFEST && cat part.* | sha256sum | cut -d' ' -f1 > SHA256)
ls -la "$G/parts"
echo "prepared $(wc -l < $G/parts/MANIFEST) part(s); send each with run_all.sh --collect, the last with run_all.sh"
