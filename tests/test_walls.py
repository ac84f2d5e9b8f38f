"""Walls, the fixed sphere, the spherical cell and the WCA pair term: closed-form values, forces as minus
the energy gradient (central differences), the virial conventions, and refusals of bad input."""
import numpy as np
import pytest

import mdlearn as mdl
from mdlearn.forces import WCA, PlanarWalls, SphereBody, SphericalCell
from mdlearn.forces._reference import pair_vectors

RC = 2.0 ** (1.0 / 6.0)


def wca(x, sig, eps):
    s6 = (sig / x) ** 6
    return np.where(x < RC * sig, 4 * eps * (s6 * s6 - s6) + eps, 0.0)


def numeric_forces(ff, st, h=1e-6):
    x0 = st.positions.copy()
    num = np.zeros_like(x0)
    for i in range(len(x0)):
        for a in range(3):
            for s in (1, -1):
                st.positions[i, a] = x0[i, a] + s * h
                num[i, a] -= s * ff.compute(st).energy / (2 * h)
            st.positions[i, a] = x0[i, a]
    return num


def grid_points(n, lo, hi, rng, jitter=0.15):
    """``n`` points picked from a jittered grid filling the box [lo, hi]: no two closer than about
    (1 - 2 jitter) times the spacing."""
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    m = np.maximum(1, np.floor((hi - lo) / (np.prod(hi - lo) / n) ** (1 / 3))).astype(int)
    while np.prod(m) < n:
        m[np.argmax((hi - lo) / m)] += 1
    cells = np.stack(np.meshgrid(*(np.arange(k) for k in m), indexing="ij"), -1).reshape(-1, 3)
    pick = cells[rng.choice(len(cells), size=n, replace=False)]
    return lo + (pick + 0.5 + rng.uniform(-jitter, jitter, size=(n, 3))) * (hi - lo) / m


def slab_state(rng, n=40, z=(0.0, 6.0), types="AB", near_walls=8):
    """Atoms between walls at z[0] and z[1], ``near_walls`` of them within reach of each wall."""
    x = grid_points(n, [0, 0, z[0] + 0.45], [8, 8, z[1] - 0.45], rng)
    x[:near_walls, 2] = rng.uniform(z[0] + 0.32, z[0] + 0.75, near_walls)
    x[n - near_walls:, 2] = rng.uniform(z[1] - 0.75, z[1] - 0.32, near_walls)
    t = rng.choice(list(types), size=n)
    return mdl.State(x, box=[8.0, 8.0, z[1] - z[0]], pbc=(True, True, False), types=t)


# ----------------------------------------------------------------------------------------------- planar walls
@pytest.mark.parametrize("kind,cut", [("wca", None), ("lj93", None), ("lj93", 1.7)])
def test_planar_walls_forces_energy_virial(kind, cut, rng):
    st = slab_state(rng)
    walls = PlanarWalls(0.0, 6.0, sigma={"A": 0.5, "B": 0.7}, epsilon={"A": 1.0, "B": 1.5}, kind=kind,
                        wall_cutoff=cut)
    ff = mdl.ForceField([walls])
    res = ff.compute(st)
    assert res.energy > 0 or kind == "lj93" and cut is not None
    np.testing.assert_allclose(res.forces, numeric_forces(ff, st), rtol=1e-6, atol=1e-7)
    assert np.all(res.forces[:, :2] == 0)
    # W_zz = sum_i h_i F_i,z with h measured from the wall that pushes (lower wall: z, upper: z - 6)
    z, fz = st.positions[:, 2], res.forces[:, 2]
    expected = np.sum(np.where(z < 3.0, z, z - 6.0) * fz)
    assert res.virial[2, 2] == pytest.approx(expected, rel=1e-12)
    assert np.all(res.virial[[0, 1, 0, 0, 1], [0, 1, 1, 2, 2]] == 0)


