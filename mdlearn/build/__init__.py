"""Builders that return ready-to-run :class:`~mdlearn.State` objects (or :class:`System` objects that also
carry a force field)."""
from .electrolytes import System, confined_electrolyte, nanoparticle_system
from .lattices import lattice

__all__ = ["System", "confined_electrolyte", "lattice", "nanoparticle_system"]
