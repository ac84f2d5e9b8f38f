"""Bad input is refused with a message naming the bad value; State's own observables and copies."""
import numpy as np
import pytest

import mdlearn as mdl


def _two_atoms(d=1.2, **kw):
    return mdl.State([[1.0, 1.0, 1.0], [1.0 + d, 1.0, 1.0]], box=[10.0, 10.0, 10.0], **kw)


def _lj_sim(st, cutoff=2.5, **lj):
    return mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=cutoff, **lj)]),
                          mdl.VelocityVerlet(dt=0.005))


# ------------------------------------------------------------------------------------------ shapes
@pytest.mark.parametrize(("positions", "match"), [
    (np.zeros((5, 2)), r"shape \(N, 3\).*got \(5, 2\)"),
    (np.zeros(3), r"got \(3,\)"),
    (np.zeros((0, 3)), r"N >= 1, got \(0, 3\)"),
    (np.zeros((2, 3, 1)), r"got \(2, 3, 1\)"),
])
def test_bad_position_shapes(positions, match):
    with pytest.raises(ValueError, match=match):
        mdl.State(positions, box=[5.0, 5.0, 5.0])


def test_bad_per_atom_shapes():
    x = np.arange(15.0).reshape(5, 3)
    with pytest.raises(ValueError, match=r"velocities must have shape \(5, 3\), got \(4, 3\)"):
        mdl.State(x, box=[20.0] * 3, velocities=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"types must have shape \(5,\), got \(2,\)"):
        mdl.State(x, box=[20.0] * 3, types=["A", "B"])
    with pytest.raises(ValueError, match=r"masses must be one value or have shape \(5,\), got shape \(3,\)"):
        mdl.State(x, box=[20.0] * 3, masses=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"charges .*shape \(5,\), got shape \(5, 1\)"):
        mdl.State(x, box=[20.0] * 3, charges=np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"box must be 3 lengths or a 3x3 matrix, got shape \(2,\)"):
        mdl.State(x, box=[20.0, 20.0])
    st = mdl.State(x, box=[20.0] * 3)
    with pytest.raises(ValueError, match=r"positions must have shape \(5, 3\), got \(6, 3\)"):
        st.positions = np.zeros((6, 3))


# ------------------------------------------------------------------------------------------ values
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_positions_and_velocities(bad):
    x = np.arange(12.0).reshape(4, 3)
    x[2, 1] = bad
    with pytest.raises(ValueError, match=rf"positions of atom 2 is not finite: \[6.0, {bad}, 8.0\]"):
        mdl.State(x, box=[20.0] * 3)
    st = mdl.State(np.arange(12.0).reshape(4, 3), box=[20.0] * 3)
    v = np.zeros((4, 3))
    v[3, 0] = bad
    with pytest.raises(ValueError, match=rf"velocities of atom 3 is not finite: \[{bad}, 0.0, 0.0\]"):
        st.velocities = v
    assert np.all(st.velocities == 0.0)  # refused values are not half-written


@pytest.mark.parametrize("bad", [-1.5, 0.0, np.nan])
def test_bad_masses(bad):
    masses = np.ones(4)
    masses[3] = bad
    with pytest.raises(ValueError, match=rf"atom 3 has mass {bad}"):
        mdl.State(np.arange(12.0).reshape(4, 3), box=[20.0] * 3, masses=masses)


def test_bad_box_values():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"got \[5.0, -5.0, 5.0\]"):
        mdl.State(x, box=[5.0, -5.0, 5.0])
    with pytest.raises(ValueError, match=r"box is required for periodic axes \(pbc=\[True, False, False\]\)"):
        mdl.State(x, box=None, pbc=(True, False, False))
    with pytest.raises(ValueError, match=r"integer types must be >= 0, got -1"):
        mdl.State(x, box=[5.0] * 3, types=[0, -1])
    with pytest.raises(ValueError, match="unknown units 'metric'"):
        mdl.State(x, box=[5.0] * 3, units="metric")


def test_triclinic_box_refused():
    box = [[8.0, 0.0, 0.0], [1.5, 8.0, 0.0], [0.0, 0.0, 8.0]]
    with pytest.raises(NotImplementedError, match=r"triclinic.*\[1.5, 8.0, 0.0\]"):
        mdl.State(np.ones((2, 3)), box=box)
    # a diagonal matrix is an orthorhombic box
    assert mdl.State(np.ones((2, 3)), box=np.diag([8.0, 9.0, 10.0])).box.tolist() == [8.0, 9.0, 10.0]


