"""Reporters: thermo CSV, trajectories through mdtraj, checkpoints, callbacks."""
from .base import CallbackReporter, PeriodicReporter
from .checkpoint import CheckpointReporter
from .thermo import ThermoReporter
from .trajectory import TrajectoryReporter, topology

__all__ = ["CallbackReporter", "CheckpointReporter", "PeriodicReporter", "ThermoReporter",
           "TrajectoryReporter", "topology"]
