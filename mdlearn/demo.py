"""The Lennard-Jones demo behind ``mdlearn demo lj`` and ``examples/lj_demo.py``.

An fcc lattice at liquid density is melted with Langevin dynamics, then run at constant energy (velocity
Verlet). Written to ``out_dir``: ``thermo.csv``, ``traj.dcd`` with its topology ``traj.pdb``, and
``energy.png`` (energies, temperature and the NVE energy drift against time).
"""
import os
import time

import numpy as np

from .build import lattice
from .forces import ForceField, LennardJones
from .integrators import Langevin, VelocityVerlet
from .reporters import ThermoReporter, TrajectoryReporter
from .simulation import Simulation
from .threads import get_num_threads, set_num_threads

__all__ = ["run_lj_demo", "run_nanoparticle_demo"]


def run_lj_demo(out_dir, cells=10, steps=3000, seed=1, equilibration=1000, density=0.8442, temperature=1.44,
                dt=0.005, every=50, threads=None, progress=True, verbose=True):
    """Melt an fcc LJ lattice with Langevin dynamics, run NVE, and write thermo, trajectory and a plot.

    Parameters
    ----------
    out_dir : str or path
        Created if missing.
    cells : int
        fcc cells per box edge (4 cells³ atoms: 10 gives 4000).
    steps : int
        Constant-energy (velocity Verlet) steps after equilibration.
    seed : int
        Seeds the initial velocities and the Langevin noise.
    equilibration : int
        Langevin steps at ``temperature`` before the NVE part.
    density, temperature, dt : float
        Reduced units: σ⁻³, ε/k_B, τ.
    every : int
        Thermo and trajectory interval in steps.
    threads : int, optional
        Kernel threads (default: see :func:`mdlearn.get_num_threads`).
    progress, verbose : bool
        Show progress bars; print the summary.

    Returns
    -------
    dict
        ``atoms``, ``steps`` (total), ``wall_time`` (s), ``atom_steps_per_s``, ``mean_temperature`` and
        ``energy_drift`` (relative change of the total energy over the NVE part, from a linear fit), and the
        output paths.
    """
    for name, value, low in (("cells", cells, 1), ("steps", steps, 0), ("equilibration", equilibration, 0),
                             ("every", every, 1)):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if equilibration + steps < every:
        raise ValueError(f"equilibration + steps ({equilibration + steps}) must be at least every ({every})")
    if threads is not None:
        set_num_threads(threads)
    os.makedirs(out_dir, exist_ok=True)
    files = {"thermo": "thermo.csv", "trajectory": "traj.dcd", "topology": "traj.pdb", "plot": "energy.png"}
    paths = {key: os.path.join(out_dir, name) for key, name in files.items()}

    state = lattice("fcc", cells=int(cells), density=density)
    state.set_temperature(temperature, seed=seed)
    forcefield = ForceField([LennardJones(epsilon=1.0, sigma=1.0, cutoff=2.5, shift=True)])
    thermo = ThermoReporter(paths["thermo"], every=every)
    traj = TrajectoryReporter(paths["trajectory"], every=every)

    start = time.perf_counter()
    try:
        melt = Simulation(state, forcefield, Langevin(dt, temperature, friction=1.0, seed=seed + 1))
        for r in (thermo, traj):
            melt.add_reporter(r)
        melt.run(int(equilibration), progress=progress)
        # Langevin does not conserve momentum: remove the drift so NVE's 3N - 3 degrees of freedom hold.
        state.velocities -= (state.masses @ state.velocities) / state.masses.sum()
        nve = Simulation(state, forcefield, VelocityVerlet(dt))
        e_start = nve.snapshot().total_energy
        for r in (thermo, traj):
            nve.add_reporter(r)
        nve.run(int(steps), progress=progress)
    finally:
        thermo.close()
        traj.close()
    wall = time.perf_counter() - start

    data = np.genfromtxt(paths["thermo"], delimiter=",", names=True)
    data = np.atleast_1d(data)
    in_nve = data["step"] > equilibration
    # Drift: the slope of a line fitted to the NVE total energy (less noisy than last minus first) times the
    # NVE duration, relative to the starting energy.
    t_nve = np.concatenate([[equilibration * dt], data["time"][in_nve]])
    e_nve = np.concatenate([[e_start], data["total_energy"][in_nve]])
    slope = np.polyfit(t_nve, e_nve, 1)[0] if len(e_nve) > 1 else 0.0
    total_steps = int(equilibration) + int(steps)
    summary = {
        "atoms": state.n_atoms,
        "steps": total_steps,
        "equilibration_steps": int(equilibration),
        "nve_steps": int(steps),
        "threads": get_num_threads(),
        "wall_time": wall,
        "atom_steps_per_s": state.n_atoms * total_steps / wall,
        "mean_temperature": float(np.mean(data["temperature"][in_nve])) if in_nve.any() else float("nan"),
        "energy_drift": float(slope * steps * dt / abs(e_start)),
        **paths,
    }
    _plot(data, state.n_atoms, equilibration * dt, e_start, temperature, paths["plot"])
    if verbose:
        print(format_summary(summary))
    return summary


