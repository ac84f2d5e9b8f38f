"""Campaigns: one simulation per parameter point, run on a Dask cluster, every result stored as it finishes.

Where the runs go (``client``):
- ``None`` (default): a ``distributed.LocalCluster`` on this machine, ``n_workers`` worker processes (default
  ``min(2, cores)``) of one thread each, kernel threads ``worker_threads`` (default 1) in each, closed at the end;
- a scheduler address such as ``"tcp://10.0.0.5:8786"`` (a cluster started with ``dask scheduler`` and
  ``dask worker``);
- a cluster object, e.g. from dask-jobqueue: ``SLURMCluster(cores=1, memory="2GB")`` then
  ``cluster.scale(jobs=20)`` — its workers must share this file system only for the simulate function's own
  files: results come back to this process, which writes the store;
- a ``distributed.Client`` already connected (left open).

The simulate function is ``simulate(params: dict, seed: int) -> dict`` of outputs: floats (an error bar as
``<name>_err``) or arrays. It must be importable or picklable by the workers (a module-level function, or a
``functools.partial`` of one). An exception in it marks that run ``"failed"`` with the message and
traceback and the others go on; so does a run whose worker dies more often than Dask's
``distributed.scheduler.allowed-failures`` (3 by default: a worker that dies once has its task run again
elsewhere).

A script that runs a campaign on the default LocalCluster must guard its entry point with
``if __name__ == "__main__":`` (the worker processes are started by ``multiprocessing`` with ``spawn``,
which imports the main script again).
"""
import datetime
import hashlib
import json
import os
import socket
import time
import traceback

import numpy as np

from .space import Space
from .store import ResultStore

__all__ = ["Campaign"]


RESERVED = ("index", "seed", "status", "wall_time", "error", "worker", "finished")


def _finite_outputs(outputs, params):
    if not isinstance(outputs, dict):
        raise TypeError(f"simulate must return a dict of outputs, got {type(outputs).__name__}")
    clean = {}
    for k, v in outputs.items():
        if k in RESERVED or k in params:
            raise ValueError(f"output name {k!r} clashes with an input or a column of the results table")
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"output {k!r} must be a number or an array of numbers, got {v!r}") from None
        clean[str(k)] = float(a) if a.ndim == 0 else a.tolist()
    return clean


def execute(simulate, index, params, seed, threads):
    """Run one point on a worker and return its record; exceptions become ``status="failed"``."""
    try:
        from ..threads import set_num_threads

        set_num_threads(threads)
    except ImportError:  # a worker without the compiled kernels can still run pure-Python simulate functions
        pass
    start = time.perf_counter()
    record = {"index": index, "seed": seed, "params": params, "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        record.update(outputs=_finite_outputs(simulate(dict(params), seed), params), status="ok", error=None)
    except Exception as exc:  # recorded, not raised: one bad point must not stop the campaign
        record.update(outputs=None, status="failed",
                      error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=20)}")
    record["wall_time"] = time.perf_counter() - start
    return record


