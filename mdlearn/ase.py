"""ASE, both ways: mdlearn as an ASE calculator, and conversions between ``ase.Atoms`` and :class:`State`.

mdlearn's ``"real"`` units are ASE's units (eV, Å, amu, e, K) except for time: mdlearn measures it in fs,
ASE in Å sqrt(amu / eV), of which one fs is ``ase.units.fs``. Only velocities (and momenta) are converted.

- :class:`MDLearnCalculator` wraps a :class:`~mdlearn.ForceField` as an ASE calculator, so that ASE's
  molecular dynamics, optimizers, cell filters and trajectory writers drive mdlearn's kernels.
- :func:`state_from_atoms` / :func:`state_to_atoms` (also ``State.from_atoms`` / ``state.to_atoms``).
- The other direction, any ASE calculator as an mdlearn force term, is :class:`mdlearn.AseForceTerm`
  (``mdlearn/forces/ase.py``).

Sign conventions: mdlearn's virial is ``W_ab = Σ_{i<j} r_ij,a f_ij,b`` (``r_ij = r_i - r_j``, ``f_ij`` the
force on i due to j); ASE's stress is ``σ = (1/V) ∂E/∂ε``, the derivative of the energy with respect to a
homogeneous strain. Since ``∂E/∂ε = -W``, the potential part of the stress is ``σ = -W / V``: positive
(tensile) when the system pulls inwards and would contract.
"""
import numpy as np
from ase import Atoms
from ase import units as _ase_units
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from ase.data import atomic_numbers

from .forces.base import ForceField, ForceResult
from .forces.pair import LennardJones
from .state import State

__all__ = ["MDLearnCalculator", "atom_energies", "orthorhombic_lengths", "state_from_atoms", "state_to_atoms"]

# off-diagonal cell entries up to this fraction of the longest cell edge count as zero (rounding noise
# from, e.g., a cell filter acting on a cubic crystal); anything larger is a triclinic cell.
_ORTHO_TOL = 1e-12


# ---------------------------------------------------------------------------------------------- conversions
def orthorhombic_lengths(cell):
    """Edge lengths (3,) of an orthorhombic ASE cell (rows are the cell vectors), in Å.

    Raises
    ------
    NotImplementedError
        For a triclinic cell (non-zero off-diagonal entries): mdlearn's states are orthorhombic.
    ValueError
        For a negative diagonal entry (a left-handed or inverted cell).
    """
    c = np.asarray(cell, dtype=np.float64).reshape(3, 3)
    lengths = np.diag(c).copy()
    off = np.abs(c[~np.eye(3, dtype=bool)])
    if off.size and off.max() > _ORTHO_TOL * max(float(np.abs(c).max()), 1.0):
        from ase.geometry import cell_to_cellpar

        par = np.round(cell_to_cellpar(c), 6).tolist()
        raise NotImplementedError(
            f"mdlearn supports orthorhombic cells only (a diagonal cell matrix); got the triclinic cell "
            f"{c.tolist()} (a, b, c, alpha, beta, gamma = {par})")
    if np.any(lengths < 0):
        raise ValueError(f"cell vectors must point along +x, +y, +z; got the cell {c.tolist()}")
    return lengths


