#!/usr/bin/env bash
# Installs what is missing, builds, and runs every check murmur has:
#   1. the format check (clang-format, .clang-format at the root),
#   2. the release build (warnings are errors) and its full ctest suite, which
#      includes, as root, the cluster tests with real components: mpirun,
#      a one-node Slurm the test starts and stops (munge, slurmctld, slurmd),
#      four network namespaces, and a hostile peer (tests/cluster/),
#   3. an AddressSanitizer + UndefinedBehaviorSanitizer build and its ctest suite,
#   4. a ThreadSanitizer build of the actor tests and two short runs (one
#      process, and two over tcp), against Debian's CAF and libzmq sources
#      rebuilt with TSan (scripts/tsan.sh),
#   5. the wire decoder's libFuzzer target, for 30 seconds (scripts/fuzz.sh).
# Usage: scripts/test.sh            (all of it)
#        MURMUR_SKIP_SANITIZE=1 scripts/test.sh   (no sanitizer build, for quick local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== format check"
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror
echo "format: clean"

echo "== release build and tests"
MURMUR_WERROR=1 scripts/build.sh build
(cd build && ctest --output-on-failure -j "$(nproc)")

if [[ "${MURMUR_SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "== sanitizer build (ASan + UBSan) and tests"
  MURMUR_WERROR=1 scripts/build.sh build-asan -DMURMUR_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  # oneDNN's JIT and the OpenMP runtime allocate memory they keep for the
  # process's life: leak checking would report those, not murmur's own leaks.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$(nproc)")
  echo "== ThreadSanitizer build: actor tests and end-to-end runs"
  scripts/tsan.sh
fi

echo "== fuzzing the wire decoder (libFuzzer, 30 s)"
scripts/fuzz.sh 30
