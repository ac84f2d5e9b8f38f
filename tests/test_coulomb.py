"""Coulomb terms (Ewald, slab Ewald, direct sum) against references nobody here wrote.

* Madelung constants of NaCl and CsCl (published values, REFERENCES.md) from crystal energies;
* brute-force lattice sums over growing blocks of image cells (3D: cubes; slab: squares in the plane),
  extrapolated to an infinite block in the inverse block side h: the remainder of a cube sum is even in
  h (fitted with h^2, h^4, h^6), that of a 2D square sum odd (h, h^3, h^5). The 3D sum also carries the
  known surface term 2 pi M^2 / (3V) of a crystal in vacuum, removed by the oracle;
* forces and virial as finite-difference derivatives of the energy; the off-diagonal virial through
  its independence of the splitting parameter;
* energy conservation in NVE for a molten salt;
* the slab's energy independent of the vacuum padding once it is wide enough;
* the kernels against the term-by-term NumPy oracle (mdlearn.forces._reference), 1 and 2 threads;
* the prefactor in real units against CODATA constants from scipy (not ASE's).
"""
import numpy as np
import pytest
import scipy.constants as sc

import mdlearn as mdl
from mdlearn.forces import _reference as ref
from mdlearn.forces.base import ForceResult, Request
from mdlearn.forces.coulomb import coulomb_prefactor, ewald_parameters
from mdlearn.threads import openmp_enabled

MADELUNG = {"NaCl": 1.747564594633, "CsCl": 1.762674773071}
THREADS = [1, 2] if openmp_enabled() else [1]


def _compute(term, st, skin=0.0, energy=True, virial=True):
    """One evaluation with a list of exactly the term's cutoff (no skin: boxes here are small)."""
    ff = mdl.ForceField([term])
    ff.attach(st)
    nl = None if term.cutoff is None else mdl.NeighborList(term.cutoff, skin)
    return ff.compute(st, nlist=nl, energy=energy, virial=virial)


def _rock_salt(cells, nn=1.0, units="lj"):
    """Simple cubic lattice with alternating +-1 charges (NaCl structure), nearest neighbours at ``nn``."""
    idx = np.indices(cells).reshape(3, -1).T
    q = np.where(idx.sum(axis=1) % 2 == 0, 1.0, -1.0)
    types = np.where(q > 0, "Na", "Cl")
    return mdl.State((idx + 0.25) * nn, box=np.asarray(cells) * nn, charges=q, types=types, units=units)


def _random_neutral(rng, n, box, pbc=True, zero=0, scale=1.0):
    """n charges in ``box`` at random but at least ~0.3 (of the smallest spacing) apart, summing to 0."""
    from conftest import jittered_grid

    x = jittered_grid(box, n, rng, jitter=0.3)
    q = rng.uniform(-2, 2, n) * scale
    q[:zero] = 0.0
    q[zero:] -= q[zero:].mean()
    return mdl.State(x, box=box, pbc=pbc, charges=q)


