#!/usr/bin/env bash
# Bad input of every kind must end in exactly one "murmur: error:" line on
# stderr and a non-zero exit, never a crash (exit code >= 128) or a silent run.
set -u
murmur="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect_error() {
  local what="$1" fragment="$2"
  shift 2
  "$murmur" "$@" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [[ $code -eq 0 || $code -ge 128 ]]; then
    echo "FAIL: $what: exit code $code"; failures=$((failures + 1)); return
  fi
  if [[ $lines -ne 1 ]] || ! grep -q "^murmur: error: .*$fragment" "$tmp/err"; then
    echo "FAIL: $what: stderr was:"; cat "$tmp/err"; failures=$((failures + 1)); return
  fi
  echo "ok: $what: $(cat "$tmp/err")"
}

expect_error "unknown model" "unknown model 'resnet99'" train --model resnet99 --data-dir "$tmp"
expect_error "unknown model in bench" "unknown model 'nope'" bench train --model nope
expect_error "bad flag" "--frobnicate" train --frobnicate
expect_error "bad flag value" "epochs" train --epochs -3
expect_error "non-numeric flag" "batch" train --batch many
expect_error "missing data folder" "no such directory" train --data-dir "$tmp/none"
mkdir -p "$tmp/fm"
expect_error "missing data file" "no such file" train --data-dir "$tmp/fm"
printf 'not an idx file at all' | gzip >"$tmp/fm/train-images-idx3-ubyte.gz"
printf 'nope' >"$tmp/fm/train-labels-idx1-ubyte"
expect_error "corrupt data file" "bad magic" train --data-dir "$tmp/fm"
printf 'garbage, not gzip' >"$tmp/fm/train-images-idx3-ubyte.gz"
expect_error "garbage data file" "train-images" train --data-dir "$tmp/fm"
expect_error "unknown data set" "unknown data set" train --dataset imagenet
expect_error "unknown precision" "precision" train --precision f8
expect_error "unknown partition" "unknown partition" partition --scheme random
expect_error "missing checkpoint" "no such file" train --resume "$tmp/none.safetensors" --epochs 1
printf '\x10\x00\x00\x00\x00\x00\x00\x00{"a":1' >"$tmp/trunc.safetensors"
expect_error "truncated checkpoint" "truncated" train --resume "$tmp/trunc.safetensors" --epochs 1
# A tiny but valid data set (20 images of 28x28, labels 0..9), to make checkpoints.
mkdir -p "$tmp/tiny"
idx_images() { printf '\x00\x00\x08\x03\x00\x00\x00\x14\x00\x00\x00\x1c\x00\x00\x00\x1c'; head -c 15680 /dev/urandom; }
idx_labels() { printf '\x00\x00\x08\x01\x00\x00\x00\x14'; printf '\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09%.0s' 1 2; }
for split in train t10k; do
  idx_images >"$tmp/tiny/$split-images-idx3-ubyte"
  idx_labels >"$tmp/tiny/$split-labels-idx1-ubyte"
done
if ! "$murmur" train --model mlp --epochs 1 --data-dir "$tmp/tiny" --save "$tmp/mlp.safetensors" >/dev/null 2>"$tmp/err"; then
  echo "FAIL: training on the tiny data set: $(cat "$tmp/err")"; failures=$((failures + 1))
fi
expect_error "checkpoint of another model" "of model 'mlp', not 'lenet5'" \
  train --model lenet5 --epochs 1 --data-dir "$tmp/tiny" --resume "$tmp/mlp.safetensors"
head -c 3000 "$tmp/mlp.safetensors" >"$tmp/cut.safetensors"
expect_error "truncated real checkpoint" "cut.safetensors" \
  train --model mlp --epochs 1 --data-dir "$tmp/tiny" --resume "$tmp/cut.safetensors"
