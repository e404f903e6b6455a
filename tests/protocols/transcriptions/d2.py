"""D² (Tang et al. 2018) as the QGM repository runs it.

Transcribed from epfml/quasi-global-momentum,
code/pcode/optim/decentralized_d2.py, SGD.step():
  g' = g + wd x;
  local_index 0: x_half = x - lr g';
  after: x_half = 2 x - x_prev - lr (g' - g'_prev);
  x_prev = x (the model at this step's start), g'_prev = g';
  x = Σ_j w_ij x_half_j (decentralized_aggregator._agg, op="weighted").
The momentum buffer the constructor makes is never applied.
"""
import numpy as np

from common import gradient


def d2(a, b, x0, weights, lr, wd):
    x = x0.copy()
    x_prev = g_prev = None
    out = []
    for t, w in enumerate(weights):
        g = gradient(a, b, x) + wd * x
        half = x - lr[t] * g if x_prev is None else 2 * x - x_prev - lr[t] * (g - g_prev)
        x_prev, g_prev = x.copy(), g
        x = w @ half
        out.append(x.copy())
    return np.array(out)
