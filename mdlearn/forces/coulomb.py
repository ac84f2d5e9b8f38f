"""Electrostatics: Ewald summation (3D-periodic and slab) and the direct all-pairs sum (open boundaries).

Every term computes ``E = C sum_{i<j} q_i q_j / r_ij`` (over periodic images where the box is periodic)
with the prefactor ``C`` set by :func:`coulomb_prefactor`:

- ``C = units.coulomb / epsilon_r``: 1 / (4 pi eps0 eps_r) in the state's unit system. In real units
  (eV, Å, e) ``units.coulomb`` = 14.3996 eV Å / e^2; ``epsilon_r`` is the relative permittivity of an
  implicit solvent (78.5 for water at 298 K). In LJ units ``units.coulomb`` = 1, i.e. charges are in
  units of sqrt(4 pi eps0 sigma epsilon).
- ``C = bjerrum_length * k_B * temperature`` (primitive model): ``bjerrum_length`` l_B = e^2 / (4 pi eps0
  eps_r k_B T) in length units already contains the solvent's permittivity (leave ``epsilon_r`` = 1),
  and charges are then valences (integers z_i). ``temperature`` defaults to 1 in LJ units (where the
  energy unit is k_B T); in real units it must be given in K.

Ewald splitting (Gaussian width 1 / alpha, "tin-foil" boundary conditions):

    E_real = C sum_{pairs, r < r_c} q_i q_j erfc(alpha r) / r
    E_rec  = C (2 pi / V) sum_{k != 0} exp(-k^2 / (4 alpha^2)) / k^2 |S(k)|^2,  S(k) = sum_j q_j exp(i k.r_j)
    E_self = -C alpha / sqrt(pi) sum_i q_i^2
    E_bg   = -C pi Q^2 / (2 V alpha^2)            (only for a charged box, Q = sum_i q_i)

The reciprocal sum runs over half of k-space (k and -k give the same term) inside the sphere |k| <= k_c.
"""
import math
from typing import NamedTuple

import numpy as np

from .._kernels import coulomb as _ck
from ..threads import get_num_threads

__all__ = ["DirectCoulomb", "Ewald", "EwaldParameters", "coulomb_prefactor", "ewald_parameters",
           "ewald_error_estimates"]

# Cost of one k vector per charged atom (both reciprocal passes) relative to one real-space pair,
# measured with the kernels in this package (benchmarks/ewald.py --calibrate); used to balance r_c.
KSPACE_COST_RATIO = 0.25
# The default real-space cutoff is at most this fraction of the shortest periodic box length, leaving
# 0.1 L for the neighbor list's skin (the list needs L >= 2 (cutoff + skin)).
MAX_CUTOFF_FRACTION = 0.4


def coulomb_prefactor(units, epsilon_r=1.0, bjerrum_length=None, temperature=None):
    """The prefactor C of ``C q_i q_j / r`` in energy * length / charge^2 of ``units``.

    Parameters
    ----------
    units : UnitSystem
    epsilon_r : float
        Relative permittivity (dimensionless) of the implicit solvent; C = units.coulomb / epsilon_r.
    bjerrum_length : float, optional
        l_B in length units (Å or sigma). When given, C = l_B k_B T and charges are valences;
        ``epsilon_r`` must stay 1 (l_B already contains it).
    temperature : float, optional
        T for ``bjerrum_length``, in temperature units (K in real units, epsilon/k_B in LJ units,
        default 1 there).
    """
    if bjerrum_length is None:
        if temperature is not None:
            raise ValueError("temperature is only used together with bjerrum_length")
        if not (np.isfinite(epsilon_r) and epsilon_r > 0):
            raise ValueError(f"epsilon_r must be positive, got {epsilon_r}")
        return units.coulomb / float(epsilon_r)
    if epsilon_r != 1.0:
        raise ValueError(f"bjerrum_length already contains the permittivity; leave epsilon_r = 1 "
                         f"(got epsilon_r = {epsilon_r})")
    if not (np.isfinite(bjerrum_length) and bjerrum_length > 0):
        raise ValueError(f"bjerrum_length must be positive, got {bjerrum_length}")
    if temperature is None:
        if units.name != "lj":
            raise ValueError(f"bjerrum_length in {units.name!r} units needs temperature= "
                             f"(in {units.temperature})")
        temperature = 1.0
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be positive, got {temperature}")
    return float(bjerrum_length) * units.boltzmann * float(temperature)


