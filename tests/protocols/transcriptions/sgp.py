"""SGP, Stochastic Gradient Push (Assran et al. 2019), synchronous.

Transcribed from facebookresearch/stochastic_gradient_push:
  gossip_sgd.py, train(): forward/backward at the de-biased model, then
    optimizer.step() (torch SGD: momentum, Nesterov, weight decay), then
    model.transfer_params();
  gossip/distributed.py, GossipDataParallel: the forward pre-hook queries
    the gossip queue (blocking when synch_freq = 0, i.e. every step) and
    adds the received shares to the numerator and its weight
    (_query_gossip_queue), then unbias() divides by the weight; the backward
    hook turns the model back into the numerator (ps_numerator) before the
    step, so the step is x <- x - lr d with d from the gradient at x / w and
    torch's weight decay on the numerator; transfer_params keeps the sender's
    share (p *= ps_factor, ps_weight *= ps_factor) and sends the shares to the
    out-peers (gossiper.mix, column-stochastic push weights).
On a regular graph (each agent one in-peer per round) lazy_mixing skips the
weights, which stay 1: the same trajectory.
murmur's scale_step_by_weight = true instead applies lr w d to the
numerator (the de-biased model then moves by exactly lr d).
"""
import numpy as np

from common import gradient, sgd_direction


def sgp(a, b, x0, weights, lr, beta, nesterov, wd, scale_step_by_weight=False):
    x = x0.copy()  # numerators
    w = np.ones((len(x0), 1))
    buf = None
    out = []
    for t, p in enumerate(weights):
        z = x / w
        buf, step = sgd_direction(buf, gradient(a, b, z) + wd * x, beta, nesterov)
        x = x - lr[t] * (w * step if scale_step_by_weight else step)
        x, w = p @ x, p @ w  # x_i = Σ_j p_ij x_j, p column-stochastic
        out.append((x / w).copy())
    return np.array(out)


def osgp(a, b, x0, weights, lr, beta, nesterov, wd, scale_step_by_weight=False):
    """OSGP as the SGP code runs it with overlap = True and synch_freq = 0
    (gossip/distributed.py): at each step's start the forward pre-hook blocks
    until the previous step's gossip is in and adds the received shares
    (_query_gossip_queue), then transfer_params keeps the sender's share
    (x *= p_ii, w *= p_ii) and sends the others, and the step runs on the
    kept numerator (weight decay on it) with the gradient at x / w; the
    shares sent now are added at the next step's start. In lockstep:
    y_{t+1} = P y_t - lr d(y_t / w_t)."""
    y = x0.copy()
    w = np.ones((len(x0), 1))
    buf = None
    out = []
    for t, p in enumerate(weights):
        keep = np.diag(p)[:, None]
        off = p - np.diag(np.diag(p))
        x_kept, w_kept = keep * y, keep * w
        shares, share_w = off @ y, off @ w
        z = x_kept / w_kept
        buf, step = sgd_direction(buf, gradient(a, b, z) + wd * x_kept, beta, nesterov)
        x_kept = x_kept - lr[t] * (w_kept * step if scale_step_by_weight else step)
        y, w = x_kept + shares, w_kept + share_w
        out.append((y / w).copy())
    return np.array(out)
