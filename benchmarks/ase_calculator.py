"""MDLearnCalculator against ASE's own LennardJones calculator, both driven by ASE's VelocityVerlet.

Argon-like LJ (ε = 0.0104 eV, σ = 3.4 Å) in the state of LAMMPS's in.lj: fcc at ρ* = 0.8442 (N = 4 cells³,
4,000 atoms by default), T* = 1.44 (174 K), cut at 2.5 σ = 8.5 Å and shifted (ASE's LennardJones with its
default smooth=False shifts; mdlearn's with shift=True is the same function), dt = 5 fs. Both calculators
run on one thread (BLAS pinned to one thread too). One force call per MD step, so steps/s = calls/s. Each
figure is the best over blocks of steps (20 for mdlearn, 1 for ASE's LennardJones): the machine may be shared.

Also measured: the per-call overhead of the calculator (a get_forces call after the positions changed,
minus mdlearn's bare force-field evaluation of the same state, median over pairs of calls), and mdlearn's
own VelocityVerlet on the same system, which shows what the ASE loop (VelocityVerlet + calculator) costs on
top of the kernel.

    .venv/bin/python benchmarks/ase_calculator.py                    # 4,000 atoms
    .venv/bin/python benchmarks/ase_calculator.py --cells 4 --steps 2000 --calls 2000 --ase-steps 10 --json ase.json
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads: one thread everywhere, for a fair comparison

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from ase import units  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.calculators.lj import LennardJones as AseLJ  # noqa: E402
from ase.md.verlet import VelocityVerlet  # noqa: E402

import mdlearn as mdl  # noqa: E402
from mdlearn.ase import MDLearnCalculator  # noqa: E402

EPS, SIGMA = 0.0104, 3.40          # eV, Å
RC = 2.5 * SIGMA                   # Å
DENSITY, TEMPERATURE = 0.8442, 1.44  # reduced
DT = 5.0                           # fs
SKIN = 1.0                         # Å (0.3 σ)


def start(cells, seed=87287):
    """fcc argon at ρ* = 0.8442 with Maxwell–Boltzmann velocities at T* = 1.44 (as ase.Atoms)."""
    a = (4.0 / DENSITY) ** (1.0 / 3.0) * SIGMA
    st = mdl.State.from_atoms(bulk("Ar", "fcc", a=a, cubic=True).repeat((cells,) * 3))
    st.set_temperature(TEMPERATURE * EPS / units.kB, seed=seed)
    return st.to_atoms()


def mdlearn_calc():
    return MDLearnCalculator(mdl.LennardJones(epsilon=EPS, sigma=SIGMA, cutoff=RC, shift=True), skin=SKIN)


def ase_calc():
    return AseLJ(sigma=SIGMA, epsilon=EPS, rc=RC)


def best_per_step(advance, steps, block):
    """Fastest seconds per step over blocks of ``block`` steps: the machine may be shared, and the
    minimum is the figure least disturbed by other work."""
    best = float("inf")
    for _ in range(max(steps // block, 1)):
        t0 = time.perf_counter()
        advance(block)
        best = min(best, (time.perf_counter() - t0) / block)
    return best


def time_ase_md(atoms, calc, steps, block, warmup=1):
    """Seconds per step of ASE's VelocityVerlet with ``calc`` (after ``warmup`` steps)."""
    atoms = atoms.copy()
    atoms.calc = calc
    dyn = VelocityVerlet(atoms, timestep=DT * units.fs)
    dyn.run(warmup)
    return best_per_step(lambda k: dyn.run(k), steps, block)


def time_native(atoms, steps, block, warmup=10):
    """Seconds per step of mdlearn's own VelocityVerlet on the same system."""
    st = mdl.State.from_atoms(atoms)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(epsilon=EPS, sigma=SIGMA, cutoff=RC, shift=True)]),
                         mdl.VelocityVerlet(dt=DT), skin=SKIN)
    sim.run(warmup, progress=False)
    return best_per_step(lambda k: sim.run(k, progress=False), steps, block)


