"""Pair terms restricted to a region of atoms, and the complement that a classical term keeps.

A region is a set of atoms (a bool mask over the state's atoms or an array of indices). A pair term
restricted to it (``pairs="within"``) sees only the pairs with **both** atoms in the region; the same term
with ``pairs="rest"`` sees every other pair (at least one atom outside). The two together count every pair
of the unrestricted term exactly once, so a network can take one region while a classical term keeps the rest.

The restriction is a filtered view of the neighbor list (``rows``, ``start``, ``neighbors``, ``codes``), made
again only when the list rebuilds: the kernels and the unrestricted path are untouched. Only terms whose
energy is a sum over the listed pairs can be filtered this way; they say so with ``pairwise = True``
(:class:`~mdlearn.LennardJones`, :class:`~mdlearn.WCA`).
"""
import numpy as np

from ..neighbors import NeighborList

__all__ = ["PairFilter", "Restricted", "region_mask", "restrict"]

PAIRS = ("within", "rest")


def region_mask(atoms, n_atoms):
    """A bool mask (n_atoms,) from a bool mask or an array of atom indices.

    Examples
    --------
    >>> region_mask([0, 2], 4).tolist()
    [True, False, True, False]
    """
    arr = np.asarray(atoms)
    if arr.dtype == bool:
        if arr.shape != (n_atoms,):
            raise ValueError(f"atoms mask has shape {arr.shape}; the state has {n_atoms} atoms")
        return arr.copy()
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"atoms must be a bool mask or a 1-D array of atom indices, got {arr.dtype} {arr.shape}")
    bad = (arr < 0) | (arr >= n_atoms)
    if bad.any():
        raise ValueError(f"atom index {int(arr[bad][0])} is out of range for a state of {n_atoms} atoms")
    mask = np.zeros(n_atoms, dtype=bool)
    mask[arr] = True
    return mask


class PairFilter:
    """The pairs of a :class:`NeighborList` that a region keeps, in the list's own layout.

    Same attributes as the list (``rows``, ``start``, ``neighbors``, ``codes``, ``n_pairs``, ``cutoff``,
    ``skin``) and the same :meth:`pairs`, so kernels and NumPy/torch terms take it in its place.

    Parameters
    ----------
    mask : bool array (N,)
        The region.
    pairs : ``"within"`` (both atoms in the region) or ``"rest"`` (at least one outside)
    """

    pairs = NeighborList.pairs

    def __init__(self, mask, pairs="within"):
        if pairs not in PAIRS:
            raise ValueError(f"pairs must be one of {PAIRS}, got {pairs!r}")
        self.mask = np.asarray(mask, dtype=bool)
        self.keep = pairs
        self._source = (None, -1)  # the list this view was made from (held, so its id is not reused) and its build

    def __call__(self, nlist):
        """This view, made current for ``nlist`` (filtered again only after the list rebuilt)."""
        if self._source[0] is not nlist or self._source[1] != nlist.builds:
            self._filter(nlist)
            self._source = (nlist, nlist.builds)
        return self

    def _filter(self, nlist):
        n = int(nlist.n_pairs)
        nbr = nlist.neighbors[:n]
        both = np.repeat(self.mask[nlist.rows], np.diff(nlist.start)) & self.mask[nbr]
        keep = both if self.keep == "within" else ~both
        kept_before = np.zeros(n + 1, dtype=nlist.start.dtype)  # kept pairs before each list entry
        np.cumsum(keep, out=kept_before[1:])
        self.rows = nlist.rows
        self.start = kept_before[nlist.start]
        self.neighbors = nbr[keep]
        self.codes = nlist.codes[:n][keep]
        self.n_pairs = len(self.neighbors)
        self.cutoff, self.skin, self.builds = nlist.cutoff, nlist.skin, nlist.builds


class Restricted:
    """A pair term that sees only the pairs a region keeps (see the module notes).

    Parameters
    ----------
    term : force term with ``pairwise = True``
        Its energy, forces and virial must be sums over the neighbor list's pairs.
    atoms : bool mask (N,) or array of atom indices
        The region.
    pairs : ``"within"`` or ``"rest"``
        Keep the pairs with both atoms in the region, or every other pair.

    Examples
    --------
    >>> import numpy as np, mdlearn as mdl
    >>> st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
    >>> inner = np.arange(st.n_atoms) < 128
    >>> split = mdl.ForceField([mdl.forces.Restricted(mdl.LennardJones(name="a"), inner, "within"),
    ...                         mdl.forces.Restricted(mdl.LennardJones(name="b"), inner, "rest")])
    >>> full = mdl.ForceField([mdl.LennardJones()])
    >>> bool(np.isclose(split.compute(st).energy, full.compute(st).energy, rtol=1e-12))
    True
    """

    def __init__(self, term, atoms, pairs="within", name=None):
        if not getattr(term, "pairwise", False):
            raise TypeError(f"{term!r} cannot be restricted to a region of atoms: only terms whose energy is a "
                            f"sum over neighbor-list pairs can (they have pairwise = True)")
        if pairs not in PAIRS:
            raise ValueError(f"pairs must be one of {PAIRS}, got {pairs!r}")
        self.term = term
        self.atoms = atoms
        self.pairs = pairs
        self.name = term.name if name is None else name
        self._filter = None

    @property
    def cutoff(self):
        return self.term.cutoff

    def attach(self, state):
        if getattr(self.term, "tail", False):
            raise ValueError(f"term {self.term.name!r} has tail corrections, which assume every atom pair beyond "
                             f"the cutoff: use tail=False for a term restricted to a region")
        self.term.attach(state)
        self._filter = PairFilter(region_mask(self.atoms, state.n_atoms), self.pairs)

    def compute(self, state, nlist, request, out):
        return self.term.compute(state, self._filter(nlist), request, out)

    def __repr__(self):
        return f"Restricted({self.term!r}, pairs={self.pairs!r})"


def restrict(term, atoms, pairs="within"):
    """``term`` restricted to a region: a term that takes ``atoms=`` itself (such as
    :class:`~mdlearn.forces.torch.TorchPotential`) gets them set, a pair term is wrapped in :class:`Restricted`.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> restrict(mdl.LennardJones(), [0, 1, 2], pairs="rest")
    Restricted(LennardJones(epsilon=1.0, sigma=1.0, cutoff=2.5, shift=False, tail=False, mixing='lorentz-berthelot', name='lj'), pairs='rest')
    """  # noqa: E501
    if pairs == "within" and hasattr(term, "atoms") and not isinstance(term, Restricted):
        if term.atoms is not None:
            raise ValueError(f"term {term.name!r} is already restricted to atoms={term.atoms!r}")
        term.atoms = atoms
        return term
    return Restricted(term, atoms, pairs)
