"""Deep clustering against physics: LJ7 isomers labelled by quenching, and a 100,000-frame scale run.

1. ``states``: a 7-atom Lennard-Jones cluster simulated with mdlearn (Langevin, reduced units, big periodic box,
   frames written by a TrajectoryReporter to DCD), two runs (two seeds) from each of three isomers, at a
   temperature where some runs change isomer. Every frame is quenched (L-BFGS) to its local minimum; minima
   grouped by energy are the ground-truth isomers (the lowest is checked against the published global
   minimum). The first run from each isomer trains each method; the second runs are held out and assigned
   with ``predict``. Methods on the same features (sorted pairwise distances, invariant to swapping atoms):
   DeepClustering (dense autoencoder + Gaussian mixture), PCA + k-means, tICA (deeptime) + k-means, all with
   k = the number of isomers seen. Reported: adjusted Rand index (ARI) on the held-out frames.
2. ``states2d``: LJ7 in two dimensions (Dellago, Bolhuis & Chandler, J. Chem. Phys. 108, 9236 (1998): the
   hexagon with a centre atom and three higher minima), held in the plane z = const by a stiff harmonic user
   force term (Langevin noise acts on all three axes, so zero z-velocities alone would not stay zero), at a
   temperature where every run changes isomer many times. Four training runs and four held-out runs (one
   from each minimum, different seeds); frames quenched in 2D and grouped by energy as above. Methods on the
   same features and k: DeepClustering (AE + GMM as in ``states``; time-lagged AE + k-means), PCA + k-means,
   tICA + k-means (baselines also on a small grid of dimension and lag).
3. ``scale``: 100,000 frames of a 100-atom system from an mdlearn run (an LJ100 cluster, Langevin at T* = 0.3 in a
   big periodic box, a frame every 10 steps to DCD through TrajectoryReporter), then, from the file (DCD + PDB),
   all 4950 pairwise distances and DeepClustering end to end: the dense AE (train on 20,000 frames, encode all,
   GMM with k chosen by BIC over 1..8, LOF, medoids) and a VAMPnet (lag 10, k-means with k = 4). Wall time per
   stage; no ground truth (the target is time).

    python benchmarks/clustering.py states [--steps 3000 --every 10 --temperature 0.13]
    python benchmarks/clustering.py states2d [--temperature 0.17 --steps 150000 --every 100]
    python benchmarks/clustering.py scale  [--frames 100000 --atoms 100 --dir DIR --models dense,vampnet]
"""
import argparse
import os
import tempfile
import time

import mdtraj as md
import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import adjusted_rand_score

import mdlearn as mdl
from mdlearn.analysis.clustering import DeepClustering
from mdlearn.analysis.featurizers import ContactSpectrum, CoordinationNumbers, Distances
from mdlearn.analysis.minima import group_minima, quench

# Global minimum of LJ7 (ε), the pentagonal bipyramid (Cambridge Cluster Database); LJ7 has 4 minima in all.
LJ7_GLOBAL_MINIMUM = -16.505384
# The four minima of LJ7 in 2D (ε; Dellago, Bolhuis & Chandler, J. Chem. Phys. 108, 9236 (1998), given to 0.01).
LJ7_2D_MINIMA = (-12.53, -11.50, -11.48, -11.40)
R0 = 2 ** (1 / 6)


def lj7_isomers():
    """Starting structures of three LJ7 isomers (quenched): pentagonal bipyramid, capped octahedron,
    tricapped tetrahedron."""
    def cap(x, i, j, k, opposite):  # mirror atom `opposite` through the face (i, j, k)
        return np.vstack([x, 2 * x[[i, j, k]].mean(axis=0) - x[opposite]])

    a = np.arange(5) * 2 * np.pi / 5
    pbp = np.vstack([np.column_stack([0.95 * np.cos(a), 0.95 * np.sin(a), np.zeros(5)]), [[0, 0, 0.6], [0, 0, -0.6]]])
    octa = R0 / np.sqrt(2) * np.vstack([np.eye(3), -np.eye(3)])
    c = octa[:3].mean(axis=0)
    capped_oct = np.vstack([octa, c + c / np.linalg.norm(c) * R0 * np.sqrt(2 / 3)])
    tet = R0 * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(8)
    tri = cap(cap(cap(tet, 0, 1, 2, 3), 0, 1, 3, 2), 0, 2, 3, 1)
    return quench(np.array([pbp, capped_oct, tri]))[1]


