"""DeepClustering: featurizers, quench labels of LJ7, state recovery on a simulated cluster, the analyzer door,
the command line and bad input."""
import mdtraj as md
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

import mdlearn as mdl
from mdlearn.analysis.clustering import DeepClustering, load_trajectory
from mdlearn.analysis.featurizers import ContactMap, Distances
from mdlearn.analysis.minima import group_minima, lj_cluster, quench
from mdlearn.cli import main

# Global minimum of the 7-atom Lennard-Jones cluster (ε), the pentagonal bipyramid (Cambridge Cluster Database);
# LJ7 has four minima in all.
LJ7_GLOBAL_MINIMUM = -16.505384
R0 = 2 ** (1 / 6)


def _topology(n, name="Ar"):
    top = md.Topology()
    ch = top.add_chain()
    for _ in range(n):
        top.add_atom(name, md.element.argon, top.add_residue("AR", ch))
    return top


def _two_shapes(n_each=40, noise=0.02, seed=0):
    """Frames of two clearly different 4-atom shapes: a tetrahedral corner and a straight line."""
    rng = np.random.default_rng(seed)
    a = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    b = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]], float)
    xyz = np.concatenate([a + noise * rng.normal(size=(n_each, 4, 3)), b + noise * rng.normal(size=(n_each, 4, 3))])
    return md.Trajectory(xyz.astype(np.float32), _topology(4)), np.repeat([0, 1], n_each)


def _pentagonal_bipyramid():
    a = np.arange(5) * 2 * np.pi / 5
    ring = np.column_stack([0.95 * np.cos(a), 0.95 * np.sin(a), np.zeros(5)])
    return np.vstack([ring, [[0, 0, 0.6], [0, 0, -0.6]]])


def _isomers():
    """Pentagonal bipyramid, capped octahedron and tricapped tetrahedron, built by hand and quenched."""
    def cap(x, i, j, k, opposite):  # mirror atom `opposite` through the face (i, j, k)
        return np.vstack([x, 2 * x[[i, j, k]].mean(axis=0) - x[opposite]])

    octa = R0 / np.sqrt(2) * np.vstack([np.eye(3), -np.eye(3)])
    c = octa[:3].mean(axis=0)
    capped_oct = np.vstack([octa, c + c / np.linalg.norm(c) * R0 * np.sqrt(2 / 3)])
    tet = R0 * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(8)
    tri = cap(cap(cap(tet, 0, 1, 2, 3), 0, 1, 3, 2), 0, 2, 3, 1)
    return quench(np.array([_pentagonal_bipyramid(), capped_oct, tri]))


def _simulate_lj7(temperature, steps, every, seed, start=None):
    """Langevin LJ7 in a big periodic box (cutoff 4 σ > the cluster's diameter: every pair interacts)."""
    if start is None:
        start = quench(_pentagonal_bipyramid()[None])[1][0]
    box = 30.0
    st = mdl.State(start - start.mean(axis=0) + box / 2, box=[box] * 3, units="lj")
    st.set_temperature(temperature, seed=seed)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=4.0)]),
                         mdl.Langevin(dt=0.005, temperature=temperature, friction=1.0, seed=seed + 1))
    frames = []
    sim.add_reporter((lambda snap: frames.append(snap.state.unwrapped_positions()), every))
    sim.run(steps, progress=False)
    return np.array(frames)


# ---------------------------------------------------------------------------------------------- featurizers
def test_distances_match_numpy_and_sorting_ignores_permutation():
    rng = np.random.default_rng(1)
    xyz = rng.normal(size=(5, 6, 3)).astype(np.float32)
    traj = md.Trajectory(xyz, _topology(6))
    d = Distances()(traj)
    i, j = np.triu_indices(6, k=1)
    np.testing.assert_allclose(d, np.linalg.norm(xyz[:, i] - xyz[:, j], axis=-1), rtol=1e-5)
    perm = md.Trajectory(xyz[:, rng.permutation(6)], _topology(6))
    np.testing.assert_allclose(Distances(sort=True)(perm), Distances(sort=True)(traj), rtol=1e-6)
    assert not np.allclose(Distances()(perm), d)
    sub = Distances(selection=[0, 2, 5])(traj)
    np.testing.assert_allclose(sub[:, 0], np.linalg.norm(xyz[:, 0] - xyz[:, 2], axis=-1), rtol=1e-5)


