"""Surrogate lookup against simulation, in one run: train a Surrogate on a confined-electrolyte campaign (the
shipped data set by default), time a prediction, time one fresh simulation at the campaign's settings, and
report the effective speedup S(N_lookup) from the campaign's own timings.

    python benchmarks/surrogate.py [--spec data/confined_electrolyte/spec.yaml] [--out surrogate-bench]
"""
import argparse
import functools
import inspect
import os
import time

import numpy as np

import mdlearn as mdl
from mdlearn.campaign.confined import INPUTS, OUTPUTS, simulate
from mdlearn.ml.train import load_table, train_and_report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spec", default="data/confined_electrolyte/spec.yaml", help="the campaign's spec")
    p.add_argument("--out", default="surrogate-bench")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--curve-points", type=int, default=5, help="learning-curve sizes (default 5)")
    p.add_argument("--curve-repeats", type=int, default=5, help="random training subsets per size (default 5)")
    p.add_argument("--cv", type=int, default=5, help="k-fold cross-validation over all runs (default 5; 0: none)")
    args = p.parse_args(argv)

    import yaml

    with open(args.spec) as fh:
        spec = yaml.safe_load(fh)
    store = os.path.join(os.path.dirname(os.path.abspath(args.spec)), spec["store"])
    options = spec.get("options") or {}
    blocks = options.get("blocks", inspect.signature(simulate).parameters["blocks"].default)
    m = train_and_report(load_table(store), INPUTS, OUTPUTS, args.out, seed=args.seed, curve_sizes=args.curve_points,
                         curve_repeats=args.curve_repeats, n_blocks=blocks, cv_folds=args.cv)
    mdl.set_num_threads(1)
    point = {"h": 3.5, "z_pos": 2, "z_neg": -1, "c": 0.6, "d": 0.625}
    start = time.perf_counter()
    functools.partial(simulate, **options)(point, seed=1)
    t_sim = time.perf_counter() - start
    model = mdl.ml.Surrogate.load(f"{args.out}/surrogate.npz")
    x = np.array([[point[k] for k in INPUTS]], dtype=float)
    reps = [time.perf_counter()]
    for _ in range(1000):
        model.predict(x)
        reps.append(time.perf_counter())
    t_pred = float(np.median(np.diff(reps)))
    print(f"one simulation at the campaign's settings ({point}): {t_sim:.2f} s; one prediction: "
          f"{t_pred * 1e6:.1f} us; ratio {t_sim / t_pred:.3g}")
    print(f"campaign means: T_seq = {m['t_seq_s']:.2f} s, T_train = {m['t_train_s']:.2f} s, "
          f"T_learn = {m['t_learn_s']:.3f} s per point, crossover at {m['crossover_lookups']:.3g} lookups")


if __name__ == "__main__":
    main()