# ------------------------------------------------------------------------------------------ force field
def test_unknown_type_in_epsilon_dict():
    st = mdl.State([[0.0, 0, 0], [1.2, 0, 0], [0, 1.2, 0]], box=[10.0] * 3, types=["Ar", "Kr", "Ar"])
    lj = mdl.LennardJones(epsilon={"Ar": 1.0, "Xe": 2.0}, sigma=1.0)
    with pytest.raises(ValueError, match=r"epsilon has no value for types \['Kr'\]; known: \['Ar', 'Xe'\]"):
        mdl.ForceField([lj]).compute(st)
    lj = mdl.LennardJones(epsilon=1.0, sigma={"Ar": 1.0}, pairs={("Ar", "Ne"): (1.0, 1.0)})
    with pytest.raises(ValueError, match=r"sigma has no value for types \['Kr'\]"):
        mdl.ForceField([lj]).compute(st)
    lj = mdl.LennardJones(pairs={("Ar", "Ne"): (1.0, 1.0)})
    with pytest.raises(ValueError, match=r"unknown type 'Ne'"):
        mdl.ForceField([lj]).compute(st)
    with pytest.raises(ValueError, match=r"epsilon must be >= 0 .*got \[1.0, -2.0\]"):
        mdl.ForceField([mdl.LennardJones(epsilon={"Ar": 1.0, "Kr": -2.0})]).compute(st)


def test_overlapping_atoms_refused():
    with pytest.raises(ValueError, match=r"atoms 0 and 1 overlap: distance 0.3 < 0.5 sigma_ij = 0.5"):
        _lj_sim(_two_atoms(0.3))
    # across the periodic boundary too (minimum image distance 0.4)
    st = mdl.State([[0.1, 5.0, 5.0], [9.7, 5.0, 5.0]], box=[10.0] * 3)
    with pytest.raises(ValueError, match=r"distance 0.4 <"):
        mdl.ForceField([mdl.LennardJones()]).compute(st)
    # the limit uses the pair's own sigma: 0.7 is fine for A-A (sigma 1) but not for A-B (sigma 1.5)
    lj = {"sigma": {"A": 1.0, "B": 2.0}}
    _lj_sim(_two_atoms(0.7, types=["A", "A"]), cutoff=3.0, **lj)
    with pytest.raises(ValueError, match=r"distance 0.7 < 0.5 sigma_ij = 0.75"):
        _lj_sim(_two_atoms(0.7, types=["A", "B"]), cutoff=3.0, **lj)


def test_box_too_small_for_cutoff_and_skin():
    st = mdl.State([[1.0, 1, 1], [2.2, 1, 1]], box=[5.5, 8.0, 8.0])
    match = r"box length 5.5 along axis x is shorter than 2 \* \(cutoff \+ skin\) = 5.6"
    with pytest.raises(ValueError, match=match):
        mdl.ForceField([mdl.LennardJones(cutoff=2.5)]).compute(st)
    with pytest.raises(ValueError, match=match):  # an input error, not a SimulationError at step 1
        _lj_sim(st)
    with pytest.raises(ValueError, match=r"along axis z .* = 7"):
        mdl.Simulation(mdl.State([[1.0, 1, 1], [2.2, 1, 1]], box=[8.0, 8.0, 6.0]),
                       mdl.ForceField([mdl.LennardJones(cutoff=3.0)]), mdl.VelocityVerlet(dt=0.005), skin=0.5)
    # non-periodic axes may be as short as they like
    st = mdl.State([[1.0, 1, 1], [2.2, 1, 1]], box=[8.0, 8.0, 1.0], pbc=(True, True, False))
    assert np.isfinite(mdl.ForceField([mdl.LennardJones(cutoff=2.5)]).compute(st).energy)


@pytest.mark.parametrize("bad", [0.0, -0.005, float("nan"), float("inf")])
@pytest.mark.parametrize("cls", ["VelocityVerlet", "Langevin", "NoseHooverChain"])
def test_bad_dt_raises_and_names_value(cls, bad):
    kwargs = {} if cls == "VelocityVerlet" else {"temperature": 1.0}
    make = getattr(mdl, cls)
    with pytest.raises(ValueError, match=rf"dt must be positive and finite, got {bad}"):
        make(dt=bad, **kwargs)
    integ = make(dt=0.004, **kwargs)
    with pytest.raises(ValueError, match=rf"got {bad}"):
        integ.dt = bad
    assert integ.dt == 0.004  # unchanged after a refused value


def test_bad_thermostat_parameters():
    with pytest.raises(ValueError, match="temperature must be >= 0, got -1.0"):
        mdl.Langevin(dt=0.005, temperature=-1.0)
    with pytest.raises(ValueError, match="friction must be > 0, got 0.0"):
        mdl.Langevin(dt=0.005, temperature=1.0, friction=0.0)
    with pytest.raises(ValueError, match="tau must be > 0, got -0.5"):
        mdl.NoseHooverChain(dt=0.005, temperature=1.0, tau=-0.5)
    with pytest.raises(ValueError, match="chain must be a positive integer, got 1.5"):
        mdl.NoseHooverChain(dt=0.005, temperature=1.0, chain=1.5)


