#!/usr/bin/env bash
# Configures and builds murmur (Release, ccache) into build/ or the folder given.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake arguments...]
# MURMUR_WERROR=1 makes warnings errors for this build only (the setting is
# passed on every call, so it never lingers in the folder's CMake cache).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
# ccache keys on paths relative to the checkout, so a fresh clone (CI) reuses
# what an earlier build of the same sources compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
werror=OFF
if [[ "${MURMUR_WERROR:-0}" == 1 ]]; then werror=ON; fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DMURMUR_WERROR="$werror" -DCMAKE_CXX_FLAGS= "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
