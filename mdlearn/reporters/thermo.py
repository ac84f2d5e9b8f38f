"""Thermodynamic log as CSV."""
import csv
import io
import os

from .base import PeriodicReporter

__all__ = ["ThermoReporter"]


class ThermoReporter(PeriodicReporter):
    """Append one CSV row every ``every`` steps: step, time, dt, potential/kinetic/total/conserved energy,
    temperature, pressure (when ``pressure=True``) and the potential energy of each force term.

    Rows are flushed as they are written, so the file is complete up to the last report even if the run
    fails. Units are those of the state (energy, temperature, energy / length³, time).

    Parameters
    ----------
    file : str, path or text file object
    every : int
        Report interval in steps.
    pressure : bool
        Compute the virial on report steps to log the pressure.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> rep = mdl.ThermoReporter("thermo.csv", every=100)
    """

    def __init__(self, file, every=100, pressure=True):
        super().__init__(every)
        self.include = ("energy", "virial") if pressure else ("energy",)
        self._own = not isinstance(file, io.IOBase)
        self.path = os.fspath(file) if self._own else getattr(file, "name", None)
        self._fh = open(file, "w", newline="") if self._own else file
        self._writer = None

    def report(self, sim, snap):
        if self._writer is None:
            self._columns = ["step", "time", "dt", "potential_energy", "kinetic_energy", "total_energy",
                             "conserved_energy", "temperature"]
            if "virial" in self.include:
                self._columns.append("pressure")
            self._terms = list(snap.energies)
            self._columns += [f"energy_{name}" for name in self._terms]
            self._writer = csv.writer(self._fh)
            self._writer.writerow(self._columns)
        row = [snap.step, repr(snap.time), repr(snap.dt), repr(snap.potential_energy), repr(snap.kinetic_energy),
               repr(snap.total_energy), repr(snap.conserved_energy), repr(snap.temperature)]
        if "virial" in self.include:
            row.append(repr(snap.pressure))
        row += [repr(snap.energies.get(name, float("nan"))) for name in self._terms]
        self._writer.writerow(row)
        self._fh.flush()

    def flush(self):
        if not self._fh.closed:
            self._fh.flush()

    def close(self):
        if self._own and not self._fh.closed:
            self._fh.close()
