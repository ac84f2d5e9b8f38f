"""How good a surrogate is: RMSE per output, the fraction of predictions within the simulations' error
bars, and a learning curve against the training-set size."""
import numpy as np

__all__ = ["fraction_within_error", "learning_curve", "rmse"]


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


def learning_curve(make_model, X, y, y_err, X_test, y_test, y_err_test, sizes, seed=None):
    """Fit ``make_model()`` on random training subsets of each size and score it on the test set.

    Returns a list of dicts: ``size``, ``rmse`` (per output), ``within_1`` and ``within_2`` (fractions within
    1 and 2 error bars, per output), ``fit_time`` (s). ``seed`` picks the subsets.
    """
    import time

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    y_err = None if y_err is None else np.asarray(y_err, dtype=float)
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        size = int(size)
        if not 2 <= size <= len(X):
            raise ValueError(f"training size {size} must be between 2 and the {len(X)} points available")
        idx = rng.choice(len(X), size=size, replace=False)
        start = time.perf_counter()
        model = make_model().fit(X[idx], y[idx], None if y_err is None else y_err[idx])
        fit_time = time.perf_counter() - start
        pred = model.predict(X_test)
        rows.append({"size": size, "rmse": rmse(y_test, pred), "within_1": fraction_within_error(
            y_test, pred, y_err_test, 1.0), "within_2": fraction_within_error(y_test, pred, y_err_test, 2.0),
            "fit_time": fit_time})
    return rows
