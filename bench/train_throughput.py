#!/usr/bin/python3
"""Training throughput of murmur vs PyTorch on the same cores.

Runs `murmur bench train` and the same model in PyTorch (Debian's
python3-torch on OpenBLAS, oneDNN inside) with the same batch, threads,
input shape and optimizer (SGD, momentum 0.9, weight decay 5e-4), on random
data, and prints the median images per second of each and their ratio.

Usage: bench/train_throughput.py [--murmur build/app/murmur] [--threads 2]
       [--cases lenet5:32,resnet20:32,resnet20:128] [--input 1,28,28]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# This workplace pins OpenBLAS to an older kernel set (OPENBLAS_CORETYPE) that
# slows it down; PyTorch as a user would best have it runs without the pin.
if "OPENBLAS_CORETYPE" in os.environ and "--keep-openblas-env" not in sys.argv:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402


class TorchRun:
    """One PyTorch model, optimizer and random batch, kept across repetitions."""

    def __init__(self, model_name, batch, threads, input_shape):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.batch = batch
        self.model = torch_models.build(model_name, input_shape)
        self.model.train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x = torch.randn(batch, *input_shape)
        self.y = torch.randint(0, 10, (batch,))
        self.params = sum(p.numel() for p in self.model.parameters())

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        self.loss_fn(self.model(self.x), self.y).backward()
        self.opt.step()

    def rate(self, steps):
        t0 = time.perf_counter()
        for _ in range(steps):
            self.step()
        return self.batch * steps / (time.perf_counter() - t0)


def murmur_throughput(binary, model_name, batch, threads, input_shape, steps, warmup, repeats):
    cmd = [binary, "bench", "train", "--model", model_name, "--batch", str(batch), "--threads", str(threads),
           "--input", ",".join(map(str, input_shape)), "--steps", str(steps), "--warmup", str(warmup),
           "--repeats", str(repeats), "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_second"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--murmur", default=os.path.join(here, "..", "build", "app", "murmur"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--cases", default="lenet5:32,resnet20:32,resnet20:128")
    p.add_argument("--input", default="1,28,28", help="sample shape C,H,W (Fashion-MNIST by default)")
    p.add_argument("--seconds", type=float, default=2.0, help="rough length of one timed repetition")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--keep-openblas-env", action="store_true", help="keep OPENBLAS_CORETYPE/L2_SIZE as set")
    args = p.parse_args()
    input_shape = tuple(int(v) for v in args.input.split(","))

    print(f"torch {torch.__version__}, {args.threads} thread(s), input {input_shape}, "
          f"median of {args.repeats} repetitions, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    print(f"{'model':>10} {'batch':>6} {'murmur img/s':>13} {'torch img/s':>12} {'ratio':>6}")
    for case in args.cases.split(","):
        name, batch = case.split(":")
        batch = int(batch)
        run = TorchRun(name, batch, args.threads, input_shape)
        for _ in range(3):
            run.step()
        # Size a repetition so it lasts about args.seconds, then alternate the two
        # sides repetition by repetition, so drifting machine load hits both alike.
        steps = max(3, int(args.seconds * run.rate(2) / batch))
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(murmur_throughput(args.murmur, name, batch, args.threads, input_shape, steps, 3, 1))
            theirs.append(run.rate(steps))
        ours, theirs = statistics.median(ours), statistics.median(theirs)
        print(f"{name:>10} {batch:>6} {ours:>13.0f} {theirs:>12.0f} {ours / theirs:>6.2f}x   "
              f"({run.params} parameters)", flush=True)


if __name__ == "__main__":
    main()