# murmur run: configuration errors name the file, line and column (or the --set).
printf '[run]\nepochs = 2\n[protocl]\nalgorithm = "dsgd"\n' >"$tmp/section.toml"
expect_error "unknown config section" "section.toml:3:1: unknown section 'protocl'" run "$tmp/section.toml"
printf '[run]\nepochs = 2\nepoch = 3\n' >"$tmp/key.toml"
expect_error "unknown config key" "key.toml:3:.*unknown key 'epoch'" run "$tmp/key.toml"
printf '[optimizer]\nlr = "fast"\n' >"$tmp/type.toml"
expect_error "wrong config type" "type.toml:2:6: .optimizer. lr: expected a number, got string" run "$tmp/type.toml"
printf '[faults]\ndrop = 1.5\n' >"$tmp/range.toml"
expect_error "impossible config value" "range.toml:2:8: .faults. drop: must be in" run "$tmp/range.toml"
printf '[protocol]\nalgorithm = "gossip"\n' >"$tmp/choice.toml"
expect_error "unknown algorithm" "choice.toml:2:13: .protocol. algorithm: unknown value" run "$tmp/choice.toml"
printf '[run\nepochs = 2\n' >"$tmp/syntax.toml"
expect_error "TOML syntax error" "syntax.toml:1:" run "$tmp/syntax.toml"
printf '[run]\nepochs = 1\n' >"$tmp/ok.toml"
expect_error "bad --set value" "--set topology.agents: .topology. agents: must be in" run "$tmp/ok.toml" --set topology.agents=0
expect_error "malformed --set" "expected section.key=value" run "$tmp/ok.toml" --set agents=3
expect_error "missing config file" "config" run "$tmp/none.toml"
expect_error "algorithm needs another graph" "needs an undirected graph" run "$tmp/ok.toml" --set protocol.algorithm=\"choco\" --set topology.kind=\"directed-ring\" --set output.directory=\"$tmp/o\"
expect_error "straggler that does not exist" "agent 40 does not exist" run "$tmp/ok.toml" --set 'faults.stragglers=[40]'
expect_error "unknown topology" "unknown topology 'bogus'" topology --kind bogus
expect_error "impossible topology" "power of two" topology --kind hypercube --n 12
expect_error "weights for the wrong graph" "undirected" topology --kind directed-ring --weights mh
expect_error "bad edge list" "expected two agent numbers" topology --kind edges --file "$tmp/fm/train-labels-idx1-ubyte"
expect_error "fixed-size graph of another size" "has 10 agents" topology --kind petersen --n 12
expect_error "bipartite graph of odd size" "even number of agents" topology --kind bipartite-exponential --n 15
# A diverging run stops with the agent and the round, never a silent NaN run.
printf '[run]\nrounds = 8\n[data]\ntrain_limit = 512\n[model]\nname = "mlp"\n[topology]\nagents = 4\n[optimizer]\nlr = 1000\n[output]\nprogress = false\ndirectory = "%s/nan"\n' "$tmp" > "$tmp/nan.toml"
expect_error "non-finite parameters" "parameters are not finite after round" run "$tmp/nan.toml"

# Launching and keys.
"$murmur" keygen --dir "$tmp/keys" --processes 2 > /dev/null
expect_error "--rank without --world" "--rank and --world go together" run "$tmp/ok.toml" --rank 1
expect_error "rank outside the world" "rank 4 is not in 0 .. 3" run "$tmp/ok.toml" --rank 4 --world 4
expect_error "launched without keys" "needs its processes' keys: murmur keygen" run "$tmp/ok.toml" --rank 1 --world 2 --rendezvous 127.0.0.1:1
expect_error "launched without a rendezvous" "needs a rendezvous" run "$tmp/ok.toml" --rank 1 --world 2 --set network.curve=false
expect_error "bad rendezvous" "is not host:port" run "$tmp/ok.toml" --rank 1 --world 2 --set network.curve=false --rendezvous nowhere
expect_error "keys of too few processes" "process-2.pub" run "$tmp/ok.toml" --rank 0 --world 3 --set network.keys=\"$tmp/keys\" --rendezvous 127.0.0.1:1
expect_error "no such interface" "interface \"nosuch0\" has no IPv4 address" run "$tmp/ok.toml" --rank 0 --world 1 --set network.curve=false --set network.interface=\"nosuch0\"
printf '127.0.0.1\n127.0.0.1 extra\n' > "$tmp/hosts"
expect_error "bad hostfile" "one host per line" run "$tmp/ok.toml" --rank 0 --world 2 --set network.curve=false --hostfile "$tmp/hosts"
expect_error "keygen without a directory" "--dir is required" keygen --processes 2
expect_error "no command" "" 

echo "$failures failed"
[[ $failures -eq 0 ]]