def call_overhead(atoms, calls, seed=5):
    """(seconds per get_forces call after a small move, seconds per bare force-field evaluation of the
    calculator's own state, calculator overhead per call). Each call is paired with an evaluation right
    after it; the overhead is the median of the paired differences, which load on a shared machine
    disturbs much less than either time alone."""
    atoms = atoms.copy()
    calc = mdlearn_calc()
    atoms.calc = calc
    atoms.get_forces()
    rng = np.random.default_rng(seed)
    moves = rng.normal(scale=1e-4, size=(calls, 3))  # well inside skin/2: no neighbor-list rebuilds
    st, nl, ff = calc.state, calc.nlist, calc.forcefield
    t_call, t_eval = np.empty(calls), np.empty(calls)
    clock = time.perf_counter
    for k in range(calls):
        atoms.positions[k % len(atoms)] += moves[k]
        t0 = clock()
        atoms.get_forces()
        t1 = clock()
        ff.compute(st, nl, energy=True, virial=False)
        t2 = clock()
        t_call[k], t_eval[k] = t1 - t0, t2 - t1
    return float(np.min(t_call)), float(np.min(t_eval)), float(np.median(t_call - t_eval))


def run(cells, steps, ase_steps, calls):
    mdl.set_num_threads(1)
    atoms = start(cells)
    n = len(atoms)
    # the two calculators agree before anything is timed (on a rattled copy: a perfect lattice has no forces)
    a = atoms.copy()
    a.rattle(0.02, seed=1)
    b = a.copy()
    a.calc, b.calc = mdlearn_calc(), ase_calc()
    t0 = time.perf_counter()
    e_ase, f_ase = b.get_potential_energy(), b.get_forces()
    first_ase_call = time.perf_counter() - t0
    de = abs(a.get_potential_energy() - e_ase) / abs(e_ase)
    df = np.abs(a.get_forces() - f_ase).max() / np.abs(f_ase).max()

    t_mdl = time_ase_md(atoms, mdlearn_calc(), steps, block=20)
    t_ase = time_ase_md(atoms, ase_calc(), ase_steps, block=1)
    t_native = time_native(atoms, steps, block=20)
    per_call, per_eval, overhead = call_overhead(atoms, calls)
    return {
        "n_atoms": n, "threads": 1, "dt_fs": DT, "cutoff_A": RC, "skin_A": SKIN,
        "energy_rel_diff": de, "force_rel_diff": df, "ase_first_call_s": first_ase_call,
        "mdlearn_calc_steps": steps, "ase_lj_steps": ase_steps,
        "mdlearn_calc_s_per_step": t_mdl, "ase_lj_s_per_step": t_ase, "ratio": t_ase / t_mdl,
        "mdlearn_native_s_per_step": t_native, "ase_loop_overhead_s_per_step": t_mdl - t_native,
        "calc_call_s": per_call, "forcefield_eval_s": per_eval, "calc_overhead_s_per_call": overhead,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10, help="fcc cells per edge (default 10: 4,000 atoms)")
    parser.add_argument("--steps", type=int, default=1000, help="timed steps with MDLearnCalculator (default 1000)")
    parser.add_argument("--ase-steps", type=int, default=5, help="timed steps with ASE's LennardJones (default 5)")
    parser.add_argument("--calls", type=int, default=1000, help="calls for the overhead measurement (default 1000)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    r = run(args.cells, args.steps, args.ase_steps, args.calls)
    print(f"{r['n_atoms']} atoms, LJ rc = {RC:.2f} Å shifted, dt = {DT} fs, skin {SKIN} Å, 1 thread; "
          f"initial energy / forces agree to {r['energy_rel_diff']:.1e} / {r['force_rel_diff']:.1e} (relative)")
    print(f"ASE VelocityVerlet + MDLearnCalculator : {r['mdlearn_calc_s_per_step'] * 1e3:9.2f} ms/step "
          f"({1 / r['mdlearn_calc_s_per_step']:8.1f} calls/s, {r['mdlearn_calc_steps']} steps)")
    print(f"ASE VelocityVerlet + ASE LennardJones  : {r['ase_lj_s_per_step'] * 1e3:9.2f} ms/step "
          f"({1 / r['ase_lj_s_per_step']:8.3f} calls/s, {r['ase_lj_steps']} steps)")
    print(f"ratio (ASE LennardJones / MDLearnCalculator): {r['ratio']:.0f}x")
    print(f"mdlearn's own VelocityVerlet           : {r['mdlearn_native_s_per_step'] * 1e3:9.2f} ms/step; "
          f"ASE loop + calculator cost {r['ase_loop_overhead_s_per_step'] * 1e3:.2f} ms/step more")
    print(f"per call: get_forces {r['calc_call_s'] * 1e3:.3f} ms, bare force field "
          f"{r['forcefield_eval_s'] * 1e3:.3f} ms (fastest); calculator overhead "
          f"{r['calc_overhead_s_per_call'] * 1e6:.0f} µs (median of paired differences)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(r, fh, indent=2)
    return r


if __name__ == "__main__":
    main()