def simulate_lj7(path, start, temperature, steps, every, seed):
    """Run LJ7 from ``start`` with mdlearn and write a DCD (+ PDB topology) through TrajectoryReporter."""
    box = 30.0
    st = mdl.State(start - start.mean(axis=0) + box / 2, box=[box] * 3, units="lj")
    st.set_temperature(temperature, seed=seed)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=4.0)]),
                         mdl.Langevin(dt=0.005, temperature=temperature, friction=1.0, seed=seed + 1))
    sim.add_reporter(mdl.TrajectoryReporter(path, every=every, unwrap=True))
    sim.run(steps, progress=False)
    sim.close()
    return md.load(path, top=os.path.splitext(path)[0] + ".pdb")


def tica_kmeans(x_train, x_test, k, lag, seed, dim):
    """tICA (deeptime; whitened, so no scaling is needed) of the training frames (an array, or a list of runs),
    k-means on its components."""
    from deeptime.decomposition import TICA

    runs = x_train if isinstance(x_train, list) else [x_train.astype(np.float64)]  # lagged pairs stay in a run
    tica = TICA(lagtime=lag, dim=dim).fit(runs).fetch_model()
    km = KMeans(k, n_init=10, random_state=seed).fit(tica.transform(np.concatenate(runs)))
    return km.predict(tica.transform(x_test.astype(np.float64)))


def pca_kmeans(x_train, x_test, k, seed, dim):
    """PCA of the distances (one unit, so unscaled: as DeepClustering's default scale='global')."""
    pca = PCA(dim, random_state=seed).fit(x_train)
    km = KMeans(k, n_init=10, random_state=seed).fit(pca.transform(x_train))
    return km.predict(pca.transform(x_test))


def supervised_ceiling(x_train, y_train, x_test, y_test):
    """Held-out ARI of a random forest trained on the training frames' quench labels: how far single frames'
    features can tell the isomers apart at all (frames near a barrier carry no sign of their basin)."""
    rf = RandomForestClassifier(200, random_state=0, n_jobs=1).fit(x_train, y_train)
    return adjusted_rand_score(y_test, rf.predict(x_test))


