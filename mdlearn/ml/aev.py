"""ANI atomic environment vectors: parameters, neighbour pairs, the Cython path and a pure-torch path.

The Cython kernel (``mdlearn._kernels.aev``) is what simulations use; the torch path is differentiable twice
(training on forces) and is the kernel's test oracle. Both follow NeuroChem/torchani conventions, described
in the kernel's module docstring.
"""
from dataclasses import asdict, dataclass, field

import numpy as np

from .._kernels import aev as _kaev
from ..neighbors import NeighborList
from ..state import State
from ..threads import get_num_threads

__all__ = ["AEVParameters", "NeighborData", "aev_torch", "aev_vjp", "compute_aev", "molecule_neighbors",
           "neighbor_data", "torch_indices"]


def _floats(values, name):
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a non-empty 1-D sequence of finite numbers, got {values!r}")
    return tuple(float(v) for v in arr)


@dataclass(frozen=True)
class AEVParameters:
    """Radial and angular symmetry-function parameters of an ANI AEV.

    Lengths in Å, ``eta`` in 1/Å², angles in radians.

    Examples
    --------
    >>> p = AEVParameters.ani1x()
    >>> p.length, p.radial_cutoff, p.angular_cutoff
    (384, 5.2, 3.5)
    """

    species: tuple = ("H", "C", "N", "O")
    radial_cutoff: float = 5.2
    angular_cutoff: float = 3.5
    radial_eta: tuple = (16.0,)
    radial_shifts: tuple = tuple(0.9 + 0.26875 * k for k in range(16))
    angular_eta: tuple = (8.0,)
    zeta: tuple = (32.0,)
    angular_shifts: tuple = (0.9, 1.55, 2.2, 2.85)
    # as printed in the NeuroChem file (pi/16 + k pi/8 to 8 digits)
    angle_sections: tuple = (0.19634954, 0.58904862, 0.9817477, 1.3744468, 1.7671459, 2.1598449, 2.552544,
                             2.9452431)
    _pair_block: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        species = tuple(str(s) for s in self.species)
        if not species or len(set(species)) != len(species):
            raise ValueError(f"species must be a non-empty sequence of distinct names, got {self.species!r}")
        object.__setattr__(self, "species", species)
        for name in ("radial_eta", "radial_shifts", "angular_eta", "zeta", "angular_shifts", "angle_sections"):
            object.__setattr__(self, name, _floats(getattr(self, name), name))
        rcr, rca = float(self.radial_cutoff), float(self.angular_cutoff)
        if not (0 < rca <= rcr < np.inf):
            raise ValueError(f"cutoffs must satisfy 0 < angular_cutoff <= radial_cutoff, got {rca} and {rcr}")
        object.__setattr__(self, "radial_cutoff", rcr)
        object.__setattr__(self, "angular_cutoff", rca)
        s = len(species)
        iu = np.triu_indices(s)
        block = np.zeros((s, s), dtype=np.intc)
        block[iu] = np.arange(len(iu[0]))
        block[iu[1], iu[0]] = np.arange(len(iu[0]))
        object.__setattr__(self, "_pair_block", block)

    @classmethod
    def ani1x(cls):
        """The AEV of ANI-1x: H, C, N, O, 384 features, the decimal values of the published NeuroChem file
        ``rHCNO-5.2R_16-3.5A_a4-8.params`` (torchani keeps them rounded to float32)."""
        return cls()

    @property
    def radial_sublength(self):
        return len(self.radial_eta) * len(self.radial_shifts)

    @property
    def angular_sublength(self):
        return len(self.angular_eta) * len(self.zeta) * len(self.angular_shifts) * len(self.angle_sections)

    @property
    def length(self):
        """Number of AEV features per atom."""
        s = len(self.species)
        return s * self.radial_sublength + s * (s + 1) // 2 * self.angular_sublength

    def species_index(self, symbols):
        """Indices into ``species`` of the element symbols ``symbols`` (ValueError naming unknown ones)."""
        lookup = {s: k for k, s in enumerate(self.species)}
        symbols = [str(s) for s in np.atleast_1d(symbols)]
        unknown = sorted(set(symbols) - set(lookup))
        if unknown:
            raise ValueError(f"species {unknown} are not known to this model; it knows {list(self.species)}")
        return np.array([lookup[s] for s in symbols], dtype=np.intc)

    def to_dict(self):
        d = asdict(self)
        d.pop("_pair_block")
        d["species"] = list(self.species)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, d):
        return cls(**d)

    def _kernel_args(self):
        f = np.asarray
        return (f(self.radial_eta), f(self.radial_shifts), f(self.angular_eta), f(self.zeta), f(self.angular_shifts),
                f(self.angle_sections), self._pair_block, self.radial_cutoff, self.angular_cutoff)


