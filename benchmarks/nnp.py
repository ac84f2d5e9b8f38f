"""ANI-1x energy + forces: mdlearn (Cython AEV kernels + torch networks) against torchani 2.2, in one run.

Systems: periodic water boxes of 300 and 1,500 atoms at 1 g/cm³ (molecules on a grid with random
orientations) and benzene (12 atoms, not periodic). Both codes evaluate the same 8-member ANI-1x ensemble in
float64 (torchani's AEV constants set to the decimal values of the NeuroChem file, as in
tests/make_ani1x_reference.py), so the accuracy is the same: the script prints the largest energy and force
differences. torchani 2.2's periodic path (``AEVComputer`` with ``cell``/``pbc``) finds pairs by testing
every atom pair in every needed image cell (it has no cell list); mdlearn's timing includes building its
neighbor list for each call. Each figure is the fastest of several calls (the machine may be shared).

    pip install --no-deps torchani==2.2 lark requests "setuptools<81"   # or: pip install -e '.[bench]'
    .venv/bin/python benchmarks/nnp.py [--json nnp.json]
"""
import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import torch
from ase.build import molecule
from ase.units import Hartree

import mdlearn as mdl
from mdlearn.ml import ANIModel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
from make_ani1x_reference import SPECIES, torchani_ani1x  # noqa: E402


def water_box(n_molecules, seed=0):
    """Water at 1 g/cm³: molecules on a cubic grid, random orientations, small random offsets (Å)."""
    rng = np.random.default_rng(seed)
    length = (n_molecules * 18.015 / 0.602214) ** (1 / 3)
    k = int(np.ceil(n_molecules ** (1 / 3)))
    grid = np.stack(np.meshgrid(*[np.arange(k)] * 3), -1).reshape(-1, 3)[:n_molecules] * (length / k)
    w = molecule("H2O")
    pos = [w.positions @ np.linalg.qr(rng.normal(size=(3, 3)))[0].T + g + 0.3 * rng.random(3) for g in grid]
    return w.get_chemical_symbols() * n_molecules, np.concatenate(pos) % length, np.full(3, length)


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    ours = ANIModel.from_ani1x()
    ref = torchani_ani1x()
    benzene = molecule("C6H6")
    systems = [("benzene (12 atoms)", benzene.get_chemical_symbols(), benzene.positions, None, 20)]
    for n in (100, 500):
        sym, pos, box = water_box(n)
        systems.append((f"water box ({3 * n} atoms)", sym, pos, box, 3))
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        mdl.set_num_threads(threads)
        for name, sym, pos, box, repeats in systems:
            t_ours, (e, f) = best(lambda: ours.energy_forces(sym, pos, box), repeats)  # noqa: B023
            species = torch.tensor([[SPECIES.index(s) for s in sym]])
            kw = {} if box is None else {"cell": torch.diag(torch.tensor(box)), "pbc": torch.ones(3, dtype=bool)}

            def torchani_call(pos=pos, species=species, kw=kw):
                x = torch.tensor(pos[None], requires_grad=True)
                energy = ref((species, x), **kw).energies
                (g,) = torch.autograd.grad(energy.sum(), x)
                return float(energy[0]) * Hartree, -g[0].numpy() * Hartree

            t_ref, (e_ref, f_ref) = best(torchani_call, repeats)
            row = {"system": name, "threads": threads, "mdlearn_s": t_ours, "torchani_s": t_ref,
                   "speedup": t_ref / t_ours, "max_dE_eV": abs(e - e_ref),
                   "max_dF_eV_per_A": float(np.abs(f - f_ref).max())}
            rows.append(row)
            print(f"{name:22s} {threads} thr  mdlearn {t_ours * 1e3:9.1f} ms  torchani {t_ref * 1e3:9.1f} ms  "
                  f"{row['speedup']:6.1f}x  |dE| {row['max_dE_eV']:.1e} eV  |dF| {row['max_dF_eV_per_A']:.1e} eV/Å",
                  flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
