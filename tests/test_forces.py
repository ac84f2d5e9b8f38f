"""Forces and virial as derivatives of the energy (finite differences), Newton's third law, and the
long-range tail corrections against closed forms and numerical quadrature.

Finite differences need care with a truncated potential:
* the energy must be continuous, hence ``shift=True`` (an unshifted pair crossing the cutoff makes E jump
  by u(rc));
* even shifted, the force jumps at the cutoff, so no pair may lie within the finite-difference step of
  rc: every test asserts this about its (seeded) configuration instead of hoping for it;
* the step h balances the O(h^2) truncation error against round-off of a total energy of ~10^3:
  central differences with h ~ 1e-5 give ~1e-8 relative accuracy here, well inside the 1e-6 tolerance.
"""
import numpy as np
import pytest
from scipy.integrate import quad

import mdlearn as mdl
from mdlearn.forces import _reference as ref

CUTOFF = 2.5
H = 1e-5
TWO_TYPES = {"epsilon": {"A": 1.0, "B": 1.6}, "sigma": {"A": 1.0, "B": 1.25}}


def _energy(ff, st, positions, box=None):
    trial = mdl.State(positions, box=st.box if box is None else box, pbc=st.pbc, types=st.types)
    trial.type_names = st.type_names
    return ff.compute(trial, energy=True, virial=False).energy


def _pair_distances(st):
    box = st.box if st.pbc.any() else None
    _, _, rij = ref.pair_vectors(st.positions, box, st.pbc)
    return np.linalg.norm(rij, axis=1)


def _step_clear_of_cutoff(st, step, stretch):
    """The finite-difference step, reduced if needed so that no pair distance, changed by at most
    ``stretch * step``, can cross the cutoff (where the force jumps)."""
    gap = np.min(np.abs(_pair_distances(st) - CUTOFF))
    step = min(step, 0.25 * gap / stretch)
    assert step > 1e-8, f"a pair sits {gap:g} from the cutoff: too close for finite differences"
    return step


def _configs(name, random_state, lj_liquid):
    if name == "liquid":
        return lj_liquid(), {}
    if name == "mixture-slab":
        return random_state(400, [8.0, 9.0, 7.5], pbc=(True, True, False), types="AB"), TWO_TYPES
    if name == "mixture-open":
        return random_state(250, None, pbc=False, extent=[6.0, 7.0, 8.0], types="AB"), TWO_TYPES
    raise ValueError(name)


@pytest.mark.parametrize("name", ["liquid", "mixture-slab", "mixture-open"])
def test_forces_are_minus_energy_gradient(name, random_state, lj_liquid):
    st, kw = _configs(name, random_state, lj_liquid)
    ff = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, shift=True, **kw)])
    forces = ff.compute(st).forces.copy()
    x0 = st.positions.copy()

    # atoms whose pair distances all stay clear of the cutoff by much more than the step
    box = st.box if st.pbc.any() else None
    i, j, rij = ref.pair_vectors(x0, box, st.pbc)
    near = np.abs(np.linalg.norm(rij, axis=1) - CUTOFF) < 100 * H
    excluded = set(i[near].tolist()) | set(j[near].tolist())
    rng = np.random.default_rng(3)
    atoms = [a for a in rng.permutation(st.n_atoms) if a not in excluded][:12]
    assert len(atoms) == 12

    fd = np.empty((len(atoms), 3))
    for k, a in enumerate(atoms):
        for ax in range(3):
            xp, xm = x0.copy(), x0.copy()
            xp[a, ax] += H
            xm[a, ax] -= H
            fd[k, ax] = -(_energy(ff, st, xp) - _energy(ff, st, xm)) / (2 * H)
    err = np.linalg.norm(fd - forces[atoms]) / np.linalg.norm(forces[atoms])
    assert err < 1e-6

    # and one global directional derivative with every atom moving (no pair near rc, checked)
    u = rng.standard_normal(x0.shape)
    u /= np.abs(u).max()
    h = _step_clear_of_cutoff(st, 2e-6, stretch=2 * np.sqrt(3))  # |u_i| <= sqrt(3)
    de = (_energy(ff, st, x0 + h * u) - _energy(ff, st, x0 - h * u)) / (2 * h)
    assert -de == pytest.approx(np.sum(forces * u), rel=1e-6)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", ["liquid", "mixture-slab", "mixture-open"])
def test_zero_net_force(name, threads, random_state, lj_liquid):
    st, kw = _configs(name, random_state, lj_liquid)
    mdl.set_num_threads(threads)
    f = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, **kw)]).compute(st).forces
    total = np.abs(f).sum()
    assert total > 100.0
    np.testing.assert_allclose(f.sum(axis=0), 0.0, atol=1e-12 * total)


def _strained_energy(ff, st, strain):
    """E after the affine map x -> (1 + strain) x of positions and (periodic) box."""
    m = np.eye(3) + strain
    return _energy(ff, st, st.positions @ m.T, box=st.box * np.diag(m))


@pytest.mark.parametrize("name", ["liquid", "mixture-slab"])
def test_virial_diagonal_is_strain_derivative(name, random_state, lj_liquid):
    """W_aa = -dE/de_a for the scaling x_a -> (1 + e) x_a of positions and box along axis a."""
    st, kw = _configs(name, random_state, lj_liquid)
    ff = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, shift=True, **kw)])
    w = ff.compute(st).virial.copy()
    e = _step_clear_of_cutoff(st, 1e-6, stretch=CUTOFF)
    for a in range(3):
        strain = np.zeros((3, 3))
        strain[a, a] = e
        de = (_strained_energy(ff, st, strain) - _strained_energy(ff, st, -strain)) / (2 * e)
        assert w[a, a] == pytest.approx(-de, rel=1e-6, abs=1e-6 * np.abs(np.diag(w)).max())


