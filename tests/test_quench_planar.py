"""Quenching a planar LJ7 cluster (the benchmark's labels) against published minima, and failed quenches."""
import numpy as np
import pytest

from mdlearn.analysis.minima import group_minima, quench

# The four minima of LJ7 in 2D (ε), Dellago, Bolhuis & Chandler, J. Chem. Phys. 108, 9236 (1998), to 0.01.
LJ7_2D_MINIMA = (-12.53, -11.50, -11.48, -11.40)


def test_planar_lj7_quenches_to_the_published_minima():
    energies, minima = quench(np.random.default_rng(0).uniform(0, 2.5, size=(60, 7, 2)))
    labels, levels = group_minima(energies, tol=1e-3)
    counts = np.bincount(labels)
    found = levels[counts >= 3][:4]  # single hits can be saddles or fragments
    np.testing.assert_allclose(found, LJ7_2D_MINIMA, atol=0.006)
    assert minima.shape == (60, 7, 2)


def test_failed_quench_raises_or_gives_nan():
    frames = np.random.default_rng(1).uniform(0, 2.5, size=(2, 7, 2))
    with pytest.raises(RuntimeError, match="frame 0"):
        quench(frames, maxiter=2)
    energies, minima = quench(frames, maxiter=2, on_failure="nan")
    assert np.isnan(energies).all() and np.isnan(minima).all()
    labels, levels = group_minima(np.r_[energies, -3.0, -3.0005])
    assert labels.tolist() == [-1, -1, 0, 0] and levels == pytest.approx([-3.00025])
    with pytest.raises(ValueError, match="'skip'"):
        quench(frames, on_failure="skip")
