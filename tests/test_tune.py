"""Tuners (mdlearn.tune): the tuner door's recovery hook, saved states, the classical variable timestep, the
stability criterion, the learned tuner's clamping and safety net, the timestep model, and the shipped model."""
import csv
import os

import numpy as np
import pytest

import mdlearn as mdl
from mdlearn.tune import (
    GoodState,
    LearnedTimestep,
    TimestepModel,
    VariableTimestep,
    energy_fluctuation_ratio,
    load_timestep_model,
)
from mdlearn.tune.dataset import ladder_rows
from mdlearn.tune.model import DEFAULT_MODEL, FEATURES
from mdlearn.tune.train import classification_scores, load_ladder


def lj_sim(dt=0.005, integrator=None, seed=1):
    st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
    st.set_temperature(1.44, seed=seed)
    return mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=2.5, shift=True)]),
                          integrator or mdl.VelocityVerlet(dt=dt))


def small_np(seed=1):
    return mdl.build.nanoparticle_system(radius=1.0, charge=-6, ion_diameter=0.5, cell_radius=3.0, seed=seed)


class Constant:
    def __init__(self, dt):
        self.dt = dt
        self.seen = []

    def predict_dt(self, features):
        self.seen.append(features)
        return self.dt


# ------------------------------------------------------------------------------------------------ the door
@pytest.mark.parametrize("make", [lambda: mdl.VelocityVerlet(dt=0.005),
                                  lambda: mdl.Langevin(0.005, 1.44, friction=1.0, seed=3),
                                  lambda: mdl.NoseHooverChain(0.005, 1.44, tau=0.5)])
def test_good_state_restores_a_bitwise_identical_continuation(make):
    sim = lj_sim(integrator=make())
    sim.run(10, progress=False)
    good = GoodState(sim)
    sim.run(25, progress=False)
    first = sim.state.positions.copy(), sim.state.velocities.copy()
    good.restore(sim)
    assert sim.state.step == 10
    sim.run(25, progress=False)
    assert sim.state.step == 35 and sim.state.time == pytest.approx(35 * 0.005)
    np.testing.assert_array_equal(sim.state.positions, first[0])
    np.testing.assert_array_equal(sim.state.velocities, first[1])


class Breaker:
    """Sets a destructive dt at one step; recover() puts back the state saved before it."""

    def __init__(self, at, accept=True):
        self.trigger = 1
        self.at, self.accept = at, accept
        self.recovered = []

    def tune(self, sim):
        if sim.state.step == self.at and not self.recovered:
            self.good = GoodState(sim)
            self.dt = sim.integrator.dt
            sim.integrator.dt = 5.0  # atoms jump through each other
        return None

    def recover(self, sim, error):
        if not self.accept:
            return False
        self.recovered.append(error.step)
        self.good.restore(sim)
        sim.integrator.dt = self.dt
        return True


def test_recover_hook_continues_the_run_from_the_restored_state():
    sim = lj_sim()
    breaker = Breaker(at=20)
    sim.add_tuner(breaker)
    thermo = []
    sim.add_reporter((lambda snap: thermo.append(snap.step), 10))
    sim.run(60, progress=False)
    assert breaker.recovered and breaker.recovered[0] > 20
    assert sim.state.step == 60 and np.all(np.isfinite(sim.state.positions))
    assert thermo[-1] == 60


def test_reporters_follow_a_tuner_that_moves_the_state_back():
    """A tuner restoring an earlier state from tune() (the ratio check of a safety net) gets the same treatment
    as recover(): reporters count from the restored step, so the replayed steps are reported (and sampled)."""

    class BackOnce:
        trigger = 1

        def tune(self, sim):
            if sim.state.step == 10:
                self.good = GoodState(sim)
            elif sim.state.step == 23 and not hasattr(self, "done"):
                self.done = True
                self.good.restore(sim)

    sim = lj_sim()
    sim.add_tuner(BackOnce())
    seen = []
    sim.add_reporter((lambda snap: seen.append(snap.step), 5))
    sim.run(30, progress=False)
    assert seen == [5, 10, 15, 20, 15, 20, 25, 30]