# ------------------------------------------------------------------------------------------ Madelung
@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("crystal", ["NaCl", "CsCl"])
def test_madelung_constants(crystal, threads):
    """E per ion pair = -M q^2 / d with d the nearest-neighbour distance: M to 1e-8 (measured ~1e-12)."""
    mdl.set_num_threads(threads)
    if crystal == "NaCl":
        st, d = _rock_salt((4, 4, 4)), 1.0
    else:  # CsCl: bcc with the body centre oppositely charged, d = a sqrt(3) / 2
        st = mdl.build.lattice("bcc", cells=(3, 3, 3), lattice_constant=1.0)
        st.charges = np.tile([1.0, -1.0], st.n_atoms // 2)
        d = np.sqrt(3) / 2
    res = _compute(mdl.Ewald(accuracy=1e-12), st)
    madelung = -2 * d * res.energy / st.n_atoms
    assert madelung == pytest.approx(MADELUNG[crystal], rel=1e-8, abs=0)
    # a perfect crystal: no net force, and E ~ 1/L so that the virial trace is E
    assert np.abs(res.forces).max() < 1e-9
    assert np.trace(res.virial) == pytest.approx(res.energy, rel=1e-9)


def test_madelung_in_real_units_with_permittivity():
    """NaCl at d = 2.8201 Å in real units: E per ion pair = -M e^2 / (4 pi eps0 eps_r d), with e^2 / (4 pi
    eps0) from scipy's CODATA constants in eV Å. Tolerance 1e-7: the unit system takes ASE's CODATA 2014
    values, 8e-9 away from scipy's CODATA 2018."""
    e2 = sc.e / (4 * np.pi * sc.epsilon_0 * 1e-10)  # eV Å
    d, eps_r = 2.8201, 2.5
    st = _rock_salt((4, 4, 4), nn=d, units="real")
    res = _compute(mdl.Ewald(accuracy=1e-11, epsilon_r=eps_r), st)
    assert res.energy / (st.n_atoms / 2) == pytest.approx(-MADELUNG["NaCl"] * e2 / (eps_r * d), rel=1e-7)


def test_prefactor_conventions():
    """C = coulomb / eps_r; Bjerrum length: C = l_B k_B T (l_B in length units)."""
    e2 = sc.e / (4 * np.pi * sc.epsilon_0 * 1e-10)
    assert coulomb_prefactor(mdl.units.REAL, epsilon_r=78.5) == pytest.approx(e2 / 78.5, rel=1e-7)
    assert coulomb_prefactor(mdl.units.LJ, bjerrum_length=7.0) == 7.0
    assert coulomb_prefactor(mdl.units.LJ, bjerrum_length=7.0, temperature=2.0) == 14.0
    # water at 298.15 K: l_B = e^2 / (4 pi eps0 eps_r k_B T) ~ 7.1 Å reproduces C = e^2 / (4 pi eps0 eps_r)
    lb = e2 / (78.5 * sc.k / sc.e * 298.15)
    c = coulomb_prefactor(mdl.units.REAL, bjerrum_length=lb, temperature=298.15)
    assert c == pytest.approx(e2 / 78.5, rel=1e-6)


# ------------------------------------------------------------------------------------------ lattice sums
def _extrapolate(ms, values, powers, side):
    """Least-squares fit of values(m) = c0 + sum_p c_p h^p with h = 1 / side(m); returns c0."""
    h = 1.0 / np.asarray([side(m) for m in ms], dtype=float)
    a = np.stack([np.ones_like(h)] + [h**p for p in powers], axis=1)
    flat = np.asarray(values).reshape(len(ms), -1)
    return np.linalg.lstsq(a, flat, rcond=None)[0][0].reshape(np.shape(values[0]))


@pytest.mark.parametrize("shape", ["cubic", "elongated"])
def test_ewald_against_brute_force_lattice_sum(shape):
    """Small random neutral boxes: Ewald (tight accuracy) vs the direct sum over cubes of image cells,
    extrapolated in h = 1 / side (in cells of the shortest axis): energy to 1e-9, forces to 1e-8 of the
    largest force (measured ~1e-11)."""
    rng = np.random.default_rng(7)
    if shape == "cubic":
        box, n, cells = np.array([3.0, 3.0, 3.0]), 8, (lambda m: (m, m, m))
        ms, powers = [4, 6, 8, 12, 16], (2, 4, 6)
    else:  # (a, a, 3a): (2(3m+1) + 1) a = 3 (2m + 1) a is a cube
        box, n, cells = np.array([2.5, 2.5, 7.5]), 12, (lambda m: (3 * m + 1, 3 * m + 1, m))
        ms, powers = [3, 4, 6, 8, 10], (2, 4, 6, 8)
    st = _random_neutral(rng, n, box)
    cutoff = 0.45 * box.min()
    res = _compute(mdl.Ewald(accuracy=1e-12, cutoff=cutoff), st)
    sums = [ref.coulomb_lattice_sum(st.positions, st.charges, box, cells(m)) for m in ms]
    side = (lambda m: 2 * m + 1) if shape == "cubic" else (lambda m: 3 * (2 * m + 1))
    energy = _extrapolate(ms, [s.energy for s in sums], powers, side)
    forces = _extrapolate(ms, [s.forces for s in sums], powers, side)
    assert energy == pytest.approx(res.energy, rel=1e-9)
    np.testing.assert_allclose(forces, res.forces, rtol=0, atol=1e-8 * np.abs(res.forces).max())
    # the extrapolation matters: the largest block alone is off by much more than the tolerance
    assert abs(sums[-1].energy - res.energy) > 1e-6 * abs(res.energy)


def test_slab_against_brute_force_square_sum():
    """Slab Ewald (Yeh–Berkowitz) vs the direct sum over (2m+1)^2 image cells in the plane, extrapolated
    in h = 1 / (2m + 1) with odd powers: energy to 1e-9, forces to 1e-8 of the largest force."""
    rng = np.random.default_rng(3)
    box = np.array([3.0, 3.0, 2.5])
    st = _random_neutral(rng, 10, box, pbc=(True, True, False))
    res = _compute(mdl.Ewald(accuracy=1e-12, cutoff=1.4, slab=True, slab_factor=6.0), st)
    ms = [16, 24, 32, 48, 64]
    sums = []
    for m in ms:
        g = np.arange(-m, m + 1)
        shifts = np.stack(np.meshgrid(g, g, [0], indexing="ij"), axis=-1).reshape(-1, 3) * box
        sums.append(_square_sum(st.positions, st.charges, shifts))
    side = lambda m: 2 * m + 1  # noqa: E731
    energy = _extrapolate(ms, [s[0] for s in sums], (1, 3, 5), side)
    forces = _extrapolate(ms, [s[1] for s in sums], (1, 3, 5), side)
    assert energy == pytest.approx(res.energy, rel=1e-9)
    np.testing.assert_allclose(forces, res.forces, rtol=0, atol=1e-8 * np.abs(res.forces).max())


def _square_sum(x, q, shifts):
    d0 = x[:, None, :] - x[None, :, :]
    qq = q[:, None] * q[None, :]
    d = d0[None] + shifts[:, None, None, :]
    r2 = np.einsum("mijk,mijk->mij", d, d)
    r2[r2 == 0] = np.inf
    rinv = 1 / np.sqrt(r2)
    return 0.5 * np.einsum("ij,mij->", qq, rinv), np.einsum("ij,mij,mijk->ik", qq, rinv**3, d)


def _square_sheet_potential(p, corners, zw, density):
    """Potential (prefactor 1) at points p of a uniformly charged rectangle [x1, x2] x [y1, y2] in the plane
    z = zw, from the closed-form integral of 1 / r over the rectangle."""
    (x1, x2), (y1, y2) = corners
    w = p[:, 2] - zw
    total = np.zeros(len(p))
    for X, sx in ((x2, 1), (x1, -1)):
        for Y, sy in ((y2, 1), (y1, -1)):
            u, v = X - p[:, 0], Y - p[:, 1]
            r = np.sqrt(u * u + v * v + w * w)
            total += sx * sy * (u * np.log(v + r) + v * np.log(u + r) - w * np.arctan(u * v / (w * r)))
    return density * total


def test_charged_slab_against_brute_force_square_sum():
    """Particles with a net charge between two unequal wall sheets that neutralise it (slab Ewald with
    ``surface_charge``, Ballenegger–Arnold–Cerdà term) vs the direct sum over (2m+1)^2 image cells plus the
    two sheets cut to the same square (closed-form potential, forces by central differences), extrapolated in
    1 / (2m + 1): forces to 1e-7 of the largest force (measured ~1e-8), and the energy change between two
    configurations to 1e-9 (the finite sheets' self energy is a constant)."""
    rng = np.random.default_rng(3)
    box = np.array([3.0, 3.0, 2.5])
    st = _random_neutral(rng, 10, box, pbc=(True, True, False))
    st.charges = st.charges + 0.13
    walls = -st.charges.sum() / (box[0] * box[1]) * np.array([0.25, 0.75])
    term = mdl.Ewald(accuracy=1e-12, cutoff=1.4, slab=True, slab_factor=6.0, surface_charge=walls)
    ms = [16, 24, 32, 48, 64]
    side = lambda m: 2 * m + 1  # noqa: E731

    def brute_force(x, m):
        g = np.arange(-m, m + 1)
        energy, forces = _square_sum(x, st.charges, np.stack(np.meshgrid(g, g, [0], indexing="ij"),
                                                               axis=-1).reshape(-1, 3) * box)
        corners = ((-m * box[0], (m + 1) * box[0]), (-m * box[1], (m + 1) * box[1]))
        phi = lambda p: (_square_sheet_potential(p, corners, 0.0, walls[0])  # noqa: E731
                         + _square_sheet_potential(p, corners, box[2], walls[1]))
        step = 1e-5
        for a in range(3):
            d = np.eye(3)[a] * step
            forces[:, a] -= st.charges * (phi(x + d) - phi(x - d)) / (2 * step)
        return energy + st.charges @ phi(x), forces

    energies = []
    for x in (st.positions, st.positions + rng.normal(0, 0.05, st.positions.shape)):
        st.positions = x
        res = _compute(term, st)
        sums = [brute_force(st.positions, m) for m in ms]
        forces = _extrapolate(ms, [s[1] for s in sums], (1, 3, 5), side)
        np.testing.assert_allclose(forces, res.forces, rtol=0, atol=1e-7 * np.abs(res.forces).max())
        energies.append((_extrapolate(ms, [s[0] for s in sums], (1, 3, 5), side), res.energy))
    (ref0, e0), (ref1, e1) = energies
    assert e1 - e0 == pytest.approx(ref1 - ref0, rel=1e-9)
    # the largest square alone is off by far more than the tolerance
    assert np.abs(sums[-1][1] - res.forces).max() > 1e-4 * np.abs(res.forces).max()


def test_slab_energy_independent_of_padding():
    """With the Yeh–Berkowitz term the energy stops depending on the padded length (factor 4 vs 10 agree to
    1e-8, 6 vs 10 to 1e-11); without it, it changes by about 0.1% from 4 to 10."""
    rng = np.random.default_rng(11)
    box = np.array([4.0, 4.5, 4.0])
    st = _random_neutral(rng, 40, box, pbc=(True, True, False))
    e, raw = {}, {}
    for f in (3.0, 4.0, 6.0, 10.0):
        term = mdl.Ewald(accuracy=1e-12, cutoff=1.8, slab=True, slab_factor=f)
        e[f] = _compute(term, st).energy
        mz = st.charges @ st.positions[:, 2]
        raw[f] = e[f] - 2 * np.pi * mz**2 / (np.prod(box) * f)
    assert abs(e[3.0] - e[10.0]) < 1e-5 * abs(e[10.0])
    assert abs(e[4.0] - e[10.0]) < 1e-8 * abs(e[10.0])
    assert abs(e[6.0] - e[10.0]) < 1e-11 * abs(e[10.0])
    assert abs(raw[4.0] - raw[10.0]) > 1e-4 * abs(e[10.0])


def test_charged_slab_energy_independent_of_padding():
    """Charged particles between neutralising wall sheets: the Ballenegger–Arnold–Cerdà term makes the
    energy independent of the padded length too (factor 4 vs 10 to 1e-7, 6 vs 10 to 1e-11)."""
    rng = np.random.default_rng(11)
    box = np.array([4.0, 4.5, 4.0])
    st = _random_neutral(rng, 40, box, pbc=(True, True, False))
    st.charges = st.charges + 0.1
    each_wall = -0.5 * st.charges.sum() / (box[0] * box[1])
    e = {f: _compute(mdl.Ewald(accuracy=1e-12, cutoff=1.8, slab=True, slab_factor=f, surface_charge=each_wall),
                     st).energy for f in (4.0, 6.0, 10.0)}
    assert abs(e[4.0] - e[10.0]) < 1e-7 * abs(e[10.0])
    assert abs(e[6.0] - e[10.0]) < 1e-11 * abs(e[10.0])


# ------------------------------------------------------------------------------------------ derivatives
def _energy_at(ff, st, nl, positions=None, box=None):
    if box is not None:
        st.box = box
    if positions is not None:
        st.positions = positions
    return ff.compute(st, nlist=nl, virial=False).energy


@pytest.mark.parametrize("geometry", ["periodic", "slab", "charged", "charged-slab"])
def test_forces_and_virial_are_energy_derivatives(geometry):
    """Central differences (h = 1e-5): forces to 1e-7 of the largest force; the virial's diagonal
    W_aa = -dE/d eps_aa (box and positions scaled along a) to 1e-7 of |E|."""
    rng = np.random.default_rng(5)
    box = np.array([5.0, 5.5, 6.0])
    slab = geometry.endswith("slab")
    st = _random_neutral(rng, 60, box, pbc=(True, True, False) if slab else True, zero=5)
    kw = {"slab": True} if slab else {}
    if geometry == "charged":
        st.charges = st.charges + 0.05
        kw = {"allow_net_charge": True}
    sheets = None
    if geometry == "charged-slab":  # unequal wall sheets: a field between the walls too
        st.charges = st.charges + 0.05
        sheets = -st.charges.sum() / (box[0] * box[1]) * np.array([0.2, 0.8])
        kw["surface_charge"] = sheets
    term = mdl.Ewald(accuracy=1e-10, **kw)
    ff = mdl.ForceField([term])
    ff.attach(st)
    nl = mdl.NeighborList(term.cutoff, 0.3)
    res = ff.compute(st, nlist=nl)
    forces, virial = res.forces.copy(), res.virial.copy()
    x0, b0 = st.positions.copy(), st.box.copy()
    h = 1e-5
    fd = np.zeros((8, 3))
    for row, i in enumerate(rng.choice(st.n_atoms, 8, replace=False)):
        for a in range(3):
            xp, xm = x0.copy(), x0.copy()
            xp[i, a] += h
            xm[i, a] -= h
            fd[row, a] = -(_energy_at(ff, st, nl, xp) - _energy_at(ff, st, nl, xm)) / (2 * h)
        np.testing.assert_allclose(fd[row], forces[i], rtol=0, atol=1e-7 * np.abs(forces).max())
    for a in range(3):
        s = np.ones(3)
        e = []
        for sign in (1, -1):
            s[a] = 1 + sign * h
            if sheets is not None:  # the walls keep their charge: the density follows the area
                term.surface_charge = tuple(sheets / (s[0] * s[1]))
            e.append(_energy_at(ff, st, nl, x0 * s, b0 * s))
        ep, em = e
        assert virial[a, a] == pytest.approx(-(ep - em) / (2 * h), abs=1e-7 * abs(res.energy))
    _energy_at(ff, st, nl, x0, b0)


def test_off_diagonal_virial_independent_of_alpha():
    """The split into real and reciprocal parts depends on alpha, the total does not: the full virial
    tensor (off-diagonal terms included, where finite differences would need a sheared box) agrees
    between two quite different alphas, as do energy and forces."""
    rng = np.random.default_rng(9)
    st = _random_neutral(rng, 50, np.array([5.0, 5.5, 6.0]))
    results = [_compute(mdl.Ewald(accuracy=1e-12, cutoff=2.4, alpha=a), st) for a in (2.4, 3.0)]
    w1, w2 = (r.virial for r in results)
    assert np.abs(w1 - np.diag(np.diag(w1))).max() > 1e-2 * np.abs(w1).max()  # the test has teeth
    np.testing.assert_allclose(w1, w2, rtol=0, atol=1e-9 * np.abs(w1).max())
    assert results[0].energy == pytest.approx(results[1].energy, rel=1e-11)
    np.testing.assert_allclose(results[0].forces, results[1].forces, atol=1e-9 * np.abs(w1).max())


# ------------------------------------------------------------------------------------------ oracle
@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("case", ["cubic", "noncubic", "zeros", "charged", "slab"])
def test_kernels_match_oracle(case, threads):
    """Real-space kernel, structure factor and reciprocal forces vs the NumPy oracle (full k sphere,
    direct exp(i k.r)), to 1e-10."""
    mdl.set_num_threads(threads)
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    box = np.array([6.0, 6.0, 6.0]) if case == "cubic" else np.array([5.2, 6.3, 7.1])
    pbc = (True, True, False) if case == "slab" else True
    st = _random_neutral(rng, 150, box, pbc=pbc, zero=30 if case == "zeros" else 0)
    kw = {"slab": True, "slab_factor": 3.0} if case == "slab" else {}
    if case == "charged":
        st.charges = st.charges + 0.1
        kw = {"allow_net_charge": True}
    term = mdl.Ewald(accuracy=1e-7, epsilon_r=2.0, **kw)
    res = _compute(term, st, skin=0.3)
    p = term.parameters
    o = ref.ewald_coulomb(st.positions, st.charges, box, p.alpha, p.cutoff, p.kcut, prefactor=0.5,
                          slab_factor=3.0 if case == "slab" else None)
    assert res.energy == pytest.approx(o.energy, rel=1e-10)
    np.testing.assert_allclose(res.forces, o.forces, rtol=0, atol=1e-10 * np.abs(o.forces).max())
    np.testing.assert_allclose(res.virial, o.virial, rtol=0, atol=1e-10 * np.abs(o.virial).max())


@pytest.mark.parametrize("threads", THREADS)
def test_direct_coulomb_matches_oracle_and_derivatives(threads):
    """DirectCoulomb: all pairs vs the oracle (1e-12), forces vs finite differences (1e-7), a net charge
    allowed; the pair virial equals -dE/d eps for an open system (E ~ 1/scale: tr W = E)."""
    mdl.set_num_threads(threads)
    rng = np.random.default_rng(2)
    from conftest import jittered_grid

    x = jittered_grid([6.0, 7.0, 8.0], 101, rng, jitter=0.3)
    q = rng.uniform(-1.5, 1.0, len(x))
    st = mdl.State(x.copy(), pbc=False, charges=q, units="real", masses=1.0)
    term = mdl.DirectCoulomb(epsilon_r=4.0)
    res = _compute(term, st)
    c = mdl.units.REAL.coulomb / 4.0
    o = ref.direct_coulomb(x, q, prefactor=c)
    assert res.energy == pytest.approx(o.energy, rel=1e-12)
    np.testing.assert_allclose(res.forces, o.forces, rtol=0, atol=1e-12 * np.abs(o.forces).max())
    np.testing.assert_allclose(res.virial, o.virial, rtol=0, atol=1e-12 * np.abs(o.virial).max())
    assert np.trace(res.virial) == pytest.approx(res.energy, rel=1e-12)
    ff = mdl.ForceField([term])
    h = 1e-5
    for i in (0, 50, 100):
        for a in range(3):
            xp, xm = x.copy(), x.copy()
            xp[i, a] += h
            xm[i, a] -= h
            st.positions = xp
            ep = ff.compute(st).energy
            st.positions = xm
            em = ff.compute(st).energy
            assert -(ep - em) / (2 * h) == pytest.approx(res.forces[i, a], abs=1e-7 * np.abs(res.forces).max())


def test_ewald_of_a_cluster_in_a_huge_box_approaches_direct_sum():
    """Two ions near each other in a large periodic box: the Ewald energy approaches the isolated pair's
    -C/r, up to the images' dipole interactions, which vanish as the box grows (~ 1/L^3)."""
    errors = []
    for length in (20.0, 40.0):
        st = mdl.State([[1.0, 1.0, 1.0], [2.5, 1.0, 1.0]], box=[length] * 3, charges=[1.0, -1.0])
        errors.append(_compute(mdl.Ewald(accuracy=1e-8), st).energy + 1 / 1.5)
    assert abs(errors[1]) < 2e-4 and abs(errors[0] / errors[1]) == pytest.approx(8.0, rel=0.05)


# ------------------------------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("accuracy, cutoff", [(1e-3, None), (1e-4, 2.0), (1e-6, None), (1e-6, 3.0)])
def test_requested_accuracy_is_met(accuracy, cutoff):
    """The RMS force error against a tight Ewald, relative to F0 = C q_rms^2 / a^2, matches the requested
    accuracy (an estimate) within a factor 1.5 either way, for a disordered salt."""
    rng = np.random.default_rng(4)
    box = np.array([9.0, 9.0, 10.0])
    st = _random_neutral(rng, 400, box)
    st.charges = np.where(np.arange(400) % 2 == 0, 1.0, -1.0)
    res = _compute(mdl.Ewald(accuracy=accuracy, cutoff=cutoff), st, skin=0.3)
    tight = _compute(mdl.Ewald(accuracy=1e-12), st, skin=0.3)
    a2 = (st.volume / st.n_atoms) ** (2 / 3)
    f0 = np.mean(st.charges**2) / a2
    err = np.sqrt(np.mean(np.sum((res.forces - tight.forces) ** 2, axis=1))) / f0
    assert accuracy / 1.5 < err < 1.5 * accuracy


def test_parameters_follow_the_estimates():
    p = ewald_parameters([10.0, 10.0, 10.0], 1000, accuracy=1e-5, cutoff=3.5)
    assert p.cutoff == 3.5 and p.real_error == pytest.approx(1e-5 / np.sqrt(2), rel=1e-6)
    assert p.kspace_error == pytest.approx(1e-5 / np.sqrt(2), rel=1e-6)
    q = ewald_parameters([10.0, 10.0, 10.0], 1000, accuracy=1e-5)  # default cutoff: balanced, capped
    assert 0 < q.cutoff <= 4.0


# ------------------------------------------------------------------------------------------ NVE
def _molten_salt(cells=(4, 4, 4), density=0.4):
    st = _rock_salt(cells, nn=density ** (-1 / 3))
    st.wrap()
    return st


def _melt_and_run_nve(cells=(4, 4, 4), dt=0.002, melt_steps=500, nve_time=4.0, every=10):
    """Restricted primitive model melt (WCA ions, Bjerrum length 5 sigma, T* = 1): melted with Langevin,
    then velocity Verlet; returns (total energies, kinetic energies, positions after the melt, state)."""
    st = _molten_salt(cells)
    ff = mdl.ForceField([mdl.LennardJones(cutoff=2 ** (1 / 6), shift=True),
                         mdl.Ewald(accuracy=1e-6, bjerrum_length=5.0)])
    ff.attach(st)  # the Ewald cutoff is chosen from the box: attach before the simulation builds its list
    st.set_temperature(2.0, seed=1)
    sim = mdl.Simulation(st, ff, mdl.Langevin(dt=0.002, temperature=1.0, friction=1.0, seed=2))
    sim.run(melt_steps, progress=False)
    x_melt = st.positions.copy()
    sim = mdl.Simulation(st, ff, mdl.VelocityVerlet(dt=dt))
    e, ke = [], []
    sim.add_reporter((lambda s: (e.append(s.total_energy), ke.append(s.kinetic_energy)), every))
    sim.run(int(round(nve_time / dt)), progress=False)
    return np.array(e), np.array(ke), x_melt, st


def test_nve_energy_conservation_molten_salt():
    """64 ions, 2000 velocity-Verlet steps (dt = 0.002, 4 tau) after melting: the linear drift of the total
    energy stays below 2e-3 and every deviation below 1e-2 of the kinetic energy's own fluctuation
    (measured ~1e-4 and ~1e-3)."""
    e, ke, x_melt, st = _melt_and_run_nve()
    t = np.arange(len(e))
    drift = np.polyfit(t, e, 1)[0] * (t[-1] - t[0])
    assert abs(drift) < 2e-3 * np.std(ke)
    assert np.abs(e - e[0]).max() < 1e-2 * np.std(ke)
    # it is a liquid: ions moved well away from where the melt left them
    d = ref.minimum_image(st.positions - x_melt, st.box, True)
    assert np.sqrt(np.mean(np.sum(d**2, axis=1))) > 0.5


@pytest.mark.slow
def test_nve_fluctuation_scales_as_dt_squared_molten_salt():
    """216 ions, 8 tau at dt = 0.002 and 0.001: the fluctuation of the total energy about its trend falls by
    ~4 when dt halves (velocity Verlet's shadow energy), i.e. the Ewald forces are the energy's gradient
    all along the trajectory."""
    spread = {}
    for dt in (0.002, 0.001):
        e, ke, _, _ = _melt_and_run_nve(cells=(6, 6, 6), dt=dt, nve_time=8.0, every=int(round(0.02 / dt)))
        k = np.arange(len(e))
        spread[dt] = np.std(e - np.polyval(np.polyfit(k, e, 1), k))
    assert np.log2(spread[0.002] / spread[0.001]) == pytest.approx(2.0, abs=0.4)


# ------------------------------------------------------------------------------------------ bad input
def test_non_neutral_box_raises_with_the_net_charge():
    st = _rock_salt((4, 4, 4))
    st.charges = st.charges + np.r_[0.5, np.zeros(63)]
    with pytest.raises(ValueError, match=r"net charge of \+0\.5.*allow_net_charge=True"):
        _compute(mdl.Ewald(), st)
    with pytest.raises(ValueError, match=r"net charge of \+0\.5.*slab"):
        slab = mdl.State(st.positions, box=st.box, pbc=(True, True, False), charges=st.charges)
        _compute(mdl.Ewald(slab=True), slab)
    with pytest.raises(ValueError, match=r"particles carry \+0\.5 and the wall sheets -1 .*neutral as a whole"):
        _compute(mdl.Ewald(slab=True, surface_charge=-0.5 / (st.box[0] * st.box[1])), slab)
    with pytest.raises(ValueError, match="surface_charge needs slab=True"):
        mdl.Ewald(surface_charge=0.1)
    with pytest.raises(ValueError, match=r"surface_charge must be .*\(lower, upper\), got \[1, 2, 3\]"):
        mdl.Ewald(slab=True, surface_charge=[1, 2, 3])
    # charges changed after attach are caught at the next evaluation
    neutral = _rock_salt((4, 4, 4))
    ff = mdl.ForceField([mdl.Ewald()])
    ff.compute(neutral)
    neutral.charges = neutral.charges * np.r_[2.0, np.ones(63)]
    with pytest.raises(ValueError, match=r"net charge of \+1"):
        ff.compute(neutral)


def test_background_energy_for_a_charged_box():
    """A uniform background makes a lone charge's energy the Wigner-like constant -C xi / (2L) with
    xi = 2.837297479 (the sc lattice of point charges in a background, Nijboer and de Wette)."""
    st = mdl.State([[1.0, 2.0, 3.0]], box=[4.0, 4.0, 4.0], charges=[1.0])
    res = _compute(mdl.Ewald(accuracy=1e-12, allow_net_charge=True), st)
    assert res.energy == pytest.approx(-2.837297479 / (2 * 4.0), rel=1e-8)


@pytest.mark.parametrize("pbc, term, match", [
    (False, mdl.Ewald, "DirectCoulomb"),
    ((True, True, False), mdl.Ewald, "slab=True"),
    ((True, False, True), mdl.Ewald, "periodic on all axes"),
    (True, mdl.DirectCoulomb, "open boundaries"),
])
def test_wrong_geometry_raises(pbc, term, match):
    st = mdl.State([[0.5, 0.5, 0.5], [2.0, 2.0, 2.0]], box=[8.0, 8.0, 8.0], pbc=pbc, charges=[1.0, -1.0])
    with pytest.raises(ValueError, match=match):
        mdl.ForceField([term()]).attach(st)


def test_other_bad_input():
    st = _rock_salt((4, 4, 4))
    with pytest.raises(ValueError, match="bjerrum_length already contains"):
        mdl.ForceField([mdl.Ewald(bjerrum_length=7.0, epsilon_r=78.5)]).attach(st)
    real = _rock_salt((4, 4, 4), nn=2.8, units="real")
    with pytest.raises(ValueError, match="needs temperature"):
        mdl.ForceField([mdl.Ewald(bjerrum_length=7.0)]).attach(real)
    with pytest.raises(ValueError, match="explicit alpha needs an explicit cutoff"):
        mdl.ForceField([mdl.Ewald(alpha=2.0)]).attach(st)
    with pytest.raises(ValueError, match="exceeds half the shortest"):
        mdl.ForceField([mdl.Ewald(cutoff=2.5)]).attach(st)
    slab = mdl.State(st.positions, box=[4.0, 4.0, 0.0], pbc=(True, True, False), charges=st.charges)
    with pytest.raises(ValueError, match="slab height"):
        mdl.ForceField([mdl.Ewald(slab=True)]).attach(slab)
    # a neighbor list shorter than the real-space cutoff is refused, not silently used
    term = mdl.Ewald(accuracy=1e-6)
    mdl.ForceField([term]).attach(st)
    nl = mdl.NeighborList(1.0, 0.0)
    nl.build(st)
    with pytest.raises(ValueError, match="real-space cutoff"):
        term.compute(st, nl, Request(), ForceResult(st.n_atoms))
    # slab charges wandering beyond the padded cell
    box = np.array([5.0, 5.0, 2.0])
    wide = mdl.State([[1.0, 1.0, 0.5], [2.0, 2.0, 1.5]], box=box, pbc=(True, True, False), charges=[1.0, -1.0])
    term = mdl.Ewald(slab=True, cutoff=1.5)
    ff = mdl.ForceField([term])
    ff.compute(wide)
    wide.positions = [[1.0, 1.0, 0.5], [2.0, 2.0, 5.5]]
    with pytest.raises(ValueError, match="increase slab_factor"):
        ff.compute(wide)
