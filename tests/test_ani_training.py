"""ANI training: datasets from arrays and ASE files, fit reduces the validation loss, determinism, save/load."""
import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from mdlearn.ml import AEVParameters, ANIModel, Dataset


@pytest.fixture(scope="module")
def water_data():
    """Distorted water molecules labelled by ANI-1x (the teacher), eV and eV/Å."""
    teacher = ANIModel.from_ani1x()
    rng = np.random.default_rng(0)
    w = molecule("H2O")
    pos = w.positions + rng.normal(scale=0.08, size=(20, 3, 3))
    energies, forces = zip(*[teacher.energy_forces(w.get_chemical_symbols(), p) for p in pos], strict=True)
    return w.get_chemical_symbols(), pos, np.array(energies), np.array(forces)


def _small_model(seed=0):
    aev = AEVParameters(species=("H", "O"), radial_shifts=np.linspace(0.9, 4.9, 8), angular_shifts=(0.9, 2.2),
                        angle_sections=np.pi / 8 + np.arange(4) * np.pi / 4)
    return ANIModel(("H", "O"), aev=aev, hidden=(8,), ensemble=2, random_state=seed)


def test_fit_reduces_validation_loss_and_saves(water_data, tmp_path):
    ds = Dataset.from_arrays(*water_data)
    model = _small_model()
    hist = model.fit(ds, max_epochs=12, patience=20, validation_fraction=0.25, learning_rate=3e-3, random_state=1)
    assert hist["n_train"] == 15 and hist["n_validation"] == 5
    assert min(hist["validation_loss"]) < 0.2 * hist["validation_loss"][0]
    sym, pos = water_data[0], water_data[1][0]
    e, f = model.energy_forces(sym, pos)
    assert abs(e - water_data[2][0]) < 0.5  # self energies fitted: within 0.5 eV of the teacher (from ~2 keV)
    path = tmp_path / "model.pt"
    model.save(path)
    loaded = ANIModel.load(path)
    assert loaded.aev == model.aev and loaded.species == model.species and loaded.hidden == model.hidden
    e2, f2 = loaded.energy_forces(sym, pos)
    assert e2 == e
    np.testing.assert_array_equal(f2, f)


def test_fit_is_deterministic(water_data):
    ds = Dataset.from_arrays(*water_data)
    runs = [_small_model(seed=3).fit(ds, max_epochs=2, random_state=5)["train_loss"] for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("suffix", ["extxyz", "db"])
def test_dataset_from_ase_files_matches_arrays(water_data, tmp_path, suffix):
    sym, pos, energies, forces = water_data
    images = []
    for p, e, f in zip(pos[:4], energies[:4], forces[:4], strict=True):
        atoms = Atoms(sym, positions=p)
        atoms.calc = SinglePointCalculator(atoms, energy=e, forces=f)
        images.append(atoms)
    path = tmp_path / f"water.{suffix}"
    write(path, images)
    ds = Dataset.from_ase(str(path))
    ref = Dataset.from_arrays(sym, pos[:4], energies[:4], forces[:4])
    assert len(ds) == 4
    for a, b in zip(ds, ref, strict=True):
        assert a["symbols"] == b["symbols"] and a["box"] is None
        # extxyz stores 8 decimals, the database full precision
        np.testing.assert_allclose(a["positions"], b["positions"], atol=1e-8)
        assert a["energy"] == pytest.approx(b["energy"], abs=1e-6)
        np.testing.assert_allclose(a["forces"], b["forces"], atol=1e-8)


def test_dataset_and_fit_bad_input(water_data):
    sym, pos, energies, forces = water_data
    with pytest.raises(ValueError, match="energies must have shape"):
        Dataset.from_arrays(sym, pos, energies[:3])
    with pytest.raises(ValueError, match="no energy"):
        Dataset.from_ase([Atoms("H2", positions=[[0, 0, 0], [0.7, 0, 0]])])
    with pytest.raises(ValueError, match="no forces"):
        _small_model().fit(Dataset.from_arrays(sym, pos, energies), max_epochs=1)
    with pytest.raises(ValueError, match=r"\['O'\] are not known"):
        ANIModel(("H",), hidden=(4,), ensemble=1).fit(Dataset.from_arrays(sym, pos, energies, forces), max_epochs=1)
