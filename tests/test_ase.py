"""ASE both ways: MDLearnCalculator against ASE's own LennardJones and finite differences, ASE's drivers on
mdlearn forces, ASE calculators (EMT) inside mdlearn runs, Atoms <-> State, and the caching contract.

Equal potentials: ASE's ``LennardJones(sigma, epsilon, rc, smooth=False)`` (its default) subtracts u(rc) from
every pair closer than rc -- a truncated and shifted potential whose forces jump to zero at rc; ``ro`` is used
only when ``smooth=True``. mdlearn's ``LennardJones(epsilon, sigma, cutoff=rc, shift=True)`` is the same
function, so energies, per-atom energies, forces and stresses must agree to rounding.
"""
import contextlib
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.calculator import PropertyNotImplementedError
from ase.calculators.emt import EMT
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
from ase.calculators.lj import LennardJones as AseLJ
from ase.md.verlet import VelocityVerlet as AseVelocityVerlet
from conftest import jittered_grid

import mdlearn as mdl
from mdlearn.ase import MDLearnCalculator

SIGMA, EPS, RC = 3.4, 0.0104, 8.5   # argon-like, Å and eV; rc = 2.5 sigma
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ase_calculator.py"


def lj_pair(rc=RC):
    """(mdlearn term, ASE calculator) for the same truncated and shifted LJ potential."""
    return (mdl.LennardJones(epsilon=EPS, sigma=SIGMA, cutoff=rc, shift=True),
            AseLJ(sigma=SIGMA, epsilon=EPS, rc=rc))


def random_atoms(rng, n, lengths, pbc, cell=True, symbols=("Ar",)):
    """``n`` atoms scattered without overlaps over ``lengths``, elements drawn from ``symbols``; on
    non-periodic axes they start at -1 Å (partly outside the cell). ``cell=False``: an all-zero cell."""
    pbc = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
    x = jittered_grid(lengths, n, rng, jitter=0.15, origin=np.where(pbc, 0.0, -1.0))
    return Atoms(list(rng.choice(list(symbols), size=n)), positions=x,
                 cell=np.diag(lengths) if cell else np.zeros((3, 3)), pbc=pbc)


def ar_crystal(cells=4, a=5.26, rattle=0.0, seed=1):
    atoms = bulk("Ar", "fcc", a=a, cubic=True).repeat((cells,) * 3)
    if rattle:
        atoms.rattle(rattle, seed=seed)
    return atoms


def thermalized(atoms, temperature, seed):
    """``atoms`` with Maxwell-Boltzmann momenta at ``temperature`` (K) and zero total momentum, drawn by
    mdlearn and carried over by State.to_atoms."""
    st = mdl.State.from_atoms(atoms)
    st.set_temperature(temperature, seed=seed)
    return st.to_atoms()


def one_blas_thread():
    """ASE's optimizers lean on small LAPACK calls; threaded OpenBLAS on a loaded machine makes them many
    times slower, so the optimizer tests pin BLAS to one thread (when threadpoolctl is there)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


SYSTEMS = {  # name -> (n, cell lengths, pbc, cell given)
    "periodic": (150, [20.0, 21.0, 22.0], True, True),
    "slab": (120, [19.0, 18.0, 15.0], [True, True, False], True),
    "cluster-in-cell": (60, [16.0, 15.0, 14.0], False, True),
    "cluster-no-cell": (60, [16.0, 15.0, 14.0], False, False),
}


# ------------------------------------------------------------------------------- against ASE's LennardJones
@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_matches_ase_lennard_jones(name, rng):
    n, lengths, pbc, with_cell = SYSTEMS[name]
    atoms = random_atoms(rng, n, lengths, pbc, cell=with_cell)
    ours, theirs = atoms.copy(), atoms.copy()
    term, ase_lj = lj_pair()
    ours.calc, theirs.calc = MDLearnCalculator(term), ase_lj
    e_ref = theirs.get_potential_energy()
    assert abs(ours.get_potential_energy() - e_ref) <= 1e-10 * abs(e_ref)
    assert ours.get_potential_energy(force_consistent=True) == ours.get_potential_energy()
    assert rel(ours.get_forces(), theirs.get_forces()) <= 1e-10
    assert rel(ours.get_potential_energies(), theirs.get_potential_energies()) <= 1e-10
    assert np.sum(ours.get_potential_energies()) == pytest.approx(ours.get_potential_energy(), rel=1e-12)
    if with_cell:
        assert rel(ours.get_stress(), theirs.get_stress()) <= 1e-10   # Voigt order and sign included
    else:  # no cell, no volume: neither calculator has a stress
        with pytest.raises(PropertyNotImplementedError, match="stress needs a cell"):
            ours.get_stress()
        with pytest.raises(PropertyNotImplementedError):
            theirs.get_stress()


def no_pair_near_cutoff(atoms, margin, among=None):
    """True when no pair distance (of atoms in ``among`` with any other) lies within ``margin`` of RC: then
    finite differences never step across the cutoff, where the shifted potential's force jumps."""
    d = atoms.get_all_distances(mic=bool(atoms.pbc.any()))
    rows = np.arange(len(atoms)) if among is None else np.asarray(among)
    d = d[rows]
    d = d[d > 0]
    return bool(np.min(np.abs(d - RC)) > margin)


