#!/usr/bin/python3
"""data.partition_file and `murmur partition --write` with NumPy (issue 12):
the split murmur writes is the one numpy reads (.npy and JSON agree, every
sample at most once); a split numpy writes (2-D rows, a 1-D assignment, and
JSON) drives a run, which reports the rounds per epoch of its smallest shard;
a file with a sample in two agents is refused, naming the file and sample.

Usage: partition_file_test.py MURMUR REPO
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

murmur, repo = sys.argv[1], sys.argv[2]
cfg = os.path.join(repo, "configs/faults/tiny-faults.toml")
work = tempfile.mkdtemp(prefix="murmur-partition-")
os.chdir(work)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(*args, ok=True):
    r = subprocess.run([murmur, *args], capture_output=True, text=True)
    if ok and r.returncode != 0:
        fail(" ".join(args) + ": " + r.stdout[-1500:] + r.stderr[-1500:])
    return r


# murmur writes, numpy reads.
for ext in ("npy", "json"):
    run("partition", "--agents", "8", "--scheme", "dirichlet", "--alpha", "0.5", "--train-limit", "4000",
        "--seed", "1", "--write", f"split.{ext}")
a = np.load("split.npy")
shards_json = json.load(open("split.json"))
if a.ndim == 1:
    if a.shape != (4000,):
        fail(f"the 1-D assignment has shape {a.shape}")
    shards_npy = [sorted(np.flatnonzero(a == k).tolist()) for k in range(8)]
else:
    shards_npy = [sorted(r) for r in a.tolist()]
if shards_npy != [sorted(s) for s in shards_json]:
    fail("the .npy and JSON splits differ")
flat = [i for s in shards_json for i in s]
if len(flat) != len(set(flat)) or min(flat) < 0 or max(flat) >= 4000:
    fail("murmur's split has a sample twice or outside the data")
print(f"murmur partition --write: {len(flat)} of 4000 samples over 8 agents, .npy and JSON agree")

# numpy writes, murmur runs on it: agent k gets 64 + 32 k samples, so the
# smallest shard (64, batch 32) gives 2 rounds per epoch.
rng = np.random.default_rng(0)
perm = rng.permutation(4000)
sizes = [64 + 32 * k for k in range(8)]
shards = np.split(perm[:sum(sizes)], np.cumsum(sizes)[:-1])
assign = np.full(4000, -1, dtype=np.int32)
for k, s in enumerate(shards):
    assign[s] = k
np.save("assign.npy", assign)
json.dump([s.tolist() for s in shards], open("numpy.json", "w"))
equal = perm[:8 * 100].reshape(8, 100).astype(np.int64)  # 100 each: 4 rounds per epoch
np.save("rows.npy", equal)
for name, per_epoch in (("assign.npy", 2), ("numpy.json", 2), ("rows.npy", 4)):
    r = run("run", cfg, "--set", f'data.partition_file="{name}"', "--set", "run.rounds=4",
            "--set", f'output.directory="out-{name}"')
    m = re.search(r"\((\d+) per epoch\)", r.stdout)
    if not m or int(m.group(1)) != per_epoch:
        fail(f"{name}: expected {per_epoch} rounds per epoch: {r.stdout[-800:]}")
    print(f"a run on numpy's {name}: {per_epoch} rounds per epoch, as its smallest shard gives")

bad = [s.tolist() for s in shards]
bad[3].append(bad[0][0])
json.dump(bad, open("bad.json", "w"))
r = run("run", cfg, "--set", 'data.partition_file="bad.json"', "--set", "run.rounds=2", ok=False)
if r.returncode == 0 or "bad.json" not in r.stderr or f"sample {bad[0][0]} is in agents 0 and 3" not in r.stderr:
    fail("a sample in two agents was not refused by name: " + r.stderr[-800:])
print("refused:", r.stderr.strip().splitlines()[-1])
print("PASS")
