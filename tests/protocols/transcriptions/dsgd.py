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


def slowmo(a, b, x0, ring, rounds, lr, beta, nesterov, wd, tau, slow_beta=0.0, slow_alpha=1.0):
    """D-PSGD with the QGM code's SlowMo (decentralized_sgd.py, step() after
    the gossip, when slowmo_tau > 0 and local_index % slowmo_tau == 0, the
    index of this step counted from 0): x̄ = the exact average
    (world_aggregator._agg(op="avg")); u = slowmo_beta u + (x_slow - x̄) / lr;
    x_slow = x_slow - slowmo_alpha lr u; the model becomes x_slow. x_slow
    starts as the agent's x^0 and u at 0. slowmo_beta = 0, slowmo_alpha = 1 is
    periodic exact averaging. `ring` is the gossip's W on every step."""
    x = x0.copy()
    slow = x0.copy()
    u = np.zeros_like(x)
    buf = None
    out = []
    for t in range(rounds):
        buf, step = sgd_direction(buf, gradient(a, b, x) + wd * x, beta, nesterov)
        x = ring @ (x - lr[t] * step)
        if t % tau == 0:
            avg = np.tile(x.mean(axis=0), (len(x), 1))
            u = slow_beta * u + (slow - avg) / lr[t]
            slow = slow - slow_alpha * lr[t] * u
            x = slow.copy()
        out.append(x.copy())
    return np.array(out)