# ------------------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------------------
class EwaldParameters(NamedTuple):
    """Splitting parameters chosen by :func:`ewald_parameters` (length units of the state).

    ``alpha`` (1 / length), real-space ``cutoff`` (length), reciprocal cutoff ``kcut`` (1 / length) with
    ``nmax`` the largest |n_a| of k = 2 pi n_a / L_a per axis, ``n_kvectors`` in the half space, and the
    estimated relative RMS force errors of both parts (see :func:`ewald_error_estimates`).
    """

    alpha: float
    cutoff: float
    kcut: float
    nmax: tuple
    n_kvectors: int
    real_error: float
    kspace_error: float


def ewald_error_estimates(alpha, cutoff, kcut, n_charges, volume, kspace_volume=None):
    """Estimated RMS force errors (real, reciprocal) relative to F0 = C q_rms^2 / a^2.

    ``a = (V / N)^(1/3)`` is the mean distance between the N charges, so F0 is the force between two
    typical charges at that distance. The estimates are Kolafa and Perram's (Mol. Sim. 9, 351 (1992)):
    per-atom RMS errors ``2 Q2 sqrt(1 / (N r_c V)) exp(-alpha^2 r_c^2)`` (real space) and
    ``2 Q2 alpha / L sqrt(1 / (pi n_c N)) exp(-(pi n_c / (alpha L))^2)`` with n_c = k_c L / (2 pi)
    (reciprocal space, L = V_k^(1/3)), Q2 = sum q^2, divided by F0 = Q2 / (N a^2). ``kspace_volume`` is
    the volume of the cell that defines the k vectors (the padded cell for a slab).
    """
    vk = volume if kspace_volume is None else kspace_volume
    a2 = (volume / n_charges) ** (2.0 / 3.0)
    real = 2.0 * a2 * np.sqrt(n_charges / (cutoff * volume)) * np.exp(-(alpha * cutoff) ** 2)
    kspace = 2.0 * alpha * a2 * np.sqrt(2.0 * n_charges / (kcut * vk)) * np.exp(-kcut * kcut / (4 * alpha * alpha))
    return float(real), float(kspace)


def _alpha_for(accuracy, cutoff, n, volume):
    a2 = (volume / n) ** (2.0 / 3.0)
    arg = 2.0 * a2 * np.sqrt(n / (cutoff * volume)) / accuracy
    return np.sqrt(np.log(max(arg, np.e))) / cutoff


