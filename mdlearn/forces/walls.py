"""External walls: planar walls for a slab, a fixed spherical body, and a spherical confining cell.

All three act on single atoms (no neighbor list: ``cutoff`` is None) and are vectorised NumPy, O(N).
Parameters are per atom type: a float applies to every type, a dict ``{type_name: value}`` gives one value
per type. ``epsilon`` is in energy units, lengths in length units (Å and eV in real units).

Virial. A wall is a fixed external body, so "r_ij f_ij" has no partner; each term adds the analogue
``W_ab = sum_i (r_i - r_wall,i)_a F_i,b`` with ``r_wall,i`` the point of the body the force is measured from:

- :class:`PlanarWalls`: the wall plane, so only ``W_zz = sum_i h_i F_i,z`` (h_i the signed distance from
  the wall that pushes atom i). With the box's z length equal to the wall separation H, the zz pressure
  ``(K_zz + W_zz) / (A H)`` is then the normal force per area that the fluid exerts on a wall;
- :class:`SphereBody` and :class:`SphericalCell`: the sphere's centre, ``W_ab = sum_i (r_i - c)_a F_i,b``.
  A pressure from the virial is not meaningful in a spherical cell (its states have no box volume).
"""
import numpy as np

from .pair import WCA_RC, LennardJones

__all__ = ["PlanarWalls", "SphereBody", "SphericalCell"]

KINDS = ("wca", "lj93")
LJ93_MIN = (2.0 / 5.0) ** (1.0 / 6.0)  # minimum of the 9-3 wall potential, in units of sigma


def _per_type(value, what, type_names):
    """One float per type from a float or a {type_name: value} dict (sigma > 0, epsilon >= 0)."""
    return LennardJones._per_type(value, what, type_names)


def _wca(x, sig, eps):
    """WCA of the distance x (arrays): energy, and -dU/dx (> 0 pushes x up). Zero beyond 2^(1/6) sig."""
    inside = x < WCA_RC * sig
    s6 = np.where(inside, (sig / np.where(inside, x, 1.0)) ** 6, 0.0)
    u = np.where(inside, 4.0 * eps * (s6 * s6 - s6) + eps, 0.0)
    f = np.where(inside, 24.0 * eps * (2.0 * s6 * s6 - s6) / np.where(inside, x, 1.0), 0.0)
    return u, f


def _periodic_delta(d, state):
    """Minimum image of displacements ``d`` (N, 3) on the state's periodic axes."""
    for a in np.flatnonzero(state.pbc):
        d[:, a] -= state.box[a] * np.round(d[:, a] / state.box[a])
    return d


