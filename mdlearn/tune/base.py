"""What timestep tuners share: when they run, clamping and rate limiting, their history, and an in-memory
copy of the last good state that a safety net can go back to."""
import copy

import numpy as np

__all__ = ["GoodState", "TimestepTuner"]


_IMMUTABLE = (int, float, bool, str, type(None))


def _copy_dict(d):
    """A deep copy of an integrator's attributes. Numbers are shared and arrays copied directly; only other
    objects (a random generator) go through ``copy.deepcopy``, whose dispatch costs ~1 µs per value and the
    safety net copies the integrator at every checkpoint."""
    return {k: v if isinstance(v, _IMMUTABLE) else v.copy() if type(v) is np.ndarray else copy.deepcopy(v)
            for k, v in d.items()}


class GoodState:
    """A copy of everything a run needs to continue from a step: positions, velocities, periodic images, step,
    time and the integrator's internal state (thermostat variables, random generator).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
    >>> sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones()]), mdl.VelocityVerlet(dt=0.005))
    >>> good = mdl.tune.GoodState(sim)
    >>> sim.run(10, progress=False)
    >>> good.restore(sim)
    >>> sim.state.step
    0
    """

    def __init__(self, sim):
        st = sim.state
        self.step, self.time = st.step, st.time
        self.positions = st.positions.copy()
        self.velocities = st.velocities.copy()
        self.images = st.images.copy()
        self.forces = st.forces.copy()
        self.integrator = _copy_dict(sim.integrator.__dict__)
        self.nlist_reference = None if sim.nlist is None else sim.nlist.reference.copy()

    def restore(self, sim):
        """Put the saved state back into ``sim``. The neighbor list is rebuilt from the positions it was last
        built from (as :meth:`~mdlearn.Simulation.from_checkpoint` does), so the run continues bitwise as it
        did from the saved step."""
        st = sim.state
        st.positions = self.positions
        st.velocities = self.velocities
        st.images[...] = self.images
        st.forces[...] = self.forces
        st.step, st.time = self.step, self.time
        sim.integrator.__dict__.update(_copy_dict(self.integrator))
        if self.nlist_reference is not None:
            at_build = st.copy()
            at_build.positions = self.nlist_reference
            sim.nlist.build(at_build)


class TimestepTuner:
    """Base class: runs every ``every`` steps, keeps ``dt`` within ``[dt_min, dt_max]`` and within a factor
    ``max_change`` of its current value per decision, and records ``history`` (one dict per decision:
    ``step``, ``time``, ``dt`` chosen, ``event`` and the features that led to it). Times in the run's units."""

    def __init__(self, every, dt_min, dt_max, max_change):
        if int(every) != every or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        if not (np.isfinite(dt_min) and np.isfinite(dt_max) and 0 < dt_min <= dt_max):
            raise ValueError(f"need 0 < dt_min <= dt_max, got dt_min={dt_min!r}, dt_max={dt_max!r}")
        if not (np.isfinite(max_change) and max_change > 1):
            raise ValueError(f"max_change must be a finite factor > 1, got {max_change!r}")
        self.every = int(every)
        self.trigger = int(every)
        self.dt_min, self.dt_max, self.max_change = float(dt_min), float(dt_max), float(max_change)
        self.history = []

    def limit(self, current, proposed):
        """``proposed`` clamped to [dt_min, dt_max] and to a factor ``max_change`` of ``current``."""
        lo, hi = current / self.max_change, current * self.max_change
        return float(min(max(min(max(proposed, lo), hi), self.dt_min), self.dt_max))  # np.clip: 20x slower

    def record(self, sim, dt, event="tune", **features):
        self.history.append({"step": sim.state.step, "time": sim.state.time, "dt": float(dt), "event": event,
                             **features})

    def history_arrays(self):
        """The history as a dict of arrays (``event`` as strings), ready for plotting or a CSV file."""
        keys = []
        for h in self.history:
            keys += [k for k in h if k not in keys]
        return {k: np.array([h.get(k, np.nan) for h in self.history]) for k in keys}