def test_virial_full_tensor_of_open_cluster(random_state):
    """Without a box any linear map is allowed: x_a -> x_a + e x_b gives dE/de = -W_ab for all a, b."""
    st = random_state(250, None, pbc=False, extent=[6.0, 7.0, 8.0], types="AB")
    ff = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, shift=True, **TWO_TYPES)])
    w = ff.compute(st).virial.copy()
    e = _step_clear_of_cutoff(st, 1e-6, stretch=CUTOFF)
    fd = np.empty((3, 3))
    for a in range(3):
        for b in range(3):
            strain = np.zeros((3, 3))
            strain[a, b] = e
            fd[a, b] = -(_energy(ff, st, st.positions @ (np.eye(3) + strain).T)
                         - _energy(ff, st, st.positions @ (np.eye(3) - strain).T)) / (2 * e)
    np.testing.assert_allclose(w, fd, rtol=1e-6, atol=1e-6 * np.abs(w).max())
    assert abs(w[0, 1]) > 1.0  # off-diagonal entries are not trivially zero here


# ------------------------------------------------------------------------------------------ tail corrections
def _tail_parts(st, **kw):
    with_tail = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, tail=True, **kw)]).compute(st)
    without = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, **kw)]).compute(st)
    np.testing.assert_array_equal(with_tail.forces, without.forces)  # the tail adds no force
    dw = with_tail.virial - without.virial
    return with_tail.energy - without.energy, dw


@pytest.mark.parametrize(("eps", "sigma"), [(1.0, 1.0), (1.3, 1.1)])
@pytest.mark.parametrize("density", [0.5, 0.8442])
def test_tail_one_type_closed_form(eps, sigma, density):
    """U_tail/N = (8/3) pi rho eps s^3 [(1/3)(s/rc)^9 - (s/rc)^3] and
    P_tail = (16/3) pi rho^2 eps s^3 [(2/3)(s/rc)^9 - (s/rc)^3] (REFERENCES.md, in reduced units; eps and
    s = sigma restore the dimensions)."""
    st = mdl.build.lattice("fcc", cells=(4, 5, 6), density=density / sigma**3)
    rho = st.n_atoms / st.volume
    de, dw = _tail_parts(st, epsilon=eps, sigma=sigma)
    x = sigma / CUTOFF
    u_tail = 8.0 / 3.0 * np.pi * rho * eps * sigma**3 * (x**9 / 3.0 - x**3)
    p_tail = 16.0 / 3.0 * np.pi * rho**2 * eps * sigma**3 * (2.0 * x**9 / 3.0 - x**3)
    assert de / st.n_atoms == pytest.approx(u_tail, rel=1e-12)
    assert np.trace(dw) / (3 * st.volume) == pytest.approx(p_tail, rel=1e-12)
    np.testing.assert_allclose(dw, np.eye(3) * np.trace(dw) / 3, atol=1e-12 * abs(np.trace(dw)))


def test_tail_mixture_against_quadrature(random_state):
    """Two types, Lorentz–Berthelot: E_tail = 2 pi / V sum_ab N_a N_b int_rc^inf r^2 u_ab dr and
    tr W_tail = -2 pi / V sum_ab N_a N_b int_rc^inf r^3 u_ab'(r) dr, integrals by quadrature."""
    st = random_state(500, [8.2, 9.0, 10.1], types=["A"] * 150 + ["B"] * 350)
    de, dw = _tail_parts(st, **TWO_TYPES)
    counts = {t: int(np.sum(st.types == k)) for k, t in enumerate(st.type_names)}
    assert counts == {"A": 150, "B": 350}
    energy = virial = 0.0
    for a in "AB":
        for b in "AB":
            eps = np.sqrt(TWO_TYPES["epsilon"][a] * TWO_TYPES["epsilon"][b])
            sig = 0.5 * (TWO_TYPES["sigma"][a] + TWO_TYPES["sigma"][b])

            def u(r, eps=eps, sig=sig):
                return 4 * eps * ((sig / r) ** 12 - (sig / r) ** 6)

            def du(r, eps=eps, sig=sig):
                return -24 * eps * (2 * (sig / r) ** 12 - (sig / r) ** 6) / r

            energy += counts[a] * counts[b] * quad(lambda r, u=u: r * r * u(r), CUTOFF, np.inf,
                                                   epsabs=0, epsrel=1e-12)[0]
            virial -= counts[a] * counts[b] * quad(lambda r, du=du: r**3 * du(r), CUTOFF, np.inf,
                                                   epsabs=0, epsrel=1e-12)[0]
    energy *= 2 * np.pi / st.volume
    virial *= 2 * np.pi / st.volume
    assert de == pytest.approx(energy, rel=1e-9)
    assert np.trace(dw) == pytest.approx(virial, rel=1e-9)
    assert de < -1.0


def test_tail_refused_for_shift_or_non_periodic(random_state):
    st = random_state(100, [8.0, 8.0, 8.0], pbc=(True, True, False))
    with pytest.raises(ValueError, match=r"pbc=\[True, True, False\]"):
        mdl.ForceField([mdl.LennardJones(tail=True)]).compute(st)
    with pytest.raises(ValueError, match="shift=False with tail=True"):
        mdl.ForceField([mdl.LennardJones(tail=True, shift=True)]).compute(random_state(100, [8.0] * 3))
