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

__all__ = ["CoulombReference", "LJReference", "all_pairs_within", "coulomb_lattice_sum", "direct_coulomb",
           "ewald_coulomb", "lennard_jones", "lj_pair_parameters", "minimum_image", "pair_vectors"]


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


# ------------------------------------------------------------------------------------------------------
# Coulomb
# ------------------------------------------------------------------------------------------------------
class CoulombReference(NamedTuple):
    """Energy (float), forces (N, 3) and virial (3, 3) of a Coulomb oracle (``virial`` is None where the
    oracle does not define one)."""

    energy: float
    forces: np.ndarray
    virial: np.ndarray


def direct_coulomb(positions, charges, prefactor=1.0):
    """``E = C sum_{i<j} q_i q_j / r_ij`` over all pairs of an open (non-periodic) system, with forces and
    the pair virial ``W = sum_{i<j} r_ij (x) f_ij``."""
    x = np.asarray(positions, dtype=np.float64)
    q = np.asarray(charges, dtype=np.float64)
    i, j = np.triu_indices(len(x), k=1)
    rij = x[i] - x[j]
    r = np.sqrt(np.einsum("ij,ij->i", rij, rij))
    qq = prefactor * q[i] * q[j]
    fij = (qq / r**3)[:, None] * rij
    forces = np.zeros_like(x)
    np.add.at(forces, i, fij)
    np.add.at(forces, j, -fij)
    return CoulombReference(float(np.sum(qq / r)), forces, rij.T @ fij)


def ewald_coulomb(positions, charges, box, alpha, cutoff, kcut, prefactor=1.0, slab_factor=None):
    """Ewald energy, forces and virial written out term by term (tin-foil boundary conditions).

    Real space over all minimum-image pairs with ``r < cutoff`` (needs ``cutoff <= L / 2``); reciprocal
    space over the *full* set of k = 2 pi n / L, 0 < |k| <= ``kcut``, with exp(i k.r) evaluated directly;
    self term; a uniform neutralising background when the charges do not sum to zero. With
    ``slab_factor`` the system is periodic in x and y only: the k vectors use a z period of
    ``slab_factor * box[2]``, the real space uses no image along z, and Yeh and Berkowitz's term
    ``C 2 pi M_z^2 / V`` is added. Virial of the reciprocal part: ``-dE/d eps_ab`` of the (padded) cell.
    """
    x = np.asarray(positions, dtype=np.float64)
    q = np.asarray(charges, dtype=np.float64)
    box = np.asarray(box, dtype=np.float64).copy()
    pbc = np.array([True, True, slab_factor is None])
    # real space
    i, j, rij = pair_vectors(x, box, pbc)
    r = np.sqrt(np.einsum("ij,ij->i", rij, rij))
    inside = r < cutoff
    i, j, rij, r = i[inside], j[inside], rij[inside], r[inside]
    qq = q[i] * q[j]
    from scipy.special import erfc

    e_pairs = qq * erfc(alpha * r) / r
    fij = ((e_pairs + qq * 2 * alpha / np.sqrt(np.pi) * np.exp(-(alpha * r) ** 2)) / r**2)[:, None] * rij
    forces = np.zeros_like(x)
    np.add.at(forces, i, fij)
    np.add.at(forces, j, -fij)
    energy = float(e_pairs.sum())
    virial = rij.T @ fij
    # reciprocal space, full k sphere
    period = box.copy()
    if slab_factor is not None:
        period[2] = slab_factor * box[2]
    volume = float(np.prod(period))
    nmax = np.floor(kcut * period / (2 * np.pi)).astype(int)
    grids = np.meshgrid(*(np.arange(-m, m + 1) for m in nmax), indexing="ij")
    n = np.stack([g.ravel() for g in grids], axis=1)
    k = n * (2 * np.pi / period)
    k2 = np.einsum("ij,ij->i", k, k)
    keep = (k2 > 0) & (k2 <= kcut * kcut)
    k, k2 = k[keep], k2[keep]
    phase = np.exp(1j * (k @ x.T))                    # (nk, N)
    S = phase @ q                                     # structure factors
    g = 2 * np.pi / volume * np.exp(-k2 / (4 * alpha**2)) / k2
    s2 = np.abs(S) ** 2
    e_rec = float(np.sum(g * s2))
    # F_i = -dE/dr_i = sum_k g 2 q_i k Im(exp(i k.r_i) conj(S_k))
    im = np.imag(phase * np.conj(S)[:, None])          # (nk, N)
    forces += 2 * q[:, None] * ((g[:, None] * im).T @ k)
    energy += e_rec
    w = g * s2
    virial = virial + np.eye(3) * e_rec - (w * 2 * (1 / k2 + 1 / (4 * alpha**2)))[None, :] * k.T @ k
    # self and background
    energy -= alpha / np.sqrt(np.pi) * float(q @ q)
    net = float(q.sum())
    if slab_factor is None and net != 0.0:
        e_bg = -np.pi * net * net / (2 * volume * alpha**2)
        energy += e_bg
        virial = virial + np.eye(3) * e_bg
    if slab_factor is not None:
        mz = float(q @ x[:, 2])
        energy += 2 * np.pi / volume * mz * mz
        forces[:, 2] -= 4 * np.pi / volume * mz * q
        virial = virial + np.diag([1.0, 1.0, -1.0]) * (2 * np.pi / volume * mz * mz)
    return CoulombReference(prefactor * energy, prefactor * forces, prefactor * virial)


