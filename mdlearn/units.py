"""Unit systems. Kernels are unit-agnostic; only a unit system knows k_B and the force->acceleration factor.

``LJ``: reduced units, sigma = epsilon = m = k_B = 1, time in tau = sigma sqrt(m / epsilon).
``REAL``: ASE's units -- energy eV, length Å, mass amu, charge e, temperature K -- with time in fs.
"""
from dataclasses import dataclass

from ase import units as _ase


@dataclass(frozen=True)
class UnitSystem:
    """Constants of one unit system.

    Attributes
    ----------
    name : str
    boltzmann : float
        k_B in energy / temperature.
    acceleration : float
        Converts force / mass into length / time**2.
    coulomb : float
        1 / (4 pi eps0) in energy * length / charge**2 (1 in reduced units: charges there are in
        units of sqrt(4 pi eps0 sigma epsilon)).
    energy, length, time, mass, temperature : str
        Names of the units, for documentation and file headers.
    """

    name: str
    boltzmann: float
    acceleration: float
    coulomb: float
    energy: str
    length: str
    time: str
    mass: str
    temperature: str


LJ = UnitSystem("lj", 1.0, 1.0, 1.0, "epsilon", "sigma", "tau", "m", "epsilon/k_B")

# ASE's time unit is Å sqrt(amu / eV); one fs is ase.units.fs of it, so a = F/m * fs**2 in Å/fs^2.
# e^2 / (4 pi eps0) = Hartree * Bohr exactly, in eV Å.
REAL = UnitSystem("real", _ase.kB, _ase.fs**2, _ase.Hartree * _ase.Bohr, "eV", "Å", "fs", "amu", "K")

_SYSTEMS = {"lj": LJ, "real": REAL}


def get(units):
    """Return the :class:`UnitSystem` for ``"lj"`` or ``"real"`` (or pass one through)."""
    if isinstance(units, UnitSystem):
        return units
    try:
        return _SYSTEMS[str(units).lower()]
    except KeyError:
        raise ValueError(f"unknown units {units!r}; expected one of {sorted(_SYSTEMS)}") from None
