"""Shared by the transcriptions: the least-squares problem, the run of
murmur's own algorithm (murmur_trajectory), and the comparison.

Every transcription is an independent NumPy re-statement of an author's
update rule, written from their code (cited by repository and path in its
file), in float64. murmur trains in float32; after 50 rounds the two must
agree to TOLERANCE relative (|x_murmur - x_ref| / |x_ref| per agent).
"""
import json
import os
import subprocess
import tempfile

import numpy as np

TOLERANCE = 1e-5
ROUNDS = 50


def problem(agents=8, dim=6, rows=10, heterogeneity=0.5, seed=0):
    """A_i, b_i = A_i x_i* with local optima x_i* spread around a centre, x0."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=dim)
    a = rng.normal(size=(agents, rows, dim))
    local = centre + heterogeneity * rng.normal(size=(agents, dim))
    b = np.einsum("ird,id->ir", a, local)
    x0 = 0.5 * rng.normal(size=(agents, dim))
    return a, b, x0.astype(np.float32).astype(np.float64)


def gradient(a, b, x):
    """Rows of ∇f_i(x_i) for f_i(x) = |A_i x - b_i|² / (2 m), for every agent, as
    murmur's driver hands them over (f64 from the f32 model, rounded to f32)."""
    m = a.shape[1]
    x32 = np.asarray(x, dtype=np.float32).astype(np.float64)
    e = np.einsum("ird,id->ir", a, x32) - b
    return (np.einsum("ird,ir->id", a, e) / m).astype(np.float32).astype(np.float64)


def step_decay(rounds=ROUNDS, lr=0.05, at=25, factor=0.2):
    """A learning rate that changes mid-run (rules that use the previous lr show it)."""
    return [lr if t < at else lr * factor for t in range(rounds)]


def run_murmur(tool, algorithm, options, optimizer, a, b, x0, lr, graph="ring", weights="mh", rounds=ROUNDS,
               gossip_tail=0, tensors=None, exact_average_every=0, consensus=None, mixes_per_step=1):
    """murmur's trajectory: params[round][agent] and the weights of each round
    (with `consensus`, protocols/consensus.hpp's control: of each round run)."""
    spec = {"algorithm": algorithm, "options": options, "optimizer": optimizer, "graph": graph,
            "weights": weights, "rounds": rounds, "lr": list(lr), "A": a.tolist(), "b": b.tolist(),
            "x0": x0.tolist(), "gossip_tail": gossip_tail, "exact_average_every": exact_average_every}
    if tensors:
        spec["tensors"] = list(tensors)
    if consensus:
        spec["consensus"] = consensus
    if mixes_per_step > 1:
        spec["mixes_per_step"] = mixes_per_step
    with tempfile.TemporaryDirectory() as d:
        sp, out = os.path.join(d, "spec.json"), os.path.join(d, "out.json")
        json.dump(spec, open(sp, "w"))
        r = subprocess.run([tool, sp, out], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"murmur_trajectory {algorithm}: {r.stderr.strip()}")
        got = json.load(open(out))
    return np.array(got["params"], dtype=np.float64), [np.array(w) for w in got["weights"]]


def relative_error(mine, ref):
    """Worst agent's |x_murmur - x_ref| / |x_ref|."""
    return max(np.linalg.norm(mine[i] - ref[i]) / max(np.linalg.norm(ref[i]), 1e-12) for i in range(len(ref)))


def sgd_direction(buf, d, beta, nesterov):
    """torch.optim.SGD's direction for d (the gradient with weight decay):
    buf = d at the first step, then β buf + d; Nesterov d + β buf, else buf;
    without momentum d itself. Returns (buf, direction)."""
    if beta == 0:
        return buf, d
    buf = d.copy() if buf is None else beta * buf + d
    return buf, (d + beta * buf if nesterov else buf)
