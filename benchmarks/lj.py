"""The LAMMPS ``bench/in.lj`` case with mdlearn, LAMMPS and OpenMM CPU in one run.

fcc at ρ* = 0.8442, T* = 1.44, r_c = 2.5, skin 0.3, dt = 0.005, NVE. Each engine runs in a fresh
process (so that peak memory is its own); only the stepping is timed. mdlearn rebuilds its neighbor list
when an atom moved more than skin/2; LAMMPS runs twice: as in.lj has it (``lammps``: every 20 steps,
unchecked) and with mdlearn's rule (``lammps-checked``: every step checked, the same work).

    make bench                                        # all sizes, 1 and 2 threads
    .venv/bin/python benchmarks/lj.py --cells 10 20 --threads 1 2 --json results.json
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engines  # noqa: E402

STEPS = {10: 2000, 20: 400, 63: 30}   # cells -> timed steps (N = 4 cells^3: 4,000, 32,000, 1,000,188)


def time_mdlearn(n_cells, steps, threads=1, warmup=None, seed=87287):
    """Time ``steps`` NVE steps of in.lj with mdlearn (same dict keys as :mod:`engines`)."""
    import mdlearn as mdl

    mdl.set_num_threads(threads)
    st = mdl.build.lattice("fcc", cells=(n_cells,) * 3, density=engines.DENSITY)
    st.set_temperature(engines.TEMPERATURE, seed=seed)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=engines.CUTOFF)]),
                         mdl.VelocityVerlet(dt=engines.DT), skin=engines.SKIN)
    # energies through the force field rather than sim.snapshot(): no copy of the state at N = 10^6
    pe0 = sim.forcefield.compute(st, sim.nlist).energy
    sim.run(engines._default_warmup(steps) if warmup is None else warmup, progress=False)
    e0 = sim.forcefield.compute(st, sim.nlist).energy + st.kinetic_energy()  # drift over the timed steps
    builds = sim.nlist.builds
    t0 = time.perf_counter()
    sim.run(steps, progress=False)
    seconds = time.perf_counter() - t0
    e1 = sim.forcefield.compute(st, sim.nlist).energy + st.kinetic_energy()
    n = st.n_atoms
    return {"engine": "mdlearn", "n_atoms": n, "steps": steps, "threads": threads, "seconds": seconds,
            "atom_steps_per_s": n * steps / seconds, "energy_drift": (e1 - e0) / n,
            "pe_initial_per_atom": pe0 / n, "neighbor_builds": sim.nlist.builds - builds}


def step_overhead_us(steps=20000):
    """Wall time per step for N = 64 (sc lattice, ρ = 0.2, so the box fits 2 (r_c + skin)), one thread:
    an upper bound on the per-step Python overhead."""
    import mdlearn as mdl

    mdl.set_num_threads(1)
    st = mdl.build.lattice("sc", cells=(4, 4, 4), density=0.2)
    st.set_temperature(1.0, seed=1)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=2.5)]), mdl.VelocityVerlet(dt=0.005))
    sim.run(1000, progress=False)
    t0 = time.perf_counter()
    sim.run(steps, progress=False)
    return (time.perf_counter() - t0) / steps * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="+", default=sorted(STEPS))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--engines", nargs="+", default=["mdlearn", "lammps", "lammps-checked", "openmm"])
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default: by size)")
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    args = parser.parse_args(argv)
    funcs = dict(engines.ENGINES, mdlearn=time_mdlearn)
    results = []
    for cells in args.cells:
        steps = args.steps or STEPS.get(cells, 100)
        for threads in args.threads:
            row = {}
            for name in args.engines:
                res = engines.run_isolated(funcs[name], cells, steps, threads)
                row[name] = res
                results.append(res)
                mem = (res["peak_rss_bytes"] - res["rss_baseline_bytes"]) / res["n_atoms"]
                builds = res.get("neighbor_builds")
                danger = res.get("dangerous_builds_every_20")
                print(f"{name:14s} N={res['n_atoms']:>9,d} threads={threads} {res['atom_steps_per_s']:.3e} "
                      f"atom-steps/s  peak-baseline {mem:6.0f} B/atom  drift/atom {res['energy_drift']:+.1e}"
                      + (f"  list builds {builds}/{steps}" if builds is not None else "")
                      + (f" (checked every 20: {danger} dangerous)" if danger is not None else ""), flush=True)
            if "mdlearn" in row:
                ours = row["mdlearn"]["atom_steps_per_s"]
                ratios = "  ".join(f"mdlearn/{k} = {ours / v['atom_steps_per_s']:.2f}x"
                                   for k, v in row.items() if k != "mdlearn")
                print(f"   -> N={row['mdlearn']['n_atoms']:,d} threads={threads}: {ratios}", flush=True)
    overhead = step_overhead_us()
    print(f"mdlearn per-step wall time at N = 64, 1 thread: {overhead:.1f} us", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"runs": results, "step_us_n64": overhead}, indent=1))


if __name__ == "__main__":
    main()
