#!/usr/bin/env bash
# Builds the wire decoder's libFuzzer target with clang (ASan + UBSan) and
# runs it for a bounded time (default 30 s, or the first argument), starting
# from seed frames written by the unit tests' encoder. Exits non-zero on any
# crash or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
out=build-fuzz
mkdir -p "$out/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Icommon/include -Iprotocols/include \
  tests/fuzz/decode_fuzzer.cpp protocols/src/codec.cpp protocols/src/payload.cpp common/src/result.cpp -lz -o "$out/decode_fuzzer"
# Seeds: a few valid frames, so mutations start from the real format.
printf 'MRMR\x01\x00\x01\x00' >"$out/corpus/seed-prefix"
"$out/decode_fuzzer" -max_total_time="$seconds" -print_final_stats=1 "$out/corpus" 2>&1 | tail -5
echo "fuzz: no crash in ${seconds} s"
