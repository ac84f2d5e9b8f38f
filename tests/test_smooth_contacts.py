"""Smooth-contact featurizers (coordination numbers, contact-matrix spectrum): values against direct
computations with scipy, invariance to swapping identical atoms, and bad parameters."""
from fractions import Fraction

import mdtraj as md
import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from mdlearn.analysis.clustering import DeepClustering
from mdlearn.analysis.featurizers import ContactSpectrum, CoordinationNumbers, make_featurizer, switching


def _traj(xyz):
    top = md.Topology()
    ch = top.add_chain()
    for _ in range(xyz.shape[1]):
        top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    return md.Trajectory(np.asarray(xyz, np.float32), top)


def _smooth_matrix(x, r0, n=6, m=12):
    """The contact matrix straight from the definition, with scipy's distances."""
    q = squareform(pdist(x)) / r0
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (1 - q**n) / (1 - q**m)
    np.fill_diagonal(s, 0.0)
    return s


def test_switching_is_the_rational_function_and_continuous_at_r0():
    r = np.array([0.3, 0.9, 1.2, 2.5])
    np.testing.assert_allclose(switching(r, 1.1, 6, 12), (1 - (r / 1.1) ** 6) / (1 - (r / 1.1) ** 12), rtol=1e-12)
    assert switching(1.5, 1.5, 8, 12) == pytest.approx(8 / 12, abs=1e-12)
    # near r0 (0/0 in floating point) against exact rational arithmetic, on both sides of the 1e-6 switch-over
    for h in (-1e-4, 2e-6, -3e-7, 3e-7, 1e-9):
        q = 1 + Fraction(h)
        assert switching(float(q), 1.0) == pytest.approx(float((1 - q**6) / (1 - q**12)), abs=1e-10)
    with pytest.raises(ValueError, match="r0"):
        switching(1.0, 0.0)
    with pytest.raises(ValueError, match="n=12, m=6"):
        switching(1.0, 1.0, 12, 6)


def test_coordination_and_spectrum_match_the_definition_and_ignore_atom_order():
    rng = np.random.default_rng(4)
    xyz = rng.uniform(0, 2.0, size=(3, 6, 3))
    traj = _traj(xyz)
    coord = CoordinationNumbers(r0=1.2, sort=False)(traj)
    spec = ContactSpectrum(r0=1.2)(traj)
    for f in range(3):
        a = _smooth_matrix(xyz[f], 1.2)
        np.testing.assert_allclose(coord[f], a.sum(axis=1), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(spec[f], np.linalg.eigvalsh(a), rtol=1e-5, atol=1e-6)
    perm = _traj(xyz[:, rng.permutation(6)])
    np.testing.assert_allclose(CoordinationNumbers(r0=1.2)(perm), np.sort(coord, axis=1), rtol=1e-5)
    np.testing.assert_allclose(ContactSpectrum(r0=1.2)(perm), spec, rtol=1e-5, atol=1e-6)
    assert not np.allclose(CoordinationNumbers(r0=1.2, sort=False)(perm), coord)


def test_hexagon_with_a_centre_counts_six_bonds_for_the_centre():
    """2D LJ7 ground state: the centre has 6 neighbours at r, each rim atom 3 (centre + 2 rim) at r, two more at
    √3 r and one at 2 r."""
    r = 2 ** (1 / 6)
    a = np.arange(6) * np.pi / 3
    x = np.vstack([[0, 0, 0], np.column_stack([r * np.cos(a), r * np.sin(a), np.zeros(6)])])
    c = CoordinationNumbers(r0=1.5)(_traj(x[None]))[0]
    s1, s2, s3 = switching(np.array([r, np.sqrt(3) * r, 2 * r]), 1.5)
    np.testing.assert_allclose(c, [3 * s1 + 2 * s2 + s3] * 6 + [6 * s1], rtol=1e-5)


def test_names_and_clustering_on_coordination_numbers():
    assert isinstance(make_featurizer("spectrum", cutoff=1.3), ContactSpectrum)
    assert make_featurizer("coordination", cutoff=1.3).r0 == 1.3
    with pytest.raises(ValueError, match="'spectra'"):
        make_featurizer("spectra")
    rng = np.random.default_rng(0)  # a compact tetrahedron (3 bonds per atom) and a straight line (1 or 2)
    tet = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(8)
    line = np.column_stack([np.arange(4), np.zeros(4), np.zeros(4)])
    xyz = np.concatenate([tet + 0.03 * rng.normal(size=(40, 4, 3)), line + 0.03 * rng.normal(size=(40, 4, 3))])
    dc = DeepClustering(featurizer="coordination", cutoff=1.4, latent_dim=2, hidden=(8,), epochs=40, n_clusters=2,
                        random_state=0)
    labels = dc.fit_predict(_traj(xyz))
    assert len(set(labels[:40])) == 1 and len(set(labels[40:])) == 1 and labels[0] != labels[-1]
