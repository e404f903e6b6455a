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

from common import gradient


def sgp(a, b, x0, weights, lr, beta, nesterov, wd, scale_step_by_weight=False):
    x = x0.copy()  # numerators
    w = np.ones((len(x0), 1))
    buf = None
    out = []
    for t, p in enumerate(weights):
        z = x / w
        d = gradient(a, b, z) + wd * x
        if beta == 0:
            step = d
        else:
            buf = d.copy() if buf is None else beta * buf + d
            step = d + beta * buf if nesterov else buf
        x = x - lr[t] * (w * step if scale_step_by_weight else step)
        x, w = p @ x, p @ w  # x_i = Σ_j p_ij x_j, p column-stochastic
        out.append((x / w).copy())
    return np.array(out)
