"""Periodic checkpoints, each written to a temporary file and renamed."""
import os

from .base import PeriodicReporter

__all__ = ["CheckpointReporter"]


class CheckpointReporter(PeriodicReporter):
    """Save ``sim.save_checkpoint(file)`` every ``every`` steps; ``Simulation.from_checkpoint(file)``
    continues the run bitwise identically.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> rep = mdl.CheckpointReporter("run.chk", every=1000)
    """

    def __init__(self, file, every=1000):
        super().__init__(every)
        self.path = os.fspath(file)

    def report(self, sim, snap):
        sim.save_checkpoint(self.path)
