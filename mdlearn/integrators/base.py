"""What every integrator shares: a timestep that may change between any two steps."""
import numpy as np

__all__ = ["Integrator"]


class Integrator:
    """Base class. Subclasses implement ``step(sim, request) -> 2 KE`` doing exactly one force evaluation
    (through ``sim.update_forces(request)``), and may override ``_coefficients``."""

    def __init__(self, dt):
        self.dt = dt

    @property
    def dt(self):
        """Timestep in time units (τ or fs); settable between any two steps."""
        return self._dt

    @dt.setter
    def dt(self, value):
        value = float(value)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"dt must be positive and finite, got {value}")
        self._dt = value
        self._coefficients()

    def _coefficients(self):
        """Recompute whatever depends on dt (and the other parameters)."""

    def attach(self, state):
        """Prepare for ``state`` (buffers, thermostat masses)."""

    def degrees_of_freedom(self, state):
        """Degrees of freedom for the kinetic temperature: 3N - 3 when momentum is conserved."""
        return state.degrees_of_freedom

    def thermostat_energy(self, state):
        """Energy held by the thermostat, so that potential + kinetic + this is conserved."""
        return 0.0

    def _params(self):
        return {"dt": self.dt}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"
