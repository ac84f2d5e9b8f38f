"""Write tests/data/ani1x_reference.json: torchani 2.2's ANI-1x energies (eV) and forces (eV/Å).

    pip install --no-deps torchani==2.2 lark requests      # part of the bench extra
    python tests/make_ani1x_reference.py

torchani 2.2 needs network access to build ``torchani.models.ANI1x`` (its .info file is empty in the
wheel), so the model is assembled from the NeuroChem files the wheel ships, the way ANI1x does it. It runs
in float64 with the AEV constants set to the decimal values of the NeuroChem file (torchani holds them as
float32, which alone moves energies by ~1e-5 eV); mdlearn uses the same decimal values.
"""
import json
import os

import numpy as np
import torch
import torchani
from ase.build import molecule
from ase.units import Hartree
from torchani import neurochem

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(os.path.dirname(torchani.__file__), "resources", "ani-1x_8x")
SPECIES = ["H", "C", "N", "O"]


def torchani_ani1x():
    consts = neurochem.Constants(os.path.join(RES, "rHCNO-5.2R_16-3.5A_a4-8.params"))
    aev = torchani.AEVComputer(**consts)
    nets = neurochem.load_model_ensemble(consts.species, os.path.join(RES, "train"), 8)
    shifter = neurochem.load_sae(os.path.join(RES, "sae_linfit.dat"))
    model = torchani.nn.Sequential(aev, nets, shifter).double()
    with open(os.path.join(RES, "rHCNO-5.2R_16-3.5A_a4-8.params")) as fh:
        text = {k.strip(): v.strip() for k, v in (line.split("=", 1) for line in fh if "=" in line)}
    for name, shape in [("ShfR", (1, -1)), ("ShfA", (1, 1, -1, 1)), ("ShfZ", (1, 1, 1, -1)), ("EtaR", (-1, 1)),
                        ("EtaA", (-1, 1, 1, 1)), ("Zeta", (1, -1, 1, 1))]:
        values = [float(v) for v in text[name].strip("[]").split(",")]
        getattr(aev, name).copy_(torch.tensor(values, dtype=torch.float64).view(shape))
    return model


def systems():
    rng = np.random.default_rng(7)
    out = []
    for name in ["CH4", "H2O", "NH3", "CH3CH2OH", "C6H6", "CH3CONH2"]:
        atoms = molecule(name)
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        out.append({"name": name, "symbols": atoms.get_chemical_symbols(), "positions": atoms.positions.tolist(),
                    "box": None})
    # periodic: 27 distorted water molecules in a 10.8 x 11.1 x 11.4 Å box (pairs across the boundary)
    water = molecule("H2O")
    spacing = np.array([3.6, 3.7, 3.8])
    sym, pos = [], []
    for corner in np.stack(np.meshgrid([0, 1, 2], [0, 1, 2], [0, 1, 2]), -1).reshape(-1, 3):
        sym += water.get_chemical_symbols()
        pos += (water.positions + corner * spacing + rng.normal(scale=0.1, size=(3, 3))).tolist()
    out.append({"name": "water27_periodic", "symbols": sym, "positions": pos, "box": (3 * spacing).tolist()})
    return out


def main():
    model = torchani_ani1x()
    records = []
    for s in systems():
        species = torch.tensor([[SPECIES.index(x) for x in s["symbols"]]])
        pos = torch.tensor([s["positions"]], dtype=torch.float64, requires_grad=True)
        if s["box"] is None:
            energy = model((species, pos)).energies
        else:
            cell = torch.diag(torch.tensor(s["box"], dtype=torch.float64))
            energy = model((species, pos), cell=cell, pbc=torch.ones(3, dtype=torch.bool)).energies
        (grad,) = torch.autograd.grad(energy.sum(), pos)
        records.append(dict(s, energy=float(energy[0]) * Hartree, forces=(-grad[0] * Hartree).tolist()))
    meta = {"torchani": torchani.__version__, "torch": torch.__version__, "units": "eV, Angstrom",
            "script": "tests/make_ani1x_reference.py"}
    with open(os.path.join(HERE, "data", "ani1x_reference.json"), "w") as fh:
        json.dump({"meta": meta, "systems": records}, fh, indent=1)
    print(f"wrote {len(records)} systems")


if __name__ == "__main__":
    main()
