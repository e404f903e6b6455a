#!/usr/bin/python3
"""Real process kills (issue 11): 8 agents over 4 processes started by hand
(the hostfile launch), process 2 killed with SIGKILL mid-run and restarted
with the same command and --resume.

Shows: the run completes; the restarted agents (2 and 6) rejoin from their
checkpoints (the round is in process-2.jsonl) and reach the last round;
every checkpoint file parses as safetensors with finite values; the final
averaged-model accuracy is within BOUND of the fault-free run. Then a kill
during a checkpoint write (a temporary file present at the kill) leaves the
previous file intact, --resume loads it, and a corrupt file is refused with
its name. A pause (SIGSTOP, 3 s, SIGCONT) of process 2: its agents are
marked down, catch up to the others' round when continued, and the run ends
at the fault-free consensus level.

Usage: crash_test.py MURMUR REPO
"""
import json
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

murmur, repo = sys.argv[1], sys.argv[2]
cfg = os.path.join(repo, "configs/faults/tiny-faults.toml")
hosts = os.path.join(repo, "configs/cluster/hosts.txt")
work = tempfile.mkdtemp(prefix="murmur-crash-")
os.chdir(work)
# The bound on |accuracy after kill and resume - fault-free accuracy|: on 2
# cores with a 300 ms timeout the fault-free run itself is not replayed
# exactly (some rounds time out); its final accuracy spans 0.674 .. 0.717
# over runs (0.043), and the killed agents miss some rounds of mixing and
# restart from a checkpoint up to 10 rounds old (measured: 0.697 vs 0.690,
# 0.640 vs 0.705). The bound is that spread plus the largest cost of a
# single fault in the README table (0.035, the delay row), rounded up: 0.10.
BOUND = 0.10


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def final_accuracy(metrics):
    acc = [json.loads(l) for l in open(metrics) if '"average"' in l]
    if not acc:
        fail(metrics + " has no averaged-model record")
    return acc[-1]["test_accuracy"], acc[-1]["round"]


def records(path):
    """The file's whole records: a line still being written (no newline yet) is left out."""
    return [json.loads(l) for l in open(path) if l.endswith("\n")]


def check_safetensors(path):
    """Parses a safetensors file: header, byte ranges, finite floats."""
    data = open(path, "rb").read()
    if len(data) < 8:
        fail(path + " is truncated")
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    end = 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        if not (0 <= a <= b <= len(body)):
            fail(f"{path}: {name} lies outside the file")
        end = max(end, b)
        if t["dtype"] in ("F32", "F64"):
            v = np.frombuffer(body[a:b], dtype=np.float32 if t["dtype"] == "F32" else np.float64)
            if not np.all(np.isfinite(v)):
                fail(f"{path}: {name} is not finite")
    if end != len(body):
        fail(f"{path}: {len(body) - end} bytes after the last tensor")
    return header["__metadata__"]


