#!/usr/bin/env bash
# Builds the wire decoder's libFuzzer target with clang (ASan + UBSan, the
# CMake target murmur_decode_fuzzer) and runs it for a bounded time (default
# 30 s, or the first argument), starting from a valid sealed frame of every
# payload encoding (murmur_fuzz_seeds). Exits non-zero on any crash or
# sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
out=build-fuzz
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1  # hits across clones (scripts/build.sh)
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DMURMUR_FUZZ=ON \
  -DMURMUR_BUILD_TESTS=OFF >/dev/null
cmake --build "$out" -j "$(nproc)" --target murmur_decode_fuzzer murmur_fuzz_seeds
mkdir -p "$out/corpus"
"$out/tests/fuzz/murmur_fuzz_seeds" "$out/corpus"
"$out/tests/fuzz/murmur_decode_fuzzer" -max_total_time="$seconds" -print_final_stats=1 "$out/corpus" 2>&1 | tail -5
echo "fuzz: no crash in ${seconds} s"
