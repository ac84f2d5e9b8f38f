"""Slow: NVE energy conservation with the ANI-1x potential for a small molecule (float64, dt = 0.1 fs)."""
import numpy as np
import pytest
from ase.build import molecule

import mdlearn as mdl
from mdlearn.ml import ANIModel


def run_nve(steps, every=100, dt=0.1):
    atoms = molecule("CH3CH2OH")
    st = mdl.State(atoms.positions, pbc=False, types=atoms.get_chemical_symbols(), units="real")
    st.set_temperature(300.0, seed=11)
    term = ANIModel.from_ani1x().potential(uncertainty=False)
    sim = mdl.Simulation(st, mdl.ForceField([term]), mdl.VelocityVerlet(dt=dt))
    total, kinetic = [], []
    for _ in range(steps // every + 1):
        snap = sim.snapshot()
        total.append(snap.total_energy)
        kinetic.append(snap.kinetic_energy)
        sim.run(every, progress=False)
    return np.array(total), np.array(kinetic)


@pytest.mark.slow
def test_nve_energy_conservation_ani1x():
    total, kinetic = run_nve(10_000)
    drift = abs(total[-1] - total[0]) / abs(total[0])
    assert drift < 1e-4  # the criterion: relative to the total energy (about -4200 eV)
    # stricter: the largest excursion stays below 0.5% of the mean kinetic energy (measured: 0.1%)
    assert np.abs(total - total[0]).max() < 5e-3 * kinetic.mean()
