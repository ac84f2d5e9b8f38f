"""Lennard-Jones energy, forces and virial against LAMMPS reference values.

The reference file ``tests/data/lj_lammps.json`` is made by ``tests/make_lammps_reference.py``
(see that script for the configurations and the conventions).  It is part of the repository; a
missing file is an error, never a skip.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

import mdlearn as mdl

DATA = Path(__file__).resolve().parent / "data" / "lj_lammps.json"
REGENERATE = ".venv/bin/python tests/make_lammps_reference.py"

ENERGY_RTOL = 1e-10
FORCE_RTOL = 1e-10
VIRIAL_RTOL = 1e-10


def _load_cases() -> list[dict]:
    if not DATA.exists():
        return []
    with open(DATA) as fh:
        return json.load(fh)["cases"]


CASES = _load_cases()
CASES_BY_ID = {case["id"]: case for case in CASES}


def test_reference_file_present():
    assert DATA.exists(), f"missing LAMMPS reference {DATA}; regenerate it with `{REGENERATE}`"
    assert len(CASES) >= 15, f"{DATA} holds only {len(CASES)} cases"
    variants = {(c["shift"], c["tail"]) for c in CASES}
    assert variants == {(False, False), (True, False), (False, True)}
    assert any(len(c["type_names"]) > 1 for c in CASES), "no mixture case"
    assert any(len(set(c["box"])) > 1 for c in CASES), "no non-cubic case"


MISSING = "reference-file-missing"
# with no reference file every test below fails (via _case) instead of being skipped as an empty set
case_ids = pytest.mark.parametrize("case_id", list(CASES_BY_ID) or [MISSING])


def _case(case_id: str) -> dict:
    if case_id not in CASES_BY_ID:
        pytest.fail(f"missing LAMMPS reference {DATA}; regenerate it with `{REGENERATE}`")
    return CASES_BY_ID[case_id]


def _lennard_jones(case: dict):
    if len(case["type_names"]) == 1:
        (name,) = case["type_names"]
        epsilon = float(case["epsilon"][name])
        sigma = float(case["sigma"][name])
    else:
        epsilon = {k: float(v) for k, v in case["epsilon"].items()}
        sigma = {k: float(v) for k, v in case["sigma"].items()}
    return mdl.LennardJones(epsilon=epsilon, sigma=sigma, cutoff=case["cutoff"], shift=case["shift"], tail=case["tail"])


@functools.cache
def _computed(case_id: str):
    case = _case(case_id)
    st = mdl.State(
        np.array(case["positions"], dtype=float),
        box=case["box"],
        pbc=True,
        types=case["types"],
        units="lj",
    )
    ff = mdl.ForceField([_lennard_jones(case)])
    res = ff.compute(st)
    return (
        float(res.energy),
        np.array(res.forces, dtype=float, copy=True),
        np.array(res.virial, dtype=float, copy=True),
    )


@case_ids
def test_energy(case_id):
    ref = _case(case_id)["energy"]
    energy, _, _ = _computed(case_id)
    rel = abs(energy - ref) / abs(ref)
    assert rel < ENERGY_RTOL, f"energy {energy!r} vs LAMMPS {ref!r}: relative error {rel:.3e}"


@case_ids
def test_forces(case_id):
    ref = np.array(_case(case_id)["forces"])
    _, forces, _ = _computed(case_id)
    assert forces.shape == ref.shape
    err = np.abs(forces - ref).max() / np.abs(ref).max()
    worst = np.unravel_index(np.argmax(np.abs(forces - ref)), ref.shape)
    assert err < FORCE_RTOL, (
        f"forces: max |dF| / max |F| = {err:.3e}; worst at atom {worst[0]} component {worst[1]}: "
        f"{forces[worst]!r} vs LAMMPS {ref[worst]!r}"
    )


@case_ids
def test_virial(case_id):
    ref = np.array(_case(case_id)["virial"])
    _, _, virial = _computed(case_id)
    assert virial.shape == (3, 3)
    err = np.linalg.norm(virial - ref) / np.linalg.norm(ref)
    assert err < VIRIAL_RTOL, f"virial relative (Frobenius) error {err:.3e}\n{virial}\nLAMMPS:\n{ref}"
