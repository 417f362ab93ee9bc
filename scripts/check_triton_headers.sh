#!/usr/bin/env bash
# Compiles the AegisRT Triton backend (src/serving/triton/*.cpp) against
# NVIDIA's official Triton C API headers, warnings as errors. With
# AEGISRT_TRITON_OFFICIAL_HEADERS, src/serving/triton/triton_c_api.h takes the
# types from tritonbackend.h / tritonserver.h, static_asserts every enum value
# it declares against them, and its function declarations must match theirs
# exactly (a mismatch is a "conflicting declaration of C function" error).
# Nothing is linked: this checks our declarations, not a server.
#
#   scripts/check_triton_headers.sh <dir> [more dirs...]
#     <dir>: holds triton/core/tritonbackend.h (or include/triton/core/...), e.g. a
#            clone of https://github.com/triton-inference-server/core (branch r24.10
#            is Triton 2.51, the server 50-triton.sh installs). No registry ships
#            these headers, so they are fetched by hand and never committed.
#   env: CXX (default g++), AEGISRT_CHECK_CXXFLAGS (extra flags)
# Needs the project's C++ dependencies (nlohmann-json, spdlog, fmt, yaml-cpp headers).
# Exit status: 0 when every file compiles cleanly against every header set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CXX="${CXX:-g++}"
if [ $# -lt 1 ]; then
  echo "usage: $0 <triton-core-header-dir> [...]" >&2
  exit 2
fi
GEN="$(mktemp -d)"
trap 'rm -rf "$GEN"' EXIT
mkdir -p "$GEN/aegisrt"
sed -e 's/@PROJECT_VERSION@/0.0.0-check/' -e 's/@AEGISRT_HAVE_[A-Z_]*@/false/' -e 's/@[A-Za-z_]*VERSION@//' \
  "$ROOT/src/build_config.h.in" > "$GEN/aegisrt/build_config.h"
WARN=(-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
      -Wnull-dereference -Wimplicit-fallthrough -Werror)
read -r -a EXTRA <<< "${AEGISRT_CHECK_CXXFLAGS:-}"
shopt -s nullglob
SOURCES=("$ROOT"/src/serving/triton/*.cpp)
[ ${#SOURCES[@]} -gt 0 ] || { echo "error: no sources in src/serving/triton" >&2; exit 1; }
status=0
for dir in "$@"; do
  hdr="$dir"
  [ -f "$hdr/triton/core/tritonbackend.h" ] || hdr="$dir/include"
  if [ ! -f "$hdr/triton/core/tritonbackend.h" ]; then
    echo "error: no triton/core/tritonbackend.h under $dir" >&2
    status=1
    continue
  fi
  ver="$(sed -n 's/^#define TRITONBACKEND_API_VERSION_\(MAJOR\|MINOR\) \([0-9]*\)/\2/p' "$hdr/triton/core/tritonbackend.h" | paste -sd.)"
  for src in "${SOURCES[@]}"; do
    if "$CXX" -std=c++20 -fsyntax-only -DAEGISRT_TRITON_OFFICIAL_HEADERS "${WARN[@]}" "${EXTRA[@]}" \
         -I"$ROOT/include" -I"$ROOT/src" -I"$GEN" -isystem "$hdr" "$src"; then
      echo "ok: $(basename "$src") against $hdr (backend API $ver)"
    else
      echo "FAILED: $(basename "$src") against $hdr (backend API $ver)" >&2
      status=1
    fi
  done
done
exit $status