@pytest.mark.parametrize("name", ["periodic", "slab", "cluster-no-cell"])
def test_forces_are_minus_the_energy_gradient(name, rng):
    n, lengths, pbc, with_cell = SYSTEMS[name]
    atoms = random_atoms(rng, n, lengths, pbc, cell=with_cell)
    eps = 1e-5
    some = range(0, n, 6)
    assert no_pair_near_cutoff(atoms, 2 * eps, among=some)
    atoms.calc = MDLearnCalculator(lj_pair()[0])
    numeric = calculate_numerical_forces(atoms, eps=eps, iatoms=some)
    analytic = atoms.get_forces()[list(some)]
    assert rel(analytic, numeric) < 1e-8


def test_stress_of_a_cluster_matches_ase_numerical_stress(rng):
    """Without periodic axes the cell only sets the volume, so ASE's full six-component finite differences
    (shears included) apply directly."""
    atoms = random_atoms(rng, *SYSTEMS["cluster-in-cell"][:3])
    assert no_pair_near_cutoff(atoms, 4e-6 * RC)
    atoms.calc = MDLearnCalculator(lj_pair()[0])
    analytic = atoms.get_stress()
    numeric = calculate_numerical_stress(atoms, eps=1e-6)
    assert rel(analytic, numeric) < 1e-8


def test_periodic_stress_matches_numerical_stress(rng):
    """Periodic cells: the normal components from central differences of mdlearn's energy under strain;
    ASE's calculate_numerical_stress also shears the cell, which an orthorhombic-only state cannot take, so
    all six components are checked against it applied to ASE's LennardJones (the same energy function,
    equal to ours to 1e-10 on every orthorhombic cell)."""
    atoms = random_atoms(rng, *SYSTEMS["periodic"][:3])
    assert no_pair_near_cutoff(atoms, 4e-6 * RC)
    atoms.calc = MDLearnCalculator(lj_pair()[0])
    analytic = atoms.get_stress()
    cell, volume, h = atoms.cell.array.copy(), atoms.get_volume(), 1e-6
    for a in range(3):
        e = []
        for sign in (1, -1):
            strain = np.eye(3)
            strain[a, a] += sign * h
            atoms.set_cell(cell @ strain, scale_atoms=True)
            e.append(atoms.get_potential_energy())
        atoms.set_cell(cell, scale_atoms=True)
        assert analytic[a] == pytest.approx((e[0] - e[1]) / (2 * h * volume), rel=1e-8)
    ref = atoms.copy()
    ref.calc = lj_pair()[1]
    assert rel(analytic, calculate_numerical_stress(ref, eps=1e-6)) < 1e-8
    with pytest.raises(NotImplementedError, match="triclinic cell"):
        calculate_numerical_stress(atoms, eps=1e-6)  # its first shear


