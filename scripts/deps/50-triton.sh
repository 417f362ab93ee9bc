#!/usr/bin/env bash
# NVIDIA Triton Inference Server for `aegisrt serve` and the serving tests, from PyPI:
#  * nvidia-pytriton==0.7.0 ships a real `tritonserver` binary (Triton 2.51.0)
#    with its shared libraries (nvidia_pytriton.libs/); only the binary is used,
#    so the wheel goes in without its Python dependencies;
#  * tritonclient[http,grpc]==2.51.0, the HTTP and gRPC clients (tests, load
#    generator).
# Both go into their own virtual environment, third_party/triton/venv, so that
# their pins (numpy, protobuf, grpcio) never touch the project's .venv.
# Layout:
#   third_party/triton/venv/             python + tritonclient + the pytriton wheel
#   third_party/triton/bin/tritonserver  symlink to the wheel's binary
#   third_party/triton/lib               symlink to the wheel's nvidia_pytriton.libs
#   third_party/triton/PYTHON            the interpreter that has tritonclient
#   third_party/triton/VERSION           pins (read by cmake/AegisTriton.cmake)
# No registry ships the Triton C API headers: src/serving/triton/triton_c_api.h
# declares the subset the backend uses (docs/SERVING.md).
# Idempotent: a matching VERSION file and a binary that runs mean nothing to do.
#
# Environment:
#   AEGISRT_THIRD_PARTY   set by scripts/setup.sh
#   AEGISRT_PYTHON        the python3 that creates the venv (default python3)
set -euo pipefail

PYTRITON_VERSION=0.7.0
TRITONCLIENT_VERSION=2.51.0
TRITON_VERSION=2.51.0   # the server inside nvidia-pytriton 0.7.0

ROOT="${AEGISRT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
THIRD_PARTY="${AEGISRT_THIRD_PARTY:-$ROOT/third_party}"
mkdir -p "$THIRD_PARTY"
DEST="$(cd "$THIRD_PARTY" && pwd -P)/triton"  # physical path: the symlinks below stay valid
VENV="$DEST/venv"
PY_SYS="${AEGISRT_PYTHON:-python3}"

die() { echo "50-triton: $*" >&2; exit 1; }

stamp_want="pytriton=$PYTRITON_VERSION
tritonclient=$TRITONCLIENT_VERSION
triton=$TRITON_VERSION"

server_runs() {
  [ -x "$DEST/bin/tritonserver" ] && [ -d "$DEST/lib" ] || return 1
  # --help exits 1 after printing usage; only the dynamic link matters here.
  local usage
  usage="$(LD_LIBRARY_PATH="$DEST/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
           "$DEST/bin/tritonserver" --help 2>&1 || true)"
  case "$usage" in *--model-repository*) return 0 ;; *) return 1 ;; esac
}

if [ -f "$DEST/VERSION" ] && [ "$(cat "$DEST/VERSION")" = "$stamp_want" ] &&
   [ -x "$VENV/bin/python" ] && server_runs &&
   "$VENV/bin/python" -c 'import tritonclient.http, tritonclient.grpc' 2>/dev/null; then
  echo "triton $TRITON_VERSION (nvidia-pytriton $PYTRITON_VERSION) present in $DEST"
  exit 0
fi

mkdir -p "$DEST"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY_SYS" -m venv "$VENV" || die "cannot create $VENV (apt-get install python3-venv)"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
  "tritonclient[http,grpc]==$TRITONCLIENT_VERSION" ||
  die "pip install tritonclient[http,grpc]==$TRITONCLIENT_VERSION failed"
# Only the server binary and its libraries are wanted from pytriton: no deps.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
  "nvidia-pytriton==$PYTRITON_VERSION" ||
  die "pip install nvidia-pytriton==$PYTRITON_VERSION failed (the wheel is manylinux x86_64/aarch64 only)"

SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
BIN="$SITE/pytriton/tritonserver/bin/tritonserver"
LIBS="$SITE/nvidia_pytriton.libs"
[ -x "$BIN" ] || die "$BIN missing from the nvidia-pytriton wheel"
[ -d "$LIBS" ] || die "$LIBS missing from the nvidia-pytriton wheel"

mkdir -p "$DEST/bin"
ln -sfn "$BIN" "$DEST/bin/tritonserver"
ln -sfn "$LIBS" "$DEST/lib"
# The server's own backends folder (python, onnxruntime, ... as shipped), for reference.
if [ -d "$SITE/pytriton/tritonserver/backends" ]; then
  ln -sfn "$SITE/pytriton/tritonserver/backends" "$DEST/backends"
fi
printf '%s\n' "$VENV/bin/python" > "$DEST/PYTHON"
server_runs || die "$DEST/bin/tritonserver does not start (missing system libraries? see ldd)"
printf '%s\n' "$stamp_want" > "$DEST/VERSION"
echo "triton: tritonserver $TRITON_VERSION (nvidia-pytriton $PYTRITON_VERSION), tritonclient $TRITONCLIENT_VERSION -> $DEST"
