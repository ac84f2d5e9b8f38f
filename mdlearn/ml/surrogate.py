"""A learned surrogate of a simulation: inputs -> outputs, an ensemble of small MLPs (torch) behind the
scikit-learn estimator API.

Inputs and outputs are standardised (zero mean, unit variance per column) before training. Each member of
the ensemble starts from its own random weights (from ``random_state``) and sees the data in its own order;
the spread of their predictions is the uncertainty returned by ``predict(X, return_std=True)``. Given the
simulations' error bars (``y_err``), the squared errors are weighted by inverse variance (weights floored at
a tenth of the median error and normalised to mean one, so a few tiny error bars cannot dominate).

Trained weights are kept as numpy arrays: prediction is a few numpy matrix products (no torch needed,
tens of microseconds for one point), and ``save`` writes a ``.npz`` file with no pickled code.
"""
import json

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError

__all__ = ["Surrogate"]

ACTIVATIONS = ("tanh", "relu", "silu")


def _as_2d(a, what):
    a = np.ascontiguousarray(a, dtype=float)  # row order fixed: a DataFrame's columns give the same sums
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{what} must be a 1-d or 2-d array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} holds non-finite values")
    return a


_NUMPY_ACTIVATIONS = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0),
                      "silu": lambda a: a / (1.0 + np.exp(-a))}