def states(args):
    """Two runs from each isomer (different seeds): the first runs train, the second runs are held out."""
    t0 = time.perf_counter()
    runs = {"train": [], "test": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i, start in enumerate(lj7_isomers()):
            for part, seed in (("train", args.seed + 10 * i), ("test", args.seed + 10 * i + 5)):
                runs[part].append(simulate_lj7(os.path.join(tmp, f"{part}{i}.dcd"), start, args.temperature,
                                               args.steps, args.every, seed))
    train, test = md.join(runs["train"]), md.join(runs["test"])
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    energies, _ = quench(np.concatenate([train.xyz, test.xyz]).astype(np.float64))
    t_quench = time.perf_counter() - t0
    truth, levels = group_minima(energies, tol=1e-3)
    print(f"LJ7 at T* = {args.temperature}: 3 isomers x 2 runs of {args.steps} steps, a frame every {args.every}: "
          f"{train.n_frames} training + {test.n_frames} held-out frames; simulation {t_sim:.1f} s, "
          f"quench {t_quench:.1f} s")
    print("quenched minima " + ", ".join(f"{e:.5f}" for e in levels) + f" (lowest vs the published global minimum "
          f"{LJ7_GLOBAL_MINIMUM}: {levels[0] - LJ7_GLOBAL_MINIMUM:+.1e}); frames per minimum "
          f"{np.bincount(truth).tolist()}")
    k = len(levels)
    y_test = truth[train.n_frames:]
    feat = Distances(sort=True)
    x_train, x_test = feat(train), feat(test)
    results = {}
    for seed in range(args.seeds):
        dc = DeepClustering(sort_distances=True, latent_dim=args.dim, hidden=(32,), epochs=100, patience=10,
                            n_clusters=k, random_state=seed).fit(train)
        results.setdefault("DeepClustering (AE + GMM)", []).append(adjusted_rand_score(y_test, dc.predict(test)))
        tae = DeepClustering(sort_distances=True, latent_dim=args.dim, hidden=(32,), epochs=100, patience=10,
                             n_clusters=k, lag=args.lag, clustering="gmm", random_state=seed).fit(train)
        results.setdefault(f"DeepClustering, time-lagged AE (lag {args.lag})", []).append(
            adjusted_rand_score(y_test, tae.predict(test)))
        tkm = DeepClustering(sort_distances=True, latent_dim=args.dim, hidden=(32,), epochs=500, patience=50,
                             n_clusters=k, lag=args.lag, clustering="kmeans", random_state=seed).fit(train)
        results.setdefault(f"time-lagged AE (lag {args.lag}) + k-means, 500 epochs", []).append(
            adjusted_rand_score(y_test, tkm.predict(test)))
        results.setdefault("PCA + k-means", []).append(adjusted_rand_score(y_test, pca_kmeans(x_train, x_test, k, seed,
                                                                                               args.dim)))
        results.setdefault("tICA + k-means", []).append(
            adjusted_rand_score(y_test, tica_kmeans(x_train, x_test, k, args.lag, seed, args.dim)))
    bic = DeepClustering(sort_distances=True, latent_dim=args.dim, hidden=(32,), epochs=100, patience=10,
                         random_state=0).fit(train)
    print(f"k = {k} for every method; ARI over seeds 0..{args.seeds - 1}:")
    for name, v in results.items():
        print(f"  {name:44s} mean {np.mean(v):.3f}  min {np.min(v):.3f}  max {np.max(v):.3f}")
    print(f"  DeepClustering with k chosen by BIC: k = {bic.n_clusters_}, held-out ARI "
          f"{adjusted_rand_score(y_test, bic.predict(test)):.3f}")
    print(f"  supervised reference (random forest on the training frames' labels): ARI "
          f"{supervised_ceiling(x_train, truth[:train.n_frames], x_test, y_test):.3f}")


class PlaneRestraint:
    """User force term (mdlearn's force-term protocol): ``U = k/2 Σ (z_i - z0)²`` holds atoms in a plane.

    With k = 2000 ε/σ² the rms height at T* = 0.17 is sqrt(T/k) = 0.009 σ, and the stiff mode (ω = 45 / τ, ω dt =
    0.22) is well inside BAOAB's stable range; the in-plane dynamics is that of the 2D cluster."""

    name, cutoff = "plane", None

    def __init__(self, z0, k=2000.0):
        self.z0, self.k = z0, k

    def attach(self, state):
        pass

    def compute(self, state, nlist, request, out):
        dz = state.positions[:, 2] - self.z0
        out.forces[:, 2] -= self.k * dz
        if request.virial:  # an external field: W_zz = Σ z_i F_z,i, as PlanarWalls
            out.add_virial(np.diag([0.0, 0.0, -float(np.sum(state.positions[:, 2] * self.k * dz))]))
        return 0.5 * self.k * float(dz @ dz) if request.energy else 0.0


def lj7_2d_minima(seed=0):
    """The four 2D LJ7 minima (N, 2), lowest first: quenches of random planar starts, one per energy level."""
    energies, minima = quench(np.random.default_rng(seed).uniform(0, 2.5, size=(300, 7, 2)))
    labels, levels = group_minima(energies, tol=1e-3)
    counts = np.bincount(labels)
    found = [g for g in range(len(levels)) if counts[g] >= 5][:4]  # single hits are saddles or fragments
    return levels[found], np.array([minima[labels == g][0] for g in found])


def simulate_lj7_2d(path, start, temperature, steps, every, seed):
    """Run planar LJ7 from ``start`` (N, 2) with mdlearn and write a DCD (+ PDB) through TrajectoryReporter."""
    box = 30.0
    x = np.column_stack([start - start.mean(axis=0) + box / 2, np.full(len(start), box / 2)])
    st = mdl.State(x, box=[box] * 3, units="lj")
    st.set_temperature(temperature, seed=seed)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=4.0), PlaneRestraint(box / 2)]),
                         mdl.Langevin(dt=0.005, temperature=temperature, friction=1.0, seed=seed + 1))
    sim.add_reporter(mdl.TrajectoryReporter(path, every=every, unwrap=True))
    sim.run(steps, progress=False)
    sim.close()
    return md.load(path, top=os.path.splitext(path)[0] + ".pdb")