def test_contact_map_is_symmetric_threshold_of_distances():
    rng = np.random.default_rng(2)
    xyz = rng.uniform(0, 2, size=(4, 7, 3)).astype(np.float32)
    traj = md.Trajectory(xyz, _topology(7))
    maps = ContactMap(cutoff=1.0)(traj)
    r = np.linalg.norm(xyz[:, :, None] - xyz[:, None], axis=-1)
    np.testing.assert_array_equal(maps, (r < 1.0).astype(np.float32))


def test_selection_errors_name_the_problem():
    traj = md.Trajectory(np.zeros((3, 4, 3), np.float32), _topology(4))
    with pytest.raises(ValueError, match="matches 0 atom"):
        Distances(selection="name CA")(traj)
    with pytest.raises(ValueError, match="atom 9"):
        Distances(selection=[0, 9])(traj)
    with pytest.raises(ValueError, match="matches 0 atom"):
        DeepClustering(selection="name CA", epochs=1).fit(traj)


# ---------------------------------------------------------------------------------------------- quench labels
def test_lj_cluster_matches_the_engine_lennard_jones():
    x = _pentagonal_bipyramid() * 1.05 + np.random.default_rng(3).normal(scale=0.05, size=(7, 3)) + 10.0
    ref = mdl.ForceField([mdl.LennardJones(cutoff=8.0)]).compute(mdl.State(x, box=[20.0] * 3, units="lj"))
    e, f = lj_cluster(x)
    assert e == pytest.approx(ref.energy, rel=1e-12)
    np.testing.assert_allclose(f, ref.forces, rtol=1e-10, atol=1e-10)


def test_quench_finds_the_lj7_minima():
    energies, minima = _isomers()
    assert energies[0] == pytest.approx(LJ7_GLOBAL_MINIMUM, abs=1e-6)
    assert len(group_minima(energies)[1]) == 3  # three distinct isomers, all above the global minimum
    assert np.all(energies[1:] > LJ7_GLOBAL_MINIMUM + 0.1)
    for x in minima:  # true minima: no force left
        assert np.abs(lj_cluster(x)[1]).max() < 1e-5


# ---------------------------------------------------------------------------------------------- the estimator
def test_recovers_two_shapes_and_is_reproducible():
    assert mdl.analysis.DeepClustering is DeepClustering
    traj, truth = _two_shapes()
    dc = DeepClustering(latent_dim=2, hidden=(16,), epochs=40, n_clusters=2, random_state=0)
    labels = dc.fit_predict(traj)
    assert adjusted_rand_score(truth, labels) == 1.0
    again = clone(dc).fit_predict(traj)
    np.testing.assert_array_equal(labels, again)
    np.testing.assert_array_equal(dc.populations_, [40, 40])
    assert dc.latent_.shape == (80, 2) and dc.latent_.dtype == np.float64
    assert dc.cluster_centers_.shape == (2, 2)
    # medoids are members of their cluster; transitions: one switch between the two blocks of frames
    assert all(dc.labels_[m] == c for c, m in enumerate(dc.medoids_))
    assert dc.transition_counts_.sum() == 79 and dc.transition_counts_.trace() == 78
    np.testing.assert_array_equal(dc.predict(traj), labels)


def test_outlier_scores_pick_the_odd_frame():
    traj, _ = _two_shapes(noise=0.01)
    xyz = traj.xyz.copy()
    xyz[7] = [[0, 0, 0], [1.5, 0, 0], [0, 0.3, 0], [0.7, 0.7, 0.7]]
    dc = DeepClustering(latent_dim=2, hidden=(16,), epochs=40, n_clusters=2, random_state=1)
    dc.fit(md.Trajectory(xyz, traj.topology))
    assert dc.outliers(1)[0] == 7
    assert dc.outlier_scores_[7] > 2 * np.median(dc.outlier_scores_)


