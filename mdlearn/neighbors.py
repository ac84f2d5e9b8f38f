"""Verlet neighbor list built from a cell list, rebuilt only when atoms moved more than skin / 2."""
import numpy as np

from ._kernels import neighbors as _nk
from .threads import get_num_threads

__all__ = ["NeighborList"]


class NeighborList:
    """Half Verlet list: every pair i < j closer than ``cutoff + skin``, each stored once.

    Parameters
    ----------
    cutoff : float
        Largest interaction cutoff of the force terms, in length units.
    skin : float
        Extra shell in length units; the list stays valid until an atom moved more than skin / 2.

    Attributes
    ----------
    rows, start, neighbors, codes : arrays
        Row k lists the neighbors ``neighbors[start[k]:start[k + 1]]`` of atom ``rows[k]``; rows follow the
        cell grid, so consecutive rows are close in space. ``codes`` names the periodic image of each
        neighbor, ``(sx+1) + 3 (sy+1) + 9 (sz+1)`` with ``r_j + s L`` the image within range.
    builds : int
        How many times the list was built.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
    >>> nl = mdl.NeighborList(cutoff=2.5, skin=0.3)
    >>> nl.update(st)
    True
    """

    def __init__(self, cutoff, skin=0.3):
        if not (np.isfinite(cutoff) and cutoff > 0):
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        if not (np.isfinite(skin) and skin >= 0):
            raise ValueError(f"skin must be >= 0, got {skin}")
        self.cutoff = float(cutoff)
        self.skin = float(skin)
        self.rows = np.zeros(0, dtype=np.intc)
        self.start = np.zeros(1, dtype=np.int_)
        self.neighbors = np.zeros(0, dtype=np.intc)
        self.codes = np.zeros(0, dtype=np.uint8)
        self.reference = None
        self._box = None
        self.builds = 0

    @property
    def rlist(self):
        return self.cutoff + self.skin

    def check_box(self, state):
        """Raise when a periodic axis is shorter than 2 (cutoff + skin): the minimum image would not be unique."""
        short = state.pbc & (state.box < 2.0 * self.rlist)
        if short.any():
            a = int(np.argmax(short))
            raise ValueError(
                f"box length {state.box[a]:g} along axis {'xyz'[a]} is shorter than 2 * (cutoff + skin) = "
                f"{2 * self.rlist:g}; use a larger box or a smaller cutoff/skin")

    def largest_skin(self, state):
        """The largest skin this list can have for ``state``: 2 (cutoff + skin) within every periodic edge
        (unbounded without periodic axes)."""
        if not state.pbc.any():
            return np.inf
        return max(0.5 * float(state.box[state.pbc].min()) * (1.0 - 1e-12) - self.cutoff, 0.0)

    def set_skin(self, skin):
        """Change the skin; a larger one makes the list stale (it may lack pairs now in range)."""
        if not (np.isfinite(skin) and skin >= 0):
            raise ValueError(f"skin must be >= 0, got {skin}")
        if skin > self.skin:
            self.reference = None
        self.skin = float(skin)

    def needs_update(self, state):
        """True when the list is stale for ``state``."""
        if (self.reference is None or self.reference.shape != state.positions.shape
                or self._box.tobytes() != state.box.tobytes()):
            return True
        half = 0.5 * self.skin
        return _nk.max_displacement_sq(state.positions, self.reference) > half * half

    def update(self, state):
        """Rebuild when needed; return whether it rebuilt."""
        if not self.needs_update(state):
            return False
        self.build(state)
        return True

    def build(self, state):
        """Wrap ``state``'s positions into the box (in place) and build the list from them.

        Until the next build the integrator does not rewrap, so every pair keeps the image it was found with.
        """
        if self._box is None or self._box.tobytes() != state.box.tobytes():
            self.check_box(state)
        state.wrap()  # raises on a non-finite position
        x = state.positions
        n = len(x)
        if self.start.shape[0] != n + 1:
            self.start = np.zeros(n + 1, dtype=np.int_)
            self.rows = np.zeros(n, dtype=np.intc)
        if self.neighbors.shape[0] == 0:
            self._allocate(self._estimate(state))
        threads = get_num_threads()
        count = self._build(state, threads)
        if count > len(self.neighbors):  # grow with headroom, never drop pairs
            self._allocate(int(count * 1.1) + 16)
            count = self._build(state, threads)
        self.n_pairs = int(count)
        self.reference = x.copy()
        self._box = state.box.copy()
        self.builds += 1

    def _allocate(self, capacity):
        self.neighbors = self.codes = None  # release before allocating: peak memory
        self.neighbors = np.empty(capacity, dtype=np.intc)
        self.codes = np.empty(capacity, dtype=np.uint8)

    def _build(self, state, threads):
        return _nk.build_half_list(state.positions, state.box, state.periodic, self.rlist, self.rows, self.start,
                                   self.neighbors, self.codes, threads)

    def _estimate(self, state):
        n = state.n_atoms
        if state.pbc.all() and state.volume > 0:
            per_atom = 0.5 * n / state.volume * 4.0 / 3.0 * np.pi * self.rlist**3
            return int(n * per_atom * 1.1) + 64
        return 64 * n

    def pairs(self, state):
        """(i, j, shift) arrays of listed pairs, with ``r_j + shift - r_i`` the vector from i to the image
        of j within range (valid until the next build).

        For force terms written in NumPy or torch; ``shift`` is in length units.
        """
        counts = np.diff(self.start)
        i = np.repeat(self.rows.astype(np.intp), counts)
        j = self.neighbors[: self.n_pairs].astype(np.intp)
        code = self.codes[: self.n_pairs].astype(np.intp)
        images = np.stack([code % 3, code // 3 % 3, code // 9], axis=1) - 1
        return i, j, images * state.box
