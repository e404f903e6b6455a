#!/usr/bin/python3
"""run.gossip_tail (issue 12, the GUT code's gossip_avg): 40 training rounds
then 20 of gossip only on the tiny fault config. The tail rounds run (the
last record is round 60), train nothing (the model average does not move:
gossip with doubly stochastic weights keeps the mean, so the averaged
model's accuracy is that of round 40 to within evaluation noise), and pull
the agents together (the consensus distance falls by 100x or more).

Usage: gossip_tail_test.py MURMUR REPO
"""
import json
import os
import subprocess
import sys
import tempfile

murmur, repo = sys.argv[1], sys.argv[2]
cfg = os.path.join(repo, "configs/faults/tiny-faults.toml")
os.chdir(tempfile.mkdtemp(prefix="murmur-tail-"))
r = subprocess.run([murmur, "run", cfg, "--set", "run.rounds=40", "--set", "run.gossip_tail=20",
                    "--set", "output.eval_every_epochs=0.625", "--set", 'output.directory="tail"'],
                   capture_output=True, text=True)
if r.returncode != 0:
    print("FAIL:", r.stderr[-1500:])
    sys.exit(1)
avg = {j["round"]: j for j in map(json.loads, open("tail/metrics.jsonl")) if j.get("agent") == "average"}
if 40 not in avg or 60 not in avg:
    print("FAIL: expected evaluations at rounds 40 and 60, got", sorted(avg))
    sys.exit(1)
c40, c60 = avg[40]["consensus_distance"], avg[60]["consensus_distance"]
a40, a60 = avg[40]["test_accuracy"], avg[60]["test_accuracy"]
print(f"consensus {c40:.3g} at round 40 -> {c60:.3g} after 20 rounds of gossip; accuracy {a40:.4f} -> {a60:.4f}")
if not c60 < c40 / 100:
    print("FAIL: the gossip tail did not pull the agents together")
    sys.exit(1)
if abs(a60 - a40) > 0.02:
    print("FAIL: the averaged model moved during the gossip tail")
    sys.exit(1)
print("PASS")
