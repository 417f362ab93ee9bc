#!/usr/bin/env bash
# The project's Python environment (.venv): pinned wheels from PyPI, used to
# generate test models, to compile TVM libraries and as the Python baseline.
set -euo pipefail
VENV="${AEGISRT_VENV:?}"
REQ="${AEGISRT_ROOT:?}/scripts/requirements.txt"
PY="${AEGISRT_PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r "$REQ"
  echo "$want" > "$stamp"
else
  echo "python venv up to date"
fi
