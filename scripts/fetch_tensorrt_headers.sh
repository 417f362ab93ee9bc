#!/usr/bin/env bash
# Exports NVIDIA's public TensorRT headers (include/ of github.com/NVIDIA/TensorRT)
# for one or more release tags from a local git directory (a bare mirror or a
# clone) into third_party/tensorrt-headers/<tag>/include, which git ignores.
# The headers are only used to compile-check our TensorRT sources
# (scripts/check_tensorrt_headers.sh); nothing is committed.
#
#   scripts/fetch_tensorrt_headers.sh <git-dir> [tag ...]     # default tags: v10.16 v11.1
#   e.g. scripts/fetch_tensorrt_headers.sh <path-to-a-TensorRT-git-clone> v10.16 v11.1
#
# Without a local copy: git clone --bare https://github.com/NVIDIA/TensorRT <dir> first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 <git-dir of NVIDIA/TensorRT> [tag ...]" >&2
  exit 2
fi
GIT_DIR_ARG="$1"
shift
TAGS=("$@")
[ ${#TAGS[@]} -gt 0 ] || TAGS=(v10.16 v11.1)
OUT_BASE="${AEGISRT_TENSORRT_HEADERS_DIR:-$ROOT/third_party/tensorrt-headers}"

if ! git --git-dir="$GIT_DIR_ARG" rev-parse --git-dir >/dev/null 2>&1; then
  # Maybe a work-tree clone was given.
  if [ -d "$GIT_DIR_ARG/.git" ]; then
    GIT_DIR_ARG="$GIT_DIR_ARG/.git"
  else
    echo "error: '$GIT_DIR_ARG' is not a git directory" >&2
    exit 1
  fi
fi

for tag in "${TAGS[@]}"; do
  if ! git --git-dir="$GIT_DIR_ARG" rev-parse --verify -q "$tag^{commit}" >/dev/null; then
    echo "error: tag '$tag' not found in $GIT_DIR_ARG" >&2
    exit 1
  fi
  dest="$OUT_BASE/$tag"
  rm -rf "$dest.part"
  mkdir -p "$dest.part"
  git --git-dir="$GIT_DIR_ARG" archive --format=tar "$tag" include/ | tar -x -C "$dest.part"
  [ -f "$dest.part/include/NvInfer.h" ] || { echo "error: $tag has no include/NvInfer.h" >&2; exit 1; }
  rm -rf "$dest"
  mv "$dest.part" "$dest"
  commit="$(git --git-dir="$GIT_DIR_ARG" rev-parse "$tag^{commit}")"
  echo "$tag $commit" > "$dest/SOURCE"
  echo "exported $tag ($commit) -> $dest/include"
done
