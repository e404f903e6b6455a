#!/usr/bin/env bash
# Every configuration in configs/ is valid and runs end to end (4 rounds on
# 4,000 training images, so the whole set takes seconds).
set -u
murmur="$1"
configs="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
for c in "$configs"/*.toml; do
  if "$murmur" run "$c" --set run.rounds=4 --set data.train_limit=4000 --set output.progress=false \
    --set output.eval_samples=500 --set output.directory="\"$tmp/out\"" >"$tmp/log" 2>&1 &&
    grep -q "final average-model accuracy" "$tmp/log" && ! grep -q "cannot open a link socket" "$tmp/log"; then
    echo "ok: $c"
  else
    echo "FAIL: $c"; cat "$tmp/log"; failures=$((failures + 1))
  fi
done
echo "$failures failed"
[[ $failures -eq 0 ]]
