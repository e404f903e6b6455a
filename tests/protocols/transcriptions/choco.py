"""CHOCO-SGD with the scaled-sign compressor, in the paper's order and in
the code's.

Transcribed from epfml/ChocoSGD, dl_code/pcode/optim/parallel_choco.py:
  ParallelCHOCO.step(): utils.apply_gradient (d = g + wd x; torch-style
    momentum; x -= lr d), then the sync thread:
    utils.update_params_from_neighbor: x += γ (memory - x̂_i), where
    memory = Σ_j w_ij x̂_j (self included) and every x̂ starts at 0;
    CHOCOSignCompressor.compress: per tensor u = x - x̂_i, sent as its
    l1 norm and its signs; uncompress: q = |u|_1 / numel · sign(u);
    x̂_i += q (own copy), memory += w_ij q_j for each j in neighbors_info.
That is the code's order (consensus, then compress: murmur's
consensus_first = true). The paper's (Koloskova et al. 2019, Algorithm 2)
compresses x_{t+1/2} - x̂ first, updates the copies, then takes the
consensus step: x = x_{t+1/2} + γ (Σ_j w_ij x̂_j - x̂_i).
"""
import numpy as np

from common import gradient, sgd_direction


def scaled_sign(u, tensors):
    out = np.empty_like(u)
    start = 0
    for size in tensors:
        part = u[:, start:start + size]
        scale = np.abs(part).sum(axis=1, keepdims=True) / size
        out[:, start:start + size] = scale * np.where(part >= 0, 1.0, -1.0)
        start += size
    return out


def choco(a, b, x0, weights, lr, beta, nesterov, wd, gamma, tensors, consensus_first=False, compress=scaled_sign):
    x = x0.copy()
    x_hat = np.zeros_like(x)
    s = np.zeros_like(x)  # Σ_j w_ij x̂_j
    buf = None
    out = []
    for t, w in enumerate(weights):
        buf, step = sgd_direction(buf, gradient(a, b, x) + wd * x, beta, nesterov)
        x = x - lr[t] * step
        if consensus_first:
            x = x + gamma * (s - x_hat)
        q = compress(x - x_hat, tensors)
        x_hat = x_hat + q
        s = s + w @ q
        if not consensus_first:
            x = x + gamma * (s - x_hat)
        out.append(x.copy())
    return np.array(out)


def identity(u, tensors):
    return u.copy()
