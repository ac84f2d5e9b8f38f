"""Tests of the reference Lennard-Jones equation of state in ``tests/lj_eos.py``.

Three kinds of checks:

1. Published numbers that did not come from this code:
   * NIST Standard Reference Simulation Website (SRSW), "Lennard-Jones Fluid Properties", page
     "MC: NVT Monte Carlo results" (T* = 0.85 and 0.90; N = 500, LJ truncated at 3 sigma with analytic
     long-range corrections), https://www.nist.gov/mml/csd/chemical-informatics-group/lennard-jones-fluid-properties
   * the critical point of the EOS quoted by Johnson, Zollweg & Gubbins, Mol. Phys. 78, 591 (1993):
     T_c = 1.313, rho_c = 0.310;
   * single-point values of the same EOS computed independently by S. Stephan (used as reference values
     in the test-suite of NIST's teqp library, src/tests/catch_test_LJmodels.cxx).
2. Physics independent of the fit: the EOS second virial coefficient against the exact B_2(T) of the
   LJ potential from numerical quadrature.
3. Thermodynamic consistency of A, P, U and mu by finite differences (tight tolerances).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location("lj_eos", Path(__file__).with_name("lj_eos.py"))
eos = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eos)


# --------------------------------------------------------------------------------------------------
# 1. Published reference values
# --------------------------------------------------------------------------------------------------

# NIST SRSW MC NVT results: (T, rho, U/N, P).  Reported MC uncertainties are ~1e-3 or smaller in U/N
# and of order 1e-3 in P for the liquid points.
NIST_MC_LIQUID = [
    (0.85, 0.776, -5.5121, 6.7714e-03),
    (0.85, 0.780, -5.5386, 4.7924e-02),
    (0.85, 0.820, -5.7947, 5.5355e-01),
    (0.85, 0.860, -6.0305, 1.2660e00),
    (0.85, 0.900, -6.2391, 2.2314e00),
    (0.90, 0.776, -5.4689, 2.4056e-01),
    (0.90, 0.780, -5.4956, 2.7851e-01),
    (0.90, 0.820, -5.7456, 8.2386e-01),
    (0.90, 0.860, -5.9753, 1.5781e00),
    (0.90, 0.900, -6.1773, 2.5848e00),
]
NIST_MC_VAPOR = [
    (0.85, 0.001, -1.0317e-02, 8.4402e-04),
    (0.85, 0.003, -3.1019e-02, 2.4965e-03),
    (0.85, 0.005, -5.1901e-02, 4.1003e-03),
    (0.85, 0.007, -7.2834e-02, 5.6565e-03),
    (0.85, 0.009, -9.3973e-02, 7.1641e-03),
    (0.90, 0.001, -9.9165e-03, 8.9429e-04),
    (0.90, 0.003, -2.9787e-02, 2.6485e-03),
    (0.90, 0.005, -4.9771e-02, 4.3569e-03),
    (0.90, 0.007, -6.9805e-02, 6.0193e-03),
    (0.90, 0.009, -8.9936e-02, 7.6363e-03),
]

# Tolerances: MBWR fit error plus the MC statistical error plus the small difference between the
# 3-sigma-truncated + LRC model and the full potential.  Observed maximum deviations are |dU| = 0.016
# and |dP| = 0.013 (liquid), 0.7 % in U and 0.1 % in P (vapour), so these bounds leave a margin of
# about 2 only.  (Checked by mutation: a +1 % change of any one of the 32 x_i makes at least one test in
# this file fail, usually 10 or more.)
LIQUID_U_ABS_TOL = 0.03  # eps, i.e. ~0.5 % of U
LIQUID_P_ABS_TOL = 0.025  # eps / sigma^3
VAPOR_U_REL_TOL = 0.015
VAPOR_P_REL_TOL = 0.005


@pytest.mark.parametrize(("T", "rho", "u_ref", "p_ref"), NIST_MC_LIQUID)
def test_nist_srsw_liquid(T, rho, u_ref, p_ref):
    assert eos.internal_energy(T, rho) == pytest.approx(u_ref, abs=LIQUID_U_ABS_TOL)
    assert eos.pressure(T, rho) == pytest.approx(p_ref, abs=LIQUID_P_ABS_TOL)


@pytest.mark.parametrize(("T", "rho", "u_ref", "p_ref"), NIST_MC_VAPOR)
def test_nist_srsw_vapor(T, rho, u_ref, p_ref):
    assert eos.internal_energy(T, rho) == pytest.approx(u_ref, rel=VAPOR_U_REL_TOL)
    assert eos.pressure(T, rho) == pytest.approx(p_ref, rel=VAPOR_P_REL_TOL)


def test_nist_srsw_liquid_no_systematic_bias():
    """The mean deviation over the 10 liquid points must be much smaller than the per-point bound."""
    du = [eos.internal_energy(T, r) - u for T, r, u, _ in NIST_MC_LIQUID]
    dp = [eos.pressure(T, r) - p for T, r, _, p in NIST_MC_LIQUID]
    assert abs(np.mean(du)) < 0.01
    assert abs(np.mean(dp)) < 0.01


def _dpdrho(T, rho, h=1e-4):
    return (eos.pressure(T, rho + h) - eos.pressure(T, rho - h)) / (2.0 * h)


def _min_dpdrho(T):
    """Minimum over rho of dP/drho at fixed T (golden-section search around rho ~ 0.31)."""
    lo, hi = 0.20, 0.45
    g = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    while hi - lo > 1e-7:
        if _dpdrho(T, c) < _dpdrho(T, d):
            hi, d = d, c
            c = hi - g * (hi - lo)
        else:
            lo, c = c, d
            d = lo + g * (hi - lo)
    rho = 0.5 * (lo + hi)
    return _dpdrho(T, rho), rho


def test_critical_point_matches_johnson_1993():
    """T_c is where the minimum of dP/drho along the isotherm touches zero (Johnson et al.: 1.313, 0.310)."""
    t_lo, t_hi = 1.2, 1.4
    assert _min_dpdrho(t_lo)[0] < 0.0 < _min_dpdrho(t_hi)[0]
    while t_hi - t_lo > 1e-6:
        t_mid = 0.5 * (t_lo + t_hi)
        if _min_dpdrho(t_mid)[0] < 0.0:
            t_lo = t_mid
        else:
            t_hi = t_mid
    tc = 0.5 * (t_lo + t_hi)
    rhoc = _min_dpdrho(tc)[1]
    assert tc == pytest.approx(1.313, abs=5e-4)
    assert rhoc == pytest.approx(0.310, abs=2e-3)
    assert eos.pressure(tc, rhoc) == pytest.approx(0.13, abs=0.005)


def test_independent_implementation_values():
    """Values of the same EOS computed by S. Stephan (reference values in teqp's test-suite)."""
    assert eos.second_virial_coefficient(0.8) == pytest.approx(-7.821026827, abs=1e-8)
    assert eos.free_energy_residual(1.35, 0.6) / 1.35 == pytest.approx(-1.237403479, abs=1e-8)


# --------------------------------------------------------------------------------------------------
# 2. Exact second virial coefficient of the LJ potential
# --------------------------------------------------------------------------------------------------


def _exact_b2(T):
    """B_2(T) = -2 pi int_0^inf (exp(-u(r)/T) - 1) r^2 dr for u = 4 (r^-12 - r^-6)."""
    r0, r1 = 0.4, 12.0  # exp(-u/T) < 1e-100 below r0 for the T used here
    r = np.linspace(r0, r1, 400_001)
    u = 4.0 * (r**-12 - r**-6)
    f = np.expm1(-u / T) * r**2
    integral = np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(r))
    core = -(r0**3) / 3.0  # exp(-u/T) = 0 inside r0
    tail = 4.0 / (3.0 * T * r1**3)  # exp(-u/T) - 1 ~ -u/T ~ 4 r^-6 / T beyond r1
    return -2.0 * np.pi * (core + integral + tail)