def _seeds(seed, n):
    """One independent seed per point, from numpy's SeedSequence (same campaign seed, same run seeds)."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


class Campaign:
    """One simulation per point of a :class:`Space`, on Dask, results stored durably in ``store``.

    Parameters
    ----------
    simulate : callable
        ``simulate(params, seed) -> dict`` of outputs (module docstring).
    space : Space or list of dict
        The points (a list of dicts is used as given).
    store : str or path
        Folder of the campaign (:class:`~mdlearn.campaign.ResultStore`). An existing campaign there must have
        the same points and seeds, or be their beginning (the same space and seed with a larger ``n``: the
        campaign is extended); its finished runs are kept and not run again.
    client : None, str, cluster or distributed.Client
        Where to run (module docstring). Default: a LocalCluster on this machine.
    seed : int, optional
        Seeds of the runs (one per point, derived from it); default the space's seed, else 0.
    n_workers : int, optional
        Worker processes of the default LocalCluster (default ``min(2, cores)``).
    worker_threads : int
        Kernel (OpenMP) threads in each run.

    Examples
    --------
    >>> import tempfile, mdlearn as mdl
    >>> from mdlearn.campaign.demo import quadratic
    >>> space = mdl.campaign.Space({"x": (0.0, 1.0), "a": [1, 2]}, method="grid", n=3)
    >>> campaign = mdl.Campaign(quadratic, space, tempfile.mkdtemp(), client="synchronous")
    >>> table = campaign.run(progress=False)
    >>> campaign.status()["ok"], float(table["y"].max())
    (6, 2.0)
    """

    def __init__(self, simulate, space, store, client=None, *, seed=None, n_workers=None, worker_threads=1):
        if not callable(simulate):
            raise TypeError(f"simulate must be callable, got {simulate!r}")
        if isinstance(space, Space):
            self.points = space.points()
            space_desc = space.to_dict()
            default_seed = space.seed
        else:
            self.points = [dict(p) for p in space]
            space_desc, default_seed = None, None
            if not self.points or not all(isinstance(p, dict) for p in space):
                raise ValueError("space must be a Space or a non-empty list of dicts of inputs")
        if n_workers is not None and (int(n_workers) != n_workers or n_workers < 1):
            raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
        if int(worker_threads) != worker_threads or worker_threads < 1:
            raise ValueError(f"worker_threads must be a positive integer, got {worker_threads!r}")
        self.simulate = simulate
        self.space = space if isinstance(space, Space) else None
        self.store = store if isinstance(store, ResultStore) else ResultStore(store)
        self.client = client
        self.seed = seed if seed is not None else (default_seed if default_seed is not None else 0)
        self.seeds = _seeds(self.seed, len(self.points))
        self.n_workers = n_workers
        self.worker_threads = int(worker_threads)
        self._manifest = {
            "points": json.loads(json.dumps(self.points)), "seeds": self.seeds, "seed": self.seed,
            "space": space_desc, "simulate": _describe(simulate),
        }
        self._extends = False  # set by _check_store when the store holds the beginning of this campaign
        self._check_store()

    # ------------------------------------------------------------------------------------------------ store
    def _check_store(self):
        if not self.store.exists():
            return
        old = self.store.read_manifest()
        n_old = len(old.get("points", []))
        # a larger n of the same Sobol/random space and seed keeps the old points and seeds as a prefix
        if (n_old > len(self.points) or old.get("points") != self._manifest["points"][:n_old]
                or old.get("seeds") != self._manifest["seeds"][:n_old]):
            raise ValueError(f"the store {self.store.path!r} holds a different campaign (other points or seeds); "
                             "use a new folder, or the same space and seed (or a larger n) to resume it")
        self._extends = n_old < len(self.points)

    def _write_manifest(self):
        from .. import __version__

        if not self.store.exists():
            self.store.write_manifest(dict(self._manifest, created=_now(), mdlearn=__version__))
        elif self._extends:
            old = self.store.read_manifest()
            history = old.get("extended", []) + [{"from": len(old["points"]), "to": len(self.points), "at": _now(),
                                                  "mdlearn": __version__}]
            self.store.write_manifest(dict(self._manifest, created=old.get("created"), mdlearn=old.get("mdlearn"),
                                           extended=history))
            self._extends = False

    def _todo(self, retry_failed):
        done = {r["index"]: r["status"] for r in self.store.records()}
        return [i for i in range(len(self.points))
                if i not in done or (retry_failed and done[i] != "ok")]

    # ------------------------------------------------------------------------------------------------ running
    def run(self, progress=True, retry_failed=False):
        """Run every point without a stored result (and, with ``retry_failed``, the failed ones again);
        write each record as it arrives. Returns :meth:`results`."""
        self._write_manifest()
        todo = self._todo(retry_failed)
        if todo:
            self._execute(todo, progress)
        return self.results()

    def resume(self, progress=True, retry_failed=False):
        """Continue an interrupted campaign: run only what the store lacks. Same as :meth:`run`, but the
        store must already hold this campaign."""
        if not self.store.exists():
            raise FileNotFoundError(f"nothing to resume: {self.store.path!r} holds no campaign yet; use run()")
        return self.run(progress=progress, retry_failed=retry_failed)

    def _execute(self, todo, progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="campaign", unit="run", disable=not progress)
        try:
            if self.client == "synchronous":  # in this process, in order: for docs, debugging and tiny tests
                for i in todo:
                    self._store(execute(self.simulate, i, self.points[i], self.seeds[i], self.worker_threads), bar)
                return
            from distributed import as_completed

            client, close = self._connect()
            try:
                token = hashlib.sha1(self.store.path.encode()).hexdigest()[:8]
                futures = {client.submit(execute, self.simulate, i, self.points[i], self.seeds[i],
                                         self.worker_threads, key=f"mdlearn-run-{token}-{i}", pure=False): i
                           for i in todo}
                for fut in as_completed(futures):
                    i = futures[fut]
                    if fut.status == "finished":
                        record = fut.result()
                    else:  # the task itself died (e.g. its workers were killed too often) or was cancelled
                        exc = fut.exception()
                        record = {"index": i, "seed": self.seeds[i], "params": self.points[i], "outputs": None,
                                  "status": "failed", "error": f"{type(exc).__name__}: {exc}", "wall_time": None,
                                  "worker": None}
                    fut.release()
                    self._store(record, bar)
            finally:
                close()
        finally:
            bar.close()

    def _store(self, record, bar):
        record["finished"] = _now()
        self.store.write_result(record)
        bar.update(1)

    def _connect(self):
        """(client, close) for the configured target."""
        from distributed import Client

        c = self.client
        if c is None:
            from distributed import LocalCluster

            n = self.n_workers or max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                             else os.cpu_count() or 1))
            env = {"OMP_NUM_THREADS": str(self.worker_threads)}
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   env=env)
            client = Client(cluster)

            def close():
                client.close()
                cluster.close()

            return client, close
        if isinstance(c, Client):
            return c, lambda: None
        if isinstance(c, str) or hasattr(c, "scheduler_address"):
            client = Client(c)
            return client, client.close
        raise TypeError(f"client must be None, 'synchronous', a scheduler address, a cluster or a "
                        f"distributed.Client, got {c!r}")

    # ------------------------------------------------------------------------------------------------ reading
    def results(self):
        """The stored runs as a pandas DataFrame (see :meth:`ResultStore.table`)."""
        return self.store.table()

    def status(self):
        """Counts: ``total`` points, ``ok``, ``failed``, ``missing``; ``wall_time`` (s, summed over runs)."""
        return store_status(self.store, total=len(self.points))


def store_status(store, total=None):
    """Status counts of a store (see :meth:`Campaign.status`); ``total`` defaults to the manifest's points."""
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    if total is None:
        total = len(store.read_manifest()["points"])
    records = store.records()
    ok = sum(r["status"] == "ok" for r in records)
    failed = sum(r["status"] != "ok" for r in records)
    wall = float(sum(r.get("wall_time") or 0.0 for r in records))
    return {"total": total, "ok": ok, "failed": failed, "missing": total - ok - failed, "wall_time": wall}


def _describe(func):
    """``module:name`` of a function, with the keywords of a ``functools.partial`` (provenance only)."""
    keywords = getattr(func, "keywords", None)
    base = getattr(func, "func", func)
    name = f"{getattr(base, '__module__', '?')}:{getattr(base, '__qualname__', repr(base))}"
    return f"{name} {json.dumps(keywords, default=repr)}" if keywords else name


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