@pytest.mark.parametrize("kwargs", [
    {"clustering": "gmm", "criterion": "bic"},
    {"clustering": "kmeans", "criterion": "silhouette"},
    {"clustering": "dbscan", "dbscan_eps": 0.5},
])
def test_cluster_count_found_without_being_given(kwargs):
    traj, truth = _two_shapes(noise=0.01)
    dc = DeepClustering(latent_dim=2, hidden=(16,), epochs=40, max_clusters=4, random_state=0, **kwargs).fit(traj)
    assert dc.n_clusters_ == 2
    assert adjusted_rand_score(truth, dc.labels_) > 0.95


def test_contact_map_vae_separates_shapes():
    traj, truth = _two_shapes(noise=0.02)
    dc = DeepClustering(featurizer="contacts", cutoff=1.2, latent_dim=2, filters=4, epochs=15, n_clusters=2,
                        clustering="kmeans", random_state=0).fit(traj)
    assert dc.kind_ == "vae"
    assert adjusted_rand_score(truth, dc.labels_) == 1.0


def test_time_lagged_autoencoder_separates_shapes():
    traj, truth = _two_shapes()
    dc = DeepClustering(latent_dim=2, hidden=(16,), epochs=40, n_clusters=2, lag=3, random_state=0).fit(traj)
    assert adjusted_rand_score(truth, dc.labels_) == 1.0


def test_user_callable_featurizer():
    traj, truth = _two_shapes()
    dc = DeepClustering(featurizer=lambda t: md.compute_distances(t, [[0, 3], [1, 2]]), latent_dim=1,
                        hidden=(8,), epochs=40, n_clusters=2, clustering="kmeans", random_state=0).fit(traj)
    assert dc.n_features_ == 2
    assert adjusted_rand_score(truth, dc.labels_) == 1.0


def test_lj7_states_recovered_against_quench_labels():
    """A physical case: LJ7 run from three isomers at T* = 0.1 (each run keeps its isomer); frames are labelled
    by quenching, not by the method. The runs with seed 1 train; held-out runs (seed 2) are assigned with
    ``predict``."""
    _, starts = _isomers()
    runs = {s: [_simulate_lj7(0.1, 800, 8, seed=10 * i + s, start=x) for i, x in enumerate(starts)]
            for s in (1, 2)}
    frames = np.concatenate(runs[1] + runs[2])
    labels, _ = group_minima(quench(frames)[0], tol=1e-3)
    traj = md.Trajectory(frames.astype(np.float32), _topology(7))
    assert len(np.unique(labels)) == 3
    n_train = sum(len(r) for r in runs[1])
    # per-feature scaling (scale="feature") gave ARI 0.2-0.5 on such frames: the threshold can fail
    dc = DeepClustering(sort_distances=True, latent_dim=3, hidden=(32,), epochs=100, patience=10,
                        n_clusters=len(np.unique(labels)), random_state=0).fit(traj[:n_train])
    ari = adjusted_rand_score(labels[n_train:], dc.predict(traj[n_train:]))
    assert ari >= 0.9, ari


# ---------------------------------------------------------------------------------------------- bad input
def test_too_few_frames_for_the_clusters():
    traj, _ = _two_shapes(n_each=2)
    with pytest.raises(ValueError, match="4 frames: too few for 6 clusters"):
        DeepClustering(n_clusters=6, epochs=1).fit(traj)


def test_mismatched_topology_is_refused(tmp_path):
    traj, _ = _two_shapes(n_each=3)
    traj.save_dcd(str(tmp_path / "t.dcd"))
    md.Trajectory(np.zeros((1, 5, 3), np.float32), _topology(5)).save_pdb(str(tmp_path / "five.pdb"))
    with pytest.raises(ValueError, match="5 atoms but trajectory .* has 4"):
        load_trajectory(tmp_path / "t.dcd", top=tmp_path / "five.pdb")
    with pytest.raises(ValueError, match="no topology"):
        load_trajectory(tmp_path / "t.dcd")
    with pytest.raises(FileNotFoundError, match="missing.dcd"):
        load_trajectory(tmp_path / "missing.dcd", top=tmp_path / "five.pdb")
    dc = DeepClustering(latent_dim=2, hidden=(8,), epochs=2, n_clusters=2, random_state=0).fit(traj)
    with pytest.raises(ValueError, match="mismatched topology"):
        dc.predict(md.Trajectory(np.zeros((2, 5, 3), np.float32), _topology(5)))


