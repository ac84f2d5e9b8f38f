"""Runs of one nanoparticle system over the same simulated time with different timestep policies (a fixed dt,
a tuner), each timed and sampled for its radial density profile, and the comparison of two profiles.
Shared by ``mdlearn demo nanoparticle`` and ``benchmarks/timestep.py``."""
import math
import time

import numpy as np

from ..analysis import density_profile
from ..errors import SimulationError
from ..integrators import NoseHooverChain
from ..simulation import Simulation

__all__ = ["TimeSampler", "profile_agreement", "timed_run"]


class TimeSampler:
    """A reporter that hands the state to ``profile.sample`` every ``interval`` of simulated time (time
    units), whatever the timestep: the next report is scheduled from the current dt, so samples stay evenly
    spaced in time when a tuner changes dt (to within half a step), one per interval.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> sampler = TimeSampler(profile=None, interval=100.0)
    >>> sim = SimpleNamespace(state=SimpleNamespace(time=0.0), integrator=SimpleNamespace(dt=30.0))
    >>> sampler.describe_next_report(sim)      # 3 steps of 30 land at 90, the nearest to 100
    (3, ())
    >>> sim.state.time = 90.0                  # sampled there: the next target is 200, not 100 again
    >>> sampler.describe_next_report(sim)
    (4, ())
    """

    def __init__(self, profile, interval):
        if not (np.isfinite(interval) and interval > 0):
            raise ValueError(f"sampling interval must be a positive time, got {interval!r}")
        self.profile = profile
        self.interval = float(interval)

    def describe_next_report(self, sim):
        t, dt = sim.state.time, sim.integrator.dt
        # the first multiple of the interval beyond half a step from now: a sample that landed up to half a
        # step short of its target stands for that target
        target = (math.floor((t + 0.5 * dt) / self.interval) + 1) * self.interval  # math: NumPy costs 10x here
        return max(1, round((target - t) / dt)), ()

    def report(self, sim, snapshot):
        self.profile.sample(sim.state)  # the live state is this step's while reporters run: no copy needed


def timed_run(system, start, dt, duration, tuner=None, sample_interval=100.0, tau=500.0, equilibrate=0.0,
              blocks=10):
    """Run ``system`` from a copy of the state ``start`` for ``duration`` (fs) of Nosé–Hoover dynamics at the
    system's temperature (``tau`` fs), starting at ``dt`` (fs), with ``tuner`` attached if given; the radial
    density profile is sampled every ``sample_interval`` fs after ``equilibrate`` fs.

    Returns a dict: ``wall`` (s), ``cpu`` (s of this process's CPU time: on a shared machine the fairer cost of a
    one-thread run), ``steps``, ``simulated`` (fs), ``rate`` and ``cpu_rate`` (fs of simulated time per wall or CPU
    second), ``failed`` (the :class:`~mdlearn.SimulationError` message or None), ``profile`` (a
    :class:`~mdlearn.analysis.ProfileResult`, None if too few samples), ``drift`` (relative change of the
    conserved energy from the first to the last sample, per ns), ``tuner``.
    """
    meta = system.metadata
    state = start.copy()
    sim = Simulation(state, system.forcefield, NoseHooverChain(dt=dt, temperature=meta["temperature"], tau=tau))
    if tuner is not None:
        sim.add_tuner(tuner)
    profile = density_profile(system, bin_width=1.0, species=["counterion"])
    energies = []
    sim.add_reporter((lambda snap: energies.append((snap.time, snap.conserved_energy)), 200))
    t_end = state.time + duration
    failed = None
    wall0, cpu0 = time.perf_counter(), time.process_time()
    steps0 = state.step
    try:
        if equilibrate > 0:
            _advance(sim, state.time + equilibrate)
        sim.add_reporter(TimeSampler(profile, sample_interval))
        _advance(sim, t_end)
    except SimulationError as exc:
        failed = str(exc)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    simulated = state.time - (t_end - duration)
    try:
        prof = profile.result(blocks=blocks)
    except ValueError:
        prof = None
    drift = float("nan")
    if len(energies) > 2:
        t, e = np.array(energies).T
        scale = abs(np.mean([meta["kT"] * state.n_atoms]))
        drift = float(np.polyfit(t, e, 1)[0] * 1e6 / scale)  # per ns, in units of N kT
    return {"wall": wall, "cpu": cpu, "steps": state.step - steps0, "simulated": simulated, "rate": simulated / wall,
            "cpu_rate": simulated / cpu,
            "failed": failed, "profile": prof, "drift": drift, "tuner": tuner, "final_dt": sim.integrator.dt}


def _advance(sim, t_end, chunk=200, growth=2.0):
    """Step until the simulated time reaches ``t_end``, overshooting by less than one step although a tuner may
    raise dt on the way (by up to a factor ``growth`` within a chunk). The first step runs alone: a tuner's first
    decision may jump further (``LearnedTimestep`` starts at the model's dt)."""
    st = sim.state
    n = 1
    while st.time < t_end - 1e-9:
        sim.run(n, progress=False)
        n = max(1, min(chunk, int((t_end - st.time) / (growth * sim.integrator.dt))))


def profile_agreement(a, b, species="counterion"):
    """Compare two radial profiles bin by bin: ``z`` = (ρ_a − ρ_b) / sqrt(σ_a² + σ_b²) over bins where either
    error is non-zero. Returns ``{"chi2_per_bin", "within_2sigma"}`` (fraction of bins with |z| < 2) and
    ``agree`` = chi2_per_bin < 2 (the two agree within their error bars).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> p = SimpleNamespace(density={"counterion": np.array([1.0, 2.0])}, error={"counterion": np.array([0.1, 0.1])})
    >>> q = SimpleNamespace(density={"counterion": np.array([1.1, 2.0])}, error={"counterion": np.array([0.1, 0.1])})
    >>> profile_agreement(p, q)["within_2sigma"]
    1.0
    """
    ra, rb = a.density[species], b.density[species]
    ea, eb = a.error[species], b.error[species]
    sigma = np.sqrt(ea**2 + eb**2)
    use = sigma > 0
    z = (ra[use] - rb[use]) / sigma[use]
    chi2 = float(np.mean(z**2)) if z.size else float("nan")
    return {"chi2_per_bin": chi2, "within_2sigma": float(np.mean(np.abs(z) < 2)) if z.size else float("nan"),
            "agree": bool(chi2 < 2.0)}
