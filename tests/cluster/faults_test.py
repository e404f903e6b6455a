#!/usr/bin/python3
"""Scheduled faults (issue 11) on configs/faults/tiny-faults.toml (8 agents,
ring, 120 rounds, evaluated every 4):

- a partition of agents 0-3 from 4-7 in rounds [40, 70): the consensus
  distance during the window rises above twice its level just before it, and
  over the last rounds (112-120) is back within 1.5x of the fault-free run's;
- churn at 10% per agent and round with running-sum push-sum and with DSGD:
  both finish every round, agents were away (events recorded), and the
  final accuracy is printed next to the fault-free run's.

Usage: faults_test.py MURMUR REPO
"""
import json
import os
import subprocess
import sys
import tempfile
import time

murmur, repo = sys.argv[1], sys.argv[2]
cfg = os.path.join(repo, "configs/faults/tiny-faults.toml")
os.chdir(tempfile.mkdtemp(prefix="murmur-faults-"))


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(name, *sets):
    args = [murmur, "run", cfg, "--set", f'output.directory="{name}"']
    for s in sets:
        args += ["--set", s]
    t0 = time.time()
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{name}: {r.stderr[-2000:]}")
    avg = {j["round"]: j for j in map(json.loads, open(f"{name}/metrics.jsonl")) if j.get("agent") == "average"}
    events = [j for j in map(json.loads, open(f"{name}/process-0.jsonl")) if "event" in j]
    return avg, events, time.time() - t0


free, _, free_s = run("free")
cut, events, cut_s = run("partition", "faults.partition=[{rounds=[40, 70], groups=[[0, 1, 2, 3]]}]")
before = cut[40]["consensus_distance"]
during = max(cut[r]["consensus_distance"] for r in cut if 44 <= r <= 68)
# After it heals: the mean of the last three evaluations (rounds 112-120) of
# each run, so that one noisy evaluation (on 2 cores some rounds time out and
# the runs differ) does not decide; measured 0.237 vs 0.219 and, at round 100
# alone, 0.26 vs 0.18 and 0.39 vs 0.19 (the two halves take some 30 rounds
# to pull together again).
last = [r for r in sorted(free) if r >= 112]
after = sum(cut[r]["consensus_distance"] for r in last) / len(last)
ref = sum(free[r]["consensus_distance"] for r in last) / len(last)
print(f"partition [40, 70): consensus {before:.3f} at round 40, peak {during:.3f} inside, {after:.3f} over rounds 112-120 "
      f"(fault-free {ref:.3f}); accuracy {cut[120]['test_accuracy']:.4f} vs {free[120]['test_accuracy']:.4f}; "
      f"{cut_s:.1f} s vs {free_s:.1f} s")
if not during > 2 * before:
    fail("the consensus distance did not rise during the partition")
if not after < 1.5 * ref:
    fail("the consensus distance did not come back after the partition healed")
if not any(e["event"] == "partition" for e in events) or not any(e["event"] == "peer_down" for e in events):
    fail("the partition window or the peers it cut off are not in the records")

r = subprocess.run([murmur, "report", "partition"], capture_output=True, text=True)
if r.returncode != 0 or not os.path.getsize("partition/report.png") or "peer_down" not in r.stdout:
    fail("murmur report: " + r.stdout[-1000:] + r.stderr[-1000:])

for name, sets in (("churn-dsgd", []), ("churn-push-sum", ['protocol.algorithm="push-sum"',
                                                            "protocol.running_sums=true"])):
    ref_avg = free if not sets else run(name + "-free", *sets)[0]
    avg, events, secs = run(name, "faults.churn=0.1", *sets)
    away = sum(e["event"] == "away" for e in events)
    if 120 not in avg:
        fail(f"{name}: no evaluation at the last round")
    if away < 30:
        fail(f"{name}: only {away} away events at 10% churn of 8 agents x 120 rounds")
    print(f"{name}: {away} agent-rounds away; accuracy {avg[120]['test_accuracy']:.4f} vs fault-free "
          f"{ref_avg[120]['test_accuracy']:.4f}; {secs:.1f} s")
print("PASS")
