"""Crystal lattices in orthorhombic periodic boxes."""
import numpy as np

from ..state import State

__all__ = ["lattice"]

# Fractional coordinates of the atoms of one conventional cubic cell.
_BASIS = {
    "sc": [[0, 0, 0]],
    "bcc": [[0, 0, 0], [0.5, 0.5, 0.5]],
    "fcc": [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    "diamond": [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5],
                [0.25, 0.25, 0.25], [0.75, 0.75, 0.25], [0.75, 0.25, 0.75], [0.25, 0.75, 0.75]],
}


def lattice(kind, cells=(1, 1, 1), density=None, lattice_constant=None, types=None, masses=None,
            units="lj"):
    """Atoms on a cubic lattice filling ``cells`` conventional cells, periodic on all axes.

    Parameters
    ----------
    kind : ``"sc"``, ``"bcc"``, ``"fcc"`` or ``"diamond"``
    cells : int or 3 ints
        Number of cubic cells along x, y, z.
    density : float, optional
        Number density in 1 / length³ (the lattice constant follows). Give this or ``lattice_constant``.
    lattice_constant : float, optional
        Edge of the cubic cell in length units.
    types, masses : optional
        Passed to :class:`State` (one type name, or a per-atom sequence).
    units : ``"lj"`` or ``"real"``

    Returns
    -------
    State
        Velocities zero; use ``state.set_temperature(T, seed=...)``.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> st = mdl.build.lattice("fcc", cells=(10, 10, 10), density=0.8442)
    >>> st.n_atoms
    4000
    """
    if kind not in _BASIS:
        raise ValueError(f"unknown lattice {kind!r}; expected one of {sorted(_BASIS)}")
    cells = np.broadcast_to(np.asarray(cells), (3,))
    if np.any(cells < 1) or np.any(cells != np.round(cells)):
        raise ValueError(f"cells must be positive integers, got {cells.tolist()}")
    cells = cells.astype(int)
    basis = np.asarray(_BASIS[kind], dtype=float)
    if (density is None) == (lattice_constant is None):
        raise ValueError("give exactly one of density= and lattice_constant=")
    if density is not None:
        if not density > 0:
            raise ValueError(f"density must be positive, got {density}")
        a = (len(basis) / density) ** (1.0 / 3.0)
    else:
        if not lattice_constant > 0:
            raise ValueError(f"lattice_constant must be positive, got {lattice_constant}")
        a = float(lattice_constant)
    grid = np.stack(np.meshgrid(*(np.arange(c) for c in cells), indexing="ij"), axis=-1).reshape(-1, 1, 3)
    positions = ((grid + basis[None, :, :]) * a).reshape(-1, 3)
    if isinstance(types, str):
        types = [types] * len(positions)
    return State(positions, box=cells * a, pbc=True, types=types, masses=masses, units=units)
