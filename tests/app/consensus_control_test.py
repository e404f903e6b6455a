#!/usr/bin/python3
"""Consensus control (Kong et al. 2021, topology.consensus_max_steps) end to
end on the tiny fault config (8 MLP agents, ring, D-PSGD): 40 training
steps, first without control, then with a target of half the uncontrolled
run's distance and at most 6 extra gossip steps per training step.

What must hold:
- every training step is controlled, and its records are a run of gossip
  steps 0, 1, ... that ends either at the first one whose distance met the
  target or at the cap (gossip step max_steps - 1 not met, then the last);
- the controller's distance (protocols::consensus_distance) equals the
  monitor's own consensus distance (round_summary, the mean squared distance
  of the agents' reports) at every evaluation that follows a met verdict;
- extra gossip steps were taken, and the controlled run's agents are closer
  together at the evaluations than the uncontrolled run's;
- what the barrier cannot serve is refused with a message that names it;
- with a fixed count instead (topology.mixes_per_step = 3, no control),
  every step takes 3 gossip rounds: the run has 3x the rounds and sends 3x
  the bytes of the uncontrolled run, evaluates after the same steps, and its
  agents are closer together there.

Usage: consensus_control_test.py MURMUR REPO
"""
import json
import math
import os
import subprocess
import sys
import tempfile

murmur, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
cfg = os.path.join(repo, "configs/faults/tiny-faults.toml")
os.chdir(tempfile.mkdtemp(prefix="murmur-consensus-"))
STEPS, CAP = 40, 6
failures = []


def run(out, *sets):
    # A long timeout: no round goes on without a neighbour's share, so both runs replay.
    args = [murmur, "run", cfg, "--set", f"run.rounds={STEPS}", "--set", "output.eval_every_epochs=0.125",
            "--set", "network.timeout_ms=20000",
            "--set", f'output.directory="{out}"']
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True, text=True)


def averages(out):
    return {j["round"]: j for j in map(json.loads, open(f"{out}/metrics.jsonl")) if j.get("agent") == "average"}


r = run("plain")
if r.returncode != 0:
    print("FAIL: the uncontrolled run:", r.stderr[-1500:])
    sys.exit(1)
plain = averages("plain")
xi_plain = [math.sqrt(e["consensus_distance"]) for e in plain.values()]
target = 0.5 * sorted(xi_plain)[len(xi_plain) // 2]
r = run("controlled", f"topology.consensus_max_steps={CAP}", f"topology.consensus_targets=[{target!r}]")
if r.returncode != 0:
    print("FAIL: the controlled run:", r.stderr[-1500:])
    sys.exit(1)
summary = [line for line in r.stdout.splitlines() if line.startswith("consensus control:")]
print(summary[0] if summary else "FAIL: no consensus control line in the output")
if not summary:
    failures.append("the run printed no consensus control summary")
verdicts = [j for j in map(json.loads, open("controlled/process-0.jsonl")) if j.get("event") == "consensus"]
by_step = {}
for v in verdicts:
    by_step.setdefault(v["step"], []).append(v)
if sorted(by_step) != list(range(STEPS)):
    failures.append(f"controlled steps {sorted(by_step)[:5]}.. ({len(by_step)}), expected 0 .. {STEPS - 1}")
extra = 0
for step, vs in sorted(by_step.items()):
    gossip = [v["gossip_step"] for v in vs]
    if gossip != list(range(len(vs))):
        failures.append(f"step {step}: gossip steps {gossip}")
        continue
    if any(v["met"] for v in vs[:-1]):
        failures.append(f"step {step}: gossiped on after the target was met")
    last = vs[-1]
    if not last["met"] and len(vs) != CAP:
        failures.append(f"step {step}: stopped at gossip step {len(vs) - 1} without meeting the target")
    if any(v["met"] != (v["distance"] <= v["target"]) for v in vs):
        failures.append(f"step {step}: a verdict disagrees with its distance and target")
    extra += sum(not v["met"] for v in vs)
if extra == 0:
    failures.append("no extra gossip step was taken (the target is half the uncontrolled distance)")

controlled = averages("controlled")
checked = 0
for v in verdicts:
    # An evaluation falls when a step ends: a met verdict's models are
    # reported at the next training step's round ((step + 1) x slots).
    e = controlled.get((v["step"] + 1) * (CAP + 1)) if v["met"] else None
    if e is None:
        continue
    checked += 1
    mine = math.sqrt(e["consensus_distance"])
    if abs(mine - v["distance"]) > 1e-4 * max(v["distance"], 1e-12):
        failures.append(f"round {v['round']}: the controller measured {v['distance']:.6g}, "
                        f"the monitor {mine:.6g}")
if checked == 0:
    failures.append("no evaluation fell on a round with a verdict")
xi_controlled = [math.sqrt(e["consensus_distance"]) for e in controlled.values()]
mean_plain, mean_controlled = sum(xi_plain) / len(xi_plain), sum(xi_controlled) / len(xi_controlled)
print(f"target {target:.4g}; {extra} extra gossip steps over {len(by_step)} steps; distance at the evaluations "
      f"{mean_plain:.4g} uncontrolled -> {mean_controlled:.4g} controlled; {checked} verdicts against the monitor")
if not mean_controlled < mean_plain:
    failures.append("the controlled agents are not closer together than the uncontrolled ones")

MIXES = 3
r = run("mixes", f"topology.mixes_per_step={MIXES}")
if r.returncode != 0:
    print("FAIL: the run with mixes_per_step:", r.stderr[-1500:])
    sys.exit(1)
mixed = averages("mixes")
last_plain, last_mixed = plain[max(plain)], mixed[max(mixed)]
ratio = last_mixed["bytes_sent"] / last_plain["bytes_sent"]
xi_mixed = [math.sqrt(e["consensus_distance"]) for e in mixed.values()]
print(f"mixes_per_step={MIXES}: {max(mixed)} rounds against {max(plain)}, {ratio:.3f}x the bytes, distance at the "
      f"evaluations {sum(xi_plain) / len(xi_plain):.4g} -> {sum(xi_mixed) / len(xi_mixed):.4g}")
if sorted(mixed) != [MIXES * t for t in sorted(plain)]:
    failures.append(f"mixes_per_step: evaluated at rounds {sorted(mixed)}, not {MIXES} x {sorted(plain)}")
if abs(ratio - MIXES) > 0.01:
    failures.append(f"mixes_per_step: {ratio:.3f}x the bytes of one mix per step, not {MIXES}x")
if not sum(xi_mixed) < sum(xi_plain):
    failures.append("mixes_per_step: the agents are not closer together than with one mix per step")

for sets, words in ((["topology.mixes_per_step=2"], "mixes_per_step"),
                    (["network.processes=2", "network.transport=\"tcp\""], "one process"),
                    (["topology.consensus_targets=[0.1, 0.01]"], "milestones"),
                    (["protocol.algorithm=\"choco\""], "plain gossip"),
                    (["faults.churn=0.1"], "churn")):
    bad = run("bad", f"topology.consensus_max_steps={CAP}", "topology.consensus_targets=[0.1]", *sets)
    if bad.returncode == 0 or words not in bad.stderr:
        failures.append(f"{sets}: expected a refusal naming '{words}', got rc {bad.returncode}: {bad.stderr[-300:]}")
    else:
        print("refused:", bad.stderr.strip().splitlines()[-1][:160])
if failures:
    print("FAIL:", "; ".join(failures))
    sys.exit(1)
print("PASS")
