"""Any ASE calculator as an mdlearn force term.

The term keeps one ``ase.Atoms`` (built in :meth:`AseForceTerm.attach`) with the calculator attached, copies
the state's positions into it at every compute (and the box and charges when they changed), and adds the
calculator's energy and forces; the virial comes from the calculator's stress, asked for only when the step
needs the virial. mdlearn's ``"real"`` units are ASE's (eV, Å, amu, e), so no conversion is needed.
"""
import warnings

import numpy as np

__all__ = ["AseForceTerm"]


class AseForceTerm:
    """An ASE calculator (EMT, LennardJones, a machine-learned potential, ...) as a force term.

    Parameters
    ----------
    calc : ase calculator
        Anything with ASE's ``get_potential_energy(atoms)``, ``get_forces(atoms)`` and, for the virial of a
        periodic system, ``get_stress(atoms)``. Its own neighbor search and caching are used as they are.
    symbols : dict, optional
        ``{type_name: element_symbol}`` for state types that are not named after elements.
    name : str
        Name in the force field.

    Notes
    -----
    - Needs a state in ``"real"`` units. ``cutoff`` is ``None``: the term takes no mdlearn neighbor list.
    - Virial ``W = -σ V`` from ASE's stress σ (3x3) and the volume. Without any periodic axis it is
      ``W_ab = Σ_i r_i,a f_i,b``, which equals ``Σ_{i<j} r_ij,a f_ij,b`` for any potential that depends
      only on relative positions, so no stress is needed there. A periodic state whose calculator has no
      stress gets a NaN virial (with a warning): the pressure is then unknown, not zero.
    - Per-atom energies (``atom_energies``) come from the calculator's ``energies`` property.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> st = mdl.State.from_atoms(bulk("Cu", "fcc", a=3.6, cubic=True).repeat((3, 3, 3)))
    >>> ff = mdl.ForceField([mdl.AseForceTerm(EMT())])
    >>> round(ff.compute(st).energy, 6)
    -0.722387
    """

    def __init__(self, calc, symbols=None, name="ase"):
        self.calc = calc
        self.symbols = symbols
        self.name = name
        self.cutoff = None
        self._atoms = None

    # ------------------------------------------------------------------ force-term protocol
    def attach(self, state):
        if state.units.name != "real":
            raise ValueError(f"AseForceTerm needs a State in 'real' units (ASE's eV, Å, amu, e); this one is "
                             f"in {state.units.name!r} units")
        from ..ase import state_to_atoms

        atoms = state_to_atoms(state, self.symbols)
        if atoms.has("momenta"):
            del atoms.arrays["momenta"]  # the calculator needs none, and copies of atoms stay smaller
        atoms.calc = self.calc
        self._atoms = atoms
        self._box = state.box.copy()
        self._has_stress = "stress" in getattr(self.calc, "implemented_properties", ("stress",))
        self._warned = False

    def _sync(self, state):
        atoms = self._atoms
        if atoms is None or len(atoms) != state.n_atoms:
            self.attach(state)
            atoms = self._atoms
        if not np.array_equal(self._box, state.box):
            atoms.set_cell(np.diag(state.box), scale_atoms=False)
            self._box = state.box.copy()
        if not np.array_equal(atoms.get_initial_charges(), state.charges):
            atoms.set_initial_charges(state.charges.copy())
        atoms.arrays["positions"][...] = state.positions
        return atoms

    def compute(self, state, nlist, request, out):
        atoms = self._sync(state)
        calc = self.calc
        forces = np.asarray(calc.get_forces(atoms), dtype=np.float64)
        out.forces += forces
        if request.virial:
            out.add_virial(self._virial(state, atoms, forces))
        return float(calc.get_potential_energy(atoms)) if request.energy else 0.0

    def _virial(self, state, atoms, forces):
        if not state.pbc.any():
            return state.positions.T @ forces
        if self._has_stress and atoms.cell.rank == 3:
            from ase.stress import voigt_6_to_full_3x3_stress

            stress = np.asarray(self.calc.get_stress(atoms), dtype=np.float64)
            if stress.shape == (6,):
                stress = voigt_6_to_full_3x3_stress(stress)
            return -stress * atoms.get_volume()
        if not self._warned:
            warnings.warn(f"{type(self.calc).__name__} gives no stress for this periodic system: the virial "
                          f"(pressure) of force term {self.name!r} is NaN", RuntimeWarning, stacklevel=3)
            self._warned = True
        return np.full((3, 3), np.nan)

    def atom_energies(self, state, nlist=None):
        """Per-atom energies (N,) in eV from the calculator's ``energies`` property."""
        atoms = self._sync(state)
        return np.asarray(self.calc.get_potential_energies(atoms), dtype=np.float64)

    def __repr__(self):
        return f"AseForceTerm({self.calc!r}, name={self.name!r})"
