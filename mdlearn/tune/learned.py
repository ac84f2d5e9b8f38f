"""``LearnedTimestep``: a tuner that asks a trained estimator for the largest acceptable timestep, with a
safety net that goes back to the last good state when the dynamics degrade."""
import numpy as np

from ..integrators import Langevin
from .base import GoodState, TimestepTuner
from .features import state_features, system_features
from .labels import RATIO_LIMIT, energy_fluctuation_ratio

__all__ = ["LearnedTimestep", "nanoparticle_features"]

CLEAN_SAMPLES = 20  # energy samples needed before a checkpoint to call the window up to it clean
CLEAN_FRACTION = 0.5  # ... and the ratio over them below this fraction of the limit


def nanoparticle_features(system):
    """A feature function ``f(sim) -> dict`` for a :func:`mdlearn.build.nanoparticle_system` system: its fixed
    :func:`~mdlearn.tune.system_features` plus the running :func:`~mdlearn.tune.state_features`."""
    meta = system.metadata if hasattr(system, "metadata") else system
    fixed = system_features(meta)

    def features(sim):
        return {**fixed, **state_features(sim, meta)}

    return features


class LearnedTimestep(TimestepTuner):
    """Every ``every`` steps: compute features, ask ``estimator.predict_dt(features)`` for the largest acceptable
    timestep, clamp it to ``[dt_min, dt_max]`` and to a factor ``max_change`` of the current dt, and apply it.
    With ``start_at_prediction`` (default) the first decision applies the estimator's answer for the new system
    at once (clamped to ``[dt_min, dt_max]`` only): the rate limit applies to the changes after it.
    With ``average_features`` (default) the estimator sees each feature averaged over the decisions so far:
    state features such as the largest force are single snapshots whose scatter would otherwise make the
    predicted dt jump from one decision to the next (system features are constant, so averaging leaves them be).

    Safety net (``safety=True``). The tuner is also a reporter: it samples the conserved and kinetic energies
    every ``sample_every`` steps. At each decision it checks the running stability criterion of
    :mod:`mdlearn.tune.labels` (energy-fluctuation ratio below ``ratio_limit`` over the steps since the last
    decision; skipped for Langevin dynamics, which conserve no energy). If it fails, or if the run blows up
    in between (a :class:`~mdlearn.SimulationError`), the last good state is put back, dt is halved, and the run
    continues at the halved dt until the next decision. The last good state is the latest of the
    ``checkpoints`` states saved in memory over the window (at its start, the decision, and evenly after it)
    whose part of the window before it is clean: at least ``CLEAN_SAMPLES`` energy samples with a ratio below
    ``CLEAN_FRACTION`` (half) of ``ratio_limit``, stricter than the check itself, as it only picks where to
    restart and a restart after an unnoticed bad event would carry the error on. So a failure late in a window
    throws away only the steps after the last clean checkpoint, not the whole window. For ``cooldown`` decisions
    more dt stays at most that halved value, and from then on at most ``ceiling_factor`` times the dt that failed
    (``ceiling``): the estimator's answer is corrected by what the run has shown. Reporter output is kept: steps
    that are run again appear again in the files. ``restores`` counts the restores and
    ``discarded_steps`` the steps they threw away (run, then run again): the safety net's cost.

    With ``scale_skin`` (default) each decision also sets the neighbor-list skin to its value at the first
    decision times dt / (dt before the first decision), never below that value nor beyond what a periodic box
    allows: atoms move about dt further per step, so the list is rebuilt about as many steps apart as with the
    initial dt and skin instead of nearly every step (the lists of dilute ions stay short either way).

    Parameters
    ----------
    estimator : object with ``predict_dt(features) -> dt``
        E.g. :class:`~mdlearn.tune.TimestepModel` (``mdl.tune.load_timestep_model()``).
    features : callable ``f(sim) -> dict``, or a nanoparticle ``System``
        A system is turned into :func:`nanoparticle_features`.
    every : int
        Steps between decisions.
    scale_skin : bool
        Scale the neighbor-list skin with dt (see above; recorded in ``history`` as ``skin``).
    checkpoints : int
        States kept in memory per decision window for the safety net to go back to, ``every // checkpoints``
        steps apart (1: only the decision's).
    dt_min, dt_max : float
        Time units (fs in real units).
    max_change : float
        Largest factor between consecutive timesteps (growth; the safety net may halve at once).
    start_at_prediction : bool
        Apply the first prediction without the ``max_change`` limit (False: ramp up from the integrator's dt).
    average_features : bool
        Feed the estimator the running mean of each feature over the decisions (False: the current snapshot).
    sample_every : int
        Steps between energy samples for the running criterion.
    ratio_limit : float
    safety : bool
    cooldown : int
        Decisions after a restore during which dt stays at most the halved value (0: the decision after the
        restore may raise dt again, by at most ``max_change``; chosen on training systems, where 0 gave a 2-3%
        larger mean dt with fewer restores than 1).
    max_retries : int
        Consecutive restores without a good decision in between before the failure is raised.
    ceiling_factor : float
        After a failure at dt_f, dt stays below ``ceiling_factor * dt_f`` for the rest of the run.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> class Constant:                       # any object with predict_dt
    ...     def predict_dt(self, features):
    ...         return 10.0
    >>> system = mdl.build.nanoparticle_system(radius=1.0, charge=-6, ion_diameter=0.5, cell_radius=3.0, seed=1)
    >>> sim = mdl.Simulation(system.state, system.forcefield, mdl.VelocityVerlet(dt=2.0))
    >>> tuner = mdl.tune.LearnedTimestep(Constant(), features=system, every=20, dt_min=1.0, dt_max=40.0,
    ...                                  max_change=2.0)
    >>> sim.add_tuner(tuner)
    >>> sim.run(60, progress=False)
    >>> [h["dt"] for h in tuner.history]
    [10.0, 10.0, 10.0]
    """

    def __init__(self, estimator, features, every=200, dt_min=1.0, dt_max=64.0, max_change=1.5, sample_every=5,
                 ratio_limit=RATIO_LIMIT, safety=True, cooldown=0, max_retries=8, ceiling_factor=0.8,
                 start_at_prediction=True, average_features=True, checkpoints=4, scale_skin=True):
        super().__init__(every, dt_min, dt_max, max_change)
        if int(checkpoints) != checkpoints or not 1 <= checkpoints <= self.every:
            raise ValueError(f"checkpoints must be an integer from 1 to every={self.every}, got {checkpoints!r}")
        self.checkpoints = int(checkpoints)
        self.trigger = self._due
        if not callable(getattr(estimator, "predict_dt", None)):
            raise TypeError(f"estimator {estimator!r} has no predict_dt(features) method")
        if not callable(features):
            if hasattr(features, "metadata"):
                features = nanoparticle_features(features)
            else:
                raise TypeError(f"features must be a callable sim -> dict or a nanoparticle System, got {features!r}")
        if int(sample_every) != sample_every or sample_every < 1:
            raise ValueError(f"sample_every must be a positive integer, got {sample_every!r}")
        self.estimator = estimator
        self.features = features
        self.sample_every = int(sample_every)
        self.ratio_limit = float(ratio_limit)
        self.safety = bool(safety)
        self.cooldown = int(cooldown)
        self.max_retries = int(max_retries)
        self.ceiling_factor = float(ceiling_factor)
        self.start_at_prediction = bool(start_at_prediction)
        self.scale_skin = bool(scale_skin)
        self._skin_start = None  # (skin, dt) before the first decision
        self._started = False
        self.average_features = bool(average_features)
        self._feature_sums, self._feature_count = {}, 0
        self.restores = 0
        self.discarded_steps = 0
        self._good = None
        self._window = []  # checkpoints saved since the last decision (GoodState)
        self._cap = np.inf
        self._cap_left = 0
        self.ceiling = np.inf
        self._retries = 0
        self._conserved, self._kinetic, self._steps = [], [], []

    # reporter part: energies for the running criterion
    def describe_next_report(self, sim):
        if not self.safety:  # nothing to sample
            return 1 << 62, ()
        return self.sample_every - sim.state.step % self.sample_every, ("energy",)

    def report(self, sim, snapshot):
        self._conserved.append(snapshot.conserved_energy)
        self._kinetic.append(snapshot.kinetic_energy)
        self._steps.append(snapshot.step)

    def running_ratio(self):
        """Energy-fluctuation ratio over the samples since the last decision (NaN with fewer than 4)."""
        if len(self._kinetic) < 4:
            return float("nan")
        return float(energy_fluctuation_ratio(self._conserved, self._kinetic))

    # tuner part
    def _due(self, step):
        """Decisions every ``every`` steps, checkpoints ``every // checkpoints`` apart."""
        return step % self.every == 0 or step % (self.every // self.checkpoints) == 0

    def tune(self, sim):
        step = sim.state.step
        if self._started and step % self.every:  # between decisions: a checkpoint only
            if self.safety and step != self._good.step:
                self._window.append(GoodState(sim))
            return
        ratio = self.running_ratio()
        unstable = (self.safety and self._good is not None and not isinstance(sim.integrator, Langevin)
                    and len(self._kinetic) >= 4 and not ratio < self.ratio_limit)
        if unstable:
            self._go_back(sim, f"ratio {ratio:.3g}")
            return
        if self.safety:
            self._good = GoodState(sim)
            self._retries = 0
        self._window = []
        self._conserved, self._kinetic, self._steps = [], [], []
        feats = self._averaged(self.features(sim)) if self.average_features else self.features(sim)
        proposed = float(self.estimator.predict_dt(feats))
        if self._cap_left > 0:
            self._cap_left -= 1
            proposed = min(proposed, self._cap)
        if not self._started and self.start_at_prediction:
            dt = float(np.clip(min(proposed, self.ceiling), self.dt_min, self.dt_max))
        else:
            dt = self.limit(sim.integrator.dt, min(proposed, self.ceiling))
        self._started = True
        skin = self._set_skin(sim, dt)
        sim.integrator.dt = dt
        self.record(sim, dt, proposed=proposed, ratio=ratio, skin=skin, **feats)

    def _set_skin(self, sim, dt):
        """Scale the list's skin with the new dt (see the class notes); return the skin (NaN without a list)."""
        nlist = sim.nlist
        if nlist is None:
            return float("nan")
        if self.scale_skin:
            if self._skin_start is None:
                self._skin_start = nlist.skin, sim.integrator.dt
            skin0, dt0 = self._skin_start
            nlist.set_skin(min(skin0 * max(1.0, dt / dt0), nlist.largest_skin(sim.state)))
        return nlist.skin

    def _averaged(self, feats):
        self._feature_count += 1
        for k, v in feats.items():
            self._feature_sums[k] = self._feature_sums.get(k, 0.0) + float(v)
        return {k: v / self._feature_count for k, v in self._feature_sums.items()}

    def recover(self, sim, error):
        """Called by the simulation when the dynamics fail: go back to the last good state and halve dt."""
        if not self.safety or self._good is None or self._retries >= self.max_retries:
            return False
        self._go_back(sim, f"failure: {error.cause}")
        return True

    def _restart_point(self):
        """The latest checkpoint of the window whose part of the window before it is clean, else the window's
        start."""
        steps, conserved, kinetic = np.asarray(self._steps), np.asarray(self._conserved), np.asarray(self._kinetic)
        for good in reversed(self._window):
            before = steps <= good.step
            if before.sum() >= CLEAN_SAMPLES and energy_fluctuation_ratio(
                    conserved[before], kinetic[before]) < CLEAN_FRACTION * self.ratio_limit:
                return good
        return self._good

    def _go_back(self, sim, why):
        failed_dt = sim.integrator.dt
        self.ceiling = min(self.ceiling, self.ceiling_factor * failed_dt)
        self._good = self._restart_point()
        self.discarded_steps += sim.state.step - self._good.step
        self._good.restore(sim)
        self._window = []
        self._retries += 1
        self.restores += 1
        dt = max(0.5 * failed_dt, self.dt_min)
        sim.integrator.dt = dt
        self._cap, self._cap_left = dt, self.cooldown
        self._conserved, self._kinetic, self._steps = [], [], []
        self.record(sim, dt, event=f"restored ({why})")
