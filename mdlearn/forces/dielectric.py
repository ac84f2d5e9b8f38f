"""A charged dielectric sphere (nanoparticle) in an implicit solvent: the fixed charge and the surface charge
induced by the dielectric contrast, solved each step by a boundary-element method (BEM).

Formulation
-----------
A sphere of radius a centred at c has permittivity ε_in; the solvent around it ε_out. The sphere carries a
fixed charge Q spread uniformly over its surface; point ions q_k sit outside it. Write the potential as that
of all charges in a uniform medium ε_out, plus an induced surface charge density σ_ind on the sphere::

    φ(r) = C [ Σ_k q_k / |r − r_k| + ∮ (σ_f + σ_ind)(s) / |r − s| dA ],   C = k_e / ε_out,

with σ_f = Q / (4π a²) and k_e = 1 / (4π ε0) (``units.coulomb``). The jump of the normal displacement
across the surface, ε_out ∂φ/∂n|out − ε_in ∂φ/∂n|in = −σ_f / ε0, gives for the total σ = σ_f + σ_ind::

    σ(s) − (Δ / 2π) E_n[σ](s) = (1 − Δ) σ_f + (Δ / 2π) E_n^ions(s),     Δ = (ε_in − ε_out) / (ε_in + ε_out),

where E_n[σ] is the principal-value normal field of the surface charge and E_n^ions(s) = Σ_k q_k (s − r_k)·n /
|s − r_k|³ that of the ions (both without C; n the outward normal). On a sphere (s − s')·n(s) = |s − s'|² / 2a,
so E_n[σ](s) = (1 / 2a) ∮ σ(s') / |s − s'| dA': the normal-field kernel is the potential kernel over 2a.

Uniform σ_f induces nothing (the field of a uniformly charged shell is radial and zero inside), so the
induced charge is a linear response to the ions alone, and the energy of the ions in the field of the
sphere is::

    U = C Q Σ_k q_k / |r_k − c|  +  (C / 2) Σ_k q_k Σ_i w_i / |r_k − s_i|,

the second term being the polarisation energy (1/2) Σ q φ_ind. (The self-energy of Q is a constant and
is left out; the ion–ion Coulomb energy is a separate term, e.g. ``DirectCoulomb(epsilon_r=ε_out)``.)

Discretisation
--------------
``n_grid`` points s_i = c + a n_i on a Fibonacci spiral, each with the area A_i of its spherical Voronoi
cell (D = diag(A_i), Σ A_i = 4π a²; the cells differ by up to ±6% near the poles), carry the induced
charges w_i = σ_ind(s_i) A_i (charge units). Collocation at the points gives the linear system::

    M w = (Δ / 2π) D P b,    M = I − (Δ / 4π a) D G,    G_ij = 1 / |s_i − s_j|  (i ≠ j),

with b_i = E_n^ions(s_i). The diagonal G_ii = (4π a − Σ_{j≠i} G_ij A_j) / A_i is chosen so that a uniform
density is reproduced exactly (∮ dA' / |s − s'| = 4π a on the sphere): then uniform σ_f induces exactly
nothing in the discrete model too. ``P`` removes the area-weighted mean of b: by Gauss's law
∮ E_n^ions dA = 0 for ions outside, so this only removes the quadrature error of the l = 0 moment, and the
induced charge sums to zero exactly. M = D^(1/2) S D^(-1/2) with S = I − (Δ / 4π a) D^(1/2) G D^(1/2)
symmetric and constant (the grid is fixed): S is LU-factored and inverted once in :meth:`attach` (it is
well conditioned, its eigenvalues lying near 1 − Δ / (2l + 1)), so that each step costs two matrix–vector
products besides the O(n_ions n_grid) sums over ion–element pairs, all in threaded Cython kernels.

The energy of the discrete model is U_pol = (C Δ / 4π) vᵀ M⁻¹ D P b with v_i = Σ_k q_k / |s_i − r_k|, and
the forces are its exact gradient, −∇_k U_pol = −(C Δ / 4π) [Σ_i y_i ∇_k v_i + Σ_i x̃_i ∇_k b_i] with
y = M⁻¹ D P b and x̃ = Pᵀ D M⁻ᵀ v: energy is conserved to the integrator's accuracy and finite differences
agree to rounding. As the grid is refined they converge to the physical force q_k E_ind(r_k).

Accuracy (honestly)
-------------------
The point-charge collocation is accurate once an ion is farther from the surface than about twice the
grid spacing h = a sqrt(4π / n_grid) (0.11 a at 1000 elements), and poor closer in. Against the exact
Legendre-series solution for one point charge (``tests/test_dielectric.py``; 1000 elements, ε_in / ε_out
= 2 / 78.5, worst case over 40 directions), the polarisation energy and force are off by up to 10% and
40% at 0.1 a from the surface (≈ h; the error depends on where the ion sits relative to the grid points,
and averages to 0.2% / 0.7% over directions), 0.2% / 0.5% at 0.25 a, 3e-4 / 6e-4 at 0.5 a and ~1e-4
farther out. At a fixed distance the error falls steeply with n_grid (RMS 5%, 0.8%, 0.08% at 0.2 a with
250, 500, 1000 elements). The builders default to h equal to the distance of closest approach (the
smallest ion radius), ``n_grid = 4π (2 a / d_min)²``: for ions at contact the error then averages below 1%
over positions relative to the grid but reaches 10% (energy) and 40% (force) at unlucky spots; for
quantitative contact values halve the spacing (four times the elements). Cost: a dense n_grid² matrix
(8 n_grid² bytes) inverted once, then per step two n_grid² matrix–vector products and O(n_ions n_grid)
ion–element sums.
"""
import numpy as np
from scipy.linalg import lu_factor, lu_solve
from scipy.spatial import SphericalVoronoi

