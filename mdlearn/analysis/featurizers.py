"""Features of trajectory frames for learned clustering: pairwise distances, contact maps, smooth coordination
numbers and contact-matrix spectra (both invariant to swapping identical atoms), or a user callable.

A featurizer is a callable ``f(trajectory) -> array`` of shape ``(n_frames, ...)``: one row (or one map) per
frame of an ``mdtraj.Trajectory``. Lengths are mdtraj's nm; files written by mdlearn in reduced units hold
σ as 1 nm, so for those runs a cutoff of 1.5 means 1.5 σ.
"""
import numpy as np

__all__ = ["CallableFeaturizer", "ContactMap", "ContactSpectrum", "CoordinationNumbers", "Distances", "make_featurizer",
           "select_atoms", "switching"]

# Frames per mdtraj call: bounds the float64 displacement buffers mdtraj allocates for many pairs.
_CHUNK = 2000


def select_atoms(topology, selection):
    """Atom indices of ``selection`` in an ``mdtraj.Topology``.

    ``selection`` is ``"all"``, an mdtraj selection string (``"name CA"``) or a sequence of atom indices.
    A selection that matches fewer than two atoms or names an index outside the topology raises ``ValueError``.

    Examples
    --------
    >>> import mdtraj as md
    >>> top = md.Topology(); ch = top.add_chain()
    >>> for _ in range(3): _ = top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    >>> select_atoms(top, "all").tolist()
    [0, 1, 2]
    """
    n = topology.n_atoms
    if isinstance(selection, str):
        if selection == "all":
            idx = np.arange(n)
        else:
            try:
                idx = topology.select(selection)
            except Exception as exc:  # mdtraj raises its own parse errors
                raise ValueError(f"invalid atom selection {selection!r}: {exc}") from exc
    else:
        idx = np.asarray(selection)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"selection must be 'all', an mdtraj selection string or integer indices, "
                             f"got {selection!r}")
        bad = idx[(idx < 0) | (idx >= n)]
        if bad.size:
            raise ValueError(f"selection names atom {int(bad[0])}, but the trajectory has {n} atoms (0..{n - 1})")
    if len(idx) < 2:
        raise ValueError(f"selection {selection!r} matches {len(idx)} atom(s) of the trajectory's {n}; "
                         "pairwise features need at least 2")
    return np.asarray(idx, dtype=np.int64)


def _pair_distances(traj, idx, periodic):
    import mdtraj as md

    i, j = np.triu_indices(len(idx), k=1)
    pairs = np.column_stack([idx[i], idx[j]])
    out = np.empty((traj.n_frames, len(pairs)), dtype=np.float32)
    for s in range(0, traj.n_frames, _CHUNK):
        out[s:s + _CHUNK] = md.compute_distances(traj[s:s + _CHUNK], pairs, periodic=periodic)
    return out


class Distances:
    """All pairwise distances (nm) among the selected atoms: ``n(n-1)/2`` features per frame.

    Parameters
    ----------
    selection : str or sequence of int
        ``"all"``, an mdtraj selection string or atom indices.
    sort : bool
        Sort each frame's distances. The sorted list does not change when identical atoms swap places, which
        is what a cluster of identical atoms (argon, an LJ cluster) needs; keep ``False`` for labelled atoms
        such as the Cα of a protein.
    periodic : bool
        Minimum-image distances when the trajectory has a unit cell.

    Examples
    --------
    >>> import mdtraj as md, numpy as np
    >>> top = md.Topology(); ch = top.add_chain()
    >>> for _ in range(3): _ = top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    >>> traj = md.Trajectory(np.array([[[0, 0, 0], [1, 0, 0], [0, 2, 0]]], np.float32), top)
    >>> Distances(sort=True)(traj).astype(float).round(3).tolist()
    [[1.0, 2.0, 2.236]]
    """

    def __init__(self, selection="all", sort=False, periodic=False):
        self.selection = selection
        self.sort = sort
        self.periodic = periodic

    def __call__(self, traj):
        x = _pair_distances(traj, select_atoms(traj.topology, self.selection), self.periodic)
        if self.sort:
            x.sort(axis=1)
        return x

    def __repr__(self):
        return f"Distances(selection={self.selection!r}, sort={self.sort}, periodic={self.periodic})"


