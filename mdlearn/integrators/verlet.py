"""Velocity Verlet (NVE)."""
from .._kernels import integrate as _ik
from ..threads import elementwise_threads
from .base import Integrator

__all__ = ["VelocityVerlet"]


class VelocityVerlet(Integrator):
    """Velocity Verlet: kick dt/2, drift dt, forces, kick dt/2. Conserves energy (NVE).

    Parameters
    ----------
    dt : float
        Timestep in time units (τ for ``"lj"``, fs for ``"real"``).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
    >>> sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones()]), mdl.VelocityVerlet(dt=0.005))
    >>> sim.run(10, progress=False)
    """

    def step(self, sim, request):
        st = sim.state
        half = 0.5 * self._dt
        nt = elementwise_threads(st.n_atoms)
        _ik.kick(st.velocities, st.forces, st.inv_mass, half, nt)
        _ik.drift(st.positions, st.velocities, self._dt, nt)
        sim.update_forces(request)
        return _ik.kick_twice_ke(st.velocities, st.forces, st.inv_mass, half, nt)
