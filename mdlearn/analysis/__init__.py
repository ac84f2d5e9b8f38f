"""Observables computed from simulations: ion density profiles (more to come)."""
from .profiles import ProfileResult, RadialProfile, SlabProfile, density_profile

__all__ = ["ProfileResult", "RadialProfile", "SlabProfile", "density_profile"]
