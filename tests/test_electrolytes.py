"""Primitive-model builders, density profiles, and short runs checked against physics: electroneutrality,
non-overlapping starts, clear errors for bad input, symmetric slab profiles that integrate to the number of
ions, and (slow) the shape of a published profile."""
import numpy as np
import pytest

import mdlearn as mdl
from mdlearn.analysis import RadialProfile, SlabProfile
from mdlearn.forces._reference import pair_vectors

RC = 2.0 ** (1.0 / 6.0)
MOLAR = 1e27 / 6.02214076e23  # 1 Å^-3 in mol/L

# Published primitive-model profile (Kadupitiya, Fox & Jadhao; softmaterialslab/nanoconfinement-md,
# examples/Z_3__p_1__n_-1__c_0.5__d_0.714__S_1000000__T_0.001/data/p_density_profile.dat): 1:1 salt,
# c = 0.5 M, h = 3 nm, d = 0.714 nm, uncharged unpolarisable walls, epsilon_r = 80, T = 298 K, 10^6 steps.
# Read off the cation profile (bins of 0.0357 nm, both halves averaged): peak 0.94 M at |z| = 1.05-1.09 nm,
# 0.40 M at contact |z| = 1.143 nm (= h/2 - d/2), a shallow minimum of 0.55 M near |z| = 0.5 nm, and
# 0.61 M at the mid-plane.
PUBLISHED = {"peak": 0.94, "peak_position": 1.07, "contact": 0.40, "mid": 0.61, "minimum": 0.55}


def min_pair_ratio(state, diameters):
    """Smallest r_ij / d_ij over all pairs (minimum image on periodic axes)."""
    i, j, rij = pair_vectors(state.positions, state.box, state.pbc)
    d = 0.5 * (diameters[i] + diameters[j])
    return float(np.min(np.linalg.norm(rij, axis=1) / d))


def diameters_of(system):
    st, meta = system.state, system.metadata
    table = np.array([meta["species"][t]["diameter"] for t in st.type_names])
    return table[st.types]


# ------------------------------------------------------------------------------------------------ builders
@pytest.mark.parametrize("kw", [
    dict(charge=-12, counterion_valency=1, coion_valency=1, salt_concentration=0.05),
    dict(charge=-12, counterion_valency=3, coion_valency=1, salt_concentration=0.05, ion_diameter=(0.6, 0.4)),
    dict(charge=8, counterion_valency=2, coion_valency=2, salt_concentration=0.1),
    dict(charge=0, counterion_valency=2, coion_valency=1, salt_concentration=0.1, epsilon_in=78.5),
])
def test_nanoparticle_builder(kw):
    args = dict(radius=1.5, ion_diameter=0.5, cell_radius=5.0, seed=3) | kw
    system = mdl.build.nanoparticle_system(**args)
    st, ff, meta = system
    assert st.units.name == "real" and not st.pbc.any()
    assert abs(st.charges.sum() + args["charge"]) < 1e-9  # electroneutral with the particle
    sp = meta["species"]
    assert sum(v["count"] for v in sp.values()) == st.n_atoms
    if args["charge"] != 0:
        assert np.sign(sp["counterion"]["valency"]) == -np.sign(args["charge"])
    # salt at the requested concentration, to the rounding of one formula unit
    volume_l = 4 / 3 * np.pi * (5.0**3 - 1.5**3) * 1e-24
    assert abs(meta["concentration"] - args["salt_concentration"]) <= 0.5 / (6.02214076e23 * volume_l) + 1e-12
    # non-overlapping start: pairs apart by their mean diameter, ions clear of particle and cell walls
    d = diameters_of(system)
    assert min_pair_ratio(st, d) >= 1.0
    r = np.linalg.norm(st.positions, axis=1)
    assert np.all(r - d / 2 >= meta["radius"]) and np.all(r + d / 2 <= meta["cell_radius"])
    res = ff.compute(st)
    assert res.energies["particle"] == 0.0 and res.energies["cell"] == 0.0
    assert res.energies["wca"] <= st.n_atoms * meta["kT"]
    assert np.isfinite(res.energy)
    assert abs(st.temperature() - 298.15) < 1e-9


