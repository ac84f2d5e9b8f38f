"""Campaigns: sampling spaces, the durable store, failures, resume, a worker killed mid-campaign (Dask),
a driver killed mid-campaign, and the ``mdlearn campaign`` CLI."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import mdlearn as mdl
from mdlearn.campaign import ResultStore, Space
from mdlearn.campaign.demo import quadratic, sleepy
from mdlearn.cli import main

DIMS = {"h": (3.0, 4.0), "z_pos": [1, 2, 3], "c": (0.3, 0.9), "z_neg": -1}


# ------------------------------------------------------------------------------------------------ spaces
@pytest.mark.parametrize("method", ["sobol", "lhs", "random"])
def test_space_samples_in_bounds_and_reproducible(method):
    pts = Space(DIMS, method=method, n=64, seed=3).points()
    assert len(pts) == 64 and pts == Space(DIMS, method=method, n=64, seed=3).points()
    assert pts != Space(DIMS, method=method, n=64, seed=4).points()
    h = np.array([p["h"] for p in pts])
    c = np.array([p["c"] for p in pts])
    assert h.min() >= 3.0 and h.max() <= 4.0 and c.min() >= 0.3 and c.max() <= 0.9
    assert {p["z_neg"] for p in pts} == {-1}
    counts = np.bincount([p["z_pos"] for p in pts], minlength=4)[1:]
    assert counts.min() >= 10  # each valency drawn about a third of the time
    # uniform over the range: the mean of 64 draws is within 4 standard errors of the middle
    assert abs(h.mean() - 3.5) < 4 * (1 / np.sqrt(12)) / 8


def test_space_stratification_lhs_and_sobol():
    """LHS puts exactly one point in each of n equal slices of every range; a scrambled Sobol set of 2^k
    points puts 2^k / 8 points in each eighth."""
    h = np.array([p["h"] for p in Space(DIMS, method="lhs", n=20, seed=0).points()])
    assert np.array_equal(np.sort(np.floor((h - 3.0) * 20)), np.arange(20))
    h = np.array([p["h"] for p in Space(DIMS, method="sobol", n=64, seed=0).points()])
    assert np.array_equal(np.bincount(np.floor((h - 3.0) * 8).astype(int), minlength=8), np.full(8, 8))


def test_space_grid_and_round_trip():
    sp = Space(DIMS, method="grid", n={"h": 3, "c": 2})
    pts = sp.points()
    assert len(pts) == 3 * 3 * 2
    assert sorted({p["h"] for p in pts}) == [3.0, 3.5, 4.0] and sorted({p["c"] for p in pts}) == [0.3, 0.9]
    again = Space.from_dict(json.loads(json.dumps(sp.to_dict())))
    assert again.points() == pts


@pytest.mark.parametrize("kwargs, match", [
    (dict(dimensions={"h": (4.0, 3.0)}, n=4), "low < high"),
    (dict(dimensions={"h": []}, n=4), "empty list"),
    (dict(dimensions={"h": (3.0, 4.0)}, method="halton", n=4), "method must be one of"),
    (dict(dimensions={"h": (3.0, 4.0)}, n=0), "positive integer"),
    (dict(dimensions={"h": (3.0, 4.0)}, method="grid", n=None), "grid: need a positive integer"),
    (dict(dimensions={"h": {"low": 1}}, n=4), "a dict must be"),
    (dict(dimensions={}, n=4), "non-empty dict"),
])
def test_space_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Space(**kwargs)


# ------------------------------------------------------------------------------------------------ store
def test_store_atomic_write_and_table(tmp_path):
    store = ResultStore(tmp_path / "s")
    store.write_result({"index": 2, "seed": 5, "params": {"x": 1.5}, "outputs": {"y": 3.0, "p": [1.0, 2.0]},
                        "status": "ok", "error": None, "wall_time": 0.5})
    store.write_result({"index": 0, "seed": 7, "params": {"x": 0.5}, "outputs": None, "status": "failed",
                        "error": "ValueError: no", "wall_time": 0.1})
    assert sorted(os.listdir(store.results_dir)) == ["000000.json", "000002.json"]  # no temporary file left
    t = store.table()
    assert t["index"].tolist() == [0, 2] and t["status"].tolist() == ["failed", "ok"]
    assert np.isnan(t["y"][0]) and t["y"][1] == 3.0
    np.testing.assert_array_equal(t["p"][1], [1.0, 2.0])


# ------------------------------------------------------------------------------------------------ in-process
def test_campaign_records_failures_and_resumes_only_missing(tmp_path):
    calls = []

    def simulate(params, seed):
        calls.append(params["x"])
        return sleepy(params, seed)

    points = [{"x": x} for x in (1.0, -1.0, 2.0, 3.0)]
    camp = mdl.Campaign(simulate, points, tmp_path / "s", client="synchronous", seed=1)
    table = camp.run(progress=False)
    assert calls == [1.0, -1.0, 2.0, 3.0]
    assert table["status"].tolist() == ["ok", "failed", "ok", "ok"]
    assert "ValueError: x = -1.0 is negative" in table["error"][1]
    assert camp.status() == {"total": 4, "ok": 3, "failed": 1, "missing": 0,
                             "wall_time": pytest.approx(table["wall_time"].sum())}
    # seeds: one per point, distinct, fixed by the campaign seed
    assert len(set(table["seed"])) == 4 and table["seed"].tolist() == mdl.Campaign(
        simulate, points, tmp_path / "other", client="synchronous", seed=1).seeds
    # lose one result: resume runs only that one; retry_failed reruns the failure too
    os.unlink(camp.store.result_path(2))
    calls.clear()
    camp.resume(progress=False)
    assert calls == [2.0]
    calls.clear()
    camp.resume(progress=False, retry_failed=True)
    assert calls == [-1.0]
    with pytest.raises(ValueError, match="holds a different campaign"):
        mdl.Campaign(simulate, points[:3], tmp_path / "s", client="synchronous", seed=1)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        mdl.Campaign(simulate, points, tmp_path / "new", client="synchronous").resume(progress=False)


def test_campaign_extended_with_larger_n_runs_only_new_points(tmp_path):
    calls = []

    def simulate(params, seed):
        calls.append(params["x"])
        return sleepy(params, seed)

    def space(n):
        return mdl.campaign.Space({"x": (0.0, 1.0)}, method="sobol", n=n, seed=3)

    small = mdl.Campaign(simulate, space(4), tmp_path / "s", client="synchronous")
    small.run(progress=False)
    first = list(calls)
    calls.clear()
    big = mdl.Campaign(simulate, space(8), tmp_path / "s", client="synchronous")
    assert big.points[:4] == small.points and big.seeds[:4] == small.seeds
    table = big.run(progress=False)
    assert calls == [p["x"] for p in big.points[4:]] and len(set(calls) | set(first)) == 8
    assert table["index"].tolist() == list(range(8)) and table["seed"].tolist() == big.seeds
    manifest = big.store.read_manifest()
    assert len(manifest["points"]) == 8 and [(e["from"], e["to"]) for e in manifest["extended"]] == [(4, 8)]
    with pytest.raises(ValueError, match="holds a different campaign"):  # a smaller n is not a resume
        mdl.Campaign(simulate, space(4), tmp_path / "s", client="synchronous")


def test_campaign_bad_outputs_are_failures(tmp_path):
    bad = [lambda p, s: [1.0], lambda p, s: {"x": 1.0}, lambda p, s: {"y": "text"}]
    for k, f in enumerate(bad):
        t = mdl.Campaign(f, [{"x": 0.0}], tmp_path / str(k), client="synchronous").run(progress=False)
        assert t["status"][0] == "failed"
    assert "must return a dict" in mdl.Campaign(bad[0], [{"x": 0.0}], tmp_path / "0").results()["error"][0]
    with pytest.raises(TypeError, match="client must be"):
        mdl.Campaign(quadratic, [{"x": 1.0, "a": 1}], tmp_path / "c", client=3.5).run(progress=False)


# ------------------------------------------------------------------------------------------------ Dask
def _wait_for(predicate, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_default_local_cluster_one_thread_per_run(tmp_path):
    """client=None: a LocalCluster of worker processes, each run with one OpenMP and one kernel thread."""

    def threads(params, seed):
        import os

        import mdlearn

        return {"omp": float(os.environ["OMP_NUM_THREADS"]), "kernel": float(mdlearn.get_num_threads()),
                "pid": float(os.getpid())}

    table = mdl.Campaign(threads, [{"x": float(i)} for i in range(3)], tmp_path / "s", n_workers=1).run(progress=False)
    assert (table["status"] == "ok").all() and (table["omp"] == 1).all() and (table["kernel"] == 1).all()
    assert (table["pid"] != os.getpid()).all()


def test_worker_killed_mid_campaign_loses_nothing(tmp_path):
    """A LocalCluster of two worker processes; once a few results are stored, SIGKILL the worker process
    that produced one of them while it runs the next point. With Dask's retries switched off the point it
    was running is recorded as failed, every other point finishes, no stored result changes, and a resume
    runs only the failed point."""
    import dask
    from distributed import Client, LocalCluster

    n = 12
    points = [{"x": float(i), "sleep": 0.4} for i in range(n)]
    store = ResultStore(tmp_path / "s")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
                Client(cluster) as client:
            camp = mdl.Campaign(sleepy, points, store.path, client=client)
            before = {}
            killed = []

            def killer():
                if _wait_for(lambda: len(store.records()) >= 3, 120):
                    for r in store.records():
                        with open(store.result_path(r["index"]), "rb") as fh:
                            before[r["index"]] = fh.read()
                    pid = int(store.records()[-1]["worker"].rsplit(":", 1)[1])
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

            th = threading.Thread(target=killer)
            th.start()
            camp.run(progress=False)
            th.join()
            assert killed, "no worker was killed"
            table = camp.results()
            assert len(table) == n
            failed = table[table["status"] == "failed"]
            assert len(failed) >= 1 and all("KilledWorker" in e for e in failed["error"])
            # only what the killed worker held (one running point, at most one queued) is lost
            assert (table["status"] == "ok").sum() >= n - 2
            camp.resume(progress=False, retry_failed=True)
    table = camp.results()
    assert (table["status"] == "ok").all() and table["y"].tolist() == [float(i) for i in range(n)]
    for i, data in before.items():  # results stored before the kill are untouched
        with open(store.result_path(i), "rb") as fh:
            assert fh.read() == data


def test_cli_driver_killed_then_resumed(tmp_path):
    """``mdlearn campaign run`` killed (SIGKILL) mid-campaign: every stored result is whole; running the spec
    again runs only the missing points; ``status`` counts them."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "simulate: mdlearn.campaign.demo:sleepy\n"
        "space:\n  method: grid\n  parameters:\n    x: [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -1.0]\n"
        "    sleep: 0.3\n"
        "store: store\nscheduler: synchronous\n")
    proc = subprocess.Popen([sys.executable, "-m", "mdlearn", "campaign", "run", str(spec), "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = ResultStore(tmp_path / "store")
    try:
        assert _wait_for(lambda: len(store.records()) >= 3, 60)
    finally:
        proc.kill()
        proc.wait()
    first = {r["index"]: r["finished"] for r in store.records()}  # every file parses: none half-written
    assert 3 <= len(first) < 8
    assert main(["campaign", "run", str(spec), "--no-progress"]) == 0
    records = store.records()
    assert len(records) == 8 and all(first[r["index"]] == r["finished"] for r in records if r["index"] in first)
    assert [r["status"] for r in records].count("failed") == 1


def test_cli_status_and_errors(tmp_path, capsys):
    mdl.Campaign(sleepy, [{"x": 1.0}, {"x": -2.0}], tmp_path / "s", client="synchronous").run(progress=False)
    assert main(["campaign", "status", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "1 ok, 1 failed, 0 missing of 2" in out and "x = -2.0 is negative" in out
    assert main(["campaign", "status", str(tmp_path / "s"), "--csv", str(tmp_path / "t.csv")]) == 0
    csv = pd.read_csv(tmp_path / "t.csv")
    assert csv["status"].tolist() == ["ok", "failed"] and csv["y"][0] == 1.0
    assert main(["campaign", "status", str(tmp_path / "none")]) == 1
    assert "holds no campaign" in capsys.readouterr().err
    spec = tmp_path / "bad.yaml"
    spec.write_text("simulate: mdlearn.campaign.demo:nothing\nspace: {parameters: {x: 1}, n: 1}\nstore: s2\n")
    assert main(["campaign", "run", str(spec)]) == 1
    assert "has no attribute 'nothing'" in capsys.readouterr().err