@dataclass
class NeighborData:
    """Per-atom neighbour lists of included atoms (see ``mdlearn._kernels.aev.full_neighbors``)."""

    species: np.ndarray  # (N,) intc, -1 for atoms left out
    nstart: np.ndarray
    nang: np.ndarray
    index: np.ndarray
    vec: np.ndarray
    dist: np.ndarray


def neighbor_data(params, species_idx, positions, box, nlist):
    """Build :class:`NeighborData` from a current half :class:`NeighborList` (positions as the list saw them)."""
    sp = np.ascontiguousarray(species_idx, dtype=np.intc)
    out = _kaev.full_neighbors(positions, box, sp, nlist.rows, nlist.start, nlist.neighbors, nlist.codes,
                               params.radial_cutoff, params.angular_cutoff)
    return NeighborData(sp, *out)


def molecule_neighbors(params, species_idx, positions, box=None):
    """Neighbour data of one configuration given as arrays (Å); ``box`` None means not periodic.

    A periodic box shorter than twice the radial cutoff is handled by listing neighbours in a replicated
    supercell and mapping them back (periodic images of the same atom then appear as separate neighbours).
    Returns ``(NeighborData, positions)`` with the positions wrapped into the box.
    """
    pos = np.asarray(positions, dtype=np.float64)
    pbc = box is not None
    box = None if box is None else np.array(box, dtype=np.float64)  # a contiguous copy (np.diag gives a view)
    st = State(pos, box=box, pbc=pbc, masses=1.0, units="real")
    st.wrap()
    sp = np.ascontiguousarray(species_idx, dtype=np.intc)
    n = len(pos)
    reps = np.where(st.pbc, np.ceil(2.0 * params.radial_cutoff / np.where(st.pbc, st.box, 1.0)), 1).astype(int)
    if reps.max() > 1:
        grid = np.stack(np.meshgrid(*[np.arange(r) for r in reps], indexing="ij"), -1).reshape(-1, 3)
        big = State((st.positions[None] + (grid * st.box)[:, None]).reshape(-1, 3), box=st.box * reps, pbc=True,
                    masses=1.0, units="real")
        nl = NeighborList(params.radial_cutoff, skin=0.0)
        nl.update(big)
        full = neighbor_data(params, np.tile(sp, len(grid)), big.positions, big.box, nl)
        end = full.nstart[n]  # the original atoms come first in the supercell
        nd = NeighborData(sp, full.nstart[: n + 1].copy(), full.nang[:n].copy(),
                          (full.index[:end] % n).astype(np.intc), full.vec[:end].copy(), full.dist[:end].copy())
        return nd, st.positions.copy()
    nl = NeighborList(params.radial_cutoff, skin=0.0)
    nl.update(st)
    return neighbor_data(params, sp, st.positions, st.box, nl), st.positions.copy()


def compute_aev(params, nd, threads=None):
    """AEVs (N, L) of the atoms in ``nd`` with the Cython kernel (rows of left-out atoms are zero).

    Examples
    --------
    >>> p = AEVParameters.ani1x()
    >>> nd, x = molecule_neighbors(p, p.species_index(["O", "H", "H"]), [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    >>> compute_aev(p, nd).shape
    (3, 384)
    """
    out = np.zeros((len(nd.species), params.length))
    _kaev.aev_forward(nd.species, nd.nstart, nd.nang, nd.index, nd.vec, nd.dist, *params._kernel_args(), out,
                      threads or get_num_threads())
    return out


def aev_vjp(params, nd, g, threads=None):
    """Forces (K, N, 3) and virials (K, 6) from K gradients ``g`` (K, N, L) = dE/dAEV (per energy unit)."""
    g = np.ascontiguousarray(g, dtype=np.float64)
    if g.ndim == 2:
        g = g[None]
    n = len(nd.species)
    if g.shape[1:] != (n, params.length):
        raise ValueError(f"gradient must have shape (K, {n}, {params.length}), got {g.shape}")
    forces = np.zeros((g.shape[0], n, 3))
    virial = np.zeros((g.shape[0], 6))
    _kaev.aev_backward(nd.species, nd.nstart, nd.nang, nd.index, nd.vec, nd.dist, *params._kernel_args(), g, forces,
                       virial, threads or get_num_threads())
    return forces, virial


