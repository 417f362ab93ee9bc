#!/usr/bin/env bash
# Debian packages: compilers' companions and the libraries we build against.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/apt_lib.sh"
PKGS=(cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
      libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libstb-dev
      libturbojpeg0-dev libpng-dev libssl-dev
      libicu-dev  # Unicode for the BPE and WordPiece tokenizers (src/text)
      libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg  # video (src/media); ffmpeg CLI: tests
      libgtest-dev libgmock-dev libbenchmark-dev python3-venv zstd xz-utils binutils ccache)
if [ -n "${AEGISRT_EXTRA_APT:-}" ]; then PKGS+=(${AEGISRT_EXTRA_APT}); fi
apt_install_missing "apt" "${PKGS[@]}"
