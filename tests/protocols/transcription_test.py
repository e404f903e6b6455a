#!/usr/bin/python3
"""Each algorithm against an independent NumPy transcription of its
authors' update rule (issue 12): the same least-squares problem, graph,
weights and learning rates; after 50 rounds every agent's parameters agree
to 1e-5 relative. The transcriptions are in transcriptions/, each citing the
repository and path it was written from.

Usage: transcription_test.py MURMUR_TRAJECTORY
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "transcriptions"))

import numpy as np  # noqa: E402

import ad_psgd  # noqa: E402
import all_reduce  # noqa: E402
import ccl  # noqa: E402
import choco  # noqa: E402
import common  # noqa: E402
import consensus_control  # noqa: E402
import d2  # noqa: E402
import dsgd  # noqa: E402
import gradient_tracking  # noqa: E402
import gut  # noqa: E402
import momentum_tracking  # noqa: E402
import ngm  # noqa: E402
import relaysum  # noqa: E402
import sgp  # noqa: E402
import sparse_push  # noqa: E402

tool = sys.argv[1]
a, b, x0 = common.problem()
lr = common.step_decay()

# (name, murmur algorithm, its options, its optimizer, the transcription)
QGM_SGD = {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}
cases = [
    ("D-PSGD, heavy ball", "dsgd", {}, {"momentum": 0.9, "nesterov": False, "weight_decay": 1e-3},
     lambda w: dsgd.local_momentum(a, b, x0, w, lr, 0.9, False, 1e-3)),
    ("D-PSGD, Nesterov", "dsgd", {}, QGM_SGD,
     lambda w: dsgd.local_momentum(a, b, x0, w, lr, 0.9, True, 1e-3)),
    ("D-PSGD, plain SGD", "dsgd", {}, {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
     lambda w: dsgd.local_momentum(a, b, x0, w, lr, 0.0, False, 0.0)),
    ("QG-DSGDm", "dsgd", {"momentum": "quasi-global"}, QGM_SGD,
     lambda w: dsgd.quasi_global(a, b, x0, w, lr, 0.9, True, 1e-3, mu=0.9)),
    ("gradient tracking, Nesterov", "gradient-tracking", {}, QGM_SGD,
     lambda w: gradient_tracking.gradient_tracking(a, b, x0, w, lr, 0.9, True, 1e-3)),
    ("gradient tracking, plain", "gradient-tracking", {}, {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
     lambda w: gradient_tracking.gradient_tracking(a, b, x0, w, lr, 0.0, False, 0.0)),
    ("QG-DSGDm, buffer every 3 rounds", "dsgd", {"momentum": "quasi-global", "qgm_period": 3, "qgm_mu": 0.8},
     QGM_SGD, lambda w: dsgd.quasi_global(a, b, x0, w, lr, 0.9, True, 1e-3, mu=0.8, period=3)),
]

# GUT's code starts every agent from the same x^0 and mixes with uniform
# weights (UniformMixing); its runs end with 51 rounds of gossip only.
same = np.tile(x0[0], (len(x0), 1))
PLAIN = {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
QG = {"momentum": 0.9, "nesterov": False, "weight_decay": 0.0}
gut_cases = [
    ("GUT", {}, PLAIN, {"beta": 0.0, "nesterov": False, "mu": 0.9}, 0),
    ("QG-GUTm", {"mu": 0.06}, QG, {"beta": 0.9, "nesterov": False, "mu": 0.06}, 0),
    ("QG-GUTm, Nesterov", {"mu": 0.06}, dict(QG, nesterov=True), {"beta": 0.9, "nesterov": True, "mu": 0.06}, 0),
    ("GUT, tracking with the current lr", {"tracking_lr": "current"}, PLAIN,
     {"beta": 0.0, "nesterov": False, "mu": 0.9, "lr_rule": "current"}, 0),
    ("QG-GUTm, then 51 rounds of gossip only", {"mu": 0.06}, QG, {"beta": 0.9, "nesterov": False, "mu": 0.06}, 51),
]
runs = [(name, algorithm, options, optimizer, reference, x0, "mh", 0) for name, algorithm, options, optimizer, reference
        in cases]
for name, options, optimizer, rule, tail in gut_cases:
    runs.append((name, "gut", options, optimizer,
                 lambda w, rule=rule, tail=tail: gut.gut(a, b, same, w, lr, **rule), same, "uniform",
                 tail))

# CHOCO-SGD: the model split in two tensors (4 + 2 entries), per-tensor scaled sign.
TENSORS = [4, 2]
for label, compressor, gamma, compress in (("identity", "none", 0.5, choco.identity),
                                          ("scaled sign", "sign", 0.3, choco.scaled_sign)):
    for consensus_first in (False, True):
        order = "the code's order" if consensus_first else "the paper's order"
        runs.append((f"CHOCO-SGD, {label}, {order}", "choco",
                     {"compressor": compressor, "gamma": gamma, "consensus_first": consensus_first}, QGM_SGD,
                     lambda w, g=gamma, c=compress, f=consensus_first: choco.choco(
                         a, b, x0, w, lr, 0.9, True, 1e-3, g, TENSORS, consensus_first=f, compress=c),
                     x0, "mh", 0, TENSORS))
# SGP on directed graphs with push weights: the one-peer exponential graph of
# the paper (weights stay 1) and random peers (irregular: weights move, so
# the two step rules differ).
for graph in ("one-peer-exponential", "random-peers"):
    for scaled in (False, True):
        rule = "η·w·d (murmur's)" if scaled else "η·d (the SGP code's)"
        runs.append((f"SGP, {graph}, {rule}", "push-sum", {"scale_step_by_weight": scaled}, QGM_SGD,
                     lambda w, s=scaled: sgp.sgp(a, b, x0, w, lr, 0.9, True, 1e-3, scale_step_by_weight=s),
                     x0, "push", 0, None, graph))
# OSGP (overlap, τ = 0): the SGP code blocks every step on the previous
# step's gossip and sends the pre-step model.
for graph in ("one-peer-exponential", "random-peers"):
    for scaled in (False, True):
        rule = "η·w·d" if scaled else "η·d"
        runs.append((f"OSGP, {graph}, {rule}", "push-sum",
                     {"overlap": True, "max_staleness": 0, "scale_step_by_weight": scaled}, QGM_SGD,
                     lambda w, s=scaled: sgp.osgp(a, b, x0, w, lr, 0.9, True, 1e-3, scale_step_by_weight=s),
                     x0, "push", 0, None, graph))

# NGM: the NGC code's uniform weights (π = 1/3 on the ring), consensus step 0.1.
NGC_SGD = {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}
for label, options, qgm_on, alpha in (("NGM, local momentum", {}, False, 1.0),
                                      ("NGM_mv (α = 0)", {"alpha": 0.0}, False, 0.0),
                                      ("NGM, α = 0.5", {"alpha": 0.5}, False, 0.5),
                                      ("NGM with QGM (the code's update order)",
                                       {"momentum": "quasi-global", "qgm_mu": 0.9}, True, 1.0)):
    runs.append((label, "ngm", dict(options, gamma=0.1), NGC_SGD,
                 lambda w, q=qgm_on, al=alpha: ngm.ngm(a, b, x0, w, lr, 0.9, True, 1e-3, 0.1, al, qgm=q),
                 x0, "uniform", 0, None, "ring"))
for label, alpha in (("CompNGM, scaled sign with error feedback", 1.0), ("CompNGM_mv (α = 0)", 0.0)):
    runs.append((label, "ngm", {"compressor": "sign", "alpha": alpha, "gamma": 0.1}, NGC_SGD,
                 lambda w, al=alpha: ngm.ngm(a, b, x0, w, lr, 0.9, True, 1e-3, 0.1, al, tensors=TENSORS),
                 x0, "uniform", 0, TENSORS, "ring"))
# D²: no momentum; weight decay on.
runs.append(("D² / Exact Diffusion", "d2", {}, {"momentum": 0.0, "nesterov": False, "weight_decay": 1e-3},
             lambda w: d2.d2(a, b, x0, w, lr, 1e-3), x0, "mh", 0, None, "ring"))

# CCL with its feature terms off: its gossip and its momentum (the code's
# heavy ball with the gossip folded in; CCL always runs it quasi-global).
for label, nesterov in (("CCL's optimizer (heavy ball, gossip folded in), Nesterov", True),
                        ("CCL's optimizer (heavy ball, gossip folded in)", False)):
    runs.append((label, "ccl", {"lambda_model": 0.0, "lambda_data": 0.0, "gamma": 0.5},
                 dict(NGC_SGD, nesterov=nesterov),
                 lambda w, nv=nesterov: ccl.ccl(a, b, x0, w, lr, 0.9, nv, 1e-3, 0.5),
                 x0, "uniform", 0, None, "ring"))
# Momentum Tracking: the code's uniform weights on the ring, heavy ball 0.9,
# no weight decay (its runs), and with weight decay.
for label, beta, wd in (("Momentum Tracking", 0.9, 0.0), ("Momentum Tracking, weight decay", 0.9, 1e-3),
                        ("Momentum Tracking, β = 0 (gradient tracking)", 0.0, 0.0)):
    runs.append((label, "momentum-tracking", {}, {"momentum": beta, "nesterov": False, "weight_decay": wd},
                 lambda w, be=beta, d=wd: momentum_tracking.momentum_tracking(a, b, x0, w, lr, be, d),
                 x0, "uniform", 0, None, "ring"))
# RelaySum: identical x^0 (the code seeds every worker alike), Nesterov as
# the code's base optimizer; one tree (binary, chain) and the paper's double
# binary trees, /Model (with and without the reference update) and /Grad.
for graph in ("binary-tree", "chain", "double-binary-tree"):
    for label, options in (("RelaySum/Model", {}), ("RelaySum/Model, reference updated", {"update_reference": True}),
                           ("RelaySum/Grad", {"relay_gradients": True})):
        runs.append((f"{label}, {graph}", "relaysum", options, QGM_SGD,
                     lambda w, o=options, gr=graph: relaysum.relaysum(
                         a, b, same, lr, len(w), 0.9, True, 1e-3, gr, o.get("relay_gradients", False),
                         o.get("update_reference", False)),
                     same, "mh", 0, None, graph))
# Sparse-Push and QGM over push-sum on the directed graphs of the push-sum
# runs (the code's 8-agent directed ring; the one-peer exponential graph):
# top-k of half of each tensor with error feedback and γ = 0.5, dense with
# γ = 1 (DeepSqueeze's uncompressed runs), QGM dense and compressed. The
# code's QGM measures the gossip's change as Δx / w (qgm_debiased = false);
# on these graphs w stays 1, so murmur's Δ(x / w) is the same rule here.
SPARSE = {"compressor": "top-k", "keep": 0.5, "gamma": 0.5}
for graph in ("directed-ring", "one-peer-exponential"):
    for label, options, gamma, tensors, qgm_on in (
            ("Sparse-Push, top-k 1/2, error feedback", SPARSE, 0.5, TENSORS, False),
            ("QGM over push-sum", {"momentum": "quasi-global", "qgm_debiased": False}, 1.0, None, True),
            ("QGM over Sparse-Push", dict(SPARSE, momentum="quasi-global", qgm_debiased=False), 0.5, TENSORS, True)):
        sgd = QGM_SGD if not qgm_on else {"momentum": 0.9, "nesterov": False, "weight_decay": 1e-3}
        runs.append((f"{label}, {graph}", "push-sum", dict(options, scale_step_by_weight=False), sgd,
                     lambda w, g=gamma, ts=tensors, q=qgm_on: sparse_push.push_sum(
                         a, b, x0, w, lr, 0.9, True, 1e-3, g, ts, 0.5, qgm=q),
                     x0, "push", 0, tensors, graph))
# AD-PSGD in lockstep on the bipartite exponential graph: the paper's
# pairwise average and the SGP code's push-pull.
for label, exchange in (("AD-PSGD, pairwise (the paper's pseudocode)", "pairwise"),
                        ("AD-PSGD, push-pull (the SGP code's)", "push-pull")):
    runs.append((label, "ad-psgd", {"exchange": exchange}, QGM_SGD,
                 lambda w, e=exchange: ad_psgd.ad_psgd(a, b, x0, len(w), lr, 0.9, True, 1e-3, e == "push-pull"),
                 x0, "push", 0, None, "bipartite-exponential"))
# All-reduce, the centralized reference, from one shared x0 (the code
# broadcasts its initial model): plain SGD and Nesterov momentum.
for label, sgd, beta, nesterov, wd in (
        ("all-reduce, Nesterov (the QGM code's centralized SGD)", QGM_SGD, 0.9, True, 1e-3),
        ("all-reduce, plain SGD", PLAIN, 0.0, False, 0.0)):
    runs.append((label, "all-reduce", {}, sgd,
                 lambda w, bt=beta, nv=nesterov, d=wd: all_reduce.centralized_sgd(a, b, same[0], len(w), lr, bt, nv, d,
                                                                               len(x0)),
                 same, "mh", 0, None, "ring"))
# Periodic exact averaging and SlowMo (the QGM code's slowmo option) over
# D-PSGD on the ring: τ = 5 and 7, plain (β = 0, α = 1) and with slow momentum.
for label, tau, options in (("D-PSGD, exact average every 5 rounds", 5, {}),
                            ("D-PSGD with SlowMo (β 0.5, α 1), every 7 rounds", 7,
                             {"slowmo_beta": 0.5, "slowmo_alpha": 1.0}),
                            ("D-PSGD with SlowMo (β 0.3, α 0.8), every 5 rounds", 5,
                             {"slowmo_beta": 0.3, "slowmo_alpha": 0.8})):
    runs.append((label, "dsgd", options, QGM_SGD,
                 lambda w, t=tau, o=options: dsgd.slowmo(a, b, x0, w[1], len(w), lr, 0.9, True, 1e-3, t,
                                                         o.get("slowmo_beta", 0.0), o.get("slowmo_alpha", 1.0)),
                 x0, "mh", 0, None, "ring", tau))
runs = [r if len(r) >= 10 else (r if len(r) == 9 else r + (None,)) + ("ring",) for r in runs]
runs = [r if len(r) == 11 else r + (0,) for r in runs]

failures = []
results = {}
for name, algorithm, options, optimizer, reference, start, rule, tail, tensors, graph, every in runs:
    mine, weights = common.run_murmur(tool, algorithm, options, optimizer, a, b, start, lr, weights=rule,
                                      gossip_tail=tail, tensors=tensors, graph=graph, exact_average_every=every)
    ref = reference(weights)
    results[name] = (mine, ref)
    err = common.relative_error(mine[-1], ref[-1])
    moved = common.relative_error(ref[-1], start)
    ok = err <= common.TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'} {name:48s} relative error {err:.2e} after {len(ref)} rounds "
          f"(the models moved {moved:.2f} from x0)")
    if not ok:
        worst = next(t for t in range(len(ref)) if common.relative_error(mine[t], ref[t]) > common.TOLERANCE)
        failures.append(f"{name}: {err:.2e} (first above tolerance at round {worst})")

# Consensus control (Kong et al. 2021; the paper's text, no reference code)
# over D-PSGD on the ring: extra gossip steps until Ξ is under the phase's
# target, at most K per step. Two phases (the target tightens at step 25,
# with the lr decay) and a tight single target that the cap stops.
for label, control in (("D-PSGD with consensus control, two phases",
                        {"max_steps": 4, "targets": [0.3, 0.15], "milestones": [25]}),
                       ("D-PSGD with consensus control, capped at 2",
                        {"max_steps": 2, "targets": [1e-4]})):
    mine, weights = common.run_murmur(tool, "dsgd", {}, QGM_SGD, a, b, x0, lr, consensus=control)
    ref, extra = consensus_control.dsgd_controlled(a, b, x0, weights[0], common.ROUNDS, lr, 0.9, True, 1e-3,
                                                   control["max_steps"], control["targets"],
                                                   control.get("milestones", ()))
    results[label] = (mine, ref)
    same = len(mine) == len(ref)
    err = common.relative_error(mine[-1], ref[-1]) if same else float("inf")
    ok = same and err <= common.TOLERANCE and 0 < sum(extra) < control["max_steps"] * common.ROUNDS + 1
    print(f"{'ok  ' if ok else 'FAIL'} {label:48s} relative error {err:.2e} after {len(ref)} gossip steps "
          f"({sum(extra)} extra; murmur ran {len(mine)})")
    if not ok:
        failures.append(f"{label}: {err:.2e}, {len(mine)} rounds run against the transcription's {len(ref)}")

# AD-PSGD as the SGP code's gossip loop runs it: several mixes between two
# steps (topology.mixes_per_step), each on the phone book's next hop.
for label, exchange, mixes in (("AD-PSGD, push-pull, 3 mixes per step (the SGP code's loop)", "push-pull", 3),
                               ("AD-PSGD, pairwise, 2 mixes per step", "pairwise", 2)):
    mine, weights = common.run_murmur(tool, "ad-psgd", {"exchange": exchange}, QGM_SGD, a, b, x0, lr,
                                      graph="bipartite-exponential", weights="push", mixes_per_step=mixes)
    ref = ad_psgd.ad_psgd(a, b, x0, common.ROUNDS, lr, 0.9, True, 1e-3, exchange == "push-pull", mixes)
    results[label] = (mine, ref)
    same = len(mine) == len(ref) == common.ROUNDS * mixes
    err = common.relative_error(mine[-1], ref[-1]) if same else float("inf")
    ok = same and err <= common.TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'} {label:48s} relative error {err:.2e} after {len(ref)} rounds "
          f"({common.ROUNDS} steps)")
    if not ok:
        failures.append(f"{label}: {err:.2e}, {len(mine)} rounds run against the transcription's {len(ref)}")

# The variants must be told apart: murmur's run of one against the
# transcription of the other differs by far more than the tolerance.
CONTRASTS = [
    ("D-PSGD, heavy ball", "D-PSGD, Nesterov"),
    ("GUT, tracking with the current lr", "GUT"),
    ("CHOCO-SGD, scaled sign, the paper's order", "CHOCO-SGD, scaled sign, the code's order"),
    ("SGP, random-peers, η·w·d (murmur's)", "SGP, random-peers, η·d (the SGP code's)"),
    ("OSGP, random-peers, η·d", "SGP, random-peers, η·d (the SGP code's)"),
    ("NGM, local momentum", "NGM with QGM (the code's update order)"),
    ("RelaySum/Model, binary-tree", "RelaySum/Model, double-binary-tree"),
    ("RelaySum/Model, chain", "RelaySum/Model, reference updated, chain"),
    ("Momentum Tracking", "Momentum Tracking, β = 0 (gradient tracking)"),
    ("AD-PSGD, pairwise (the paper's pseudocode)", "AD-PSGD, push-pull (the SGP code's)"),
    ("D-PSGD, Nesterov", "D-PSGD, exact average every 5 rounds"),
    ("D-PSGD with SlowMo (β 0.3, α 0.8), every 5 rounds", "D-PSGD, exact average every 5 rounds"),
    ("Sparse-Push, top-k 1/2, error feedback, directed-ring", "QGM over Sparse-Push, directed-ring"),
    ("D-PSGD with consensus control, two phases", "D-PSGD, Nesterov"),
    ("AD-PSGD, push-pull, 3 mixes per step (the SGP code's loop)", "AD-PSGD, push-pull (the SGP code's)"),
]
for one, other in CONTRASTS:
    apart = common.relative_error(results[one][0][-1], results[other][1][-1])
    ok = apart > 100 * common.TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'} {one} vs the transcription of {other}: {apart:.2e} apart")
    if not ok:
        failures.append(f"{one} is not told apart from {other} ({apart:.2e})")
if failures:
    print("FAIL:", "; ".join(failures))
    sys.exit(1)
print("PASS")
