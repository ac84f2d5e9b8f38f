"""mdlearn and ASE, both ways.

1. mdlearn's Lennard-Jones kernel as an ASE calculator: ASE's VelocityVerlet (with ASE's log and trajectory
   files), an LBFGS relaxation and a cell relaxation (FrechetCellFilter) run on mdlearn forces and stresses.
2. ASE's EMT calculator as an mdlearn force term, driven by mdlearn's Langevin integrator.

    python examples/ase_calculator.py --out ase-output
"""
import argparse
import time
from pathlib import Path

import numpy as np  # noqa: E402
from ase import units  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.filters import FrechetCellFilter  # noqa: E402
from ase.io import read  # noqa: E402
from ase.md.verlet import VelocityVerlet  # noqa: E402
from ase.optimize import LBFGS  # noqa: E402

import mdlearn as mdl  # noqa: E402
from mdlearn.ase import MDLearnCalculator  # noqa: E402

# argon: epsilon (eV), sigma (Å); truncated at 2.5 sigma and shifted, like ASE's own LennardJones
ARGON = {"epsilon": 0.0104, "sigma": 3.40, "cutoff": 8.5, "shift": True}


def argon_md(out, cells, steps, seed):
    """NVE argon driven by ASE's VelocityVerlet on mdlearn forces; returns the atoms."""
    st = mdl.State.from_atoms(bulk("Ar", "fcc", a=5.26, cubic=True).repeat((cells,) * 3))
    st.set_temperature(80.0, seed=seed)       # Maxwell-Boltzmann, zero total momentum
    atoms = st.to_atoms()                     # velocities (Å/fs) become ASE momenta
    atoms.calc = calc = MDLearnCalculator(mdl.LennardJones(**ARGON))
    e0 = atoms.get_total_energy()
    dyn = VelocityVerlet(atoms, timestep=5 * units.fs, trajectory=str(out / "md.traj"),
                         logfile=str(out / "md.log"), loginterval=max(steps // 10, 1))
    t0 = time.perf_counter()
    dyn.run(steps)
    wall = time.perf_counter() - t0
    frames = read(out / "md.traj", ":")
    print(f"ASE VelocityVerlet on mdlearn forces: {len(atoms)} Ar atoms, {steps} steps of 5 fs in {wall:.2f} s "
          f"({steps / wall:.0f} steps/s, {calc.evaluations} force evaluations, {calc.nlist.builds} list builds)")
    print(f"  total energy {e0:.6f} -> {atoms.get_total_energy():.6f} eV, T = {atoms.get_temperature():.1f} K; "
          f"{len(frames)} frames in {out / 'md.traj'}")
    return atoms


def argon_relax(cells):
    """LBFGS on a rattled crystal, then the cell (orthorhombic: normal strains only) and positions together.
    (ase.optimize.BFGS works the same way; it diagonalises a 3N x 3N matrix every step.)"""
    atoms = bulk("Ar", "fcc", a=5.40, cubic=True).repeat((cells,) * 3)
    atoms.rattle(0.05, seed=1)
    atoms.calc = MDLearnCalculator(mdl.LennardJones(**ARGON))
    e0 = atoms.get_potential_energy()
    opt = LBFGS(atoms, logfile=None)
    opt.run(fmax=1e-3, steps=200)
    print(f"LBFGS: energy {e0 / len(atoms):.6f} -> {atoms.get_potential_energy() / len(atoms):.6f} eV/atom in "
          f"{opt.nsteps} steps, max force {np.abs(atoms.get_forces()).max():.1e} eV/Å")
    s0 = atoms.get_stress()[:3].mean() / units.GPa
    opt = LBFGS(FrechetCellFilter(atoms, mask=[1, 1, 1, 0, 0, 0]), logfile=None)
    opt.run(fmax=1e-3, steps=300)
    a = atoms.cell.lengths()[0] / cells
    print(f"cell relaxation: mean normal stress {s0:.4f} -> {atoms.get_stress()[:3].mean() / units.GPa:.1e} GPa "
          f"in {opt.nsteps} steps, lattice constant 5.40 -> {a:.4f} Å")


def copper_langevin(steps, seed):
    """ASE's EMT as an mdlearn force term inside an mdlearn Langevin run."""
    st = mdl.State.from_atoms(bulk("Cu", "fcc", a=3.61, cubic=True).repeat((3, 3, 3)))
    st.set_temperature(300.0, seed=seed)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.AseForceTerm(EMT(), name="emt")]),
                         mdl.Langevin(dt=2.0, temperature=300.0, friction=0.01, seed=seed))
    temps = []
    sim.add_reporter((lambda snap: temps.append(snap.temperature), max(steps // 10, 1)))
    sim.run(steps, progress=False)
    snap = sim.snapshot()
    print(f"mdlearn Langevin with ASE's EMT as a force term: {st.n_atoms} Cu atoms, {steps} steps of 2 fs, "
          f"mean T {np.mean(temps):.0f} K, E_pot {snap.potential_energy:.4f} eV, "
          f"pressure {snap.pressure / units.GPa:.3f} GPa")
    return st.to_atoms()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="ase-output", help="output folder (default: ase-output)")
    parser.add_argument("--cells", type=int, default=6,
                        help="fcc cells per edge for argon MD (default: 6, 864 atoms); relaxations use 4")
    parser.add_argument("--steps", type=int, default=500,
                        help="argon MD steps; the copper run takes half as many (default: 500)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    args = parser.parse_args(argv)
    if args.cells < 4:
        parser.error("--cells must be >= 4: the cell edge must exceed twice the 8.5 Å cutoff")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    argon_md(out, args.cells, args.steps, args.seed)
    argon_relax(4)
    copper_langevin(max(args.steps // 2, 1), args.seed)


if __name__ == "__main__":
    main()
