#!/usr/bin/python3
"""murmur run --profile (issue 13): where a run's time goes, per phase.

The tiny fault config (8 MLP agents on a ring, D-PSGD), 60 rounds, in one
process and over two processes (the second process's agents' phases reach
process 0 in their reports). For each run:
- the table names every phase, and the metrics' "profile" record has them;
- the record counts every agent's rounds (8 x 60);
- each phase the run does is timed (compute, protocol, encode, checksum,
  transport, decode, evaluation > 0; none negative), every agent's compute is
  timed in its own last record ("seconds"), and each total is the sum of those
  records, so reports carry the phases across processes;
- the busy phases do not overlap: their sum is at most the scheduler threads'
  seconds of the rounds (a phase timed twice would exceed it on a busy run).

Usage: profile_test.py MURMUR REPO
"""
import json
import os
import subprocess
import sys
import tempfile

murmur, repo = sys.argv[1], sys.argv[2]
cfg = os.path.join(repo, "configs/faults/tiny-faults.toml")
os.chdir(tempfile.mkdtemp(prefix="murmur-profile-"))
phases = ["compute", "protocol", "encode", "checksum", "transport", "decode", "evaluation", "wait"]
failures = 0


def check(what, extra):
    global failures
    out = what.replace(" ", "-")
    r = subprocess.run([murmur, "run", cfg, "--profile", "--set", "run.rounds=60", "--set",
                        f'output.directory="{out}"', *extra], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: {what}: exit {r.returncode}:", r.stderr[-1500:])
        failures += 1
        return
    table = r.stdout[r.stdout.find("profile:"):]
    missing = [p for p in phases if f"\n  {p} " not in table]
    records = [json.loads(line) for line in open(f"{out}/metrics.jsonl")]
    prof = [j for j in records if j.get("event") == "profile"]
    bad = []
    if missing:
        bad.append(f"the table lacks {missing}")
    if len(prof) != 1:
        bad.append(f"{len(prof)} profile records")
    else:
        p = prof[0]
        s = p["agents_seconds"]
        if p["agent_rounds"] != 8 * 60:
            bad.append(f"agent_rounds {p['agent_rounds']}, want 480")
        zero = [k for k in phases if k != "wait" and not s[k] > 0]
        if zero or any(s[k] < 0 for k in phases):
            bad.append(f"phases not timed: {zero} in {s}")
        last = {}
        for j in records:
            if isinstance(j.get("agent"), int):
                last[j["agent"]] = j
        untimed = [a for a, j in last.items() if not j["seconds"]["compute"] > 0]
        if len(last) != 8 or untimed:
            bad.append(f"{len(last)} agents' records, compute untimed on agents {untimed}")
        for k in phases:
            total = sum(j["seconds"][k] for j in last.values())
            if abs(total - s[k]) > 1e-9 * max(1.0, total):
                bad.append(f"{k}: profile {s[k]} but the agents' records sum to {total}")
        busy = sum(s[k] for k in phases if k != "wait") + p["monitor_seconds"]
        rounds_s = p["wall_time_s"] - p["setup_seconds"]
        if not busy <= p["threads"] * rounds_s * 1.02 + 0.05:
            bad.append(f"busy {busy:.3f} s exceeds {p['threads']} threads x {rounds_s:.3f} s")
        print(f"{what}: busy {busy:.2f} s of {p['threads']} x {rounds_s:.2f} s; " +
              ", ".join(f"{k} {s[k]:.3f}" for k in phases))
    if bad:
        print(f"FAIL: {what}:", "; ".join(bad))
        print(table)
        failures += 1


check("one process", [])
check("two processes", ["--processes", "2", "--set", "network.base_port=" + str(33000 + os.getpid() % 2000)])
print("PASS" if failures == 0 else f"{failures} failed")
sys.exit(1 if failures else 0)
