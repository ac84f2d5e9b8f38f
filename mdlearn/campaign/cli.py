"""``mdlearn campaign run spec.yaml`` and ``mdlearn campaign status store``.

A campaign spec (YAML; relative paths are relative to the file)::

    simulate: mdlearn.campaign.confined:simulate   # module:function, simulate(params, seed) -> dict
    options: {production_steps: 6000}                # keyword arguments passed to simulate (optional)
    space:
      method: sobol                                  # sobol | lhs | random | grid
      n: 256
      seed: 1
      parameters:
        h: {range: [3.0, 4.0]}
        z_pos: {choices: [1, 2, 3]}
        z_neg: -1
    store: confined-store                            # the results folder
    workers: 1                                       # LocalCluster worker processes (default min(2, cores))
    worker_threads: 1                                # kernel threads per run
    scheduler: tcp://host:8786                       # optional: an existing Dask scheduler instead

Running the same spec again resumes: only points without a result are run. Raising ``n`` (same method and
seed) extends the campaign: the stored points are the new list's beginning, so only the added points run.
"""
import functools
import importlib
import os

__all__ = ["add_parser", "load_spec"]


def load_spec(path):
    """Read a campaign spec and return ``(Campaign, spec dict)``."""
    import yaml

    from .runner import Campaign
    from .space import Space

    with open(path) as fh:
        spec = yaml.safe_load(fh)
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: a campaign spec must be a mapping, got {type(spec).__name__}")
    allowed = {"simulate", "options", "space", "store", "seed", "workers", "worker_threads", "scheduler"}
    missing = {"simulate", "space", "store"} - set(spec)
    if missing or set(spec) - allowed:
        raise ValueError(f"{path}: needs keys simulate, space, store (optional: options, seed, workers, "
                         f"worker_threads, scheduler); missing {sorted(missing)}, "
                         f"unknown {sorted(set(spec) - allowed)}")
    simulate = import_function(spec["simulate"])
    if spec.get("options"):
        simulate = functools.partial(simulate, **spec["options"])
    store = os.path.join(os.path.dirname(os.path.abspath(path)), spec["store"])
    campaign = Campaign(simulate, Space.from_dict(spec["space"]), store, client=spec.get("scheduler"),
                        seed=spec.get("seed"), n_workers=spec.get("workers"),
                        worker_threads=spec.get("worker_threads", 1))
    return campaign, spec


def import_function(name):
    """``"package.module:function"`` -> the function."""
    module, _, attr = str(name).partition(":")
    if not module or not attr:
        raise ValueError(f"simulate must be given as 'module:function', got {name!r}")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"simulate {name!r}: {obj.__name__} has no attribute {part!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{name} is not callable")
    return obj


def add_parser(sub, positive_int):
    """Add the ``campaign`` command to the ``mdlearn`` subparsers."""
    camp = sub.add_parser("campaign", help="run or inspect a simulation campaign (Dask)",
                          description="Simulation campaigns: one run per parameter point on a Dask cluster, "
                                      "every result stored as it finishes.")
    csub = camp.add_subparsers(dest="campaign_command", metavar="ACTION", required=True)
    run = csub.add_parser("run", help="run (or resume) the campaign of a YAML spec")
    run.add_argument("spec", help="campaign YAML file (see mdlearn.campaign.cli)")
    run.add_argument("--workers", type=positive_int, help="override the LocalCluster worker processes")
    run.add_argument("--retry-failed", action="store_true", help="run failed points again")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)
    status = csub.add_parser("status", help="counts of finished, failed and missing runs in a store")
    status.add_argument("store", help="campaign folder")
    status.add_argument("--csv", help="also write the results table to this CSV file (array outputs left out)")
    status.set_defaults(func=_status)


def _user_errors(func):
    """Bad specs and missing stores become ConfigError: ``mdlearn`` prints the message, not a traceback."""

    @functools.wraps(func)
    def wrapper(args):
        from ..config import ConfigError

        try:
            return func(args)
        except (ValueError, FileNotFoundError, ImportError) as exc:
            raise ConfigError(str(exc)) from exc

    return wrapper


@_user_errors
def _run(args):
    campaign, _ = load_spec(args.spec)
    if args.workers is not None:
        campaign.n_workers = args.workers
    campaign.run(progress=not args.no_progress, retry_failed=args.retry_failed)
    _print_status(campaign.store.path, campaign.status())
    return 0


@_user_errors
def _status(args):
    from .runner import store_status
    from .store import ResultStore

    store = ResultStore(args.store)
    _print_status(store.path, store_status(store))
    if args.csv:
        table = store.table()
        arrays = [c for c in table.columns if table[c].dtype == object and
                  table[c].map(lambda v: hasattr(v, "shape")).any()]
        table.drop(columns=arrays).to_csv(args.csv, index=False)
        print(f"wrote {args.csv} ({len(table)} runs)")
    failed = [r for r in store.records() if r["status"] != "ok"]
    for r in failed[:10]:
        print(f"  failed #{r['index']} {r['params']}: {str(r['error']).splitlines()[0]}")
    if len(failed) > 10:
        print(f"  ... and {len(failed) - 10} more failures")
    return 0


def _print_status(path, st):
    print(f"{path}: {st['ok']} ok, {st['failed']} failed, {st['missing']} missing of {st['total']} "
          f"({st['wall_time']:.1f} s of simulation)")
