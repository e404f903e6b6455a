"""RelaySum/Model and RelaySum/Grad (Vogels et al., NeurIPS 2021) as the
relaysgd repository runs them, on one tree or on double binary trees.

Transcribed from epfml/relaysgd:
- algorithms.py, relaysum_model(): base_optimizer.step (torch SGD, Nesterov,
  weight decay added to the gradient by the task), then
  relay.send(pack(parameters)); parameters = relay.receive_average(); with
  relaysum_model_update_ref_state the reference becomes the average;
  relaysum_grad(): updates = compute_updates(...) (-lr d), relay.send(updates),
  parameters += relay.receive_average() (no initial state: nothing filled in).
- utils/communication.py, RelayMechanism (not overlapped): send to each
  neighbour j the tensor plus the messages received last step from every
  neighbour but j (isend_to_neighbors), with the count 1 + theirs;
  receive_average(): own + received, plus (n - count) x initial state when
  fewer than n are summed, divided by n (normalization "world_size");
  MultiTopologyRelayMechanism: entry k of the flat vector over topology k mod T.
- topologies.py, BinaryTreeTopology(n, reverse) and ChainTopology; the
  "double-binary-trees" topology is [BinaryTreeTopology(n),
  BinaryTreeTopology(n, reverse=True)].
"""
import numpy as np

from common import gradient, sgd_direction


def binary_tree(worker, n, reverse=False):
    """topologies.py BinaryTreeTopology.neighbors."""
    if n < 2:
        return []
    if worker == 0 and not reverse:
        return [1]
    if worker == n - 1 and reverse:
        return [n - 2]
    if not reverse:
        return [worker // 2] + [c for c in (worker * 2, worker * 2 + 1) if c < n]
    w = n - 1 - worker
    return [n - 1 - w // 2] + [n - 1 - c for c in (w * 2, w * 2 + 1) if c < n]


def chain(worker, n):
    """topologies.py ChainTopology.neighbors."""
    if worker < 1:
        return [1]
    if worker >= n - 1:
        return [worker - 1]
    return [worker - 1, worker + 1]


TOPOLOGIES = {
    "binary-tree": [lambda i, n: binary_tree(i, n)],
    "chain": [chain],
    "double-binary-tree": [lambda i, n: binary_tree(i, n), lambda i, n: binary_tree(i, n, reverse=True)],
}


def relaysum(a, b, x0, lr, rounds, beta, nesterov, wd, topology, relay_gradients=False, update_reference=False):
    n = len(x0)
    trees = TOPOLOGIES[topology]
    T = len(trees)
    x = x0.copy()
    ref = None if relay_gradients else x0.copy()
    bufs = [None] * n
    # received[t][i][k] = (message, count) from neighbour k over tree t, last step
    received = [[{} for _ in range(n)] for _ in range(T)]
    out = []
    for step in range(rounds):
        g = gradient(a, b, x) + wd * x
        sent = np.empty_like(x)
        for i in range(n):
            bufs[i], d = sgd_direction(bufs[i], g[i], beta, nesterov)
            sent[i] = -lr[step] * d if relay_gradients else x[i] - lr[step] * d
        fresh = [[{} for _ in range(n)] for _ in range(T)]
        for t, neighbours in enumerate(trees):
            for i in range(n):
                for j in neighbours(i, n):
                    others = [m for k, m in received[t][i].items() if k != j]
                    fresh[t][j][i] = (sent[i][t::T] + sum(m for m, _ in others), 1 + sum(c for _, c in others))
        received = fresh
        for t in range(T):
            for i in range(n):
                avg = sent[i][t::T] + sum(m for m, _ in received[t][i].values())
                count = 1 + sum(c for _, c in received[t][i].values())
                if count < n and ref is not None:
                    avg = avg + (n - count) * ref[i][t::T]
                avg = avg / n
                if relay_gradients:
                    x[i][t::T] += avg
                else:
                    x[i][t::T] = avg
        if update_reference:
            ref = x.copy()
        out.append(x.copy())
    return np.array(out)
