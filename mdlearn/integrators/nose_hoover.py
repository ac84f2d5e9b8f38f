"""Nosé–Hoover chain thermostat (NVT), Martyna–Tuckerman–Klein splitting around velocity Verlet."""
import numpy as np

from .._kernels import integrate as _ik
from ..threads import elementwise_threads
from .base import Integrator

__all__ = ["NoseHooverChain"]


class NoseHooverChain(Integrator):
    """Deterministic NVT: a chain of Nosé–Hoover thermostats acting on the total kinetic energy.

    A step is: chain half step, velocity Verlet, chain half step. The conserved quantity is
    potential + kinetic + :meth:`thermostat_energy`.

    Parameters
    ----------
    dt : float
        Timestep in time units.
    temperature : float
        Target temperature in temperature units.
    tau : float
        Thermostat period in time units; Q_1 = dof k_B T tau², Q_k = k_B T tau².
    chain : int
        Number of thermostats in the chain (default 3).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> integ = mdl.NoseHooverChain(dt=0.005, temperature=1.5, tau=0.5)
    """

    def __init__(self, dt, temperature, tau=0.5, chain=3):
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if not tau > 0:
            raise ValueError(f"tau must be > 0, got {tau}")
        if int(chain) != chain or chain < 1:
            raise ValueError(f"chain must be a positive integer, got {chain}")
        self.temperature = float(temperature)
        self.tau = float(tau)
        self.chain = int(chain)
        self.xi = np.zeros(self.chain)    # thermostat positions (dimensionless)
        self.vxi = np.zeros(self.chain)   # thermostat velocities (1 / time)
        self._q = None
        super().__init__(dt)

    def attach(self, state):
        kt = state.units.boltzmann * self.temperature
        self._kt = kt
        self._dof = self.degrees_of_freedom(state)
        self._q = np.full(self.chain, kt * self.tau**2)
        self._q[0] *= self._dof

    def _force(self, k, ke2):
        if k == 0:
            return (ke2 - self._dof * self._kt) / self._q[0]
        return (self._q[k - 1] * self.vxi[k - 1] ** 2 - self._kt) / self._q[k]

    def _half_chain(self, state, ke2):
        """Propagate the chain by dt/2 and scale the velocities; return the new 2 KE."""
        m, dt = self.chain, self._dt
        vxi = self.vxi
        vxi[m - 1] += 0.25 * dt * self._force(m - 1, ke2)
        for k in range(m - 2, -1, -1):
            damp = np.exp(-0.125 * dt * vxi[k + 1])
            vxi[k] = (vxi[k] * damp + 0.25 * dt * self._force(k, ke2)) * damp
        self.xi += 0.5 * dt * vxi
        scale = np.exp(-0.5 * dt * vxi[0])
        state.velocities *= scale
        ke2 *= scale * scale
        for k in range(m - 1):
            damp = np.exp(-0.125 * dt * vxi[k + 1])
            vxi[k] = (vxi[k] * damp + 0.25 * dt * self._force(k, ke2)) * damp
        vxi[m - 1] += 0.25 * dt * self._force(m - 1, ke2)
        return ke2

    def step(self, sim, request):
        st = sim.state
        if self._q is None:
            self.attach(st)
        nt = elementwise_threads(st.n_atoms)
        self._half_chain(st, _ik.kick_twice_ke(st.velocities, st.forces, st.inv_mass, 0.0, nt))
        half = 0.5 * self._dt
        _ik.kick(st.velocities, st.forces, st.inv_mass, half, nt)
        _ik.drift(st.positions, st.velocities, self._dt, nt)
        sim.update_forces(request)
        ke2 = _ik.kick_twice_ke(st.velocities, st.forces, st.inv_mass, half, nt)
        return self._half_chain(st, ke2)

    def thermostat_energy(self, state):
        if self._q is None:
            self.attach(state)
        # plain floats: NumPy calls on three-element arrays cost more than the arithmetic (energy samplers call
        # this every few steps)
        q, vxi, xi = self._q.tolist(), self.vxi.tolist(), self.xi.tolist()
        return 0.5 * sum(a * v * v for a, v in zip(q, vxi, strict=True)) + self._dof * self._kt * xi[0] \
            + self._kt * sum(xi[1:])

    def _params(self):
        return {"dt": self.dt, "temperature": self.temperature, "tau": self.tau, "chain": self.chain}
