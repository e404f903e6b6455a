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

import common  # noqa: E402
import dsgd  # noqa: E402

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
    ("QG-DSGDm, buffer every 3 rounds", "dsgd", {"momentum": "quasi-global", "qgm_period": 3, "qgm_mu": 0.8},
     QGM_SGD, lambda w: dsgd.quasi_global(a, b, x0, w, lr, 0.9, True, 1e-3, mu=0.8, period=3)),
]

failures = []
for name, algorithm, options, optimizer, reference in cases:
    mine, weights = common.run_murmur(tool, algorithm, options, optimizer, a, b, x0, lr)
    ref = reference(weights)
    err = common.relative_error(mine[-1], ref[-1])
    moved = common.relative_error(ref[-1], x0)
    ok = err <= common.TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'} {name:40s} relative error {err:.2e} after {len(ref)} rounds "
          f"(the models moved {moved:.2f} from x0)")
    if not ok:
        worst = next(t for t in range(len(ref)) if common.relative_error(mine[t], ref[t]) > common.TOLERANCE)
        failures.append(f"{name}: {err:.2e} (first above tolerance at round {worst})")
if failures:
    print("FAIL:", "; ".join(failures))
    sys.exit(1)
print("PASS")
