"""Any torch model as a force term: forces by autograd, virial by the strain derivative.

torch is imported only when a :class:`TorchPotential` is made, so ``import mdlearn`` works without it.
"""
import numpy as np

from .region import region_mask

__all__ = ["TorchPotential", "import_torch"]


def import_torch(what="TorchPotential"):
    """The ``torch`` module, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"{what} needs PyTorch, which is not installed: pip install 'mdlearn[ml]' "
                          f"(or pip install torch)") from exc
    return torch


class TorchPotential:
    """A ``torch.nn.Module`` as a force term.

    The model is called as ``model(species, positions, box, pairs, shifts)`` with

    - ``species``: int64 (n,), each atom's index into ``species`` (below), or its state type index;
    - ``positions``: (n, 3) length units; ``box``: (3, 3), rows are the box vectors (zero on open axes);
    - ``pairs``: int64 (2, P), each pair i < j closer than ``cutoff`` once (mdlearn's neighbor list, so the
      model needs no O(N²) search); ``shifts``: (P, 3), the vector from i to j is
      ``positions[j] + shifts - positions[i]``;

    and returns the energy (a scalar, energy units) or a tuple ``(energy, forces)`` with forces (n, 3).
    Forces are ``-dE/d positions`` by autograd unless the model returns them; the virial is
    ``W = -dE/dε`` for a homogeneous strain ε of positions, shifts and box, so it is right for periodic systems
    too. Inputs are cast to the model's dtype and device, results to float64. The model must go smoothly to
    zero at ``cutoff`` (pairs beyond it are not passed); it is used in whatever train/eval mode it is in.

    Parameters
    ----------
    model : torch.nn.Module
    atoms : bool mask (N,) or atom indices, optional
        Restrict the term to a region: the model sees only these atoms and the pairs with both atoms among
        them (``ForceField.substitute`` gives the rest to the classical pair terms).
    device : str or torch.device, optional
        Default: the device of the model's parameters (CPU without any).
    cutoff : float, optional
        Length units; default ``model.cutoff``.
    species : sequence of str, optional
        Type names the model knows, in the order of its species indices; default ``model.species`` when the
        model has it, else the state's type indices are passed as they are.
    name : str

    Examples
    --------
    >>> import torch, mdlearn as mdl
    >>> class Harmonic(torch.nn.Module):   # k/2 (r - r0)^2 for every listed pair
    ...     cutoff = 1.5
    ...     def forward(self, species, positions, box, pairs, shifts):
    ...         d = positions[pairs[1]] + shifts - positions[pairs[0]]
    ...         r = torch.linalg.norm(d, dim=1)
    ...         return (50.0 * (r - 1.5) ** 2).sum()
    >>> st = mdl.State([[0, 0, 0], [1.2, 0, 0]], pbc=False)
    >>> res = mdl.ForceField([mdl.TorchPotential(Harmonic())]).compute(st)
    >>> round(res.energy, 6), res.forces[0].round(6).tolist()
    (4.5, [-30.0, 0.0, 0.0])
    """

    def __init__(self, model, atoms=None, device=None, cutoff=None, species=None, name="torch"):
        torch = import_torch()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"TorchPotential needs a torch.nn.Module, got {type(model).__name__}")
        if cutoff is None:
            cutoff = getattr(model, "cutoff", None)
            if cutoff is None:
                raise ValueError(f"{type(model).__name__} has no 'cutoff' attribute: give TorchPotential(cutoff=...)")
        cutoff = float(cutoff)
        if not (np.isfinite(cutoff) and cutoff > 0):
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        self.model = model
        self.atoms = atoms
        self.cutoff = cutoff
        self.species = species if species is not None else getattr(model, "species", None)
        self.name = name
        params = [p for p in list(model.parameters()) + list(model.buffers()) if p.is_floating_point()]
        self.dtype = params[0].dtype if params else torch.float64
        self.device = torch.device(device) if device is not None else (params[0].device if params else
                                                                         torch.device("cpu"))
        self._torch = torch

    # ------------------------------------------------------------------ force-term protocol
    def attach(self, state):
        torch = self._torch
        n = state.n_atoms
        mask = np.ones(n, dtype=bool) if self.atoms is None else region_mask(self.atoms, n)
        self._index = np.flatnonzero(mask)
        self._local = np.full(n, -1, dtype=np.intp)
        self._local[self._index] = np.arange(len(self._index))
        self._all = self.atoms is None
        if self.species is not None:
            known = {s: k for k, s in enumerate(self.species)}
            unknown = sorted({state.type_names[t] for t in state.types[self._index]} - set(known))
            if unknown:
                raise ValueError(f"the model knows species {list(self.species)}, not {unknown}")
            codes = np.array([known.get(t, -1) for t in state.type_names])[state.types[self._index]]
        else:
            codes = state.types[self._index]
        self._species = torch.as_tensor(np.asarray(codes, dtype=np.int64), device=self.device)

    def _region_pairs(self, state, nlist):
        """(i, j, shift) in region numbering, only pairs closer than the cutoff."""
        if nlist is None:
            raise ValueError(f"term {self.name!r} needs a neighbor list (cutoff {self.cutoff})")
        i, j, shift = nlist.pairs(state)
        if not self._all:
            keep = (self._local[i] >= 0) & (self._local[j] >= 0)
            i, j, shift = self._local[i[keep]], self._local[j[keep]], shift[keep]
        x = state.positions[self._index]
        d = x[j] + shift - x[i]
        near = np.einsum("ij,ij->i", d, d) < self.cutoff * self.cutoff
        return x, i[near], j[near], shift[near]

    def compute(self, state, nlist, request, out):
        torch = self._torch
        x, i, j, shift = self._region_pairs(state, nlist)
        kw = {"dtype": self.dtype, "device": self.device}
        pos = torch.tensor(x, requires_grad=True, **kw)
        shifts = torch.as_tensor(shift, **kw)
        box = torch.diag(torch.as_tensor(np.where(state.pbc, state.box, 0.0), **kw))
        pairs = torch.as_tensor(np.stack([i, j]).astype(np.int64), device=self.device)
        strain = torch.zeros((3, 3), requires_grad=True, **kw) if request.virial else None
        if strain is not None:  # positions, shifts and box deformed by (1 + ε): W = -dE/dε at ε = 0
            deform = torch.eye(3, **kw) + strain
            pos_in, shifts, box = pos @ deform.T, shifts @ deform.T, box @ deform.T
        else:
            pos_in = pos
        result = self.model(self._species, pos_in, box, pairs, shifts)
        energy, forces = self._unpack(result, len(x))
        wrt = ([pos] if forces is None else []) + ([strain] if strain is not None else [])
        grads = [None] * len(wrt)
        if wrt and energy.requires_grad:
            grads = torch.autograd.grad(energy, wrt, allow_unused=True)
        if forces is None:
            if grads[0] is None:
                raise ValueError(f"the energy of model {type(self.model).__name__} does not depend on the positions "
                                 f"(no autograd graph): it cannot give forces")
            forces = -grads[0]
        f = forces.detach().to("cpu", torch.float64).numpy()
        if self._all:
            out.forces += f
        else:
            out.forces[self._index] += f
        if strain is not None:
            out.add_virial(self._virial(state, x, f, grads[-1]))
        return float(energy.detach()) if request.energy else 0.0

    def _unpack(self, result, n):
        torch = self._torch
        energy, forces = result if isinstance(result, (tuple, list)) else (result, None)
        name = type(self.model).__name__
        if not isinstance(energy, torch.Tensor) or energy.numel() != 1:
            shape = tuple(energy.shape) if isinstance(energy, torch.Tensor) else type(energy).__name__
            raise ValueError(f"model {name} returned an energy of shape {shape}; expected a scalar tensor "
                             f"(the total energy of the {n} atoms it was given)")
        if forces is not None and (not isinstance(forces, torch.Tensor) or tuple(forces.shape) != (n, 3)):
            shape = tuple(forces.shape) if isinstance(forces, torch.Tensor) else type(forces).__name__
            raise ValueError(f"model {name} returned forces of shape {shape}; expected ({n}, 3)")
        return energy.reshape(()), forces

    def _virial(self, state, x, f, de_dstrain):
        if de_dstrain is not None:
            return -de_dstrain.detach().to("cpu", self._torch.float64).numpy().T
        if not state.pbc.any():  # forces from the model, energy without a graph: Σ_i r_i F_i is the virial
            return x.T @ f
        raise ValueError(f"model {type(self.model).__name__} returned forces but an energy without an autograd "
                         f"graph, so the virial of a periodic system is unknown; return a differentiable energy")

    def __repr__(self):
        return f"TorchPotential({type(self.model).__name__}, cutoff={self.cutoff}, name={self.name!r})"