from .._kernels import dielectric as _dk
from ..threads import get_num_threads
from .coulomb import coulomb_prefactor

__all__ = ["DielectricSphere", "fibonacci_sphere"]


def fibonacci_sphere(n):
    """``n`` unit vectors on a Fibonacci spiral: nearly uniform, each standing for an area 4π / n."""
    n = int(n)
    if n < 2:
        raise ValueError(f"need at least 2 grid points, got {n}")
    k = np.arange(n) + 0.5
    z = 1.0 - 2.0 * k / n
    rho = np.sqrt(1.0 - z * z)
    phi = np.pi * (3.0 - np.sqrt(5.0)) * np.arange(n)
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)


class DielectricSphere:
    """A fixed sphere of permittivity ``epsilon_in`` and uniform surface charge ``charge`` in a solvent of
    ``epsilon_out``: Coulomb interaction of the ions with the charge and with the induced surface charge,
    solved each step by a boundary-element method (see the module docstring for the formulation and its
    discretisation error).

    Only the electrostatics of the sphere: give it excluded volume with :class:`~mdlearn.forces.walls.SphereBody`
    and the ion–ion Coulomb interaction with ``DirectCoulomb(epsilon_r=epsilon_out)`` (same permittivity).

    Parameters
    ----------
    radius : float
        Length units (Å in real units). The induced charge lives on this surface.
    epsilon_in, epsilon_out : float
        Relative permittivities (dimensionless) inside the sphere and of the solvent. With equal values
        there is no induced charge and only the charge term remains.
    charge : float
        Fixed charge Q of the sphere, charge units (e in real units), spread uniformly on its surface.
    center : 3 floats
        Length units.
    n_grid : int
        Number of boundary elements (grid points) on the sphere.
    bjerrum_length, temperature : float, optional
        Primitive-model prefactor C = l_B k_B T instead of units.coulomb / epsilon_out, as in
        :func:`~mdlearn.forces.coulomb.coulomb_prefactor`; ``bjerrum_length`` must then be that of the
        solvent (ε_out), and the contrast still comes from ``epsilon_in / epsilon_out``.
    name : str

    Attributes (after :meth:`attach`)
    ---------------------------------
    grid : (n_grid, 3) array
        Positions of the boundary elements, length units.
    areas : (n_grid,) array
        Area of each element (its spherical Voronoi cell), length²; ``area`` is their mean.
    prefactor : float
        C in energy * length / charge², for the solvent.

    Atoms with zero charge are ignored. An ion at or inside the sphere's surface raises ``ValueError``.
    Virial: ``W_ab = sum_k (r_k - c)_a F_k,b`` (the sphere is an external body; see :mod:`mdlearn.forces.walls`).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> np_term = mdl.DielectricSphere(radius=26.775, epsilon_in=2.0, epsilon_out=78.5, charge=-60.0)
    """

    cutoff = None

    def __init__(self, radius, epsilon_in, epsilon_out, charge=0.0, center=(0.0, 0.0, 0.0), n_grid=1000,
                 bjerrum_length=None, temperature=None, name="dielectric_sphere"):
        self.radius = radius
        self.epsilon_in = epsilon_in
        self.epsilon_out = epsilon_out
        self.charge = charge
        self.center = center
        self.n_grid = n_grid
        self.bjerrum_length = bjerrum_length
        self.temperature = temperature
        self.name = name
        self._factor_key = None

    # ------------------------------------------------------------------ set-up
    @property
    def contrast(self):
        """Δ = (ε_in − ε_out) / (ε_in + ε_out), between −1 and 1."""
        return (self.epsilon_in - self.epsilon_out) / (self.epsilon_in + self.epsilon_out)

    def attach(self, state):
        for what in ("radius", "epsilon_in", "epsilon_out"):
            v = getattr(self, what)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{self.name}: {what} must be positive, got {v}")
        if not np.isfinite(self.charge):
            raise ValueError(f"{self.name}: charge must be finite, got {self.charge}")
        c = np.asarray(self.center, dtype=np.float64)
        if c.shape != (3,) or not np.all(np.isfinite(c)):
            raise ValueError(f"{self.name}: center must be 3 finite numbers, got {self.center!r}")
        if int(self.n_grid) != self.n_grid or self.n_grid < 12:
            raise ValueError(f"{self.name}: n_grid must be an integer >= 12, got {self.n_grid}")
        if self.bjerrum_length is None:
            self.prefactor = coulomb_prefactor(state.units, self.epsilon_out)
        else:
            self.prefactor = coulomb_prefactor(state.units, 1.0, self.bjerrum_length, self.temperature)
        self._center = c
        self._setup_grid()
        self._check_outside(state)

    def _setup_grid(self):
        """Grid, normals, areas and S⁻¹; kept while radius, n_grid and contrast are unchanged."""
        a, n, delta = float(self.radius), int(self.n_grid), self.contrast
        key = (a, n, delta)
        if key != self._factor_key:
            self.normals = fibonacci_sphere(n)
            self.areas = a * a * SphericalVoronoi(self.normals).calculate_areas()
            self.areas *= 4.0 * np.pi * a * a / self.areas.sum()
            self._sqrt_areas = np.sqrt(self.areas)
            self._sinv = None
            if delta != 0.0:
                g = self.single_layer_matrix()
                sa = self._sqrt_areas
                m = np.eye(n) - (delta / (4.0 * np.pi * a)) * (sa[:, None] * g * sa[None, :])
                lu = lu_factor(m, check_finite=False)
                sinv = lu_solve(lu, np.eye(n), check_finite=False)
                self._sinv = np.ascontiguousarray(0.5 * (sinv + sinv.T))  # S is symmetric: so is S⁻¹
            self._factor_key = key
        self.grid = self._center + a * self.normals

    @property
    def area(self):
        """Mean area per element, 4π a² / n_grid (length²)."""
        return 4.0 * np.pi * float(self.radius) ** 2 / int(self.n_grid)

    def single_layer_matrix(self):
        """G (n_grid, n_grid): 1 / |s_i − s_j| off the diagonal, and the diagonal that makes
        Σ_j G_ij A_j = 4π a (a uniform density's potential on the sphere) hold exactly; 1 / length."""
        u = self.normals
        d2 = np.maximum(2.0 - 2.0 * np.einsum("ik,jk->ij", u, u), 0.0)  # |n_i - n_j|^2 for unit vectors
        np.fill_diagonal(d2, 1.0)
        g = 1.0 / (float(self.radius) * np.sqrt(d2))
        np.fill_diagonal(g, 0.0)
        np.fill_diagonal(g, (4.0 * np.pi * float(self.radius) - g @ self.areas) / self.areas)
        return g

    def _solve2(self, r1, r2):
        """(M⁻¹ D r1, M⁻¹ D r2) = D^(1/2) S⁻¹ D^(1/2) r, through the symmetric S."""
        sa = self._sqrt_areas
        o1, o2 = np.empty_like(sa), np.empty_like(sa)
        _dk.symmetric_matvec2(self._sinv, np.ascontiguousarray(sa * r1), np.ascontiguousarray(sa * r2), o1, o2,
                              get_num_threads())
        return sa * o1, sa * o2

    def _project(self, b):
        """Remove the area-weighted mean (the l = 0 moment, zero by Gauss's law)."""
        return b - (self.areas @ b) / self.areas.sum()

    def _check_outside(self, state):
        q = state.charges
        idx = np.flatnonzero(q)
        if len(idx) == 0:
            return
        r = np.linalg.norm(self._displacements(state, idx), axis=1)
        if r.min() <= self.radius:
            k = int(np.argmin(r))
            raise ValueError(f"{self.name}: charged atom {idx[k]} is inside the sphere ({r[k]:.6g} from the "
                             f"centre, radius {self.radius:g}); the model needs every ion outside")

    def _displacements(self, state, idx):
        d = state.positions[idx] - self._center
        for a in np.flatnonzero(state.pbc):
            d[:, a] -= state.box[a] * np.round(d[:, a] / state.box[a])
        return d

    # ------------------------------------------------------------------ physics
    def _sources(self, rel, q):
        """Per grid point: v_i = Σ_k q_k / ρ_ik and b_i = Σ_k q_k (s_i − r_k)·n_i / ρ_ik³ (no prefactor)."""
        n = int(self.n_grid)
        v, b = np.empty(n), np.empty(n)
        _dk.sources(np.ascontiguousarray(rel), np.ascontiguousarray(q), self.normals, float(self.radius), v, b,
                    get_num_threads())
        return v, b

    def induced_charges(self, state):
        """Induced charge per boundary element, w_i = σ_ind(s_i) A, in charge units (n_grid,).

        In the convention of the module docstring: the induced charge is seen through the solvent's
        permittivity, φ_ind(r) = C Σ_i w_i / |r − s_i|. Sums to zero (Gauss's law, enforced exactly).
        """
        self._ensure_attached(state)
        idx = np.flatnonzero(state.charges)
        if self.contrast == 0.0 or len(idx) == 0:
            return np.zeros(int(self.n_grid))
        _, b = self._sources(self._displacements(state, idx), state.charges[idx])
        pb = self._project(b)
        return (self.contrast / (2.0 * np.pi)) * self._solve2(pb, pb)[0]

    def total_surface_charge(self, state):
        """Total charge per element (n_grid,), fixed plus induced, from solving the full discrete equation
        with the fixed charge Q on the grid as well: ``M w = (1 − Δ) σ_f D 1 + (Δ / 2π) D P b``, σ_f = Q / 4π a².
        Minus the fixed part ``σ_f A_i`` this equals :meth:`induced_charges` (Q induces nothing)."""
        self._ensure_attached(state)
        sigma_f = float(self.charge) / self.areas.sum()
        if self.contrast == 0.0:
            return sigma_f * self.areas
        rhs = np.full(int(self.n_grid), (1.0 - self.contrast) * sigma_f)
        idx = np.flatnonzero(state.charges)
        if len(idx):
            _, b = self._sources(self._displacements(state, idx), state.charges[idx])
            rhs = rhs + (self.contrast / (2.0 * np.pi)) * self._project(b)
        return self._solve2(rhs, rhs)[0]

    def _ensure_attached(self, state):
        if getattr(self, "prefactor", None) is None or not hasattr(self, "grid"):
            self.attach(state)

    def compute(self, state, nlist, request, out):
        q_all = state.charges
        idx = np.flatnonzero(q_all)
        if len(idx) == 0:
            return 0.0
        q = q_all[idx]
        rel = self._displacements(state, idx)
        r2 = np.einsum("ij,ij->i", rel, rel)
        r = np.sqrt(r2)
        if r.min() <= self.radius:
            self._check_outside(state)
        C = self.prefactor
        energy = 0.0
        forces = np.zeros_like(rel)
        if self.charge != 0.0:
            cq = C * float(self.charge) * q
            energy += float(np.sum(cq / r))
            forces += rel * (cq / (r2 * r))[:, None]
        if self.contrast != 0.0:
            v, b = self._sources(rel, q)
            # y = M⁻¹ D P b and x = D M⁻ᵀ v = D^(1/2) S⁻¹ D^(1/2) v, then x̃ = Pᵀ x
            y, x = self._solve2(self._project(b), v)
            x -= self.areas * (x.sum() / self.areas.sum())
            c0 = C * self.contrast / (4.0 * np.pi)
            energy += c0 * float(v @ y)
            grad = np.empty_like(rel)
            _dk.gradient(np.ascontiguousarray(rel), np.ascontiguousarray(q), self.normals, float(self.radius), y, x,
                         grad, get_num_threads())
            forces -= c0 * grad
        out.forces[idx] += forces
        if request.virial:
            out.add_virial(rel.T @ forces)
        return energy if request.energy else 0.0

    def __repr__(self):
        return (f"DielectricSphere(radius={self.radius}, epsilon_in={self.epsilon_in}, "
                f"epsilon_out={self.epsilon_out}, charge={self.charge}, n_grid={self.n_grid}, name={self.name!r})")


