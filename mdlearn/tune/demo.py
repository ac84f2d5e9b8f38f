"""The nanoparticle demo behind ``mdlearn demo nanoparticle`` and ``make demo``.

A charged nanoparticle (low permittivity, so its induced charge repels the ions) with counterions and a 1:1
salt in a spherical cell is equilibrated, then run twice from the same state for the same simulated time with
Nosé–Hoover dynamics: once at the fixed timestep that is safe across the whole training parameter range, and
once with the shipped learned timestep tuner. Printed: the speedup in simulated time per wall-clock second, the
timestep chosen over time, and the two counterion density profiles with their error bars. Written to ``out_dir``:
``nanoparticle.png`` (dt trace and profiles) and ``profiles.csv``.
"""
import csv
import os
import time

import numpy as np

from ..build import nanoparticle_system
from ..threads import get_num_threads, set_num_threads
from .compare import profile_agreement, timed_run
from .learned import LearnedTimestep
from .model import load_timestep_model

__all__ = ["run_nanoparticle_demo"]


def run_nanoparticle_demo(out_dir, radius=1.0, charge=-12.0, valency=2, salt=0.1, ion_diameter=0.4, epsilon_in=2.0,
                          cell_radius=3.5, duration=100.0, equilibration=1000, seed=1, model=None, every=200,
                          threads=None, verbose=True):
    """Run the nanoparticle timestep demo; physical units as in :func:`mdlearn.build.nanoparticle_system`
    (nm, e, mol/L), ``duration`` in ps (of each of the two runs), ``equilibration`` in Langevin steps.

    ``model`` is a path or a :class:`~mdlearn.tune.TimestepModel` (default: the shipped one); the fixed safe dt
    is the one stored with it (``metadata_["safe_dt"]``: the smallest largest-acceptable dt of its training
    systems). Returns a dict with ``speedup``, ``safe_dt``, ``mean_dt`` (learned, fs), ``restores``,
    ``agreement`` (of the two profiles), the two runs (``fixed``, ``learned``) and the output paths.
    """
    for name, value in (("duration", duration), ("radius", radius), ("cell_radius", cell_radius)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive, got {value!r}")
    if int(equilibration) != equilibration or equilibration < 0:
        raise ValueError(f"equilibration must be a non-negative integer, got {equilibration!r}")
    if threads is not None:
        set_num_threads(threads)
    model = model if hasattr(model, "predict_dt") else load_timestep_model(model)
    safe_dt = float(model.metadata_["safe_dt"])
    os.makedirs(out_dir, exist_ok=True)
    paths = {"plot": os.path.join(out_dir, "nanoparticle.png"), "profiles": os.path.join(out_dir, "profiles.csv")}

    system = nanoparticle_system(radius=radius, charge=charge, salt_concentration=salt, counterion_valency=valency,
                                 coion_valency=1, ion_diameter=ion_diameter, epsilon_in=epsilon_in,
                                 cell_radius=cell_radius, seed=seed)
    t0 = time.perf_counter()
    eq = system.simulation(seed=seed + 1)
    eq.run(int(equilibration), progress=False)
    start = system.state.copy()
    start.step, start.time = 0, 0.0
    fs = 1000.0 * duration
    sample = fs / 200  # 200 profile samples per run
    fixed = timed_run(system, start, safe_dt, fs, sample_interval=sample)
    tuner = LearnedTimestep(model, features=system, every=every, dt_min=0.5 * safe_dt, dt_max=64.0, max_change=1.5)
    learned = timed_run(system, start, safe_dt, fs, tuner=tuner, sample_interval=sample)
    wall = time.perf_counter() - t0

    hist = tuner.history_arrays()
    speedup = learned["rate"] / fixed["rate"]
    agree = (profile_agreement(fixed["profile"], learned["profile"])
             if fixed["profile"] is not None and learned["profile"] is not None else None)
    tuned = [h for h in tuner.history if h["event"] == "tune"]
    summary = {
        "ions": system.state.n_atoms, "species": system.metadata["species"], "safe_dt": safe_dt,
        "mean_dt": learned["simulated"] / max(learned["steps"], 1), "speedup": speedup, "fixed": fixed,
        "learned": learned, "restores": tuner.restores, "agreement": agree, "threads": get_num_threads(),
        "wall_time": wall, "dt_trace": (hist.get("time", np.array([])), hist.get("dt", np.array([]))),
        "final_dt": tuned[-1]["dt"] if tuned else safe_dt, **paths,
    }
    if fixed["profile"] is not None and learned["profile"] is not None:
        _write_profiles(fixed["profile"], learned["profile"], paths["profiles"])
    _plot(summary, paths["plot"], title=f"Q = {system.metadata['charge']:+g} e, a = {radius:g} nm, z = {valency}, "
                                       f"eps_in = {epsilon_in:g}, {system.metadata['concentration']:.2f} M salt")
    if verbose:
        print(format_summary(summary))
    return summary


def format_summary(s):
    """The demo's summary as text: speedup, dt over time, the two profiles with error bars."""
    f, g = s["fixed"], s["learned"]
    counts = ", ".join(f"{v['count']} {k}s ({v['valency']:+d} e)" for k, v in s["species"].items())
    lines = [
        f"nanoparticle demo: {s['ions']} ions ({counts}), {f['simulated'] / 1000:.0f} ps per run, "
        f"{s['threads']} thread(s)",
        f"  fixed safe dt   {s['safe_dt']:6.2f} fs: {f['steps']:6d} steps in {f['wall']:6.1f} s -> "
        f"{f['rate'] / 1000:.2f} ps/s" + (f"  FAILED: {f['failed']}" if f["failed"] else ""),
        f"  learned tuner   {s['mean_dt']:6.2f} fs mean: {g['steps']:6d} steps in {g['wall']:6.1f} s -> "
        f"{g['rate'] / 1000:.2f} ps/s" + (f"  FAILED: {g['failed']}" if g["failed"] else "")
        + f", {s['restores']} safety-net restore(s)",
        f"  speedup (simulated time per wall second): {s['speedup']:.2f}x",
    ]
    t, dt = s["dt_trace"]
    if len(t):
        picks = np.unique(np.linspace(0, len(t) - 1, min(8, len(t))).astype(int))
        lines.append("  dt over time:  " + "  ".join(f"{t[i] / 1000:.0f} ps: {dt[i]:.1f} fs" for i in picks))
    if f["profile"] is not None and g["profile"] is not None:
        a = s["agreement"]
        lines.append(f"  counterion density (M), fixed vs learned: chi2/bin {a['chi2_per_bin']:.2f}, "
                     f"{100 * a['within_2sigma']:.0f}% of bins within 2 sigma -> "
                     f"{'agree' if a['agree'] else 'DIFFER'}")
        pf, pl = f["profile"], g["profile"]
        rho_f, err_f = pf.density["counterion"], pf.error["counterion"]
        rho_l, err_l = pl.density["counterion"], pl.error["counterion"]
        for k in np.unique(np.linspace(0, len(pf.centers) - 1, min(10, len(pf.centers))).astype(int)):
            lines.append(f"    r = {pf.centers[k]:5.2f} nm   {rho_f[k]:7.3f} ± {err_f[k]:.3f}   "
                         f"{rho_l[k]:7.3f} ± {err_l[k]:.3f}")
    lines.append(f"  total wall time {s['wall_time']:.1f} s; wrote {s['plot']}")
    return "\n".join(lines)


def _write_profiles(pf, pl, path):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["r_nm", "fixed_M", "fixed_error", "learned_M", "learned_error"])
        for k, r in enumerate(pf.centers):
            w.writerow([f"{r:.6g}", f"{pf.density['counterion'][k]:.6g}", f"{pf.error['counterion'][k]:.3g}",
                        f"{pl.density['counterion'][k]:.6g}", f"{pl.error['counterion'][k]:.3g}"])


