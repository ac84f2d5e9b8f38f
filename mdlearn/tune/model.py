"""``TimestepModel``: a classifier of (features, dt) -> acceptable, and the largest dt it accepts.

A scikit-learn pipeline (standard scaling, then a small multilayer perceptron fitted by L-BFGS, the
solver suited to a few thousand rows) fed the features of
:mod:`mdlearn.tune.features` and log(dt). ``predict_dt`` scans a grid of candidate timesteps upwards and returns
the last one before the predicted probability of "acceptable" first drops below ``threshold``, so a model that
is not monotonic in dt never skips over a rung it rejects.
"""
import os

import numpy as np

from .features import STATE_FEATURES, SYSTEM_FEATURES

__all__ = ["DEFAULT_MODEL", "TimestepModel", "load_timestep_model"]

FEATURES = SYSTEM_FEATURES + STATE_FEATURES
DEFAULT_MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "data", "np_timestep", "model.joblib")


class TimestepModel:
    """Predicts whether a timestep is acceptable for a system, and the largest acceptable one.

    Parameters
    ----------
    feature_names : sequence of str
        Columns of ``X`` (default: system then state features of :mod:`mdlearn.tune.features`).
    hidden_layer_sizes : tuple of int
    alpha : float
        L2 penalty of the perceptron.
    max_iter : int
        L-BFGS iterations at most.
    threshold : float
        Probability of "acceptable" needed to accept a dt in :meth:`predict` and :meth:`predict_dt`.
    candidates : array, optional
        Timesteps scanned by :meth:`predict_dt` (time units; default: 41 values spaced evenly in log from 2 to
        64 fs).
    random_state : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from mdlearn.tune import TimestepModel
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 3, size=(200, 1))               # a stiffness-like feature
    >>> dt = rng.uniform(2, 64, size=200)
    >>> y = (dt * X[:, 0] < 40).astype(int)                 # stiffer systems accept smaller steps
    >>> m = TimestepModel(feature_names=["k"], hidden_layer_sizes=(8,), random_state=0).fit(X, dt, y)
    >>> 8 < m.predict_dt({"k": 2.0}) < 32
    True
    """

    def __init__(self, feature_names=FEATURES, hidden_layer_sizes=(32, 16), alpha=1e-2, threshold=0.5,
                 candidates=None, max_iter=500, random_state=None):
        self.feature_names = feature_names
        self.max_iter = max_iter
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.threshold = threshold
        self.candidates = candidates
        self.random_state = random_state

    def _design(self, X, dt):
        X = np.asarray(X, dtype=float)
        dt = np.asarray(dt, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"X must have shape (n, {len(self.feature_names)}) for features "
                             f"{list(self.feature_names)}, got {X.shape}")
        if dt.shape != (X.shape[0],) or not np.all(dt > 0):
            raise ValueError(f"dt must be {X.shape[0]} positive values, got shape {dt.shape}")
        return np.column_stack([X, np.log(dt)])

    def fit(self, X, dt, y):
        """Fit on features ``X`` (n, n_features), timesteps ``dt`` (n,) and labels ``y`` (1 = acceptable)."""
        from sklearn.neural_network import MLPClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        y = np.asarray(y, dtype=int)
        if set(np.unique(y)) - {0, 1}:
            raise ValueError(f"labels must be 0 or 1, got {sorted(set(np.unique(y)))}")
        if len(np.unique(y)) < 2:
            raise ValueError(f"labels need both classes (acceptable 1 and not 0), got only {int(y[0])}")
        self.pipeline_ = make_pipeline(
            StandardScaler(), MLPClassifier(hidden_layer_sizes=tuple(self.hidden_layer_sizes), alpha=self.alpha,
                                            solver="lbfgs", max_iter=self.max_iter,
                                            random_state=self.random_state))
        self.pipeline_.fit(self._design(X, dt), y)
        cand = np.geomspace(2.0, 64.0, 41) if self.candidates is None else np.asarray(self.candidates, float)
        self.candidates_ = np.sort(cand)
        return self

    def predict_proba(self, X, dt):
        """Probability that each (features, dt) row is acceptable, shape (n,).

        The fitted scaler and perceptron are applied with numpy (ReLU layers, logistic output: what
        :meth:`fit` builds): a tuner asks at every decision, and scikit-learn's per-call input checks cost ten
        times this arithmetic. ``pipeline_.predict_proba`` gives the same numbers.
        """
        scaler, mlp = self.pipeline_[0], self.pipeline_[-1]
        h = (self._design(X, dt) - scaler.mean_) / scaler.scale_
        for w, b in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)
        p = 1.0 / (1.0 + np.exp(-(h @ mlp.coefs_[-1] + mlp.intercepts_[-1])[:, 0]))
        return p  # the logistic unit is the probability of classes_[1], which is 1 (fit saw both classes)

    def predict(self, X, dt):
        """1 where the probability of "acceptable" reaches ``threshold``, else 0."""
        return (self.predict_proba(X, dt) >= self.threshold).astype(int)

    def predict_dt(self, features):
        """The largest candidate dt accepted with every smaller candidate (the smallest candidate if none
        is); ``features`` is a dict with every name of ``feature_names``."""
        missing = [f for f in self.feature_names if f not in features]
        if missing:
            raise ValueError(f"features lack {missing}")
        row = np.array([[float(features[f]) for f in self.feature_names]])
        cand = self.candidates_
        ok = self.predict_proba(np.repeat(row, len(cand), axis=0), cand) >= self.threshold
        first_bad = int(np.argmin(ok)) if not ok.all() else len(cand)
        return float(cand[max(first_bad - 1, 0)])

    def save(self, path, **metadata):
        """Write the fitted model and ``metadata`` (provenance) with joblib."""
        import joblib
        import sklearn

        payload = {"model": self, "metadata": {"sklearn": sklearn.__version__,
                                               "numpy": np.__version__, **metadata}}
        joblib.dump(payload, path)


def load_timestep_model(path=None):
    """Load a :class:`TimestepModel` written by :meth:`TimestepModel.save` (default: the model shipped in
    ``data/np_timestep/model.joblib``); its provenance is in ``model.metadata_``."""
    import joblib

    path = DEFAULT_MODEL if path is None else os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no timestep model at {path}; train one with `python -m mdlearn.tune.train`")
    payload = joblib.load(path)
    model = payload["model"]
    model.metadata_ = payload.get("metadata", {})
    return model