class Surrogate(RegressorMixin, BaseEstimator):
    """Ensemble of MLPs mapping simulation inputs to outputs.

    Parameters
    ----------
    hidden : tuple of int
        Widths of the hidden layers.
    n_models : int
        Members of the ensemble.
    epochs : int
        Passes over the training data (Adam, mini-batches of ``batch_size``).
    learning_rate, weight_decay : float
        Adam's step size and L2 penalty.
    batch_size : int
    activation : ``"tanh"``, ``"relu"`` or ``"silu"``
    threads : int
        torch threads while fitting.
    random_state : int, optional
        Same value, same fitted weights.

    Examples
    --------
    >>> import numpy as np
    >>> from mdlearn.ml import Surrogate
    >>> X = np.linspace(0, 1, 40)[:, None]
    >>> model = Surrogate(hidden=(16,), n_models=2, epochs=150, batch_size=40, learning_rate=0.02, random_state=0)
    >>> model = model.fit(X, np.sin(3 * X[:, 0]))
    >>> bool(np.abs(model.predict(X) - np.sin(3 * X[:, 0])).max() < 0.1)
    True
    """

    def __init__(self, hidden=(32, 32), n_models=5, epochs=1000, learning_rate=3e-3, weight_decay=1e-4,
                 batch_size=64, activation="tanh", threads=1, random_state=None):
        self.hidden = hidden
        self.n_models = n_models
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.activation = activation
        self.threads = threads
        self.random_state = random_state

    def _check_params(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        for name in ("n_models", "epochs", "batch_size", "threads"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not self.hidden or any(int(h) != h or h < 1 for h in self.hidden):
            raise ValueError(f"hidden must be a non-empty sequence of positive layer widths, got {self.hidden!r}")

    def fit(self, X, y, y_err=None):
        """Train on inputs ``X`` (n, d) and outputs ``y`` (n,) or (n, k), optionally with their error bars
        ``y_err`` (same shape as ``y``, > 0) weighting the loss. Column names of DataFrames are kept
        (``feature_names_in_``, ``output_names_``) and saved. Returns self."""
        import torch

        self._check_params()
        for stale in ("feature_names_in_", "output_names_"):
            if hasattr(self, stale):
                delattr(self, stale)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        if hasattr(y, "columns"):
            self.output_names_ = [str(c) for c in y.columns]
        X = _as_2d(X, "X")
        y1 = np.asarray(y, dtype=float)
        self._single_output = y1.ndim == 1
        y = _as_2d(y, "y")
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if len(X) < 2:
            raise ValueError(f"need at least 2 training points, got {len(X)}")
        if y_err is not None:
            y_err = _as_2d(y_err, "y_err")
            if y_err.shape != y.shape:
                raise ValueError(f"y_err has shape {y_err.shape}, y has {y.shape}")
            if np.any(y_err < 0):
                raise ValueError("y_err must be >= 0")
            floor = 0.1 * np.median(y_err, axis=0)
            floor = np.where(floor > 0, floor, 1.0)
            w = 1.0 / np.maximum(y_err, floor) ** 2
            w = w / w.mean(axis=0)
        else:
            w = np.ones_like(y)
        self.x_mean_, self.x_scale_ = X.mean(axis=0), X.std(axis=0)
        self.x_scale_[self.x_scale_ == 0] = 1.0
        self.y_mean_, self.y_scale_ = y.mean(axis=0), y.std(axis=0)
        self.y_scale_[self.y_scale_ == 0] = 1.0
        self.n_features_in_ = X.shape[1]
        self.n_outputs_ = y.shape[1]
        xs = torch.as_tensor((X - self.x_mean_) / self.x_scale_, dtype=torch.float32)
        ys = torch.as_tensor((y - self.y_mean_) / self.y_scale_, dtype=torch.float32)
        ws = torch.as_tensor(w, dtype=torch.float32)
        previous = torch.get_num_threads()
        torch.set_num_threads(int(self.threads))
        try:
            layers = self._fit_members(xs, ys, ws)
        finally:
            torch.set_num_threads(previous)
        self.weights_ = [w for w, _ in layers]  # (M, in, out) per layer
        self.biases_ = [b for _, b in layers]  # (M, out)
        return self

    def _fit_members(self, xs, ys, ws):
        """Train all members at once: stacked weights (M, in, out), each member with its own initial
        weights and its own mini-batch order. Returns [(W, b)] per layer as float64 arrays."""
        import torch

        m, n = int(self.n_models), len(xs)
        gen = torch.Generator().manual_seed(int(np.random.SeedSequence(self.random_state).generate_state(1)[0]))
        act = {"tanh": torch.tanh, "relu": torch.relu, "silu": torch.nn.functional.silu}[self.activation]
        widths = [xs.shape[1], *[int(h) for h in self.hidden], ys.shape[1]]
        params = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):  # torch.nn.Linear's default: U(±1/sqrt(fan_in))
            bound = 1.0 / np.sqrt(a)
            params.append(((torch.rand(m, a, b, generator=gen) * 2 - 1) * bound).requires_grad_())
            params.append(((torch.rand(m, b, generator=gen) * 2 - 1) * bound).requires_grad_())
        opt = torch.optim.Adam(params, lr=self.learning_rate, weight_decay=self.weight_decay)
        bs = min(int(self.batch_size), n)
        last = len(params) // 2 - 1
        for _ in range(int(self.epochs)):
            order = torch.argsort(torch.rand(m, n, generator=gen), dim=1)
            for start in range(0, n, bs):
                idx = order[:, start:start + bs]  # (M, batch)
                h = xs[idx]
                for k in range(last + 1):
                    h = torch.baddbmm(params[2 * k + 1][:, None, :], h, params[2 * k])
                    if k < last:
                        h = act(h)
                loss = (ws[idx] * (h - ys[idx]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        return [(params[2 * k].detach().numpy().astype(np.float64),
                 params[2 * k + 1].detach().numpy().astype(np.float64)) for k in range(last + 1)]

    def _check_fitted(self):  # sklearn's check_is_fitted costs more than a whole prediction
        if not hasattr(self, "weights_"):
            raise NotFittedError("this Surrogate is not fitted yet; call fit(X, y) first")

    def _members(self, X):
        """Predictions of every member, (M, n, k), in output units."""
        h = (X - self.x_mean_) / self.x_scale_  # (n, d), broadcast against the members' (M, d, h) weights
        f = _NUMPY_ACTIVATIONS[self.activation]
        last = len(self.weights_) - 1
        for k, (w, b) in enumerate(zip(self.weights_, self.biases_, strict=True)):
            h = np.matmul(h, w) + b[:, None, :]
            if k < last:
                h = f(h)
        return h * self.y_scale_ + self.y_mean_

    def predict(self, X, return_std=False):
        """Ensemble mean for inputs ``X`` (n, d); with ``return_std`` also the members' standard deviation
        (the surrogate's own uncertainty). Shapes (n,) for one output, else (n, k)."""
        self._check_fitted()
        X = _as_2d(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the surrogate was fitted on {self.n_features_in_}")
        p = self._members(X)
        mean = p.mean(axis=0)
        std = p.std(axis=0, ddof=1) if len(p) > 1 else np.zeros_like(mean)
        if self._single_output:
            mean, std = mean[:, 0], std[:, 0]
        return (mean, std) if return_std else mean

    def save(self, path):
        """Write the fitted surrogate to ``path`` (``.npz``: arrays and the parameters as JSON)."""
        self._check_fitted()
        arrays = {"x_mean": self.x_mean_, "x_scale": self.x_scale_, "y_mean": self.y_mean_,
                  "y_scale": self.y_scale_}
        for k, (w, b) in enumerate(zip(self.weights_, self.biases_, strict=True)):
            arrays[f"w{k}"], arrays[f"b{k}"] = w, b
        meta = {"params": self.get_params(), "n_layers": len(self.weights_), "single_output": self._single_output,
                "n_features_in": self.n_features_in_, "n_outputs": self.n_outputs_,
                "feature_names": None if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_),
                "output_names": getattr(self, "output_names_", None)}
        meta["params"]["hidden"] = list(meta["params"]["hidden"])
        np.savez(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path):
        """Read a surrogate written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            params = dict(meta["params"], hidden=tuple(meta["params"]["hidden"]))
            model = cls(**params)
            model.x_mean_, model.x_scale_ = data["x_mean"], data["x_scale"]
            model.y_mean_, model.y_scale_ = data["y_mean"], data["y_scale"]
            model.weights_ = [data[f"w{k}"] for k in range(meta["n_layers"])]
            model.biases_ = [data[f"b{k}"] for k in range(meta["n_layers"])]
        model._single_output = meta["single_output"]
        model.n_features_in_, model.n_outputs_ = meta["n_features_in"], meta["n_outputs"]
        if meta.get("feature_names") is not None:
            model.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
        if meta.get("output_names") is not None:
            model.output_names_ = meta["output_names"]
        return model