@pytest.mark.parametrize("T", [0.7, 0.8, 1.0, 1.3, 2.0, 3.0, 4.0, 6.0])
def test_second_virial_coefficient_against_exact(T):
    # The fit reproduces the exact B_2 to ~1e-3 sigma^3 over the whole fitted range.
    assert eos.second_virial_coefficient(T) == pytest.approx(_exact_b2(T), abs=2.5e-3)


def test_exact_b2_quadrature_sanity():
    # Boyle temperature of the LJ fluid is T_B ~ 3.42: B_2 changes sign between 3.4 and 3.45.
    assert _exact_b2(3.4) < 0.0 < _exact_b2(3.45)


# --------------------------------------------------------------------------------------------------
# 3. Thermodynamic consistency
# --------------------------------------------------------------------------------------------------

# Fourth-order central differences with h = 1e-3: truncation error ~1e-12, round-off up to ~3e-9 (the
# individual MBWR terms reach ~1e3 and cancel).  A wrong c_i/d_i coefficient or a missing term shows up
# at the 1e-3 level or above.
FD_REL = 1e-8
FD_ABS = 1e-8


def _deriv(f, x, h):
    """Five-point (fourth-order) central-difference derivative."""
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


STATES = [(T, rho) for T in (0.75, 1.0, 1.5, 2.5, 5.0) for rho in (0.05, 0.3, 0.6, 0.85, 1.0)]


