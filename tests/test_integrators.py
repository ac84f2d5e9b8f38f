"""Integrators: NVE energy conservation and its dt^2 error, time reversibility, Langevin and Nosé–Hoover
temperatures, seeded noise, and changing dt between steps.

All runs use the shifted LJ potential (continuous energy). Its force still jumps at the cutoff, which
adds a small random walk to the energy; at rc = 3 that jump is three times smaller than at rc = 2.5, so
the NVE checks use rc = 3 to see the integrator's own error.
"""
import copy

import numpy as np
import pytest

import mdlearn as mdl

T_LIQUID = 1.44


def _sim(st, integrator, cutoff=2.5):
    return mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=cutoff, shift=True)]), integrator)


def _record(sim, every, *fields):
    """Collect snapshot attributes every ``every`` steps into lists."""
    out = {f: [] for f in fields}

    def grab(snap):
        for f in fields:
            out[f].append(getattr(snap, f))

    sim.add_reporter((grab, every))
    return out


# ------------------------------------------------------------------------------------------ NVE
def test_nve_energy_drift(lj_liquid):
    """Velocity Verlet, dt = 0.005, 500 atoms, 3000 steps (15 tau): the linear drift of the total energy
    over the run stays below 1e-4 of |E| (measured ~1e-5), and no fluctuation exceeds 1e-3 of |E|."""
    st = lj_liquid(cells=5, cutoff=3.0)
    sim = _sim(st, mdl.VelocityVerlet(dt=0.005), cutoff=3.0)
    rec = _record(sim, 10, "total_energy", "step")
    sim.run(3000, progress=False)
    e = np.array(rec["total_energy"])
    t = np.array(rec["step"]) * 0.005
    assert len(e) == 300 and abs(e.mean()) > 1000
    drift = np.polyfit(t, e, 1)[0] * (t[-1] - t[0])
    assert abs(drift) / abs(e.mean()) < 1e-4
    assert np.abs(e - e[0]).max() / abs(e.mean()) < 1e-3
    # the liquid stayed a liquid at about the temperature it was made at
    assert sim.state.temperature() == pytest.approx(T_LIQUID, rel=0.1)


def test_nve_fluctuation_scales_as_dt_squared(lj_liquid):
    """Velocity Verlet conserves a shadow energy that differs from E by O(dt^2): halving dt divides the
    fluctuation of E by ~4 (an O(dt) or O(dt^3) error would give 2 or 8). Same 5 tau for both."""
    base = lj_liquid(cells=5, cutoff=3.0)
    spread = {}
    for dt in (0.005, 0.0025):
        sim = _sim(base.copy(), mdl.VelocityVerlet(dt=dt), cutoff=3.0)
        rec = _record(sim, int(round(0.025 / dt)), "total_energy")
        sim.run(int(round(5.0 / dt)), progress=False)
        e = np.array(rec["total_energy"])
        k = np.arange(len(e))
        spread[dt] = np.std(e - np.polyval(np.polyfit(k, e, 1), k))  # fluctuation about any slow drift
    order = np.log2(spread[0.005] / spread[0.0025])
    assert order == pytest.approx(2.0, abs=0.4)
    assert spread[0.005] / 1200 < 3e-4  # and it is small: |E| ~ 1200 here


def test_time_reversibility(lj_liquid):
    """n steps forward, velocities negated, n steps: back at the start up to round-off (amplified only
    by the chaos of 1 tau of dynamics)."""
    st = lj_liquid(cells=5)
    x0 = st.unwrapped_positions().copy()
    v0 = st.velocities.copy()
    sim = _sim(st, mdl.VelocityVerlet(dt=0.005))
    sim.run(200, progress=False)
    assert np.abs(st.unwrapped_positions() - x0).max() > 0.5  # atoms really went somewhere
    st.velocities = -st.velocities
    sim.run(200, progress=False)
    np.testing.assert_allclose(st.unwrapped_positions(), x0, rtol=0, atol=1e-8)
    np.testing.assert_allclose(st.velocities, -v0, rtol=0, atol=1e-8)


# ------------------------------------------------------------------------------------------ Langevin
def test_langevin_mean_temperature(lj_liquid):
    """BAOAB at T = 1.44: the mean kinetic temperature with 3N degrees of freedom is within 1% of the
    target (864 atoms, 25 tau after 2.5 tau of equilibration; the statistical error is ~0.25%)."""
    st = lj_liquid(cells=6)
    integ = mdl.Langevin(dt=0.005, temperature=T_LIQUID, friction=10.0, seed=7)
    assert integ.degrees_of_freedom(st) == 3 * st.n_atoms
    sim = _sim(st, integ)
    sim.run(500, progress=False)
    rec = _record(sim, 5, "kinetic_energy", "temperature")
    sim.run(5000, progress=False)
    t3n = 2.0 * np.array(rec["kinetic_energy"]) / (3 * st.n_atoms)
    np.testing.assert_allclose(rec["temperature"], t3n, rtol=1e-12)  # snapshots use 3N too
    assert t3n.mean() == pytest.approx(T_LIQUID, rel=0.01)
    # canonical kinetic-energy fluctuations (NVE would give visibly smaller ones)
    assert np.std(t3n) / T_LIQUID == pytest.approx(np.sqrt(2.0 / (3 * st.n_atoms)), rel=0.2)


def _langevin_run(st, seed, steps=100):
    sim = _sim(st, mdl.Langevin(dt=0.005, temperature=T_LIQUID, friction=1.0, seed=seed))
    sim.run(steps, progress=False)
    return st.positions.copy(), st.velocities.copy()


