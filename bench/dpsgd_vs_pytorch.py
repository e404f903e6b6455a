#!/usr/bin/python3
"""The same D-PSGD run in murmur and in a plain PyTorch simulation, side by side.

16 LeNet-5 agents on a ring (weights 1/3), IID Fashion-MNIST (the real data
from Debian), batch 32 per agent, SGD lr 0.05 with momentum 0.9, 5 epochs of
each agent's shard, local step then gossip (adapt-then-combine). PyTorch
keeps all agents in one process and averages neighbours in place after each
step (the way the Python research code simulates D-PSGD); murmur runs
`murmur run` (one actor per agent, every message a ZeroMQ frame). Both use
the same cores and evaluate the averaged model on the full test set every
half epoch. Printed: training images per second (5 epochs x 60,000 images /
training time: PyTorch's loop without its evaluations, murmur's run with
one evaluation at the end), wall time to 0.87 averaged-model accuracy
(evaluations included, every half epoch on both sides), and the ratios
murmur / PyTorch.

Usage: bench/dpsgd_vs_pytorch.py [--murmur build/app/murmur] [--threads 2]
       [--epochs 5] [--skip-torch] [--skip-murmur]
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

if "OPENBLAS_CORETYPE" in os.environ and "--keep-openblas-env" not in sys.argv:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
AGENTS, BATCH, LR, MOMENTUM, TARGET = 16, 32, 0.05, 0.9, 0.87


def read_idx(name):
    path = os.path.join(DATA, name)
    opener = gzip.open if path.endswith(".gz") else open
    if not os.path.exists(path):
        path, opener = path[:-3], open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load():
    xs = read_idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    ys = read_idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    xt = read_idx("t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    yt = read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64)
    mean, std = xs.mean(), xs.std()
    norm = lambda x: torch.from_numpy(((x - mean) / std)[:, None, :, :].copy())  # noqa: E731
    return norm(xs), torch.from_numpy(ys), norm(xt), torch.from_numpy(yt)


def torch_run(epochs, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    xs, ys, xt, yt = load()
    n = len(ys)
    perm = torch.randperm(n)
    shards = [perm[i * (n // AGENTS):(i + 1) * (n // AGENTS)] for i in range(AGENTS)]
    models = [torch_models.build("lenet5", (1, 28, 28)) for _ in range(AGENTS)]
    for m in models[1:]:
        m.load_state_dict(models[0].state_dict())
    opts = [torch.optim.SGD(m.parameters(), lr=LR, momentum=MOMENTUM) for m in models]
    steps = (n // AGENTS + BATCH - 1) // BATCH
    evaluator = torch_models.build("lenet5", (1, 28, 28))
    train_time, curve = 0.0, []
    wall_start = time.perf_counter()
    for epoch in range(epochs):
        orders = [s[torch.randperm(len(s))] for s in shards]
        for step in range(steps):
            t0 = time.perf_counter()
            for i, m in enumerate(models):
                idx = orders[i][step * BATCH:(step + 1) * BATCH]
                loss = torch.nn.functional.cross_entropy(m(xs[idx]), ys[idx])
                opts[i].zero_grad()
                loss.backward()
                opts[i].step()
            with torch.no_grad():  # neighbours averaged in place: x_i <- (x_{i-1} + x_i + x_{i+1}) / 3
                flat = torch.stack([torch.nn.utils.parameters_to_vector(m.parameters()) for m in models])
                mixed = (flat + flat.roll(1, 0) + flat.roll(-1, 0)) / 3
                for i, m in enumerate(models):
                    torch.nn.utils.vector_to_parameters(mixed[i], m.parameters())
            train_time += time.perf_counter() - t0
            if (step + 1) % (steps // 2) == 0 or step + 1 == steps:
                with torch.no_grad():
                    torch.nn.utils.vector_to_parameters(mixed.mean(0), evaluator.parameters())
                    acc = (evaluator(xt).argmax(1) == yt).float().mean().item()
                curve.append((epoch + (step + 1) / steps, time.perf_counter() - wall_start, acc))
    return {"images_per_second": epochs * n / train_time, "train_time_s": train_time, "curve": curve}


def murmur_run(binary, epochs, threads, eval_every):
    with tempfile.TemporaryDirectory() as out:
        config = os.path.join(out, "run.toml")
        with open(config, "w") as f:
            f.write(f"""[run]
seed = 1
epochs = {epochs}
threads = {threads}
[data]
partition = "iid"
batch = {BATCH}
[model]
name = "lenet5"
[optimizer]
lr = {LR}
momentum = {MOMENTUM}
nesterov = false
weight_decay = 0.0
[protocol]
algorithm = "dsgd"
[topology]
kind = "ring"
agents = {AGENTS}
[output]
directory = "{out}"
eval_every_epochs = {eval_every}
eval_samples = 500
progress = false
""")
        start = time.perf_counter()
        subprocess.run([binary, "run", config], check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        curve = []
        with open(os.path.join(out, "metrics.jsonl")) as f:
            for line in f:
                r = json.loads(line)
                if r.get("agent") == "average":
                    curve.append((r["epoch"], r["wall_time_s"], r["test_accuracy"]))
    total = curve[-1][1]
    return {"images_per_second": epochs * 60000 / total, "train_time_s": total, "process_wall_s": wall,
            "curve": curve}


def time_to(curve, target):
    for epoch, t, acc in curve:
        if acc >= target:
            return epoch, t
    return None, None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--murmur", default="build/app/murmur")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--skip-murmur", action="store_true")
    a = p.parse_args()
    results = {}
    if not a.skip_murmur:
        # Throughput from a run that evaluates only at the end; the curve from
        # one that evaluates every half epoch (as the PyTorch run does).
        speed = murmur_run(a.murmur, a.epochs, a.threads, a.epochs)
        results["murmur"] = murmur_run(a.murmur, a.epochs, a.threads, 0.5)
        results["murmur"]["images_per_second"] = speed["images_per_second"]
        results["murmur"]["train_time_s"] = speed["train_time_s"]
    if not a.skip_torch:
        results["pytorch"] = torch_run(a.epochs, a.threads)
    print(f"D-PSGD, {AGENTS} LeNet-5 agents, ring, IID Fashion-MNIST, batch {BATCH}, lr {LR}, momentum {MOMENTUM}, "
          f"{a.epochs} epochs, {a.threads} threads")
    print(f"{'':10} {'img/s':>10} {'train s':>9} {'to 0.87 (epoch, s)':>20} {'final acc':>10}")
    for name, r in results.items():
        e, t = time_to(r["curve"], TARGET)
        reach = f"{e:.1f}, {t:.1f}" if e is not None else "not reached"
        print(f"{name:10} {r['images_per_second']:10.0f} {r['train_time_s']:9.1f} {reach:>20} {r['curve'][-1][2]:10.4f}")
    if len(results) == 2:
        m, t = results["murmur"], results["pytorch"]
        print(f"murmur / PyTorch: {m['images_per_second'] / t['images_per_second']:.2f}x images per second", end="")
        (_, tm), (_, tt) = time_to(m["curve"], TARGET), time_to(t["curve"], TARGET)
        if tm and tt:
            print(f", {tt / tm:.2f}x faster to {TARGET}")
        else:
            print()
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "curve"} | {"curve": v["curve"]}
                      for k, v in results.items()}))


if __name__ == "__main__":
    main()
