"""Features of trajectory frames for learned clustering: pairwise distances, contact maps, or a user callable.

A featurizer is a callable ``f(trajectory) -> array`` of shape ``(n_frames, ...)``: one row (or one map) per
frame of an ``mdtraj.Trajectory``. Lengths are mdtraj's nm; files written by mdlearn in reduced units hold
σ as 1 nm, so for those runs a cutoff of 1.5 means 1.5 σ.
"""
import numpy as np

__all__ = ["CallableFeaturizer", "ContactMap", "Distances", "make_featurizer", "select_atoms"]

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
    """A featurizer from a name (``"distances"``, ``"contacts"``), a featurizer object or a callable.

    Examples
    --------
    >>> make_featurizer("contacts", selection="name CA", cutoff=0.8)
    ContactMap(selection='name CA', cutoff=0.8, periodic=False)
    """
    if isinstance(featurizer, str):
        if featurizer == "distances":
            return Distances(selection, sort=sort)
        if featurizer == "contacts":
            return ContactMap(selection, cutoff=cutoff)
        raise ValueError(f"unknown featurizer {featurizer!r}; use 'distances', 'contacts' or a callable")
    if isinstance(featurizer, (Distances, ContactMap, CallableFeaturizer)):
        return featurizer
    return CallableFeaturizer(featurizer)