class ContactMap:
    """Contact maps ``(n_frames, n, n)``: 1 where two selected atoms are closer than ``cutoff`` (nm), else 0.

    The input of a convolutional VAE (DeepDriveMD uses Cα maps with an 0.8 nm cutoff). The diagonal is 1.

    Examples
    --------
    >>> import mdtraj as md, numpy as np
    >>> top = md.Topology(); ch = top.add_chain()
    >>> for _ in range(3): _ = top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    >>> traj = md.Trajectory(np.array([[[0, 0, 0], [0.5, 0, 0], [0, 2, 0]]], np.float32), top)
    >>> ContactMap(cutoff=0.8)(traj)[0].astype(int).tolist()
    [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    """

    def __init__(self, selection="all", cutoff=0.8, periodic=False):
        self.selection = selection
        self.cutoff = cutoff
        self.periodic = periodic

    def __call__(self, traj):
        if not self.cutoff > 0:
            raise ValueError(f"contact cutoff must be a positive length in nm, got {self.cutoff!r}")
        idx = select_atoms(traj.topology, self.selection)
        n = len(idx)
        d = _pair_distances(traj, idx, self.periodic)
        i, j = np.triu_indices(n, k=1)
        maps = np.zeros((traj.n_frames, n, n), dtype=np.float32)
        c = (d < self.cutoff).astype(np.float32)
        maps[:, i, j] = c
        maps[:, j, i] = c
        maps[:, np.arange(n), np.arange(n)] = 1.0
        return maps

    def __repr__(self):
        return f"ContactMap(selection={self.selection!r}, cutoff={self.cutoff}, periodic={self.periodic})"


def switching(r, r0, n=6, m=12):
    """Smooth contact ``s(r) = (1 - (r/r0)^n) / (1 - (r/r0)^m)``: 1 at r = 0, n/m at r0, → 0 beyond.

    The rational switching function of coordination-number collective variables (as in PLUMED's
    ``COORDINATION``); ``m > n > 0``. Lengths in nm (σ for reduced-unit mdlearn files).

    Examples
    --------
    >>> import numpy as np
    >>> switching(np.array([0.0, 1.0, 2.0]), r0=1.0).round(4).tolist()
    [1.0, 0.5, 0.0154]
    """
    if not r0 > 0:
        raise ValueError(f"switching radius r0 must be a positive length in nm, got {r0!r}")
    if not (int(n) == n and int(m) == m and 0 < n < m):
        raise ValueError(f"switching exponents need integers 0 < n < m, got n={n!r}, m={m!r}")
    x = np.asarray(r, dtype=np.float64) / r0
    near = np.abs(x - 1.0) < 1e-6  # 0/0 at r0: the limit n/m plus its first-order term
    xs = np.where(near, 0.5, x)
    s = (1.0 - xs**n) / (1.0 - xs**m)
    return np.where(near, n / m - n * (m - n) / (2 * m) * (x - 1.0), s)


class _SmoothContacts:
    """Shared parameters of the featurizers built on the smooth contact matrix ``s(r_ij)``."""

    def __init__(self, selection="all", r0=1.5, n=6, m=12, periodic=False):
        self.selection = selection
        self.r0 = r0
        self.n = n
        self.m = m
        self.periodic = periodic

    def _matrix_rows(self, traj):
        """Per frame, the condensed smooth contacts (float64) and the atom count."""
        idx = select_atoms(traj.topology, self.selection)
        return switching(_pair_distances(traj, idx, self.periodic), self.r0, self.n, self.m), len(idx)

    def __repr__(self):
        return (f"{type(self).__name__}(selection={self.selection!r}, r0={self.r0}, n={self.n}, m={self.m}, "
                f"periodic={self.periodic})")


class CoordinationNumbers(_SmoothContacts):
    """Smooth coordination number of each selected atom, ``c_i = Σ_{j≠i} s(r_ij)`` (see :func:`switching`),
    sorted in each frame (unless ``sort=False``): one feature per atom, dimensionless.

    Sorted, the list does not change when identical atoms swap places, and it counts bonds rather than
    measuring lengths: structures with the same bond topology give the same list up to thermal noise.
    ``r0`` (nm; σ for reduced-unit files) should lie between the first and second neighbour shells.

    Examples
    --------
    >>> import mdtraj as md, numpy as np
    >>> top = md.Topology(); ch = top.add_chain()
    >>> for _ in range(3): _ = top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    >>> traj = md.Trajectory(np.array([[[0, 0, 0], [1, 0, 0], [5, 0, 0]]], np.float32), top)
    >>> CoordinationNumbers(r0=1.0)(traj).round(3).tolist()
    [[0.0, 0.5, 0.5]]
    """

    def __init__(self, selection="all", r0=1.5, n=6, m=12, sort=True, periodic=False):
        super().__init__(selection, r0, n, m, periodic)
        self.sort = sort

    def __call__(self, traj):
        s, n = self._matrix_rows(traj)
        i, j = np.triu_indices(n, k=1)
        incidence = np.zeros((len(i), n))  # each pair adds its contact to both of its atoms
        incidence[np.arange(len(i)), i] = 1.0
        incidence[np.arange(len(i)), j] = 1.0
        c = s @ incidence
        if self.sort:
            c.sort(axis=1)
        return c.astype(np.float32)

    def __repr__(self):
        return super().__repr__()[:-1] + f", sort={self.sort})"


