"""NGM, Neighborhood Gradient Mean (Aketi et al., TMLR 2023; the code calls
it NGC), with local or quasi-global momentum.

Transcribed from aparna-aketi/neighborhood_gradient_clustering:
  trainer.py, train(): transfer_params sends x_i and returns the neighbours'
    models x_j (cross_weights); the forward pre-hook mixes
    (distributed.py, _query_gossip_queue: x += γ r with r the residual of
    the uniform mixing, i.e. x̃_i = x_i + γ (Σ_j w_ij x_j - x_i); the
    level-32 "quantizer" is the identity, compressor.py); forward/backward
    at x̃_i gives g_ii; NGC_sender computes ∇F_i(x_j) at each neighbour's
    received model (kept: model-variant) and sends it to j, where it is
    data-variant; NGC_receiver averages each set with g_ii at weight
    π = 1/(neighbours + 1) and takes (1 - α) mv + α dv;
  optimizers/ngc.py, NGC_receiver.project_gradients(lr): g' = ĝ + wd x̃;
    QGM: m̂ = β m̂ + (1 - β)(x̃_prev - x̃) / η_prev (x̃_prev: the mixed point
    of the previous step, x^0 at the first; η_prev: the previous step's lr,
    the initial lr at the first), m = β m̂ + g', Nesterov g' + β m, else m;
    x̃_prev = x̃; local momentum: buf = β buf + g'; then self.lr = lr;
  trainer.py: optimizer = optim.SGD(params, lr) (no momentum of its own):
    x = x̃ - lr d.
"""
import numpy as np

from common import gradient


def per_agent_gradient(a, b, i, x):
    """∇F_i at one model x (agent i's data)."""
    g = gradient(a[i:i + 1], b[i:i + 1], x[None, :])
    return g[0]


def scaled_sign(g, tensors):
    """compressngc.py's scaled_sign per parameter tensor: |g|_1 / numel · sign(g)
    (torch.sign(0) = 0; murmur's sign is +1 there, which no entry here hits)."""
    out = np.empty_like(g)
    start = 0
    for size in tensors:
        part = g[start:start + size]
        out[start:start + size] = np.abs(part).sum() / size * np.sign(part)
        start += size
    return out


def ngm(a, b, x0, weights, lr, beta, nesterov, wd, gamma, alpha, qgm=False, tensors=None):
    """tensors: CompNGM with scaled sign and error feedback (compressngc.py):
    CompNGC_sender compresses each cross-gradient ∇F_i(x_j) with a memory per
    neighbour (c = sign(mem + g), mem += g - c), keeps c (model-variant) and
    sends it to j (data-variant there); CompNGC_receiver compresses g_ii the
    same way with its own memory; everything else as NGM."""
    x = x0.copy()
    n = len(x)
    mem_cross = {}
    mem_self = np.zeros_like(x)

    def compress(key, g, memory):
        if tensors is None:
            return g
        m = memory.setdefault(key, np.zeros_like(g)) if isinstance(memory, dict) else memory
        c = scaled_sign(m + g, tensors)
        m += g - c
        return c

    m_hat = np.zeros_like(x)
    buf = np.zeros_like(x)
    prev = x0.copy()
    lr_prev = lr[0]
    out = []
    for t, w in enumerate(weights):
        pre = x.copy()
        mixed = pre + gamma * (w @ pre - pre)
        g_self = gradient(a, b, mixed)
        nbrs = [[j for j in range(n) if j != i and w[i, j] > 0] for i in range(n)]
        # cross[i][j]: agent i's (compressed) gradient at j's model, kept by i and sent to j.
        cross = [{j: compress((i, j), per_agent_gradient(a, b, i, pre[j]), mem_cross) for j in nbrs[i]}
                 for i in range(n)]
        if tensors is not None:
            g_self = np.array([compress(None, g_self[i], mem_self[i]) for i in range(n)])
        mv = np.zeros_like(x)
        dv = np.zeros_like(x)
        for i in range(n):
            mv[i] = w[i, i] * g_self[i] + sum(w[i, j] * cross[i][j] for j in nbrs[i])
            dv[i] = w[i, i] * g_self[i] + sum(w[i, j] * cross[j][i] for j in nbrs[i])
        g = (1 - alpha) * mv + alpha * dv + wd * mixed
        if qgm:
            m_hat = beta * m_hat + (1 - beta) * (prev - mixed) / lr_prev
            m = beta * m_hat + g
            d = g + beta * m if nesterov else m
            prev = mixed.copy()
        else:
            buf = beta * buf + g
            d = g + beta * buf if nesterov else buf
        lr_prev = lr[t]
        x = mixed - lr[t] * d
        out.append(x.copy())
    return np.array(out)