def test_without_recovery_the_failure_is_raised():
    sim = lj_sim()
    sim.add_tuner(Breaker(at=5, accept=False))
    with pytest.raises(mdl.SimulationError):
        sim.run(40, progress=False)


def test_an_ion_leaving_its_cell_is_a_simulation_error():
    system = small_np()
    sim = mdl.Simulation(system.state, system.forcefield, mdl.VelocityVerlet(dt=400.0))
    with pytest.raises(mdl.SimulationError):
        sim.run(200, progress=False)


# ------------------------------------------------------------------------------------------------ criterion
def test_energy_fluctuation_ratio_grows_as_dt_squared_for_velocity_verlet():
    # velocity Verlet is second order: its energy error, and so the ratio, scales as dt^2
    ratios = []
    for dt in (0.002, 0.004):
        sim = lj_sim(dt=dt)
        e, k = [], []
        sim.add_reporter((lambda snap, e=e, k=k: (e.append(snap.total_energy), k.append(snap.kinetic_energy)), 2))
        sim.run(int(round(0.6 / dt)), progress=False)
        ratios.append(energy_fluctuation_ratio(e, k))
    assert 3.0 < ratios[1] / ratios[0] < 5.0
    assert energy_fluctuation_ratio([1.0, np.nan], [1.0, 2.0]) == np.inf
    with pytest.raises(ValueError, match="equal series"):
        energy_fluctuation_ratio([1.0], [1.0])


# ------------------------------------------------------------------------------------------------ VariableTimestep
def test_variable_timestep_moves_the_fastest_atom_by_max_displacement():
    sim = lj_sim(dt=0.001)
    tuner = VariableTimestep(max_displacement=0.01, every=1, dt_min=1e-5, dt_max=1.0, max_change=1e6)
    sim.add_tuner(tuner)
    before = sim.state.positions.copy()
    sim.run(1, progress=False)
    # velocity Verlet moves each atom by v dt + a dt^2 / 2 exactly: the tuner's dt makes the largest 0.01
    moved = np.sqrt(np.sum((sim.state.positions - before) ** 2, axis=1)).max()
    assert moved == pytest.approx(0.01, rel=0.02)
    assert tuner.history[0]["dt"] == pytest.approx(tuner.history[0]["proposed"])


def test_variable_timestep_clamps_and_rate_limits():
    sim = lj_sim(dt=0.001)
    tuner = VariableTimestep(max_displacement=10.0, every=5, dt_min=1e-4, dt_max=0.004, max_change=1.5)
    sim.add_tuner(tuner)
    sim.run(20, progress=False)
    assert [round(h["dt"], 6) for h in tuner.history] == [0.0015, 0.00225, 0.003375, 0.004]
    with pytest.raises(ValueError, match="max_displacement"):
        VariableTimestep(max_displacement=-1.0)
    with pytest.raises(ValueError, match="dt_min"):
        VariableTimestep(0.1, dt_min=2.0, dt_max=1.0)
    with pytest.raises(ValueError, match="max_change"):
        VariableTimestep(0.1, max_change=1.0)


# ------------------------------------------------------------------------------------------------ LearnedTimestep
def test_learned_timestep_features_clamp_and_history():
    system = small_np()
    est = Constant(100.0)
    sim = mdl.Simulation(system.state, system.forcefield, mdl.VelocityVerlet(dt=4.0))
    tuner = LearnedTimestep(est, features=system, every=10, dt_min=2.0, dt_max=12.0, max_change=2.0,
                            start_at_prediction=False)
    sim.add_tuner(tuner)
    sim.run(40, progress=False)
    assert [h["dt"] for h in tuner.history] == [8.0, 12.0, 12.0, 12.0]  # ramps up from 4 fs by at most 2x
    assert set(FEATURES) <= set(est.seen[0])
    assert est.seen[0]["valency"] == 1.0 and est.seen[0]["closest_approach"] >= 0.9
    hist = tuner.history_arrays()
    assert hist["step"].tolist() == [0, 10, 20, 30] and np.all(hist["event"] == "tune")
    with pytest.raises(TypeError, match="predict_dt"):
        LearnedTimestep(object(), features=system)
    with pytest.raises(TypeError, match="features"):
        LearnedTimestep(est, features=3)


