"""NVE energy conservation of an LJ liquid, side by side with LAMMPS from the same start.

N = 4,000, dt = 0.005, 10,000 steps after equilibration, LJ cut at 2.5 and shifted (so that the total
energy is a conserved quantity for both engines).
"""
import numpy as np
import pytest

import mdlearn as mdl


def _equilibrated_liquid():
    st = mdl.build.lattice("fcc", cells=(10, 10, 10), density=0.8442)
    st.set_temperature(1.44, seed=11)
    ff = mdl.ForceField([mdl.LennardJones(cutoff=2.5, shift=True)])
    sim = mdl.Simulation(st, ff, mdl.Langevin(dt=0.005, temperature=0.8, friction=1.0, seed=12))
    sim.run(1500, progress=False)
    # zero total momentum, as velocity Verlet and LAMMPS's "velocity ... mom yes" expect
    st.velocities -= st.masses @ st.velocities / st.masses.sum()
    return st


def _mdlearn_energies(st, steps, every):
    st = st.copy()
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=2.5, shift=True)]),
                         mdl.VelocityVerlet(dt=0.005), skin=0.3)
    energies = []
    sim.add_reporter((lambda snap: energies.append(snap.total_energy), every))
    energies.append(sim.snapshot().total_energy)
    sim.run(steps, progress=False)
    return np.array(energies)


def _lammps_energies(lammps_module, st, steps, every):
    lmp = lammps_module.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        lx, ly, lz = (float(v) for v in st.box)
        for cmd in ("units lj", "atom_style atomic", "atom_modify map array",
                    f"region box block 0 {lx!r} 0 {ly!r} 0 {lz!r}", "create_box 1 box", "mass 1 1.0",
                    "pair_style lj/cut 2.5", "pair_coeff 1 1 1.0 1.0 2.5", "pair_modify shift yes",
                    "neighbor 0.3 bin", "neigh_modify delay 0 every 1 check yes", "fix 1 all nve",
                    "timestep 0.005", "thermo_modify norm no"):
            lmp.command(cmd)
        n = st.n_atoms
        lmp.create_atoms(n, list(range(1, n + 1)), [1] * n, st.positions.ravel().tolist(),
                         st.velocities.ravel().tolist())
        lmp.command("variable e equal etotal")
        energies = []
        lmp.command("run 0")
        energies.append(lmp.extract_variable("e"))
        for _ in range(steps // every):
            lmp.command(f"run {every} pre no post no")
            energies.append(lmp.extract_variable("e"))
        return np.array(energies)
    finally:
        lmp.close()


def _trend(energies):
    """Slope of a straight-line fit (energy per sample) and its standard error."""
    t = np.arange(len(energies), dtype=float)
    coef, cov = np.polyfit(t, energies, 1, cov=True)
    return coef[0], np.sqrt(cov[0, 0])


def test_nve_drift_small_and_no_worse_than_lammps(lammps_module):
    steps, every = 10_000, 100
    start = _equilibrated_liquid()
    ours = _mdlearn_energies(start, steps, every)
    theirs = _lammps_energies(lammps_module, start, steps, every)
    # same start, same potential: the initial energies agree to rounding
    assert ours[0] == pytest.approx(theirs[0], rel=1e-10)
    drift = abs(ours[-1] - ours[0]) / abs(ours[0])
    assert drift < 1e-4, f"relative total-energy drift {drift:.2e}"
    slope, err = _trend(ours)
    ref_slope, ref_err = _trend(theirs)
    # any systematic trend must be within three standard errors of LAMMPS's
    assert abs(slope) <= abs(ref_slope) + 3 * np.hypot(err, ref_err), (slope, err, ref_slope, ref_err)
