"""The learned surrogate (mdlearn.ml.Surrogate), its metrics, the effective-speedup formula and the
train/report workflow with its CLI."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import mdlearn as mdl
from mdlearn.cli import main
from mdlearn.ml import Surrogate
from mdlearn.ml.metrics import confidence_factor, fraction_within_error, learning_curve, perfect_coverage, rmse
from mdlearn.ml.speedup import campaign_timings, crossover_lookups, effective_speedup
from mdlearn.ml.train import train_and_report

SMALL = dict(hidden=(32,), n_models=3, epochs=500, batch_size=96, learning_rate=1e-2)
TINY = dict(hidden=(8,), n_models=2, epochs=20, batch_size=96)


def target(X):
    return np.column_stack([np.sin(2 * X[:, 0]) + X[:, 1] ** 2, X[:, 0] * X[:, 1]])


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (96, 2))
    model = Surrogate(**SMALL, random_state=1).fit(pd.DataFrame(X, columns=["a", "b"]),
                                                   pd.DataFrame(target(X), columns=["u", "v"]))
    return model, X


# ------------------------------------------------------------------------------------------------ surrogate
def test_surrogate_learns_a_smooth_function(fitted):
    model, _ = fitted
    Xt = np.random.default_rng(5).uniform(-0.9, 0.9, (200, 2))
    err = rmse(target(Xt), model.predict(Xt))
    assert err.shape == (2,) and np.all(err < 0.05), err  # the outputs vary by ~1


def test_surrogate_reproducible_and_std(fitted, tmp_path):
    model, X = fitted
    one = Surrogate(**TINY, random_state=1).fit(pd.DataFrame(X), target(X))
    np.testing.assert_array_equal(Surrogate(**TINY, random_state=1).fit(X, target(X)).predict(X), one.predict(X))
    assert not np.array_equal(Surrogate(**TINY, random_state=2).fit(X, target(X)).predict(X), one.predict(X))
    mean, std = model.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5, 2) and np.all(std > 0)
    # the members agree where they were trained and disagree far outside it
    _, std_far = model.predict(np.full((5, 2), 4.0), return_std=True)
    assert std_far.mean() > 5 * model.predict(X, return_std=True)[1].mean()
    # save / load: same predictions, names kept; sklearn clone gives an unfitted copy with the same params
    model.save(tmp_path / "m.npz")
    loaded = Surrogate.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert list(loaded.feature_names_in_) == ["a", "b"] and loaded.output_names_ == ["u", "v"]
    assert clone(model).get_params() == model.get_params()
    single = Surrogate(**TINY, random_state=0).fit(X, target(X)[:, 0])
    assert single.predict(X[:3]).shape == (3,)


def test_surrogate_error_bars_weight_the_loss():
    """Half the points are shifted by +2 but carry error bars 100x larger: weighted by inverse variance the
    fit follows the accurate half; without the error bars it lands near the middle."""
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (96, 1))
    y = np.sin(2 * X[:, 0])
    bad = np.arange(96) % 2 == 1
    y_obs = y + 2.0 * bad
    err = np.where(bad, 1.0, 0.01)
    kw = dict(SMALL, n_models=2)
    weighted = Surrogate(**kw, random_state=0).fit(X, y_obs, y_err=err).predict(X)
    plain = Surrogate(**kw, random_state=0).fit(X, y_obs).predict(X)
    assert np.abs(weighted - y).mean() < 0.15
    assert abs(np.mean(plain - y) - 1.0) < 0.2


def test_surrogate_bad_input(fitted):
    model, X = fitted
    with pytest.raises(NotFittedError):
        Surrogate().predict(X)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="rows"):
        Surrogate(**SMALL).fit(X, target(X)[:10])
    with pytest.raises(ValueError, match="activation"):
        Surrogate(activation="sigmoid").fit(X, target(X))
    with pytest.raises(ValueError, match="non-finite"):
        Surrogate().fit(np.full((4, 2), np.nan), np.zeros(4))
    with pytest.raises(ValueError, match="y_err has shape"):
        Surrogate().fit(X, target(X), y_err=np.ones(3))


# ------------------------------------------------------------------------------------------------ metrics
def test_metrics_known_values_and_gaussian_coverage():
    assert rmse([0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, -1.0]) == pytest.approx(1.0)
    # a perfect predictor of data with correctly estimated Gaussian error bars: erf(1/√2) and erf(√2)
    rng = np.random.default_rng(0)
    truth = rng.normal(size=40000)
    sigma = rng.uniform(0.1, 2.0, size=truth.size)
    sim = truth + sigma * rng.normal(size=truth.size)
    assert fraction_within_error(sim, truth, sigma, 1.0) == pytest.approx(0.6827, abs=0.008)
    assert fraction_within_error(sim, truth, sigma, 2.0) == pytest.approx(0.9545, abs=0.005)
    with pytest.raises(ValueError, match="k > 0"):
        fraction_within_error([1.0], [1.0], [1.0], k=0)


def test_confidence_interval_of_a_block_mean():
    # Student's t quantiles from printed tables (t_{0.975, nu}): nu = 9 -> 2.262, nu = 4 -> 2.776, nu = 1 -> 12.706
    assert confidence_factor(10) == pytest.approx(2.2622, abs=1e-4)
    assert confidence_factor(5) == pytest.approx(2.7764, abs=1e-4)
    assert confidence_factor(2) == pytest.approx(12.706, abs=1e-3)
    assert confidence_factor(10, level=0.683) < confidence_factor(10)
    # Monte Carlo: means and standard errors from 10 Gaussian blocks; the exact mean lies within t SE of the
    # block mean 95% of the time, within 2 SE only 92.3%
    rng = np.random.default_rng(4)
    blocks = rng.normal(1.0, 0.3, size=(40000, 10))
    mean, se = blocks.mean(1), blocks.std(1, ddof=1) / np.sqrt(10)
    for k in (1.0, 2.0, confidence_factor(10)):
        assert fraction_within_error(mean, np.ones_like(mean), se, k) == pytest.approx(perfect_coverage(k, 10),
                                                                                       abs=0.005)
    assert perfect_coverage(confidence_factor(10), 10) == pytest.approx(0.95, abs=1e-9)
    assert perfect_coverage(1.0) == pytest.approx(0.682689, abs=1e-6)
    with pytest.raises(ValueError, match="n_blocks must be an integer >= 2, got 1"):
        confidence_factor(1)
    with pytest.raises(ValueError, match="level must be between 0 and 1, got 95"):
        confidence_factor(10, level=95)
    with pytest.raises(ValueError, match="k must be a positive number, got -1"):
        perfect_coverage(-1)


def test_learning_curve_improves():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (120, 2))
    y = target(X)
    e = np.full_like(y, 0.05)
    rows = learning_curve(lambda: Surrogate(**dict(SMALL, n_models=2), random_state=0), X[:96], y[:96], e[:96],
                          X[96:], y[96:], e[96:], sizes=[12, 96], seed=0)
    assert [r["size"] for r in rows] == [12, 96]
    assert np.all(rows[1]["rmse"] < rows[0]["rmse"])
    assert rows[1]["within_all"][2.0] >= rows[0]["within_all"][2.0] and rows[0]["within_all_sd"][1.0] == 0.0
    rows = learning_curve(lambda: Surrogate(**dict(SMALL, n_models=1), random_state=0), X[:96], y[:96], e[:96],
                          X[96:], y[96:], e[96:], sizes=[12], seed=0, repeats=3, ks=(1.0,))
    assert rows[0]["repeats"] == 3 and rows[0]["within_all_sd"][1.0] >= 0.0 and list(rows[0]["within"]) == [1.0]
    with pytest.raises(ValueError, match="repeats must be a positive integer, got 0"):
        learning_curve(Surrogate, X, y, e, X, y, e, sizes=[12], repeats=0)
    with pytest.raises(ValueError, match="between 2"):
        learning_curve(Surrogate, X, y, e, X, y, e, sizes=[500])


# ------------------------------------------------------------------------------------------------ speedup
T = dict(t_seq=20.0, t_train=5.0, t_learn=0.5, t_lookup=1e-4)


def test_effective_speedup_limits():
    # no lookups: T_seq / (T_train + T_learn)
    assert effective_speedup(0, 200, **T) == pytest.approx(20.0 / 5.5, rel=1e-12)
    # lookups >> training runs: T_seq / T_lookup
    assert effective_speedup(1e15, 200, **T) == pytest.approx(20.0 / 1e-4, rel=1e-6)
    # fixed N_lookup, lookups costing little next to training (T_lookup N_lookup << T_train N_train) but many
    # more lookups than runs: S ∝ 1 / N_train
    kw = dict(T, t_lookup=1e-12)
    s = effective_speedup(1e9, np.array([1e3, 1e4]), **kw)
    assert s[0] / s[1] == pytest.approx(10.0, rel=1e-3)
    # S grows with N_lookup, monotonically
    assert np.all(np.diff(effective_speedup(np.logspace(0, 9, 10), 200, **T)) > 0)
    with pytest.raises(ValueError, match="t_seq"):
        effective_speedup(1, 1, t_seq=-1.0, t_train=1.0, t_learn=1.0, t_lookup=1.0)
    with pytest.raises(ValueError, match="cost is zero"):
        effective_speedup(0, 0, **T)


def test_crossover():
    kw = dict(T, t_train=20.0)  # sequential runs: the surrogate starts below 1
    n = crossover_lookups(200, **kw)
    assert effective_speedup(n, 200, **kw) == pytest.approx(1.0, rel=1e-9)
    assert effective_speedup(0.5 * n, 200, **kw) < 1 < effective_speedup(2 * n, 200, **kw)
    assert crossover_lookups(200, **T) == 0.0  # parallel runs: pays at once
    assert crossover_lookups(200, t_seq=1.0, t_train=2.0, t_learn=0.0, t_lookup=3.0) == float("inf")


def test_campaign_timings():
    end = pd.Timestamp("2026-01-01T00:00:00Z")
    table = pd.DataFrame({"status": ["ok", "ok", "ok", "failed"], "wall_time": [10.0, 10.0, 10.0, 1.0],
                          "finished": [str(end + pd.Timedelta(seconds=s)) for s in (10, 15, 20, 21)]})
    t_seq, t_train = campaign_timings(table)
    assert t_seq == 10.0 and t_train == pytest.approx(20.0 / 3)  # 2 workers: runs overlap
    # resumed an hour later with one more run: the idle hour is not campaign time
    later = pd.concat([table, pd.DataFrame({"status": ["ok"], "wall_time": [10.0],
                                            "finished": [str(end + pd.Timedelta(seconds=3610))]})])
    t_seq, t_train = campaign_timings(later)
    assert t_seq == 10.0 and t_train == pytest.approx(30.0 / 4)


# ------------------------------------------------------------------------------------------------ workflow
def noisy(params, seed):
    rng = np.random.default_rng(seed)
    x = np.array([[params["a"], params["b"]]])
    y = target(x)[0]
    return {"u": y[0] + 0.02 * rng.normal(), "u_err": 0.02, "v": y[1] + 0.02 * rng.normal(), "v_err": 0.02}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("camp") / "store"
    space = mdl.campaign.Space({"a": (-1.0, 1.0), "b": (-1.0, 1.0)}, method="sobol", n=64, seed=0)
    mdl.Campaign(noisy, space, path, client="synchronous").run(progress=False)
    return path


def test_train_and_report(store, tmp_path):
    table = mdl.campaign.ResultStore(store).table()
    lines = []
    m = train_and_report(table, ["a", "b"], ["u", "v"], tmp_path / "rep", model_params=dict(SMALL, epochs=300),
                         curve_sizes=2, curve_repeats=2, n_blocks=10, cv_folds=3, log=lines.append)
    assert m["n_train"] + m["n_test"] == 64 and m["n_test"] == 13
    assert all(m["rmse"][k] < 0.1 for k in ("u", "v"))
    assert m["lookup_speedup_single"] == pytest.approx(m["t_seq_s"] / m["t_lookup_single_s"])
    assert m["effective_speedup"]["0"] == pytest.approx(m["t_seq_s"] / (m["t_train_s"] + m["t_learn_s"]))
    assert len(m["learning_curve"]) == 2
    assert m["perfect_predictor"]["within_95ci"] == pytest.approx(0.95) and "over 10 blocks" in m["error_bars"]
    for k in ("u", "v"):  # wider intervals hold more predictions
        assert m["within_1_error_bar"][k] <= m["within_2_error_bars"][k] <= m["within_95ci"][k]
    assert m["learning_curve"][0]["repeats"] == 2 and "within_95ci_all_sd" in m["learning_curve"][0]
    cv = m["cross_validated"]  # every run predicted once, by a model fitted without it
    assert cv["n"] == 64 and cv["folds"] == 3 and all(cv["rmse"][k] < 2 * m["rmse"][k] for k in ("u", "v"))
    assert 0.5 < cv["within_95ci_all"] <= 1.0
    for name in ("parity.png", "cases.png", "learning_curve.png"):
        assert (tmp_path / "rep" / name).read_bytes().startswith(b"\x89PNG")
    assert json.loads((tmp_path / "rep" / "metrics.json").read_text())["n_runs"] == 64
    assert any("within 1 SE" in line and "95% CI" in line for line in lines)
    assert any("3-fold cross-validation over all 64 runs" in line for line in lines)
    with pytest.raises(ValueError, match="no columns"):
        train_and_report(table, ["a", "zz"], ["u"], tmp_path / "x")


def test_surrogate_cli(store, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["surrogate", "train", str(store), "--inputs", "a,b", "--outputs", "u,v", "--out", str(out),
                 "--epochs", "20", "--models", "2", "--hidden", "8", "--curve-points", "0"]) == 0
    assert "within 1 SE" in capsys.readouterr().out
    assert main(["surrogate", "predict", str(out / "surrogate.npz"), "a=0.5", "b=-0.5"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "a,b,u,u_std,v,v_std" and len(printed) == 2
    assert main(["surrogate", "predict", str(out / "surrogate.npz"), "a=0.5"]) == 1
    assert "missing inputs ['b']" in capsys.readouterr().err
    assert main(["surrogate", "train", str(tmp_path / "nothing")]) == 1
