"""CCL's optimizer (Aketi et al. 2023, cross-feature contrastive loss), with
the feature terms off (λ = 0: murmur_trajectory's model has no features):
what is left is its gossip and its quasi-global momentum.

Transcribed from aparna-aketi/Cross_feature_Contrastive_Loss:
  trainer.py, train(): transfer_params, then the forward pre-hook mixes and
    the gradient is taken at the mixed model; optimizer = optim.SGD(params,
    lr) (plain: the momentum lives in the gossip wrapper);
  gossip/distributed.py, _query_gossip_queue: x += r with r = γ times the
    mixing residual (Σ_j w_ij x_j - x_i); qgm = 1: m += -r / (lr_prev · w)
    (w stays 1 on these graphs), then lr_prev = lr (initially the first lr);
    ps_numerator (before the step): g' = g + wd x; m = β m + g'; Nesterov
    g' + β m, else m.
"""
import numpy as np

from common import gradient


def ccl(a, b, x0, weights, lr, beta, nesterov, wd, gamma):
    x = x0.copy()
    m = np.zeros_like(x)
    lr_prev = lr[0]
    out = []
    for t, w in enumerate(weights):
        r = gamma * (w @ x - x)
        x = x + r
        m = m - r / lr_prev
        lr_prev = lr[t]
        g = gradient(a, b, x) + wd * x
        m = beta * m + g
        d = g + beta * m if nesterov else m
        x = x - lr[t] * d
        out.append(x.copy())
    return np.array(out)
