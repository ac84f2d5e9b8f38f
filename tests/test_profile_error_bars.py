"""The block error bars of density-profile scalars against a correlated series whose variance of the mean is
known exactly: N independent particles in a slab, each keeping its position from one frame to the next with
probability φ and otherwise redrawing it uniformly. The number of particles in a region then has the
autocorrelation φ^t of an AR(1) series, so the variance of its mean over F frames is
σ²/F · [(1 + φ)/(1 − φ) − 2φ(1 − φ^F) / (F (1 − φ)²)] with σ² = N p (1 − p)."""
import numpy as np
import pytest

import mdlearn as mdl

N, L, F, PHI, RUNS = 40, 10.0, 2000, 0.9, 40


def exact_sd_of_mean(p, volume):
    var = N * p * (1 - p) / volume**2
    g = (1 + PHI) / (1 - PHI) - 2 * PHI * (1 - PHI**F) / (F * (1 - PHI) ** 2)
    return np.sqrt(var / F * g)


def one_run(rng, blocks):
    prof = mdl.analysis.SlabProfile(z_lo=0.0, z_hi=L, bin_width=1.0, contact=4.0)
    z = rng.uniform(0.0, L, N)
    state = mdl.State(np.column_stack([np.zeros(N), np.zeros(N), z]), box=[L, L, L], pbc=(True, True, False))
    for _ in range(F):
        move = rng.random(N) > PHI
        z[move] = rng.uniform(0.0, L, move.sum())
        state.positions[:, 2] = z
        prof.sample(state)
    res = prof.result(blocks=blocks)
    return res.scalars[res.species[0]]


def test_block_error_of_profile_scalars_matches_a_known_correlated_series():
    rng = np.random.default_rng(7)
    runs = [one_run(rng, blocks=10) for _ in range(RUNS)]
    # 10 bins of 1 (area L²): "mid" is the symmetrised centre bin pair, z in [4, 6]: p = 0.2, volume 2 L²;
    # "contact" at 4 from the mid-plane interpolates halfway between the bins [0, 1] and [1, 2] and their
    # mirrors: the density of [0, 2] ∪ [8, 10], p = 0.4, volume 4 L²
    for name, p, volume in (("mid", 0.2, 2 * L * L), ("contact", 0.4, 4 * L * L)):
        values = np.array([r[name][0] for r in runs])
        errors = np.array([r[name][1] for r in runs])
        exact = exact_sd_of_mean(p, volume)
        assert values.mean() == pytest.approx(N * p / volume, abs=3 * exact / np.sqrt(RUNS))
        # the block estimate is right on average (mean of SE² within 15%: its scatter is ~7% over 40 runs) ...
        assert np.sqrt(np.mean(errors**2)) == pytest.approx(exact, rel=0.15)
        # ... and so is the spread of the run means it claims to describe (scatter ~11%)
        assert values.std(ddof=1) == pytest.approx(exact, rel=0.3)
        # an estimate that ignored the correlation (frames as independent) would be sqrt(19) ≈ 4.4x too small
        assert exact / np.sqrt(N * p * (1 - p) / volume**2 / F) > 4.0
