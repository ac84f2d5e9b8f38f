"""Learned components. ``Surrogate`` (torch MLP ensemble, scikit-learn API) and the helpers of
:mod:`mdlearn.ml.metrics` and :mod:`mdlearn.ml.speedup` are imported on first use, so ``import mdlearn``
does not import torch."""
import importlib

_LAZY = {"Surrogate": "mdlearn.ml.surrogate"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mdlearn.ml' has no attribute {name!r}")
