"""A campaign's durable store: a folder with ``campaign.json`` (the points, their seeds, the space) and one
JSON file per finished run in ``results/``, each written atomically (a temporary file in the same folder,
flushed to disk, then renamed over the final name), so an interruption at any moment leaves every finished
result whole and never a half-written one.

A run record holds ``index``, ``seed``, ``params``, ``outputs`` (name -> float or list), ``status``
(``"ok"`` or ``"failed"``), ``error`` (the message and traceback of a failure), ``wall_time`` (s, the
simulation alone), ``worker`` and ``finished`` (UTC time).
"""
import json
import os
import tempfile

import numpy as np

__all__ = ["ResultStore"]

MANIFEST = "campaign.json"
RESULTS = "results"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def atomic_write_json(path, data):
    """Write ``data`` as JSON to ``path`` so that ``path`` is either absent, the old file or the whole new one."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(_jsonable(data), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)  # make the rename itself durable
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class ResultStore:
    """The folder of one campaign (module docstring).

    Examples
    --------
    >>> import tempfile, mdlearn as mdl
    >>> store = mdl.campaign.ResultStore(tempfile.mkdtemp())
    >>> store.write_result({"index": 0, "seed": 1, "params": {"x": 1.0}, "outputs": {"y": 2.0},
    ...                     "status": "ok", "error": None, "wall_time": 0.1})
    >>> store.table()[["x", "y", "status"]].values.tolist()
    [[1.0, 2.0, 'ok']]
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.results_dir = os.path.join(self.path, RESULTS)

    @property
    def manifest_path(self):
        return os.path.join(self.path, MANIFEST)

    def exists(self):
        """Whether the folder holds a campaign (a manifest)."""
        return os.path.isfile(self.manifest_path)

    def read_manifest(self):
        if not self.exists():
            raise FileNotFoundError(f"{self.path!r} holds no campaign (no {MANIFEST})")
        with open(self.manifest_path) as fh:
            return json.load(fh)

    def write_manifest(self, manifest):
        os.makedirs(self.results_dir, exist_ok=True)
        atomic_write_json(self.manifest_path, manifest)

    def result_path(self, index):
        return os.path.join(self.results_dir, f"{int(index):06d}.json")

    def write_result(self, record):
        """Write one run record (a dict with at least ``index``), atomically."""
        os.makedirs(self.results_dir, exist_ok=True)
        atomic_write_json(self.result_path(record["index"]), record)

    def records(self):
        """Every stored run record, by index."""
        if not os.path.isdir(self.results_dir):
            return []
        out = []
        for name in sorted(os.listdir(self.results_dir)):
            if name.endswith(".json") and not name.startswith("."):
                with open(os.path.join(self.results_dir, name)) as fh:
                    out.append(json.load(fh))
        return sorted(out, key=lambda r: r["index"])

    def table(self):
        """A pandas DataFrame, one row per stored run: ``index``, ``seed``, ``status``, ``wall_time``,
        ``error``, ``worker``, the inputs, then the outputs (list outputs become numpy arrays in object columns)."""
        import pandas as pd

        rows = []
        for r in self.records():
            row = {"index": r["index"], "seed": r.get("seed"), "status": r["status"],
                   "wall_time": r.get("wall_time"), "error": r.get("error"), "worker": r.get("worker")}
            row.update(r.get("params", {}))
            for k, v in (r.get("outputs") or {}).items():
                row[k] = np.asarray(v, dtype=float) if isinstance(v, list) else v
            rows.append(row)
        columns = ["index", "seed", "status", "wall_time", "error", "worker"]
        return pd.DataFrame(rows, columns=None if rows else columns)
