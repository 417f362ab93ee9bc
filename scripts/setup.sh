#!/usr/bin/env bash
# Installs everything AegisRT needs on a fresh Debian 12 machine, from Debian's
# packages and PyPI only. Idempotent: a second run only checks.
#   scripts/setup.sh            # all dependencies
# Each scripts/deps/NN-*.sh installs one dependency group; they run in order.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AEGISRT_ROOT="$ROOT"
export AEGISRT_THIRD_PARTY="$ROOT/third_party"
export AEGISRT_VENV="$ROOT/.venv"
mkdir -p "$AEGISRT_THIRD_PARTY"
for step in "$ROOT"/scripts/deps/[0-9]*.sh; do
  echo "== setup: $(basename "$step")"
  bash "$step"
done
echo "== setup: done"
