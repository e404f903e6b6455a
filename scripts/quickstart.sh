#!/usr/bin/env bash
# Installs what is missing, builds, and runs murmur's main job: for now,
# LeNet-5 trained for 10 epochs on the real Fashion-MNIST from Debian.
# Extra arguments go to `murmur train` (e.g. --threads 1 --epochs 3).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
mkdir -p out
exec build/app/murmur train --model lenet5 --dataset fashion-mnist --epochs 10 --threads "$(nproc)" \
  --metrics out/quickstart.jsonl "$@"
