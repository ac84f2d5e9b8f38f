"""The force-term protocol and the force field that sums terms.

A force term is any object with

- ``name`` (str) and ``cutoff`` (float in length units, or ``None`` when it needs no neighbor list);
- ``attach(state)``: validate against the state and allocate; called once before the first compute
  and again whenever the force field is used with a state of another size;
- ``compute(state, nlist, request, out)``: **add** its energy (when ``request.energy``), forces and virial
  (when ``request.virial``) into the :class:`ForceResult` ``out``; return its energy (0.0 when not asked).

Optional: ``pairwise = True`` when the energy is a sum over the neighbor list's pairs (such a term can be
restricted to a region of atoms, see :mod:`mdlearn.forces.region`); an ``atoms`` attribute when the term
restricts itself to a region (``TorchPotential``).

What a term receives:

- ``state``: positions ``(N, 3)`` float64 (wrapped into the box at each list rebuild, not between), ``box``
  (3 lengths), ``pbc``, integer ``types`` into ``type_names``, ``masses``, ``charges``, ``units``;
- ``nlist``: ``None`` when ``cutoff`` is ``None``; else a half list of every pair i < j closer than
  ``nlist.cutoff + nlist.skin`` (at least the term's cutoff, possibly more), as ``nlist.pairs(state)`` ->
  ``(i, j, shift)`` with ``r_j + shift - r_i`` the vector from i to the listed image of j;
- ``out``: :class:`ForceResult`; add to ``out.forces`` (N, 3) and ``out.virial6`` (xx, yy, zz, xy, xz, yz of
  ``W_ab = Σ_{i<j} r_ij,a f_ij,b``, with ``r_ij = r_i - r_j`` and ``f_ij`` the force on i due to j) or
  call ``out.add_virial(w)`` with a (3, 3) matrix.

A user's own term (NumPy or torch) needs nothing else: see ``examples/custom_force_term.py``. A separate
package can publish terms by name through the ``mdlearn.forces`` entry-point group
(:func:`mdlearn.forces.create`). The kernels behind built-in terms are in ``mdlearn._kernels``.
"""
from dataclasses import dataclass

import numpy as np

from ..neighbors import NeighborList

__all__ = ["ForceField", "ForceResult", "Request"]


@dataclass(frozen=True)
class Request:
    """What a force evaluation must produce besides forces."""

    energy: bool = True
    virial: bool = True


ALL = Request(True, True)


class ForceResult:
    """Energy, forces and virial of one evaluation.

    Attributes
    ----------
    energy : float
        Potential energy in energy units (NaN when it was not requested).
    forces : array (N, 3)
        Energy / length units.
    virial : array (3, 3)
        ``W_ab = Σ_{i<j} r_ij,a f_ij,b`` in energy units; the potential pressure is ``tr(W) / (3V)``.
    energies : dict
        Energy per force term, by name.
    """

    def __init__(self, n_atoms, forces=None):
        self.forces = np.zeros((n_atoms, 3)) if forces is None else forces
        self.virial6 = np.zeros(6)  # xx yy zz xy xz yz: what kernels accumulate into
        self.energy = 0.0
        self.energies = {}

    @property
    def virial(self):
        v = self.virial6
        return np.array([[v[0], v[3], v[4]], [v[3], v[1], v[5]], [v[4], v[5], v[2]]])

    def add_virial(self, w):
        """Add a (3, 3) virial (symmetrised) from a term that does not use the kernels' layout."""
        w = np.asarray(w, dtype=np.float64)
        self.virial6 += [w[0, 0], w[1, 1], w[2, 2], 0.5 * (w[0, 1] + w[1, 0]), 0.5 * (w[0, 2] + w[2, 0]),
                         0.5 * (w[1, 2] + w[2, 1])]

    def zero(self):
        self.forces[...] = 0.0
        self.virial6[...] = 0.0
        self.energy = 0.0
        self.energies = {}


