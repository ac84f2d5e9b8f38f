"""Observables computed from simulations: ion density profiles; deep clustering of trajectories.

``DeepClustering`` needs torch and scikit-learn (the ``ml`` extra); it is imported on first use so that
``import mdlearn`` works without them.
"""
from .profiles import ProfileResult, RadialProfile, SlabProfile, density_profile

__all__ = ["DeepClustering", "ProfileResult", "RadialProfile", "SlabProfile", "density_profile"]


def __getattr__(name):
    if name == "DeepClustering":
        from .clustering import DeepClustering

        return DeepClustering
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
