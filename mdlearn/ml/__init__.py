"""Learned potentials: ANI-like neural-network models (needs the ``ml`` extra: torch)."""
try:
    import torch  # noqa: F401
except ImportError as exc:
    raise ImportError("mdlearn.ml needs torch, which is not installed: pip install 'mdlearn[ml]'") from exc

from .aev import AEVParameters  # noqa: E402
from .ani import ANIModel, ANIPotential  # noqa: E402
from .dataset import Dataset  # noqa: E402

__all__ = ["AEVParameters", "ANIModel", "ANIPotential", "Dataset"]