def test_planar_wall_closed_forms():
    sig, eps = 0.5, 1.3
    h = np.array([0.4, 0.5, 0.55, RC * 0.5 - 1e-9, RC * 0.5 + 1e-9, 1.0])
    x = np.column_stack([np.zeros((len(h), 2)), h])
    st = mdl.State(x, box=[5, 5, 10], pbc=(True, True, False))
    walls = PlanarWalls(0.0, 10.0, sigma=sig, epsilon=eps)
    walls.attach(st)
    for k in range(len(h)):
        u, _ = walls._wall(h[k:k + 1], st.types[k:k + 1])
        assert u[0] == pytest.approx(float(wca(h[k], sig, eps)), rel=1e-12, abs=1e-12)
    u, _ = walls._wall(np.array([sig]), np.array([0]))
    assert u[0] == pytest.approx(eps)  # U = eps at h = sigma
    # 9-3: shifted to zero at its minimum, where the force vanishes; continuous there
    w93 = PlanarWalls(0.0, 10.0, sigma=sig, epsilon=eps, kind="lj93")
    w93.attach(st)
    hmin = (0.4) ** (1 / 6) * sig
    u, f = w93._wall(np.array([hmin * (1 - 1e-7), hmin * 0.9]), np.array([0, 0]))
    assert abs(u[0]) < 1e-10 and abs(f[0]) < 1e-5
    assert u[1] == pytest.approx(eps * (2 / 15 * (sig / (0.9 * hmin)) ** 9 - (sig / (0.9 * hmin)) ** 3)
                                 - eps * (2 / 15 * 0.4 ** -1.5 - 0.4 ** -0.5))


def test_planar_walls_bad_input(rng):
    st = slab_state(rng)
    with pytest.raises(ValueError, match="not between the walls"):
        mdl.ForceField([PlanarWalls(1.0, 6.0, sigma=0.5)]).compute(st.copy())
    with pytest.raises(ValueError, match="z_lo < z_hi"):
        PlanarWalls(6.0, 0.0).attach(st)
    with pytest.raises(ValueError, match="unknown wall kind"):
        PlanarWalls(0.0, 6.0, kind="hard").attach(st)
    with pytest.raises(ValueError, match="no value for types"):
        PlanarWalls(0.0, 6.0, sigma={"A": 0.5}).attach(st)
    # an atom pushed through a wall during a run is reported
    ff = mdl.ForceField([PlanarWalls(0.0, 6.0, sigma=0.5)])
    ff.compute(st)
    st.positions[3, 2] = 6.2
    with pytest.raises(ValueError, match="atom 3"):
        ff.compute(st)


# ----------------------------------------------------------------------------------------------- spheres
def shell_state(rng, n, r_lo, r_hi, center=(0.0, 0.0, 0.0), types="AB"):
    u = rng.standard_normal((n, 3))
    r = rng.uniform(r_lo, r_hi, size=(n, 1))
    x = np.asarray(center) + u / np.linalg.norm(u, axis=1)[:, None] * r
    return mdl.State(x, pbc=False, types=rng.choice(list(types), size=n))


def test_sphere_body_and_cell_forces_and_closed_forms(rng):
    c = np.array([0.5, -0.3, 0.2])
    st = shell_state(rng, 40, 3.05, 6.95, center=c)
    sig = {"A": 0.6, "B": 1.0}
    body = SphereBody(3.0, sigma=sig, epsilon={"A": 1.0, "B": 2.0}, center=c)
    cell = SphericalCell(7.0, sigma=sig, epsilon=1.0, center=c)
    ff = mdl.ForceField([body, cell])
    res = ff.compute(st)
    np.testing.assert_allclose(res.forces, numeric_forces(ff, st), rtol=1e-6, atol=1e-7)
    d = st.positions - c
    w = d.T @ res.forces
    np.testing.assert_allclose(res.virial, 0.5 * (w + w.T), rtol=1e-12, atol=1e-12)
    # closed forms: U = eps at contact (body: r = a + sigma/2; cell: r = R - sigma/2), zero beyond the range
    s = mdl.State([[3.0 + 0.3, 0, 0], [0, 3.0 + (RC - 0.5) * 1.0 + 1e-9, 0], [0, 0, 7.0 - 0.5]], pbc=False,
                  types=["A", "B", "B"])
    e_body = mdl.ForceField([SphereBody(3.0, sigma=sig, epsilon=1.0)]).compute(s).energies["sphere"]
    assert e_body == pytest.approx(1.0, rel=1e-12)  # only atom 0 touches the body (U = eps)
    e_cell = mdl.ForceField([SphericalCell(7.0, sigma=sig, epsilon=1.0)]).compute(s).energies["cell"]
    assert e_cell == pytest.approx(1.0, rel=1e-12)  # atom 2 touches the cell wall
    # radial force on a single atom: outward from the body, inward from the cell
    f_body = mdl.ForceField([SphereBody(3.0, sigma=sig)]).compute(s).forces[0]
    assert f_body[0] > 0 and np.all(f_body[1:] == 0)
    f_cell = mdl.ForceField([SphericalCell(7.0, sigma=sig)]).compute(s).forces[2]
    assert f_cell[2] < 0