def coulomb_lattice_sum(positions, charges, box, cells, prefactor=1.0, chunk=4096):
    """Brute-force Coulomb sum of a periodic box over a finite cube of image cells.

    Sums ``(C / 2) sum_n sum_{i, j}' q_i q_j / |r_i - r_j + n L|`` and the matching forces over all image
    cells ``n`` with ``|n_a| <= cells[a]`` (the prime drops i = j in the central cell): the energy of the
    central cell of a finite crystal in vacuum. The block of cells must be a cube,
    ``(2 cells[a] + 1) L_a`` equal on all axes. For a neutral box this tends, as the cube grows, to the
    tin-foil (Ewald) result plus the surface term ``C 2 pi |M|^2 / (3 V)``, ``M = sum_i q_i r_i`` (de Leeuw,
    Perram and Smith, Proc. R. Soc. A 373, 27 (1980); a cube depolarises like a sphere). The surface
    term and its force ``-C 4 pi q_i M / (3 V)`` are removed here, so the result approaches Ewald's;
    what remains falls off with even powers of the inverse cube side.
    """
    x = np.asarray(positions, dtype=np.float64)
    q = np.asarray(charges, dtype=np.float64)
    box = np.asarray(box, dtype=np.float64)
    cells = np.broadcast_to(np.asarray(cells, dtype=int), (3,))
    side = (2 * cells + 1) * box
    if not np.allclose(side, side[0], rtol=1e-12):
        raise ValueError(f"the block of image cells must be a cube, got sides {side.tolist()}")
    grids = np.meshgrid(*(np.arange(-k, k + 1) for k in cells), indexing="ij")
    shifts = np.stack([g.ravel() for g in grids], axis=1) * box
    d0 = x[:, None, :] - x[None, :, :]                # r_i - r_j  (N, N, 3)
    qq = q[:, None] * q[None, :]
    energy = 0.0
    forces = np.zeros_like(x)
    for start in range(0, len(shifts), chunk):
        s = shifts[start:start + chunk]
        d = d0[None, :, :, :] + s[:, None, None, :]   # (M, N, N, 3)
        r2 = np.einsum("mijk,mijk->mij", d, d)
        r2[r2 == 0.0] = np.inf                         # i = j in the central cell
        rinv = 1.0 / np.sqrt(r2)
        energy += 0.5 * float(np.einsum("ij,mij->", qq, rinv))
        forces += np.einsum("ij,mij,mijk->ik", qq, rinv**3, d)
    volume = float(np.prod(box))
    dipole = q @ x
    energy -= 2 * np.pi / (3 * volume) * float(dipole @ dipole)
    forces += 4 * np.pi / (3 * volume) * q[:, None] * dipole[None, :]
    return CoulombReference(prefactor * energy, prefactor * forces, None)
