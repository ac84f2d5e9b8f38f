"""Primitive-model electrolytes, ready to run: ions between two planar walls, and ions around a charged
dielectric nanoparticle in a spherical cell.

Model. Implicit water of relative permittivity ε_r; ions are charged soft spheres: WCA repulsion between
ions i and j cut at 2^(1/6) d_ij (d_ij the mean diameter, ε = k_B T), Coulomb interaction
z_i z_j e² / (4π ε0 ε_r r). Walls and the particle are WCA-type contacts (ε = k_B T) that ions cannot cross.

Units. Arguments are physical: lengths in **nm**, concentrations in **mol/L (M)**, charges in **e**, surface
charge densities in **C/m²**, temperature in K. The systems are built in mdlearn's ``"real"`` units (Å, eV,
e, amu, K, time in fs), so ``metadata`` lengths are in Å and energies in eV.

Concentrations count formula units: one formula unit of a salt with valencies z₊ and z₋ holds |z₋|/g
cations and z₊/g anions (g = gcd(z₊, |z₋|)). For a 1:1 salt c is the concentration of each ion species; for
a 2:1 salt (MgCl₂-like) c is that of the cations and 2c that of the anions. (The nanoconfinement study of
Kadupitiya et al. defines c as the number of negative ions per volume; for z₋ = −1 that is z₊ times our c.)
The number of formula units is c N_A V rounded to an integer; the concentration actually simulated is in
``metadata["concentration"]``.

Both builders return a :class:`System`: the :class:`~mdlearn.State` (random non-overlapping ions,
Maxwell–Boltzmann velocities at the temperature), an attached :class:`~mdlearn.ForceField`, and ``metadata``
with everything an analysis needs. ``system.simulation()`` makes a Langevin simulation with the suggested
timestep and friction.
"""
from dataclasses import dataclass, field
from math import gcd

import numpy as np
from ase import units as _ase

from ..forces import ForceField
from ..forces.coulomb import DirectCoulomb, Ewald
from ..forces.dielectric import DielectricSphere
from ..forces.pair import WCA, WCA_RC
from ..forces.walls import PlanarWalls, SphereBody, SphericalCell
from ..state import State

__all__ = ["System", "confined_electrolyte", "nanoparticle_system"]

AVOGADRO = 6.02214076e23
ELEMENTARY_CHARGE = 1.602176634e-19  # C
NM = 10.0  # Å per nm
LITRE_PER_NM3 = 1e-24
MAX_PACKING = 0.30  # ion volume fraction above which random insertion is refused


@dataclass
class System:
    """A ready-to-run system: ``state``, attached ``forcefield`` and ``metadata`` (Å, eV, e, K, fs).

    ``metadata`` keys: ``geometry`` (``"slab"`` or ``"sphere"``), ``units`` (``"real"``), ``temperature`` (K),
    ``kT`` (eV), ``species`` (name -> valency, diameter in Å, count), ``concentration`` (simulated salt
    concentration, M), ``contact`` (name -> contact position of that ion: distance from the mid-plane for a
    slab, from the particle centre for a sphere; Å), ``timestep`` (fs) and ``friction`` (1/fs) suggested for
    Langevin dynamics, ``inputs`` (the arguments as given, physical units), and geometry keys (slab: ``z_lo``,
    ``z_hi``, ``h``, ``area``; sphere: ``center``, ``radius``, ``cell_radius``, ``mid``, ``charge``, ``n_grid``).
    """

    state: State
    forcefield: ForceField
    metadata: dict = field(default_factory=dict)

    def simulation(self, dt=None, friction=None, seed=None, skin=None):
        """A :class:`~mdlearn.Simulation` with :class:`~mdlearn.Langevin` dynamics at the system's temperature;
        ``dt`` (fs) and ``friction`` (1/fs) default to the suggestions in ``metadata``."""
        from ..integrators import Langevin
        from ..simulation import Simulation

        m = self.metadata
        integ = Langevin(dt=m["timestep"] if dt is None else dt, temperature=m["temperature"],
                         friction=m["friction"] if friction is None else friction, seed=seed)
        return Simulation(self.state, self.forcefield, integ, skin=skin)

    def __iter__(self):  # state, forcefield, metadata = system
        return iter((self.state, self.forcefield, self.metadata))


