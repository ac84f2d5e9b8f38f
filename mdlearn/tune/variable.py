"""A classical, error-controlled variable timestep: the largest dt that moves no atom further than a set
distance in one step (the rule of LAMMPS's ``fix dt/reset``)."""
import numpy as np

from .base import TimestepTuner

__all__ = ["VariableTimestep"]


class VariableTimestep(TimestepTuner):
    """Every ``every`` steps, set ``dt`` so that the largest displacement in one step,
    ``|v| dt + |a| dt² / 2``, equals ``max_displacement`` (length units), within ``[dt_min, dt_max]`` and a
    factor ``max_change`` per decision. Attach with ``sim.add_tuner(tuner)``.

    Parameters
    ----------
    max_displacement : float
        Length units (Å in real units, σ in LJ units).
    every : int
        Steps between decisions.
    dt_min, dt_max : float
        Time units.
    max_change : float
        Largest factor between two consecutive timesteps.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
    >>> st.set_temperature(1.0, seed=1)
    >>> sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones()]), mdl.VelocityVerlet(dt=0.001))
    >>> tuner = mdl.tune.VariableTimestep(max_displacement=0.02, every=10, dt_min=1e-4, dt_max=0.01)
    >>> sim.add_tuner(tuner)
    >>> sim.run(50, progress=False)
    >>> len(tuner.history), 1e-4 <= sim.integrator.dt <= 0.01
    (5, True)
    """

    def __init__(self, max_displacement, every=10, dt_min=1e-3, dt_max=np.inf, max_change=2.0):
        if not (np.isfinite(max_displacement) and max_displacement > 0):
            raise ValueError(f"max_displacement must be positive (length units), got {max_displacement!r}")
        super().__init__(every, dt_min, dt_max if np.isfinite(dt_max) else 1e300, max_change)
        self.max_displacement = float(max_displacement)

    def proposal(self, sim):
        """The dt (time units) at which the fastest-moving atom would move ``max_displacement``."""
        st = sim.state
        v = np.sqrt(np.einsum("ij,ij->i", st.velocities, st.velocities))
        a = np.sqrt(np.einsum("ij,ij->i", st.forces, st.forces)) * st.inv_mass
        x = self.max_displacement
        # positive root of a/2 dt² + v dt - x = 0, written to stay accurate when a -> 0
        root = 2.0 * x / (v + np.sqrt(v * v + 2.0 * a * x))
        return float(root.min()) if len(root) else self.dt_max

    def tune(self, sim):
        proposed = self.proposal(sim)
        dt = self.limit(sim.integrator.dt, proposed)
        sim.integrator.dt = dt
        self.record(sim, dt, proposed=proposed)