def test_langevin_seed_reproducible(lj_liquid):
    base = lj_liquid(cells=4)
    x1, v1 = _langevin_run(base.copy(), seed=11)
    x2, v2 = _langevin_run(base.copy(), seed=11)
    x3, _ = _langevin_run(base.copy(), seed=12)
    assert np.array_equal(x1, x2) and np.array_equal(v1, v2)
    assert np.abs(x1 - x3).max() > 1e-3
    # a Generator can be passed instead of a seed, with the same stream
    x4, _ = _langevin_run(base.copy(), seed=np.random.default_rng(11))
    assert np.array_equal(x1, x4)


# ------------------------------------------------------------------------------------------ Nosé–Hoover
def test_nose_hoover_chain(lj_liquid):
    """NVT by Nosé–Hoover chains, 864 atoms, 22.5 tau: the mean temperature (3N - 3 dof) after 2.5 tau
    is within 2% of the target and its spread is the canonical sqrt(2 / dof); potential + kinetic +
    thermostat energy drifts by less than 2e-4 of |E| although the thermostat moved ~100 times more
    energy in and out of the atoms.

    (A hot start is avoided on purpose: after new random velocities velocity Verlet's own O(dt^2) energy
    offset changes by ~1e-3 |E| within 0.03 tau, with or without a thermostat.)"""
    st = lj_liquid(cells=6)
    integ = mdl.NoseHooverChain(dt=0.005, temperature=T_LIQUID, tau=0.5)
    sim = _sim(st, integ)
    e0 = sim.snapshot().total_energy
    rec = _record(sim, 5, "temperature", "conserved_energy", "total_energy")
    sim.run(4500, progress=False)
    temp = np.array(rec["temperature"][100:])
    assert temp.mean() == pytest.approx(T_LIQUID, rel=0.02)
    dof = st.degrees_of_freedom
    assert integ.degrees_of_freedom(st) == dof == 3 * st.n_atoms - 3
    assert np.std(temp) / T_LIQUID == pytest.approx(np.sqrt(2.0 / dof), rel=0.25)
    c = np.array(rec["conserved_energy"])
    k = np.arange(len(c))
    drift = np.polyfit(k, c, 1)[0] * (k[-1] - k[0])
    assert abs(drift) / abs(e0) < 2e-4
    assert np.abs(c - e0).max() / abs(e0) < 1e-3
    assert np.ptp(rec["total_energy"]) > 100 * np.ptp(c)  # the thermostat did its work


# ------------------------------------------------------------------------------------------ dt
@pytest.mark.parametrize("make", [
    lambda dt: mdl.VelocityVerlet(dt=dt),
    lambda dt: mdl.Langevin(dt=dt, temperature=T_LIQUID, friction=2.0, seed=5),
    lambda dt: mdl.NoseHooverChain(dt=dt, temperature=T_LIQUID, tau=0.5),
], ids=["verlet", "langevin", "nose-hoover"])
def test_dt_changed_between_steps(make, lj_liquid):
    """Setting ``integrator.dt`` mid-run continues exactly like an integrator made with the new dt from
    the same state (same thermostat state and random stream)."""
    st = lj_liquid(cells=4)
    integ = make(0.005)
    sim = _sim(st, integ)
    sim.run(50, progress=False)
    twin = copy.deepcopy(integ)  # same chain variables / generator state
    twin_state = st.copy()
    fresh = make(0.002)
    for attr in ("rng", "xi", "vxi"):
        if hasattr(twin, attr):
            setattr(fresh, attr, getattr(twin, attr))
    other = _sim(twin_state, fresh)
    integ.dt = 0.002
    assert integ.dt == 0.002
    sim.run(50, progress=False)
    other.run(50, progress=False)
    assert st.time == pytest.approx(50 * 0.005 + 50 * 0.002, rel=1e-12)
    # the twin's list was built (and its positions wrapped) at another step: compare modulo the box
    d = st.positions - twin_state.positions
    d -= st.box * np.round(d / st.box)
    np.testing.assert_allclose(d, 0.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(st.velocities, twin_state.velocities, rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------------------ long runs
@pytest.mark.slow
def test_nve_long_bench_system():
    """LAMMPS bench/in.lj conditions (fcc at rho = 0.8442, T = 1.44, rc = 2.5 shifted, dt = 0.005), 4000
    atoms for 10^4 steps: the energy drift stays below 1e-4 of |E|."""
    st = mdl.build.lattice("fcc", cells=(10, 10, 10), density=0.8442)
    st.set_temperature(T_LIQUID, seed=2)
    sim = _sim(st, mdl.VelocityVerlet(dt=0.005))
    sim.run(1000, progress=False)  # melt
    rec = _record(sim, 50, "total_energy")
    sim.run(10000, progress=False)
    e = np.array(rec["total_energy"])
    k = np.arange(len(e))
    drift = np.polyfit(k, e, 1)[0] * (k[-1] - k[0])
    assert abs(drift) / abs(e.mean()) < 1e-4


@pytest.mark.slow
def test_langevin_long_mean_temperature(lj_liquid):
    """Like the fast test with 4x the statistics: within 0.5% of the target."""
    st = lj_liquid(cells=6)
    sim = _sim(st, mdl.Langevin(dt=0.005, temperature=T_LIQUID, friction=10.0, seed=8))
    sim.run(1000, progress=False)
    rec = _record(sim, 5, "kinetic_energy")
    sim.run(20000, progress=False)
    t3n = 2.0 * np.array(rec["kinetic_energy"]) / (3 * st.n_atoms)
    assert t3n.mean() == pytest.approx(T_LIQUID, rel=0.005)
