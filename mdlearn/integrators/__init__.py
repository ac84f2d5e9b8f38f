"""Integrators: velocity Verlet (NVE), Langevin BAOAB and Nosé–Hoover chains (NVT)."""
from .base import Integrator
from .langevin import Langevin
from .nose_hoover import NoseHooverChain
from .verlet import VelocityVerlet

__all__ = ["Integrator", "Langevin", "NoseHooverChain", "VelocityVerlet"]
