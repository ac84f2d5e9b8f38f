"""Learn the contact, peak and mid-point densities of ions confined between two walls from the five inputs
(h, z+, z-, c, d) of the published surrogate (Kadupitiya, Fox and Jadhao), with the campaign's own timings
giving the lookup-vs-simulation speed ratio and the effective speedup.

Quick run (a small campaign of short simulations, then training; a few minutes on one core):

    python examples/confined_surrogate.py --out confined-output

Train on the shipped data set instead of simulating (data/confined_electrolyte/, see its README):

    python examples/confined_surrogate.py --data data/confined_electrolyte/store --out confined-output

Make the full data set yourself (resumable; one process per worker):

    mdlearn campaign run data/confined_electrolyte/spec.yaml
    mdlearn surrogate train data/confined_electrolyte/store --blocks 10 --out confined-output
"""
import argparse
import functools
import os

from mdlearn.campaign import Campaign, Space
from mdlearn.campaign.confined import INPUTS, OUTPUTS, SPACE, simulate
from mdlearn.ml.train import load_table, train_and_report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="confined-output", help="output folder")
    p.add_argument("--data", help="train on this campaign folder or CSV instead of simulating")
    p.add_argument("--points", type=int, default=24, help="simulations in the quick campaign (default 24)")
    p.add_argument("--steps", type=int, default=2000, help="production steps per simulation (default 2000)")
    p.add_argument("--equilibration", type=int, default=500, help="equilibration steps (default 500)")
    p.add_argument("--workers", type=int, default=1, help="LocalCluster workers (default 1)")
    p.add_argument("--synchronous", action="store_true", help="run the campaign in this process (no Dask)")
    p.add_argument("--epochs", type=int, default=1000, help="surrogate training epochs (default 1000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)

    source = args.data
    if source is None:
        source = os.path.join(args.out, "campaign")
        sim = functools.partial(simulate, production_steps=args.steps, equilibration_steps=args.equilibration)
        campaign = Campaign(sim, Space(SPACE, method="lhs", n=args.points, seed=args.seed), source,
                            client="synchronous" if args.synchronous else None, n_workers=args.workers)
        campaign.run(progress=not args.no_progress)
        print(f"campaign: {campaign.status()}")
    # simulate's error bars are standard errors over 10 blocks (its default)
    train_and_report(load_table(source), INPUTS, OUTPUTS, args.out, seed=args.seed,
                     model_params={"epochs": args.epochs}, curve_sizes=3, n_blocks=10)
    print(f"wrote {args.out}: surrogate.npz, metrics.json, parity.png, cases.png, learning_curve.png")


if __name__ == "__main__":
    main()