def test_bad_parameters_are_named():
    traj, _ = _two_shapes(n_each=5)
    with pytest.raises(ValueError, match="'spectral'"):
        DeepClustering(clustering="spectral").fit(traj)
    with pytest.raises(ValueError, match="criterion='bic' needs a likelihood"):
        DeepClustering(clustering="kmeans", criterion="bic").fit(traj)
    with pytest.raises(ValueError, match="square contact maps"):
        DeepClustering(model="vae").fit(traj)
    with pytest.raises(ValueError, match="lag=2: the time-lagged autoencoder is the dense model"):
        DeepClustering(featurizer="contacts", lag=2).fit(traj)
    with pytest.raises(ValueError, match="lag must be a non-negative integer"):
        DeepClustering(lag=-1).fit(traj)


# ---------------------------------------------------------------------------------------------- analyzer, outputs, CLI
def _lj7_simulation(tmp_path, steps=600):
    _, start = quench(_pentagonal_bipyramid()[None])
    st = mdl.State(start[0] + 10.0, box=[20.0] * 3, units="lj")
    st.set_temperature(0.3, seed=1)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=4.0)]),
                         mdl.Langevin(dt=0.005, temperature=0.3, seed=2))
    sim.add_reporter(mdl.TrajectoryReporter(tmp_path / "traj.dcd", every=10))
    return sim


def test_analyzer_reads_the_trajectory_the_run_wrote(tmp_path):
    sim = _lj7_simulation(tmp_path)
    sim.add_analyzer(DeepClustering(sort_distances=True, latent_dim=2, hidden=(8,), epochs=3, n_clusters=2,
                                    random_state=0, output_dir=tmp_path / "out"))
    sim.run(600, progress=False)
    sim.close()
    dc = sim.analysis["deep_clustering"]
    assert dc.n_frames_ == 60 and dc.source_ == str(tmp_path / "traj.dcd")
    for name in ("cluster_0.pdb", "cluster_1.pdb", "representatives.dcd", "latent.png", "populations.png",
                 "report.txt", "labels.csv"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    reps = md.load(str(tmp_path / "out" / "representatives.dcd"), top=str(tmp_path / "out" / "cluster_0.pdb"))
    np.testing.assert_allclose(reps.xyz, md.load(str(tmp_path / "traj.dcd"), top=str(tmp_path / "traj.pdb"))
                               .xyz[dc.medoids_], atol=1e-3)
    assert "2 clusters" in (tmp_path / "out" / "report.txt").read_text()


def test_analyzer_without_a_trajectory_reporter_says_so():
    st = mdl.State(_pentagonal_bipyramid() + 10.0, box=[20.0] * 3, units="lj")
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=4.0)]), mdl.VelocityVerlet(dt=0.001))
    sim.add_analyzer(DeepClustering())
    with pytest.raises(ValueError, match="no TrajectoryReporter"):
        sim.run(1, progress=False)


def test_command_line(tmp_path, capsys):
    sim = _lj7_simulation(tmp_path)
    sim.run(400, progress=False)
    sim.close()
    out = tmp_path / "cli"
    status = main(["analyze", "cluster", str(tmp_path / "traj.dcd"), "--top", str(tmp_path / "traj.pdb"),
                   "--out", str(out), "--epochs", "2", "--n-clusters", "2", "--sort-distances"])
    assert status == 0
    assert "40 frames" in capsys.readouterr().out
    assert (out / "latent.png").exists() and (out / "cluster_1.pdb").exists()
    status = main(["analyze", "cluster", str(tmp_path / "traj.dcd"), "--top", str(tmp_path / "traj.pdb"),
                   "--selection", "name CA"])
    assert status == 1
    assert "name CA" in capsys.readouterr().err
