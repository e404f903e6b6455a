#!/usr/bin/env bash
# What CURVE-authenticated links cost the quickstart spread over 4 local
# processes: wall time with network.curve = true (the default) and false,
# alternating, median of N runs each (default 3), and the ratio.
# Usage: bench/curve_quickstart.sh [MURMUR=build/app/murmur] [N=3]
set -euo pipefail
murmur=${1:-build/app/murmur}
n=${2:-3}
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
port=$((45000 + RANDOM % 100 * 50))
declare -A walls
for i in $(seq 1 "$n"); do
  for curve in true false; do
    port=$((port + 10))
    log=$out/$curve-$i.log
    "$murmur" run configs/quickstart.toml --processes 4 --set network.curve=$curve --set network.base_port=$port \
      --set output.progress=false --set "output.directory=\"$out/run\"" > "$log" 2>&1 || { cat "$log"; exit 1; }
    w=$(sed -n 's/.* in \([0-9.]*\) s.*final average-model accuracy \([0-9.]*\).*/\1 \2/p' "$log")
    echo "curve=$curve run $i: wall, accuracy = $w"
    walls[$curve]+="${w%% *} "
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
on=$(echo "${walls[true]}" | median)
off=$(echo "${walls[false]}" | median)
awk -v a="$on" -v b="$off" 'BEGIN { printf "quickstart over --processes 4: CURVE %.1f s, plain %.1f s (medians); CURVE costs %.2fx\n", a, b, a / b }'
