"""Tuners: objects run before a step that adjust run parameters (the timestep), with their history.

``VariableTimestep`` is the classical error-controlled baseline; ``LearnedTimestep`` asks a trained
estimator for the largest acceptable timestep from system and state features, with a safety net.
"""
from .base import GoodState, TimestepTuner
from .features import STATE_FEATURES, SYSTEM_FEATURES, state_features, system_features
from .labels import RATIO_LIMIT, energy_fluctuation_ratio, is_acceptable, nve_segment
from .learned import LearnedTimestep, nanoparticle_features
from .model import TimestepModel, load_timestep_model
from .variable import VariableTimestep

__all__ = ["GoodState", "LearnedTimestep", "RATIO_LIMIT", "STATE_FEATURES", "SYSTEM_FEATURES", "TimestepModel",
           "TimestepTuner", "VariableTimestep", "energy_fluctuation_ratio", "is_acceptable", "load_timestep_model",
           "nanoparticle_features", "nve_segment", "state_features", "system_features"]