def test_per_atom_energies_with_types_and_tail(rng):
    atoms = random_atoms(rng, 150, [20.0, 21.0, 22.0], True, symbols=("Ar", "Kr"))
    lj = mdl.LennardJones(epsilon={"Ar": 0.0104, "Kr": 0.014}, sigma={"Ar": 3.4, "Kr": 3.65}, cutoff=RC,
                          tail=True, pairs={("Ar", "Kr"): (0.012, 3.5)})
    atoms.calc = MDLearnCalculator(lj)
    energies = atoms.get_potential_energies()
    assert energies.shape == (150,)
    assert energies.sum() == pytest.approx(atoms.get_potential_energy(), rel=1e-12)


# ------------------------------------------------------------------------------------------ ASE's drivers
def test_ase_velocity_verlet_with_mdlearn_forces_matches_mdlearn_run(tmp_path):
    """ASE's VelocityVerlet driving MDLearnCalculator follows mdlearn's own VelocityVerlet step for step;
    the trajectory ASE writes holds the energies and forces of its frames."""
    dt, steps = 5.0, 20
    atoms = thermalized(ar_crystal(rattle=0.05), 60.0, seed=3)
    st = mdl.State.from_atoms(atoms)
    sim = mdl.Simulation(st, mdl.ForceField([lj_pair()[0]]), mdl.VelocityVerlet(dt=dt), skin=1.0)
    ours = [st.unwrapped_positions() for _ in sim.irun(steps)]

    atoms.calc = calc = MDLearnCalculator(lj_pair()[0])
    e0 = atoms.get_total_energy()
    dyn = AseVelocityVerlet(atoms, timestep=dt * units.fs, trajectory=str(tmp_path / "md.traj"),
                            logfile=str(tmp_path / "md.log"), loginterval=5)
    theirs = []
    dyn.attach(lambda: theirs.append(atoms.get_positions()), interval=1)
    dyn.run(steps)
    assert np.max(np.abs(np.array(ours) - np.array(theirs[1:]))) < 1e-10
    assert np.max(np.abs(st.velocities - atoms.get_velocities() * units.fs)) < 1e-12
    assert abs(atoms.get_total_energy() - e0) < 1e-4 * abs(e0)
    assert calc.evaluations == steps + 1  # one per step (loggers and writers reuse the cache)

    from ase.io import read

    frames = read(tmp_path / "md.traj", ":")
    assert len(frames) == steps // 5 + 1
    check = MDLearnCalculator(lj_pair()[0])
    for frame in frames:
        stored_e, stored_f = frame.get_potential_energy(), frame.get_forces()
        frame.calc = check
        assert frame.get_potential_energy() == pytest.approx(stored_e, rel=1e-12)
        assert rel(frame.get_forces(), stored_f) < 1e-12
    assert len((tmp_path / "md.log").read_text().splitlines()) == steps // 5 + 2


def test_ase_langevin_runs_on_mdlearn_forces():
    from ase.md.langevin import Langevin

    atoms = ar_crystal()
    atoms.calc = calc = MDLearnCalculator(lj_pair()[0])
    dyn = Langevin(atoms, 5 * units.fs, temperature_K=80, friction=0.05, fixcm=False,
                   rng=np.random.default_rng(2))
    dyn.run(40)
    assert calc.evaluations == 41
    assert 10 < atoms.get_temperature() < 200
    assert np.isfinite(atoms.get_potential_energy())


def test_ase_bfgs_relaxes_a_rattled_crystal():
    from ase.optimize import BFGS

    perfect = ar_crystal(cells=3)
    perfect.calc = MDLearnCalculator(lj_pair(rc=6.8)[0])
    atoms = ar_crystal(cells=3, rattle=0.05, seed=4)
    atoms.calc = MDLearnCalculator(lj_pair(rc=6.8)[0])
    assert atoms.get_potential_energy() > perfect.get_potential_energy()
    with one_blas_thread():
        assert BFGS(atoms, logfile=None).run(fmax=1e-4, steps=200)
    assert atoms.get_potential_energy() == pytest.approx(perfect.get_potential_energy(), rel=1e-6)


