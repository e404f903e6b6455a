#!/usr/bin/python3
"""murmur's 8-bit norms and residual add against the thesis code's (issue 12).

References, transcribed in torch (autograd) from aparna-aketi/Low_Precision_DL,
quantized_training/quantize.py: RangeEN.forward (the norm of every quantised
model in the code), RangeBN.forward, Qsum.forward, with QuantMeasure,
UniformQuantize (straight-through) and UniformQuantizeGrad as they are there.
The stochastic rounding's noise is murmur's, read back from the tool, so both
sides round alike. The 8-bit EvoNorm-S0 has no code: its reference below is
murmur's own construction (the code's quantisation points on EvoNormSample2d),
said so in its name. One training forward and backward, then an eval forward.

Usage: quantized_norms_test.py MURMUR_FAKE_QUANT
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

# f32 against f32 in another order of sums: relative to the array's largest value.
TOLERANCE = 2e-5


def uniform_quantize(x, num_bits, min_value, max_value, noise=None):
    """UniformQuantize.forward (inplace = False, enforce_true_zero = False)."""
    output = x.clone()
    qmin, qmax = 0., 2. ** num_bits - 1.
    scale = (max_value - min_value) / (qmax - qmin)
    scale = max(scale, 1e-8)
    output.add_(-min_value).div_(scale).add_(qmin)
    if noise is not None:
        output.add_(noise)
    output.clamp_(qmin, qmax).round_()
    output.add_(-qmin).mul_(scale).add_(min_value)
    return output


class Quantize(torch.autograd.Function):
    """UniformQuantize: the gradient passes straight through."""
    @staticmethod
    def forward(ctx, x, min_value, max_value, noise):
        if min_value is None:  # quantize(t) with no range: t's own (a 1-row view)
            min_value, max_value = x.min(), x.max()
        return uniform_quantize(x, 8, min_value, max_value, noise)

    @staticmethod
    def backward(ctx, g):
        return g, None, None, None


class QuantizeGrad(torch.autograd.Function):
    """UniformQuantizeGrad: the error rounded stochastically on its own range."""
    @staticmethod
    def forward(ctx, x, noise):
        ctx.noise = noise
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return uniform_quantize(g, 8, float(g.min()), float(g.max()), ctx.noise), None


def own_range(t):
    return Quantize.apply(t, float(t.min()), float(t.max()), None)


class QuantMeasure:
    """QuantMeasure.forward: the batch mean of each sample's min and max; running = 0.1 running + 0.9 batch."""
    def __init__(self):
        self.running_min = torch.zeros(1)
        self.running_max = torch.zeros(1)

    def __call__(self, x, noise, training):
        if training:
            mn = x.detach().view(x.size(0), -1).min(-1)[0].mean()
            mx = x.detach().view(x.size(0), -1).max(-1)[0].mean()
            self.running_min.mul_(0.1).add_(mn * (1 - 0.1))
            self.running_max.mul_(0.1).add_(mx * (1 - 0.1))
        else:
            mn, mx = self.running_min, self.running_max
        # quantize(input, num_bits, min, max, num_chunks=16) lands in `stochastic`.
        return Quantize.apply(x, float(mn), float(mx), noise)


def scale_fix(m):
    return (0.5 * 0.35) * (1 + (math.pi * math.log(4)) ** 0.5) / ((2 * math.log(m)) ** 0.5)


def range_en(p, x, noise, training, measure, groups, chunks=16, eps=1e-5):
    """RangeEN.forward."""
    B, C, H, W = x.shape
    x = measure(x, noise["input"], training)
    qv = own_range(p["v"])
    hs = torch.clamp(((x * qv) / 6) + 0.5, min=0, max=1)
    n = x * hs
    y = x.reshape(B, groups, chunks, -1)
    mean_max = y.max(-1)[0].mean(-1)
    mean_min = y.min(-1)[0].mean(-1)
    scale = 1 / ((mean_max - mean_min) * scale_fix(y.size(-1)) + eps)
    scale = own_range(scale)
    x = n.reshape(B, groups, -1) * scale.view(scale.size(0), scale.size(1), 1)
    x = x.reshape(B, C, H, W)
    out = x * own_range(p["weight"])
    out = out + Quantize.apply(p["bias"], None, None, None)
    return QuantizeGrad.apply(out, noise.get("error"))


def evonorm_s0_8bit(p, x, noise, training, measure, groups, eps=1e-5):
    """murmur's construction (no reference code): EvoNormSample2d with RangeEN's quantisation points."""
    B, C, H, W = x.shape
    x = measure(x, noise["input"], training)
    qv = own_range(p["v"])
    n = x * (x * qv).sigmoid()
    var = x.reshape(B, groups, -1).var(dim=-1, unbiased=False)
    scale = own_range(1 / (var + eps).sqrt())
    x = (n.reshape(B, groups, -1) * scale.view(B, groups, 1)).reshape(B, C, H, W)
    out = x * own_range(p["weight"]) + Quantize.apply(p["bias"], None, None, None)
    return QuantizeGrad.apply(out, noise.get("error"))