# ------------------------------------------------------------------------------------------ observables
@pytest.mark.parametrize("units", ["lj", "real"])
def test_set_temperature_exact_with_zero_momentum(units, random_state):
    rng = np.random.default_rng(1)
    st = random_state(300, [8.0, 9.0, 10.0])
    if units == "real":
        st = mdl.State(st.positions * 3.4, box=st.box * 3.4, types=["Ar"] * 200 + ["Kr"] * 100, units="real")
        target = 120.0
    else:
        st.masses = rng.uniform(1.0, 4.0, st.n_atoms)
        target = 1.7
    st.set_temperature(target, seed=5)
    assert st.temperature() == pytest.approx(target, rel=1e-13)
    momentum = st.masses @ st.velocities
    typical = np.sqrt(st.masses) @ np.abs(st.velocities) * np.sqrt(st.masses).mean()
    np.testing.assert_allclose(momentum, 0.0, atol=1e-13 * typical.max())
    # 3N - 3 degrees of freedom, and kinetic energy from m v^2 / 2 in the unit system's energy
    ke = 0.5 * np.sum(st.masses[:, None] * st.velocities**2)
    if units == "real":
        # 1 amu A^2 / fs^2 in eV, from CODATA: amu = 1.66053906660e-27 kg, e = 1.602176634e-19 C
        ke *= 1.66053906660e-27 * 1e10 / 1.602176634e-19
        kb = 8.617333262e-5  # eV / K
    else:
        kb = 1.0
    # ASE's constants are CODATA 2014, these 2018: they agree to a few parts in 1e7
    assert st.kinetic_energy() == pytest.approx(ke, rel=1e-6)
    assert st.temperature() == pytest.approx(2 * ke / ((3 * st.n_atoms - 3) * kb), rel=1e-6)
    # the same seed draws the same velocities; another seed others
    v = st.velocities.copy()
    st.set_temperature(target, seed=5)
    assert np.array_equal(st.velocities, v)
    st.set_temperature(target, seed=6)
    assert not np.allclose(st.velocities, v)
    with pytest.raises(ValueError, match="temperature must be >= 0, got -3"):
        st.set_temperature(-3)


def test_dict_round_trip_and_copies(random_state):
    st = random_state(50, [8.0, 8.0, 8.0], types="XY", velocities=True)
    st.masses = np.linspace(1.0, 2.0, 50)
    st.charges = np.linspace(-1.0, 1.0, 50)
    st.images[:] = np.arange(150).reshape(50, 3) % 5 - 2
    st.forces[:] = np.random.default_rng(2).standard_normal((50, 3))
    st.step, st.time = 1234, 6.17
    d = st.to_dict()
    back = mdl.State.from_dict(d)
    d2 = back.to_dict()
    assert d.keys() == d2.keys()
    for key in d:
        if isinstance(d[key], np.ndarray):
            assert np.array_equal(d[key], d2[key]), key
            assert d2[key].dtype == d[key].dtype, key
        else:
            assert d[key] == d2[key], key
    assert back.type_names == st.type_names and np.array_equal(back.types, st.types)
    assert back.temperature() == st.temperature()
    np.testing.assert_array_equal(back.unwrapped_positions(), st.unwrapped_positions())
    # copies are independent, snapshots read-only
    cp = st.copy()
    cp.positions[0, 0] += 1.0
    assert cp.positions[0, 0] != st.positions[0, 0]
    snap = st.snapshot()
    with pytest.raises(ValueError):
        snap.velocities[0, 0] = 0.0


def test_integer_types_round_trip():
    st = mdl.State(np.arange(9.0).reshape(3, 3) * 1.5, box=[20.0] * 3, types=[2, 0, 2])
    assert st.type_names == ["0", "1", "2"]
    back = mdl.State.from_dict(st.to_dict())
    assert back.type_names == ["0", "1", "2"]
    assert back.types.tolist() == [2, 0, 2]


def test_wrap_counts_images():
    st = mdl.State([[-0.5, 10.5, 25.0], [3.0, 3.0, 3.0]], box=[10.0, 10.0, 10.0])
    before = st.unwrapped_positions().copy()
    st.wrap()
    assert st.is_wrapped()
    np.testing.assert_allclose(st.positions[0], [9.5, 0.5, 5.0])
    assert st.images[0].tolist() == [-1, 1, 2]
    np.testing.assert_allclose(st.unwrapped_positions(), before)


def test_box_is_copied_and_contiguous():
    """A box given as the diagonal of a cell matrix (a strided, read-only view) is copied: wrapping works and the
    caller's array is never aliased."""
    cell = np.diag([4.0, 5.0, 6.0])
    st = mdl.State([[4.5, -1.0, 13.0]], box=np.diag(cell), units="lj")
    lengths = np.array([4.0, 5.0, 6.0])
    st2 = mdl.State([[0.0, 0.0, 0.0]], box=lengths, units="lj")
    st2.box = [8.0, 8.0, 8.0]
    assert lengths.tolist() == [4.0, 5.0, 6.0]
    st.wrap()
    np.testing.assert_allclose(st.positions, [[0.5, 4.0, 1.0]])