def test_ase_cell_filter_relaxes_the_stress():
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    atoms = ar_crystal(cells=2, a=5.45, rattle=0.02, seed=5)   # 32 atoms; nearest neighbours only
    atoms.calc = calc = MDLearnCalculator(lj_pair(rc=5.0)[0])
    v0 = atoms.get_volume()
    assert np.all(atoms.get_stress()[:3] > 1e-5)  # stretched: tensile, wants to contract
    opt = BFGS(FrechetCellFilter(atoms, mask=[1, 1, 1, 0, 0, 0]), logfile=None)
    with one_blas_thread():
        assert opt.run(fmax=1e-4, steps=300)
    assert atoms.get_volume() < v0
    assert np.max(np.abs(atoms.get_stress()[:3])) < 1e-6
    assert atoms.cell.orthorhombic
    assert calc.state.box == pytest.approx(np.diag(atoms.cell.array), abs=0)


# --------------------------------------------------------------------- ASE calculators as mdlearn force terms
def test_emt_in_mdlearn_verlet_matches_ase_velocity_verlet():
    """Cu fcc 3x3x3 at 300 K: mdlearn's VelocityVerlet with EMT as an AseForceTerm against ASE's
    VelocityVerlet with EMT, 50 steps of 2 fs from the same start."""
    dt, steps = 2.0, 50
    atoms = thermalized(bulk("Cu", "fcc", a=3.61, cubic=True).repeat((3, 3, 3)), 300.0, seed=11)
    st = mdl.State.from_atoms(atoms)

    ref = atoms.copy()
    ref.calc = EMT()
    dyn = AseVelocityVerlet(ref, timestep=dt * units.fs)
    theirs = []
    dyn.attach(lambda: theirs.append(ref.get_positions()), interval=1)
    dyn.run(steps)

    sim = mdl.Simulation(st, mdl.ForceField([mdl.AseForceTerm(EMT())]), mdl.VelocityVerlet(dt=dt))
    assert sim.nlist is None
    ours = [st.unwrapped_positions()] + [st.unwrapped_positions() for _ in sim.irun(steps)]
    assert len(ours) == len(theirs) == steps + 1
    moved = np.max(np.abs(theirs[-1] - theirs[0]))
    assert moved > 0.05
    assert np.max(np.abs(np.array(ours) - np.array(theirs))) < 1e-10
    assert np.max(np.abs(st.velocities - ref.get_velocities() * units.fs)) < 1e-12


@pytest.mark.parametrize("name", ["periodic", "slab", "cluster-no-cell"])
def test_ase_force_term_matches_mdlearn_lennard_jones(name, rng):
    """ASE's LennardJones as an AseForceTerm gives mdlearn's own LJ energy, forces and virial (3x3, with
    the off-diagonal entries): the virial from the stress (periodic) or from Σ r_i f_i (no periodic axis)."""
    n, lengths, pbc, with_cell = SYSTEMS[name]
    st = mdl.State.from_atoms(random_atoms(rng, n, lengths, pbc, cell=with_cell))
    term, ase_lj = lj_pair()
    native = mdl.ForceField([term]).compute(st)
    wrapped = mdl.ForceField([mdl.AseForceTerm(ase_lj, name="ase-lj")]).compute(st)
    assert wrapped.energy == pytest.approx(native.energy, rel=1e-10)
    assert wrapped.energies == {"ase-lj": wrapped.energy}
    assert rel(wrapped.forces, native.forces) < 1e-10
    assert rel(wrapped.virial, native.virial) < 1e-10


def test_ase_force_term_virial_is_minus_the_strain_derivative():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((3, 3, 3))
    atoms.rattle(0.05, seed=3)
    st = mdl.State.from_atoms(atoms)
    ff = mdl.ForceField([mdl.AseForceTerm(EMT())])
    virial = ff.compute(st).virial
    h = 1e-6
    for a in range(3):
        e = []
        for sign in (1, -1):
            s = st.copy()
            s.positions[:, a] *= 1 + sign * h
            s.box[a] *= 1 + sign * h
            e.append(ff.compute(s).energy)
        assert virial[a, a] == pytest.approx(-(e[0] - e[1]) / (2 * h), rel=1e-7)
    # EMT through both doors at once returns to itself
    atoms.calc = EMT()
    twice = atoms.copy()
    twice.calc = MDLearnCalculator(mdl.AseForceTerm(EMT()))
    assert twice.get_potential_energy() == pytest.approx(atoms.get_potential_energy(), rel=1e-12)
    assert rel(twice.get_forces(), atoms.get_forces()) < 1e-12
    assert rel(twice.get_stress(), atoms.get_stress()) < 1e-12
    assert rel(twice.get_potential_energies(), atoms.get_potential_energies()) < 1e-12


