"""Configurations with reference energies (eV) and forces (eV/Å) for training potentials."""
import numpy as np

__all__ = ["Dataset"]


def _box_of(cell, pbc, where):
    """Orthorhombic box lengths (Å) or None for a non-periodic configuration."""
    pbc = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
    if not pbc.any():
        return None
    if not pbc.all():
        raise ValueError(f"{where}: partly periodic cells (pbc={pbc.tolist()}) are not supported")
    cell = np.asarray(cell, dtype=np.float64)
    if cell.shape == (3, 3):
        if np.any(cell[~np.eye(3, dtype=bool)] != 0):
            raise ValueError(f"{where}: only orthorhombic cells are supported, got {cell.tolist()}")
        cell = np.diag(cell)
    if cell.shape != (3,) or np.any(cell <= 0):
        raise ValueError(f"{where}: cell must be 3 positive lengths or a diagonal 3x3 matrix, got {cell.tolist()}")
    return cell.copy()


class Dataset:
    """A list of configurations: element symbols, positions (Å), energy (eV), optional forces (eV/Å) and
    orthorhombic box (Å; None when not periodic).

    Examples
    --------
    >>> import numpy as np
    >>> from mdlearn.ml import Dataset
    >>> ds = Dataset.from_arrays(["O", "H", "H"], np.zeros((2, 3, 3)) + [[0, 0, 0], [0.96, 0, 0], [0, 0.96, 0]],
    ...                          energies=[-2080.1, -2080.0])
    >>> len(ds), ds[0]["symbols"]
    (2, ['O', 'H', 'H'])
    """

    def __init__(self, frames):
        self.frames = []
        for k, fr in enumerate(frames):
            sym = [str(s) for s in fr["symbols"]]
            pos = np.asarray(fr["positions"], dtype=np.float64)
            if pos.shape != (len(sym), 3):
                raise ValueError(f"frame {k}: positions must have shape ({len(sym)}, 3), got {pos.shape}")
            energy = float(fr["energy"])
            if not np.isfinite(energy) or not np.all(np.isfinite(pos)):
                raise ValueError(f"frame {k}: energy and positions must be finite")
            forces = fr.get("forces")
            if forces is not None:
                forces = np.asarray(forces, dtype=np.float64)
                if forces.shape != pos.shape:
                    raise ValueError(f"frame {k}: forces must have shape {pos.shape}, got {forces.shape}")
            box = fr.get("box")
            box = None if box is None else _box_of(box, True, f"frame {k}")
            self.frames.append({"symbols": sym, "positions": pos, "energy": energy, "forces": forces, "box": box})

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, k):
        return self.frames[k]

    def subset(self, indices):
        """A new Dataset of the frames ``indices``."""
        return Dataset([self.frames[int(k)] for k in indices])

    @classmethod
    def from_ase(cls, images, index=":"):
        """From ASE Atoms (a list) or a file ase.io reads (extxyz, ASE database, ...).

        Energies and forces come from each Atoms' calculator results (as ase.io attaches them), else from
        ``atoms.info["energy"]`` and ``atoms.arrays["forces"]``.
        """
        if isinstance(images, str | bytes) or hasattr(images, "__fspath__"):
            import ase.io

            images = ase.io.read(images, index=index)
        if not isinstance(images, list | tuple):
            images = [images]
        frames = []
        for k, atoms in enumerate(images):
            calc = atoms.calc
            results = getattr(calc, "results", {}) if calc is not None else {}
            energy = results.get("energy", atoms.info.get("energy"))
            if energy is None:
                raise ValueError(f"image {k} has no energy (neither calculator results nor atoms.info['energy'])")
            forces = results.get("forces", atoms.arrays.get("forces"))
            frames.append({"symbols": atoms.get_chemical_symbols(), "positions": atoms.get_positions(),
                           "energy": energy, "forces": forces,
                           "box": _box_of(atoms.cell.array, atoms.pbc, f"image {k}")})
        return cls(frames)

    @classmethod
    def from_arrays(cls, species, positions, energies, forces=None, cells=None):
        """From arrays: ``species`` (N,) shared by all frames or (F, N); ``positions`` (F, N, 3) Å;
        ``energies`` (F,) eV; ``forces`` (F, N, 3) eV/Å; ``cells`` None or (F, 3) / (F, 3, 3) orthorhombic Å."""
        pos = np.asarray(positions, dtype=np.float64)
        if pos.ndim != 3 or pos.shape[2] != 3:
            raise ValueError(f"positions must have shape (F, N, 3), got {pos.shape}")
        n_frames = pos.shape[0]
        sp = np.asarray(species)
        if sp.ndim == 1:
            sp = np.broadcast_to(sp, (n_frames, len(sp)))
        energies = np.asarray(energies, dtype=np.float64)
        if energies.shape != (n_frames,):
            raise ValueError(f"energies must have shape ({n_frames},), got {energies.shape}")
        if sp.shape != pos.shape[:2]:
            raise ValueError(f"species must have shape ({pos.shape[1]},) or {pos.shape[:2]}, got {sp.shape}")
        fr = [None] * n_frames if forces is None else np.asarray(forces, dtype=np.float64)
        cl = [None] * n_frames if cells is None else np.asarray(cells, dtype=np.float64)
        if len(fr) != n_frames or len(cl) != n_frames:
            raise ValueError(f"forces and cells need one entry per frame ({n_frames})")
        return cls({"symbols": list(sp[k]), "positions": pos[k], "energy": energies[k], "forces": fr[k],
                    "box": cl[k]} for k in range(n_frames))
