"""The simulation loop: tuners, integrator (with one force evaluation), reporters, checkpoints."""
import os
import pickle
import tempfile
import weakref
from functools import cached_property

import numpy as np

from . import __version__
from .errors import SimulationError
from .forces.base import ALL, ForceResult, Request
from .state import State
from .triggers import as_trigger

__all__ = ["Simulation", "Snapshot"]

_REQUESTS = {(e, v): Request(e, v) for e in (False, True) for v in (False, True)}
_NOTHING = _REQUESTS[False, False]
_CHECKPOINT_FORMAT = "mdlearn-checkpoint-1"


class Snapshot:
    """What a reporter receives: a read-only copy of the state and the observables of that step.

    Attributes
    ----------
    state : State (read-only arrays)
    step : int
    time : float
        Time units.
    dt : float
        Timestep used for the step, time units.
    potential_energy, kinetic_energy, thermostat_energy : float
        Energy units (potential is NaN when no reporter asked for energy).
    energies : dict
        Potential energy per force term.
    temperature : float
        Kinetic temperature with the integrator's degrees of freedom.
    virial : (3, 3) array or None
        ``W_ab = Σ_{i<j} r_ij,a f_ij,b``, energy units (None unless asked for).
    pressure : float or None
        ``(Σ m v² + tr W) / (3V)`` in energy / length³ (None without virial or volume).
    pressure_tensor : (3, 3) array or None
    """

    def __init__(self, sim, result, include, live=False, kinetic_energy=None):
        st = sim.state
        if kinetic_energy is not None:  # known from the step (the integrator returns 2 KE): no pass over the atoms
            self.kinetic_energy = kinetic_energy
        # live: made for the reporters of the step just run, which read it before the state moves on; the
        # copy of the state and the thermostat energy are then taken only if a reporter asks for them, or
        # by keep() if a reporter holds on to the snapshot
        self._sim = sim if live else None
        self._state = None if live else st.snapshot()
        self.step, self.time, self.dt = st.step, st.time, sim.integrator.dt
        self.potential_energy = result.energy if "energy" in include else float("nan")
        self.energies = dict(result.energies) if "energy" in include else {}
        if not live:
            self.thermostat_energy = sim.integrator.thermostat_energy(st)
        self.virial = result.virial if "virial" in include else None
        self._dof = sim.integrator.degrees_of_freedom(st)

    @property
    def state(self):
        if self._state is None:
            self._state = self._sim.state.snapshot()
        return self._state

    @property
    def _now(self):
        """The state the observables are read from: the snapshot's copy once taken, else the live one."""
        return self._sim.state if self._state is None else self._state

    def keep(self):
        """Detach a live snapshot from the simulation before its next step: copy the state, take the thermostat
        energy."""
        if self._sim is not None:
            if self._state is None:
                self._state = self._sim.state.snapshot()
            if "thermostat_energy" not in self.__dict__:
                self.thermostat_energy = self._sim.integrator.thermostat_energy(self._state)
            self._sim = None

    @cached_property
    def thermostat_energy(self):
        return self._sim.integrator.thermostat_energy(self._sim.state)

    # Derived from the state, so computed when first read: most reporters read one or two of them, and a tuner
    # sampling energies every few steps should not pay for all (nor for a copy of the state it never reads).
    @cached_property
    def kinetic_energy(self):
        return self._now.kinetic_energy()

    @cached_property
    def temperature(self):
        return self._now.temperature(self._dof)

    @cached_property
    def pressure_tensor(self):
        now = self._now
        volume = now.volume
        if self.virial is None or not volume > 0:
            return None
        return (now.kinetic_tensor() + self.virial) / volume

    @property
    def pressure(self):
        p = self.pressure_tensor
        return None if p is None else float(np.trace(p) / 3.0)

    @property
    def total_energy(self):
        """Potential + kinetic energy (energy units)."""
        return self.potential_energy + self.kinetic_energy

    @property
    def conserved_energy(self):
        """Potential + kinetic + thermostat energy: constant for NVE and Nosé–Hoover dynamics."""
        return self.total_energy + self.thermostat_energy