def test_ase_force_term_asks_for_stress_only_with_the_virial():
    atoms = ar_crystal(cells=3)
    calls = []

    class Counting(AseLJ):
        def calculate(self, atoms=None, properties=None, system_changes=None):
            calls.append(tuple(properties))
            super().calculate(atoms, ["energy", "forces"] + (["stress"] if "stress" in properties else []),
                              system_changes)
            if "stress" not in properties:
                self.results.pop("stress", None)

    st = mdl.State.from_atoms(atoms)
    ff = mdl.ForceField([mdl.AseForceTerm(Counting(sigma=SIGMA, epsilon=EPS, rc=6.8))])
    ff.compute(st, energy=False, virial=False)
    assert all("stress" not in c for c in calls)
    ff.compute(st, energy=True, virial=True)
    assert any("stress" in c for c in calls)


def test_ase_force_term_without_stress_gives_nan_virial():
    class NoStress(AseLJ):
        implemented_properties = ["energy", "free_energy", "forces"]

    st = mdl.State.from_atoms(ar_crystal(cells=3))
    ff = mdl.ForceField([mdl.AseForceTerm(NoStress(sigma=SIGMA, epsilon=EPS, rc=6.8))])
    assert np.isfinite(ff.compute(st, virial=False).energy)
    with pytest.warns(RuntimeWarning, match="virial"):
        res = ff.compute(st)
    assert np.all(np.isnan(res.virial))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        ff.compute(st)


def test_ase_force_term_needs_real_units_and_element_symbols():
    st = mdl.build.lattice("fcc", cells=(3, 3, 3), density=0.8442)
    with pytest.raises(ValueError, match="'real' units"):
        mdl.ForceField([mdl.AseForceTerm(EMT())]).compute(st)
    real = mdl.State(st.positions * SIGMA, box=st.box * SIGMA, units="real", masses=39.948)
    with pytest.raises(ValueError, match=r"not element symbols; pass symbols="):
        mdl.ForceField([mdl.AseForceTerm(EMT())]).compute(real)
    term, ase_lj = lj_pair(rc=6.8)
    res = mdl.ForceField([mdl.AseForceTerm(ase_lj, symbols={"A": "Ar"})]).compute(real)
    assert res.energy == pytest.approx(mdl.ForceField([term]).compute(real).energy, rel=1e-10)


# ------------------------------------------------------------------------------------------ Atoms <-> State
def test_atoms_state_round_trip_is_exact(rng):
    atoms = random_atoms(rng, 40, [18.0, 19.0, 20.0], [True, False, True], symbols=("Ar", "Kr", "Ne"))
    atoms.set_masses(rng.uniform(5, 50, 40))
    atoms.set_initial_charges(rng.uniform(-1, 1, 40))
    atoms.set_momenta(rng.standard_normal((40, 3)))
    atoms.positions[:3] += 25.0  # outside the cell: carried as they are, not wrapped
    st = mdl.State.from_atoms(atoms)
    assert st.units.name == "real" and st.pbc.tolist() == [True, False, True]
    assert st.box.tolist() == [18.0, 19.0, 20.0]
    assert np.array_equal(st.positions, atoms.positions)
    assert np.array_equal(st.masses, atoms.get_masses())
    assert np.array_equal(st.charges, atoms.get_initial_charges())
    assert [st.type_names[t] for t in st.types] == atoms.get_chemical_symbols()
    assert np.allclose(st.velocities, atoms.get_velocities() * units.fs, rtol=1e-15, atol=0)
    assert st.kinetic_energy() == pytest.approx(atoms.get_kinetic_energy(), rel=1e-14)

    back = st.to_atoms()
    assert back == atoms  # positions, numbers, cell, pbc: bitwise
    assert np.array_equal(back.get_masses(), atoms.get_masses())
    assert np.array_equal(back.get_initial_charges(), atoms.get_initial_charges())
    assert np.allclose(back.get_momenta(), atoms.get_momenta(), rtol=1e-15, atol=0)  # x fs / fs: 1 ulp

    again = mdl.State.from_atoms(back)
    for key in ("positions", "masses", "charges", "types", "box", "pbc"):
        assert np.array_equal(getattr(again, key), getattr(st, key)), key
    assert again.type_names == st.type_names
    assert np.allclose(again.velocities, st.velocities, rtol=1e-15, atol=0)


