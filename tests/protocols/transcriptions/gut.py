"""GUT and QG-GUTm (Aketi et al. 2023, "Global Update Tracking").

Transcribed from aparna-aketi/global_update_tracking:
  trainer.py, train(): per step, transfer_params (send y_i = x_i - x̂_i;
    acc_y = Σ_{j≠i} w_ij y_j + w_ii y_i + b (s_i - (1 - w_ii) x̂_i) with the
    copies before this step, b = 1 + β (+ β² with Nesterov); x̂_i += y_i;
    s_i += Σ_{j≠i} w_ij y_j; G = s_i - (1 - w_ii) x̂_i), gossip_averaging
    (the gradient is taken at x + γ G), remove_gossip, tracker(G, acc_y, lr),
    optimizer.step() (torch SGD: momentum β, Nesterov, no weight decay);
  models/gut.py, GUT.__call__: δ = g - G / η_prev; y = δ - μ acc_y / η_prev
    - μ δ_prev; δ_prev = δ; then η_prev = η (so G/η and acc_y/η use the
    learning rate of the previous step; the first step uses the initial lr);
  gossip/distributed.py, GossipDataParallel.__init__: x̂ = x^0 and
    s = (1 - w_ii) x^0 (every agent starts from the same x^0);
  trainer.py, gossip_avg(): after training, gossip only (x += γ G) for 51
    steps (i = 0 .. 50).
torch SGD's momentum: buf = g on the first step, then buf = β buf + g;
Nesterov direction g + β buf.
"""
import numpy as np

from common import gradient, sgd_direction


def gut(a, b, x0, weights, lr, beta, nesterov, mu, gamma=1.0, lr_rule="previous"):
    x = x0.copy()
    n = len(x)
    x_hat = x.copy()
    w0 = weights[0]
    wii = np.diag(w0)[:, None]
    s = (1 - wii) * x
    delta_prev = np.zeros_like(x)
    buf = None
    eta_prev = lr[0]
    bb = 1 + beta + (beta * beta if nesterov else 0.0)
    out = []
    for t, w in enumerate(weights):
        off = w - np.diag(np.diag(w))
        wii = np.diag(w)[:, None]
        y = x - x_hat
        recv = off @ y
        acc = recv + wii * y + bb * (s - (1 - wii) * x_hat)
        x_hat = x_hat + y
        s = s + recv
        g_mix = s - (1 - wii) * x_hat
        if t >= len(lr):  # the gossip-only tail (the weights run on past the lr list)
            x = x + gamma * g_mix
            out.append(x.copy())
            continue
        grad = gradient(a, b, x + gamma * g_mix)
        eta = eta_prev if lr_rule == "previous" else lr[t]
        delta = grad - g_mix / eta
        ytrack = delta - mu * acc / eta - mu * delta_prev
        delta_prev = delta
        eta_prev = lr[t]
        buf, step = sgd_direction(buf, ytrack, beta, nesterov)
        x = x - lr[t] * step
        out.append(x.copy())
    return np.array(out)
