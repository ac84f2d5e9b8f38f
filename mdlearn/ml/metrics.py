"""How good a surrogate is: RMSE per output, the fraction of predictions within the simulations' error
bars, and a learning curve against the training-set size.

Error bars. A simulation reports a mean with its standard error (SE) from B block means. The 95% confidence
interval of that mean is ±t·SE with t = t_{0.975, B−1} Student's quantile (:func:`confidence_factor`: 2.262 for
10 blocks), not ±2 SE: the SE is itself estimated from B values. A perfect predictor (the exact mean) lands
within k SE of a simulated value with probability 2 F_t(k; B − 1) − 1 (:func:`perfect_coverage`): 65.7% at
k = 1, 92.4% at k = 2 and 95% at k = t for 10 blocks.
"""
import numpy as np

__all__ = ["confidence_factor", "fraction_within_error", "learning_curve", "perfect_coverage", "rmse"]


def _pair(a, b, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"{what}: shapes {a.shape} and {b.shape} differ")
    return a, b


def rmse(y_true, y_pred):
    """Root-mean-square error per output (columns): a float for 1-d inputs, else an array.

    >>> float(rmse([1.0, 2.0], [1.0, 4.0]))
    1.4142135623730951
    """
    t, p = _pair(y_true, y_pred, "rmse")
    return np.sqrt(np.mean((p - t) ** 2, axis=0))


def fraction_within_error(y_true, y_pred, y_err, k=1.0):
    """Fraction of predictions with ``|y_pred - y_true| <= k * y_err`` per output. With ``y_err`` the
    simulations' standard errors, a perfect predictor scores about 0.68 at k = 1 and 0.95 at k = 2 (Gaussian
    errors, correctly estimated): read the numbers against those.

    >>> float(fraction_within_error([1.0, 2.0, 3.0, 4.0], [1.05, 2.3, 3.0, 4.0], [0.1, 0.1, 0.1, 0.1]))
    0.75
    """
    t, p = _pair(y_true, y_pred, "fraction_within_error")
    t, e = _pair(y_true, y_err, "fraction_within_error")
    if np.any(e < 0) or not np.isfinite(k) or k <= 0:
        raise ValueError(f"need y_err >= 0 and k > 0, got k={k}")
    return np.mean(np.abs(p - t) <= k * e, axis=0)


def confidence_factor(n_blocks, level=0.95):
    """Half-width of the two-sided ``level`` confidence interval of a mean in units of its standard error,
    when that error comes from ``n_blocks`` block means: Student's t quantile t_{(1+level)/2, n_blocks−1}.

    >>> round(float(confidence_factor(10)), 3)
    2.262
    """
    from scipy.stats import t

    if int(n_blocks) != n_blocks or n_blocks < 2:
        raise ValueError(f"n_blocks must be an integer >= 2, got {n_blocks!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    return float(t.ppf(0.5 * (1.0 + level), int(n_blocks) - 1))


def perfect_coverage(k, n_blocks=None):
    """Fraction of simulated values within ``k`` standard errors of their exact mean — what a perfect
    predictor scores in :func:`fraction_within_error` — when each error comes from ``n_blocks`` block means
    (Student's t with n_blocks − 1 degrees of freedom; ``None``: known errors, Gaussian).

    >>> round(float(perfect_coverage(2.0)), 4), round(float(perfect_coverage(2.0, n_blocks=10)), 3)
    (0.9545, 0.923)
    """
    from scipy.stats import norm, t

    if not (np.isfinite(k) and k > 0):
        raise ValueError(f"k must be a positive number, got {k!r}")
    if n_blocks is None:
        return float(2.0 * norm.cdf(k) - 1.0)
    if int(n_blocks) != n_blocks or n_blocks < 2:
        raise ValueError(f"n_blocks must be an integer >= 2, got {n_blocks!r}")
    return float(2.0 * t.cdf(k, int(n_blocks) - 1) - 1.0)


def learning_curve(make_model, X, y, y_err, X_test, y_test, y_err_test, sizes, seed=None, repeats=1, ks=(1.0, 2.0)):
    """Fit ``make_model()`` on ``repeats`` random training subsets of each size and score it on the test set.

    Returns a list of dicts: ``size``, ``repeats``, ``rmse`` (per output, mean over repeats), ``within`` (for
    each k of ``ks``: fractions within k error bars per output, mean over repeats), ``within_all`` and
    ``within_all_sd`` (for each k: all outputs together, mean and standard deviation over repeats),
    ``fit_time`` (s, mean). ``seed`` picks the subsets.
    """
    import time

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    y_err = None if y_err is None else np.asarray(y_err, dtype=float)
    y_test, y_err_test = np.asarray(y_test, dtype=float), np.asarray(y_err_test, dtype=float)
    if int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        size = int(size)
        if not 2 <= size <= len(X):
            raise ValueError(f"training size {size} must be between 2 and the {len(X)} points available")
        errs, within, within_all, fit_times = [], [], [], []
        for _ in range(int(repeats)):
            idx = rng.choice(len(X), size=size, replace=False)
            start = time.perf_counter()
            model = make_model().fit(X[idx], y[idx], None if y_err is None else y_err[idx])
            fit_times.append(time.perf_counter() - start)
            pred = model.predict(X_test)
            errs.append(rmse(y_test, pred))
            within.append([fraction_within_error(y_test, pred, y_err_test, k) for k in ks])
            within_all.append([np.mean(np.abs(pred - y_test) <= k * y_err_test) for k in ks])
        within, within_all = np.mean(within, axis=0), np.asarray(within_all)
        rows.append({"size": size, "repeats": int(repeats), "rmse": np.mean(errs, axis=0),
                     "within": {float(k): within[j] for j, k in enumerate(ks)},
                     "within_all": {float(k): float(within_all[:, j].mean()) for j, k in enumerate(ks)},
                     "within_all_sd": {float(k): float(within_all[:, j].std(ddof=1)) if repeats > 1 else 0.0
                                       for j, k in enumerate(ks)},
                     "fit_time": float(np.mean(fit_times))})
    return rows