# ---------------------------------------------------------------------------------------------- torch path
def torch_indices(nd, positions):
    """Index arrays for :func:`aev_torch` from neighbour data and the positions it was built from:
    ``(centre, neighbor, shifts, triples)`` as numpy arrays."""
    counts = np.diff(nd.nstart)
    centre = np.repeat(np.arange(len(counts)), counts)
    neighbor = nd.index.astype(np.intp)
    shifts = nd.vec - (positions[neighbor] - positions[centre])
    triples = []
    for i in np.flatnonzero(nd.nang > 1):
        a, b = np.triu_indices(int(nd.nang[i]), 1)
        triples.append(np.stack([a, b]) + nd.nstart[i])
    triples = np.concatenate(triples, axis=1) if triples else np.zeros((2, 0), dtype=np.intp)
    return centre, neighbor, shifts, triples


def aev_torch(params, species_idx, positions, centre, neighbor, shifts, triples):
    """Differentiable AEVs (N, L) in torch.

    Parameters
    ----------
    species_idx : LongTensor (N,)
    positions : Tensor (N, 3), Å
    centre, neighbor : LongTensor (P,)
        Directed pairs (each unordered pair in both directions) closer than the radial cutoff.
    shifts : Tensor (P, 3)
        Image shift: the pair vector is ``positions[neighbor] + shifts - positions[centre]``.
    triples : LongTensor (2, T)
        Pairs of entries of the directed-pair list with the same centre, both closer than the angular cutoff.

    Examples
    --------
    >>> import numpy as np, torch
    >>> p = AEVParameters.ani1x()
    >>> sp = p.species_index(["O", "H", "H"])
    >>> nd, x = molecule_neighbors(p, sp, [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    >>> idx = [torch.as_tensor(a) for a in torch_indices(nd, x)]
    >>> a = aev_torch(p, torch.as_tensor(sp, dtype=torch.long), torch.as_tensor(x), *idx)
    >>> bool(np.allclose(a.numpy(), compute_aev(p, nd), atol=1e-12))
    True
    """
    import torch

    dt = positions.dtype
    p = params
    n, s = positions.shape[0], len(p.species)
    vec = positions[neighbor] + shifts - positions[centre]
    r = vec.norm(dim=1)
    etar = torch.tensor(p.radial_eta, dtype=dt).view(-1, 1)
    shfr = torch.tensor(p.radial_shifts, dtype=dt).view(1, -1)
    fc = 0.5 * torch.cos(r * (np.pi / p.radial_cutoff)) + 0.5
    rad = 0.25 * torch.exp(-etar * (r.view(-1, 1, 1) - shfr) ** 2) * fc.view(-1, 1, 1)
    radial = torch.zeros((n * s, p.radial_sublength), dtype=dt)
    radial = radial.index_add(0, centre * s + species_idx[neighbor], rad.flatten(1))
    a, b = triples[0], triples[1]
    va, vb = vec[a], vec[b]
    ra, rb = r[a], r[b]
    cos_angle = 0.95 * (va * vb).sum(1) / (ra * rb)
    theta = torch.acos(cos_angle)
    fca = 0.5 * torch.cos(ra * (np.pi / p.angular_cutoff)) + 0.5
    fcb = 0.5 * torch.cos(rb * (np.pi / p.angular_cutoff)) + 0.5
    etaa = torch.tensor(p.angular_eta, dtype=dt).view(-1, 1, 1, 1)
    zeta = torch.tensor(p.zeta, dtype=dt).view(1, -1, 1, 1)
    shfa = torch.tensor(p.angular_shifts, dtype=dt).view(1, 1, -1, 1)
    shfz = torch.tensor(p.angle_sections, dtype=dt).view(1, 1, 1, -1)
    t = theta.view(-1, 1, 1, 1, 1)
    ravg = (0.5 * (ra + rb)).view(-1, 1, 1, 1, 1)
    ang = 2 * ((1 + torch.cos(t - shfz)) / 2) ** zeta * torch.exp(-etaa * (ravg - shfa) ** 2)
    ang = ang * (fca * fcb).view(-1, 1, 1, 1, 1)
    block = torch.as_tensor(p._pair_block, dtype=torch.long)[species_idx[neighbor[a]], species_idx[neighbor[b]]]
    npairs = s * (s + 1) // 2
    angular = torch.zeros((n * npairs, p.angular_sublength), dtype=dt)
    angular = angular.index_add(0, centre[a] * npairs + block, ang.flatten(1))
    return torch.cat([radial.view(n, -1), angular.view(n, -1)], dim=1)
