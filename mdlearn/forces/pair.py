"""Lennard-Jones pair potential with per-type-pair parameters, shift and tail corrections; WCA repulsion."""
import numpy as np

from .._kernels import pair as _pair
from ..threads import get_num_threads

__all__ = ["LennardJones", "WCA"]

WCA_RC = 2.0 ** (1.0 / 6.0)  # the minimum of the Lennard-Jones potential, in units of sigma

MIXING = ("lorentz-berthelot", "geometric")


class LennardJones:
    """U(r) = 4 ε [(σ/r)^12 − (σ/r)^6] for r < cutoff.

    Parameters
    ----------
    epsilon, sigma : float or dict
        Energy and length units. A float applies to every type; a dict maps type names to values, and
        unlike pairs are combined by ``mixing``.
    cutoff : float
        Cutoff radius in length units (the same for every pair).
    shift : bool
        Subtract U(cutoff) so the energy is continuous (forces unchanged).
    tail : bool
        Add the analytic long-range corrections to energy and virial (pressure), assuming g(r) = 1 beyond
        the cutoff; needs a box periodic on all axes. Not combined with ``shift``.
    mixing : ``"lorentz-berthelot"`` (σ arithmetic, ε geometric) or ``"geometric"`` (both geometric)
    pairs : dict, optional
        ``{(type_a, type_b): (epsilon, sigma)}`` overrides for single pairs.
    name : str
        Name in the force field.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> lj = mdl.LennardJones(epsilon={"Ar": 1.0, "Kr": 1.4}, sigma={"Ar": 1.0, "Kr": 1.1}, cutoff=2.5)
    """

    pairwise = True  # a sum over listed pairs: can be restricted to a region (forces/region.py)

    def __init__(self, epsilon=1.0, sigma=1.0, cutoff=2.5, shift=False, tail=False,
                 mixing="lorentz-berthelot", pairs=None, name="lj"):
        self.epsilon = epsilon
        self.sigma = sigma
        self.cutoff = float(cutoff)
        self.shift = bool(shift)
        self.tail = bool(tail)
        self.mixing = mixing
        self.pairs = dict(pairs or {})
        self.name = name

    # ------------------------------------------------------------------ parameters
    def pair_parameters(self, type_names):
        """(ε, σ) matrices (T, T) for the given type names."""
        if self.mixing not in MIXING:
            raise ValueError(f"unknown mixing rule {self.mixing!r}; expected one of {MIXING}")
        eps = self._per_type(self.epsilon, "epsilon", type_names)
        sig = self._per_type(self.sigma, "sigma", type_names)
        e = np.sqrt(np.outer(eps, eps))
        s = 0.5 * (sig[:, None] + sig[None, :]) if self.mixing == "lorentz-berthelot" else np.sqrt(np.outer(sig, sig))
        index = {name: k for k, name in enumerate(type_names)}
        for (a, b), (pe, ps) in self.pairs.items():
            for t in (a, b):
                if t not in index:
                    raise ValueError(f"pair ({a!r}, {b!r}): unknown type {t!r}; types are {type_names}")
            if not (pe >= 0 and ps > 0):
                raise ValueError(f"pair ({a!r}, {b!r}) needs epsilon >= 0 and sigma > 0, got ({pe}, {ps})")
            e[index[a], index[b]] = e[index[b], index[a]] = pe
            s[index[a], index[b]] = s[index[b], index[a]] = ps
        return e, s

    @staticmethod
    def _per_type(value, what, type_names):
        if isinstance(value, dict):
            missing = [t for t in type_names if t not in value]
            if missing:
                raise ValueError(f"{what} has no value for types {missing}; known: {sorted(value)}")
            arr = np.array([float(value[t]) for t in type_names])
        else:
            arr = np.full(len(type_names), float(value))
        bad = arr < 0 if what == "epsilon" else arr <= 0
        if bad.any() or not np.all(np.isfinite(arr)):
            raise ValueError(f"{what} must be {'>= 0' if what == 'epsilon' else '> 0'} and finite, got {arr.tolist()}")
        return arr

    # ------------------------------------------------------------------ force-term protocol
    def attach(self, state):
        if not (np.isfinite(self.cutoff) and self.cutoff > 0):
            raise ValueError(f"cutoff must be positive, got {self.cutoff}")
        if self.tail and self.shift:
            raise ValueError("tail corrections assume the unshifted potential; use shift=False with tail=True")
        if self.tail and not state.pbc.all():
            raise ValueError(f"tail corrections need a box periodic on all axes, got pbc={state.pbc.tolist()}")
        eps, sig = self.pair_parameters(state.type_names)
        self._eps, self._sig = eps, sig
        rc = self._pair_cutoffs(sig)
        sr6 = (sig / rc) ** 6
        offset = 4.0 * eps * (sr6 * sr6 - sr6) if self.shift else np.zeros_like(eps)
        table = np.stack([48 * eps * sig**12, 24 * eps * sig**6, 4 * eps * sig**12, 4 * eps * sig**6,
                          rc * rc, offset], axis=-1)
        self._table = np.ascontiguousarray(table.reshape(-1, 6))
        self._scratch = self._vscratch = None
        self._tail_energy, self._tail_virial = self._tail_terms(state) if self.tail else (0.0, 0.0)
        self._check_overlaps(state)

    def _pair_cutoffs(self, sig):
        """Cutoff per type pair (T, T), length units: the same ``cutoff`` for every pair here."""
        return np.full_like(sig, self.cutoff)

    def _tail_terms(self, state):
        """Energy and virial trace, ∫ beyond rc with g(r) = 1 (per type pair, N_a N_b / V)."""
        counts = np.bincount(state.types, minlength=len(state.type_names)).astype(float)
        rc = self.cutoff
        s3 = self._sig**3
        x3 = (self._sig / rc) ** 3
        x9 = x3**3
        nn = np.outer(counts, counts)
        v = state.volume
        # U = 2π/V Σ_ab N_a N_b ∫ r² u dr ;  W = -2π/V Σ_ab N_a N_b ∫ r³ u' dr
        energy = 2 * np.pi / v * np.sum(nn * 4 * self._eps * s3 * (x9 / 9 - x3 / 3))
        virial = 2 * np.pi / v * np.sum(nn * 4 * self._eps * s3 * (4 * x9 / 3 - 2 * x3))
        return float(energy), float(virial)

    def _check_overlaps(self, state):
        """Refuse atoms closer than 0.5 σ_ij: the energy there is beyond anything an integrator can handle."""
        from ..neighbors import NeighborList

        smin = float(self._sig.min())
        nl = NeighborList(cutoff=0.5 * float(self._sig.max()), skin=0.0)
        if state.pbc.any() and np.any(state.box[state.pbc] < 2 * nl.rlist):
            return  # the main list's box check reports this more clearly
        nl.build(state)
        if nl.n_pairs == 0:
            return
        i, j, shift = nl.pairs(state)
        r = np.linalg.norm(state.positions[j] + shift - state.positions[i], axis=1)
        lim = 0.5 * self._sig[state.types[i], state.types[j]]
        bad = r < lim
        if bad.any():
            k = int(np.argmin(r / lim))
            raise ValueError(f"atoms {i[k]} and {j[k]} overlap: distance {r[k]:.4g} < 0.5 sigma_ij "
                             f"= {lim[k]:.4g} (smallest sigma {smin:g})")

    def compute(self, state, nlist, request, out):
        threads = get_num_threads()
        if self._vscratch is None or self._vscratch.shape[0] != threads or (
                threads > 1 and self._scratch.shape[1] != state.n_atoms):
            self._scratch = np.zeros((max(threads - 1, 1), state.n_atoms if threads > 1 else 1, 3))
            self._vscratch = np.zeros((threads, 8))
        e = _pair.lennard_jones(state.positions, state.box, state.types, nlist.rows, nlist.start,
                                nlist.neighbors, nlist.codes, self._table, out.forces, out.virial6,
                                request.energy, request.virial, self._scratch, self._vscratch)
        if self.tail:
            e += self._tail_energy
            if request.virial:
                out.virial6[:3] += self._tail_virial / 3.0
        return e if request.energy else 0.0

    def __repr__(self):
        return (f"LennardJones(epsilon={self.epsilon!r}, sigma={self.sigma!r}, cutoff={self.cutoff}, "
                f"shift={self.shift}, tail={self.tail}, mixing={self.mixing!r}, name={self.name!r})")


