"""Langevin dynamics with the BAOAB splitting (NVT)."""
import numpy as np

from .._kernels import integrate as _ik
from ..threads import elementwise_threads
from .base import Integrator

__all__ = ["Langevin"]


class Langevin(Integrator):
    """BAOAB Langevin integrator (Leimkuhler & Matthews): kick dt/2, drift dt/2, Ornstein–Uhlenbeck
    step dt, drift dt/2, forces, kick dt/2. Samples configurations accurately at large dt.

    Parameters
    ----------
    dt : float
        Timestep in time units.
    temperature : float
        Target temperature in temperature units (ε/k_B or K).
    friction : float
        Collision rate γ in 1 / time units.
    seed : int or numpy.random.Generator, optional
        Source of the noise; the same seed gives the same trajectory.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> integ = mdl.Langevin(dt=0.005, temperature=1.5, friction=1.0, seed=42)
    """

    def __init__(self, dt, temperature, friction=1.0, seed=None):
        self._sigma = None
        self._friction = 1.0
        self.temperature = temperature
        self.friction = friction
        self.seed = seed
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        super().__init__(dt)

    @property
    def temperature(self):
        """Target temperature (temperature units); settable between steps."""
        return self._temperature

    @temperature.setter
    def temperature(self, value):
        if not value >= 0:
            raise ValueError(f"temperature must be >= 0, got {value}")
        self._temperature = float(value)
        self._sigma = None

    @property
    def friction(self):
        """Collision rate γ (1 / time units); settable between steps."""
        return self._friction

    @friction.setter
    def friction(self, value):
        if not value > 0:
            raise ValueError(f"friction must be > 0, got {value}")
        self._friction = float(value)
        if hasattr(self, "_dt"):
            self._coefficients()

    def _coefficients(self):
        self._c1 = float(np.exp(-self._friction * self._dt))
        self._sigma = None  # depends on c1, the temperature and the masses; rebuilt at the next step

    def attach(self, state):
        self._sigma = None

    def degrees_of_freedom(self, state):
        """3N: the thermostat does not conserve momentum."""
        return 3 * state.n_atoms

    def step(self, sim, request):
        st = sim.state
        if self._sigma is None or len(self._sigma) != st.n_atoms:
            kt = st.units.boltzmann * self.temperature
            self._sigma = np.sqrt((1.0 - self._c1**2) * kt * st.inv_mass)
            self._noise = np.empty((st.n_atoms, 3))
        half = 0.5 * self._dt
        nt = elementwise_threads(st.n_atoms)
        _ik.kick(st.velocities, st.forces, st.inv_mass, half, nt)
        _ik.drift(st.positions, st.velocities, half, nt)
        self.rng.standard_normal(out=self._noise)
        _ik.ornstein_uhlenbeck(st.velocities, self._noise, self._c1, self._sigma, nt)
        _ik.drift(st.positions, st.velocities, half, nt)
        sim.update_forces(request)
        return _ik.kick_twice_ke(st.velocities, st.forces, st.inv_mass, half, nt)

    def _params(self):
        return {"dt": self.dt, "temperature": self.temperature, "friction": self.friction, "seed": self.seed}
