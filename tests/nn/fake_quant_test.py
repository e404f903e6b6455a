#!/usr/bin/python3
"""murmur's 8-bit quantiser against the thesis code's, bit for bit (issue 12).

The reference is a transcription, in torch, of UniformQuantize.forward and
QuantMeasure's training range from aparna-aketi/Low_Precision_DL,
quantized_training/quantize.py (enforce_true_zero = False, the path every
quantised layer takes): the scale in Python floats, each tensor operation in
float32 with its scalar cast to float32, round half to even. The stochastic
rounding's noise is given to both (uniform in [-0.5, 0.5)).

Usage: fake_quant_test.py MURMUR_FAKE_QUANT
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch


def uniform_quantize(x, num_bits, min_value, max_value, noise=None):
    """quantize.py, UniformQuantize.forward (inplace = False, enforce_true_zero = False)."""
    output = x.clone()
    qmin = 0.
    qmax = 2. ** num_bits - 1.
    scale = (max_value - min_value) / (qmax - qmin)
    scale = max(scale, 1e-8)
    output.add_(-min_value).div_(scale).add_(qmin)
    if noise is not None:
        output.add_(noise)
    output.clamp_(qmin, qmax).round_()
    output.add_(-qmin).mul_(scale).add_(min_value)
    return output


def measure_range(x, samples):
    """quantize.py, QuantMeasure.forward in training: float() of the batch mean of each sample's min and max."""
    v = x.view(samples, -1)
    return float(v.min(-1)[0].mean()), float(v.max(-1)[0].mean())


tool = sys.argv[1]
gen = torch.Generator().manual_seed(12)
cases, refs = [], []
for k in range(40):
    n = 257
    x = torch.randn(n, generator=gen) * (0.01 if k % 4 == 0 else 3.0)
    if k % 5 == 0:
        x = x.abs()  # ReLU outputs: nothing below 0
    if k % 3 == 0:
        lo, hi = float(x.min()), float(x.max())  # the weights' and errors' range
    else:
        lo, hi = measure_range(x[:256], 8)  # a batch range narrower than the values: clamping shows
    bits = 8 if k % 7 else 4
    noise = torch.rand(n, generator=gen) - 0.5 if k % 2 else None
    if k == 39:
        lo = hi = float(x[0])  # a constant range: the 1e-8 floor of the scale
    cases.append({"x": x.tolist(), "min": lo, "max": hi, "bits": bits,
                  **({"noise": noise.tolist()} if noise is not None else {})})
    refs.append(uniform_quantize(x, bits, lo, hi, noise))
rows, row_refs = [], []
for k in range(10):
    samples = 4 + k
    x = torch.randn(samples * 31, generator=gen) * (k + 1)
    rows.append({"x": x.tolist(), "samples": samples})
    row_refs.append(measure_range(x, samples))

with tempfile.TemporaryDirectory() as d:
    spec, out = os.path.join(d, "spec.json"), os.path.join(d, "out.json")
    json.dump({"cases": cases, "rows": rows}, open(spec, "w"))
    r = subprocess.run([tool, spec, out], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {r.stderr.strip()}")
    got = json.load(open(out))

failures = 0
for k, (mine, ref) in enumerate(zip(got["quantized"], refs)):
    mine = np.array(mine, dtype=np.float32)
    ref = ref.numpy()
    levels = len(np.unique(ref))
    differ = int((mine != ref).sum())
    ok = differ == 0 and levels <= 2 ** cases[k]["bits"]
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} case {k:2d}: {cases[k]['bits']} bits, "
          f"{'stochastic' if 'noise' in cases[k] else 'nearest'}, {levels} levels, {differ} of {len(ref)} values differ")
for k, ((lo, hi), (rlo, rhi)) in enumerate(zip(got["ranges"], row_refs)):
    # torch's f32 mean against murmur's f64 mean rounded to f32: one f32 ulp apart at most.
    ok = abs(lo - rlo) <= 1.2e-7 * abs(rlo) and abs(hi - rhi) <= 1.2e-7 * abs(rhi)
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} range {k}: ({lo:.7g}, {hi:.7g}) vs ({rlo:.7g}, {rhi:.7g})")
if failures:
    sys.exit(f"FAIL: {failures} cases")
print("PASS")
