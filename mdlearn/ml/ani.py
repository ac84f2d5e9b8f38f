"""ANI-like neural-network potential: AEVs (Cython kernel) + one MLP ensemble per element (torch) + self energies.

Energies are Hartree inside the model (as in ANI); every public input/output is in mdlearn's "real" units
(eV, Å). Forces come from one backward pass through the networks (g = dE/dAEV) followed by the kernel's
vector-Jacobian product with the AEV derivatives.
"""
import json
import os

import numpy as np
import torch
from ase.units import Hartree

from ..forces.region import region_mask
from ..threads import get_num_threads
from .aev import AEVParameters, aev_vjp, compute_aev, molecule_neighbors, neighbor_data

__all__ = ["ANIModel", "ANIPotential"]

_ANI1X = os.path.join(os.path.dirname(__file__), "data", "ani1x", "ani1x.npz")


class _ElementNetworks(torch.nn.Module):
    """Ensemble MLPs per element, evaluated member-batched: weights (M, in, out)."""

    def __init__(self, n_features, layers, ensemble, alpha, generator):
        super().__init__()
        self.alpha = float(alpha)
        self.weights = torch.nn.ParameterDict()
        self.biases = torch.nn.ParameterDict()
        for s, hidden in layers.items():
            sizes = [n_features, *hidden, 1]
            for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
                bound = 1.0 / np.sqrt(a)  # torch.nn.Linear's default initialisation
                w = (torch.rand((ensemble, a, b), generator=generator, dtype=torch.float64) * 2 - 1) * bound
                c = (torch.rand((ensemble, b), generator=generator, dtype=torch.float64) * 2 - 1) * bound
                self.weights[f"{s}_{k}"] = torch.nn.Parameter(w)
                self.biases[f"{s}_{k}"] = torch.nn.Parameter(c)
        self.layers = {s: len(h) + 1 for s, h in layers.items()}
        self._wide = {}

    def _wide_first_layer(self, s):
        """First-layer weights of all members side by side, (in, M * out): cached until they change."""
        w0 = self.weights[f"{s}_0"]
        key = (w0._version, w0.data_ptr(), w0.device)
        if s not in self._wide or self._wide[s][0] != key:
            self._wide[s] = (key, w0.detach().permute(1, 0, 2).reshape(w0.shape[1], -1).contiguous())
        return self._wide[s][1]

    def forward(self, x, species_idx, names):
        """Atomic energies (M, N) from AEVs ``x`` (M or 1, N, L) and species indices (N,) into ``names``."""
        ensemble = next(iter(self.weights.values())).shape[0]
        out = x.new_zeros((ensemble, x.shape[1]))
        for k, s in enumerate(names):
            sel = torch.nonzero(species_idx == k).flatten()
            if sel.numel() == 0:
                continue
            h = x[:, sel]
            nl = self.layers[s]
            for layer in range(nl):
                h = torch.matmul(h, self.weights[f"{s}_{layer}"]) + self.biases[f"{s}_{layer}"].unsqueeze(1)
                if layer < nl - 1:
                    h = torch.nn.functional.celu(h, alpha=self.alpha)
            out = out.index_copy(1, sel, h.squeeze(-1))
        return out


    @torch.no_grad()
    def energy_and_gradient(self, x, species_idx, names, members):
        """Atomic energies (M, N) and dE/dx for AEVs ``x`` (N, L), by hand-written backpropagation.

        The gradient is (M, N, L) per member when ``members`` else (1, N, L) for the ensemble mean. The
        members' first layers run as one wide matrix product, forward and backward.
        """
        ensemble = next(iter(self.weights.values())).shape[0]
        n, length = x.shape
        energies = x.new_zeros((ensemble, n))
        grad = x.new_zeros((ensemble if members else 1, n, length))
        for k, s in enumerate(names):
            sel = torch.nonzero(species_idx == k).flatten()
            if sel.numel() == 0:
                continue
            nl = self.layers[s]
            w0 = self.weights[f"{s}_0"]
            wide = self._wide_first_layer(s)
            h = (x[sel] @ wide).view(len(sel), ensemble, -1).transpose(0, 1)
            h = h + self.biases[f"{s}_0"].unsqueeze(1)
            slopes = []
            for layer in range(1, nl):
                slopes.append(torch.where(h > 0, 1.0, torch.exp(torch.clamp(h, max=0.0) / self.alpha)))
                h = torch.nn.functional.celu(h, alpha=self.alpha)
                h = torch.matmul(h, self.weights[f"{s}_{layer}"]) + self.biases[f"{s}_{layer}"].unsqueeze(1)
            energies[:, sel] = h.squeeze(-1)
            d = self.weights[f"{s}_{nl - 1}"].transpose(1, 2).expand(-1, len(sel), -1)
            for layer in range(nl - 2, 0, -1):
                d = torch.matmul(d * slopes[layer], self.weights[f"{s}_{layer}"].transpose(1, 2))
            d = d * slopes[0]
            if members:
                grad[:, sel] = torch.matmul(d, w0.transpose(1, 2))
            else:
                grad[0, sel] = d.transpose(0, 1).reshape(len(sel), -1) @ wide.T / ensemble
        return energies, grad


