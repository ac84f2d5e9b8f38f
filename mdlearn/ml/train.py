"""Train a :class:`~mdlearn.ml.Surrogate` on a campaign's results and report how good and how fast it is:
RMSE per output, fractions of held-out predictions within 1 and 2 of the simulations' error bars, a learning
curve, the lookup time against the simulation time, and the effective speedup (:mod:`mdlearn.ml.speedup`)
with its crossover, measured from the campaign's own timings. Used by ``mdlearn surrogate train`` and
``examples/confined_surrogate.py``.
"""
import json
import os
import time

import numpy as np

from .metrics import confidence_factor, fraction_within_error, learning_curve, perfect_coverage, rmse
from .speedup import campaign_timings, crossover_lookups, effective_speedup

__all__ = ["load_table", "lookup_time", "train_and_report"]

N_LOOKUPS = (0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)


def load_table(source):
    """A results table from a campaign folder (``campaign.json`` + ``results/``) or a CSV file."""
    import pandas as pd

    from ..campaign.store import ResultStore

    if os.path.isdir(source):
        store = ResultStore(source)
        if not store.exists():
            raise FileNotFoundError(f"{source!r} holds no campaign (no campaign.json)")
        return store.table()
    if os.path.isfile(source):
        return pd.read_csv(source)
    raise FileNotFoundError(f"no campaign folder or CSV file at {source!r}")


def lookup_time(model, X, repeats=200):
    """(single, batched) seconds per prediction: one point per call (median of ``repeats`` calls), and
    per point of one call on all of ``X`` repeated to 1,000 rows."""
    X = np.asarray(X, dtype=float)
    one = X[:1]
    model.predict(one)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(one)
        times.append(time.perf_counter() - start)
    big = np.resize(X, (1_000, X.shape[1]))
    start = time.perf_counter()
    model.predict(big)
    return float(np.median(times)), (time.perf_counter() - start) / len(big)