def test_spheres_bad_input(rng):
    st = shell_state(rng, 10, 3.5, 6.0)
    st.positions[4] = [0.0, 0.0, 2.5]
    with pytest.raises(ValueError, match="atom 4 overlaps the sphere"):
        mdl.ForceField([SphereBody(3.0, sigma=1.0)]).compute(st)
    st.positions[4] = [0.0, 0.0, 7.5]
    with pytest.raises(ValueError, match="atom 4 lies outside the cell"):
        mdl.ForceField([SphericalCell(7.0, sigma=1.0)]).compute(st)
    with pytest.raises(ValueError, match="radius"):
        SphereBody(-1.0).attach(st)
    with pytest.raises(ValueError, match="half of every ion"):
        SphereBody(0.4, sigma=1.0).attach(st)


# ----------------------------------------------------------------------------------------------- WCA pair term
def test_wca_per_pair_cutoff_against_direct_sum(rng):
    st = mdl.State(grid_points(60, [0, 0, 0], [6, 6, 6], rng, jitter=0.3), box=[6, 6, 6],
                   types=rng.choice(["A", "B"], size=60))
    sig = {"A": 0.8, "B": 1.2}
    term = WCA(epsilon={"A": 1.0, "B": 0.5}, sigma=sig)
    assert term.cutoff == pytest.approx(RC * 1.2)
    res = mdl.ForceField([term]).compute(st)
    i, j, rij = pair_vectors(st.positions, st.box, st.pbc)
    sa = np.array([0.8, 1.2])[st.types]
    ea = np.array([1.0, 0.5])[st.types]
    s_ij, e_ij = 0.5 * (sa[i] + sa[j]), np.sqrt(ea[i] * ea[j])
    r = np.linalg.norm(rij, axis=1)
    assert res.energy == pytest.approx(float(np.sum(wca(r, s_ij, e_ij))), rel=1e-10)
    ff = mdl.ForceField([term])
    np.testing.assert_allclose(res.forces, numeric_forces(ff, st, h=1e-7), rtol=1e-5, atol=1e-5)
    # the A-A pairs are cut at 2^(1/6) 0.8, not at the largest cutoff
    aa = (st.types[i] == 0) & (st.types[j] == 0) & (r > RC * 0.8)
    assert aa.any() and np.all(wca(r[aa], 0.8, 1.0) == 0.0)


def test_confined_ions_stay_confined(rng):
    """A short Langevin run with walls and WCA: energies finite, every atom still between the walls."""
    st = slab_state(rng, n=60, near_walls=0)
    st.set_temperature(1.0, seed=2)
    ff = mdl.ForceField([WCA(sigma=0.6), PlanarWalls(0.0, 6.0, sigma=0.3)])
    sim = mdl.Simulation(st, ff, mdl.Langevin(dt=0.003, temperature=1.0, friction=1.0, seed=1))
    sim.run(300, progress=False)
    z = sim.state.positions[:, 2]
    assert z.min() > 0.1 and z.max() < 5.9
    assert 0.5 < sim.state.temperature() < 1.6


def test_planar_wall_offset_is_a_shifted_wca(rng):
    """sigma = d, offset = d/2: U = eps where the ion touches the plane (h = d/2), zero beyond
    (2^(1/6) - 1/2) d; forces are minus the gradient."""
    d, eps = 0.7, 1.2
    h = np.array([0.3, 0.35, 0.4, (RC - 0.5) * d + 1e-4])
    st = mdl.State(np.column_stack([rng.uniform(0, 5, (4, 2)), h]), box=[5, 5, 10], pbc=(True, True, False))
    walls = PlanarWalls(0.0, 10.0, sigma=d, epsilon=eps, offset=d / 2)
    ff = mdl.ForceField([walls])
    res = ff.compute(st)
    assert res.energy == pytest.approx(float(np.sum(wca(h + d / 2, d, eps))), rel=1e-12)
    u, _ = walls._wall(np.array([d / 2]), np.array([0]))
    assert u[0] == pytest.approx(eps)
    np.testing.assert_allclose(res.forces, numeric_forces(ff, st), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="offset"):
        PlanarWalls(0.0, 10.0, offset=-0.1).attach(st)