@pytest.mark.parametrize("kw", [
    dict(z_pos=1, z_neg=-1, concentration=0.5),
    dict(z_pos=2, z_neg=-1, concentration=0.3, ion_diameter=(0.5, 0.7)),
    dict(z_pos=3, z_neg=2, concentration=0.2),
])
def test_confined_builder(kw):
    args = dict(h=3.0, ion_diameter=0.6, lateral_size=5.0, seed=4) | kw
    system = mdl.build.confined_electrolyte(**args)
    st, ff, meta = system
    assert st.pbc.tolist() == [True, True, False] and st.box[2] == pytest.approx(30.0)
    assert abs(st.charges.sum()) < 1e-9
    zp, zn = meta["species"]["cation"]["valency"], meta["species"]["anion"]["valency"]
    assert zp == args["z_pos"] and zn == -abs(args["z_neg"])
    n_p, n_n = meta["species"]["cation"]["count"], meta["species"]["anion"]["count"]
    g = np.gcd(zp, -zn)
    assert n_p * g == meta["salt_units"] * -zn and n_n * g == meta["salt_units"] * zp
    d = diameters_of(system)
    assert min_pair_ratio(st, d) >= 1.0
    z = st.positions[:, 2]
    assert np.all(z >= (RC - 0.5) * d - 1e-12) and np.all(z <= 30.0 - (RC - 0.5) * d + 1e-12)
    res = ff.compute(st)
    assert res.energies["walls"] == 0.0 and np.isfinite(res.energy)
    assert meta["contact"]["cation"] == pytest.approx(15.0 - d[st.types == st.type_names.index("cation")][0] / 2)


def test_bad_input_is_refused_clearly():
    npsys = mdl.build.nanoparticle_system
    with pytest.raises(ValueError, match="cannot be electroneutral"):
        npsys(radius=1.0, charge=-7, counterion_valency=2, cell_radius=4.0)
    with pytest.raises(ValueError, match="do not fit"):
        npsys(radius=1.0, charge=-10, salt_concentration=8.0, ion_diameter=0.6, cell_radius=3.0)
    with pytest.raises(ValueError, match="does not fit the cell"):
        npsys(radius=1.0, charge=-10, salt_concentration=1e-5, cell_radius=3.0)
    with pytest.raises(ValueError, match="no room"):
        npsys(radius=2.0, charge=-4, ion_diameter=0.5, cell_radius=2.4)
    with pytest.raises(ValueError, match="wrong sign"):
        npsys(radius=1.0, charge=-4, counterion_valency=-1, cell_radius=4.0)
    with pytest.raises(ValueError, match="non-zero integer"):
        npsys(radius=1.0, charge=-4, counterion_valency=1.5, cell_radius=4.0)
    with pytest.raises(ValueError, match="radius must be positive"):
        npsys(radius=-1.0, charge=-4, cell_radius=4.0)
    slab = mdl.build.confined_electrolyte
    with pytest.raises(ValueError, match="do not fit"):
        slab(h=2.0, concentration=10.0, ion_diameter=0.7, lateral_size=4.0)
    with pytest.raises(ValueError, match="too narrow"):
        slab(h=0.6, ion_diameter=0.5)
    with pytest.raises(ValueError, match="cannot be electroneutral"):
        slab(surface_charge_density=-0.01, lateral_size=6.0)  # 2 sigma L^2 = 4.49 e
    with pytest.raises(ValueError, match="concentration must be >= 0"):
        slab(concentration=-0.1)
    # ions overlapping the particle: the force field refuses the state
    system = npsys(radius=1.0, charge=-4, ion_diameter=0.4, cell_radius=3.0, seed=1)
    system.state.positions[0] = [0.0, 0.0, 5.0]  # Å: inside the 10 Å particle
    with pytest.raises(ValueError, match="overlaps the sphere|inside the sphere"):
        system.forcefield.attach(system.state)


