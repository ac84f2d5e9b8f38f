"""Builders that return ready-to-run :class:`~mdlearn.State` objects."""
from .lattices import lattice

__all__ = ["lattice"]
