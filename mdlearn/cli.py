"""The ``mdlearn`` command: ``mdlearn run config.yaml``, ``mdlearn demo lj``, ``mdlearn demo nanoparticle``."""
import argparse
import os
import sys
import time

from . import __version__

__all__ = ["main"]

DEMOS = ("lj", "nanoparticle")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def _parser():
    parser = argparse.ArgumentParser(
        prog="mdlearn", description="Molecular dynamics with fast kernels and learned components.")
    parser.add_argument("--version", action="version", version=f"mdlearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    run = sub.add_parser("run", help="run a simulation described in a YAML file",
                         description="Run a simulation described in a YAML file (see mdlearn.config). "
                                     "Relative file paths in it are relative to the file's folder.")
    run.add_argument("config", help="YAML file")
    run.add_argument("--steps", type=_non_negative_int, help="override the number of steps in the file")
    run.add_argument("--threads", type=_positive_int, help="override the kernel threads in the file")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)

    demo = sub.add_parser("demo", help="run a demonstration simulation",
                          description="Run a demonstration and write its outputs (CSV, trajectory, plot).")
    demo.add_argument("name", nargs="?", default="lj", choices=DEMOS, help="which demo (default: lj)")
    demo.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    demo.add_argument("--cells", type=_positive_int, default=10,
                      help="fcc cells per edge, 4 cells^3 atoms (default: 10)")
    demo.add_argument("--steps", type=_non_negative_int, default=3000, help="NVE steps (default: 3000)")
    demo.add_argument("--equilibration", type=_non_negative_int, default=1000,
                      help="Langevin steps before NVE (default: 1000)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    demo.add_argument("--threads", type=_positive_int, help="kernel threads (default: all cores)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.add_argument("--duration", type=float, default=100.0,
                      help="nanoparticle: simulated ps of each of the two runs (default: 100)")
    demo.add_argument("--model", help="nanoparticle: timestep model file (default: the shipped one)")
    demo.set_defaults(func=_demo)

    from .analysis.clustering_cli import add_cluster_command
    from .campaign.cli import add_parser as add_campaign_parser
    from .ml.cli import add_parser as add_surrogate_parser

    analyze = sub.add_parser("analyze", help="analyse simulation output",
                             description="Analyse trajectories written by a simulation.")
    analyze.set_defaults(func=lambda args: analyze.print_help() or 2)
    add_cluster_command(analyze.add_subparsers(dest="analysis", metavar="ANALYSIS", title="analyses"))
    add_campaign_parser(sub, _positive_int)
    add_surrogate_parser(sub, _positive_int)
    return parser


def _run(args):
    from .config import build_run, load_config

    config = load_config(args.config)
    if args.steps is not None:
        config["steps"] = args.steps
    if args.threads is not None:
        config["threads"] = args.threads
    run = build_run(config, base_dir=os.path.dirname(os.path.abspath(args.config)))
    sim = run.simulation
    n, steps = sim.state.n_atoms, run.steps
    print(f"mdlearn run {args.config}: {n} atoms, {steps} steps, {sim.integrator!r}")
    start = time.perf_counter()
    try:
        sim.run(steps, progress=not args.no_progress)
    finally:
        sim.close()
    wall = time.perf_counter() - start
    rate = f" ({n * steps / wall:.3g} atom-steps/s)" if wall > 0 and steps else ""
    print(f"done in {wall:.2f} s{rate}; final temperature {sim.temperature():.4g}")
    for r in sim.reporters:
        path = getattr(r, "path", None)
        if path:
            extra = getattr(r, "topology_path", None)
            print(f"  wrote {path}" + (f" (topology {extra})" if extra else ""))
    return 0


def _demo(args):
    if args.name == "nanoparticle":
        from .demo import run_nanoparticle_demo

        run_nanoparticle_demo(args.out, duration=args.duration, equilibration=args.equilibration, seed=args.seed,
                              model=args.model, threads=args.threads)
        return 0
    from .demo import run_lj_demo

    run_lj_demo(args.out, cells=args.cells, steps=args.steps, seed=args.seed,
                equilibration=args.equilibration, threads=args.threads, progress=not args.no_progress)
    return 0


def main(argv=None):
    """Entry point of the ``mdlearn`` command; returns the exit status."""
    from .config import ConfigError
    from .errors import SimulationError

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ConfigError, SimulationError) as exc:
        print(f"mdlearn {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"mdlearn {args.command}: interrupted", file=sys.stderr)
        return 130