# ------------------------------------------------------------------------------------------------ helpers
def _valency(value, what, sign=None):
    z = float(value)
    if z != round(z) or z == 0:
        raise ValueError(f"{what} must be a non-zero integer, got {value}")
    z = int(round(z))
    if sign is not None and z < 0 < sign:  # a positive value is a magnitude; a negative one must fit
        raise ValueError(f"{what} = {value} has the wrong sign: expected {'positive' if sign > 0 else 'negative'} "
                         "(or give the magnitude)")
    return abs(z)


def _positive(value, what, unit):
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{what} must be positive ({unit}), got {value}")
    return v


def _diameters(ion_diameter, names):
    d = np.atleast_1d(np.asarray(ion_diameter, dtype=float))
    if d.shape == (1,):
        d = np.repeat(d, 2)
    if d.shape != (2,):
        raise ValueError(f"ion_diameter must be one value or two (for {names[0]} and {names[1]}), got {ion_diameter}")
    for v in d:
        _positive(v, "ion_diameter", "nm")
    return d


def _formula_units(concentration, volume_nm3, what):
    c = float(concentration)
    if not (np.isfinite(c) and c >= 0):
        raise ValueError(f"{what} must be >= 0 (mol/L), got {concentration}")
    exact = c * AVOGADRO * volume_nm3 * LITRE_PER_NM3
    n = int(round(exact))
    if c > 0 and n == 0:
        raise ValueError(f"{what} = {c:g} M gives {exact:.3g} formula units in the {volume_nm3:.4g} nm³ available: "
                         "the concentration does not fit the cell; use a larger cell or a higher concentration")
    return n


def _whole_number(x, what, hint):
    """``x`` rounded, if it is within 0.01 of a whole number (a charge mismatch below 1% of one ion)."""
    n = int(round(x))
    if abs(x - n) > 0.01:
        raise ValueError(f"the system cannot be electroneutral: {what} = {x:.6g} is not a whole number; {hint}")
    return n


def _check_packing(counts, diameters, volume, where):
    eta = float(np.sum(np.asarray(counts) * np.pi / 6.0 * np.asarray(diameters) ** 3)) / volume
    if eta > MAX_PACKING:
        raise ValueError(f"the ions do not fit {where}: their volume fraction would be {eta:.3f} "
                         f"(> {MAX_PACKING}); lower the concentration or the ion diameter, or enlarge the cell")
    return eta


def _insert(rng, counts, diameters, propose, minimum_image, where, max_tries=2000):
    """Random sequential insertion: ions of each species (counts, diameters in Å) at positions drawn by
    ``propose(rng, species, n)``, never closer than the mean diameter to one another."""
    total = int(sum(counts))
    x = np.empty((total, 3))
    dia = np.empty(total)
    placed = 0
    order = np.argsort(-np.asarray(diameters))  # large ions first
    for s in order:
        for _ in range(int(counts[s])):
            for _attempt in range(max_tries):
                trial = propose(rng, s, 16)
                if placed == 0:
                    ok = np.ones(len(trial), dtype=bool)
                else:
                    d = minimum_image(trial[:, None, :] - x[None, :placed, :])
                    dist2 = np.einsum("tkj,tkj->tk", d, d)
                    lim = 0.5 * (diameters[s] + dia[:placed])
                    ok = np.all(dist2 >= lim * lim, axis=1)
                if ok.any():
                    x[placed] = trial[int(np.argmax(ok))]
                    dia[placed] = diameters[s]
                    placed += 1
                    break
            else:
                raise ValueError(f"could not place ion {placed + 1} of {total} {where} without overlaps: "
                                 "the concentration does not fit; lower it or enlarge the cell")
    return x, order