class RangeBN:
    """RangeBN.forward (num_chunks = 16, momentum = 0.1, affine)."""
    def __init__(self, c):
        self.running_mean = torch.zeros(c)
        self.running_var = torch.zeros(c)
        self.measure = QuantMeasure()

    def __call__(self, p, x, noise, training, eps=1e-5):
        x = self.measure(x, noise["input"], training)
        if training:
            B, C, H, W = x.shape
            y = x.transpose(0, 1).contiguous().view(C, 16, B * H * W // 16)
            mean_max = y.max(-1)[0].mean(-1)
            mean_min = y.min(-1)[0].mean(-1)
            mean = y.view(C, -1).mean(-1)
            scale = 1 / ((mean_max - mean_min) * scale_fix(y.size(-1)) + eps)
            self.running_mean.mul_(0.1).add_(mean.detach() * (1 - 0.1))
            self.running_var.mul_(0.1).add_(scale.detach() * (1 - 0.1))
        else:
            mean, scale = self.running_mean, self.running_var
        scale = own_range(scale)
        out = (x - mean.view(1, -1, 1, 1)) * scale.view(1, -1, 1, 1)
        out = out * own_range(p["weight"]).view(1, -1, 1, 1)
        out = out + Quantize.apply(p["bias"], None, None, None).view(1, -1, 1, 1)
        return QuantizeGrad.apply(out, noise.get("error"))


def qsum(x, noise, training, measures, relu):
    """Qsum.forward(residual, out) on the tool's block: out = relu(x), residual = x (then murmur's ReLU if relu)."""
    q1 = measures[0](x, noise["input"], training)
    q2 = measures[1](torch.relu(x), noise["input2"], training)
    out = QuantizeGrad.apply(q1 + q2, noise.get("error"))
    return torch.relu(out) if relu else out


def param(c, shape):
    return torch.tensor(np.array(c, dtype=np.float32).reshape(shape), requires_grad=True)


tool = sys.argv[1]
gen = torch.Generator().manual_seed(21)
cases = []
for kind, shape, extra in [("range-evonorm", (3, 16, 8, 8), {"groups": 8}),
                           ("range-evonorm", (2, 8, 4, 4), {"groups": 2}),
                           ("evonorm", (3, 16, 4, 4), {"groups": 8}),
                           ("range-bn", (4, 6, 4, 4), {}),
                           ("range-bn", (2, 5, 8, 8), {}),
                           ("qsum", (2, 3, 4, 4), {"relu": False}),
                           ("qsum", (2, 3, 4, 4), {"relu": True})]:
    C = shape[1]
    x = torch.randn(shape, generator=gen) * 2 + 0.3
    dy = torch.randn(shape, generator=gen)
    params = {}
    if kind in ("range-evonorm", "evonorm"):
        params = {"weight": torch.rand(C, generator=gen) + 0.5, "bias": torch.randn(C, generator=gen) * 0.1,
                  "v": torch.rand(C, generator=gen) * 2}
    elif kind == "range-bn":
        params = {"weight": torch.rand(C, generator=gen) + 0.5, "bias": torch.randn(C, generator=gen) * 0.1}
    cases.append({"kind": kind, "shape": list(shape), "x": x.flatten().tolist(), "dy": dy.flatten().tolist(),
                  "params": {k: v.tolist() for k, v in params.items()}, **extra})

with tempfile.TemporaryDirectory() as d:
    spec, out = os.path.join(d, "spec.json"), os.path.join(d, "out.json")
    json.dump({"cases": [], "layers": cases}, open(spec, "w"))
    r = subprocess.run([tool, spec, out], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {r.stderr.strip()}")
    got = json.load(open(out))["layers"]


def close(name, mine, ref):
    mine = np.array(mine, dtype=np.float64).ravel()
    ref = ref.detach().numpy().astype(np.float64).ravel()
    err = float(np.abs(mine - ref).max() / max(np.abs(ref).max(), 1e-30))
    return err <= TOLERANCE, f"{name} {err:.1e}"


failures = 0
for k, (c, g) in enumerate(zip(cases, got)):
    shape = tuple(c["shape"])
    C = shape[1]
    tn = lambda v: torch.tensor(np.array(v, dtype=np.float32).reshape(shape))
    noise = {key: tn(v) for key, v in g["noise"].items()}
    eval_noise = {key: tn(v) for key, v in g["eval_noise"].items()}
    x = tn(c["x"]).requires_grad_(True)
    pshape = (1, C, 1, 1) if c["kind"] != "range-bn" else (C,)
    p = {name: param(v, pshape) for name, v in c["params"].items()}
    if c["kind"] == "range-evonorm":
        m = QuantMeasure()
        run = lambda xx, nz, tr: range_en(p, xx, nz, tr, m, c["groups"])
    elif c["kind"] == "evonorm":
        m = QuantMeasure()
        run = lambda xx, nz, tr: evonorm_s0_8bit(p, xx, nz, tr, m, c["groups"])
    elif c["kind"] == "range-bn":
        bn = RangeBN(C)
        run = lambda xx, nz, tr: bn(p, xx, nz, tr)
    else:
        ms = [QuantMeasure(), QuantMeasure()]
        run = lambda xx, nz, tr: qsum(xx, nz, tr, ms, c["relu"])
    y = run(x, noise, True)
    y.backward(tn(c["dy"]))
    checks = [close("y", g["y"], y), close("dx", g["dx"], x.grad)]
    checks += [close("d" + name, g["grads"][name], t.grad) for name, t in p.items()]
    with torch.no_grad():
        checks.append(close("y_eval", g["y_eval"], run(x.detach(), eval_noise, False)))
    ok = all(good for good, _ in checks)
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {c['kind']:14s} {str(shape):15s} " + ", ".join(t for _, t in checks))
if failures:
    sys.exit(f"FAIL: {failures} cases")
print(f"PASS (tolerance {TOLERANCE:g} of each array's largest value)")
