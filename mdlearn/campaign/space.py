"""Parameter spaces for a campaign: which points to simulate.

A space maps each input name to one of
- a range ``(low, high)`` (or ``{"range": [low, high]}``): a continuous input, sampled uniformly;
- a list of choices ``[a, b, c]`` (or ``{"choices": [...]}``): a discrete input, each choice equally likely;
- a single value: a fixed input, passed to every run.

Sampling methods: ``"sobol"`` (scrambled Sobol sequence), ``"lhs"`` (Latin hypercube), ``"random"``
(independent uniform draws) — all from :mod:`scipy.stats.qmc` or numpy with the given ``seed`` — and
``"grid"`` (``n`` evenly spaced values per range, every choice, all combinations).
"""
import itertools
import numbers

import numpy as np

__all__ = ["Space"]

METHODS = ("sobol", "lhs", "random", "grid")


def _plain(value):
    """numpy scalars to Python ones, so points are JSON-friendly and compare equal after a round trip."""
    return value.item() if isinstance(value, np.generic) else value


def _dimension(name, spec):
    if isinstance(spec, dict):
        if set(spec) == {"range"}:
            spec = tuple(spec["range"])
        elif set(spec) == {"choices"}:
            spec = list(spec["choices"])
        else:
            raise ValueError(f"input {name!r}: a dict must be {{'range': [low, high]}} or {{'choices': [...]}}, "
                             f"got {spec!r}")
    if isinstance(spec, tuple):
        if len(spec) != 2 or not all(isinstance(v, numbers.Real) for v in spec):
            raise ValueError(f"input {name!r}: a range must be (low, high) numbers, got {spec!r}")
        lo, hi = float(spec[0]), float(spec[1])
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"input {name!r}: need finite low < high, got {spec!r}")
        return ("range", (lo, hi))
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"input {name!r}: empty list of choices")
        return ("choices", [_plain(v) for v in spec])
    return ("fixed", _plain(spec))


class Space:
    """The inputs of a campaign and how to sample them.

    Parameters
    ----------
    dimensions : dict
        Input name -> ``(low, high)`` range, list of choices, or fixed value (module docstring).
    method : ``"sobol"``, ``"lhs"``, ``"random"`` or ``"grid"``
    n : int
        Number of points; for ``"grid"``, values per range (an int, or a dict per range name).
    seed : int, optional
        Seed of the random and quasi-random samplers (same seed, same points).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> space = mdl.campaign.Space({"h": (3.0, 4.0), "z_pos": [1, 2, 3], "z_neg": -1}, method="lhs", n=4, seed=1)
    >>> len(space.points()), sorted(space.points()[0])
    (4, ['h', 'z_neg', 'z_pos'])
    >>> len(mdl.campaign.Space({"h": (3.0, 4.0), "z_pos": [1, 2, 3]}, method="grid", n=5).points())
    15
    """

    def __init__(self, dimensions, method="sobol", n=None, seed=None):
        if not isinstance(dimensions, dict) or not dimensions:
            raise ValueError(f"dimensions must be a non-empty dict of input name -> range/choices/value, "
                             f"got {dimensions!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.dimensions = {str(k): _dimension(k, v) for k, v in dimensions.items()}
        self.method = method
        self.seed = seed
        varying = [k for k, (kind, _) in self.dimensions.items() if kind == "range"]
        if method == "grid":
            counts = n if isinstance(n, dict) else {k: n for k in varying}
            for k in varying:
                c = counts.get(k)
                if not isinstance(c, numbers.Integral) or c < 1:
                    raise ValueError(f"grid: need a positive integer number of values for range {k!r}, got {c!r}")
            self.n = dict(counts) if isinstance(n, dict) else n
        else:
            if not isinstance(n, numbers.Integral) or n < 1:
                raise ValueError(f"n must be a positive integer number of points, got {n!r}")
            self.n = int(n)

    @property
    def names(self):
        """Input names, in order."""
        return list(self.dimensions)

    def points(self):
        """The sampled points: a list of dicts input name -> value (floats for ranges)."""
        dims = self.dimensions
        if self.method == "grid":
            axes = []
            for k, (kind, spec) in dims.items():
                if kind == "range":
                    count = self.n[k] if isinstance(self.n, dict) else self.n
                    axes.append([float(v) for v in np.linspace(spec[0], spec[1], count)])
                elif kind == "choices":
                    axes.append(spec)
                else:
                    axes.append([spec])
            return [dict(zip(dims, combo, strict=True)) for combo in itertools.product(*axes)]
        sampled = [k for k, (kind, _) in dims.items() if kind != "fixed"]
        u = self._unit_samples(len(sampled))
        points = []
        for row in u:
            p, col = {}, dict(zip(sampled, row, strict=True))
            for k, (kind, spec) in dims.items():
                if kind == "range":
                    p[k] = float(spec[0] + col[k] * (spec[1] - spec[0]))
                elif kind == "choices":
                    p[k] = spec[min(int(col[k] * len(spec)), len(spec) - 1)]
                else:
                    p[k] = spec
            points.append(p)
        return points

    def _unit_samples(self, d):
        if d == 0:
            return np.zeros((self.n, 0))
        if self.method == "random":
            return np.random.default_rng(self.seed).random((self.n, d))
        from scipy.stats import qmc

        sampler = (qmc.Sobol(d, scramble=True, seed=self.seed) if self.method == "sobol"
                   else qmc.LatinHypercube(d, seed=self.seed))
        return sampler.random(self.n)

    def to_dict(self):
        """A JSON/YAML-friendly description; ``Space.from_dict`` rebuilds the same space."""
        params = {}
        for k, (kind, spec) in self.dimensions.items():
            params[k] = {"range": list(spec)} if kind == "range" else {"choices": spec} if kind == "choices" else spec
        return {"parameters": params, "method": self.method, "n": self.n, "seed": self.seed}

    @classmethod
    def from_dict(cls, spec):
        """Inverse of :meth:`to_dict` (also the ``space:`` section of a campaign YAML file)."""
        unknown = set(spec) - {"parameters", "method", "n", "seed"}
        if unknown or "parameters" not in spec:
            raise ValueError(f"a space needs 'parameters' (and optional method, n, seed); got keys {sorted(spec)}")
        return cls(spec["parameters"], method=spec.get("method", "sobol"), n=spec.get("n"), seed=spec.get("seed"))

    def __repr__(self):
        return f"Space({self.names}, method={self.method!r}, n={self.n!r}, seed={self.seed!r})"