def _time_scales(diameters_a, mass, kt, valencies, epsilon_r):
    """Suggested Langevin timestep (fs) and friction (1/fs): tau = d_min sqrt(m / kT); dt = tau / 100,
    divided by sqrt(z_max² l_B / d_min) when the strongest contact Coulomb energy exceeds kT; friction 1/tau.
    (Checked: 1:1 salt at 0.5 M in a 3 nm slit keeps its kinetic temperature within 2% of the target.)"""
    tau = float(min(diameters_a)) * np.sqrt(mass / kt) / _ase.fs
    lb = _ase.Hartree * _ase.Bohr / (epsilon_r * kt)  # Bjerrum length in Å
    zz = max(valencies) ** 2
    strength = max(1.0, zz * lb / float(min(diameters_a)))
    return tau / 100.0 / np.sqrt(strength), 1.0 / tau


# ------------------------------------------------------------------------------------------------ builders
def nanoparticle_system(radius=2.6775, charge=-60.0, salt_concentration=0.0, counterion_valency=1,
                        coion_valency=1, ion_diameter=0.357, epsilon_in=2.0, epsilon_out=78.5,
                        cell_radius=14.28, seed=None, *, temperature=298.15, n_grid=None, ion_mass=23.0):
    """A charged dielectric nanoparticle with its counterions and salt in a spherical cell.

    The particle is fixed at the origin: excluded volume :class:`~mdlearn.SphereBody`, charge and induced
    polarisation :class:`~mdlearn.DielectricSphere` (boundary elements). Ions interact by WCA and
    ``DirectCoulomb(epsilon_r=epsilon_out)`` and are kept in the cell by :class:`~mdlearn.SphericalCell`.
    Counterions carry the sign opposite to the particle's charge (positive for a neutral particle); there
    are |charge| / counterion_valency of them plus those of the salt.

    Parameters
    ----------
    radius : float
        Particle radius, nm.
    charge : float
        Particle charge, e; must be a multiple of the counterion valency (electroneutrality).
    salt_concentration : float
        Salt concentration, mol/L, in the volume between particle and cell wall (formula units; see the
        module docstring).
    counterion_valency, coion_valency : int
        Magnitudes (a signed value must have the right sign).
    ion_diameter : float or (float, float)
        nm; one value or (counterion, coion).
    epsilon_in, epsilon_out : float
        Relative permittivities of the particle and of the solvent.
    cell_radius : float
        Radius of the confining cell, nm.
    seed : int, optional
        Positions and velocities.
    temperature : float
        K.
    n_grid : int, optional
        Boundary elements on the particle. Default ``4π (2 a / d_min)²`` (a grid spacing equal to the
        smallest ion radius, the distance of closest approach), clipped to [300, 3000]; see the accuracy
        notes of :mod:`mdlearn.forces.dielectric`.
    ion_mass : float
        amu, all ions (static properties do not depend on it).

    Returns
    -------
    System
        Types ``"counterion"`` and ``"coion"`` (when there are coions); force terms ``"wca"``, ``"coulomb"``,
        ``"particle"``, ``"cell"`` and ``"particle_electrostatics"`` (charge and induced charge of the particle).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> system = mdl.build.nanoparticle_system(radius=1.0, charge=-10, salt_concentration=0.1,
    ...                                        ion_diameter=0.5, cell_radius=5.0, seed=1)
    >>> system.metadata["species"]["counterion"]["count"], system.metadata["species"]["coion"]["count"]
    (41, 31)
    """
    inputs = dict(radius=radius, charge=charge, salt_concentration=salt_concentration,
                  counterion_valency=counterion_valency, coion_valency=coion_valency, ion_diameter=ion_diameter,
                  epsilon_in=epsilon_in, epsilon_out=epsilon_out, cell_radius=cell_radius, seed=seed,
                  temperature=temperature, n_grid=n_grid, ion_mass=ion_mass)
    a = _positive(radius, "radius", "nm")
    big_r = _positive(cell_radius, "cell_radius", "nm")
    q = float(charge)
    if not np.isfinite(q):
        raise ValueError(f"charge must be finite (e), got {charge}")
    sign_c = -1 if q > 0 else 1
    z_c = _valency(counterion_valency, "counterion_valency", sign_c)
    z_co = _valency(coion_valency, "coion_valency", -sign_c)
    _positive(epsilon_in, "epsilon_in", "dimensionless")
    _positive(epsilon_out, "epsilon_out", "dimensionless")
    _positive(temperature, "temperature", "K")
    names = ["counterion", "coion"]
    d = _diameters(ion_diameter, names)
    margin = (WCA_RC - 0.5) * d  # beyond this distance from a contact surface the WCA walls are zero
    if big_r - a <= 2 * margin.max() + 0.1 * d.max():
        raise ValueError(f"the cell (radius {big_r:g} nm) leaves no room for ions of diameter {d.max():g} nm "
                         f"around the particle (radius {a:g} nm)")
    n_neutralising = _whole_number(abs(q) / z_c, "charge / counterion_valency",
                                   f"the particle charge {q:g} e needs counterions of valency dividing it")
    q = float(np.copysign(n_neutralising * z_c, q)) if q != 0 else 0.0
    volume = 4.0 / 3.0 * np.pi * (big_r**3 - a**3)
    units_salt = _formula_units(salt_concentration, volume, "salt_concentration")
    g = gcd(z_c, z_co)
    counts = np.array([n_neutralising + units_salt * z_co // g, units_salt * z_c // g])
    if counts.sum() == 0:
        raise ValueError("an uncharged particle without salt has no ions; give a charge or a salt concentration")
    if counts.sum() > 20000:
        raise ValueError(f"{counts.sum()} ions is more than this builder places (20000); use a smaller cell")
    _check_packing(counts, d, volume, f"in the cell between radii {a:g} and {big_r:g} nm")
    valency = np.array([sign_c * z_c, -sign_c * z_co])
    if abs(q + float(counts @ valency)) > 1e-9:
        raise AssertionError("internal error: the system is not neutral")

    rng = np.random.default_rng(seed)
    d_a, a_a, r_a = d * NM, a * NM, big_r * NM

    def propose(rng, s, n):
        lo, hi = a_a + margin[s] * NM, r_a - margin[s] * NM
        r = np.cbrt(lo**3 + rng.random(n) * (hi**3 - lo**3))
        u = rng.standard_normal((n, 3))
        return u / np.linalg.norm(u, axis=1)[:, None] * r[:, None]

    x, order = _insert(rng, counts, d_a, propose, lambda v: v, "in the cell")
    kinds = np.concatenate([np.full(counts[s], s) for s in order])
    present = [s for s in (0, 1) if counts[s] > 0]
    types = [names[s] for s in kinds]
    state = State(x, box=None, pbc=False, types=types, masses=float(ion_mass),
                  charges=valency[kinds].astype(float), units="real")
    state.set_temperature(float(temperature), seed=rng)

    kt = state.units.boltzmann * float(temperature)
    sig = {names[s]: float(d_a[s]) for s in present}
    if n_grid is None:
        n_grid = int(np.clip(4 * np.pi * (2 * a / d.min()) ** 2, 300, 3000))
    ff = ForceField([
        WCA(epsilon=kt, sigma=sig, name="wca"),
        DirectCoulomb(epsilon_r=float(epsilon_out), name="coulomb"),
        SphereBody(a_a, sigma=sig, epsilon=kt, name="particle"),
        SphericalCell(r_a, sigma=sig, epsilon=kt, name="cell"),
        DielectricSphere(a_a, float(epsilon_in), float(epsilon_out), charge=q, n_grid=int(n_grid),
                         name="particle_electrostatics"),
    ])
    ff.attach(state)
    dt, gamma = _time_scales(d_a[present], float(ion_mass), kt, np.abs(valency[present]).tolist(),
                             float(epsilon_out))
    meta = {
        "geometry": "sphere", "units": "real", "temperature": float(temperature), "kT": kt,
        "species": {names[s]: {"valency": int(valency[s]), "diameter": float(d_a[s]), "count": int(counts[s])}
                    for s in present},
        "salt_units": units_salt,
        "concentration": units_salt / (AVOGADRO * volume * LITRE_PER_NM3),
        "contact": {names[s]: float(a_a + 0.5 * d_a[s]) for s in present},
        "center": (0.0, 0.0, 0.0), "radius": a_a, "cell_radius": r_a, "mid": 0.5 * (a_a + r_a),
        "charge": q, "epsilon_in": float(epsilon_in), "epsilon_out": float(epsilon_out), "n_grid": int(n_grid),
        "timestep": dt, "friction": gamma, "inputs": inputs,
    }
    return System(state, ff, meta)


def confined_electrolyte(h=3.0, z_pos=1, z_neg=-1, concentration=0.5, ion_diameter=0.714,
                         surface_charge_density=0.0, lateral_size=8.0, seed=None, *, temperature=298.15,
                         epsilon_r=78.5, ion_mass=23.0, ewald_accuracy=1e-5, slab_factor=3.0):
    """A salt between two planar walls a distance ``h`` apart, periodic along x and y (the primitive model of
    Kadupitiya, Fox and Jadhao's nanoconfinement study).

    Walls at z = 0 and z = h: :class:`~mdlearn.PlanarWalls`, shifted-WCA contact with σ = d and offset d/2
    per ion (U = k_B T when an ion touches the wall plane, zero beyond (2^(1/6) − 1/2) d from it). Ions: WCA (ε = k_B T, σ_ij = d_ij) and slab Ewald electrostatics
    (:class:`~mdlearn.Ewald` with ``slab=True``: Yeh–Berkowitz correction, padded cell ``slab_factor * h``).

    Parameters
    ----------
    h : float
        Wall separation, nm.
    z_pos, z_neg : int
        Valencies of the cation and the anion (z_neg negative, or its magnitude).
    concentration : float
        Salt concentration, mol/L, in the volume lateral_size² · h (formula units; module docstring).
    ion_diameter : float or (float, float)
        nm; one value or (cation, anion).
    surface_charge_density : float
        C/m², on each wall (uniform sheets in the wall planes, ``Ewald(surface_charge=...)``). Counterions
        are added so that ions and walls are neutral together; ``2 sigma lateral_size²`` must be a whole
        number of counterion charges (the error names the nearest values that are).
    lateral_size : float
        Box length along x and y, nm.
    seed : int, optional
    temperature : float
        K.
    epsilon_r : float
        Relative permittivity of the solvent (78.5 for water at 298 K; the published study used 80).
    ion_mass : float
        amu.
    ewald_accuracy : float
        Relative RMS force accuracy of the Ewald sum.
    slab_factor : float
        Padded z length of the Ewald cell over h.

    Returns
    -------
    System
        Types ``"cation"`` and ``"anion"``; force terms ``"wca"``, ``"coulomb"`` and ``"walls"``.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> system = mdl.build.confined_electrolyte(h=3.0, concentration=0.5, ion_diameter=0.714, lateral_size=6.0,
    ...                                         seed=1)
    >>> system.metadata["species"]["cation"]["count"]
    33
    """
    inputs = dict(h=h, z_pos=z_pos, z_neg=z_neg, concentration=concentration, ion_diameter=ion_diameter,
                  surface_charge_density=surface_charge_density, lateral_size=lateral_size, seed=seed,
                  temperature=temperature, epsilon_r=epsilon_r, ion_mass=ion_mass, ewald_accuracy=ewald_accuracy,
                  slab_factor=slab_factor)
    hh = _positive(h, "h", "nm")
    length = _positive(lateral_size, "lateral_size", "nm")
    zp = _valency(z_pos, "z_pos", +1)
    zn = _valency(z_neg, "z_neg", -1)
    _positive(temperature, "temperature", "K")
    _positive(epsilon_r, "epsilon_r", "dimensionless")
    names = ["cation", "anion"]
    d = _diameters(ion_diameter, names)
    margin = (WCA_RC - 0.5) * d  # the walls' shifted WCA ends this far from the plane
    if hh <= 2 * margin.max() + 0.1 * d.max():
        raise ValueError(f"the slit (h = {hh:g} nm) is too narrow for ions of diameter {d.max():g} nm")
    sigma_s = float(surface_charge_density)
    if not np.isfinite(sigma_s):
        raise ValueError(f"surface_charge_density must be finite (C/m²), got {surface_charge_density}")
    area = length * length
    wall_charge = 2.0 * sigma_s * area * 1e-18 / ELEMENTARY_CHARGE  # both walls, in e
    counter = 0 if wall_charge < 0 else 1  # cations neutralise negative walls
    z_counter = zp if counter == 0 else zn
    per_ion = z_counter * ELEMENTARY_CHARGE / (2.0 * area * 1e-18)  # C/m² per counterion
    lo = np.floor(abs(wall_charge) / z_counter)
    n_counter = _whole_number(abs(wall_charge) / z_counter, "the walls' charge / counterion valency",
                              f"the two walls carry 2 sigma L^2 = {wall_charge:.4g} e, not a multiple of {z_counter} e; "
                              f"the nearest neutral choices at this lateral_size are surface_charge_density = "
                              f"{np.copysign(lo * per_ion, sigma_s):.5g} or {np.copysign((lo + 1) * per_ion, sigma_s):.5g} "
                              "C/m²")
    if sigma_s != 0.0:  # the charge that whole counterions neutralise
        sigma_s = float(np.copysign(n_counter * per_ion, sigma_s))
        wall_charge = float(np.copysign(n_counter * z_counter, wall_charge))
    volume = area * hh
    units_salt = _formula_units(concentration, volume, "concentration")
    g = gcd(zp, zn)
    counts = np.array([units_salt * zn // g, units_salt * zp // g])
    counts[counter] += n_counter
    if counts.sum() == 0:
        raise ValueError("no ions: give a concentration or a surface charge")
    _check_packing(counts, d, area * (hh - d.max()), f"in the {hh:g} nm slit")
    valency = np.array([zp, -zn])
    if abs(wall_charge + float(counts @ valency)) > 1e-6:
        raise AssertionError("internal error: the system is not neutral")

    rng = np.random.default_rng(seed)
    d_a, h_a, l_a = d * NM, hh * NM, length * NM

    def propose(rng, s, n):
        lo, hi = margin[s] * NM, h_a - margin[s] * NM
        return np.column_stack([rng.random(n) * l_a, rng.random(n) * l_a, lo + rng.random(n) * (hi - lo)])

    def minimum_image(v):
        v[..., :2] -= l_a * np.round(v[..., :2] / l_a)
        return v

    x, order = _insert(rng, counts, d_a, propose, minimum_image, "in the slit")
    kinds = np.concatenate([np.full(counts[s], s) for s in order])
    present = [s for s in (0, 1) if counts[s] > 0]
    state = State(x, box=[l_a, l_a, h_a], pbc=(True, True, False), types=[names[s] for s in kinds],
                  masses=float(ion_mass), charges=valency[kinds].astype(float), units="real")
    state.set_temperature(float(temperature), seed=rng)
    kt = state.units.boltzmann * float(temperature)
    sig = {names[s]: float(d_a[s]) for s in present}
    ff = ForceField([
        WCA(epsilon=kt, sigma=sig, name="wca"),
        Ewald(accuracy=ewald_accuracy, epsilon_r=float(epsilon_r), slab=True, slab_factor=slab_factor,
              surface_charge=sigma_s / ELEMENTARY_CHARGE * 1e-20 if sigma_s else None, name="coulomb"),
        PlanarWalls(0.0, h_a, sigma=sig, epsilon=kt, kind="wca", offset={k: 0.5 * v for k, v in sig.items()},
                    name="walls"),
    ])
    ff.attach(state)
    dt, gamma = _time_scales(d_a[present], float(ion_mass), kt, np.abs(valency[present]).tolist(), float(epsilon_r))
    meta = {
        "geometry": "slab", "units": "real", "temperature": float(temperature), "kT": kt,
        "species": {names[s]: {"valency": int(valency[s]), "diameter": float(d_a[s]), "count": int(counts[s])}
                    for s in present},
        "salt_units": units_salt,
        "concentration": units_salt / (AVOGADRO * volume * LITRE_PER_NM3),
        "contact": {names[s]: float(0.5 * h_a - 0.5 * d_a[s]) for s in present},
        "z_lo": 0.0, "z_hi": h_a, "h": h_a, "area": l_a * l_a, "surface_charge_density": sigma_s,
        "epsilon_r": float(epsilon_r), "timestep": dt, "friction": gamma, "inputs": inputs,
    }
    return System(state, ff, meta)