def lj7_2d_data(args):
    """Frames (per run) and quenched energies of the states2d runs: simulated and quenched, or read from
    ``args.cache`` when that file exists (and written there when it does not)."""
    levels0, starts = lj7_2d_minima()
    print("2D LJ7 minima " + ", ".join(f"{e:.4f}" for e in levels0) + " (published "
          + ", ".join(map(str, LJ7_2D_MINIMA)) + f"; largest difference {np.abs(levels0 - LJ7_2D_MINIMA).max():.3f})")
    if args.cache and os.path.exists(args.cache):  # frames and quenched energies of an earlier run
        saved = np.load(args.cache)
        top = md.load_topology(args.cache[:-4] + ".pdb")
        runs = {part: [md.Trajectory(x, top) for x in np.split(saved[part], np.cumsum(saved[f"{part}_len"])[:-1])]
                for part in ("train", "test")}
        energies, t_sim, t_quench = saved["energies"], float("nan"), float("nan")
    else:
        t0 = time.perf_counter()
        runs = {"train": [], "test": []}
        with tempfile.TemporaryDirectory() as tmp:
            for i, start in enumerate(starts):
                for part, seed in (("train", args.seed + 10 * i), ("test", args.seed + 10 * i + 5)):
                    runs[part].append(simulate_lj7_2d(os.path.join(tmp, f"{part}{i}.dcd"), start, args.temperature,
                                                      args.steps, args.every, seed))
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        xyz = np.concatenate([r.xyz for r in runs["train"] + runs["test"]]).astype(np.float64)
        energies, _ = quench(xyz[:, :, :2], on_failure="nan")  # NaN: unassigned (e.g. an atom drifting off)
        t_quench = time.perf_counter() - t0
        if args.cache:
            runs["train"][0][0].save_pdb(args.cache[:-4] + ".pdb")
            np.savez(args.cache, energies=energies, **{p: np.concatenate([r.xyz for r in runs[p]]) for p in runs},
                     **{f"{p}_len": [r.n_frames for r in runs[p]] for p in runs})
    return runs, energies, t_sim, t_quench


