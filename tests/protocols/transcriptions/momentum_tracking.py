"""Momentum Tracking (Takezawa et al., TMLR 2023) as the Momentum_Tracking
repository runs it.

Transcribed from aparna-aketi/Momentum_Tracking, gossip/distributed.py
(GossipDataParallel.update_gu, transfer_params, gossip_averaging), in the
order trainer.py's train() calls them after loss.backward():
  update_gu:        u = β u + g;  p.grad = u - c;
  transfer_params:  send x and c - u (uniform weights), receive
                    Σ_j w_ij x_j and Σ_j w_ij (c_j - u_j) over the neighbours;
                    the tracker adds its own w_ii (c_i - u_i);
  gossip_averaging: x = w_ii x + Σ_j w_ij x_j;  c = tracker + u;
  optimizer.step(): x = x - lr p.grad (torch SGD without momentum; the
                    wrapper is built with weight_decay = 0.0).
wd is added to g here for the weight-decay case murmur also allows.
"""
import numpy as np

from common import gradient


def momentum_tracking(a, b, x0, weights, lr, beta, wd):
    x = x0.copy()
    u = np.zeros_like(x)
    c = np.zeros_like(x)
    out = []
    for t, w in enumerate(weights):
        g = gradient(a, b, x) + wd * x
        u = beta * u + g
        d = u - c
        c = u + w @ (c - u)
        x = w @ x - lr[t] * d
        out.append(x.copy())
    return np.array(out)
