"""Reference equation of state of the full Lennard-Jones fluid (Johnson, Zollweg & Gubbins 1993).

This module is a small, dependency-light (NumPy only) reference used by the test-suite to check the
thermodynamics produced by the MD engine.  It implements the modified Benedict-Webb-Rubin (MBWR)
equation of state of

    J. K. Johnson, J. A. Zollweg and K. E. Gubbins,
    "The Lennard-Jones equation of state revisited",
    Mol. Phys. 78 (3), 591-618 (1993), doi:10.1080/00268979300100411.

for the *full, untruncated* 12-6 potential u(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6].

Everything is in reduced Lennard-Jones units (eps = sigma = k_B = 1):
``T`` = k_B T / eps, ``rho`` = N sigma^3 / V, pressures in eps / sigma^3, energies per particle in eps.

Functional form (equation numbers / table numbers of the paper)
---------------------------------------------------------------
With F = exp(-gamma rho^2), gamma = 3:

* residual (excess over ideal gas) Helmholtz energy per particle, eq. (5)::

      A_res/N = sum_{i=1..8} a_i(T) rho^i / i  +  sum_{i=1..6} b_i(T) G_i(rho)

* pressure, eq. (7)::

      P = rho T + sum_{i=1..8} a_i(T) rho^(i+1)  +  F sum_{i=1..6} b_i(T) rho^(2i+1)

* configurational (potential) energy per particle, eq. (9)::

      U/N = sum_{i=1..8} c_i(T) rho^i / i  +  sum_{i=1..6} d_i(T) G_i(rho)

  where c_i = a_i - T da_i/dT and d_i = b_i - T db_i/dT, i.e. U = d(A/T)/d(1/T).

* G_i(rho) (Table 7), obtained by integrating F rho^(2i-1) from 0 to rho::

      G_1 = (1 - F) / (2 gamma)
      G_i = -(F rho^(2(i-1)) - 2 (i-1) G_{i-1}) / (2 gamma),   i = 2..6

* a_i(T) (Table 5), b_i(T) (Table 6), c_i(T) (Table 8), d_i(T) (Table 9): see ``_a_coeffs``,
  ``_b_coeffs``, ``_c_coeffs`` and ``_d_coeffs`` below.

* the 32 fitted parameters x_1..x_32 are those of Table 10 of the paper.

Sources and cross-checks of the parameters
------------------------------------------
The x_i values below were transcribed and compared digit by digit across independent public
implementations that each cite Table 10 of Johnson et al. (1993): NIST's ``teqp`` library
(usnistgov/teqp, include/teqp/models/mie/lennardjones/johnson.hpp), a C implementation in a
Lennard-Jones MC/MD code (function ``lj_eos3d``) and a Python classical-DFT code
(``ModifiedBenedictWebbRubinEOS``); all 32 values agree to every printed digit.  The functional
forms (Tables 5-9) agree among those sources too.  No code was copied; the equations are
re-written here from the published formulae.

Verification (see tests/test_lj_eos.py)
---------------------------------------
* critical point of this EOS: T_c = 1.313, rho_c = 0.310, as quoted by Johnson et al. (1993);
* low-density limit: B_2(T) = a_1(T)/T against the exact second virial coefficient of the LJ potential
  (numerical quadrature, independent of the EOS);
* NIST Standard Reference Simulation Website (SRSW) Monte Carlo NVT data for the LJ fluid (N = 500,
  r_c = 3 sigma with analytic long-range corrections), T = 0.85 and 0.90;
* thermodynamic consistency: P = rho^2 d(A/N)/d rho and U = d(A/T)/d(1/T) by finite differences.

Accuracy and range
------------------
The EOS was fitted to simulation data for fluid states, roughly 0.7 <= T <= 6 and rho <= 1.2; do not
use it in the solid or deep in metastable/unstable regions, and expect it to be least reliable near
the critical point (the MBWR form is not flat enough there).  Measured by the tests against the NIST
SRSW liquid data at T = 0.85-0.90 (rho = 0.776-0.9), the deviations are at most 0.016 eps in U/N
(0.3 %) and 0.013 eps/sigma^3 in P, which also bounds the (small) difference between the NIST model,
truncated at 3 sigma with long-range corrections, and the full potential described here.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "GAMMA",
    "X",
    "chemical_potential_residual",
    "compressibility_factor",
    "free_energy_residual",
    "internal_energy",
    "pressure",
    "second_virial_coefficient",
    "tail_corrections",
]

#: Range parameter of the exponential (Gaussian-in-rho) terms, gamma = 3 (Johnson et al. 1993).
GAMMA = 3.0

#: Fitted MBWR parameters x_1 .. x_32 (Table 10 of Johnson et al. 1993). ``X[0]`` is x_1.
X = (
    0.8623085097507421,
    2.976218765822098,
    -8.402230115796038,
    0.1054136629203555,
    -0.8564583828174598,
    1.582759470107601,
    0.7639421948305453,
    1.753173414312048,
    2.798291772190376e3,
    -4.8394220260857657e-2,
    0.9963265197721935,
    -3.698000291272493e1,
    2.084012299434647e1,
    8.305402124717285e1,
    -9.574799715203068e2,
    -1.477746229234994e2,
    6.398607852471505e1,
    1.603993673294834e1,
    6.805916615864377e1,
    -2.791293578795945e3,
    -6.245128304568454,
    -8.116836104958410e3,
    1.488735559561229e1,
    -1.059346754655084e4,
    -1.131607632802822e2,
    -8.867771540418822e3,
    -3.986982844450543e1,
    -4.689270299917261e3,
    2.593535277438717e2,
    -2.694523589434903e3,
    -7.218487631550215e2,
    1.721802063863269e2,
)


def _x(i: int) -> float:
    """Parameter x_i with the 1-based numbering of the paper."""
    return X[i - 1]


def _a_coeffs(T):
    """a_1..a_8 as functions of temperature (Table 5)."""
    x = _x
    return (
        x(1) * T + x(2) * np.sqrt(T) + x(3) + x(4) / T + x(5) / T**2,
        x(6) * T + x(7) + x(8) / T + x(9) / T**2,
        x(10) * T + x(11) + x(12) / T,
        x(13) + 0.0 * T,
        x(14) / T + x(15) / T**2,
        x(16) / T,
        x(17) / T + x(18) / T**2,
        x(19) / T**2,
    )


def _b_coeffs(T):
    """b_1..b_6 as functions of temperature (Table 6)."""
    x = _x
    return (
        x(20) / T**2 + x(21) / T**3,
        x(22) / T**2 + x(23) / T**4,
        x(24) / T**2 + x(25) / T**3,
        x(26) / T**2 + x(27) / T**4,
        x(28) / T**2 + x(29) / T**3,
        x(30) / T**2 + x(31) / T**3 + x(32) / T**4,
    )


def _c_coeffs(T):
    """c_1..c_8 for the internal energy (Table 8); c_i = a_i - T da_i/dT."""
    x = _x
    return (
        x(2) * np.sqrt(T) / 2.0 + x(3) + 2.0 * x(4) / T + 3.0 * x(5) / T**2,
        x(7) + 2.0 * x(8) / T + 3.0 * x(9) / T**2,
        x(11) + 2.0 * x(12) / T,
        x(13) + 0.0 * T,
        2.0 * x(14) / T + 3.0 * x(15) / T**2,
        2.0 * x(16) / T,
        2.0 * x(17) / T + 3.0 * x(18) / T**2,
        3.0 * x(19) / T**2,
    )


def _d_coeffs(T):
    """d_1..d_6 for the internal energy (Table 9); d_i = b_i - T db_i/dT."""
    x = _x
    return (
        3.0 * x(20) / T**2 + 4.0 * x(21) / T**3,
        3.0 * x(22) / T**2 + 5.0 * x(23) / T**4,
        3.0 * x(24) / T**2 + 4.0 * x(25) / T**3,
        3.0 * x(26) / T**2 + 5.0 * x(27) / T**4,
        3.0 * x(28) / T**2 + 4.0 * x(29) / T**3,
        3.0 * x(30) / T**2 + 4.0 * x(31) / T**3 + 5.0 * x(32) / T**4,
    )


def _g_functions(rho):
    """G_1..G_6 (Table 7): G_i = int_0^rho F(r) r^(2i-1) dr with F = exp(-gamma r^2)."""
    F = np.exp(-GAMMA * rho**2)
    g = [(1.0 - F) / (2.0 * GAMMA)]
    for i in range(2, 7):
        g.append(-(F * rho ** (2 * (i - 1)) - 2.0 * (i - 1) * g[-1]) / (2.0 * GAMMA))
    return g


def _as_float(T, rho):
    T = np.asarray(T, dtype=float)
    rho = np.asarray(rho, dtype=float)
    if np.any(T <= 0.0):
        raise ValueError("reduced temperature must be positive")
    if np.any(rho < 0.0):
        raise ValueError("reduced density must be non-negative")
    return T, rho


def _result(value):
    """Return a Python float for scalar input, an ndarray otherwise."""
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value


def free_energy_residual(T, rho):
    """Residual Helmholtz energy per particle, A_res/(N eps) = (A - A_ideal)/(N eps), eq. (5)."""
    T, rho = _as_float(T, rho)
    a = _a_coeffs(T)
    b = _b_coeffs(T)
    g = _g_functions(rho)
    out = sum(a[i] * rho ** (i + 1) / (i + 1) for i in range(8))
    out = out + sum(b[i] * g[i] for i in range(6))
    return _result(out)


def pressure(T, rho):
    """Reduced pressure P sigma^3/eps of the full LJ fluid, eq. (7)."""
    T, rho = _as_float(T, rho)
    a = _a_coeffs(T)
    b = _b_coeffs(T)
    F = np.exp(-GAMMA * rho**2)
    out = rho * T + sum(a[i] * rho ** (i + 2) for i in range(8))
    out = out + F * sum(b[i] * rho ** (2 * i + 3) for i in range(6))
    return _result(out)


def internal_energy(T, rho):
    """Configurational (potential) energy per particle U/(N eps) of the full LJ fluid, eq. (9).

    This excludes the kinetic energy 3T/2; it is the quantity to compare with the time-averaged
    potential energy per particle of an MD run (after adding the tail correction if the run used a
    cutoff).
    """
    T, rho = _as_float(T, rho)
    c = _c_coeffs(T)
    d = _d_coeffs(T)
    g = _g_functions(rho)
    out = sum(c[i] * rho ** (i + 1) / (i + 1) for i in range(8))
    out = out + sum(d[i] * g[i] for i in range(6))
    return _result(out)


def compressibility_factor(T, rho):
    """Z = P / (rho T)."""
    T, rho = _as_float(T, rho)
    return _result(np.asarray(pressure(T, rho)) / (rho * T))


def chemical_potential_residual(T, rho):
    """Residual chemical potential per particle, mu_res = A_res/N + P/rho - T (eq. 10 of the paper)."""
    T, rho = _as_float(T, rho)
    return _result(np.asarray(free_energy_residual(T, rho)) + np.asarray(pressure(T, rho)) / rho - T)


def second_virial_coefficient(T):
    """Second virial coefficient implied by the EOS, B_2(T) = a_1(T)/T, in units of sigma^3.

    Only the a_1 term contributes at order rho^2 in P (the exponential terms start at rho^3).
    """
    T = np.asarray(T, dtype=float)
    return _result(_a_coeffs(T)[0] / T)


def tail_corrections(rho, rc):
    """Standard LJ long-range corrections for a cutoff ``rc`` assuming g(r) = 1 beyond ``rc``.

    Returns ``(u_tail, p_tail)``:

    * u_tail = (8/3) pi rho [ (1/3) rc^-9 - rc^-3 ]   (energy per particle)
    * p_tail = (16/3) pi rho^2 [ (2/3) rc^-9 - rc^-3 ]  (pressure)

    (e.g. Allen & Tildesley, *Computer Simulation of Liquids*).  ``p_tail`` is the correction to be
    added to the virial pressure of a simulation whose *forces* are truncated at rc (with or without
    an energy shift); ``u_tail`` is to be added to the *unshifted* truncated potential energy.
    """
    rho = np.asarray(rho, dtype=float)
    inv3 = rc**-3.0
    inv9 = rc**-9.0
    u_tail = 8.0 / 3.0 * np.pi * rho * (inv9 / 3.0 - inv3)
    p_tail = 16.0 / 3.0 * np.pi * rho**2 * (2.0 * inv9 / 3.0 - inv3)
    return _result(u_tail), _result(p_tail)
