"""When tuners and reporters act: ``Periodic(period, phase)`` or any callable ``f(step) -> bool``."""

__all__ = ["Periodic", "as_trigger"]


class Periodic:
    """Fires on steps where ``(step - phase) % period == 0``."""

    def __init__(self, period, phase=0):
        if int(period) != period or period < 1:
            raise ValueError(f"period must be a positive integer, got {period!r}")
        self.period = int(period)
        self.phase = int(phase)

    def __call__(self, step):
        return (step - self.phase) % self.period == 0

    def steps_until(self, step):
        """Steps from ``step`` to the next step (after it) on which this fires."""
        return self.period - (step - self.phase) % self.period

    def __repr__(self):
        return f"Periodic({self.period}, phase={self.phase})"


def as_trigger(trigger):
    """An int becomes ``Periodic(int)``; a callable is used as it is."""
    if isinstance(trigger, int):
        return Periodic(trigger)
    if callable(trigger):
        return trigger
    raise TypeError(f"a trigger is a positive int or a callable step -> bool, got {trigger!r}")