def _plot(s, path, title):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 7), layout="constrained")
    FigureCanvasAgg(fig)
    ax_dt, ax_p = fig.subplots(2, 1)
    t, dt = s["dt_trace"]
    if len(t):
        ax_dt.step(np.asarray(t) / 1000, dt, where="post", color="C1", label="learned tuner")
    ax_dt.axhline(s["safe_dt"], color="C0", ls="--", label=f"fixed safe dt ({s['safe_dt']:.1f} fs)")
    ax_dt.set_xlabel("time (ps)")
    ax_dt.set_ylabel("dt (fs)")
    ax_dt.set_title(f"{title}\nspeedup {s['speedup']:.2f}x in simulated time per wall second", fontsize=10)
    ax_dt.legend(loc="lower right")
    for key, color, label in (("fixed", "C0", "fixed safe dt"), ("learned", "C1", "learned tuner")):
        prof = s[key]["profile"]
        if prof is None:
            continue
        rho, err = prof.density["counterion"], prof.error["counterion"]
        ax_p.plot(prof.centers, rho, color=color, label=label)
        ax_p.fill_between(prof.centers, rho - err, rho + err, color=color, alpha=0.3)
    ax_p.set_xlabel("r (nm)")
    ax_p.set_ylabel("counterion density (M)")
    ax_p.legend()
    for ax in (ax_dt, ax_p):
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
