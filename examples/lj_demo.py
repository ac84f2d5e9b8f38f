"""Lennard-Jones liquid: melt an fcc lattice with Langevin dynamics, then run NVE.

Writes thermo.csv, traj.dcd (+ traj.pdb) and energy.png to --out, and prints a summary.
The same demo runs as `mdlearn demo lj`.

    python examples/lj_demo.py --out demo-output
"""
import argparse

from mdlearn.demo import run_lj_demo  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    parser.add_argument("--cells", type=int, default=10, help="fcc cells per edge (default: 10, 4000 atoms)")
    parser.add_argument("--steps", type=int, default=3000, help="NVE steps (default: 3000)")
    parser.add_argument("--equilibration", type=int, default=1000, help="Langevin steps (default: 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--threads", type=int, help="kernel threads (default: all cores)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    run_lj_demo(args.out, cells=args.cells, steps=args.steps, seed=args.seed,
                equilibration=args.equilibration, threads=args.threads, progress=not args.no_progress)


if __name__ == "__main__":
    main()