def format_summary(s):
    """The demo's summary as a few lines of text."""
    return "\n".join([
        f"LJ demo: {s['atoms']} atoms, {s['equilibration_steps']} Langevin + {s['nve_steps']} NVE steps "
        f"on {s['threads']} thread(s)",
        f"  wall time          {s['wall_time']:.2f} s  ({s['atom_steps_per_s']:.3g} atom-steps/s)",
        f"  mean T (NVE)       {s['mean_temperature']:.4f}",
        f"  energy drift (NVE) {s['energy_drift']:.2e} relative, over {s['nve_steps']} steps (linear fit)",
        f"  wrote {s['thermo']}, {s['trajectory']} (+ {os.path.basename(s['topology'])}), {s['plot']}",
    ])


def _plot(data, n_atoms, t_switch, e_start, target, path):
    # A bare Figure on the Agg canvas: no pyplot, so the caller's backend and figures are left alone.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t = data["time"]
    fig = Figure(figsize=(7.5, 8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 1, sharex=True)
    ax = axes[0]
    ax.plot(t, data["potential_energy"] / n_atoms, label="potential")
    ax.plot(t, data["total_energy"] / n_atoms, label="total")
    ax.set_ylabel("energy per atom (ε)")
    ax.legend(loc="center right")
    ax = axes[1]
    ax.plot(t, data["temperature"], color="C3", label="kinetic temperature")
    ax.axhline(target, color="k", lw=0.8, ls=":", label=f"Langevin target {target:g}")
    ax.set_ylabel("temperature (ε/k_B)")
    ax.legend(loc="lower right")
    ax = axes[2]
    nve = t > t_switch
    ax.plot(t[nve], (data["total_energy"][nve] - e_start) / abs(e_start), color="C2")
    ax.axhline(0.0, color="k", lw=0.8, ls=":")
    ax.set_ylabel("NVE: ΔE / |E₀|")
    ax.set_xlabel("time (τ)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    for ax in axes:
        ax.axvspan(0.0, t_switch, color="0.92", zorder=0)
        ax.grid(alpha=0.3)
    axes[0].set_title(f"LJ liquid, {n_atoms} atoms: Langevin (shaded), then NVE", fontsize=11)
    fig.savefig(path, dpi=110)


def run_nanoparticle_demo(out_dir, **kwargs):
    """The learned-timestep nanoparticle demo (``mdlearn demo nanoparticle``); see
    :func:`mdlearn.tune.demo.run_nanoparticle_demo` for the arguments."""
    from .tune.demo import run_nanoparticle_demo as run

    return run(out_dir, **kwargs)