class ForceField:
    """An ordered list of named force terms.

    Parameters
    ----------
    terms : iterable of force terms
        Names must be unique.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
    >>> ff = mdl.ForceField([mdl.LennardJones(cutoff=2.5)])
    >>> res = ff.compute(st)
    >>> round(res.energy / st.n_atoms, 4)
    -6.7734
    """

    def __init__(self, terms=()):
        self._terms = {}
        for term in terms:
            self.add(term)
        self._attached_to = None
        self._nlist = None

    # ------------------------------------------------------------------ editing
    def add(self, term, atoms=None):
        """Append a term; its ``name`` must be new. With ``atoms`` (bool mask or indices) the term is
        restricted to that region (pairs with both atoms in it, see :func:`mdlearn.forces.region.restrict`)."""
        if atoms is not None:
            from .region import restrict

            term = restrict(term, atoms)
        for attr in ("name", "cutoff", "attach", "compute"):
            if not hasattr(term, attr):
                raise TypeError(f"{term!r} is not a force term: it has no {attr!r}")
        if term.name in self._terms:
            raise ValueError(f"a term named {term.name!r} is already in the force field")
        self._terms[term.name] = term
        self._attached_to = None

    def remove(self, name):
        """Remove and return the term called ``name``."""
        try:
            term = self._terms.pop(name)
        except KeyError:
            raise KeyError(f"no term named {name!r}; terms: {list(self._terms)}") from None
        self._attached_to = None
        return term

    def replace(self, name, term):
        """Put ``term`` in the place of the term called ``name``."""
        if name not in self._terms:
            raise KeyError(f"no term named {name!r}; terms: {list(self._terms)}")
        items = [(term.name if k == name else k, term if k == name else v) for k, v in self._terms.items()]
        self._terms = dict(items)
        self._attached_to = None

    def substitute(self, term, atoms, replace=None):
        """Let ``term`` (e.g. a neural network) take the region ``atoms`` while pair terms keep the rest.

        ``term`` is added restricted to the pairs with both atoms in the region; each pair term named in
        ``replace`` (default: every term with ``pairwise = True``) is restricted to the other pairs (at least
        one atom outside), so no pair is counted twice. Other terms (walls, Ewald, ...) stay as they are.

        Parameters
        ----------
        term : force term
            Added under its own name; a term that takes ``atoms=`` itself gets them set.
        atoms : bool mask (N,) or array of atom indices
        replace : list of str, optional
            Names of the pair terms that give up the region.

        Examples
        --------
        >>> import numpy as np, mdlearn as mdl
        >>> st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
        >>> ff = mdl.ForceField([mdl.LennardJones()])
        >>> ff.substitute(mdl.LennardJones(name="region"), atoms=np.arange(100))
        >>> [repr(t)[:10] for t in ff]
        ['Restricted', 'Restricted']
        >>> round(ff.compute(st).energy / st.n_atoms, 4)   # the same potential on both sides: the full result
        -6.7734
        """
        from .region import Restricted, restrict

        if replace is None:
            replace = [name for name, t in self._terms.items() if getattr(t, "pairwise", False)]
        for name in replace:
            if name not in self._terms:
                raise KeyError(f"no term named {name!r}; terms: {list(self._terms)}")
        if term.name in self._terms:
            raise ValueError(f"a term named {term.name!r} is already in the force field")
        region_term = restrict(term, atoms)
        for name in replace:
            self._terms[name] = Restricted(self._terms[name], atoms, pairs="rest")
        self.add(region_term)
        self._attached_to = None

    @property
    def terms(self):
        """The terms, in order."""
        return list(self._terms.values())

    def __getitem__(self, name):
        return self._terms[name]

    def __iter__(self):
        return iter(self._terms.values())

    def __len__(self):
        return len(self._terms)

    @property
    def cutoff(self):
        """Largest cutoff of the terms that need a neighbor list (None if none does)."""
        cuts = [t.cutoff for t in self._terms.values() if t.cutoff is not None]
        return max(cuts) if cuts else None

    # ------------------------------------------------------------------ evaluation
    def attach(self, state):
        """Validate every term against ``state`` and allocate (done automatically by compute)."""
        if not self._terms:
            raise ValueError("the force field has no terms")
        for term in self._terms.values():
            term.attach(state)
        self._attached_to = (id(state), state.n_atoms, tuple(state.type_names))

    def make_neighbor_list(self, skin=0.3):
        """A :class:`NeighborList` for this force field's largest cutoff (None if no term needs one)."""
        cutoff = self.cutoff
        return None if cutoff is None else NeighborList(cutoff, skin)

    def compute(self, state, nlist=None, energy=True, virial=True, out=None):
        """Evaluate all terms for ``state``.

        Parameters
        ----------
        state : State
            Positions on periodic axes are wrapped into the box (in place) when the list is rebuilt.
        nlist : NeighborList, optional
            Updated here when stale; without one the force field keeps its own (skin 0.3).
        energy, virial : bool
            Whether to compute them (forces are always computed).
        out : ForceResult, optional
            Written in place (a simulation passes one whose forces are ``state.forces``).

        Returns
        -------
        ForceResult
        """
        if self._attached_to != (id(state), state.n_atoms, tuple(state.type_names)):
            self.attach(state)
        if nlist is None:
            if self._nlist is None or self._nlist.cutoff != self.cutoff:
                self._nlist = self.make_neighbor_list()
            nlist = self._nlist
        if nlist is not None:
            nlist.update(state)
        if out is None:
            out = ForceResult(state.n_atoms)
        return self.evaluate(state, nlist, Request(energy, virial), out)

    def evaluate(self, state, nlist, request, out):
        """Hot path for integrators: no validation; ``nlist`` must be current."""
        out.zero()
        total = 0.0
        for name, term in self._terms.items():
            e = term.compute(state, nlist, request, out)
            out.energies[name] = e if request.energy else float("nan")
            total += e
        out.energy = total if request.energy else float("nan")
        return out

    def __repr__(self):
        return f"ForceField({self.terms!r})"