def train_and_report(table, inputs, outputs, out_dir, *, test_fraction=0.2, seed=0, model_params=None,
                     curve_sizes=4, curve_repeats=1, n_blocks=None, cv_folds=0, plot=True, log=print):
    """Split the successful runs of ``table`` into training and test sets, fit, measure, plot, save.

    The ``<output>_err`` columns are standard errors. Fractions of held-out predictions are reported within
    1 and 2 of them and, when ``n_blocks`` (the blocks each error came from) is given, within the 95%
    confidence interval ±t_{0.975, n_blocks−1}·SE (:mod:`mdlearn.ml.metrics`), each next to what a perfect
    predictor would score. The learning curve fits ``curve_repeats`` random subsets per size. With
    ``cv_folds`` > 1 the same fractions are also measured by k-fold cross-validation over all runs (each run
    predicted by a model that never saw it: a less noisy figure than one held-out split), as
    ``metrics["cross_validated"]``.

    Writes to ``out_dir``: ``surrogate.npz`` (the model), ``metrics.json`` (everything below),
    ``parity.png`` (predicted vs simulated with error bars), ``cases.png`` (the test cases one by one) and
    ``learning_curve.png``. Returns the metrics dict.
    """
    import torch  # noqa: F401  (imported before the clock starts: T_learn is the training alone)

    from .surrogate import Surrogate

    inputs, outputs = list(inputs), list(outputs)
    errs = [f"{k}_err" for k in outputs]
    missing = [c for c in inputs + outputs + errs if c not in table.columns]
    if missing:
        raise ValueError(f"the table has no columns {missing}; it has {list(table.columns)}")
    ok = table[table["status"] == "ok"] if "status" in table else table
    ok = ok.dropna(subset=inputs + outputs + errs)
    if len(ok) < 10:
        raise ValueError(f"only {len(ok)} successful runs: too few to train and test a surrogate")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ok))
    n_test = max(2, int(round(test_fraction * len(ok))))
    test, train = ok.iloc[order[:n_test]], ok.iloc[order[n_test:]]
    params = dict(model_params or {})
    params.setdefault("random_state", seed)

    def make_model():
        return Surrogate(**params)

    start = time.perf_counter()
    model = make_model().fit(train[inputs], train[outputs], train[errs].to_numpy())
    fit_time = time.perf_counter() - start
    pred, std = model.predict(test[inputs].to_numpy(), return_std=True)
    y, e = test[outputs].to_numpy(), test[errs].to_numpy()
    levels = {"within_1_error_bar": 1.0, "within_2_error_bars": 2.0}
    if n_blocks is not None:
        levels["within_95ci"] = confidence_factor(n_blocks)
    t_single, t_batched = lookup_time(model, test[inputs].to_numpy())
    metrics = {
        "inputs": inputs, "outputs": outputs, "n_runs": int(len(ok)), "n_train": int(len(train)),
        "n_test": int(len(test)), "seed": seed, "model": {k: list(v) if isinstance(v, tuple) else v
                                                          for k, v in model.get_params().items()},
        "rmse": dict(zip(outputs, rmse(y, pred).tolist(), strict=True)),
        "mean_error_bar": dict(zip(outputs, e.mean(axis=0).tolist(), strict=True)),
        "error_bars": "standard errors" + (f" over {n_blocks} blocks; 95% CI = {levels['within_95ci']:.4g} SE"
                                           if n_blocks is not None else ""),
        "n_blocks": n_blocks,
        "perfect_predictor": {name: perfect_coverage(k, n_blocks) for name, k in levels.items()},
        "fit_time_s": fit_time, "t_lookup_single_s": t_single, "t_lookup_batched_s": t_batched,
    }
    for name, k in levels.items():
        metrics[name] = dict(zip(outputs, fraction_within_error(y, pred, e, k).tolist(), strict=True))
        metrics[f"{name}_all"] = float(np.mean(np.abs(pred - y) <= k * e))
    if "finished" in ok.columns and "wall_time" in ok.columns:
        t_seq, t_train = campaign_timings(ok)
        t_learn = fit_time / len(train)
        s = effective_speedup(np.array(N_LOOKUPS, dtype=float), len(train), t_seq, t_train, t_learn, t_single)
        metrics.update({
            "t_seq_s": t_seq, "t_train_s": t_train, "t_learn_s": t_learn,
            "lookup_speedup_single": t_seq / t_single, "lookup_speedup_batched": t_seq / t_batched,
            "effective_speedup": dict(zip([str(n) for n in N_LOOKUPS], s.tolist(), strict=True)),
            "crossover_lookups": crossover_lookups(len(train), t_seq, t_train, t_learn, t_single),
        })
    if cv_folds:
        metrics["cross_validated"] = _cross_validated(make_model, ok[inputs], ok[outputs], ok[errs].to_numpy(),
                                                      int(cv_folds), seed, levels, outputs)
    if curve_sizes:
        lo = min(max(10, len(train) // 8), len(train))
        sizes = np.unique(np.linspace(lo, len(train), int(curve_sizes)).astype(int))
        curve = learning_curve(make_model, train[inputs].to_numpy(), train[outputs].to_numpy(),
                               train[errs].to_numpy(), test[inputs].to_numpy(), y, e, sizes, seed=seed,
                               repeats=curve_repeats, ks=tuple(levels.values()))
        metrics["learning_curve"] = [_curve_row(r, levels) for r in curve]
    os.makedirs(out_dir, exist_ok=True)
    model.save(os.path.join(out_dir, "surrogate.npz"))
    with open(os.path.join(out_dir, "metrics.json"), "w") as fh:
        json.dump(metrics, fh, indent=1)
    if plot:
        _plots(out_dir, outputs, y, e * levels.get("within_95ci", 1.0), pred, std, metrics)
    _log_report(metrics, log)
    return metrics


def _cross_validated(make_model, X, y, e, folds, seed, levels, outputs):
    """Within-error-bar fractions of k-fold cross-validated predictions (sklearn's cross_val_predict)."""
    from sklearn.model_selection import KFold, cross_val_predict

    if folds < 2:
        raise ValueError(f"cv_folds must be 0 (none) or at least 2, got {folds}")
    pred = cross_val_predict(make_model(), X, y, cv=KFold(folds, shuffle=True, random_state=seed),
                             params={"y_err": e})
    y = np.asarray(y, dtype=float)
    out = {"folds": folds, "n": int(len(y)), "rmse": dict(zip(outputs, rmse(y, pred).tolist(), strict=True))}
    for name, k in levels.items():
        out[name] = dict(zip(outputs, fraction_within_error(y, pred, e, k).tolist(), strict=True))
        out[f"{name}_all"] = float(np.mean(np.abs(pred - y) <= k * e))
    return out


def _curve_row(row, levels):
    """A learning-curve row for JSON, the fractions named like the headline metrics."""
    out = {"size": row["size"], "repeats": row["repeats"], "rmse": row["rmse"].tolist(), "fit_time": row["fit_time"]}
    for name, k in levels.items():
        out[name] = row["within"][k].tolist()
        out[f"{name}_all"] = row["within_all"][k]
        out[f"{name}_all_sd"] = row["within_all_sd"][k]
    return out


_LABELS = {"within_1_error_bar": "1 SE", "within_2_error_bars": "2 SE", "within_95ci": "95% CI"}


def _log_report(m, log):
    log(f"{m['n_runs']} runs: {m['n_train']} training, {m['n_test']} test; fit in {m['fit_time_s']:.1f} s; "
        f"error bars: {m['error_bars']}")
    levels = list(m["perfect_predictor"])
    for k in m["outputs"]:
        log(f"  {k:>8}: RMSE {m['rmse'][k]:.4g} (mean SE {m['mean_error_bar'][k]:.4g}); within "
            + ", ".join(f"{_LABELS[n]}: {m[n][k]:.0%}" for n in levels))
    log("  all outputs: within " + ", ".join(f"{_LABELS[n]}: {m[n + '_all']:.0%} (a perfect predictor: "
                                             f"{m['perfect_predictor'][n]:.1%})" for n in levels))
    if "cross_validated" in m:
        cv = m["cross_validated"]
        log(f"  {cv['folds']}-fold cross-validation over all {cv['n']} runs: within "
            + ", ".join(f"{_LABELS[n]}: {cv[n + '_all']:.0%} (" + ", ".join(f"{k} {cv[n][k]:.0%}" for k in m["outputs"])
                        + ")" for n in levels))
    log(f"  lookup {m['t_lookup_single_s'] * 1e6:.0f} us per call, {m['t_lookup_batched_s'] * 1e6:.2f} us per "
        "point in batches")
    if "t_seq_s" in m:
        log(f"  simulation {m['t_seq_s']:.1f} s per run (campaign: {m['t_train_s']:.1f} s per run elapsed); "
            f"lookup is {m['lookup_speedup_single']:.3g}x faster ({m['lookup_speedup_batched']:.3g}x batched)")
        log("  effective speedup S(N_lookup): " + ", ".join(f"{n}: {s:.3g}" for n, s in
                                                           m["effective_speedup"].items()))
        log(f"  the surrogate pays (S > 1) beyond {m['crossover_lookups']:.3g} lookups")


def _plots(out_dir, outputs, y, bar, pred, std, m):
    """Parity and per-case plots with the simulations' error bars ``bar`` (the 95% CI when known, else 1 SE),
    and the learning curve of all outputs together at every level, against a perfect predictor's score."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    k = len(outputs)
    fig, axes = plt.subplots(1, k, figsize=(4 * k, 4), squeeze=False)
    for j, (ax, name) in enumerate(zip(axes[0], outputs, strict=True)):
        ax.errorbar(y[:, j], pred[:, j], xerr=bar[:, j], yerr=std[:, j], fmt="o", ms=3, alpha=0.7)
        lo, hi = min(y[:, j].min(), pred[:, j].min()), max(y[:, j].max(), pred[:, j].max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_xlabel(f"simulated {name}")
        ax.set_ylabel(f"predicted {name}")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "parity.png"), dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(k, 1, figsize=(8, 2.6 * k), squeeze=False, sharex=True)
    order = np.argsort(y[:, 0])
    x = np.arange(len(order))
    for j, (ax, name) in enumerate(zip(axes[:, 0], outputs, strict=True)):
        ax.errorbar(x, y[order, j], yerr=bar[order, j], fmt="o", ms=3,
                    label="simulation ± " + ("95% CI" if "within_95ci" in m["perfect_predictor"] else "1 SE"))
        ax.plot(x, pred[order, j], "r_", ms=10, mew=2, label="surrogate")
        ax.set_ylabel(name)
    axes[0, 0].legend(fontsize=8)
    axes[-1, 0].set_xlabel("test case (sorted by simulated " + outputs[0] + ")")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "cases.png"), dpi=110)
    plt.close(fig)

    curve = m.get("learning_curve")
    if curve:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        sizes = [r["size"] for r in curve]
        for name, perfect in m["perfect_predictor"].items():
            line = ax.errorbar(sizes, [r[f"{name}_all"] for r in curve], yerr=[r[f"{name}_all_sd"] for r in curve],
                               fmt="o-", capsize=3, label=f"within {_LABELS[name]}")
            ax.axhline(perfect, ls=":", color=line[0].get_color(), lw=1)
        ax.set_xlabel(f"training runs ({curve[0]['repeats']} random subsets each; dotted: a perfect predictor)")
        ax.set_ylabel("fraction of test predictions, all outputs")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "learning_curve.png"), dpi=110)
        plt.close(fig)