class Simulation:
    """A state, a force field and an integrator, stepped together.

    Each step: due tuners → integrator (kick, drift, wrap, neighbor update, forces, kick) → step += 1 →
    due reporters get a :class:`Snapshot`.

    Parameters
    ----------
    state : State
        The live state; integrated in place.
    forcefield : ForceField
    integrator : Integrator
    skin : float, optional
        Neighbor-list skin in length units (default 0.3 σ in LJ units, 1.0 Å in real units).
    blowup_factor : float
        The run stops with :class:`SimulationError` when the kinetic energy per atom exceeds this multiple
        of the run's initial energy scale, or the total energy jumps by as much between two evaluations.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> st = mdl.build.lattice("fcc", cells=(4, 4, 4), density=0.8442)
    >>> st.set_temperature(1.44, seed=1)
    >>> sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones()]), mdl.VelocityVerlet(dt=0.005))
    >>> sim.run(100, progress=False)
    >>> sim.state.step
    100
    """

    def __init__(self, state, forcefield, integrator, skin=None, blowup_factor=100.0):
        if not isinstance(state, State):
            raise TypeError(f"state must be an mdlearn State, got {type(state).__name__}")
        self.state = state
        self.forcefield = forcefield
        self.integrator = integrator
        self.blowup_factor = float(blowup_factor)
        if skin is None:
            skin = 0.3 if state.units.name == "lj" else 1.0
        forcefield.attach(state)  # first: a term may choose its cutoff from the state (Ewald)
        self.nlist = forcefield.make_neighbor_list(skin)
        if self.nlist is not None:
            self.nlist.check_box(state)  # an input error, not a failure of the dynamics at step 1
        self.reporters = []
        self.tuners = []
        self.analyzers = []
        self.analysis = {}
        self.last_checkpoint = None
        integrator.attach(state)
        self._result = ForceResult(state.n_atoms, forces=state.forces)
        self.update_forces(ALL)
        self._next_report = {}
        self._next_due = np.inf  # earliest scheduled report (set by irun)
        self._last_total = None  # total energy at the last step that computed it (energy-jump check in irun)

    # ------------------------------------------------------------------ the parts of a step
    def update_forces(self, request):
        """Refresh the neighbor list if stale and evaluate the force field into ``state.forces``."""
        if self.nlist is not None:
            try:
                self.nlist.update(self.state)
            except ValueError as exc:  # NaN positions land here first
                raise SimulationError(self.state.step + 1, str(exc), self.last_checkpoint) from exc
        self.forcefield.evaluate(self.state, self.nlist, request, self._result)

    @property
    def forces(self):
        """The last :class:`ForceResult` (energy/virial NaN when the last step did not compute them)."""
        return self._result

    def add_reporter(self, reporter):
        """Attach a reporter (see :mod:`mdlearn.reporters`) or ``(callable, interval)`` pair."""
        if isinstance(reporter, tuple):
            from .reporters.base import CallbackReporter

            reporter = CallbackReporter(*reporter)
        for attr in ("describe_next_report", "report"):
            if not hasattr(reporter, attr):
                raise TypeError(f"{reporter!r} is not a reporter: it has no {attr!r}")
        self.reporters.append(reporter)
        self._next_report.pop(id(reporter), None)

    def add_tuner(self, tuner):
        """Attach a tuner: an object with ``trigger`` (int or callable) and ``tune(sim)``, run before a step.

        Optional parts: a tuner that is also a reporter (``describe_next_report``/``report``) is added to the
        reporters too, so it can watch energies; one with ``recover(sim, error) -> bool`` is asked, when the
        dynamics fail, whether it has restored a good state (the run then continues instead of raising).
        """
        if not callable(getattr(tuner, "tune", None)):
            raise TypeError(f"{tuner!r} is not a tuner: it has no tune(sim) method")
        tuner.trigger = as_trigger(getattr(tuner, "trigger", 1))
        self.tuners.append(tuner)
        if hasattr(tuner, "describe_next_report") and hasattr(tuner, "report"):
            self.add_reporter(tuner)

    def add_analyzer(self, analyzer):
        """Attach an analyzer: ``analyze(sim)`` runs when :meth:`run` finishes; its result is stored in
        ``sim.analysis[analyzer.name]`` (or the class name)."""
        if not callable(getattr(analyzer, "analyze", None)):
            raise TypeError(f"{analyzer!r} is not an analyzer: it has no analyze(sim) method")
        self.analyzers.append(analyzer)

    # ------------------------------------------------------------------ running
    def _schedule(self, reporter):
        steps, include = reporter.describe_next_report(self)
        self._next_report[id(reporter)] = (self.state.step + int(steps), tuple(include))

    def _reschedule(self):
        """After the state moved back to an earlier step: reporters count from it, the energy-jump check restarts."""
        self._last_total = None
        for r in self.reporters:
            self._schedule(r)
        self._set_next_due()

    def _set_next_due(self):
        """The earliest step a reporter is scheduled for: steps before it skip the search for due reporters."""
        self._next_due = min((self._next_report[id(r)][0] for r in self.reporters), default=np.inf)

    def irun(self, steps):
        """Generator form of :meth:`run`: yields the step number after each step."""
        if int(steps) != steps or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        st = self.state
        for r in self.reporters:
            if id(r) not in self._next_report:
                self._schedule(r)
        self._set_next_due()
        n = max(st.n_atoms, 1)
        pot = self._result.energy
        scale = max(abs(pot) / n if np.isfinite(pot) else 0.0, st.kinetic_energy() / n,
                    st.units.boltzmann * 1e-3)
        ke_limit = 2.0 * self.blowup_factor * scale * n
        self._last_total = None
        end = st.step + int(steps)
        while st.step < end:  # a tuner's recover() may move the state back to an earlier step
            try:
                target = self._one_step(ke_limit, self.blowup_factor * scale * n)
            except SimulationError as exc:
                if not any(getattr(t, "recover", None) and t.recover(self, exc) for t in self.tuners):
                    raise
                self._reschedule()
                continue
            yield target

    def _one_step(self, ke_limit, energy_jump):
        st = self.state
        integrator = self.integrator
        step = st.step
        for tuner in self.tuners:
            if tuner.trigger(step):
                tuner.tune(self)
        if st.step != step:  # a tuner moved the state back (a safety net): reschedule as after recover()
            self._reschedule()
        target = st.step + 1
        due = [(r, inc) for r in self.reporters
               for when, inc in (self._next_report[id(r)],) if when == target] if target >= self._next_due else ()
        if due:
            include = {x for _, inc in due for x in inc}
            request = _REQUESTS["energy" in include, "virial" in include]
        else:
            request = _NOTHING
        try:
            ke2 = integrator.step(self, request)
        except ValueError as exc:  # a force term refusing the configuration (an ion outside its cell)
            raise SimulationError(target, str(exc), self.last_checkpoint) from exc
        st.step = target
        st.time += integrator.dt
        if not ke2 <= ke_limit:  # also catches NaN
            cause = "non-finite velocities" if not np.isfinite(ke2) else (
                f"kinetic energy {0.5 * ke2:.4g} exceeds {self.blowup_factor:g}x the initial energy scale")
            raise SimulationError(target, cause, self.last_checkpoint)
        if request.energy:
            total = self._result.energy + 0.5 * ke2
            if not np.isfinite(total):
                raise SimulationError(target, "non-finite potential energy", self.last_checkpoint)
            last = self._last_total
            if last is not None and abs(total - last) > energy_jump:
                raise SimulationError(target, f"energy jumped from {last:.6g} to {total:.6g}", self.last_checkpoint)
            self._last_total = total
        if due:
            snap = Snapshot(self, self._result, include, live=True, kinetic_energy=0.5 * float(ke2))
            for r, _ in due:
                r.report(self, snap)
                self._schedule(r)
            self._set_next_due()
            kept = weakref.ref(snap)
            del snap  # gone now unless a reporter holds it; then it must stop reading the live state
            if kept() is not None:
                kept().keep()
        return target

    def run(self, steps, progress=True):
        """Advance ``steps`` steps. A progress bar is shown on a terminal when ``progress`` is true.

        Raises :class:`SimulationError` (step, cause, last checkpoint) if the dynamics blow up; reporter
        files are flushed and closed first, so everything written so far stays readable.
        """
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=int(steps), unit="step", disable=None, mininterval=0.5)
        chunk = max(1, int(steps) // 200)
        try:
            done = 0
            for done, _ in enumerate(self.irun(steps), 1):
                if bar is not None and done % chunk == 0:
                    bar.update(chunk)
            if bar is not None:
                bar.update(done - bar.n)
        except BaseException:
            self.close()
            raise
        finally:
            if bar is not None:
                bar.close()
        for r in self.reporters:
            if hasattr(r, "flush"):
                r.flush()
        for a in self.analyzers:
            self.analysis[getattr(a, "name", type(a).__name__)] = a.analyze(self)

    def close(self):
        """Flush and close every reporter (their files stay complete and readable)."""
        for r in self.reporters:
            if hasattr(r, "close"):
                r.close()

    # ------------------------------------------------------------------ observables
    def temperature(self):
        """Kinetic temperature with the integrator's degrees of freedom (temperature units)."""
        return self.state.temperature(self.integrator.degrees_of_freedom(self.state))

    def snapshot(self):
        """Energy, virial and everything else for the current state (one extra force evaluation)."""
        self.update_forces(ALL)
        return Snapshot(self, self._result, ("energy", "virial"))

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path):
        """Write everything needed to continue bitwise identically: state, force field, integrator
        (with its random generator), and the neighbor list's build positions.

        Written to a temporary file in the same folder, then renamed, so an existing checkpoint is never
        left half-written.
        """
        path = os.fspath(path)
        payload = {
            "format": _CHECKPOINT_FORMAT, "version": __version__, "state": self.state.to_dict(),
            "forcefield": self.forcefield, "integrator": self.integrator, "blowup_factor": self.blowup_factor,
            "skin": None if self.nlist is None else self.nlist.skin,
            "nlist_reference": None if self.nlist is None else self.nlist.reference,
        }
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".chk-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
                fh.flush()
                os.fsync(fh.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.last_checkpoint = path

    @classmethod
    def from_checkpoint(cls, path):
        """Rebuild a simulation from :meth:`save_checkpoint`'s file. Reporters are not restored."""
        with open(path, "rb") as fh:
            payload = pickle.load(fh)
        if not isinstance(payload, dict) or payload.get("format") != _CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not an mdlearn checkpoint")
        saved = payload["state"]
        state = State.from_dict(saved)
        sim = cls(state, payload["forcefield"], payload["integrator"], skin=payload["skin"],
                  blowup_factor=payload["blowup_factor"])
        # Setting up evaluated forces and may have rewrapped positions: put back the saved arrays, and
        # rebuild the list from the same build positions -> same pairs, order, images and float sums.
        state.positions = saved["positions"]
        state.images[...] = saved["images"]
        state.forces[...] = saved["forces"]
        ref = payload["nlist_reference"]
        if ref is not None:
            at_build = state.copy()
            at_build.positions = ref
            sim.nlist.build(at_build)
        sim.last_checkpoint = os.fspath(path)
        return sim
