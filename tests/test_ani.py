"""ANI model: AEV kernel vs the torch path, ANI-1x vs torchani reference values, derivatives, invariances,
atom subsets and bad input."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from ase.build import molecule

import mdlearn as mdl
from mdlearn.ml import AEVParameters, ANIModel
from mdlearn.ml.aev import aev_torch, compute_aev, molecule_neighbors, torch_indices

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def ani1x():
    return ANIModel.from_ani1x()


@pytest.fixture(scope="module")
def reference():
    with open(os.path.join(HERE, "data", "ani1x_reference.json")) as fh:
        return json.load(fh)["systems"]


def _water_box(rng, cells=3, spacing=(3.6, 3.7, 3.8)):
    w = molecule("H2O")
    sym, pos = [], []
    for c in np.stack(np.meshgrid(*[range(cells)] * 3), -1).reshape(-1, 3):
        sym += w.get_chemical_symbols()
        pos.append(w.positions + c * spacing + rng.normal(scale=0.1, size=(3, 3)))
    return sym, np.concatenate(pos), cells * np.asarray(spacing)


@pytest.mark.parametrize("periodic", [False, True])
def test_kernel_aev_matches_torch_path(periodic):
    p = AEVParameters(species=("H", "C", "O"), radial_eta=(16.0, 8.0), zeta=(32.0, 8.0))
    rng = np.random.default_rng(1)
    n = 60
    pos = rng.uniform(0, 11.0, (n, 3))
    sp = rng.integers(0, 3, n).astype(np.intc)
    nd, x = molecule_neighbors(p, sp, pos, [11.0, 11.5, 12.0] if periodic else None)
    kernel = compute_aev(p, nd, threads=2)
    c, nb, sh, tr = (torch.as_tensor(a) for a in torch_indices(nd, x))
    ref = aev_torch(p, torch.as_tensor(sp, dtype=torch.long), torch.as_tensor(x), c, nb, sh, tr).numpy()
    assert kernel.shape == (n, p.length)
    assert np.abs(ref).max() > 0.5  # the angular and radial blocks are populated
    np.testing.assert_allclose(kernel, ref, rtol=0, atol=1e-12)


def test_kernel_aev_matches_torchani_reference(ani1x, reference):
    for s in reference:
        nd, _ = molecule_neighbors(ani1x.aev, ani1x.aev.species_index(s["symbols"]), s["positions"], s["box"])
        ref = np.array(s["aev_first_atoms"])
        np.testing.assert_allclose(compute_aev(ani1x.aev, nd)[: len(ref)], ref, rtol=0, atol=1e-12, err_msg=s["name"])


def test_ani1x_matches_torchani_reference(ani1x, reference):
    for s in reference:
        e, f = ani1x.energy_forces(s["symbols"], s["positions"], s["box"])
        assert abs(e - s["energy"]) < 1e-6, s["name"]
        np.testing.assert_allclose(f, s["forces"], rtol=0, atol=1e-6, err_msg=s["name"])


def _state(symbols, positions, box=None):
    return mdl.State(positions, box=box, pbc=box is not None, types=symbols, units="real")


def test_forces_and_virial_are_derivatives_periodic(ani1x):
    sym, pos, box = _water_box(np.random.default_rng(3))
    ff = mdl.ForceField([ani1x.potential(uncertainty=False)])

    def run(x, b=box):  # skin 0: the 10.8 Å box holds a 5.2 Å list only
        return ff.compute(_state(sym, x, b), nlist=mdl.NeighborList(5.2, 0.0))

    def energy(x, b=box):
        return run(x, b).energy

    res = run(pos)
    h = 1e-5
    for i, a in [(0, 0), (5, 1), (40, 2), (77, 0)]:
        xp, xm = pos.copy(), pos.copy()
        xp[i, a] += h
        xm[i, a] -= h
        fd = -(energy(xp) - energy(xm)) / (2 * h)
        assert abs(fd - res.forces[i, a]) < 1e-6
    # W_aa = -dE/d(strain_aa): scale positions and box along one axis
    for a in range(3):
        s = np.ones(3)
        s[a] = 1 + h
        ep = energy(pos * s, box * s)
        s[a] = 1 - h
        em = energy(pos * s, box * s)
        assert abs(-(ep - em) / (2 * h) - res.virial[a, a]) < 1e-5


def test_virial_of_a_molecule_is_sum_r_f(ani1x):
    atoms = molecule("CH3CH2OH")
    st = _state(atoms.get_chemical_symbols(), atoms.positions)
    res = mdl.ForceField([ani1x.potential()]).compute(st)
    np.testing.assert_allclose(res.virial, st.positions.T @ res.forces, atol=1e-9)
    np.testing.assert_allclose(res.forces.sum(0), 0, atol=1e-10)


def test_invariances(ani1x):
    atoms = molecule("CH3CONH2")
    sym, pos = atoms.get_chemical_symbols(), atoms.positions
    e0, f0 = ani1x.energy_forces(sym, pos)
    rot = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    e1, f1 = ani1x.energy_forces(sym, pos @ rot.T + [1.0, -2.0, 3.5])
    perm = np.random.default_rng(1).permutation(len(sym))
    e2, f2 = ani1x.energy_forces([sym[k] for k in perm], pos[perm])
    assert abs(e1 - e0) < 1e-9 and abs(e2 - e0) < 1e-9
    np.testing.assert_allclose(f1, f0 @ rot.T, atol=1e-9)
    np.testing.assert_allclose(f2, f0[perm], atol=1e-9)


def test_periodic_translation_and_threads(ani1x):
    sym, pos, box = _water_box(np.random.default_rng(5))
    e0, f0 = ani1x.energy_forces(sym, pos, box)
    e1, f1 = ani1x.energy_forces(sym, pos + [2.0, 7.0, -3.0], box)  # wrapped back into the box
    assert abs(e1 - e0) < 1e-9
    np.testing.assert_allclose(f1, f0, atol=1e-9)
    mdl.set_num_threads(1)
    try:
        e2, f2 = ani1x.energy_forces(sym, pos, box)
    finally:
        mdl.set_num_threads(None)
    assert abs(e2 - e0) < 1e-9
    np.testing.assert_allclose(f2, f0, atol=1e-10)


def test_atom_subset_covers_only_its_atoms(ani1x):
    a, b = molecule("H2O"), molecule("CH4")
    b.positions += [2.5, 0.5, 0.0]  # within the cutoff of the water
    sym = a.get_chemical_symbols() + b.get_chemical_symbols()
    pos = np.concatenate([a.positions, b.positions])
    term = ani1x.potential(atoms=np.arange(3))
    res = mdl.ForceField([term]).compute(_state(sym, pos))
    e_water, f_water = ani1x.energy_forces(a.get_chemical_symbols(), a.positions)
    assert abs(res.energy - e_water) < 1e-9
    np.testing.assert_allclose(res.forces[:3], f_water, atol=1e-9)
    np.testing.assert_allclose(res.forces[3:], 0.0, atol=0)
    assert term.last_uncertainty["force_std"].shape == (8,)
    assert np.all(term.last_uncertainty["force_std"][3:] == 0)


def test_uncertainty_is_committee_spread(ani1x):
    atoms = molecule("C6H6")
    st = _state(atoms.get_chemical_symbols(), atoms.positions)
    term = ani1x.potential()
    mdl.ForceField([term]).compute(st)
    from mdlearn.ml.aev import molecule_neighbors as mn

    nd, _ = mn(ani1x.aev, ani1x.aev.species_index(atoms.get_chemical_symbols()), atoms.positions)
    energies, forces, _ = ani1x.evaluate(nd, members=True)
    assert forces.shape == (8, 12, 3)
    u = term.last_uncertainty
    assert u["energy_std_per_sqrt_atom"] == pytest.approx(np.std(energies) / np.sqrt(12), rel=1e-12)
    np.testing.assert_allclose(u["force_std"], np.linalg.norm(forces.std(0), axis=1), rtol=1e-12)
    assert u["energy_std"] > 0


def test_bad_input(ani1x):
    with pytest.raises(ValueError, match=r"\['Cu'\] are not known"):
        ani1x.energy_forces(["Cu", "H"], [[0, 0, 0], [1.5, 0, 0]])
    st = _state(["Cu", "H"], np.array([[0, 0, 0], [1.5, 0, 0]]))
    with pytest.raises(ValueError, match="Cu"):
        mdl.ForceField([ani1x.potential()]).compute(st)
    with pytest.raises(ValueError, match="positions must have shape"):
        ani1x.energy_forces(["H", "H"], [[0, 0, 0]])
    water = _state(["O", "H"], np.array([[0, 0, 0], [1.0, 0, 0]]))
    with pytest.raises(ValueError, match="atom index 5 is out of range for a state of 2 atoms"):
        mdl.ForceField([ani1x.potential(atoms=[0, 5])]).compute(water)
    lj = mdl.State([[0, 0, 0], [1.5, 0, 0]], pbc=False)
    with pytest.raises(ValueError, match="'real' units"):
        mdl.ForceField([ani1x.potential()]).compute(lj)
    with pytest.raises(ValueError, match="species"):
        ANIModel(("H", "C"), aev=AEVParameters.ani1x())


def test_network_of_wrong_shape_is_reported():
    model = ANIModel(("H",), hidden=(4,), ensemble=2)
    model.networks.energy_and_gradient = lambda x, sp, names, members: (x.new_zeros((2, x.shape[0] + 1)), None)
    with pytest.raises(ValueError, match="networks returned shape"):
        model.energy_forces(["H", "H"], [[0, 0, 0], [0.8, 0, 0]])


def test_missing_torch_gives_a_clear_error():
    code = ("import sys; sys.modules['torch'] = None\nimport mdlearn\n"
            "try:\n    mdlearn.ml.ANIModel\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "mdlearn[ml]" in out


def test_small_periodic_cell_equals_its_supercell(ani1x):
    rng = np.random.default_rng(9)
    w = molecule("H2O")
    box = np.array([5.0, 5.5, 6.0])  # shorter than twice the 5.2 Å cutoff: images of one atom are neighbours
    pos = np.concatenate([w.positions + c for c in ([0.5, 0.5, 0.5], [2.9, 3.0, 3.1])]) + rng.normal(0, 0.05, (6, 3))
    sym = w.get_chemical_symbols() * 2
    e, f = ani1x.energy_forces(sym, pos, box)
    shifts = np.stack(np.meshgrid([0, 1, 2], [0, 1], [0, 1], indexing="ij"), -1).reshape(-1, 3) * box
    e_big, f_big = ani1x.energy_forces(sym * len(shifts), np.concatenate([pos + s for s in shifts]), box * [3, 2, 2])
    assert abs(e_big - len(shifts) * e) < 1e-8
    np.testing.assert_allclose(f_big[:6], f, atol=1e-9)
