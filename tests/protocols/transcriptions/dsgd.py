"""D-PSGD with local momentum, and with quasi-global momentum (QG-DSGDm).

Transcribed from epfml/quasi-global-momentum:
  code/pcode/optim/decentralized_sgd.py (step: utils.apply_gradient, then
    decentralized_aggregator._agg(params, op="weighted")),
  code/pcode/optim/utils.py (apply_gradient: d = g + wd x; buf = β buf + d,
    first buf = d; Nesterov d + β buf, else buf; x -= lr d),
  code/pcode/optim/decentralized_qg_sgd.py (step: d = g + wd x; m' = β m + d;
    Nesterov d + β m', else m'; x_half = x - lr (.); x = Σ_j w_ij x_half_j;
    v += (x_before - x) / lr; every local_step rounds
    m = (1 - factor) m + factor v / local_step, v = 0).
murmur's qgm_mu is the code's 1 - factor (the code's default factor 0.1 is
murmur's qgm_mu = 0.9).
"""
import numpy as np

from common import gradient, sgd_direction


def local_momentum(a, b, x0, weights, lr, beta, nesterov, wd):
    x = x0.copy()
    buf = None
    out = []
    for t, w in enumerate(weights):
        buf, step = sgd_direction(buf, gradient(a, b, x) + wd * x, beta, nesterov)
        half = x - lr[t] * step
        x = w @ half  # x_i = Σ_j w_ij x_half_j
        out.append(x.copy())
    return np.array(out)


def quasi_global(a, b, x0, weights, lr, beta, nesterov, wd, mu, period=1):
    factor = 1.0 - mu
    x = x0.copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    out = []
    for t, w in enumerate(weights):
        before = x.copy()
        d = gradient(a, b, x) + wd * x
        mt = beta * m + d
        step = d + beta * mt if nesterov else mt
        x = w @ (x - lr[t] * step)
        v += (before - x) / lr[t]
        if (t + 1) % period == 0:
            m = (1 - factor) * m + factor * v / period
            v = np.zeros_like(v)
        out.append(x.copy())
    return np.array(out)