def test_state_to_atoms_defaults_and_zero_cell():
    atoms = Atoms("Ar3", positions=[[0, 0, 0], [3.8, 0, 0], [0, 3.8, 0]])
    st = mdl.State.from_atoms(atoms)
    assert not st.pbc.any() and st.volume == 0.0 and np.all(st.velocities == 0)
    back = st.to_atoms()
    assert back == atoms
    assert set(back.arrays) == {"positions", "numbers"}  # default masses, no charges, no momenta
    st.set_temperature(100.0, seed=1)
    assert back.get_chemical_symbols() == ["Ar"] * 3
    hot = st.to_atoms()
    assert hot.get_kinetic_energy() == pytest.approx(st.kinetic_energy(), rel=1e-14)


def test_conversion_errors():
    tri = bulk("Cu", "fcc", a=3.6)  # primitive cell: triclinic
    with pytest.raises(NotImplementedError, match=r"orthorhombic cells only.*triclinic cell \[\[0\.0, 1\.8"):
        mdl.State.from_atoms(tri)
    tri.calc = MDLearnCalculator(lj_pair(rc=2.0)[0])
    with pytest.raises(NotImplementedError, match="triclinic cell"):
        tri.get_forces()
    lj_state = mdl.build.lattice("fcc", cells=(2, 2, 2), density=0.8)
    with pytest.raises(ValueError, match="'real' units"):
        lj_state.to_atoms()
    real = mdl.State([[0.0, 0, 0], [4.0, 0, 0]], pbc=False, types=["A", "Z"], masses=1.0, units="real")
    with pytest.raises(ValueError, match=r"types \['A', 'Z'\] are not element symbols"):
        real.to_atoms()
    assert real.to_atoms(symbols={"A": "Ar", "Z": "Kr"}).get_chemical_symbols() == ["Ar", "Kr"]
    with pytest.raises(ValueError, match="mass 0.0"):
        mdl.State.from_atoms(Atoms("X2", positions=[[0, 0, 0], [3, 0, 0]], masses=[0.0, 0.0]))


def test_cell_rounding_noise_is_tolerated_and_clusters_ignore_the_cell():
    atoms = ar_crystal(cells=4)
    noisy = atoms.copy()
    cell = atoms.cell.array.copy()
    cell[0, 1] = 1e-15
    noisy.set_cell(cell)
    assert mdl.State.from_atoms(noisy).box.tolist() == np.diag(atoms.cell.array).tolist()
    cluster = Atoms("Ar13", positions=atoms.positions[:13], pbc=False)
    sheared = cluster.copy()
    sheared.set_cell([[30, 0, 0], [5, 30, 0], [0, 3, 30]])
    for a in (cluster, sheared):
        a.calc = MDLearnCalculator(lj_pair()[0])
    assert sheared.get_potential_energy() == cluster.get_potential_energy()


