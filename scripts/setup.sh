#!/usr/bin/env bash
# Installs the Debian packages murmur needs, only those that are missing.
# Idempotent: a second run installs nothing and prints nothing but a summary.
# Usage: scripts/setup.sh [--with-bench]   (--with-bench adds PyTorch and matplotlib)
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config git clang-format clang libclang-rt-14-dev
  libcaf-dev libdnnl-dev libtbb-dev libzmq3-dev cppzmq-dev
  libtomlplusplus-dev catch2 libcli11-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev zlib1g-dev libeigen3-dev dataset-fashion-mnist
  libpmix-dev openmpi-bin libopenmpi-dev slurm-wlm munge iproute2 python3-zmq
  python3-numpy python3-torch python3-matplotlib
)
# The tests need NumPy (the transcriptions of the authors' updates), PyTorch
# (the 8-bit references) and matplotlib (murmur report's plot, which the
# fault tests draw); the benchmarks add OpenBLAS for the PyTorch baselines.
if [[ "${1:-}" == "--with-bench" ]]; then
  packages+=(libopenblas0-openmp)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