def states2d(args):
    """Planar LJ7 where isomers interconvert inside every run; four runs train, four others are held out."""
    runs, energies, t_sim, t_quench = lj7_2d_data(args)
    train, test = md.join(runs["train"]), md.join(runs["test"])
    xyz = np.concatenate([train.xyz, test.xyz])
    labels, levels = group_minima(energies, tol=1e-3)
    counts = np.bincount(labels[labels >= 0])
    states = np.flatnonzero(counts >= 0.005 * len(labels))  # the isomers; the rest: saddles, failed quenches
    truth = np.where(np.isin(labels, states), np.searchsorted(states, labels), -1)
    y_test, scored = truth[train.n_frames:], truth[train.n_frames:] >= 0
    k = len(states)
    changes = [int(np.sum(np.diff(truth[s:s + r.n_frames]) != 0)) for s, r in
               zip(np.cumsum([0] + [r.n_frames for r in runs["train"] + runs["test"]])[:-1],
                   runs["train"] + runs["test"], strict=True)]
    print(f"T* = {args.temperature}: 4 + 4 runs of {args.steps} steps, a frame every {args.every}; {train.n_frames} "
          f"training + {test.n_frames} held-out frames; simulation {t_sim:.1f} s, quench {t_quench:.1f} s; "
          f"z rms {xyz[:, :, 2].std():.4f} σ")
    print("isomers " + ", ".join(f"{e:.4f}" for e in levels[states]) + f"; frames per isomer "
          f"{counts[states].tolist()}, unassigned (saddle or failed quench) {int((truth < 0).sum())}; isomer "
          f"changes per run (train, held out) {changes}")
    feat = {"distances": Distances(sort=True), "coordination": CoordinationNumbers(r0=1.5),
            "spectrum": ContactSpectrum(r0=1.5)}[args.features]
    x_train, x_test = feat(train), feat(test)
    per_run = np.split(x_train.astype(np.float64), np.cumsum([r.n_frames for r in runs["train"]])[:-1])

    def ari(pred):
        return adjusted_rand_score(y_test[scored], pred[scored])

    common = dict(featurizer=feat, latent_dim=args.dim, hidden=(32,), n_clusters=k)
    methods = set(args.methods.split(","))
    results = {}
    for seed in range(args.seeds):
        if "vampnet" in methods:  # latent dimension k - 1 (the default for model="vampnet"), k-means
            t0 = time.perf_counter()
            vn = DeepClustering(featurizer=feat, model="vampnet", lag=args.vamp_lag, hidden=(32,), epochs=300,
                                patience=30, batch_size=1024, n_clusters=k, random_state=seed).fit(train)
            name = f"DeepClustering, VAMPnet (lag {args.vamp_lag}, dim k-1 = {k - 1}) + k-means"
            results.setdefault(name, []).append(ari(vn.predict(test)))
            h = vn.history_
            print(f"  {name}, network seed {seed}: ARI {results[name][-1]:.3f}; validation VAMP-2 start "
                  f"{-h['validation'][0]:.3f}, best {-h['validation'][h['best_epoch']]:.3f} (epoch "
                  f"{h['best_epoch']}); fit {time.perf_counter() - t0:.1f} s", flush=True)
        if "vampstart" in methods:  # ablation: the VAMPnet's starting point (linear VAMP, no training)
            v0 = DeepClustering(featurizer=feat, model="vampnet", lag=args.vamp_lag, hidden=(32,), epochs=1,
                                learning_rate=0.0, n_clusters=k, random_state=seed).fit(train)
            results.setdefault(f"  its start: linear VAMP (lag {args.vamp_lag}, dim {k - 1}) + k-means, no training",
                               []).append(ari(v0.predict(test)))
        if "ae" in methods:
            dc = DeepClustering(epochs=100, patience=10, clustering="gmm", random_state=seed, **common).fit(train)
            results.setdefault("DeepClustering, AE + GMM (100 epochs)", []).append(ari(dc.predict(test)))
        if "tae" in methods:
            tae = DeepClustering(epochs=args.epochs, patience=args.patience, lag=args.lag, clustering="kmeans",
                                 random_state=seed, **common).fit(train)
            results.setdefault(f"DeepClustering, time-lagged AE (lag {args.lag}) + k-means ({args.epochs} epochs)",
                               []).append(ari(tae.predict(test)))
        if "baselines" not in methods:
            continue
        for dim in sorted({args.dim, 2, 3, k - 1}):  # k - 1: the VAMPnet's latent dimension
            results.setdefault(f"PCA ({dim}) + k-means", []).append(ari(pca_kmeans(x_train, x_test, k, seed, dim)))
            for lag in sorted({args.lag, 2, 10, args.vamp_lag}):
                results.setdefault(f"tICA ({dim}, lag {lag}) + k-means", []).append(
                    ari(tica_kmeans(per_run, x_test, k, lag, seed, dim)))
    print(f"features {feat!r}, k = {k} for every method; held-out ARI over seeds 0..{args.seeds - 1}:")
    for name, v in results.items():
        print(f"  {name:66s} mean {np.mean(v):.3f}  min {np.min(v):.3f}  max {np.max(v):.3f}")
    if "k" in methods:
        sil = DeepClustering(epochs=args.epochs, patience=args.patience, lag=args.lag, clustering="kmeans",
                             criterion="silhouette", random_state=0, **{**common, "n_clusters": None}).fit(train)
        bic = DeepClustering(epochs=100, patience=10, clustering="gmm", random_state=0,
                             **{**common, "n_clusters": None}).fit(train)
        print(f"  k chosen by DeepClustering: silhouette (time-lagged AE + k-means) k = {sil.n_clusters_}, ARI "
              f"{ari(sil.predict(test)):.3f}; BIC (AE + GMM) k = {bic.n_clusters_}, ARI "
              f"{ari(bic.predict(test)):.3f}")
    ok = truth[:train.n_frames] >= 0
    print(f"  supervised reference (random forest on the training frames' labels): ARI "
          f"{supervised_ceiling(x_train[ok], truth[:train.n_frames][ok], x_test[scored], y_test[scored]):.3f}")


