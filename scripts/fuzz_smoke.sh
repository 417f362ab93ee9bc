#!/usr/bin/env bash
# Short libFuzzer smoke run over every file decoder (npy, npz, pb, sidecars,
# manifests, images): configures a
# clang build in build/fuzz (ASan + UBSan + libFuzzer, no backends, tests or
# tools: only the library code the decoders use), then runs each fuzz target
# for a fixed number of inputs (about 15 s each on an idle 2-core VM) from a
# fixed seed (AEGISRT_FUZZ_SMOKE_SEED, default 1) and an empty scratch corpus,
# so a commit's smoke run is the same on every machine and under any load.
# Explore more with another seed: AEGISRT_FUZZ_SMOKE_SEED=7 scripts/fuzz_smoke.sh.
# A finding (crash,
# sanitizer report, broken invariant, leak, RSS over 2 GiB) fails the script;
# libFuzzer leaves the input as build/fuzz/fuzz/crash-* to reproduce it:
#   build/fuzz/fuzz/npz_fuzzer build/fuzz/fuzz/crash-...
# Needs clang with libFuzzer (Debian clang; scripts/deps/00-apt.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${AEGISRT_JOBS:-$(nproc)}"
SEED="${AEGISRT_FUZZ_SMOKE_SEED:-1}"
CLANG_CXX="${AEGISRT_FUZZ_CXX:-clang++}"
CLANG_CC="${AEGISRT_FUZZ_CC:-clang}"
if ! command -v "$CLANG_CXX" >/dev/null; then
  echo "fuzz_smoke: $CLANG_CXX not found (install Debian clang)" >&2
  exit 1
fi
CC="$CLANG_CC" CXX="$CLANG_CXX" cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAEGISRT_BUILD_FUZZERS=ON -DAEGISRT_SANITIZE=address,undefined \
  -DAEGISRT_BUILD_TESTS=OFF -DAEGISRT_BUILD_BENCH=OFF -DAEGISRT_BUILD_TOOLS=OFF \
  -DAEGISRT_WITH_CUDA=OFF -DAEGISRT_WITH_ONNXRUNTIME=OFF -DAEGISRT_WITH_TVM=OFF -DAEGISRT_WITH_TENSORRT=OFF -DAEGISRT_WITH_OPENVINO=OFF \
  -DAEGISRT_FUZZ_SMOKE_SEED="$SEED" >/dev/null
cmake --build build/fuzz -j "$JOBS" --target npy_fuzzer npz_fuzzer pb_fuzzer sidecar_fuzzer manifest_fuzzer image_fuzzer
cmake --build build/fuzz -j 1 --target run_fuzz_smoke
echo "fuzz_smoke: every decoder ran its inputs (seed ${SEED}) without a finding"