def wait_for_round(path, target, limit_s=120):
    """Polls a process's records until one of its agents has reported round `target`."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        if os.path.exists(path):
            rounds = [r["round"] for r in records(path) if "event" not in r]
            if rounds and max(rounds) >= target:
                return
        time.sleep(0.05)
    fail(f"{path}: no agent reached round {target} in {limit_s} s")


port = 26000 + random.randrange(18) * 100  # below the ephemeral range (see launch_test.sh); +100 for the pause
common = ["--set", "checkpoint.every=10", "--set", "output.progress=false"]

# The fault-free reference (one process: runs in sync mode replay exactly
# whatever the placement, see the cluster launch test).
t0 = time.time()
subprocess.run([murmur, "run", cfg, "--set", 'output.directory="free"'] + common, check=True,
               stdout=open("free.log", "w"), stderr=subprocess.STDOUT)
free_s = time.time() - t0
free_acc, _ = final_accuracy("free/metrics.jsonl")

subprocess.run([murmur, "keygen", "--dir", "keys", "--processes", "4"], check=True, stdout=subprocess.DEVNULL)


def start(rank, resume=False):
    cmd = [murmur, "run", cfg, "--hostfile", hosts, "--rank", str(rank), "--world", "4",
           "--set", 'network.keys="keys"', "--set", f"network.base_port={port}",
           "--set", 'output.directory="killed"'] + common + (["--resume"] if resume else [])
    return subprocess.Popen(cmd, stdout=open(f"rank-{rank}{'-resumed' if resume else ''}.log", "w"),
                            stderr=subprocess.STDOUT)


t0 = time.time()
procs = {k: start(k) for k in range(4)}
# Kill process 2 once its agents are past round 40 (and so have checkpoints).
wait_for_round("killed/process-2.jsonl", 40)
procs[2].send_signal(signal.SIGKILL)
procs[2].wait()
killed_at = max(r["round"] for r in records("killed/process-2.jsonl") if "event" not in r)
time.sleep(3)  # its neighbours mark agents 2 and 6 down and go on without them
procs[2] = start(2, resume=True)
for k, p in procs.items():
    try:
        if p.wait(timeout=300) != 0:
            fail(f"rank {k} ended with {p.returncode}: " + open(f"rank-{k}.log").read()[-2000:])
    except subprocess.TimeoutExpired:
        fail(f"rank {k} did not finish")
killed_s = time.time() - t0

log2 = records("killed/process-2.jsonl")
rejoins = {r["agent"]: r for r in log2 if r.get("event") == "rejoin"}
if sorted(rejoins) != [2, 6]:
    fail(f"expected agents 2 and 6 to rejoin, got {sorted(rejoins)}")
for a, r in rejoins.items():
    c = r["checkpoint_round"]
    if c <= 0 or c % 10 or c > killed_at + 10:
        fail(f"agent {a} rejoined from round {c}, not a checkpoint of before the kill (round {killed_at})")
last = {a: max(r["round"] for r in log2 if r.get("agent") == a and "event" not in r) for a in (2, 6)}
if last != {2: 120, 6: 120}:
    fail(f"the restarted agents ended at rounds {last}")
resumed_log = open("rank-2-resumed.log").read()
for a in (2, 6):
    if f"resumed agent {a} from round {rejoins[a]['checkpoint_round']}" not in resumed_log:
        fail("the restarted process does not say where agent %d resumed:\n%s" % (a, resumed_log))
for a in range(8):
    meta = check_safetensors(f"killed/checkpoints/agent-{a}.safetensors")
    if meta["murmur.agent"] != str(a) or meta["murmur.round"] != "120":
        fail(f"agent {a}'s last checkpoint is of agent {meta['murmur.agent']}, round {meta['murmur.round']}")
downs = [r for k in range(4) for r in records(f"killed/process-{k}.jsonl") if r.get("event") == "peer_down"]
if not any(r["peer"] in (2, 6) for r in downs):
    fail("no neighbour marked the killed agents down")
acc, rnd = final_accuracy("killed/metrics.jsonl")
if rnd != 120 or abs(acc - free_acc) > BOUND:
    fail(f"after the kill: accuracy {acc:.4f} at round {rnd}, fault-free {free_acc:.4f} (bound {BOUND})")
print(f"kill -9 of process 2 at round {killed_at}: agents 2, 6 rejoined from rounds "
      f"{rejoins[2]['checkpoint_round']}, {rejoins[6]['checkpoint_round']} (to rounds "
      f"{rejoins[2]['to_round']}, {rejoins[6]['to_round']}); accuracy {acc:.4f} vs fault-free {free_acc:.4f}; "
      f"wall {killed_s:.1f} s vs {free_s:.1f} s")

# A pause: process 2 stopped with SIGSTOP for 3 s and continued. Its
# neighbours mark agents 2 and 6 down and go on; once continued, the paused
# agents see frames more than the window (8 rounds here) ahead, jump to the
# others' round keeping their models (catch_up events), and their neighbours
# mark them up again. The bound on the accuracy is one-sided and wider than
# the kill's: the fault-free runs themselves span 0.642 (4 processes) to
# 0.731 (one process) on 2 cores, and the pause costs the paused agents some
# 15-30 rounds of training (measured: 0.620 and 0.625 against a 4-process
# fault-free 0.642): that spread plus the pause's cost, rounded up, 0.15.
# The consensus distance at the end must be back at the fault-free level.
PAUSE_BOUND = 0.15


def start_paused(rank):
    cmd = [murmur, "run", cfg, "--hostfile", hosts, "--rank", str(rank), "--world", "4",
           "--set", 'network.keys="keys"', "--set", f"network.base_port={port + 100}",
           "--set", "network.window=8", "--set", 'output.directory="paused"'] + common
    return subprocess.Popen(cmd, stdout=open(f"paused-{rank}.log", "w"), stderr=subprocess.STDOUT)


procs = {k: start_paused(k) for k in range(4)}
wait_for_round("paused/process-2.jsonl", 30)
procs[2].send_signal(signal.SIGSTOP)
time.sleep(3)
procs[2].send_signal(signal.SIGCONT)
for k, p in procs.items():
    try:
        if p.wait(timeout=300) != 0:
            fail(f"paused run: rank {k} ended with {p.returncode}: " + open(f"paused-{k}.log").read()[-2000:])
    except subprocess.TimeoutExpired:
        fail(f"paused run: rank {k} did not finish")
log2 = records("paused/process-2.jsonl")
jumps = [r for r in log2 if r.get("event") == "catch_up"]
if sorted({r["agent"] for r in jumps}) != [2, 6] or any(r["to_round"] <= r["round"] for r in jumps):
    fail(f"expected agents 2 and 6 to catch up after the pause, got {jumps}")
last = {a: max(r["round"] for r in log2 if r.get("agent") == a and "event" not in r) for a in (2, 6)}
if last != {2: 120, 6: 120}:
    fail(f"the paused agents ended at rounds {last}")
events = [r for k in (0, 1, 3) for r in records(f"paused/process-{k}.jsonl") if r.get("peer") in (2, 6)]
for kind in ("peer_down", "peer_up"):
    if not any(r["event"] == kind for r in events):
        fail(f"no neighbour logged {kind} for the paused agents: {events}")
avg = [json.loads(l) for l in open("paused/metrics.jsonl") if '"average"' in l]
free_avg = [json.loads(l) for l in open("free/metrics.jsonl") if '"average"' in l]
acc, cd, free_cd = avg[-1]["test_accuracy"], avg[-1]["consensus_distance"], free_avg[-1]["consensus_distance"]
if avg[-1]["round"] != 120 or acc < free_acc - PAUSE_BOUND:
    fail(f"after the pause: accuracy {acc:.4f} at round {avg[-1]['round']}, fault-free {free_acc:.4f}")
if cd > 1.5 * free_cd:
    fail(f"after the pause the consensus distance is {cd:.4f}, fault-free {free_cd:.4f}")
print(f"SIGSTOP of process 2 for 3 s: " + ", ".join(f"agent {r['agent']} caught up {r['round']} -> {r['to_round']}"
                                                  for r in jumps) +
      f"; accuracy {acc:.4f} vs fault-free {free_acc:.4f}; consensus {cd:.4f} vs {free_cd:.4f}")

# A kill during a checkpoint write: every round writes; the process is killed
# while a temporary file exists, and the previous checkpoint stays whole.
p = subprocess.Popen([murmur, "run", cfg, "--set", 'output.directory="mid"', "--set", "checkpoint.every=1",
                      "--set", "output.progress=false"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
deadline = time.time() + 120
caught = None
while time.time() < deadline and caught is None:
    if os.path.isdir("mid/checkpoints"):
        tmps = [f for f in os.listdir("mid/checkpoints") if ".tmp." in f]
        finals = [f for f in os.listdir("mid/checkpoints") if f.endswith(".safetensors")]
        if tmps and len(finals) == 8:
            p.send_signal(signal.SIGKILL)
            caught = tmps
p.wait()
if caught is None:
    fail("never saw a checkpoint being written")
for a in range(8):
    check_safetensors(f"mid/checkpoints/agent-{a}.safetensors")
r = subprocess.run([murmur, "run", cfg, "--set", 'output.directory="mid"', "--set", "checkpoint.every=1",
                    "--set", "output.progress=false", "--resume"], capture_output=True, text=True)
if r.returncode != 0 or "final average-model accuracy" not in r.stdout:
    fail("--resume after a kill during a write: " + r.stdout[-1000:] + r.stderr[-1000:])
print(f"killed while writing {caught[0]}: every agent-K.safetensors parses; --resume finished")

# A corrupt checkpoint is refused with its name.
victim = "mid/checkpoints/agent-5.safetensors"
with open(victim, "r+b") as f:
    f.truncate(os.path.getsize(victim) // 2)
r = subprocess.run([murmur, "run", cfg, "--set", 'output.directory="mid"', "--set", "checkpoint.every=1",
                    "--set", "output.progress=false", "--resume"], capture_output=True, text=True)
if r.returncode == 0 or "agent-5.safetensors" not in r.stderr:
    fail("a truncated checkpoint was not refused by name: " + r.stderr[-1000:])
print("a truncated checkpoint is refused:", r.stderr.strip().splitlines()[-1])
print("PASS")
