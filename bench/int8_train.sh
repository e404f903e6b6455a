#!/usr/bin/env bash
# 8-bit training (model.precision = "int8-train") against f32: LeNet-5 and
# ResNet-20 with BatchNorm, EvoNorm-S0 and Range-EvoNorm, one model on one
# IID share of Fashion-MNIST (a tenth, 6,000 images, by default), 3 epochs,
# the same seed. In 8 bits the norms are the thesis code's RangeBN and RangeEN
# (and murmur's 8-bit EvoNorm-S0), the residual add its Qsum.
# A short run (issue 12); prints the final test accuracy and the wall time
# (training and the three evaluations).
# Usage: bench/int8_train.sh [MURMUR] [EPOCHS] [SHARES]  (one of SHARES IID shares)
set -euo pipefail
murmur=${1:-build/app/murmur}
epochs=${2:-3}
shares=${3:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {  # model norm precision
  local out="$tmp/$1-$2-$3.jsonl"
  "$murmur" train --model "$1" --norm "$2" --precision "$3" --epochs "$epochs" --agents "$shares" --agent 0 \
    --partition iid --threads 2 --lr 0.05 --seed 1 --metrics "$out" >/dev/null
  /usr/bin/python3 -c "
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f\"{rows[-1]['test_accuracy']:.4f} {rows[-1]['wall_time_s']:.0f}\")" "$out"
}
printf '| model | norm | f32 | int8-train | f32 s | int8-train s |\n|---|---|---|---|---|---|\n'
for spec in "lenet5 batchnorm" "resnet20 batchnorm" "resnet20 evonorm" "resnet20 range-evonorm"; do
  set -- $spec
  read -r a32 t32 < <(run "$1" "$2" f32)
  read -r a8 t8 < <(run "$1" "$2" int8-train)
  label=$2; [[ $1 == lenet5 ]] && label="(none)"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$label" "$a32" "$a8" "$t32" "$t8"
done