class Counter:
    """A feature function whose only feature is how often it was called: 1, 2, 3, ..."""

    def __init__(self):
        self.calls = 0

    def __call__(self, sim):
        self.calls += 1
        return {"k": float(self.calls)}


class Proportional(Constant):
    """Asks for dt = 3 fs times the feature k."""

    def predict_dt(self, features):
        self.seen.append(features)
        return 3.0 * features["k"]


def test_learned_timestep_starts_at_the_prediction_then_rate_limits():
    system = small_np()
    est = Proportional(0.0)
    sim = mdl.Simulation(system.state, system.forcefield, mdl.VelocityVerlet(dt=1.0))
    tuner = LearnedTimestep(est, features=Counter(), every=10, dt_min=0.5, dt_max=40.0, max_change=1.2,
                            average_features=False)
    sim.add_tuner(tuner)
    sim.run(30, progress=False)
    # the first decision jumps from 1 fs straight to the prediction (3 fs); later ones grow by at most 1.2x
    assert [h["dt"] for h in tuner.history] == pytest.approx([3.0, 3.6, 4.32])
    assert [f["k"] for f in est.seen] == [1.0, 2.0, 3.0]
    # clamped to [dt_min, dt_max] even at the start
    sim = mdl.Simulation(system.state.copy(), system.forcefield, mdl.VelocityVerlet(dt=1.0))
    tuner = LearnedTimestep(Constant(100.0), features=system, every=10, dt_min=0.5, dt_max=6.0, max_change=1.2)
    sim.add_tuner(tuner)
    sim.run(10, progress=False)
    assert tuner.history[0]["dt"] == 6.0


def test_learned_timestep_scales_the_skin_with_dt():
    system = small_np()
    sim = mdl.Simulation(system.state, system.forcefield, mdl.VelocityVerlet(dt=2.0), skin=1.0)
    tuner = LearnedTimestep(Constant(6.0), features=system, every=10, dt_min=0.5, dt_max=40.0, max_change=2.0)
    sim.add_tuner(tuner)
    sim.run(10, progress=False)
    assert sim.nlist.skin == pytest.approx(3.0) and tuner.history[0]["skin"] == pytest.approx(3.0)
    # the list in use holds every pair within cutoff + skin of the current positions' build
    st = sim.state
    i, j = np.triu_indices(st.n_atoms, 1)
    x = sim.nlist.reference
    near = np.linalg.norm(x[i] - x[j], axis=1) < sim.nlist.rlist
    li, lj, _ = sim.nlist.pairs(st)
    assert {(a, b) for a, b in zip(i[near], j[near], strict=True)} == \
        {(min(a, b), max(a, b)) for a, b in zip(li, lj, strict=True)}
    # forces equal a fresh evaluation without the tuner's list
    ref_forces = system.forcefield.compute(st.copy()).forces
    np.testing.assert_allclose(st.forces, ref_forces, rtol=1e-10, atol=1e-10 * np.abs(ref_forces).max())
    # never below the starting skin; off on request
    tuner = LearnedTimestep(Constant(1.0), features=system, every=10, dt_min=0.5, dt_max=40.0, max_change=4.0)
    sim2 = mdl.Simulation(system.state.copy(), system.forcefield, mdl.VelocityVerlet(dt=2.0), skin=1.0)
    sim2.add_tuner(tuner)
    sim2.run(10, progress=False)
    assert sim2.nlist.skin == 1.0
    tuner = LearnedTimestep(Constant(6.0), features=system, every=10, dt_min=0.5, dt_max=40.0, max_change=4.0,
                            scale_skin=False)
    sim3 = mdl.Simulation(system.state.copy(), system.forcefield, mdl.VelocityVerlet(dt=2.0), skin=1.0)
    sim3.add_tuner(tuner)
    sim3.run(10, progress=False)
    assert sim3.nlist.skin == 1.0


