"""The simulation loop: checkpoints and bitwise restarts, safe checkpoint writes, blow-ups, and the
observables reporters receive."""
import csv
import os
import pickle

import numpy as np
import pytest

import mdlearn as mdl
from mdlearn.forces import _reference as ref

T_LIQUID = 1.44


def _ff():
    return mdl.ForceField([mdl.LennardJones(cutoff=2.5, shift=True)])


INTEGRATORS = {
    "verlet": lambda: mdl.VelocityVerlet(dt=0.005),
    "langevin": lambda: mdl.Langevin(dt=0.005, temperature=T_LIQUID, friction=1.0, seed=42),
    "nose-hoover": lambda: mdl.NoseHooverChain(dt=0.005, temperature=T_LIQUID, tau=0.5),
}


# ------------------------------------------------------------------------------------------ checkpoints
@pytest.mark.parametrize("name", list(INTEGRATORS))
def test_checkpoint_restart_is_bitwise_identical(name, lj_liquid, tmp_path):
    """Save mid-run, keep going; a simulation restored from the file continues exactly the same way
    (positions, velocities and, for Langevin, the random stream)."""
    path = tmp_path / "run.chk"
    sim = mdl.Simulation(lj_liquid(cells=4), _ff(), INTEGRATORS[name]())
    sim.add_reporter(mdl.CheckpointReporter(path, every=70))
    sim.run(200, progress=False)  # checkpoints at steps 70 and 140; several neighbor-list rebuilds
    assert sim.last_checkpoint == os.fspath(path)

    restored = mdl.Simulation.from_checkpoint(path)
    assert restored.state.step == 140 and restored.state.time == pytest.approx(140 * 0.005)
    restored.run(60, progress=False)
    assert restored.state.step == sim.state.step == 200
    assert np.array_equal(restored.state.positions, sim.state.positions)
    assert np.array_equal(restored.state.velocities, sim.state.velocities)
    assert np.array_equal(restored.state.images, sim.state.images)
    assert restored.state.time == sim.state.time
    if name == "nose-hoover":
        assert np.array_equal(restored.integrator.vxi, sim.integrator.vxi)


def test_restart_without_rng_restore_would_differ(lj_liquid, tmp_path):
    """Guard for the test above: continuing with a fresh generator does change the trajectory, so the
    bitwise equality there really depends on the restored random state."""
    path = tmp_path / "run.chk"
    sim = mdl.Simulation(lj_liquid(cells=4), _ff(), INTEGRATORS["langevin"]())
    sim.run(20, progress=False)
    sim.save_checkpoint(path)
    sim.run(30, progress=False)
    restored = mdl.Simulation.from_checkpoint(path)
    restored.integrator.rng = np.random.default_rng(42)
    restored.run(30, progress=False)
    assert not np.array_equal(restored.state.positions, sim.state.positions)


def test_checkpoint_written_atomically(lj_liquid, tmp_path, monkeypatch):
    path = tmp_path / "run.chk"
    sim = mdl.Simulation(lj_liquid(cells=4), _ff(), INTEGRATORS["verlet"]())
    sim.run(10, progress=False)
    sim.save_checkpoint(path)
    assert sorted(os.listdir(tmp_path)) == ["run.chk"]  # no temporary file left behind
    good = path.read_bytes()

    sim.run(10, progress=False)
    sim.save_checkpoint(path)  # overwriting works and leaves nothing behind either
    assert sorted(os.listdir(tmp_path)) == ["run.chk"]
    assert path.read_bytes() != good
    good = path.read_bytes()

    def broken_dump(*args, **kwargs):
        raise pickle.PicklingError("cannot pickle this today")

    monkeypatch.setattr(pickle, "dump", broken_dump)
    sim.run(10, progress=False)
    with pytest.raises(pickle.PicklingError, match="today"):
        sim.save_checkpoint(path)
    monkeypatch.undo()
    assert path.read_bytes() == good  # the previous checkpoint is intact ...
    assert sorted(os.listdir(tmp_path)) == ["run.chk"]  # ... and the half-written file is gone
    assert mdl.Simulation.from_checkpoint(path).state.step == 20