class ContactSpectrum(_SmoothContacts):
    """Eigenvalues (ascending) of each frame's smooth contact matrix ``A_ij = s(r_ij)``, ``A_ii = 0``: one
    feature per selected atom, dimensionless.

    The spectrum of a graph's adjacency matrix does not depend on how its vertices are numbered, so it is
    invariant to swapping identical atoms, and it sees more of the bond network than the coordination
    numbers (for 0/1 contacts, Σ λ² = Σ_ij A_ij² is twice the number of contacts; the rest of the spectrum
    describes how the contacts connect, e.g. rings and centres).

    Examples
    --------
    >>> import mdtraj as md, numpy as np
    >>> top = md.Topology(); ch = top.add_chain()
    >>> for _ in range(2): _ = top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    >>> traj = md.Trajectory(np.array([[[0, 0, 0], [1, 0, 0]]], np.float32), top)
    >>> ContactSpectrum(r0=1.0)(traj).round(3).tolist()   # [[0, s], [s, 0]] has eigenvalues ±s
    [[-0.5, 0.5]]
    """

    def __call__(self, traj):
        s, n = self._matrix_rows(traj)
        i, j = np.triu_indices(n, k=1)
        a = np.zeros((len(s), n, n))
        a[:, i, j] = s
        a[:, j, i] = s
        return np.linalg.eigvalsh(a).astype(np.float32)


class CallableFeaturizer:
    """A user function ``fn(trajectory) -> array (n_frames, ...)`` checked for shape and finiteness.

    Examples
    --------
    >>> import mdtraj as md, numpy as np
    >>> top = md.Topology(); ch = top.add_chain()
    >>> for _ in range(2): _ = top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    >>> traj = md.Trajectory(np.zeros((4, 2, 3), np.float32), top)
    >>> CallableFeaturizer(lambda t: t.xyz[:, :, 0])(traj).shape
    (4, 2)
    """

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"featurizer must be callable, got {fn!r}")
        self.fn = fn

    def __call__(self, traj):
        x = np.asarray(self.fn(traj), dtype=np.float32)
        if x.ndim < 2 or x.shape[0] != traj.n_frames:
            raise ValueError(f"featurizer {self.fn!r} returned shape {x.shape}; expected (n_frames={traj.n_frames}, "
                             "n_features) or (n_frames, n, n)")
        if not np.isfinite(x).all():
            raise ValueError(f"featurizer {self.fn!r} returned non-finite values")
        return x

    def __repr__(self):
        return f"CallableFeaturizer({self.fn!r})"


def make_featurizer(featurizer, selection="all", cutoff=0.8, sort=False):
    """A featurizer from a name, a featurizer object or a callable.

    Names: ``"distances"`` (sorted when ``sort``), ``"contacts"`` (contact maps with ``cutoff``),
    ``"coordination"`` (sorted :class:`CoordinationNumbers`) and ``"spectrum"`` (:class:`ContactSpectrum`), the
    last two with the switching radius ``r0 = cutoff`` (nm).

    Examples
    --------
    >>> make_featurizer("contacts", selection="name CA", cutoff=0.8)
    ContactMap(selection='name CA', cutoff=0.8, periodic=False)
    >>> make_featurizer("coordination", cutoff=1.5)
    CoordinationNumbers(selection='all', r0=1.5, n=6, m=12, periodic=False, sort=True)
    """
    if isinstance(featurizer, str):
        if featurizer == "distances":
            return Distances(selection, sort=sort)
        if featurizer == "contacts":
            return ContactMap(selection, cutoff=cutoff)
        if featurizer == "coordination":
            return CoordinationNumbers(selection, r0=cutoff)
        if featurizer == "spectrum":
            return ContactSpectrum(selection, r0=cutoff)
        raise ValueError(f"unknown featurizer {featurizer!r}; use 'distances', 'contacts', 'coordination', "
                         "'spectrum' or a callable")
    if isinstance(featurizer, (Distances, ContactMap, _SmoothContacts, CallableFeaturizer)):
        return featurizer
    return CallableFeaturizer(featurizer)