def scale(args):
    """Simulate an LJ100 cluster with mdlearn (frames to DCD), then time DeepClustering on the file."""
    import torch

    n, every = args.atoms, args.every
    rng = np.random.default_rng(args.seed)
    start = quench(rng.uniform(0, (n / 0.8) ** (1 / 3), size=(1, n, 3)), maxiter=20000)[1][0]
    out = args.dir or tempfile.mkdtemp(prefix="mdl-scale-")
    os.makedirs(out, exist_ok=True)
    path, top = os.path.join(out, "traj.dcd"), os.path.join(out, "traj.pdb")
    box = 40.0
    st = mdl.State(start - start.mean(axis=0) + box / 2, box=[box] * 3, units="lj")
    st.set_temperature(args.temperature, seed=args.seed)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.LennardJones(cutoff=4.0)]),
                         mdl.Langevin(dt=0.005, temperature=args.temperature, friction=1.0, seed=args.seed + 1))
    sim.add_reporter(mdl.TrajectoryReporter(path, every=every, unwrap=True))
    t0 = time.perf_counter()
    sim.run(args.frames * every, progress=False)
    sim.close()
    t_sim = time.perf_counter() - t0
    print(f"scale: LJ{n} cluster, T* = {args.temperature}, Langevin dt 0.005, {args.frames * every} steps, a frame "
          f"every {every} steps -> {path}: {t_sim:.1f} s ({t_sim / (args.frames * every) * 1e6:.1f} us/step)")
    traj = md.load(path, top=top)
    r = np.linalg.norm(traj.xyz - traj.xyz.mean(axis=1, keepdims=True), axis=2).max(axis=1)
    e = quench(traj.xyz[::max(1, traj.n_frames // 10)].astype(np.float64), on_failure="nan")[0]
    print(f"  {traj.n_frames} frames; largest atom distance from the centre {r.max():.2f} σ (bound); quench "
          f"energies of 10 frames spread over the run: {np.round(e, 2).tolist()}")
    del traj, r
    print(f"  {n * (n - 1) // 2} distances per frame; torch threads {torch.get_num_threads()}; no ground truth "
          "(the target is time)")
    t0 = time.perf_counter()
    x = Distances()(md.load(path, top=top))
    t_feat = time.perf_counter() - t0
    print(f"  load + featurize alone: {t_feat:.1f} s ({x.nbytes / 1e9:.1f} GB float32)")
    del x
    common = dict(epochs=args.epochs, patience=3, max_train_frames=20000, top=top, random_state=0)
    models = {"dense": dict(latent_dim=3),
              "vampnet": dict(model="vampnet", lag=args.lag, n_clusters=args.vamp_clusters)}
    for name in args.models.split(","):
        dc = DeepClustering(**common, **models[name])
        t0 = time.perf_counter()
        dc.fit(path)
        t_fit = time.perf_counter() - t0
        print(f"  {name}: fit end to end from the file {t_fit:.1f} s (load, featurize, train "
              f"{len(dc.history_['train']) - (name == 'vampnet')} epochs on 20,000 frames, encode all, "
              f"{'GMM k by BIC 1..8' if dc.n_clusters is None else f'{dc._clustering()} k = {dc.n_clusters}'}, LOF, "
              f"medoids); k = {dc.n_clusters_}, populations {dc.populations_.tolist()}")
        del dc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("states", "states2d", "scale"))
    p.add_argument("--temperature", type=float, help="T* (default: 0.13 for states, 0.17 for states2d, 0.3 for "
                   "scale)")
    p.add_argument("--steps", type=int, help="steps per run (default: 3000 for states, 150000 for states2d)")
    p.add_argument("--every", type=int, help="steps between frames (default: 10 for states, 100 for states2d)")
    p.add_argument("--lag", type=int, help="tICA and time-lagged autoencoder lag in frames (default: 10; 2 for "
                   "states2d)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--dim", type=int, help="latent / PCA / tICA dimension (default: 3; 2 for states2d)")
    p.add_argument("--features", choices=("distances", "coordination", "spectrum"), default="distances",
                   help="states2d: sorted distances, sorted coordination numbers or contact spectrum (r0 1.5 σ)")
    p.add_argument("--patience", type=int, default=50, help="states2d: early-stopping patience of the lagged AE")
    p.add_argument("--methods", default="vampnet,vampstart,baselines",
                   help="states2d: comma-separated subset of vampnet (VAMPnet + k-means), vampstart (its starting "
                   "point: linear VAMP + k-means, no training), ae (AE + GMM), tae "
                   "(time-lagged AE + k-means), baselines (PCA / tICA grids), k (k chosen by silhouette and BIC)")
    p.add_argument("--vamp-lag", type=int, default=10, help="states2d: VAMPnet lag in frames")
    p.add_argument("--cache", help="states2d: .npz that keeps the frames and quench energies (read when it exists)")
    p.add_argument("--frames", type=int, default=100000)
    p.add_argument("--atoms", type=int, default=100)
    p.add_argument("--dir", help="scale: folder for traj.dcd + traj.pdb, kept (default: a new temporary folder)")
    p.add_argument("--models", default="dense,vampnet", help="scale: comma-separated subset of dense, vampnet")
    p.add_argument("--vamp-clusters", type=int, default=4, help="scale: k for the VAMPnet (latent dim k - 1)")
    p.add_argument("--epochs", type=int, help="scale: 20; states2d: 500 (time-lagged AE)")
    p.add_argument("--seed", type=int, default=1,
                   help="data seed s; states2d: training runs use seeds s, s+10, s+20, s+30 and held-out runs s+5, "
                   "..., s+35, so data seeds s and t share runs when s = t mod 5 and |s - t| <= 35 (e.g. data seed 6 "
                   "holds 7 of the 8 runs of data seed 1, with training and held-out roles swapped)")
    args = p.parse_args()
    two = args.what == "states2d"
    temperature = {"states": 0.13, "states2d": 0.17, "scale": 0.3}[args.what]
    for key, default in (("temperature", temperature), ("steps", 150000 if two else 3000),
                         ("every", 100 if two else 10), ("lag", 2 if two else 10), ("dim", 2 if two else 3),
                         ("epochs", 500 if two else 20)):
        if getattr(args, key) is None:
            setattr(args, key, default)
    {"states": states, "states2d": states2d, "scale": scale}[args.what](args)


if __name__ == "__main__":
    main()
