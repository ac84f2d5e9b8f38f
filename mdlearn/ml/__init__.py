"""Learned components (need the ``ml`` extra: torch): ANI-like neural-network potentials
(:class:`ANIModel`, :class:`ANIPotential`, :class:`AEVParameters`, :class:`Dataset`) and surrogates of a
simulation's outputs (:class:`Surrogate`; helpers in :mod:`mdlearn.ml.metrics` and :mod:`mdlearn.ml.speedup`).
Names are imported on first use, so ``import mdlearn`` does not import torch."""
import importlib

_LAZY = {"AEVParameters": "mdlearn.ml.aev", "ANIModel": "mdlearn.ml.ani", "ANIPotential": "mdlearn.ml.ani",
         "Dataset": "mdlearn.ml.dataset", "Surrogate": "mdlearn.ml.surrogate"}
__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"mdlearn.ml.{name} needs torch, which is not installed: "
                              "pip install 'mdlearn[ml]'") from exc
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mdlearn.ml' has no attribute {name!r}")
