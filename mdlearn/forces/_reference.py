"""Plain NumPy reference implementations ("oracles") that the Cython kernels are tested against.

Everything here is written for clarity, not speed: all-pairs O(N^2) loops over NumPy arrays with no
neighbor list, no cell grid and no threads, so that a bug in the fast path cannot be shared by the oracle.
Use only for small systems (a few thousand atoms at most).

Conventions are those of :mod:`mdlearn.forces`: ``r_ij = r_i - r_j`` taken by the minimum image on
periodic axes, ``f_ij`` the force on atom i due to atom j, and the virial
``W_ab = sum_{i<j} r_ij,a f_ij,b``; the potential pressure is ``tr(W) / (3 V)``.
"""
from typing import NamedTuple

import numpy as np

__all__ = ["LJReference", "all_pairs_within", "lennard_jones", "lj_pair_parameters", "minimum_image",
           "pair_vectors"]


class LJReference(NamedTuple):
    """Result of :func:`lennard_jones`: energy (float), forces (N, 3), virial (3, 3), and the analytic
    long-range tail parts that are included in ``energy`` and ``virial`` (zero unless ``tail=True``)."""

    energy: float
    forces: np.ndarray
    virial: np.ndarray
    tail_energy: float
    tail_virial: float


def _periodic_axes(box, pbc):
    pbc = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
    if box is None:
        if pbc.any():
            raise ValueError("a box is needed on periodic axes")
        return pbc, np.zeros(3)
    box = np.broadcast_to(np.asarray(box, dtype=np.float64), (3,))
    return pbc, box


def minimum_image(d, box, pbc):
    """Return the displacement vectors ``d`` (..., 3) folded by the minimum image on periodic axes."""
    pbc, box = _periodic_axes(box, pbc)
    d = np.array(d, dtype=np.float64, copy=True)
    for a in np.flatnonzero(pbc):
        d[..., a] -= box[a] * np.round(d[..., a] / box[a])
    return d


def pair_vectors(positions, box, pbc):
    """All unordered pairs i < j: indices ``i``, ``j`` and minimum-image vectors ``r_ij = r_i - r_j``."""
    x = np.asarray(positions, dtype=np.float64)
    i, j = np.triu_indices(len(x), k=1)
    return i, j, minimum_image(x[i] - x[j], box, pbc)


def all_pairs_within(positions, box, pbc, radius):
    """The set of unordered pairs ``(min(i, j), max(i, j))`` whose minimum-image distance is < ``radius``."""
    i, j, rij = pair_vectors(positions, box, pbc)
    close = np.einsum("ij,ij->i", rij, rij) < radius * radius
    return set(zip(i[close].tolist(), j[close].tolist(), strict=True))


def lj_pair_parameters(epsilon, sigma, n_types, mixing="lorentz-berthelot"):
    """(T, T) matrices of epsilon_ab and sigma_ab from per-type values.

    ``epsilon`` and ``sigma`` are floats (the same for every type) or sequences indexed by the integer
    type. Lorentz–Berthelot: ``eps_ab = sqrt(eps_a eps_b)``, ``sigma_ab = (sigma_a + sigma_b) / 2``;
    ``"geometric"`` takes the geometric mean of both.
    """
    eps = np.broadcast_to(np.asarray(epsilon, dtype=np.float64), (n_types,))
    sig = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n_types,))
    eps_ab = np.sqrt(eps[:, None] * eps[None, :])
    if mixing == "lorentz-berthelot":
        sig_ab = 0.5 * (sig[:, None] + sig[None, :])
    elif mixing == "geometric":
        sig_ab = np.sqrt(sig[:, None] * sig[None, :])
    else:
        raise ValueError(f"unknown mixing rule {mixing!r}")
    return eps_ab, sig_ab