def test_learned_timestep_averages_features_over_decisions():
    system = small_np()
    est = Proportional(0.0)
    sim = mdl.Simulation(system.state, system.forcefield, mdl.VelocityVerlet(dt=1.0))
    tuner = LearnedTimestep(est, features=Counter(), every=5, dt_min=0.5, dt_max=40.0, max_change=10.0)
    sim.add_tuner(tuner)
    sim.run(20, progress=False)
    # snapshots 1, 2, 3, 4 -> running means 1, 1.5, 2, 2.5; dt follows them
    assert [f["k"] for f in est.seen] == pytest.approx([1.0, 1.5, 2.0, 2.5])
    assert [h["dt"] for h in tuner.history] == pytest.approx([3.0, 4.5, 6.0, 7.5])


def test_learned_timestep_safety_net_halves_dt_and_continues():
    # an estimator that always asks for a destructive timestep: the net must restore and halve until stable
    system = small_np(seed=2)
    sim = mdl.Simulation(system.state, system.forcefield,
                         mdl.NoseHooverChain(dt=5.0, temperature=system.metadata["temperature"], tau=500.0))
    tuner = LearnedTimestep(Constant(400.0), features=system, every=40, dt_min=2.0, dt_max=400.0, max_change=100.0,
                            cooldown=1000)
    sim.add_tuner(tuner)
    sim.run(400, progress=False)
    assert sim.state.step == 400 and np.all(np.isfinite(sim.state.positions))
    assert tuner.restores >= 1
    events = [h["event"] for h in tuner.history]
    assert any(e.startswith("restored") for e in events)
    assert sim.integrator.dt < 400.0
    # every restore went back to a checkpoint (4 per 40-step window) and halved the failed dt; the steps it
    # threw away are counted
    for h in tuner.history:
        if h["event"].startswith("restored"):
            assert h["step"] % 10 == 0
    assert 0 < tuner.discarded_steps <= 40 * tuner.restores


def test_learned_timestep_without_safety_decides_every_every_steps():
    # the checkpoint trigger (every // checkpoints) must not turn into extra decisions when there is no safety net
    system = small_np()
    sim = mdl.Simulation(system.state, system.forcefield, mdl.VelocityVerlet(dt=2.0))
    tuner = LearnedTimestep(Constant(3.0), features=system, every=20, dt_min=0.5, dt_max=40.0, safety=False)
    sim.add_tuner(tuner)
    sim.run(100, progress=False)
    assert [h["step"] for h in tuner.history] == [0, 20, 40, 60, 80]


def test_learned_timestep_restarts_from_the_latest_clean_checkpoint():
    from types import SimpleNamespace

    from mdlearn.tune.learned import CLEAN_SAMPLES

    tuner = LearnedTimestep(Constant(5.0), features=lambda sim: {}, every=200, checkpoints=4)
    assert [s for s in range(401) if tuner.trigger(s)] == list(range(0, 401, 50))
    start = SimpleNamespace(step=0)
    tuner._good, tuner._window = start, [SimpleNamespace(step=s) for s in (50, 100, 150)]
    rng = np.random.default_rng(0)
    tuner._steps = list(range(5, 201, 5))                     # 40 samples over the window
    tuner._kinetic = list(1.0 + rng.standard_normal(40))      # sigma(E_kin) ~ 1
    quiet = 1e-3 * rng.standard_normal(40)                    # ratio ~ 0.001
    # an energy jump at step 130: the window up to 100 is clean, up to 150 is not
    tuner._conserved = list(quiet + np.where(np.array(tuner._steps) > 130, 0.5, 0.0))
    assert tuner._restart_point().step == 100
    # a jump at step 20: nothing after the window's start is clean
    tuner._conserved = list(quiet + np.where(np.array(tuner._steps) > 20, 0.5, 0.0))
    assert tuner._restart_point() is start
    # a clean prefix needs CLEAN_SAMPLES samples: with fewer, the window's start again
    tuner._window = [SimpleNamespace(step=5 * (CLEAN_SAMPLES - 1))]
    tuner._conserved = list(quiet)
    assert tuner._restart_point() is start
    with pytest.raises(ValueError, match="checkpoints must be an integer from 1 to every=200, got 0"):
        LearnedTimestep(Constant(5.0), features=lambda sim: {}, every=200, checkpoints=0)


