"""Consensus control over D-PSGD (Kong, Lin, Koloskova, Jaggi, Stich:
"Consensus Control for Decentralized Deep Learning", ICML 2021).

No reference code was found for it (the epfml repositories read for the
other rules, quasi-global-momentum and relaysgd, carry no such option), so
this is a transcription of the paper's procedure as its text states it, not
of code: each step is D-PSGD's (the gradient step, then one gossip
x ← W x); then, while the consensus distance
Ξ = sqrt(1/n Σ_i |x_i − x̄|²) is above the target of the step's phase, the
agents gossip again without a gradient step. The paper states no cap; both
sides here stop after max_steps extra gossip steps. The local momentum is
that of dsgd.local_momentum (the QGM code's apply_gradient).
"""
import numpy as np

from common import gradient, sgd_direction


def distance(x):
    return float(np.sqrt(((x - x.mean(axis=0)) ** 2).sum(axis=1).mean()))


def dsgd_controlled(a, b, x0, w, steps, lr, beta, nesterov, wd, max_steps, targets, milestones=()):
    """Every gossip step's models, in order, and the extra steps each training step took."""
    x = x0.copy()
    buf = None
    out, extra = [], []
    for t in range(steps):
        buf, step = sgd_direction(buf, gradient(a, b, x) + wd * x, beta, nesterov)
        x = w @ (x - lr[t] * step)
        out.append(x.copy())
        target = targets[sum(t >= m for m in milestones)]
        k = 0
        while k < max_steps and distance(x) > target:
            x = w @ x
            out.append(x.copy())
            k += 1
        extra.append(k)
    return np.array(out), extra
