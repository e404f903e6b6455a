#!/usr/bin/env bash
# End-to-end runs of `murmur run` (one process, and two over tcp) on real Fashion-MNIST: 8 LeNet-5 agents on
# 8,000 training images (1,000 each, IID), 2 epochs. Each run must finish on
# every agent, write the metrics and resolved configuration, and its averaged
# model must reach 60% test accuracy: six times chance, and about 8 points
# under what these runs measure (0.68-0.71), so only a run that does not learn
# or does not average fails.
set -u
murmur="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

cat >"$tmp/base.toml" <<'TOML'
[run]
epochs = 2
[data]
partition = "iid"
train_limit = 8000
[model]
name = "lenet5"
[topology]
agents = 8
[network]
timeout_ms = 200.0
[output]
eval_samples = 1000
progress = false
TOML

expect_run() {
  local what="$1"
  shift
  local out="$tmp/out-$RANDOM"
  if ! "$murmur" run "$tmp/base.toml" --set output.directory="\"$out\"" "$@" >"$tmp/log" 2>&1; then
    echo "FAIL: $what: exit code $?"; cat "$tmp/log"; failures=$((failures + 1)); return
  fi
  local acc
  acc=$(sed -n 's/.*final average-model accuracy \([0-9.]*\).*/\1/p' "$tmp/log")
  if [[ -z "$acc" ]] || ! awk -v a="$acc" 'BEGIN { exit !(a >= 0.60) }'; then
    echo "FAIL: $what: final average-model accuracy '$acc' < 0.60"; cat "$tmp/log"; failures=$((failures + 1)); return
  fi
  # Every agent reported the last round, and the records carry every field.
  local last
  last=$(grep -c '"round":64' "$out/metrics.jsonl")
  if [[ "$last" -ne 9 ]]; then
    echo "FAIL: $what: $last records of round 64 (want 8 agents + average)"; failures=$((failures + 1)); return
  fi
  for key in agent round epoch wall_time_s train_loss test_accuracy consensus_distance bytes_sent bytes_received \
    messages_dropped messages_rejected staleness_max; do
    if ! grep -q "\"$key\":" <(grep '"agent":0,' "$out/metrics.jsonl" | tail -1); then
      echo "FAIL: $what: metrics lack $key"; failures=$((failures + 1)); return
    fi
  done
  if ! grep -q '^\[protocol\]' "$out/config.toml"; then
    echo "FAIL: $what: no resolved configuration"; failures=$((failures + 1)); return
  fi
  echo "ok: $what: average-model accuracy $acc"
}

expect_run "D-PSGD over inproc"
expect_run "D-PSGD over tcp" --set network.transport='"tcp"' --set network.base_port=$((28000 + RANDOM % 2000))
expect_run "D-PSGD over tcp with 2 processes" --processes 2 --set network.base_port=$((30000 + RANDOM % 2000))
expect_run "running-sum push-sum, directed time-varying graph, 10% drops" --set protocol.algorithm='"push-sum"' \
  --set protocol.running_sums=true --set topology.kind='"one-peer-exponential"' --set faults.drop=0.1
expect_run "asynchronous D-PSGD with a 3x straggler" --set run.mode='"async"' --set 'faults.stragglers=[0]' \
  --set faults.slowdown=3
expect_run "CHOCO with scaled sign" --set protocol.algorithm='"choco"'  --set protocol.compressor='"sign"' \
  --set protocol.gamma=0.5

echo "$failures failed"
[[ $failures -eq 0 ]]
