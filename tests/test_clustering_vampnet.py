"""VAMPnet encoder of DeepClustering: the VAMP-2 score against a known answer, a nonlinear slow process that
tICA cannot see, determinism under a seed, and bad input."""
import mdtraj as md
import numpy as np
import pytest
import scipy.linalg
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from mdlearn.analysis.clustering import DeepClustering
from mdlearn.analysis.vampnets import vamp2_score


def _topology(n):
    top = md.Topology()
    ch = top.add_chain()
    for _ in range(n):
        top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    return top


def _four_wells(n, seed):
    """A Markov chain over four wells at (±1, 0) and (0, ±1) with Gaussian noise, plus three noise coordinates.
    Hops between opposite wells are fast (0.1 per step), between neighbouring wells slow (0.003): the slowest
    process is 'on the x axis or on the y axis', a function (x² - y²) that no linear projection holds, since
    the two wells of each pair lie on opposite sides of the origin."""
    rng = np.random.default_rng(seed)
    p = np.array([[0.1 if (i - j) % 2 == 0 else 0.003 for j in range(4)] for i in range(4)])
    np.fill_diagonal(p, 0.0)
    np.fill_diagonal(p, 1.0 - p.sum(axis=1))
    cum, u = p.cumsum(axis=1), rng.random(n)
    s = np.zeros(n, dtype=np.int64)
    for t in range(1, n):
        s[t] = min(np.searchsorted(cum[s[t - 1]], u[t]), 3)
    centres = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], float)
    x = np.column_stack([centres[s] + 0.25 * rng.normal(size=(n, 2)), 0.5 * rng.normal(size=(n, 3))])
    # five coordinates carried as the x of five "atoms", read back by a callable featurizer
    xyz = np.zeros((n, 5, 3), np.float32)
    xyz[:, :, 0] = x
    return md.Trajectory(xyz, _topology(5)), s % 2


def _coordinates(traj):
    return traj.xyz[:, :, 0].astype(np.float64)


def _tica(x, lag, dim):
    """Textbook tICA (symmetrized covariances, generalized eigenproblem): projection matrix and mean."""
    a, b = x[:-lag], x[lag:]
    mean = (a.mean(axis=0) + b.mean(axis=0)) / 2
    a, b = a - mean, b - mean
    c0 = (a.T @ a + b.T @ b) / (2 * len(a))
    ct = (a.T @ b + b.T @ a) / (2 * len(a))
    w, v = scipy.linalg.eigh(ct, c0)
    return v[:, np.argsort(-w)[:dim]], mean


def test_vamp2_score_of_an_ar1_process_is_one_plus_a_squared():
    rng = np.random.default_rng(0)
    a, n = 0.8, 40000
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = a * x[t - 1] + rng.normal()
    assert vamp2_score(x[:-1, None], x[1:, None]) == pytest.approx(1 + a**2, abs=0.02)
    # two independent copies: the scores add (minus the shared constant)
    y = np.column_stack([x, np.roll(x, n // 2)])
    assert vamp2_score(y[:-1], y[1:]) == pytest.approx(1 + 2 * a**2, abs=0.03)
    with pytest.raises(ValueError, match="same shape"):
        vamp2_score(x[:-1, None], x[2:, None])


def test_vampnet_finds_the_slow_process_tica_cannot_see():
    train, _ = _four_wells(6000, seed=0)
    test, macro = _four_wells(6000, seed=1)
    lag, dim = 1, 1
    dc = DeepClustering(featurizer=_coordinates, model="vampnet", lag=lag, latent_dim=dim, hidden=(32,),
                        epochs=100, patience=None, batch_size=512, learning_rate=3e-3, n_clusters=2,
                        random_state=0).fit(train)
    assert dc._clustering() == "kmeans"
    z = dc.transform(test)
    net_score = vamp2_score(z[:-lag], z[lag:])
    w, mean = _tica(_coordinates(train), lag, dim)
    zt = (_coordinates(test) - mean) @ w
    tica_score = vamp2_score(zt[:-lag], zt[lag:])
    # the slow process has an eigenvalue near 0.99: tICA's linear projection reaches only the fast one
    assert net_score > tica_score + 0.25, (net_score, tica_score)
    assert adjusted_rand_score(macro, dc.predict(test)) > 0.9
    # training starts at the linear VAMP solution: the kept weights are never worse on the validation pairs
    h = dc.history_
    assert h["validation"][h["best_epoch"]] <= h["validation"][0]


def test_vampnet_is_deterministic_under_a_seed():
    traj, _ = _four_wells(1500, seed=2)
    dc = DeepClustering(featurizer=_coordinates, model="vampnet", lag=2, latent_dim=2, hidden=(16,), epochs=10,
                        n_clusters=4, random_state=3).fit(traj)
    again = clone(dc).fit(traj)
    np.testing.assert_array_equal(dc.labels_, again.labels_)
    np.testing.assert_array_equal(dc.latent_, again.latent_)
    assert dc.latent_.shape == (1500, 2) and dc.vamp_singular_values_.shape == (2,)
    assert "model vampnet" in dc.report()


def test_vampnet_bad_input_is_named():
    traj, _ = _four_wells(50, seed=0)
    with pytest.raises(ValueError, match="model='vampnet' learns from frame pairs a lag apart"):
        DeepClustering(featurizer=_coordinates, model="vampnet").fit(traj)
    with pytest.raises(ValueError, match="'auto', 'dense', 'vae' or 'vampnet'"):
        DeepClustering(featurizer=_coordinates, model="tica").fit(traj)
    with pytest.raises(ValueError, match="not shorter than the trajectory"):
        DeepClustering(featurizer=_coordinates, model="vampnet", lag=60, n_clusters=2).fit(traj)


def test_vampnet_from_the_command_line(tmp_path, capsys):
    from mdlearn.cli import main

    traj, _ = _four_wells(300, seed=4)
    traj.save_dcd(str(tmp_path / "t.dcd"))
    traj[0].save_pdb(str(tmp_path / "t.pdb"))
    args = ["analyze", "cluster", str(tmp_path / "t.dcd"), "--top", str(tmp_path / "t.pdb"), "--out",
            str(tmp_path / "out"), "--model", "vampnet", "--n-clusters", "2", "--epochs", "2"]
    assert main(args) == 1
    assert "lag must be a positive integer" in capsys.readouterr().err
    assert main([*args, "--lag", "2"]) == 0
    out = capsys.readouterr().out
    assert "model vampnet, latent dimension 1" in out and "clustering kmeans: 2 clusters" in out