# ------------------------------------------------------------------------------------------------ profiles
def test_profiles_of_uniform_points_and_units(rng):
    """Uniform random points: flat profiles at N / V, in mol/L for real units, integrating to N."""
    n, box = 400, np.array([40.0, 40.0, 30.0])
    prof = SlabProfile(0.0, 30.0, bin_width=3.0, every=1, contact={"A": 14.0, "B": 13.0})
    rad = RadialProfile((20.0, 20.0, 15.0), r_max=15.0, bin_width=1.5, r_min=3.0, contact=4.0, mid=9.0)
    for _ in range(200):
        x = rng.random((n, 3)) * box
        st = mdl.State(x, box=box, pbc=(True, True, False), types=np.repeat(["A", "B"], n // 2), units="real",
                       masses=1.0)
        prof.sample(st)
        rad.sample(st)
    res = prof.result(blocks=10)
    assert res.units == {"position": "nm", "density": "M"}
    assert res.centers[0] == pytest.approx(-1.35) and res.centers[-1] == pytest.approx(1.35)
    expected = (n // 2) / np.prod(box) * MOLAR
    for s in ("A", "B"):
        z = (res.density[s] - expected) / res.error[s]
        assert np.all(np.abs(z) < 4.5)
        assert res.number(s) == pytest.approx(n // 2)
        sc = res.scalars[s]
        for key in ("contact", "mid", "peak"):
            assert abs(sc[key][0] - expected) < 5 * sc[key][1] + (0.1 * expected if key == "peak" else 0)
    r = rad.result(blocks=8)
    inside = 4 / 3 * np.pi * (15.0**3 - 3.0**3)
    assert r.number("A") == pytest.approx(np.mean(rad._frames, axis=0)[0].sum(), rel=1e-12)
    assert r.number("A") / inside * MOLAR == pytest.approx(expected, rel=0.05)
    assert r.centers[0] == pytest.approx(0.375)


def test_profile_counts_equal_numpy_histogram(rng):
    """The counting kernels bin as np.histogram with the same edges: points on edges (the last one included),
    outside the range, of an unsampled species, and across the periodic boundary of the radial profile."""
    box = np.array([20.0, 20.0, 20.0])
    center = np.array([1.0, 19.5, 10.0])
    edges = np.linspace(2.0, 9.5, 16)  # width 0.5: many points below land exactly on an edge
    x = rng.random((3000, 3)) * box
    on_edge = rng.choice(edges, size=300)  # distances exactly on edges, along z from the centre
    x[:300] = center + np.column_stack([np.zeros(300), np.zeros(300), on_edge])
    z = np.concatenate([rng.choice(edges, 200), rng.uniform(-1.0, 11.0, 2800)])
    x[:, 2] = np.where(np.arange(3000) < 300, x[:, 2], z)  # slab coordinates: on edges and outside too
    types = rng.choice(["A", "B", "C"], 3000)
    st = mdl.State(x, box=box, pbc=(True, True, False), types=types)
    d = x - center
    d[:, :2] -= box[:2] * np.round(d[:, :2] / box[:2])
    r = np.linalg.norm(d, axis=1)
    rad = RadialProfile(center, r_min=2.0, r_max=9.5, bin_width=0.5, species=["C", "A"])
    slab = SlabProfile(0.0, 7.5, bin_width=0.5, species=["C", "A"])
    rad.sample(st)
    slab.sample(st)
    for k, s in enumerate(["C", "A"]):
        mine = types == s
        np.testing.assert_array_equal(rad._frames[0][k], np.histogram(r[mine], bins=edges)[0])
        np.testing.assert_array_equal(slab._frames[0][k], np.histogram(x[mine, 2], bins=np.linspace(0, 7.5, 16))[0])
    assert rad._frames[0].sum() > 0.1 * 3000 and np.isin(r[:300], edges).all()


def test_profile_errors(rng):
    prof = SlabProfile(0.0, 10.0, bin_width=1.0)
    with pytest.raises(ValueError, match="no frames"):
        prof.result()
    st = mdl.State(rng.random((10, 3)) * 10, box=[10, 10, 10], pbc=(True, True, False))
    for _ in range(3):
        prof.sample(st)
    with pytest.raises(ValueError, match="cannot fill"):
        prof.result(blocks=5)
    with pytest.raises(ValueError, match="unknown species"):
        SlabProfile(0.0, 10.0, 1.0, species=["Na"]).sample(st)


def test_profile_csv_and_plot(tmp_path, rng):
    prof = RadialProfile((0, 0, 0), r_max=10.0, bin_width=1.0, r_min=2.0)
    for _ in range(20):
        u = rng.standard_normal((50, 3))
        st = mdl.State(u / np.linalg.norm(u, axis=1)[:, None] * rng.uniform(2, 10, (50, 1)), pbc=False)
        prof.sample(st)
    res = prof.result(blocks=4)
    res.to_csv(tmp_path / "p.csv")
    data = np.genfromtxt(tmp_path / "p.csv", delimiter=",", names=True)
    assert data.dtype.names == ("r_sigma", "A_1sigma3", "A_error")
    np.testing.assert_allclose(data["A_1sigma3"], res.density["A"], rtol=1e-5)
    res.plot(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------------ short runs
def run_slab(lateral_size, steps, equilibration, seed=1, bin_width=0.5):
    system = mdl.build.confined_electrolyte(h=3.0, z_pos=1, z_neg=-1, concentration=0.5, ion_diameter=0.714,
                                            lateral_size=lateral_size, seed=seed, epsilon_r=80.0,
                                            temperature=298.0, ewald_accuracy=1e-4)
    sim = system.simulation(seed=seed)
    sim.run(equilibration, progress=False)
    prof = mdl.analysis.density_profile(system, every=20, bin_width=bin_width)
    sim.add_reporter(prof)
    temperatures = []
    sim.add_reporter((lambda snap: temperatures.append(snap.temperature), 20))
    sim.run(steps, progress=False)
    sim.mean_temperature = float(np.mean(temperatures))
    return system, sim, prof.result(blocks=10)


def test_confined_builder_with_charged_walls():
    """sigma = -0.0089 C/m² on each 6 nm x 6 nm wall is 2 sigma L^2 = -4 e: four extra cations, and the slab
    Ewald gets the matching wall sheets (e / Å^2), so ions and walls are neutral together."""
    system = mdl.build.confined_electrolyte(surface_charge_density=-0.0089004, lateral_size=6.0, seed=2)
    st, ff, meta = system
    counts = {s: meta["species"][s]["count"] for s in ("cation", "anion")}
    assert counts["cation"] - counts["anion"] == 4 and st.charges.sum() == pytest.approx(4.0)
    sheets = np.array(ff["coulomb"].surface_charge)
    assert sheets * 1e20 * 1.602176634e-19 == pytest.approx([meta["surface_charge_density"]] * 2, rel=1e-12)
    assert st.charges.sum() + sheets.sum() * st.box[0] * st.box[1] == pytest.approx(0.0, abs=1e-9)
    assert np.isfinite(ff.compute(st).energy)


def test_confined_electrolyte_profile_symmetric_and_normalised():
    """A short run (1:1, 0.5 M, h = 3 nm, d = 0.714 nm): the profile integrates to the number of ions, is
    symmetric about the mid-plane within its error bars, and has the published shape: no ion centre
    beyond contact, a peak next to the wall, a flat (bulk-like) middle below the peak."""
    system, sim, res = run_slab(5.0, steps=3000, equilibration=600)
    meta = system.metadata
    # mean kinetic temperature: with ~45 ions one sample scatters by ~12%, 150 samples by ~2%
    assert abs(sim.mean_temperature - 298.0) < 0.06 * 298.0
    for s in ("cation", "anion"):
        assert res.number(s) == pytest.approx(meta["species"][s]["count"], rel=1e-12)
        rho, err = res.density[s], res.error[s]
        diff = rho - rho[::-1]
        sd = np.sqrt(err**2 + err[::-1] ** 2)
        ok = sd > 0
        z = diff[ok] / sd[ok]
        assert np.mean(z**2) < 3.0 and np.mean(np.abs(z) > 3.5) < 0.1, z
        x, sym, _ = res.symmetrized(s)
        # the soft (WCA) wall lets an ion in only rarely: beyond contact + 0.06 nm, under 1% of the peak
        assert sym[x > 1.2].max() < 0.01 * sym.max()
        sc = res.scalars[s]
        assert 0.95 < sc["peak_position"] < 1.15  # nm from the mid-plane: next to contact (1.143 nm)
        middle = sym[x < 0.5]
        assert sc["peak"][0] > 1.25 * middle.mean()
        assert middle.std() < 0.2 * middle.mean()  # bulk-like plateau
        assert 0.45 < middle.mean() < 0.8  # M; 0.61 in the published profile


def test_nanoparticle_run_profiles():
    """Ions around a charged low-dielectric particle: the radial profiles integrate to the ion numbers,
    counterions gather at the particle, coions are depleted there; the energy stays finite."""
    system = mdl.build.nanoparticle_system(radius=1.0, charge=-12, salt_concentration=0.1, ion_diameter=0.5,
                                           epsilon_in=2.0, cell_radius=3.5, seed=5, n_grid=300)
    sim = system.simulation(seed=6)
    sim.run(1000, progress=False)
    prof = mdl.analysis.density_profile(system, every=10, bin_width=1.0)
    sim.add_reporter(prof)
    sim.run(2500, progress=False)
    res = prof.result(blocks=5)
    meta = system.metadata
    for s in res.species:
        assert res.number(s) == pytest.approx(meta["species"][s]["count"], rel=1e-12)
    c, co = res.scalars["counterion"], res.scalars["coion"]
    assert c["peak_position"] < 1.6  # nm: the counterion peak sits at the particle (contact 1.25 nm)
    assert c["contact"][0] > 5 * co["contact"][0]
    assert c["peak"][0] > 2.5 * c["mid"][0]
    assert co["mid"][0] > 3 * co["contact"][0]
    w = sim.forcefield["particle_electrostatics"].induced_charges(sim.state)
    assert abs(w.sum()) < 1e-10 and np.abs(w).sum() > 0.1


def test_nanoparticle_system_conserves_energy():
    """Velocity Verlet on the whole nanoparticle force field (WCA, Coulomb, particle, cell, BEM
    polarisation): total-energy fluctuations far below the kinetic ones, falling as dt² (measured: 0.3%
    of the kinetic fluctuations at the suggested timestep, 3.5x less at half of it)."""
    system = mdl.build.nanoparticle_system(radius=1.0, charge=-12, salt_concentration=0.1, ion_diameter=0.5,
                                           epsilon_in=2.0, cell_radius=3.5, seed=5, n_grid=300)
    system.simulation(seed=6).run(500, progress=False)
    ratios = []
    for f in (1.0, 0.5):
        sim = mdl.Simulation(system.state.copy(), system.forcefield,
                             mdl.VelocityVerlet(dt=f * system.metadata["timestep"]))
        e = []
        sim.add_reporter((lambda s, e=e: e.append((s.total_energy, s.kinetic_energy)), 10))
        sim.run(int(400 / f), progress=False)
        e = np.array(e)
        ratios.append(e[:, 0].std() / e[:, 1].std())
    assert ratios[0] < 0.01 and ratios[0] > 2.5 * ratios[1], ratios


@pytest.mark.slow
def test_confined_electrolyte_matches_published_profile():
    """1:1, 0.5 M, h = 3 nm, d = 0.714 nm against the published profile (PUBLISHED above), bins of 0.0357 nm
    as there: peak position, peak, contact and mid-point densities, and the peak-to-mid ratio."""
    system, sim, res = run_slab(6.0, steps=60000, equilibration=3000, bin_width=0.357)
    x = np.zeros(0)
    rho = []
    for s in ("cation", "anion"):
        x, sym, _ = res.symmetrized(s)
        rho.append(sym)
    rho = np.mean(rho, axis=0)
    k = int(np.argmax(rho))
    assert abs(x[k] - PUBLISHED["peak_position"]) < 0.06
    assert rho[k] == pytest.approx(PUBLISHED["peak"], rel=0.12)
    assert np.interp(1.143, x, rho) == pytest.approx(PUBLISHED["contact"], rel=0.3)
    mid = rho[x < 0.2].mean()
    assert mid == pytest.approx(PUBLISHED["mid"], rel=0.1)
    assert rho[k] / mid == pytest.approx(PUBLISHED["peak"] / PUBLISHED["mid"], rel=0.15)
    assert rho[(x > 0.3) & (x < 0.8)].min() < mid + 0.03  # the shallow dip before the peak


@pytest.mark.slow
def test_counterions_between_charged_walls_follow_poisson_boltzmann():
    """Counterions only (z = 1, d = 0.2 nm, 12.5 e per 10 nm x 10 nm wall, h = 3 nm): weak coupling
    (Xi = 2 pi z^3 l_B^2 sigma / e = 0.4), where the mean-field solution holds (Moreira & Netz, Europhys. Lett.
    52, 705 (2000)). Poisson–Boltzmann between two equal plates (Andelman, Handbook of Biological Physics 1,
    603 (1995)): rho(z) = K^2 / (2 pi l_B z^2) / cos^2(K z), K tan(K w / 2) = 2 pi l_B z sigma / e, with the
    accessible width w = h - 2 a and a = int (1 - exp(-U_wall / kT)) from the wall plane. The profile agrees
    within 10% + 3 error bars in every 1 Å bin (measured: within 17%, 1.5 error bars), and the wall-to-middle
    ratio within 15% (measured: 1.66 against 1.69); a uniform profile (uncharged walls) would be off by 50%."""
    import copy

    from scipy.optimize import brentq

    per_wall, length, h = 12.5, 10.0, 3.0
    sigma = -per_wall * 1.602176634e-19 / (length * length * 1e-18)  # C/m²
    system = mdl.build.confined_electrolyte(h=h, z_pos=1, concentration=0.0, ion_diameter=0.2,
                                            surface_charge_density=sigma, lateral_size=length, seed=2,
                                            ewald_accuracy=1e-4)
    meta = system.metadata
    sim = system.simulation(seed=2)
    sim.run(6000, progress=False)
    prof = mdl.analysis.density_profile(system, every=20, bin_width=1.0)
    sim.add_reporter(prof)
    sim.run(30000, progress=False)
    x, rho, err = prof.result(blocks=10).symmetrized("cation")
    rho, err = rho / MOLAR * 1e3, err / MOLAR * 1e3  # M -> nm^-3
    # closest approach from the walls' own potential
    probe = mdl.State([[5.0, 5.0, 1.0]], box=system.state.box, pbc=(True, True, False), types=["cation"], masses=1.0,
                      units="real")
    walls = mdl.ForceField([copy.deepcopy(system.forcefield["walls"])])
    z = np.linspace(0.05, 10.0, 2000)
    u = []
    for zi in z:
        probe.positions = [[5.0, 5.0, zi]]
        u.append(walls.compute(probe).energy / meta["kT"])
    a = np.trapezoid(1 - np.exp(-np.asarray(u)), z) / 10  # nm
    w = h - 2 * a
    l_b = mdl.units.get("real").coulomb / 78.5 / meta["kT"] / 10  # nm
    ns = per_wall / length**2
    k = brentq(lambda k: k * np.tan(k * w / 2) - 2 * np.pi * l_b * ns, 1e-9, np.pi / w - 1e-9)
    inside = x < w / 2 - 0.05
    pb = k * k / (2 * np.pi * l_b) / np.cos(k * x[inside]) ** 2
    assert np.all(np.abs(rho[inside] - pb) < 0.1 * pb + 3 * err[inside]), (rho[inside], pb)
    wall, middle = rho[inside][-3:].mean() / rho[x < 0.4].mean(), pb[-3:].mean() / pb[x[inside] < 0.4].mean()
    assert wall == pytest.approx(middle, rel=0.15)
    assert middle > 1.5  # the check has teeth: uncharged walls give a flat profile