def _kcut_for(accuracy, alpha, n, volume, kspace_volume):
    def log_err(k):
        r, ks = ewald_error_estimates(alpha, 1.0, k, n, volume, kspace_volume)
        return np.log(ks) if ks > 0 else -np.inf

    lo, hi = 1e-3 * alpha, 2.0 * alpha
    while log_err(hi) > np.log(accuracy):
        hi *= 2.0
    target = np.log(accuracy)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if log_err(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi


def _nmax(kcut, period):
    return tuple(int(np.floor(kcut * p / (2 * np.pi))) for p in period)


def ewald_parameters(box, n_charges, accuracy=1e-6, cutoff=None, alpha=None, kspace_box=None,
                     max_cutoff=None):
    """Choose the Ewald splitting for ``n_charges`` charges in an orthorhombic ``box`` (3 lengths).

    The requested relative RMS force ``accuracy`` (see :func:`ewald_error_estimates`) is split equally:
    each part gets ``accuracy / sqrt(2)``. ``alpha`` follows from the real-space estimate at the
    ``cutoff`` and ``kcut`` from the reciprocal one. Without a ``cutoff``, it is chosen between the mean
    interparticle distance and ``max_cutoff`` (default 0.4 times the shortest box length) to minimise
    the estimated cost ``pairs per atom + KSPACE_COST_RATIO * k vectors``. An explicit ``alpha``
    (1 / length) needs an explicit ``cutoff``; then only ``kcut`` is chosen.

    ``kspace_box`` (3 lengths, default ``box``) is the cell whose periodicity defines the k vectors:
    for a slab, the box with its z length padded.
    """
    box = np.asarray(box, dtype=float)
    kbox = box if kspace_box is None else np.asarray(kspace_box, dtype=float)
    if not accuracy > 0 or not accuracy < 1:
        raise ValueError(f"accuracy must be in (0, 1), got {accuracy}")
    n = max(int(n_charges), 1)
    volume, kvolume = float(np.prod(box)), float(np.prod(kbox))
    target = accuracy / np.sqrt(2.0)
    if alpha is not None:
        if cutoff is None:
            raise ValueError("an explicit alpha needs an explicit cutoff")
        alpha = float(alpha)
        if not alpha > 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
    if cutoff is not None:
        cutoff = float(cutoff)
        if not (np.isfinite(cutoff) and cutoff > 0):
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        candidates = [cutoff]
    else:
        cap = MAX_CUTOFF_FRACTION * float(box.min()) if max_cutoff is None else float(max_cutoff)
        spacing = (volume / n) ** (1.0 / 3.0)
        candidates = np.geomspace(min(spacing, cap), cap, 48)
    density = n / volume
    best = None
    for rc in candidates:
        a = alpha if alpha is not None else _alpha_for(target, rc, n, volume)
        kc = _kcut_for(target, a, n, volume, kvolume)
        cost = 2 * np.pi / 3 * density * rc**3 + KSPACE_COST_RATIO * kc**3 * kvolume / (12 * np.pi**2)
        if best is None or cost < best[0]:
            best = (cost, rc, a, kc)
    _, rc, a, kc = best
    nmax = _nmax(kc, kbox)
    real, ks = ewald_error_estimates(a, rc, kc, n, volume, kvolume)
    n_k = len(_kvectors(kc, kbox)[1])
    return EwaldParameters(float(a), float(rc), float(kc), nmax, n_k, real, ks)


def _kvectors(kcut, period):
    """Columns (nx, ny, nz_lo, nz_hi) and the integer vectors n of the half space with |k| <= kcut."""
    nmx, nmy, nmz = _nmax(kcut, period)
    tp = 2 * np.pi / np.asarray(period, dtype=float)
    nx, ny = np.meshgrid(np.arange(0, nmx + 1), np.arange(-nmy, nmy + 1), indexing="ij")
    nx, ny = nx.ravel(), ny.ravel()
    keep = (nx > 0) | (ny >= 0)
    nx, ny = nx[keep], ny[keep]
    rest = kcut * kcut - (nx * tp[0]) ** 2 - (ny * tp[1]) ** 2
    keep = rest >= 0
    nx, ny, rest = nx[keep], ny[keep], rest[keep]
    hi = np.minimum(np.floor(np.sqrt(rest) / tp[2] * (1 + 1e-15)), nmz).astype(int)
    lo = np.where((nx == 0) & (ny == 0), 1, -hi)
    keep = hi >= lo
    columns = np.ascontiguousarray(np.stack([nx[keep], ny[keep], lo[keep], hi[keep]], axis=1), dtype=np.intc)
    if len(columns) == 0:
        return columns.reshape(0, 4), np.zeros((0, 3), dtype=int)
    counts = columns[:, 3] - columns[:, 2] + 1
    first = np.repeat(np.cumsum(counts) - counts, counts)
    nz = np.repeat(columns[:, 2], counts) + np.arange(counts.sum()) - first
    n = np.stack([np.repeat(columns[:, 0], counts), np.repeat(columns[:, 1], counts), nz], axis=1)
    return columns, n


ERFC_TABLE_SPACING = 1.0 / 256


def erfc_table(xmax, spacing=ERFC_TABLE_SPACING):
    """Piecewise-cubic coefficients of erfc(x) and (2 / sqrt(pi)) exp(-x^2) on [0, xmax], for the real-space
    kernel: row m holds (a, b, c, d) of each function on [m h, (m + 1) h) as a + t (b + t (c + t d)), t in
    [0, 1), the cubic Hermite interpolant of the values and derivatives at both ends. The interpolation
    error is below h^4 / 384 times the largest fourth derivative, ~1e-11 (absolute; both functions are at
    most 1.13)."""
    h = float(spacing)
    x = np.arange(int(np.ceil(xmax / h)) + 2) * h
    erfc = np.array([math.erfc(v) for v in x])
    gauss = 2.0 / math.sqrt(math.pi) * np.exp(-x * x)
    table = np.empty((len(x) - 1, 8))
    for col, (f, df) in enumerate([(erfc, -gauss), (gauss, -2.0 * x * gauss)]):
        f0, f1, d0, d1 = f[:-1], f[1:], h * df[:-1], h * df[1:]
        table[:, 4 * col] = f0
        table[:, 4 * col + 1] = d0
        table[:, 4 * col + 2] = 3.0 * (f1 - f0) - 2.0 * d0 - d1
        table[:, 4 * col + 3] = 2.0 * (f0 - f1) + d0 + d1
    return table


def _sheet_densities(surface_charge, slab):
    """(lower, upper) wall charge densities from one value or a pair; None stays None."""
    if surface_charge is None:
        return None
    if not slab:
        raise ValueError("surface_charge needs slab=True (charged walls bound a slab)")
    pair = np.asarray(surface_charge, dtype=float)
    if pair.ndim == 0:
        pair = np.full(2, pair)
    if pair.shape != (2,) or not np.all(np.isfinite(pair)):
        raise ValueError(f"surface_charge must be a finite number or (lower, upper), got {surface_charge!r}")
    return float(pair[0]), float(pair[1])


def _threads_buffers(obj, n_atoms, threads):
    if obj._vscratch is None or obj._vscratch.shape[0] != threads or (
            threads > 1 and obj._scratch.shape[1] != n_atoms):
        obj._scratch = np.zeros((max(threads - 1, 1), n_atoms if threads > 1 else 1, 3))
        obj._vscratch = np.zeros((threads, 8))


# ------------------------------------------------------------------------------------------------------
# Ewald
# ------------------------------------------------------------------------------------------------------
class Ewald:
    """Ewald summation of the Coulomb energy for a 3D-periodic box, or a slab periodic in x and y.

    Units: real units (energy eV, length Å, charge e; ``units.coulomb`` = 14.3996 eV Å / e^2) or LJ
    reduced units (charges in sqrt(4 pi eps0 sigma epsilon), or valences with ``bjerrum_length``); see
    :func:`coulomb_prefactor` and the module docstring for the prefactor C and the formulas.

    Parameters
    ----------
    accuracy : float
        Target RMS force error relative to F0 = C q_rms^2 / a^2, the force between two typical charges at
        the mean distance a = (V / N)^(1/3) between charges (dimensionless). It is an estimate (see
        :func:`ewald_error_estimates`): on disordered salts the measured error is within ~10% of it (crystals
        do better). The RMS force there is several F0, so the error relative to the forces themselves is
        several times smaller than ``accuracy``.
    cutoff : float, optional
        Real-space cutoff in length units; the neighbor list must reach it. Default: chosen in
        :meth:`attach` to balance real- and reciprocal-space cost, at most 0.4 times the shortest
        periodic box length. Until then ``self.cutoff`` is None.
    epsilon_r : float
        Relative permittivity of the implicit solvent (dimensionless).
    bjerrum_length, temperature : float, optional
        Primitive model: C = l_B k_B T (length units; temperature units); see :func:`coulomb_prefactor`.
    allow_net_charge : bool
        A box with net charge Q raises ``ValueError`` unless this is set; then a uniform neutralising
        background adds E_bg = -C pi Q^2 / (2 V alpha^2) (3D; a slab takes ``surface_charge`` instead).
    slab : bool
        For ``pbc = (True, True, False)``: periodic in x and y, confined in z to the box's z length h
        (the wall separation, > 0). The reciprocal sum uses a cell padded to L = ``slab_factor * h`` along z,
        and Yeh and Berkowitz's correction (J. Chem. Phys. 111, 3155 (1999)) removes the interaction
        between the periodic slab images: E_YB = C 2 pi M_z^2 / V_pad, F_i,z = -C 4 pi q_i M_z / V_pad,
        with M_z = sum_i q_i z_i. Charges must stay within L / 2 (and L - cutoff) of each other along z.
    slab_factor : float
        Padded z length over h (3 in Yeh and Berkowitz's paper). The neglected interactions between
        images decay like exp(-2 pi g / L_xy) with the vacuum gap g = (slab_factor - 1) h.
    surface_charge : float or (float, float), optional
        Slab only: uniform charge sheets on the walls z = 0 and z = h, in charge / length^2 (one value for
        both walls, or (lower, upper)). They must neutralise the particles' net charge Q:
        Q + (s_lo + s_hi) A = 0 with A the box area. The particles then form a charged slab, and the
        Yeh–Berkowitz term becomes Ballenegger, Arnold and Cerdà's (J. Chem. Phys. 131, 094107 (2009)),
        which also removes the neutralising background that the 3D sum implies:
        E_c = C (2 pi / V_pad) (M_z^2 - Q sum_i q_i z_i^2 - Q^2 L^2 / 12), F_i,z = -C (4 pi q_i / V_pad)
        (M_z - Q z_i). The sheets add E_s = -2 pi C [sum_i q_i (s_lo |z_i| + s_hi |z_i - h|) + A s_lo s_hi h],
        a uniform field 2 pi C (s_lo - s_hi) between the walls (none when both walls carry the same charge).
    alpha : float, optional
        Splitting parameter in 1 / length (needs ``cutoff``); default from ``accuracy``.
    name : str

    Attributes (after :meth:`attach`)
    ---------------------------------
    parameters : EwaldParameters
        alpha, cutoff, kcut, number of k vectors and the estimated errors.
    prefactor : float
        C in energy * length / charge^2.

    Virial: pairs contribute ``r_ij f_ij``; the reciprocal part is the analytic strain derivative
    ``W_ab = -dE/d eps_ab = sum_k coef_k |S_k|^2 [delta_ab - 2 k_a k_b (1/k^2 + 1/(4 alpha^2))]`` (for a
    slab, of the padded cell), so that the potential pressure is tr(W) / (3V). The Yeh–Berkowitz term adds
    (E_YB, E_YB, -E_YB) to the diagonal (strain of the padded cell); its xz and yz parts, which involve the
    in-plane dipole of wrapped positions, are left out.

    Examples
    --------
    >>> import numpy as np, mdlearn as mdl
    >>> st = mdl.build.lattice("sc", cells=(4, 4, 4), lattice_constant=1.0)
    >>> n = np.indices((4, 4, 4)).reshape(3, -1).T.sum(axis=1)
    >>> st.charges = np.where(n % 2 == 0, 1.0, -1.0)          # rock salt, nearest neighbours at 1
    >>> res = mdl.ForceField([mdl.Ewald(accuracy=1e-10)]).compute(st)
    >>> round(-2 * res.energy / st.n_atoms, 8)                  # Madelung constant of NaCl
    1.74756459
    """

    def __init__(self, accuracy=1e-6, cutoff=None, epsilon_r=1.0, bjerrum_length=None, temperature=None,
                 allow_net_charge=False, slab=False, slab_factor=3.0, surface_charge=None, alpha=None,
                 name="coulomb"):
        self.accuracy = accuracy
        self._cutoff_request = cutoff
        self.epsilon_r = epsilon_r
        self.bjerrum_length = bjerrum_length
        self.temperature = temperature
        self.allow_net_charge = bool(allow_net_charge)
        self.slab = bool(slab)
        self.slab_factor = slab_factor
        self.surface_charge = _sheet_densities(surface_charge, self.slab)
        self.alpha = alpha
        self.name = name
        self.parameters = None
        self.prefactor = None
        self._kbox = None

    @property
    def cutoff(self):
        """Real-space cutoff (length units): the requested one, else the chosen one after :meth:`attach`
        (None before: attach the force field before building a neighbor list for it)."""
        if self.parameters is not None:
            return self.parameters.cutoff
        return None if self._cutoff_request is None else float(self._cutoff_request)

    # ------------------------------------------------------------------ checks
    def _check_geometry(self, state):
        pbc = state.pbc.tolist()
        if self.slab:
            if pbc != [True, True, False]:
                raise ValueError(f"Ewald(slab=True) needs pbc=(True, True, False), got pbc={pbc}")
            if not state.box[2] > 0:
                raise ValueError("Ewald(slab=True) needs the slab height as the box's z length (> 0), "
                                 f"got {state.box[2]}")
            if not (np.isfinite(self.slab_factor) and self.slab_factor > 1):
                raise ValueError(f"slab_factor must be > 1, got {self.slab_factor}")
        elif pbc != [True, True, True]:
            hint = ("use Ewald(slab=True)" if pbc == [True, True, False]
                    else "use DirectCoulomb() for open boundaries" if not any(pbc) else "")
            raise ValueError(f"Ewald needs a box periodic on all axes, got pbc={pbc}" + (f"; {hint}" if hint else ""))

    def _check_charge(self, state, net):
        scale = float(np.abs(state.charges).sum())
        if self.surface_charge is not None:
            walls = float(sum(self.surface_charge)) * state.box[0] * state.box[1]
            if abs(net + walls) > 1e-8 * max(scale + abs(walls), 1e-300):
                raise ValueError(f"the particles carry {net:+.6g} and the wall sheets {walls:+.6g} (charge units); "
                                 "with surface_charge the slab must be neutral as a whole")
            return net
        if abs(net) <= 1e-8 * max(scale, 1e-300):
            return 0.0
        if self.slab:
            raise ValueError(f"the slab has a net charge of {net:+.6g} (charge units); Ewald(slab=True) "
                             "needs a neutral system, or surface_charge= for wall sheets that neutralise it")
        if not self.allow_net_charge:
            raise ValueError(f"the system has a net charge of {net:+.6g} (charge units); Ewald needs a "
                             "neutral box, or allow_net_charge=True to add a uniform neutralising background")
        return net

    # ------------------------------------------------------------------ force-term protocol
    def attach(self, state):
        """Check geometry and charges, compute the prefactor and choose alpha, cutoff and k_c."""
        self._check_geometry(state)
        self.prefactor = coulomb_prefactor(state.units, self.epsilon_r, self.bjerrum_length, self.temperature)
        q = state.charges
        self._check_charge(state, float(q.sum()))
        n_charged = int(np.count_nonzero(q))
        box = state.box.copy()
        kbox = box.copy()
        if self.slab:
            kbox[2] = self.slab_factor * box[2]
        per = box[state.pbc]
        self.parameters = None
        p = ewald_parameters(box, n_charged, self.accuracy, self._cutoff_request, self.alpha, kbox,
                             max_cutoff=MAX_CUTOFF_FRACTION * float(per.min()))
        if p.cutoff > 0.5 * per.min():
            raise ValueError(f"the real-space cutoff {p.cutoff:g} exceeds half the shortest periodic box "
                             f"length {per.min():g}")
        self.parameters = p
        self._set_kvectors(kbox)
        self._table = erfc_table(p.alpha * p.cutoff)
        self._scratch = self._vscratch = None

    def _set_kvectors(self, kbox):
        p = self.parameters
        self._kbox = kbox.copy()
        self._nmax = np.asarray(_nmax(p.kcut, kbox), dtype=np.intc)
        self._columns, n = _kvectors(p.kcut, kbox)
        k = n * (2 * np.pi / kbox)
        k2 = np.einsum("ij,ij->i", k, k)
        volume = float(np.prod(kbox))
        self._k = k
        self._k2 = k2
        self._coef = self.prefactor * 4 * np.pi / volume * np.exp(-k2 / (4 * p.alpha**2)) / k2
        nk = max(len(k), 1)
        self._S = np.zeros((nk, 2))
        self._A = np.zeros((nk, 2))
        self._trig = None
        self._tablen = 2 * (self._nmax[0] + 1) + 2 * (2 * self._nmax[1] + 1) + 2 * (2 * self._nmax[2] + 1)

    def compute(self, state, nlist, request, out):
        p = self.parameters
        if nlist is None or nlist.cutoff < p.cutoff:
            have = "no neighbor list" if nlist is None else f"a neighbor list with cutoff {nlist.cutoff:g}"
            raise ValueError(f"{self.name}: the real-space cutoff is {p.cutoff:g} but the force field got {have}; "
                             "attach the force field (ff.attach(state)) before building the list, or pass cutoff=")
        C = self.prefactor
        q = state.charges
        x = state.positions
        net = self._check_charge(state, float(q.sum()))
        kbox = state.box.copy()
        if self.slab:
            kbox[2] = self.slab_factor * kbox[2]
            z = x[q != 0, 2]
            if len(z) and z.max() - z.min() > min(kbox[2] - p.cutoff, 0.5 * kbox[2]):
                raise ValueError(f"charges spread over {z.max() - z.min():g} along z, more than half the padded "
                                 f"length {kbox[2]:g} or that length minus the cutoff {p.cutoff:g}; "
                                 "increase slab_factor")
        if not np.array_equal(kbox, self._kbox):
            self._set_kvectors(kbox)
        threads = get_num_threads()
        _threads_buffers(self, state.n_atoms, threads)

        # real space
        energy = _ck.ewald_real(x, q, state.box, nlist.rows, nlist.start, nlist.neighbors, nlist.codes, p.alpha,
                                p.cutoff, C, self._table, ERFC_TABLE_SPACING, out.forces, out.virial6,
                                request.energy, request.virial, self._scratch, self._vscratch)

        # reciprocal space
        nk = len(self._k2)
        atoms = np.flatnonzero(q).astype(np.intc)
        if nk and len(atoms):
            if self._trig is None or self._trig.shape[0] != threads:
                self._trig = np.zeros((threads, self._tablen))
                self._sbuf = np.zeros((threads, nk, 2))
            S = self._S
            _ck.ewald_structure_factor(x, q, atoms, kbox, self._nmax, self._columns, S, self._trig, self._sbuf)
            np.multiply(S, self._coef[:, None], out=self._A)
            _ck.ewald_reciprocal_forces(x, q, atoms, kbox, self._nmax, self._columns, self._A, out.forces,
                                        self._trig)
            if request.energy or request.virial:
                w = self._coef * (S[:, 0] ** 2 + S[:, 1] ** 2)
                e_rec = float(w.sum())
                energy += e_rec
                if request.virial:
                    k = self._k
                    g = w * 2.0 * (1.0 / self._k2 + 1.0 / (4 * p.alpha**2))
                    out.virial6 += [e_rec - g @ (k[:, 0] ** 2), e_rec - g @ (k[:, 1] ** 2),
                                    e_rec - g @ (k[:, 2] ** 2), -g @ (k[:, 0] * k[:, 1]),
                                    -g @ (k[:, 0] * k[:, 2]), -g @ (k[:, 1] * k[:, 2])]
        # self energy (no force, no virial) and neutralising background (virial = E_bg on the diagonal)
        if request.energy:
            energy -= C * p.alpha / np.sqrt(np.pi) * float(q @ q)
        if net:
            e_bg = -C * np.pi * net * net / (2 * float(np.prod(kbox)) * p.alpha**2)
            energy += e_bg
            if request.virial:
                out.virial6[:3] += e_bg
        if self.slab:
            energy += self._slab_terms(state, kbox, net, request, out)
        return float(energy) if request.energy else 0.0

    def _slab_terms(self, state, kbox, net, request, out):
        """Yeh–Berkowitz (neutral) or Ballenegger–Arnold–Cerdà (charged) correction, and the wall sheets.
        Every term scales as L_z / A under strain: its virial is (E, E, -E) on the diagonal."""
        C = self.prefactor
        q = state.charges
        z = state.positions[:, 2]
        vpad = float(np.prod(kbox))
        mz = float(q @ z)
        out.forces[:, 2] -= C * 4 * np.pi / vpad * q * (mz - net * z)
        energy = C * 2 * np.pi / vpad * (mz * mz - net * float(q @ (z * z)) - net * net * kbox[2] ** 2 / 12)
        if self.surface_charge is not None:
            lo, hi = self.surface_charge
            h = state.box[2]
            out.forces[:, 2] += 2 * np.pi * C * q * (lo * np.sign(z) + hi * np.sign(z - h))
            energy -= 2 * np.pi * C * (float(q @ (lo * np.abs(z) + hi * np.abs(z - h)))
                                       + state.box[0] * state.box[1] * lo * hi * h)
        if request.virial:
            out.virial6[:3] += [energy, energy, -energy]
        return energy

    def __repr__(self):
        extra = f", slab=True, slab_factor={self.slab_factor}" if self.slab else ""
        if self.surface_charge is not None:
            extra += f", surface_charge={self.surface_charge}"
        return (f"Ewald(accuracy={self.accuracy}, cutoff={self._cutoff_request}, epsilon_r={self.epsilon_r}, "
                f"bjerrum_length={self.bjerrum_length}{extra}, name={self.name!r})")


# ------------------------------------------------------------------------------------------------------
# direct sum
# ------------------------------------------------------------------------------------------------------
class DirectCoulomb:
    """Coulomb energy over all pairs, E = C sum_{i<j} q_i q_j / r_ij, for open boundaries (pbc all False),
    e.g. ions in a spherical simulation cell. O(N^2), threaded over rows.

    Units: real units (eV, Å, e) or LJ reduced units; C from :func:`coulomb_prefactor` (``epsilon_r``, or
    ``bjerrum_length`` and ``temperature`` for the primitive model). A net charge is allowed.

    Parameters
    ----------
    epsilon_r : float
        Relative permittivity (dimensionless).
    bjerrum_length, temperature : float, optional
        Primitive model: C = l_B k_B T (length units; temperature units).
    name : str

    Examples
    --------
    >>> import mdlearn as mdl
    >>> st = mdl.State([[0.0, 0, 0], [3.0, 0, 0]], pbc=False, charges=[1.0, -1.0], types=["Na", "Cl"],
    ...                units="real")
    >>> round(mdl.ForceField([mdl.DirectCoulomb(epsilon_r=78.5)]).compute(st).energy, 6)   # eV
    -0.061145
    """

    cutoff = None

    def __init__(self, epsilon_r=1.0, bjerrum_length=None, temperature=None, name="coulomb"):
        self.epsilon_r = epsilon_r
        self.bjerrum_length = bjerrum_length
        self.temperature = temperature
        self.name = name
        self.prefactor = None

    def attach(self, state):
        if state.pbc.any():
            raise ValueError(f"DirectCoulomb is for open boundaries (pbc all False), got pbc={state.pbc.tolist()}; "
                             "use Ewald for periodic boxes")
        self.prefactor = coulomb_prefactor(state.units, self.epsilon_r, self.bjerrum_length, self.temperature)
        self._scratch = self._vscratch = None

    def compute(self, state, nlist, request, out):
        threads = get_num_threads()
        _threads_buffers(self, state.n_atoms, threads)
        e = _ck.direct_coulomb(state.positions, state.charges, self.prefactor, out.forces, out.virial6,
                               request.energy, request.virial, self._scratch, self._vscratch)
        return float(e) if request.energy else 0.0

    def __repr__(self):
        return (f"DirectCoulomb(epsilon_r={self.epsilon_r}, bjerrum_length={self.bjerrum_length}, "
                f"name={self.name!r})")