class _EnergyStep:
    """No force; the energy is -n until the ``at``-th evaluation, then -n + ``jump``."""

    cutoff = None
    name = "step"

    def __init__(self, at, jump):
        self.at, self.jump, self.calls = at, jump, 0

    def attach(self, state):
        self.n = state.n_atoms

    def compute(self, state, nlist, request, out):
        self.calls += 1
        return -self.n + (self.jump if self.calls > self.at else 0.0)


@pytest.mark.parametrize("jump, raises", [(10.0, False), (99.0, False), (101.0, True)])
def test_energy_jump_limit_is_blowup_factor_times_the_energy_scale(jump, raises):
    """Documented: the run stops when the total energy jumps between two evaluations by ``blowup_factor`` times
    the initial energy scale (here 1 per atom, from the potential energy), not by the scale itself."""
    st = mdl.State(np.arange(30.0).reshape(10, 3) * 3.0, pbc=False, velocities=np.full((10, 3), 1e-3))
    sim = mdl.Simulation(st, mdl.ForceField([_EnergyStep(at=20, jump=jump * 10)]), mdl.VelocityVerlet(dt=0.01),
                         blowup_factor=100.0)
    sim.add_reporter((lambda snap: None, 1))  # energies every step
    sim.update_forces(mdl.forces.base.ALL)  # the run's initial energy scale: |E| / n = 1
    if raises:
        with pytest.raises(mdl.SimulationError, match="energy jumped"):
            sim.run(40, progress=False)
    else:
        sim.run(40, progress=False)
        assert sim.state.step == 40


