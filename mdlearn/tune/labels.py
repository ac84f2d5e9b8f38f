"""The stability criterion that labels a timestep "acceptable", and the short NVE segments it is measured on.

Criterion (stated once, used for the training labels and by the tuners' safety net): over a constant-energy
segment, the energy-fluctuation ratio ``σ(E_conserved) / σ(E_kin)`` must stay below ``RATIO_LIMIT`` = 0.05,
and the segment must not blow up (non-finite or runaway energies, an ion leaving its cell). For velocity Verlet
the ratio grows as dt² until the integration fails; 0.05 is the threshold of the np-electrostatics training set
of Kadupitiya, Fox and Jadhao. Whether dynamics at an accepted dt also sample the same structure (radial
density profiles within error bars of a small-dt reference) is checked on long runs in ``benchmarks/timestep.py``.
"""
import numpy as np

from ..errors import SimulationError
from ..integrators import VelocityVerlet
from ..simulation import Simulation

__all__ = ["RATIO_LIMIT", "energy_fluctuation_ratio", "is_acceptable", "nve_segment"]

RATIO_LIMIT = 0.05


def energy_fluctuation_ratio(conserved, kinetic):
    """``σ(conserved) / σ(kinetic)`` of two energy series (same units); ``inf`` if either is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> kin = np.array([1.0, 2.0, 1.0, 2.0])
    >>> round(float(energy_fluctuation_ratio(10.0 + 0.01 * kin, kin)), 12)
    0.01
    """
    conserved = np.asarray(conserved, dtype=float)
    kinetic = np.asarray(kinetic, dtype=float)
    if conserved.shape != kinetic.shape or conserved.size < 2:
        raise ValueError(f"need two equal series of at least 2 values, got shapes {conserved.shape}, {kinetic.shape}")
    if not (np.all(np.isfinite(conserved)) and np.all(np.isfinite(kinetic))):
        return np.inf
    sk = kinetic.std()
    return conserved.std() / sk if sk > 0 else np.inf


def is_acceptable(ratio, limit=RATIO_LIMIT):
    """The stability criterion: a finite ratio below ``limit``."""
    return bool(np.isfinite(ratio) and ratio < limit)


def nve_segment(state, forcefield, dt, steps, every=2, skin=None):
    """Run ``steps`` velocity-Verlet steps of ``dt`` (time units) from a copy of ``state`` and return
    ``(ratio, failed)``: the energy-fluctuation ratio sampled every ``every`` steps (``inf`` on a blow-up) and
    whether the run stopped early. ``state`` itself is not changed.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> system = mdl.build.nanoparticle_system(radius=1.0, charge=-6, ion_diameter=0.5, cell_radius=3.0, seed=1)
    >>> ratio, failed = mdl.tune.nve_segment(system.state, system.forcefield, dt=5.0, steps=100)
    >>> bool(ratio < 0.05), failed
    (True, False)
    """
    sim = Simulation(state.copy(), forcefield, VelocityVerlet(dt=dt), skin=skin)
    total, kinetic = [], []

    def record(snap):
        total.append(snap.conserved_energy)
        kinetic.append(snap.kinetic_energy)

    sim.add_reporter((record, every))
    try:
        sim.run(steps, progress=False)
    except SimulationError:
        return np.inf, True
    return energy_fluctuation_ratio(total, kinetic), False