def _masses_of(atoms):
    masses = atoms.get_masses()
    bad = ~(np.isfinite(masses) & (masses > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"atom {i} ({atoms.get_chemical_symbols()[i]}) has mass {masses[i]}; "
                         f"masses must be positive (set them with atoms.set_masses)")
    return masses


def state_from_atoms(atoms, cls=State):
    """A :class:`State` in ``"real"`` units from an ``ase.Atoms``.

    Carries positions (Å, as they are: not wrapped), velocities (ASE momenta / mass converted to Å/fs),
    masses (amu), chemical symbols (the type names), initial charges (e), the cell (Å) and pbc. An all-zero
    cell gives ``box=None``. Constraints, magnetic moments and ``atoms.info`` are not carried.

    Raises
    ------
    NotImplementedError
        For a triclinic cell.
    """
    cell = atoms.cell.array
    lengths = orthorhombic_lengths(cell)
    masses = _masses_of(atoms)
    velocities = None
    if atoms.has("momenta"):
        velocities = atoms.get_momenta() / masses[:, None] * _ase_units.fs
    return cls(atoms.get_positions(), box=lengths if cell.any() else None, pbc=atoms.get_pbc(),
               types=atoms.get_chemical_symbols(), masses=masses, charges=atoms.get_initial_charges(),
               velocities=velocities, units="real")


def _numbers_of(state, symbols=None):
    """Atomic numbers (N,) from the state's type names, optionally renamed by ``symbols``."""
    symbols = {} if symbols is None else dict(symbols)
    names = [str(symbols.get(t, t)) for t in state.type_names]
    unknown = [t for t, s in zip(state.type_names, names, strict=True) if s not in atomic_numbers]
    if unknown:
        raise ValueError(f"types {unknown} are not element symbols; pass symbols={{type_name: element}}, "
                         f"e.g. symbols={{{unknown[0]!r}: 'Ar'}}")
    table = np.array([atomic_numbers[s] for s in names], dtype=int)
    return table[state.types]


def state_to_atoms(state, symbols=None):
    """An ``ase.Atoms`` from a :class:`State` in ``"real"`` units (the inverse of :func:`state_from_atoms`).

    Parameters
    ----------
    state : State
    symbols : dict, optional
        ``{type_name: element_symbol}`` for types that are not named after elements.

    Positions, masses (set explicitly only when they differ from ASE's defaults), numbers, charges (only
    when some are non-zero), cell ``diag(box)`` and pbc are copied; velocities become momenta
    ``m v / ase.units.fs`` (only when some are non-zero).
    """
    if state.units.name != "real":
        raise ValueError(f"to_atoms needs a State in 'real' units (ASE's eV, Å, amu, e); this one is in "
                         f"{state.units.name!r} units")
    atoms = Atoms(numbers=_numbers_of(state, symbols), positions=state.positions.copy(),
                  cell=np.diag(state.box), pbc=state.pbc.copy())
    if not np.array_equal(atoms.get_masses(), state.masses):
        atoms.set_masses(state.masses.copy())
    if state.charges.any():
        atoms.set_initial_charges(state.charges.copy())
    if state.velocities.any():
        atoms.set_momenta(state.velocities * state.masses[:, None] / _ase_units.fs, apply_constraint=False)
    return atoms


# ---------------------------------------------------------------------------------------- per-atom energies
def _lj_atom_energies(term, state, nlist):
    """Per-atom energies of :class:`LennardJones`: each pair's energy split half and half, and the tail
    correction of type a, ``2π/V Σ_b N_b ∫ r² u_ab dr``, given to every atom of type a."""
    eps, sig = term.pair_parameters(state.type_names)
    # cutoff per type pair: one value for LennardJones, subclasses (WCA) may set them per pair
    pair_cutoffs = getattr(term, "_pair_cutoffs", None)
    rc = pair_cutoffs(sig) if pair_cutoffs is not None else np.full_like(sig, term.cutoff)
    energies = np.zeros(state.n_atoms)
    if nlist is not None and nlist.n_pairs:
        i, j, shift = nlist.pairs(state)
        d = state.positions[j] + shift - state.positions[i]
        r2 = np.einsum("ij,ij->i", d, d)
        keep = r2 < rc[state.types[i], state.types[j]] ** 2
        i, j, r2 = i[keep], j[keep], r2[keep]
        ti, tj = state.types[i], state.types[j]
        s6 = (sig[ti, tj] ** 2 / r2) ** 3
        e = 4.0 * eps[ti, tj] * (s6 * s6 - s6)
        if term.shift:
            c6 = (sig / rc) ** 6
            e -= (4.0 * eps * (c6 * c6 - c6))[ti, tj]
        energies += 0.5 * (np.bincount(i, e, state.n_atoms) + np.bincount(j, e, state.n_atoms))
    if term.tail:
        counts = np.bincount(state.types, minlength=len(state.type_names)).astype(float)
        x3 = (sig / rc) ** 3
        per_type = 2 * np.pi / state.volume * (4 * eps * sig**3 * (x3**3 / 9 - x3 / 3)) @ counts
        energies += per_type[state.types]
    return energies


def atom_energies(forcefield, state, nlist):
    """Per-atom potential energies (N,) in energy units, summed over the force field's terms.

    A term provides them through a method ``atom_energies(state, nlist) -> (N,) array``; mdlearn's
    :class:`LennardJones` is handled here. ``nlist`` must be current for ``state``.

    Raises
    ------
    PropertyNotImplementedError
        Naming the first term that cannot split its energy over atoms.
    """
    total = np.zeros(state.n_atoms)
    for term in forcefield:
        if hasattr(term, "atom_energies"):
            total += np.asarray(term.atom_energies(state, nlist), dtype=np.float64)
        elif isinstance(term, LennardJones):
            total += _lj_atom_energies(term, state, nlist)
        else:
            raise PropertyNotImplementedError(
                f"force term {term.name!r} ({type(term).__name__}) does not provide per-atom energies")
    return total


# ----------------------------------------------------------------------------------------------- calculator
class MDLearnCalculator(Calculator):
    """An mdlearn :class:`~mdlearn.ForceField` as an ASE calculator (energies in eV, lengths in Å).

    Properties: ``energy``, ``free_energy`` (the same), ``forces``, ``stress`` (Voigt order xx, yy, zz, yz,
    xz, xy, eV/Å³, ASE's sign, potential part ``-W/V``; needs a cell with non-zero volume) and ``energies``
    (per atom, when every force term provides them).

    ASE's caching contract holds: asking again without changing the atoms returns the stored results; a
    change of positions, cell, pbc, atomic numbers or initial charges triggers a new evaluation (momenta,
    masses and magnetic moments do not). Between calls the calculator keeps its own :class:`State` and
    neighbor list, so a step of ASE's molecular dynamics costs one copy of the positions and one force
    evaluation; the list is rebuilt only when an atom moved more than skin/2 or the cell changed, and the
    state is rebuilt when the number of atoms, the numbers or the pbc change. Call :meth:`reset` after
    editing the force field.

    Energy is computed with every evaluation; the virial only once ``stress`` has been asked for (from then
    on with every evaluation, so that cell filters pay one evaluation per step).

    Parameters
    ----------
    forcefield : ForceField, a force term, or a sequence of force terms
        Its terms must work in ``"real"`` units.
    skin : float
        Neighbor-list skin in Å (default 1.0). It is reduced automatically when a periodic cell edge is
        shorter than 2 (cutoff + skin); an edge shorter than 2 cutoff raises ``ValueError``.
    **kwargs
        Passed to ``ase.calculators.calculator.Calculator``.

    Attributes
    ----------
    state : State or None
        The calculator's own state (positions wrapped into the cell on periodic axes).
    nlist : NeighborList or None
    evaluations : int
        Number of force-field evaluations so far.

    Notes
    -----
    Only orthorhombic cells are supported when some axis is periodic (a triclinic cell raises
    ``NotImplementedError``). Without any periodic axis the cell plays no part in the energy; then any cell
    is accepted and only its volume is used, for the stress.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> from ase.build import bulk
    >>> from mdlearn.ase import MDLearnCalculator
    >>> atoms = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((4, 4, 4))
    >>> atoms.calc = MDLearnCalculator(mdl.LennardJones(epsilon=0.0104, sigma=3.40, cutoff=8.5, shift=True))
    >>> round(atoms.get_potential_energy() / len(atoms), 4)
    -0.0776
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress", "energies"]
    ignored_changes = {"initial_magmoms"}
    nolabel = True

    def __init__(self, forcefield, skin=1.0, **kwargs):
        if isinstance(forcefield, ForceField):
            ff = forcefield
        elif all(hasattr(forcefield, a) for a in ("name", "cutoff", "attach", "compute")):
            ff = ForceField([forcefield])
        else:
            ff = ForceField(forcefield)
        skin = float(skin)
        if not (np.isfinite(skin) and skin >= 0):
            raise ValueError(f"skin must be >= 0 (Å), got {skin}")
        self.forcefield = ff
        self.skin = skin
        self.state = None
        self.nlist = None
        self.evaluations = 0
        self._want_virial = False
        self._numbers = self._cell = self._out = None
        super().__init__(**kwargs)

    def reset(self):
        """Forget the results, the stored atoms and the calculator's state and neighbor list."""
        super().reset()
        self.state = None
        self.nlist = None
        self._numbers = self._cell = self._out = None
        self._want_virial = False

    # ------------------------------------------------------------------ keeping the state in step
    @staticmethod
    def _box(atoms):
        if not atoms.pbc.any():
            return None  # the cell does not enter the energy
        return orthorhombic_lengths(atoms.cell.array)

    def _setup(self, atoms):
        """A new state, neighbor list and output buffer for ``atoms``."""
        self.state = None
        self.state = State(atoms.get_positions(), box=self._box(atoms), pbc=atoms.get_pbc(),
                           types=atoms.get_chemical_symbols(), masses=_masses_of(atoms),
                           charges=atoms.get_initial_charges(), units="real")
        self._numbers = atoms.numbers.copy()
        self._cell = atoms.cell.array.copy()
        self.nlist = self.forcefield.make_neighbor_list(self.skin)
        self._fit_skin()
        self._out = ForceResult(len(atoms))
        self.state.wrap()
        self.forcefield.attach(self.state)

    def _fit_skin(self):
        """Shrink the skin so that the list fits the box (2 (cutoff + skin) <= every periodic edge), and
        prepare the arrays that wrap positions into the box."""
        st = self.state
        self._wrap_length = np.where(st.pbc, st.box, 0.0)
        self._wrap_inverse = np.divide(1.0, st.box, out=np.zeros(3), where=st.pbc)
        if self.nlist is None:
            return
        self.nlist.skin = min(self.skin, self.nlist.largest_skin(st))

    def _set_positions(self, x):
        """Copy ``x`` into the state, wrapped into [0, L) on periodic axes (one vectorised pass; the rare
        rounding case x = L is left to State.wrap, which the force field calls when needed)."""
        pos = self.state.positions
        np.multiply(x, self._wrap_inverse, out=pos)
        np.floor(pos, out=pos)
        pos *= self._wrap_length
        np.subtract(x, pos, out=pos)
        if not np.isfinite(pos).all():
            i = int(np.argwhere(~np.isfinite(pos))[0, 0])
            raise ValueError(f"position of atom {i} is not finite: {np.asarray(x)[i].tolist()}")

    def _sync(self, atoms):
        """Bring the state up to date with ``atoms`` (rebuilt when atoms, numbers or pbc changed)."""
        st = self.state
        if (st is None or len(atoms) != st.n_atoms or not np.array_equal(atoms.numbers, self._numbers)
                or not np.array_equal(atoms.pbc, st.pbc)):
            self._setup(atoms)
            return
        reattach = False
        if not np.array_equal(atoms.cell.array, self._cell):
            box = self._box(atoms)
            self._cell = atoms.cell.array.copy()
            if box is not None and not np.array_equal(box, st.box):
                st.box = box
                self._fit_skin()
                reattach = True  # terms may hold volume-dependent parts (tail corrections)
        q = atoms.arrays.get("initial_charges")
        if (st.charges.any() if q is None else not np.array_equal(q, st.charges)):
            st.charges = 0.0 if q is None else q
            reattach = True
        self._set_positions(atoms.arrays["positions"])
        if reattach:
            st.wrap()
            self.forcefield.attach(st)

    def _volume(self, atoms):
        if self.state.pbc.any():
            return self.state.volume
        return float(abs(np.linalg.det(atoms.cell.array)))

    # ------------------------------------------------------------------ the ASE calculator contract
    def check_state(self, atoms, tol=1e-15):
        """What changed since the last calculation, among ``positions``, ``numbers``, ``cell``, ``pbc`` and
        ``initial_charges`` (as ASE's check). Comparisons are exact (``tol`` is not used): cheaper than ASE's
        tolerance test on large systems, and a change below 1e-15 Å merely costs a recalculation."""
        old = self.atoms
        if old is None:
            return list(all_changes)
        a, b = old.arrays, atoms.arrays
        changes = []
        if not np.array_equal(a["positions"], b["positions"]):
            changes.append("positions")
        if not np.array_equal(a["numbers"], b["numbers"]):
            changes.append("numbers")
        if not np.array_equal(old.cell.array, atoms.cell.array):
            changes.append("cell")
        if not np.array_equal(old.pbc, atoms.pbc):
            changes.append("pbc")
        qa, qb = a.get("initial_charges"), b.get("initial_charges")
        if (qa is None) != (qb is None) or (qa is not None and not np.array_equal(qa, qb)):
            changes.append("initial_charges")
        return changes

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Evaluate what ``properties`` needs (see the class docstring); fills :attr:`results`."""
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        properties = set(properties)
        try:
            if system_changes or self.state is None:
                self._sync(atoms)
                self.results = {}
        except BaseException:
            self.reset()  # never keep a state that does not match self.atoms
            raise
        if "stress" in properties:
            if self._volume(atoms) <= 0:
                raise PropertyNotImplementedError(
                    f"stress needs a cell with non-zero volume; this one is {atoms.cell.array.tolist()}")
            self._want_virial = True
        stale = "forces" not in self.results or (self._want_virial and "stress" not in self.results)
        if stale:
            virial = self._want_virial and self._volume(atoms) > 0
            res = self.forcefield.compute(self.state, self.nlist, energy=True, virial=virial, out=self._out)
            self.evaluations += 1
            self.results["energy"] = self.results["free_energy"] = float(res.energy)
            self.results["forces"] = res.forces.copy()
            if virial:
                s = -res.virial / self._volume(atoms)
                self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
        if "energies" in properties and "energies" not in self.results:
            self.results["energies"] = atom_energies(self.forcefield, self.state, self.nlist)

    def __repr__(self):
        return f"MDLearnCalculator({self.forcefield!r}, skin={self.skin})"
