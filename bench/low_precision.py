#!/usr/bin/python3
"""Low-precision speed of murmur, beside PyTorch on the same cores.

Prints, per model: training img/s in f32 and bf16 (murmur) and in f32 and
bf16 autocast (PyTorch), inference img/s in f32 and int8 (murmur), the peak
memory of training, and the ratios; then, per convolution shape, the GFLOP/s
of murmur's conv2d layer against the bare oneDNN primitives (murmur_bench_conv).
Medians over alternating repetitions.

Usage: bench/low_precision.py [--threads 2] [--input 3,32,32] [--quick]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

if "OPENBLAS_CORETYPE" in os.environ and "--keep-openblas-env" not in sys.argv:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def murmur(binary, kind, model, norm, batch, threads, shape, precision, steps):
    cmd = [binary, "bench", kind, "--model", model, "--norm", norm, "--batch", str(batch), "--threads", str(threads),
           "--input", ",".join(map(str, shape)), "--precision", precision, "--steps", str(steps),
           "--warmup", "3", "--repeats", "1", "--json"]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    return out["images_per_second"], out["peak_memory_mib"]


def torch_rate(model, norm, batch, threads, shape, bf16, steps):
    """PyTorch training img/s, measured in a fresh process: in PyTorch 1.13 a
    bf16 autocast run slows later f32 runs in the same process (LeNet-5 on
    3x32x32: 8,100 img/s alone, 3,000 after an autocast run)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker",
           json.dumps([model, norm, batch, threads, list(shape), bf16, steps])]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def torch_worker(spec):
    model, norm, batch, threads, shape, bf16, steps = json.loads(spec)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = torch_models.build(model, tuple(shape), 10, norm).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x, y = torch.randn(batch, *shape), torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(batch * steps / (time.perf_counter() - t0))


def median_alternating(fns, repeats):
    results = [[] for _ in fns]
    for _ in range(repeats):
        for i, f in enumerate(fns):
            results[i].append(f())
    return [statistics.median(r) for r in results]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--torch-worker":
        torch_worker(sys.argv[2])
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--murmur", default=os.path.join(HERE, "..", "build", "app", "murmur"))
    p.add_argument("--conv", default=os.path.join(HERE, "..", "build", "bench", "murmur_bench_conv"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--input", default="3,32,32")
    p.add_argument("--train-batch", type=int, default=32)
    p.add_argument("--infer-batch", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.5, help="rough length of one repetition")
    p.add_argument("--quick", action="store_true", help="LeNet-5 and ResNet-20 only, 3 repetitions")
    p.add_argument("--keep-openblas-env", action="store_true")
    args = p.parse_args()
    shape = tuple(int(v) for v in args.input.split(","))
    cases = [("lenet5", "batchnorm"), ("resnet20", "batchnorm"), ("resnet20", "range-evonorm"), ("vgg11", "batchnorm")]
    if args.quick:
        cases, args.repeats = cases[:2], 3

    print(f"torch {torch.__version__}, {args.threads} thread(s), input {shape}, train batch {args.train_batch}, "
          f"inference batch {args.infer_batch}, median of {args.repeats}")
    print("training img/s (peak memory MiB)")
    print(f"{'model':>24} {'murmur f32':>16} {'murmur bf16':>16} {'bf16/f32':>9} {'torch f32':>10} "
          f"{'torch bf16':>11} {'ours/torch bf16':>16}")
    for model, norm in cases:
        probe = torch_rate(model, norm, args.train_batch, args.threads, shape, False, 2)
        steps = max(3, int(args.seconds * probe / args.train_batch))
        mem = {}

        def ours(precision):
            rate, mem[precision] = murmur(args.murmur, "train", model, norm, args.train_batch, args.threads, shape,
                                          precision, steps)
            return rate

        o32, o16, p32, p16 = median_alternating(
            [lambda: ours("f32"), lambda: ours("bf16"),
             lambda: torch_rate(model, norm, args.train_batch, args.threads, shape, False, steps),
             lambda: torch_rate(model, norm, args.train_batch, args.threads, shape, True, steps)], args.repeats)
        name = f"{model}/{norm}"
        print(f"{name:>24} {o32:>8.0f} ({mem['f32']:>5.0f}) {o16:>8.0f} ({mem['bf16']:>5.0f}) {o16 / o32:>8.2f}x "
              f"{p32:>10.0f} {p16:>11.0f} {o16 / p16:>15.2f}x", flush=True)

    print("\ninference img/s")
    print(f"{'model':>24} {'murmur f32':>11} {'murmur int8':>12} {'int8/f32':>9}")
    for model, norm in cases:
        probe, _ = murmur(args.murmur, "infer", model, norm, args.infer_batch, args.threads, shape, "f32", 3)
        steps = max(3, int(args.seconds * probe / args.infer_batch))
        f32, int8 = median_alternating(
            [lambda: murmur(args.murmur, "infer", model, norm, args.infer_batch, args.threads, shape, "f32", steps)[0],
             lambda: murmur(args.murmur, "infer", model, norm, args.infer_batch, args.threads, shape, "int8", steps)[0]],
            args.repeats)
        print(f"{model + '/' + norm:>24} {f32:>11.0f} {int8:>12.0f} {int8 / f32:>8.2f}x", flush=True)

    print("\nconvolution GFLOP/s: murmur's conv2d layer vs the bare oneDNN primitives (same shape, same process)")
    print(f"{'shape':>28} {'prec':>5} {'fwd ours':>9} {'fwd bare':>9} {'ratio':>6} {'bwd ours':>9} {'bwd bare':>9} {'ratio':>6}")
    shapes = [(64, 32, 64, 32, 3, 1, 1), (32, 16, 16, 32, 3, 1, 1), (32, 64, 64, 8, 3, 1, 1), (128, 32, 64, 16, 3, 2, 1)]
    for shp in shapes:
        for precision in ("f32", "bf16"):
            out = subprocess.run([args.conv, *map(str, shp), precision, str(args.threads), str(args.repeats)],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out)
            print(f"{r['shape']:>28} {precision:>5} {r['murmur_forward_gflops']:>9.0f} {r['bare_forward_gflops']:>9.0f} "
                  f"{r['murmur_forward_gflops'] / r['bare_forward_gflops']:>5.0%} {r['murmur_backward_gflops']:>9.0f} "
                  f"{r['bare_backward_gflops']:>9.0f} {r['murmur_backward_gflops'] / r['bare_backward_gflops']:>5.0%}",
                  flush=True)


if __name__ == "__main__":
    main()
