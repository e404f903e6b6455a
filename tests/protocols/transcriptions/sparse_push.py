"""Sparse-Push (Aketi et al. 2021) and QGM over push-sum: SGD over push-sum
with error-feedback compression and a consensus step γ, as the same first
author's code runs it (the Sparse-Push paper has no public code; this is the
code ALGORITHMS.md §3.1 reconstructs it from).

Transcribed from aparna-aketi/Low_Precision_DL, trainer_ds.py train():
forward (the pre-hook adds the last gossip and de-biases), backward (the hook
turns the model into the numerator: ps_numerator), optimizer.step() on the
numerator (torch SGD, Nesterov, weight decay on the numerator; with --qgm 1
plain SGD and the hook's momentum), model.transfer_params(); and from
gossip_ds/distributed.py and gossip_ds/gossiper.py:
  transfer_params: v = x + e;  _gossip_into_receive_buffer: c = C(v) layer-wise
    (sparsify_layerwise, top-k of max(1, int(size (1 - ratio))) entries by
    magnitude), e = v - c;
  SGD_DS.mix(residual=True): each out-peer gets p c (values, indices) and
    p w (uncompressed); the receive buffer starts from (p - 1) [c, w] and adds
    what arrives (UniformMixing: p = 1 / (out-peers + 1));
  _query_gossip_queue: w += γ ρ, x += γ r (and, with QGM,
    m += γ r (β - 1) / (lr w) with the updated w);
  ps_numerator with QGM: g' = g + wd x, buff = β m + g', d = g' + β buff,
    m = β m + (1 - β) d.
"""
import numpy as np

from common import gradient, sgd_direction


def top_k(v, tensors, keep):
    """sparsify_layerwise with get_top_k, then unsparsify: per tensor the
    max(1, int(size keep)) entries largest in magnitude, zeros elsewhere."""
    c = np.zeros_like(v)
    start = 0
    for size in tensors:
        part = v[start:start + size]
        k = max(1, int(size * keep))
        idx = np.argsort(-np.abs(part), kind="stable")[:k]
        c[start + idx] = part[idx]
        start += size
    return c


def push_sum(a, b, x0, weights, lr, beta, nesterov, wd, gamma, tensors=None, keep=1.0, qgm=False):
    n = len(x0)
    x = x0.copy()  # numerators
    w = np.ones((n, 1))
    e = np.zeros_like(x)
    m = np.zeros_like(x)
    buf = None
    out = []
    for t, p in enumerate(weights):
        z = x / w
        g = gradient(a, b, z)
        if qgm:
            gp = g + wd * x
            d = gp + beta * (beta * m + gp)
            m = beta * m + (1 - beta) * d
        else:
            buf, d = sgd_direction(buf, g + wd * x, beta, nesterov)
        x = x - lr[t] * d
        v = x + e
        c = np.array([top_k(v[i], tensors, keep) for i in range(n)]) if tensors else v
        e = v - c
        r = gamma * (p @ c - c)  # (p_ii - 1) c_i + Σ_j p_ij c_j
        rho = gamma * (p @ w - w)
        w = w + rho
        x = x + r
        if qgm:
            m = m + r * (beta - 1) / (lr[t] * w)
        out.append((x / w).copy())
    return np.array(out)