def test_blowup_raises_and_keeps_files_readable(lj_liquid, tmp_path):
    thermo, chk = tmp_path / "thermo.csv", tmp_path / "run.chk"
    sim = mdl.Simulation(lj_liquid(cells=4), _ff(), mdl.VelocityVerlet(dt=0.005))
    sim.add_reporter(mdl.ThermoReporter(thermo, every=10))
    sim.add_reporter(mdl.CheckpointReporter(chk, every=50))
    sim.run(120, progress=False)
    sim.integrator.dt = 1.0  # atoms jump into each other
    with pytest.raises(mdl.SimulationError) as info:
        sim.run(100, progress=False)
    err = info.value
    assert 120 < err.step <= 125
    assert f"step {err.step}" in str(err)
    assert err.checkpoint == os.fspath(chk)
    assert os.fspath(chk) in str(err)

    with open(thermo, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == list(range(10, 121, 10))
    energies = np.array([float(r["total_energy"]) for r in rows])
    assert np.all(np.isfinite(energies)) and np.ptp(energies) < 1e-3 * abs(energies.mean())

    restored = mdl.Simulation.from_checkpoint(chk)
    assert restored.state.step == 100
    assert np.all(np.isfinite(restored.state.positions))


def test_blowup_from_huge_velocities(lj_liquid):
    st = lj_liquid(cells=4)
    sim = mdl.Simulation(st, _ff(), mdl.VelocityVerlet(dt=0.005))
    sim.run(5, progress=False)
    st.velocities = st.velocities * 300.0
    with pytest.raises(mdl.SimulationError, match="step") as info:
        sim.run(200, progress=False)
    assert 5 < info.value.step < 205
    assert info.value.checkpoint is None


# ------------------------------------------------------------------------------------------ observables
def test_snapshot_observables_match_state_and_oracle(lj_liquid, tmp_path):
    """Reporter snapshots agree with State methods and with the all-pairs oracle: kinetic energy with
    unequal masses, temperature with the integrator's dof, potential energy, virial and
    pressure = (sum m v^2 + tr W) / (3 V); the thermo CSV holds the same numbers."""
    st = lj_liquid(cells=4)
    rng = np.random.default_rng(9)
    st.masses = rng.uniform(0.5, 3.0, st.n_atoms)
    st.set_temperature(T_LIQUID, seed=4)
    sim = mdl.Simulation(st, _ff(), mdl.VelocityVerlet(dt=0.004))
    snaps = []
    sim.add_reporter((snaps.append, 25))
    sim.add_reporter(mdl.ThermoReporter(tmp_path / "thermo.csv", every=25))
    sim.run(100, progress=False)
    sim.close()
    assert [s.step for s in snaps] == [25, 50, 75, 100]
    with open(tmp_path / "thermo.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for snap, row in zip(snaps, rows, strict=True):
        s = snap.state
        m, v = s.masses, s.velocities
        ke = 0.5 * np.sum(m[:, None] * v * v)
        assert snap.kinetic_energy == pytest.approx(ke, rel=1e-13)
        assert snap.temperature == pytest.approx(2 * ke / (3 * s.n_atoms - 3), rel=1e-13)
        assert snap.temperature == pytest.approx(s.temperature(), rel=1e-13)
        want = ref.lennard_jones(s.positions, s.box, s.pbc, cutoff=2.5, shift=True)
        assert snap.potential_energy == pytest.approx(want.energy, rel=1e-11)
        np.testing.assert_allclose(snap.virial, want.virial, rtol=1e-10, atol=1e-9)
        p = (np.sum(m[:, None] * v * v) + np.trace(want.virial)) / (3 * s.volume)
        assert snap.pressure == pytest.approx(p, rel=1e-10)
        tensor = (np.einsum("i,ia,ib->ab", m, v, v) + want.virial) / s.volume
        np.testing.assert_allclose(snap.pressure_tensor, tensor, rtol=1e-10, atol=1e-10)
        assert snap.total_energy == pytest.approx(want.energy + ke, rel=1e-11)
        assert snap.conserved_energy == snap.total_energy  # no thermostat
        assert snap.time == pytest.approx(snap.step * 0.004)
        assert int(row["step"]) == snap.step
        for key in ("potential_energy", "kinetic_energy", "temperature", "pressure"):
            assert float(row[key]) == getattr(snap, key)  # written with repr: exact
        assert float(row["energy_lj"]) == snap.energies["lj"] == snap.potential_energy
        with pytest.raises(ValueError):  # snapshots are read-only copies
            s.positions[0, 0] = 1.0
    assert not np.shares_memory(snaps[-1].state.positions, sim.state.positions)


def test_kept_snapshots_hold_their_step_and_unread_ones_copy_nothing(lj_liquid, monkeypatch):
    """A reporter snapshot reads the live state while the reporters of its step run; one a reporter keeps is
    detached (its own state copy and thermostat energy) before the next step, one nobody keeps copies nothing."""
    sim = mdl.Simulation(lj_liquid(cells=4), _ff(), mdl.NoseHooverChain(dt=0.005, temperature=T_LIQUID, tau=0.2))
    kept, at_report = [], []

    def record(snap):  # what the step looked like, read while it is current
        st = sim.state
        at_report.append((st.positions.copy(), st.kinetic_energy(), sim.integrator.thermostat_energy(st)))

    sim.add_reporter((kept.append, 7))
    sim.add_reporter((record, 7))
    sim.run(30, progress=False)
    assert [k.step for k in kept] == [7, 14, 21, 28]
    for snap, (x, ke, thermo) in zip(kept, at_report, strict=True):
        np.testing.assert_array_equal(snap.state.positions, x)
        assert snap.kinetic_energy == pytest.approx(ke, rel=1e-13)  # the integrator's 2 KE, halved
        assert snap.thermostat_energy == thermo != 0.0
    copies = []
    real = mdl.State.snapshot
    monkeypatch.setattr(mdl.State, "snapshot", lambda self: copies.append(1) or real(self))
    energies = []
    sim.reporters = []
    sim.add_reporter((lambda snap: energies.append(snap.conserved_energy), 5))
    sim.run(20, progress=False)
    assert len(energies) == 4 and not copies


def test_reporter_without_pressure_does_not_ask_for_virial(lj_liquid, tmp_path):
    sim = mdl.Simulation(lj_liquid(cells=4), _ff(), mdl.VelocityVerlet(dt=0.005))
    seen = []

    class Spy:
        def describe_next_report(self, sim):
            return 5, ("energy",)

        def report(self, sim, snap):
            seen.append(snap)

    sim.add_reporter(Spy())
    sim.run(10, progress=False)
    assert len(seen) == 2
    assert seen[0].virial is None and seen[0].pressure is None
    assert np.isfinite(seen[0].potential_energy)
