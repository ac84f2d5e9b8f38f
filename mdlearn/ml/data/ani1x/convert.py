"""Reproduce ``ani1x.npz`` from the NeuroChem files inside the torchani 2.2 wheel.

    pip install --no-deps torchani==2.2 lark requests    # (torchani 2.2 imports them)
    python mdlearn/ml/data/ani1x/convert.py

torchani's own parser reads the NeuroChem networks; this script only re-packs the weights as float32
arrays (their stored precision), stacked over the 8 ensemble members, next to the self energies (Hartree)
and the AEV constants, and checks that every network is Linear/CELU(alpha=0.1) layers.
"""
import json
import os
import sys

import numpy as np
import torch
import torchani
from torchani import neurochem

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.join(os.path.dirname(torchani.__file__), "resources", "ani-1x_8x")
SPECIES = ("H", "C", "N", "O")


def main():
    out = os.path.join(HERE, "ani1x.npz")
    if torchani.__version__ != "2.2":
        sys.exit(f"needs torchani 2.2 (it ships the ANI-1x files); found {torchani.__version__}")
    consts = neurochem.Constants(os.path.join(RESOURCES, "rHCNO-5.2R_16-3.5A_a4-8.params"))
    if tuple(consts.species) != SPECIES:
        sys.exit(f"unexpected species {consts.species}")
    _, sae = neurochem.load_sae(os.path.join(RESOURCES, "sae_linfit.dat"), return_dict=True)
    ensemble = neurochem.load_model_ensemble(consts.species, os.path.join(RESOURCES, "train"), 8)
    arrays = {"self_energies_hartree": np.array([sae[s] for s in SPECIES])}
    for s in SPECIES:
        layers = [[m for m in member[s]] for member in ensemble]
        for member in layers:
            for k, mod in enumerate(member):
                if k % 2 == 0 and not isinstance(mod, torch.nn.Linear):
                    sys.exit(f"{s}: layer {k} is {mod}, expected Linear")
                if k % 2 == 1 and not (isinstance(mod, torch.nn.CELU) and mod.alpha == 0.1):
                    sys.exit(f"{s}: activation {k} is {mod}, expected CELU(alpha=0.1)")
        for k in range(0, len(layers[0]), 2):
            weights = [m[k].weight.detach().numpy().T for m in layers]  # Linear stores (out, in)
            arrays[f"{s}/weight{k // 2}"] = np.stack(weights).astype(np.float32)
            arrays[f"{s}/bias{k // 2}"] = np.stack([m[k].bias.detach().numpy() for m in layers]).astype(np.float32)
    meta = {"species": list(SPECIES), "activation": "celu", "celu_alpha": 0.1, "energy_unit": "Hartree",
            "source": "torchani 2.2 wheel, torchani/resources/ani-1x_8x (NeuroChem format)"}
    arrays["metadata"] = np.array(json.dumps(meta))
    np.savez_compressed(out, **arrays)
    print(f"wrote {out}: {sum(v.size for k, v in arrays.items() if '/' in k)} network parameters")


if __name__ == "__main__":
    main()