# ----------------------------------------------------------------------------------------------------------
# NumPy references of the kernels (tests compare them on random inputs)
# ----------------------------------------------------------------------------------------------------------
def sources_reference(x, q, normals, radius):
    """(v, b) of :func:`mdlearn._kernels.dielectric.sources` by broadcasting (K, M, 3)."""
    d = radius * normals[None, :, :] - x[:, None, :]
    inv = 1.0 / np.sqrt(np.einsum("kmj,kmj->km", d, d))
    dn = np.einsum("kmj,mj->km", d, normals)
    return np.einsum("k,km->m", q, inv), np.einsum("k,km->m", q, dn * inv**3)


def gradient_reference(x, q, normals, radius, y, xt):
    """Gradient of ``v.y + b.xt`` with respect to the ion positions (as the ``gradient`` kernel)."""
    d = radius * normals[None, :, :] - x[:, None, :]
    inv = 1.0 / np.sqrt(np.einsum("kmj,kmj->km", d, d))
    inv3 = inv**3
    dn = np.einsum("kmj,mj->km", d, normals)
    coef = y[None, :] * inv3 + 3.0 * xt[None, :] * dn * inv3 * inv * inv
    grad = np.einsum("km,kmj->kj", coef, d) - np.einsum("km,mj->kj", xt[None, :] * inv3, normals)
    return q[:, None] * grad