# ------------------------------------------------------------------------------------------------ the model
def test_timestep_model_learns_a_threshold_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, size=(300, 1))
    dt = np.exp(rng.uniform(np.log(2), np.log(64), size=300))
    y = (dt * X[:, 0] < 40).astype(int)
    m = TimestepModel(feature_names=["k"], hidden_layer_sizes=(16,), random_state=0).fit(X, dt, y)
    for k in (1.2, 2.0, 2.8):
        assert 40 / k / 1.6 < m.predict_dt({"k": k}) < 40 / k * 1.3
    scores = classification_scores(y, m.predict(X, dt))
    assert scores["balanced_accuracy"] > 0.9
    m.save(tmp_path / "m.joblib", safe_dt=8.0)
    # the numpy forward pass the tuner uses is the fitted scikit-learn pipeline's
    Xq, dtq = rng.uniform(0.5, 3.5, size=(50, 1)), rng.uniform(1, 80, size=50)
    want = m.pipeline_.predict_proba(np.column_stack([Xq, np.log(dtq)]))[:, 1]
    np.testing.assert_allclose(m.predict_proba(Xq, dtq), want, rtol=1e-12, atol=1e-14)
    m2 = load_timestep_model(tmp_path / "m.joblib")
    assert m2.metadata_["safe_dt"] == 8.0 and m2.predict_dt({"k": 2.0}) == m.predict_dt({"k": 2.0})
    with pytest.raises(ValueError, match="features lack"):
        m.predict_dt({"x": 1.0})
    with pytest.raises(ValueError, match="labels"):
        TimestepModel(feature_names=["k"]).fit(X, dt, y + 2)
    with pytest.raises(ValueError, match="both classes"):
        TimestepModel(feature_names=["k"]).fit(X, dt, np.ones_like(y))
    with pytest.raises(FileNotFoundError, match="train one"):
        load_timestep_model(tmp_path / "missing.joblib")


def test_shipped_model_beats_the_majority_class_on_held_out_systems():
    model = load_timestep_model()
    meta = model.metadata_
    data = os.path.join(os.path.dirname(DEFAULT_MODEL), "ladder.csv")
    rows = [r for r in ladder_rows(load_ladder(data)) if r["system"] in set(meta["test_systems"])]
    assert rows
    X = np.array([[r[f] for f in FEATURES] for r in rows])
    y = np.array([r["acceptable"] for r in rows])
    s = classification_scores(y, model.predict(X, np.array([r["dt"] for r in rows])))
    assert s["balanced_accuracy"] > 0.75 and s["recall_acceptable"] > 0.75
    with open(data) as fh:
        largest = {int(float(r["system"])): float(r["largest_ok"]) for r in csv.DictReader(fh)}
    assert meta["safe_dt"] == min(largest[i] for i in meta["train_systems"])


def test_time_sampler_takes_one_sample_per_interval_whatever_the_dt():
    from mdlearn.tune.compare import TimeSampler

    class Times:  # stands in for a profile: records when it was sampled
        def __init__(self):
            self.t = []

        def sample(self, state):
            self.t.append(state.time)

    system = mdl.build.nanoparticle_system(radius=1.0, charge=-6, ion_diameter=0.5, cell_radius=3.0, seed=1)
    sim = mdl.Simulation(system.state, system.forcefield, mdl.VelocityVerlet(dt=3.0))
    times = Times()
    sim.add_reporter(TimeSampler(times, interval=10.0))  # 3.33 steps per interval: steps land short of targets
    sim.run(100, progress=False)  # 300 time units: targets 10, 20, ..., 300
    t = np.array(times.t)
    assert len(t) == 30
    assert np.all(np.abs(t - 10.0 * np.arange(1, 31)) <= 1.5 + 1e-9)  # within half a step of each target
    with pytest.raises(ValueError, match="interval"):
        TimeSampler(times, interval=0.0)