class PlanarWalls:
    """Two flat walls normal to z at ``z_lo`` and ``z_hi``; an atom at height z feels both, as a function
    of its distance h from each wall (h = z - z_lo and h = z_hi - z), through x = h + offset:

    ``kind="wca"``: U = 4 ε [(σ/x)^12 − (σ/x)^6] + ε for x < 2^(1/6) σ (purely repulsive; U = ε at x = σ).
    ``kind="lj93"``: U = ε [(2/15)(σ/x)^9 − (σ/x)^3] − U(x_c) for x < x_c, the integrated Lennard-Jones
    wall; by default x_c is its minimum (2/5)^(1/6) σ, which makes it purely repulsive too.

    For ions of diameter d, ``sigma=d, offset=d/2`` is the shifted-WCA contact of :class:`SphereBody` with
    a flat surface: U = ε when the ion touches the plane (h = d/2), zero beyond h = (2^(1/6) − 1/2) d. With
    ε = k_B T this is what :func:`mdlearn.build.confined_electrolyte` uses; it reproduces the wall profile
    of the published primitive-model study (Kadupitiya, Fox & Jadhao). ``sigma=d/2, offset=0`` is a harder
    wall with the same contact energy.

    Parameters
    ----------
    z_lo, z_hi : float
        Wall positions along z, length units (z_lo < z_hi).
    sigma : float or dict
        Length units, per type.
    epsilon : float or dict
        Energy units, per type (0 switches the walls off for a type).
    kind : ``"wca"`` or ``"lj93"``
    wall_cutoff : float, optional
        Range x_c of the ``"lj93"`` potential in length units (the same for every type), shifted so U(x_c) = 0.
        Default: the minimum, (2/5)^(1/6) σ per type. Not used with ``"wca"``.
    offset : float or dict
        Length units per type, >= 0 (default 0): the potential's singular plane lies ``offset`` beyond the wall.
    name : str

    An atom at or beyond a wall (h <= 0) raises ``ValueError`` in :meth:`attach` and :meth:`compute`.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> walls = mdl.PlanarWalls(0.0, 30.0, sigma={"cation": 3.57, "anion": 3.57}, epsilon=0.0257)
    """

    cutoff = None

    def __init__(self, z_lo, z_hi, sigma=1.0, epsilon=1.0, kind="wca", wall_cutoff=None, offset=0.0,
                 name="walls"):
        self.z_lo = z_lo
        self.z_hi = z_hi
        self.sigma = sigma
        self.epsilon = epsilon
        self.kind = kind
        self.wall_cutoff = wall_cutoff
        self.offset = offset
        self.name = name

    def attach(self, state):
        if self.kind not in KINDS:
            raise ValueError(f"unknown wall kind {self.kind!r}; expected one of {KINDS}")
        if not (np.isfinite(self.z_lo) and np.isfinite(self.z_hi) and self.z_lo < self.z_hi):
            raise ValueError(f"walls need finite z_lo < z_hi, got z_lo={self.z_lo}, z_hi={self.z_hi}")
        sig = _per_type(self.sigma, "sigma", state.type_names)
        eps = _per_type(self.epsilon, "epsilon", state.type_names)
        if self.kind == "wca":
            if self.wall_cutoff is not None:
                raise ValueError("wall_cutoff is fixed at 2^(1/6) sigma for kind='wca'; leave it None")
            hc = WCA_RC * sig
            shift = np.zeros_like(sig)
        else:
            if self.wall_cutoff is None:
                hc = LJ93_MIN * sig
            else:
                if not (np.isfinite(self.wall_cutoff) and self.wall_cutoff > 0):
                    raise ValueError(f"wall_cutoff must be positive, got {self.wall_cutoff}")
                hc = np.full_like(sig, float(self.wall_cutoff))
            s3 = (sig / hc) ** 3
            shift = eps * (2.0 / 15.0 * s3**3 - s3)
        off = np.array([self.offset[t] for t in state.type_names] if isinstance(self.offset, dict)
                       else [self.offset] * len(state.type_names), dtype=float)
        if not (np.all(np.isfinite(off)) and np.all(off >= 0)):
            raise ValueError(f"offset must be >= 0 and finite, got {off.tolist()}")
        # atoms interact while h < x_c - offset
        self._sig, self._eps, self._off, self._hc, self._shift = sig, eps, off, hc - off, shift
        self._check(state)

    def _check(self, state):
        z = state.positions[:, 2]
        h = np.minimum(z - self.z_lo, self.z_hi - z)
        bad = h <= 0
        if bad.any():
            i = int(np.argmin(h))
            raise ValueError(f"{self.name}: atom {i} at z = {z[i]:.6g} is not between the walls at z = "
                             f"{self.z_lo:g} and {self.z_hi:g}")

    def _wall(self, h, t):
        """Energy and -dU/dh for distances h from one wall (atoms of types t)."""
        sig, eps = self._sig[t], self._eps[t]
        x = h + self._off[t]
        if self.kind == "wca":
            return _wca(x, sig, eps)
        inside = h < self._hc[t]
        hh = np.where(inside, x, 1.0)
        s3 = np.where(inside, (sig / hh) ** 3, 0.0)
        s9 = s3**3
        u = np.where(inside, eps * (2.0 / 15.0 * s9 - s3) - self._shift[t], 0.0)
        f = np.where(inside, 3.0 * eps * (0.4 * s9 - s3) / hh, 0.0)
        return u, f

    def compute(self, state, nlist, request, out):
        z = state.positions[:, 2]
        h_lo = z - self.z_lo
        h_hi = self.z_hi - z
        if min(h_lo.min(), h_hi.min()) <= 0:
            self._check(state)
        t = state.types
        energy = 0.0
        virial = 0.0
        for h, sign in ((h_lo, 1.0), (h_hi, -1.0)):
            near = np.flatnonzero(h < self._hc[t])
            if len(near) == 0:
                continue
            u, f = self._wall(h[near], t[near])
            out.forces[near, 2] += sign * f
            energy += float(u.sum())
            virial += float(h[near] @ f)
        if request.virial:
            out.virial6[2] += virial
        return energy if request.energy else 0.0

    def __repr__(self):
        return (f"PlanarWalls(z_lo={self.z_lo}, z_hi={self.z_hi}, sigma={self.sigma!r}, epsilon={self.epsilon!r}, "
                f"kind={self.kind!r}, offset={self.offset!r}, name={self.name!r})")


