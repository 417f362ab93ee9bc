#!/usr/bin/env bash
# Debian packages: compilers' companions and the libraries we build against.
set -euo pipefail
PKGS=(cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
      libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libstb-dev
      libgtest-dev libgmock-dev libbenchmark-dev python3-venv zstd xz-utils binutils ccache)
if [ -n "${AEGISRT_EXTRA_APT:-}" ]; then PKGS+=(${AEGISRT_EXTRA_APT}); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "apt packages present"
fi