def lennard_jones(positions, box=None, pbc=True, types=None, epsilon=1.0, sigma=1.0, cutoff=2.5,
                  shift=False, tail=False, mixing="lorentz-berthelot"):
    """Lennard-Jones energy, forces and virial by a direct sum over all pairs.

    ``u(r) = 4 eps_ab [(sigma_ab / r)^12 - (sigma_ab / r)^6]`` for ``r < cutoff`` (minus ``u(cutoff)`` when
    ``shift``), zero beyond.

    Parameters
    ----------
    positions : array (N, 3)
    box : 3 lengths or None
        Orthorhombic box; only its periodic axes are used. Must be at least twice the cutoff there.
    pbc : bool or 3 bools
    types : None or int array (N,)
        Integer type of each atom (all 0 when None).
    epsilon, sigma : float or sequence indexed by type
        Per-type parameters, combined by ``mixing`` (see :func:`lj_pair_parameters`).
    cutoff : float
    shift : bool
        Subtract ``u(cutoff)`` from every interacting pair (forces unchanged).
    tail : bool
        Add the long-range corrections with g(r) = 1 beyond the cutoff, for a box periodic on all axes:
        ``E_tail = 2 pi / V sum_ab N_a N_b int_rc^inf r^2 u_ab(r) dr`` and
        ``tr W_tail = -2 pi / V sum_ab N_a N_b int_rc^inf r^3 u_ab'(r) dr``, split equally over the
        diagonal of the virial. Both integrals are done in closed form.

    Returns
    -------
    LJReference
    """
    x = np.asarray(positions, dtype=np.float64)
    n = len(x)
    pbc, box = _periodic_axes(box, pbc)
    types = np.zeros(n, dtype=int) if types is None else np.asarray(types, dtype=int)
    n_types = int(types.max()) + 1
    eps_ab, sig_ab = lj_pair_parameters(epsilon, sigma, n_types, mixing)

    i, j, rij = pair_vectors(x, box, pbc)
    r2 = np.einsum("ij,ij->i", rij, rij)
    inside = r2 < cutoff * cutoff
    i, j, rij, r2 = i[inside], j[inside], rij[inside], r2[inside]
    eps = eps_ab[types[i], types[j]]
    sig = sig_ab[types[i], types[j]]

    sr6 = (sig * sig / r2) ** 3
    energy_pairs = 4.0 * eps * (sr6 * sr6 - sr6)
    if shift:
        src6 = (sig / cutoff) ** 6
        energy_pairs -= 4.0 * eps * (src6 * src6 - src6)
    # f_ij = -du/dr * r_ij / r = 24 eps (2 sr12 - sr6) / r^2 * r_ij
    fij = (24.0 * eps * (2.0 * sr6 * sr6 - sr6) / r2)[:, None] * rij

    forces = np.zeros((n, 3))
    np.add.at(forces, i, fij)
    np.add.at(forces, j, -fij)
    virial = rij.T @ fij
    energy = float(energy_pairs.sum())

    tail_energy = tail_virial = 0.0
    if tail:
        if not pbc.all():
            raise ValueError("tail corrections need a box periodic on all axes")
        counts = np.bincount(types, minlength=n_types).astype(np.float64)
        nn = counts[:, None] * counts[None, :]
        volume = float(np.prod(box))
        s3 = sig_ab**3
        x3 = (sig_ab / cutoff) ** 3
        x9 = x3**3
        # int_rc^inf r^2 u dr = 4 eps s^3 (x^9 / 9 - x^3 / 3)
        # -int_rc^inf r^3 u' dr = 4 eps s^3 (4 x^9 / 3 - 2 x^3)
        prefactor = 2.0 * np.pi / volume * nn * 4.0 * eps_ab * s3
        tail_energy = float(np.sum(prefactor * (x9 / 9.0 - x3 / 3.0)))
        tail_virial = float(np.sum(prefactor * (4.0 * x9 / 3.0 - 2.0 * x3)))
        energy += tail_energy
        virial = virial + np.eye(3) * (tail_virial / 3.0)
    return LJReference(energy, forces, virial, tail_energy, tail_virial)