class ANIModel:
    """An ANI-style neural-network potential.

    Parameters
    ----------
    species : sequence of str
        Element symbols the model knows (order of the AEV species blocks).
    aev : AEVParameters, optional
        Symmetry functions; default ANI-1x's radial/angular sets with ``species``.
    hidden : tuple of int, or dict element -> tuple
        Hidden-layer widths (CELU activations).
    ensemble : int
        Number of independently initialised networks per element (committee).
    random_state : int
        Seed of the initial weights.
    device : str or torch.device, optional
        Where the networks run (the AEV kernel runs on the CPU).
    celu_alpha : float
        CELU parameter (0.1 in ANI-1x).

    Examples
    --------
    >>> import numpy as np
    >>> from mdlearn.ml import ANIModel
    >>> model = ANIModel(species=("H", "O"), hidden=(8,), ensemble=2, random_state=0)
    >>> e, f = model.energy_forces(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    >>> f.shape
    (3, 3)
    """

    def __init__(self, species, aev=None, hidden=(64, 64), ensemble=4, random_state=0, device=None,
                 celu_alpha=0.1, self_energies=None):
        species = tuple(str(s) for s in species)
        if aev is None:
            aev = AEVParameters(species=species)
        if not isinstance(aev, AEVParameters):
            raise TypeError(f"aev must be an AEVParameters, got {type(aev).__name__}")
        if aev.species != species:
            raise ValueError(f"species {list(species)} differ from the AEV's species {list(aev.species)}")
        if int(ensemble) != ensemble or ensemble < 1:
            raise ValueError(f"ensemble must be a positive integer, got {ensemble!r}")
        layers = hidden if isinstance(hidden, dict) else {s: hidden for s in species}
        if set(layers) != set(species):
            raise ValueError(f"hidden must give layers for exactly {list(species)}, got {list(layers)}")
        layers = {s: tuple(int(w) for w in layers[s]) for s in species}
        for s, widths in layers.items():
            if any(w < 1 for w in widths):
                raise ValueError(f"hidden widths must be positive, got {widths} for {s}")
        self.species = species
        self.aev = aev
        self.hidden = layers
        self.ensemble = int(ensemble)
        self.celu_alpha = float(celu_alpha)
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        gen = torch.Generator().manual_seed(int(random_state))
        self.networks = _ElementNetworks(aev.length, layers, self.ensemble, celu_alpha, gen).to(self.device)
        se = np.zeros(len(species)) if self_energies is None else np.asarray(self_energies, dtype=np.float64)
        if se.shape != (len(species),):
            raise ValueError(f"self_energies must have one value (Hartree) per species, got shape {se.shape}")
        self.self_energies = se  # Hartree

    # ------------------------------------------------------------------ pretrained
    @classmethod
    def from_ani1x(cls, device=None):
        """The published ANI-1x potential (H, C, N, O; 8 networks per element), from the converted copy of
        the NeuroChem parameters shipped with mdlearn (see ``mdlearn/ml/data/ani1x/PROVENANCE.md``).

        Examples
        --------
        >>> from mdlearn.ml import ANIModel
        >>> model = ANIModel.from_ani1x()
        >>> model.ensemble, model.species
        (8, ('H', 'C', 'N', 'O'))
        """
        with np.load(_ANI1X) as data:
            meta = json.loads(str(data["metadata"]))
            species = tuple(meta["species"])
            hidden = {}
            for s in species:
                k, widths = 0, []
                while f"{s}/weight{k + 1}" in data:
                    widths.append(data[f"{s}/weight{k}"].shape[2])
                    k += 1
                hidden[s] = tuple(widths)
            model = cls(species, AEVParameters.ani1x(), hidden=hidden, ensemble=data[f"{species[0]}/weight0"].shape[0],
                        device=device, celu_alpha=meta["celu_alpha"], self_energies=data["self_energies_hartree"])
            with torch.no_grad():
                for s in species:
                    for k in range(len(hidden[s]) + 1):
                        model.networks.weights[f"{s}_{k}"].copy_(torch.from_numpy(data[f"{s}/weight{k}"].astype(np.float64)))
                        model.networks.biases[f"{s}_{k}"].copy_(torch.from_numpy(data[f"{s}/bias{k}"].astype(np.float64)))
        return model

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, nd, members=False, threads=None):
        """Energy, forces and virial of the atoms in neighbour data ``nd`` (eV, eV/Å, eV).

        Returns ``(energies (M,), forces (K, N, 3), virial (K, 6))`` with K = M when ``members`` else K = 1
        (the ensemble mean).
        """
        if threads is None:  # waking threads costs more than a small molecule's kernels and networks
            threads = get_num_threads() if len(nd.species) >= 256 else 1
        inc = nd.species >= 0
        aev = compute_aev(self.aev, nd, threads)
        x = torch.from_numpy(aev[inc]).to(self.device)
        sp = torch.from_numpy(nd.species[inc].astype(np.int64)).to(self.device)
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(max(1, min(threads, torch_threads)))
        try:
            atomic, grad = self.networks.energy_and_gradient(x, sp, self.species, members)
        finally:
            torch.set_num_threads(torch_threads)
        if atomic.shape != (self.ensemble, x.shape[0]):
            raise ValueError(f"the networks returned shape {tuple(atomic.shape)}, expected atomic energies of shape "
                             f"({self.ensemble}, {x.shape[0]})")
        sae = torch.as_tensor(self.self_energies, dtype=atomic.dtype, device=atomic.device)[sp].sum()
        energies = (atomic.sum(1) + sae).cpu().numpy()
        g = np.zeros((grad.shape[0], len(nd.species), self.aev.length))
        g[:, inc] = grad.cpu().numpy()
        forces, virial = aev_vjp(self.aev, nd, g, threads)
        return energies * Hartree, forces * Hartree, virial * Hartree

    def energy_forces(self, species, positions, box=None):
        """Ensemble-mean energy (eV) and forces (N, 3) in eV/Å of one configuration.

        ``species``: element symbols; ``positions``: (N, 3) Å; ``box``: orthorhombic lengths (Å) for a
        periodic system, None for a molecule.
        """
        idx = self.aev.species_index(species)
        pos = np.asarray(positions, dtype=np.float64)
        if pos.shape != (len(idx), 3):
            raise ValueError(f"positions must have shape ({len(idx)}, 3), got {pos.shape}")
        nd, _ = molecule_neighbors(self.aev, idx, pos, box)
        e, f, _ = self.evaluate(nd)
        return float(e.mean()), f[0]

    def potential(self, atoms=None, device=None, uncertainty=True):
        """An mdlearn force term (name ``"ani"``) evaluating this model; see :class:`ANIPotential`."""
        if device is not None:
            self.to(device)
        return ANIPotential(self, atoms=atoms, uncertainty=uncertainty)

    def to(self, device):
        """Move the networks to ``device``; returns self."""
        self.device = torch.device(device)
        self.networks.to(self.device)
        return self

    # ------------------------------------------------------------------ training and storage
    def fit(self, dataset, **kwargs):
        """Train on a :class:`Dataset` (energies and forces); see :func:`mdlearn.ml.training.fit`.

        Examples
        --------
        >>> import numpy as np
        >>> from mdlearn.ml import ANIModel, Dataset
        >>> pos = np.array([[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]]) + np.random.default_rng(0).normal(
        ...     scale=0.05, size=(6, 3, 3))
        >>> ds = Dataset.from_arrays(["O", "H", "H"], pos, energies=-2080 + np.arange(6) * 0.01,
        ...                          forces=np.zeros((6, 3, 3)))
        >>> model = ANIModel(("H", "O"), hidden=(4,), ensemble=2)
        >>> history = model.fit(ds, max_epochs=2, validation_fraction=0.2)
        >>> history["n_train"], history["n_validation"], len(history["train_loss"])
        (5, 1, 2)
        >>> model.save("water.pt")
        >>> ANIModel.load("water.pt").species
        ('H', 'O')
        """
        from .training import fit

        return fit(self, dataset, **kwargs)

    def save(self, path):
        """Write the model (weights, species, AEV parameters, units) to ``path`` (torch format)."""
        torch.save({
            "format": "mdlearn.ml.ANIModel", "version": 1, "species": list(self.species),
            "aev": self.aev.to_dict(), "hidden": {s: list(h) for s, h in self.hidden.items()},
            "ensemble": self.ensemble, "celu_alpha": self.celu_alpha,
            "self_energies_hartree": [float(v) for v in self.self_energies],
            "units": {"energy": "eV", "length": "Angstrom", "internal_energy": "Hartree"},
            "state_dict": {k: v.detach().cpu() for k, v in self.networks.state_dict().items()},
        }, path)

    @classmethod
    def load(cls, path, device=None):
        """Read a model written by :meth:`save`."""
        d = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(d, dict) or d.get("format") != "mdlearn.ml.ANIModel":
            raise ValueError(f"{path} is not a saved mdlearn ANIModel")
        model = cls(d["species"], AEVParameters.from_dict(d["aev"]),
                    hidden={s: tuple(h) for s, h in d["hidden"].items()}, ensemble=d["ensemble"],
                    celu_alpha=d["celu_alpha"], self_energies=d["self_energies_hartree"])
        model.networks.load_state_dict(d["state_dict"])
        return model.to(device) if device is not None else model