@pytest.mark.parametrize(("T", "rho"), STATES)
def test_pressure_is_density_derivative_of_free_energy(T, rho):
    dadrho = _deriv(lambda r: eos.free_energy_residual(T, r), rho, 1e-3)
    p_from_a = rho * T + rho**2 * dadrho
    assert eos.pressure(T, rho) == pytest.approx(p_from_a, rel=FD_REL, abs=FD_ABS)


@pytest.mark.parametrize(("T", "rho"), STATES)
def test_energy_is_inverse_temperature_derivative_of_free_energy(T, rho):
    # U/N = d(A/(N T)) / d(1/T) = -T^2 d(A/(N T))/dT
    u_from_a = -(T**2) * _deriv(lambda t: eos.free_energy_residual(t, rho) / t, T, 1e-3 * T)
    assert eos.internal_energy(T, rho) == pytest.approx(u_from_a, rel=FD_REL, abs=FD_ABS)


@pytest.mark.parametrize(("T", "rho"), STATES)
def test_chemical_potential_is_derivative_of_free_energy_density(T, rho):
    # mu_res = d(rho A_res/N)/d rho at fixed T
    mu_from_a = _deriv(lambda r: r * eos.free_energy_residual(T, r), rho, 1e-3)
    assert eos.chemical_potential_residual(T, rho) == pytest.approx(mu_from_a, rel=FD_REL, abs=FD_ABS)


def test_ideal_gas_limit():
    for T in (0.8, 1.5, 4.0):
        assert eos.free_energy_residual(T, 0.0) == 0.0
        assert eos.internal_energy(T, 0.0) == 0.0
        assert eos.compressibility_factor(T, 1e-9) == pytest.approx(1.0, abs=1e-8)


def test_array_input_matches_scalar():
    T = np.array([0.9, 1.2, 2.0])
    rho = np.array([0.82, 0.5, 0.8])
    p = eos.pressure(T, rho)
    u = eos.internal_energy(T, rho)
    assert isinstance(p, np.ndarray) and p.shape == (3,)
    for i in range(3):
        assert p[i] == eos.pressure(float(T[i]), float(rho[i]))
        assert u[i] == eos.internal_energy(float(T[i]), float(rho[i]))


def test_tail_corrections():
    # Closed forms against direct quadrature of 2 pi rho int u r^2 and -(2 pi/3) rho^2 int r^3 u'.
    # Integrate in s = 1/r over (0, 1/rc]: dr = -ds/s^2, so both integrands become polynomials in s.
    rho, rc = 0.8, 2.5
    s = np.linspace(0.0, 1.0 / rc, 20_001)
    u_r2 = 4.0 * (s**8 - s**2)  # u(r) r^2 dr -> 4 (s^8 - s^2) ds
    r3_du = 4.0 * (-12.0 * s**8 + 6.0 * s**2)  # r^3 u'(r) dr -> 4 (-12 s^8 + 6 s^2) ds

    def simpson(y):
        h = s[1] - s[0]
        return h / 3.0 * (y[0] + y[-1] + 4.0 * y[1:-1:2].sum() + 2.0 * y[2:-1:2].sum())

    u_tail, p_tail = eos.tail_corrections(rho, rc)
    assert u_tail == pytest.approx(2 * np.pi * rho * simpson(u_r2), rel=1e-10)
    assert p_tail == pytest.approx(-2 * np.pi / 3 * rho**2 * simpson(r3_du), rel=1e-10)
    assert u_tail == pytest.approx(-0.4283, abs=1e-4)
    assert p_tail == pytest.approx(-0.6844, abs=1e-4)


def test_rejects_unphysical_input():
    with pytest.raises(ValueError):
        eos.pressure(-1.0, 0.5)
    with pytest.raises(ValueError):
        eos.internal_energy(1.0, -0.1)
