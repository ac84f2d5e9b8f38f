"""The reporter protocol (as in OpenMM): ``describe_next_report(sim) -> (steps, include)`` and
``report(sim, snapshot)``; optional ``flush()`` and ``close()``.

``include`` names what the snapshot must hold beyond positions and velocities: ``"energy"``, ``"virial"``.
"""
from ..triggers import Periodic

__all__ = ["CallbackReporter", "PeriodicReporter"]


class PeriodicReporter:
    """Base for reporters that act every ``every`` steps and need ``include``."""

    include = ()

    def __init__(self, every):
        self.every = every
        self._trigger = Periodic(every)

    def describe_next_report(self, sim):
        return self._trigger.steps_until(sim.state.step), self.include


class CallbackReporter(PeriodicReporter):
    """Calls ``fn(snapshot)`` every ``every`` steps (``sim.add_reporter((fn, every))`` makes one)."""

    include = ("energy", "virial")

    def __init__(self, fn, every):
        if not callable(fn):
            raise TypeError(f"callback must be callable, got {fn!r}")
        super().__init__(every)
        self.fn = fn

    def report(self, sim, snapshot):
        self.fn(snapshot)
