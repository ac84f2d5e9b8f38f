"""Exceptions raised by mdlearn."""


class SimulationError(RuntimeError):
    """A run stopped because the dynamics became unphysical (NaN, an energy jump).

    Attributes
    ----------
    step : int
        The step at which the problem was detected.
    cause : str
        What was detected.
    checkpoint : str or None
        Path of the last checkpoint written safely before the failure, if any.
    """

    def __init__(self, step, cause, checkpoint=None):
        self.step = step
        self.cause = cause
        self.checkpoint = checkpoint
        where = f"; last good checkpoint: {checkpoint}" if checkpoint else "; no checkpoint was written"
        super().__init__(f"simulation failed at step {step}: {cause}{where}")
