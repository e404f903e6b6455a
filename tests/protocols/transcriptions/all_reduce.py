"""All-reduce SGD, the centralized reference, transcribed from
epfml/quasi-global-momentum code/pcode/optim/centralized_sgd.py (SGD.step):
the gradients are averaged over all workers (world_aggregator, op="avg"),
weight decay is added with the shared parameters, then one momentum buffer
(zeros at start) is updated, buf <- β buf + g, and the step is g + β buf
with Nesterov, buf without; every worker applies the same step to the same
model.

murmur's all-reduce averages the models after each agent's own step
instead; from one shared x0 the two are the same sequence (the step is
linear in the gradient and the buffers), which is what this compares.
"""
import numpy as np

from common import gradient


def centralized_sgd(a, b, x_start, rounds, lr, beta, nesterov, wd, agents):
    """params[round][agent]: every agent holds the one model."""
    x = np.array(x_start, dtype=np.float64)
    buf = np.zeros_like(x)
    out = []
    for t in range(rounds):
        g = gradient(a, b, np.tile(x, (agents, 1))).mean(axis=0) + wd * x
        buf = beta * buf + g
        x = x - lr[t] * (g + beta * buf if nesterov else buf)
        out.append(np.tile(x, (agents, 1)))
    return np.array(out)
