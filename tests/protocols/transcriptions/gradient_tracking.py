"""Gradient tracking (DIGing) as the QGM repository runs it.

Transcribed from epfml/quasi-global-momentum,
code/pcode/optim/decentralized_sgd_with_gradient_tracking.py, SGD.step():
  g' = g + wd x (utils.apply_gradient, only_apply_weight_decay);
  y = g' on the first step, else y += g' - g'_old; g'_old = g';
  [x, y] mixed in one message: x_mix = Σ_j w_ij x_j, y_mix = Σ_j w_ij y_j;
  x = x_mix - lr SGDm(y) with the y of before the mixing (apply_gradient on
  the grads set to flatten_y, without weight decay: buf = y first, then
  β buf + y; Nesterov y + β buf);
  y = y_mix.
"""
import numpy as np

from common import gradient, sgd_direction


def gradient_tracking(a, b, x0, weights, lr, beta, nesterov, wd):
    x = x0.copy()
    y = g_old = buf = None
    out = []
    for t, w in enumerate(weights):
        g = gradient(a, b, x) + wd * x
        y = g.copy() if y is None else y + g - g_old
        g_old = g
        x_mix, y_mix = w @ x, w @ y
        buf, d = sgd_direction(buf, y, beta, nesterov)
        x = x_mix - lr[t] * d
        y = y_mix
        out.append(x.copy())
    return np.array(out)