class _SphericalWall:
    """Shared code of :class:`SphereBody` (atoms outside) and :class:`SphericalCell` (atoms inside)."""

    cutoff = None
    _outside = True

    def __init__(self, radius, sigma=1.0, epsilon=1.0, center=(0.0, 0.0, 0.0), name="sphere"):
        self.radius = radius
        self.sigma = sigma
        self.epsilon = epsilon
        self.center = center
        self.name = name

    def attach(self, state):
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"{self.name}: radius must be positive, got {self.radius}")
        c = np.asarray(self.center, dtype=np.float64)
        if c.shape != (3,) or not np.all(np.isfinite(c)):
            raise ValueError(f"{self.name}: center must be 3 finite numbers, got {self.center!r}")
        self._center = c
        self._sig = _per_type(self.sigma, "sigma", state.type_names)
        self._eps = _per_type(self.epsilon, "epsilon", state.type_names)
        # the singular surface of the shifted WCA: the contact (U = eps) lies sigma/2 outside/inside the sphere
        self._rs = self.radius - 0.5 * self._sig if self._outside else self.radius + 0.5 * self._sig
        if self._outside and np.any(self._rs[np.unique(state.types)] <= 0):
            raise ValueError(f"{self.name}: radius {self.radius:g} must exceed half of every ion's sigma "
                             f"({self._sig.tolist()})")
        _, r = self._distances(state)
        self._check_start(state, r)

    def _distances(self, state):
        d = _periodic_delta(state.positions - self._center, state)
        return d, np.sqrt(np.einsum("ij,ij->i", d, d))

    def compute(self, state, nlist, request, out):
        d, r = self._distances(state)
        t = state.types
        x = r - self._rs[t] if self._outside else self._rs[t] - r
        if x.min() <= 0:
            self._fail(state, r, x)
        near = np.flatnonzero(x < WCA_RC * self._sig[t])
        if len(near) == 0:
            return 0.0
        u, f = _wca(x[near], self._sig[t[near]], self._eps[t[near]])
        # -dU/dr along the outward radial unit vector: +f outside the body, -f inside the cell
        fr = (f if self._outside else -f) / np.maximum(r[near], 1e-300)
        fvec = d[near] * fr[:, None]
        out.forces[near] += fvec
        if request.virial:
            out.add_virial(d[near].T @ fvec)
        return float(u.sum()) if request.energy else 0.0

    def __repr__(self):
        return (f"{type(self).__name__}(radius={self.radius}, sigma={self.sigma!r}, epsilon={self.epsilon!r}, "
                f"center={tuple(np.asarray(self.center, dtype=float).tolist())}, name={self.name!r})")


class SphereBody(_SphericalWall):
    """A fixed sphere of ``radius`` that atoms cannot enter: shifted-WCA contact with its surface.

    U(r) = 4 ε [(σ/x)^12 − (σ/x)^6] + ε for x = r − (radius − σ/2) < 2^(1/6) σ, r the distance from
    ``center``. An ion of diameter σ thus has U = ε when its surface touches the sphere (r = radius + σ/2)
    and no interaction beyond r = radius + (2^(1/6) − 1/2) σ. This is the excluded volume of a
    nanoparticle; its charge and polarisation are :class:`~mdlearn.forces.dielectric.DielectricSphere`.

    Parameters
    ----------
    radius : float
        Length units.
    sigma : float or dict
        Ion diameters per type, length units.
    epsilon : float or dict
        Energy units per type (k_B T in :func:`mdlearn.build.nanoparticle_system`).
    center : 3 floats
        Fixed centre, length units (minimum image on periodic axes).
    name : str

    :meth:`attach` refuses an atom whose centre lies inside the sphere (r < radius): the energy there
    exceeds 16000 ε. During a run, an atom that reached the singular surface raises ``ValueError``.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> body = mdl.SphereBody(radius=26.775, sigma=3.57, epsilon=0.0257)     # Å, eV
    """

    _outside = True

    def __init__(self, radius, sigma=1.0, epsilon=1.0, center=(0.0, 0.0, 0.0), name="sphere"):
        super().__init__(radius, sigma, epsilon, center, name)

    def _check_start(self, state, r):
        bad = r < self.radius
        if bad.any():
            i = int(np.argmin(r))
            raise ValueError(f"{self.name}: atom {i} overlaps the sphere: its centre is {r[i]:.6g} from the "
                             f"centre, inside the radius {self.radius:g}")

    def _fail(self, state, r, x):
        i = int(np.argmin(x))
        raise ValueError(f"{self.name}: atom {i} entered the sphere (distance {r[i]:.6g} from the centre, "
                         f"radius {self.radius:g}); use a smaller timestep")


class SphericalCell(_SphericalWall):
    """A spherical wall of ``radius`` that keeps atoms inside: shifted-WCA contact with its inner surface.

    U(r) = 4 ε [(σ/x)^12 − (σ/x)^6] + ε for x = (radius + σ/2) − r < 2^(1/6) σ: an ion of diameter σ has
    U = ε when its surface touches the wall (r = radius − σ/2). Parameters as :class:`SphereBody`.

    :meth:`attach` refuses an atom whose centre lies outside the cell (r > radius).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> cell = mdl.SphericalCell(radius=142.8, sigma=3.57, epsilon=0.0257)   # Å, eV
    """

    _outside = False

    def __init__(self, radius, sigma=1.0, epsilon=1.0, center=(0.0, 0.0, 0.0), name="cell"):
        super().__init__(radius, sigma, epsilon, center, name)

    def _check_start(self, state, r):
        bad = r > self.radius
        if bad.any():
            i = int(np.argmax(r))
            raise ValueError(f"{self.name}: atom {i} lies outside the cell: {r[i]:.6g} from the centre, "
                             f"beyond the radius {self.radius:g}")

    def _fail(self, state, r, x):
        i = int(np.argmin(x))
        raise ValueError(f"{self.name}: atom {i} left the cell (distance {r[i]:.6g} from the centre, "
                         f"radius {self.radius:g}); use a smaller timestep")