class ANIPotential:
    """Force term evaluating an :class:`ANIModel` on mdlearn's neighbor list ("real" units: eV, Å).

    Parameters
    ----------
    model : ANIModel
    atoms : None, bool mask (N,) or indices
        Atoms the term covers: their atomic energies, from neighbours inside the set. None: all atoms.
    uncertainty : bool
        Also compute each member's forces for ``last_uncertainty["force_std"]`` (costs one more
        kernel contraction per member).

    Attributes
    ----------
    last_uncertainty : dict
        After ``compute``: ``"energy_std_per_sqrt_atom"`` (eV; committee std of the energy / sqrt(N)),
        ``"energy_std"`` (eV) and, with ``uncertainty``, ``"force_std"`` (N,) eV/Å (norm of the per-atom
        committee standard deviation vector; zero for atoms outside the set).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> from mdlearn.ml import ANIModel
    >>> st = mdl.State([[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]], pbc=False, types=["O", "H", "H"], units="real")
    >>> term = ANIModel(("H", "O"), hidden=(8,), ensemble=2).potential()
    >>> res = mdl.ForceField([term]).compute(st)
    >>> sorted(term.last_uncertainty)
    ['energy_std', 'energy_std_per_sqrt_atom', 'force_std']
    """

    name = "ani"

    def __init__(self, model, atoms=None, uncertainty=True):
        self.model = model
        self.atoms = atoms
        self.uncertainty = bool(uncertainty)
        self.cutoff = model.aev.radial_cutoff
        self.last_uncertainty = {}
        self._species = None

    def attach(self, state):
        if state.units.name != "real":
            raise ValueError(f"the ANI term works in 'real' units (eV, Å); the state uses {state.units.name!r}")
        n = state.n_atoms
        cover = np.ones(n, dtype=bool) if self.atoms is None else region_mask(self.atoms, n)
        names = np.asarray(state.type_names)[state.types]
        species = np.full(n, -1, dtype=np.intc)
        species[cover] = self.model.aev.species_index(names[cover])
        self._species = species

    def compute(self, state, nlist, request, out):
        if nlist is None or nlist.cutoff < self.cutoff:
            raise ValueError(f"the ANI term needs a neighbor list with cutoff >= {self.cutoff} Å")
        nd = neighbor_data(self.model.aev, self._species, state.positions, state.box, nlist)
        energies, forces, virial = self.model.evaluate(nd, members=self.uncertainty)
        n_cov = int((self._species >= 0).sum())
        std = float(energies.std()) if len(energies) > 1 else 0.0
        self.last_uncertainty = {"energy_std": std, "energy_std_per_sqrt_atom": std / np.sqrt(max(n_cov, 1))}
        if self.uncertainty:
            self.last_uncertainty["force_std"] = np.linalg.norm(forces.std(0), axis=1)
        out.forces += forces.mean(0)
        if request.virial:
            out.virial6 += virial.mean(0)
        return float(energies.mean()) if request.energy else 0.0
