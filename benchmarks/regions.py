"""What a region split costs: the LAMMPS ``in.lj`` liquid with one LJ term against the same potential split
by ``ForceField.substitute`` into a region term (half the atoms, a slab) and the rest, in one run.

Both give the same forces (tests/test_force_plugins.py); the split pays for filtering the neighbor list at each
rebuild and for two kernel passes over disjoint pair sets.

    .venv/bin/python benchmarks/regions.py --cells 20 --threads 1 2
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engines  # noqa: E402


def time_lj(n_cells, steps, threads=1, split=False, seed=87287):
    """NVE steps per second of in.lj with one LJ term or with the split force field."""
    import numpy as np

    import mdlearn as mdl

    mdl.set_num_threads(threads)
    st = mdl.build.lattice("fcc", cells=(n_cells,) * 3, density=engines.DENSITY)
    st.set_temperature(engines.TEMPERATURE, seed=seed)
    ff = mdl.ForceField([mdl.LennardJones(cutoff=engines.CUTOFF)])
    if split:
        ff.substitute(mdl.LennardJones(cutoff=engines.CUTOFF, name="region"),
                      atoms=np.flatnonzero(st.positions[:, 2] < 0.5 * st.box[2]))
    sim = mdl.Simulation(st, ff, mdl.VelocityVerlet(dt=engines.DT), skin=engines.SKIN)
    sim.run(engines._default_warmup(steps), progress=False)
    builds = sim.nlist.builds
    t0 = time.perf_counter()
    sim.run(steps, progress=False)
    seconds = time.perf_counter() - t0
    return {"split": split, "n_atoms": st.n_atoms, "steps": steps, "threads": threads, "seconds": seconds,
            "atom_steps_per_s": st.n_atoms * steps / seconds, "neighbor_builds": sim.nlist.builds - builds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    for threads in args.threads:
        full, split = (engines.run_isolated(time_lj, args.cells, args.steps, threads, split=s) for s in (False, True))
        a, b = full["atom_steps_per_s"], split["atom_steps_per_s"]
        print(f"N={full['n_atoms']} threads={threads}: one LJ term {a / 1e6:.3f} M atom-steps/s, split "
              f"{b / 1e6:.3f} M ({b / a:.2f}x; {full['neighbor_builds']} / {split['neighbor_builds']} list builds)")


if __name__ == "__main__":
    main()