class WCA(LennardJones):
    """Weeks–Chandler–Andersen repulsion: Lennard-Jones cut at its minimum r_c,ij = 2^(1/6) σ_ij and shifted
    up by ε_ij, U(r) = 4 ε [(σ/r)^12 − (σ/r)^6] + ε for r < 2^(1/6) σ, else 0. Soft spheres of diameter σ.

    Same parameters as :class:`LennardJones` (without ``cutoff``, ``shift`` and ``tail``): with per-type
    diameters ``sigma={"Na": 3.0, "Cl": 4.0}`` unlike pairs take σ_ij = (σ_i + σ_j) / 2 (Lorentz–Berthelot),
    and ``pairs`` overrides single pairs. The term's ``cutoff`` (for the neighbor list) is the largest pair
    cutoff, 2^(1/6) max σ_ij.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> wca = mdl.WCA(epsilon=0.0257, sigma={"cation": 5.0, "anion": 7.0})   # eV, Å
    >>> round(wca.cutoff, 4)
    7.8572
    """

    def __init__(self, epsilon=1.0, sigma=1.0, mixing="lorentz-berthelot", pairs=None, name="wca"):
        super().__init__(epsilon=epsilon, sigma=sigma, cutoff=1.0, shift=True, tail=False, mixing=mixing,
                         pairs=pairs, name=name)

    @property
    def cutoff(self):
        """2^(1/6) times the largest σ_ij, length units (known before ``attach``)."""
        sig = list(self.sigma.values()) if isinstance(self.sigma, dict) else [self.sigma]
        sig += [ps for _, ps in self.pairs.values()]
        return WCA_RC * max(float(s) for s in sig)

    @cutoff.setter
    def cutoff(self, value):  # LennardJones.__init__ assigns one; the WCA cutoff follows from sigma
        pass

    def _pair_cutoffs(self, sig):
        return WCA_RC * sig

    def __repr__(self):
        return f"WCA(epsilon={self.epsilon!r}, sigma={self.sigma!r}, mixing={self.mixing!r}, name={self.name!r})"

