"""AD-PSGD (Lian et al., ICML 2018) in lockstep, in its two exchanges.

push-pull is transcribed from the only public code that runs it,
facebookresearch/stochastic_gradient_push (the SGP paper's AD-PSGD
baseline): gossip/ad_psgd.py, BilatGossipDataParallel._gossip_target: when
the trainer's gradients arrive the gossip process takes the step
(torch SGD: momentum, Nesterov, weight decay) and then mixes,
p.add_(in_msg).mul_(0.5); gossip/gossiper.py, BilatPushPull.mix: an active
(odd) rank sends its model to its out-edge and receives from its in-edge;
a passive (even) rank waits for its in-edge, then sends to its out-edge;
gossip/graph_manager.py, DynamicBipartiteExponentialGraph: every rank's
phone book is +1, -1, +3, -3, +5, ... (hops 1 and 1 + 2^i), taken in turn,
so the out-edge is i + h and the in-edge i - h. The code's gossip loop
(_gossip_target's `while True`) takes the step when the trainer's gradients
have arrived (train_write_flag) and mixes on every pass, with or without a
new gradient; each completed mix moves to the next phone-book entry
(BilatPushPull.mix -> refresh_peers_). So between two steps it mixes as
often as its timing allows. In lockstep that count is named: `mixes` mixes
per step (murmur's topology.mixes_per_step), the step before the first.

pairwise has no reference code (the AD-PSGD authors published none); it is
transcribed from the paper's pseudocode (Algorithm 1: an active worker
averages atomically with a passive one, x_i = x_j = (x_i + x_j) / 2), on the
same graph: active i pairs with its out-peer i + h.
"""
import numpy as np

from common import gradient, sgd_direction


def hops(n):
    book = []
    h, p = 1, 1
    while h < n:
        book += [h, -h]
        p *= 2
        h = 1 + p
    return book


def ad_psgd(a, b, x0, steps, lr, beta, nesterov, wd, push_pull, mixes=1):
    """params after each mix: steps * mixes of them (lr[s] at step s)."""
    n = len(x0)
    book = hops(n)
    x = x0.copy()
    buf = None
    out = []
    for t in range(steps * mixes):
        if t % mixes == 0:
            buf, d = sgd_direction(buf, gradient(a, b, x) + wd * x, beta, nesterov)
            x = x - lr[t // mixes] * d
        h = book[t % len(book)]
        if push_pull:
            x = 0.5 * (x + x[[(i - h) % n for i in range(n)]])
        else:
            y = x.copy()
            for i in range(1, n, 2):
                j = (i + h) % n
                y[i] = y[j] = 0.5 * (x[i] + x[j])
            x = y
        out.append(x.copy())
    return np.array(out)