# --------------------------------------------------------------------------------------------- caching
def test_caching_follows_the_ase_contract():
    atoms = ar_crystal(rattle=0.05)
    calc = MDLearnCalculator(lj_pair()[0])
    atoms.calc = calc
    f = atoms.get_forces()
    assert calc.evaluations == 1 and calc.nlist.builds == 1
    atoms.get_forces()
    atoms.get_potential_energy()
    atoms.get_potential_energy(force_consistent=True)
    assert calc.evaluations == 1
    assert not calc.calculation_required(atoms, ["energy", "forces"])
    assert calc.calculation_required(atoms, ["stress"])
    atoms.get_stress()
    assert calc.evaluations == 2   # the virial is computed from the first stress request on
    atoms.get_potential_energies()
    assert calc.evaluations == 2
    assert calc.check_state(atoms) == []

    # what does not change the energy does not trigger a calculation
    atoms.set_momenta(np.ones((len(atoms), 3)))
    atoms.set_masses(np.full(len(atoms), 40.0))
    atoms.set_initial_magnetic_moments(np.ones(len(atoms)))
    assert np.array_equal(atoms.get_forces(), f) and calc.evaluations == 2

    # a small move: new evaluation (stress included now), same neighbor list
    state = calc.state
    atoms.positions[5, 0] += 0.01
    assert calc.check_state(atoms) == ["positions"]
    assert not np.array_equal(atoms.get_forces(), f)
    assert "stress" in calc.results and calc.evaluations == 3 and calc.nlist.builds == 1
    atoms.get_stress()
    assert calc.evaluations == 3
    # a move beyond skin/2 rebuilds the list; the state object stays
    atoms.positions[7] += 0.8
    atoms.get_forces()
    assert calc.evaluations == 4 and calc.nlist.builds == 2 and calc.state is state

    def fresh(a):
        b = a.copy()
        b.calc = MDLearnCalculator(lj_pair()[0])
        return b

    def same_as_fresh(a):
        b = fresh(a)
        assert a.get_potential_energy() == pytest.approx(b.get_potential_energy(), rel=1e-12)
        assert rel(a.get_forces(), b.get_forces()) < 1e-12
        if a.cell.rank == 3:
            assert rel(a.get_stress(), b.get_stress()) < 1e-12

    evaluations = calc.evaluations
    for change in (
        lambda a: a.set_initial_charges(np.full(len(a), 0.1)),               # charges
        lambda a: a.set_cell(a.cell * 1.02, scale_atoms=True),                # cell
        lambda a: a.set_cell(a.cell * 0.99, scale_atoms=False),               # cell alone
        lambda a: a.set_pbc([True, True, False]),                             # pbc
        lambda a: a.numbers.__setitem__(0, 36),                               # numbers (Kr)
        lambda a: a.pop(),                                                    # number of atoms
    ):
        change(atoms)
        assert calc.check_state(atoms)
        same_as_fresh(atoms)
        assert calc.evaluations == evaluations + 1
        evaluations += 1
    assert calc.state.n_atoms == len(atoms) == 255 and calc.state.type_names == ["Kr", "Ar"]

    calc.reset()
    assert calc.results == {} and calc.atoms is None and calc.state is None
    atoms.get_forces()
    assert calc.evaluations == evaluations + 1


def test_skin_shrinks_to_fit_small_cells_and_short_cells_raise():
    atoms = ar_crystal(cells=4)   # edges 21.04 Å
    atoms.calc = calc = MDLearnCalculator(lj_pair()[0], skin=3.0)
    atoms.get_forces()
    assert calc.nlist.skin == pytest.approx(0.5 * 21.04 - RC, rel=1e-9)
    small = ar_crystal(cells=3)   # edges 15.78 Å < 2 rc
    small.calc = MDLearnCalculator(lj_pair()[0])
    with pytest.raises(ValueError, match="shorter than 2"):
        small.get_forces()
    with pytest.raises(ValueError, match="skin"):
        MDLearnCalculator(lj_pair()[0], skin=-1)


def test_energies_need_terms_that_provide_them():
    class Tether:
        name, cutoff = "tether", None

        def attach(self, state):
            self.center = state.positions.mean(axis=0)

        def compute(self, state, nlist, request, out):
            d = state.positions - self.center
            out.forces -= 0.1 * d
            return 0.05 * float(np.sum(d * d)) if request.energy else 0.0

    atoms = Atoms("Ar4", positions=[[0, 0, 0], [4, 0, 0], [0, 4, 0], [0, 0, 4]])
    atoms.calc = MDLearnCalculator([lj_pair()[0], Tether()])
    assert np.isfinite(atoms.get_potential_energy())
    with pytest.raises(PropertyNotImplementedError, match="'tether'.*per-atom energies"):
        atoms.get_potential_energies()


# --------------------------------------------------------------------------------------------- example
def test_example_runs_fast(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("ase_calculator_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with one_blas_thread():
        module.main(["--cells", "4", "--steps", "20", "--out", str(tmp_path / "out")])
    assert (tmp_path / "out" / "md.traj").stat().st_size > 0
    printed = capsys.readouterr().out
    for text in ("ASE VelocityVerlet", "BFGS", "cell", "EMT"):
        assert text in printed
