#!/usr/bin/python3
"""AD-PSGD's pairwise exchange in async mode (configs/ad-psgd.toml, 8 MLP
agents, 60 training steps), with one and with three gossip rounds per step
(topology.mixes_per_step).

What must hold: the active (odd) agents wait for their passive peer's reply
in async mode too (request::reply), so an active agent ends a round without
its pair's average only when its request was refused by the passive's
window (a passive more than network.window rounds behind: nothing holds an
active back to a slow passive, whose reply carries the active's round): the
exchanges without a reply are at most the refused frames and at most 5% of
the actives' exchanges (before request::reply, 55% went without: the
actives went on under the staleness bound). Every agent runs mixes x 60
rounds.

Usage: ad_psgd_async_test.py MURMUR REPO
"""
import json
import os
import subprocess
import sys
import tempfile

murmur, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
os.chdir(tempfile.mkdtemp(prefix="murmur-ad-psgd-"))
STEPS = 60
failures = []
for mixes in (1, 3):
    out = f"mixes{mixes}"
    r = subprocess.run([murmur, "run", os.path.join(repo, "configs/ad-psgd.toml"), "--set", 'model.name="mlp"',
                        "--set", "topology.agents=8", "--set", f"run.rounds={STEPS}", "--set",
                        f"topology.mixes_per_step={mixes}", "--set", f'output.directory="{out}"'],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: mixes_per_step={mixes}:", r.stderr[-1500:])
        sys.exit(1)
    rows = [json.loads(line) for line in open(f"{out}/metrics.jsonl")]
    agents = {j["agent"]: j for j in rows if isinstance(j.get("agent"), int)}
    average = [j for j in rows if j.get("agent") == "average"][-1]
    missing = {a: j["messages_missing"] for a, j in sorted(agents.items())}
    print(f"mixes_per_step={mixes}: {average['round']} rounds, {average['messages_rejected']} refused, "
          f"missing replies {missing}, accuracy {average['test_accuracy']:.4f}")
    if len(agents) != 8 or any(j["round"] != mixes * STEPS for j in agents.values()):
        failures.append(f"mixes_per_step={mixes}: not every agent ran {mixes * STEPS} rounds")
    lost, refused, exchanges = sum(missing.values()), average["messages_rejected"], 4 * mixes * STEPS
    if lost > refused or lost > 0.05 * exchanges:
        failures.append(f"mixes_per_step={mixes}: {lost} of {exchanges} exchanges ended without their reply "
                        f"({refused} frames refused): {missing}")
if failures:
    print("FAIL:", "; ".join(failures))
    sys.exit(1)
print("PASS")
