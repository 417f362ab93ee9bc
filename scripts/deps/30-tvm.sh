#!/usr/bin/env bash
# Apache TVM from PyPI: the apache-tvm and apache-tvm-ffi wheels (pinned in
# scripts/requirements.txt, installed into .venv by 10-python.sh) provide the
# runtime libraries, tvm-ffi's headers (with dlpack) and the Python compiler.
# This lays out third_party/tvm as symlinks into the venv:
#   include/  -> tvm_ffi/include           (tvm/ffi/*.h, dlpack/dlpack.h)
#   lib/      libtvm_ffi.so libtvm_runtime.so libtvm_runtime_cuda.so libtvm_runtime_extra.so
#   VERSION   tvm=<ver> / tvm_ffi=<ver>    (read by cmake/FindTVM.cmake)
#   PYTHON    the interpreter that compiles ONNX models (python/aegisrt_tvm_build.py)
# Idempotent; re-run after upgrading the wheels.
set -euo pipefail
VENV="${AEGISRT_VENV:?}"
DEST="${AEGISRT_THIRD_PARTY:?}/tvm"
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
  echo "30-tvm: $PY missing (run scripts/deps/10-python.sh first)" >&2
  exit 1
fi
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
FFI="$SITE/tvm_ffi"
TVM="$SITE/tvm"
for f in "$FFI/include/tvm/ffi/function.h" "$FFI/include/dlpack/dlpack.h" "$FFI/lib/libtvm_ffi.so" \
         "$TVM/lib/libtvm_runtime.so"; do
  if [ ! -e "$f" ]; then
    echo "30-tvm: $f not found: are apache-tvm / apache-tvm-ffi installed in $VENV?" >&2
    exit 1
  fi
done
versions="$("$PY" - <<'PYEOF'
from importlib.metadata import version
print("tvm=" + version("apache-tvm"))
print("tvm_ffi=" + version("apache-tvm-ffi"))
PYEOF
)"
mkdir -p "$DEST/lib"
ln -sfn "$FFI/include" "$DEST/include"
ln -sfn "$FFI/lib/libtvm_ffi.so" "$DEST/lib/libtvm_ffi.so"
for l in libtvm_runtime.so libtvm_runtime_cuda.so libtvm_runtime_extra.so; do
  if [ -e "$TVM/lib/$l" ]; then ln -sfn "$TVM/lib/$l" "$DEST/lib/$l"; fi
done
printf '%s\n' "$versions" > "$DEST/VERSION"
printf '%s\n' "$PY" > "$DEST/PYTHON"
echo "TVM laid out in $DEST ($(echo $versions | tr '\n' ' '))"
