"""Are the confined-electrolyte error bars honest? Run ``mdlearn.campaign.confined.simulate`` at the campaign's
settings with several seeds per parameter point and compare the seed-to-seed spread of each output with the
standard errors the runs report (10 blocks of one run).

For each output, z = (value − mean over the seeds of that point) / reported SE · sqrt(n / (n − 1)). With honest
errors from 10 blocks, z follows Student's t with 9 degrees of freedom: rms z ≈ sqrt(9/7) = 1.13, 66% of |z| ≤ 1,
92% ≤ 2. An rms well above 1.13 means the error bars are too small; well below, too large (conservative).

    python benchmarks/confined_error_bars.py --seeds 16 [--out benchmarks/results/confined_error_bars.json]
"""
import argparse
import json
import time

import numpy as np
import yaml

import mdlearn as mdl
from mdlearn.campaign.confined import OUTPUTS, simulate
from mdlearn.ml.metrics import perfect_coverage

POINTS = {  # corners and middle of the published ranges; z+ = 3 with small d is the contact-heavy, slowest case
    "z3_small_d": {"h": 3.0, "z_pos": 3, "z_neg": -1, "c": 0.6, "d": 0.52},
    "z1_small_d": {"h": 3.9, "z_pos": 1, "z_neg": -1, "c": 0.72, "d": 0.53},
    "z2_middle": {"h": 3.5, "z_pos": 2, "z_neg": -1, "c": 0.6, "d": 0.625},
    "z3_large_d": {"h": 3.4, "z_pos": 3, "z_neg": -1, "c": 0.54, "d": 0.70},
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spec", default="data/confined_electrolyte/spec.yaml", help="campaign spec (its options)")
    p.add_argument("--seeds", type=int, default=16, help="seeds per point (default 16)")
    p.add_argument("--first-seed", type=int, default=11)
    p.add_argument("--out", default="benchmarks/results/confined_error_bars.json")
    args = p.parse_args(argv)
    if args.seeds < 3:
        raise SystemExit(f"--seeds must be at least 3, got {args.seeds}")
    with open(args.spec) as fh:
        options = yaml.safe_load(fh).get("options") or {}
    blocks = options.get("blocks", 10)
    mdl.set_num_threads(1)
    runs, z = {}, {k: [] for k in OUTPUTS}
    for name, point in POINTS.items():
        start = time.perf_counter()
        rows = [simulate(point, seed, **options) for seed in range(args.first_seed, args.first_seed + args.seeds)]
        runs[name] = {"point": point, "runs": rows}
        line = [f"{name} ({time.perf_counter() - start:.0f} s):"]
        for k in OUTPUTS:
            v = np.array([r[k] for r in rows])
            e = np.array([r[f"{k}_err"] for r in rows])
            z[k] += ((v - v.mean()) / e * np.sqrt(len(v) / (len(v) - 1))).tolist()
            rms_se = float(np.sqrt(np.mean(e**2)))
            runs[name][k] = {"mean": float(v.mean()), "seed_sd": float(v.std(ddof=1)), "rms_se": rms_se}
            line.append(f"{k} {v.mean():.3f}, seed SD {v.std(ddof=1):.4f} / rms SE {rms_se:.4f} "
                        f"= {v.std(ddof=1) / rms_se:.2f};")
        print(" ".join(line), flush=True)
    summary = {}
    for k in OUTPUTS:
        a = np.abs(np.array(z[k]))
        summary[k] = {"n": int(a.size), "rms_z": float(np.sqrt(np.mean(a**2))), "within_1": float(np.mean(a <= 1)),
                      "within_2": float(np.mean(a <= 2))}
        honest = np.sqrt((blocks - 1) / (blocks - 3))
        print(f"{k:>8}: n = {a.size}, rms z {summary[k]['rms_z']:.2f} (honest: {honest:.2f}),"
              f" |z| <= 1: {summary[k]['within_1']:.0%} ({perfect_coverage(1.0, blocks):.0%}), |z| <= 2: "
              f"{summary[k]['within_2']:.0%} ({perfect_coverage(2.0, blocks):.0%})")
    with open(args.out, "w") as fh:
        json.dump({"options": options, "seeds": list(range(args.first_seed, args.first_seed + args.seeds)),
                   "points": runs, "summary": summary}, fh, indent=1)


if __name__ == "__main__":
    main()
