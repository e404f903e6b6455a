#!/usr/bin/env bash
# Installs what is missing, builds, and runs murmur's main job:
# configs/quickstart.toml — 16 LeNet-5 agents on a ring learn the real
# Fashion-MNIST (from Debian) from non-IID shards (Dirichlet alpha 0.1) with
# D-PSGD and quasi-global momentum, all in this process over ZeroMQ inproc.
# Extra arguments go to `murmur run` (e.g. --set run.epochs=2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/app/murmur run configs/quickstart.toml "$@"
