#!/usr/bin/python3
"""How many agents murmur runs in one process, and what each costs.

Runs `murmur run --profile` with a small model on Fashion-MNIST (IID
shards, ring, D-PSGD, batch 32) for a fixed number of rounds at growing agent
counts, and prints for each: wall time, the setup (data, shards, every
agent's model) and the rounds apart (from the run's profile record),
agent-rounds per second over the rounds, peak resident memory, and the memory
per agent beyond its model (the slope of peak memory over agent count, minus
the model's own arrays: parameters, gradients, momentum, the protocol's
momentum and the two received neighbour models).

Usage: bench/scale.py [--murmur build/app/murmur] [--model logreg] [--counts 100,1000,3000,10000] [--rounds 20]
"""

import argparse
import os
import json
import resource
import subprocess
import tempfile
import time


def run(binary, model, agents, rounds):
    with tempfile.TemporaryDirectory() as out:
        config = os.path.join(out, "run.toml")
        with open(config, "w") as f:
            f.write(f"""[run]
rounds = {rounds}
[data]
partition = "iid"
batch = 32
[model]
name = "{model}"
[protocol]
algorithm = "dsgd"
[topology]
kind = "ring"
agents = {agents}
[output]
directory = "{out}"
eval_every_epochs = 1000
eval_samples = 100
progress = false
""")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        # A fresh process per count: ru_maxrss of the children is the largest
        # so far, so counts run in increasing order.
        p = subprocess.run(["/usr/bin/time", "-f", "%M", binary, "run", config, "--profile"], capture_output=True,
                           text=True)
        wall = time.perf_counter() - start
        if p.returncode != 0:
            return None
        rss_kib = int(p.stderr.strip().splitlines()[-1])
        # The model's size from what an agent sends: dense f32 frames of 56 + 4 d bytes.
        floats = None
        profile = None
        with open(os.path.join(out, "metrics.jsonl")) as f:
            for line in f:
                r = json.loads(line)
                if r.get("event") == "profile":
                    profile = r
                elif r.get("agent") == 0 and r["messages_sent"]:
                    floats = (r["bytes_sent"] / r["messages_sent"] - 56) / 4
        return {"agents": agents, "wall_s": wall, "rss_mib": rss_kib / 1024, "floats": floats,
                "setup_s": profile["setup_seconds"], "rounds_s": profile["wall_time_s"] - profile["setup_seconds"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--murmur", default="build/app/murmur")
    ap.add_argument("--model", default="logreg")
    ap.add_argument("--counts", default="100,1000,3000,10000")
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    rows = []
    print(f"{a.model} agents, {a.rounds} rounds")
    print(f"{'agents':>7} {'wall s':>8} {'setup s':>8} {'rounds s':>9} {'agent-rounds/s':>15} {'peak MiB':>9} "
          f"{'MiB/agent':>10}")
    for n in [int(x) for x in a.counts.split(",")]:
        r = run(a.murmur, a.model, n, a.rounds)
        if r is None:
            print(f"{n} agents: the run failed")
            break
        rows.append(r)
        print(f"{n:7d} {r['wall_s']:8.1f} {r['setup_s']:8.1f} {r['rounds_s']:9.1f} "
              f"{n * a.rounds / r['rounds_s']:15.0f} {r['rss_mib']:9.0f} {r['rss_mib'] / n:10.3f}", flush=True)
    params = rows[-1]["floats"] if rows else None
    if len(rows) >= 2 and params:
        first, last = rows[0], rows[-1]
        per_agent = (last["rss_mib"] - first["rss_mib"]) / (last["agents"] - first["agents"])
        model_mib = params * 4 * 6 / 2**20
        print(f"{a.model}: {params:.0f} parameters ({params * 4 / 2**20:.3f} MiB); memory per agent "
              f"{per_agent:.3f} MiB (slope from {first['agents']} to {last['agents']} agents), of which the "
              f"model's arrays (x6) {model_mib:.3f} MiB: {per_agent - model_mib:.3f} MiB beyond the model")
    print(f"largest count run: {rows[-1]['agents'] if rows else 0}")


if __name__ == "__main__":
    main()
