#!/usr/bin/env bash
# ThreadSanitizer run of the actor tests and of two short `murmur run`s, not
# yet part of the test command (see the issue-9 note). Debian's CAF and
# libzmq are built without TSan, so their hand-offs would all be reported:
# this script builds Debian's own sources of both (apt-get source, bookworm)
# with -fsanitize=thread into build-tsan-deps/ (once; about 3 min on 2 cores),
# murmur with MURMUR_TSAN against them into build-tsan/, and runs:
#   - the actor tests (deterministic coordinator, router, transport, monitor)
#   - 4 MLP agents, 30 rounds, 2 processes over tcp with duplicates and delays
#   - the same in one process (inproc)
# Exits non-zero on any report. oneDNN is not rebuilt: its primitive cache's
# lock, taken when two agents build primitives at once, is reported from
# inside the uninstrumented libdnnl, and only frames in libdnnl are suppressed
# (tests/tsan.supp).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
deps="$root/build-tsan-deps"
mkdir -p "$deps"

apt_dir="$deps/apt"
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt_dir" -o Dir::State::Lists="$apt_dir/lists")
apt_ready=0
fetch() {  # fetch PACKAGE: its Debian source, unpacked in $deps
  if [[ $apt_ready == 0 ]]; then  # one deb-src list and one update for both packages
    mkdir -p "$apt_dir/lists"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      >"$apt_dir/src.sources"
    apt-get "${apt_opts[@]}" update -qq
    apt_ready=1
  fi
  # The upstream tarball is all the build needs (CAF's Debian tarball may be
  # missing from the mirror, which makes apt-get source fail after fetching it).
  (cd "$deps" && apt-get "${apt_opts[@]}" source --download-only "$1" >/dev/null 2>&1) || true
  local orig
  orig=$(ls "$deps"/"$1"_*.orig.tar.gz 2>/dev/null | head -1)
  if [[ -z "$orig" ]]; then
    echo "tsan: could not download the Debian source of $1 (apt-get source $1)" >&2
    exit 1
  fi
  tar xzf "$orig" -C "$deps"
}

caf_lib="$deps/actor-framework-0.17.6/build/lib/libcaf_core.so"
if [[ ! -f "$caf_lib" ]]; then
  fetch actor-framework
  # libcaf_core only: murmur links nothing else, and libcaf_io needs Debian's
  # patches to build with GCC 12.
  cmake -S "$deps/actor-framework-0.17.6" -B "$deps/actor-framework-0.17.6/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_OPENSSL=yes \
    -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes >/dev/null
  cmake --build "$deps/actor-framework-0.17.6/build" -j "$(nproc)" --target libcaf_core_shared >/dev/null
fi
zmq_dir="$deps/libzmq-4.3.4/build/lib"
if [[ ! -f "$zmq_dir/libzmq.so.5" ]]; then
  fetch zeromq3
  cmake -S "$deps/libzmq-4.3.4" -B "$deps/libzmq-4.3.4/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS="-fsanitize=thread" -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DWITH_LIBSODIUM=ON -DENABLE_CURVE=ON \
    -DBUILD_TESTS=OFF -DBUILD_STATIC=OFF -DWITH_DOCS=OFF -DENABLE_DRAFTS=OFF >/dev/null
  cmake --build "$deps/libzmq-4.3.4/build" -j "$(nproc)" --target libzmq >/dev/null
fi

export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMURMUR_TSAN=ON -DCAF_CORE_LIBRARY="$caf_lib" >/dev/null
cmake --build build-tsan -j "$(nproc)" --target murmur_actor_tests murmur

export LD_LIBRARY_PATH="$zmq_dir" OMP_NUM_THREADS=1
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$root/tests/tsan.supp"
build-tsan/tests/murmur_actor_tests
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/tiny.toml" <<'TOML'
[run]
rounds = 30
[data]
partition = "iid"
train_limit = 2000
[model]
name = "mlp"
[topology]
agents = 4
[network]
timeout_ms = 5000.0
[output]
eval_samples = 200
progress = false
TOML
build-tsan/app/murmur run "$tmp/tiny.toml" --processes 2 --set network.base_port=$((40000 + RANDOM % 2000)) \
  --set faults.duplicate=0.2 --set faults.delay_ms=2 --set output.directory="\"$tmp/tcp\"" | tail -1
build-tsan/app/murmur run "$tmp/tiny.toml" --set output.directory="\"$tmp/inproc\"" | tail -1
echo "tsan: no report"
