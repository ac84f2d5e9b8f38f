"""Deep clustering of trajectory frames: featurize, compress with an autoencoder, cluster the latent space.

After DeepDriveMD (Bhowmik et al., BMC Bioinformatics 19:484, 2018; Lee et al., arXiv 1909.07817): a
(variational) autoencoder trained on frame features without labels separates conformational states, and local
outlier factors in its latent space pick frames from which to restart simulations.
"""
import os

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .featurizers import make_featurizer

__all__ = ["DeepClustering", "load_trajectory"]

_MEDOID_SAMPLE = 2000  # members per cluster over which the medoid is searched (O(m²) distances)
_SILHOUETTE_SAMPLE = 5000


def load_trajectory(trajectory, top=None, stride=1):
    """An ``mdtraj.Trajectory`` from a trajectory object or a file mdtraj reads.

    DCD and XTC need ``top`` (a PDB, or anything ``mdtraj.load_topology`` reads); HDF5 and PDB carry their
    own. A topology whose atom count differs from the trajectory's raises ``ValueError`` naming both.

    Examples
    --------
    >>> import mdtraj as md, numpy as np
    >>> top = md.Topology(); ch = top.add_chain()
    >>> for _ in range(2): _ = top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    >>> load_trajectory(md.Trajectory(np.zeros((6, 2, 3), np.float32), top), stride=2).n_frames
    3
    """
    import mdtraj as md

    if int(stride) != stride or stride < 1:
        raise ValueError(f"stride must be a positive integer, got {stride!r}")
    stride = int(stride)
    if isinstance(trajectory, md.Trajectory):
        return trajectory[::stride] if stride > 1 else trajectory
    if not isinstance(trajectory, (str, os.PathLike)):
        raise TypeError(f"trajectory must be an mdtraj.Trajectory or a file path, got {type(trajectory).__name__}")
    path = os.fspath(trajectory)
    if not os.path.exists(path):
        raise FileNotFoundError(f"trajectory file {path!r} does not exist")
    ext = os.path.splitext(path)[1].lower()
    if top is None and ext not in (".h5", ".pdb", ".gro", ".mol2", ".lh5"):
        raise ValueError(f"trajectory {path!r} has no topology of its own: pass top= (e.g. the PDB written beside it)")
    if top is not None and not isinstance(top, md.Topology) and not os.path.exists(os.fspath(top)):
        raise FileNotFoundError(f"topology file {os.fspath(top)!r} does not exist")
    kwargs = {} if top is None else {"top": top}
    try:
        return md.load(path, stride=stride, **kwargs)
    except ValueError as exc:
        n_top = (top if isinstance(top, md.Topology) else md.load_topology(os.fspath(top))).n_atoms
        with md.open(path) as fh:
            first = fh.read(n_frames=1)
        n_traj = (first[0] if isinstance(first, tuple) else first.xyz).shape[1]
        if n_top != n_traj:
            raise ValueError(f"topology {top!s} has {n_top} atoms but trajectory {path!r} has {n_traj}: "
                             "they do not belong together") from exc
        raise


def _trajectory_of_simulation(sim):
    """The (path, topology) written by the simulation's one ``TrajectoryReporter``."""
    from ..reporters.trajectory import TrajectoryReporter

    reps = [r for r in sim.reporters if isinstance(r, TrajectoryReporter)]
    if not reps:
        raise ValueError("the simulation has no TrajectoryReporter to read frames from: add one "
                         "(sim.add_reporter(mdl.TrajectoryReporter('traj.dcd', every=...))) or pass trajectory=")
    if len(reps) > 1:
        raise ValueError(f"the simulation writes {len(reps)} trajectories ({', '.join(r.path for r in reps)}); "
                         "pass trajectory= (and top=) to choose one")
    rep = reps[0]
    rep.flush()
    return rep.path, rep.topology_path


class DeepClustering(ClusterMixin, BaseEstimator):
    """Cluster trajectory frames in the latent space of an autoencoder trained on their features.

    ``fit(trajectory)``: featurize every frame, train a torch autoencoder on (at most ``max_train_frames``
    of) them, encode all frames, cluster the latent vectors with scikit-learn, and describe the clusters.
    As an analyzer (``sim.add_analyzer(DeepClustering(...))``) it fits the trajectory the simulation wrote
    when ``run`` returns; see :meth:`analyze`.

    Parameters
    ----------
    featurizer : {"distances", "contacts", "coordination", "spectrum"} or callable
        Pairwise distances of ``selection`` (nm), contact maps with ``cutoff`` (nm), sorted smooth coordination
        numbers or the contact-matrix spectrum with switching radius ``cutoff`` (nm; see
        :mod:`mdlearn.analysis.featurizers`), or ``fn(traj) -> array``.
    selection : str or sequence of int
        ``"all"``, an mdtraj selection string or atom indices.
    cutoff : float
        Contact cutoff, or switching radius r0 of the smooth contacts, in nm (reduced-unit mdlearn files: σ).
    sort_distances : bool
        Sort each frame's distances: invariant to swapping identical atoms (atomic clusters, liquids).
    model : {"auto", "dense", "vae", "vampnet"}
        Dense autoencoder on feature vectors, convolutional VAE on contact maps ("auto": VAE for maps), or a
        VAMPnet (Mardt et al., Nat. Commun. 9, 5, 2018; :mod:`mdlearn.analysis.vampnets`): a dense network
        trained to maximise the VAMP-2 score of frame pairs ``lag`` frames apart, the nonlinear generalisation of
        tICA. It starts from the linear VAMP (tICA-like) solution and keeps the weights with the best VAMP-2
        score on held-out pairs; the latent coordinates are its VAMP singular functions scaled by their
        singular values (a kinetic map: distances weigh slow processes most), clustered centred but not
        rescaled. Needs ``lag >= 1`` and frames in time order. On planar LJ7, where isomers interconvert
        (benchmarks/README.md), it reached ARI 0.95-0.96 against quench labels on 4 of 5 fresh data sets (0.85
        on the fifth), within 0.02 over network seeds, where the time-lagged autoencoder varied by up to 0.8.
        Example: ``DeepClustering(sort_distances=True, model="vampnet", lag=10, n_clusters=4,
        hidden=(32,), epochs=300, patience=30, batch_size=1024)``.
    latent_dim, hidden, filters : int or None, tuple, int
        Latent dimension (None: ``n_clusters - 1`` for a VAMPnet with ``n_clusters`` given, as k metastable
        states are told apart by the k - 1 slowest processes; 3 otherwise); dense hidden layer sizes; VAE
        convolution channels.
    epochs, batch_size, learning_rate, patience, validation_fraction :
        Adam training; stop after ``patience`` epochs without a better validation loss (None: never). A
        VAMPnet's loss is minus the VAMP-2 score of a batch of pairs (covariances need large batches, ~1000),
        and its validation pairs are whole blocks of 50 consecutive pairs.
    scale : {"global", "feature"}
        Dense model input: features minus their mean, divided by one overall standard deviation ("global",
        right for features in one unit such as distances: a feature that barely fluctuates stays small) or
        by each feature's own ("feature", for mixed units from a callable). On LJ7 isomers per-feature
        scaling let thermal noise in the bond lengths drown the few distances that tell isomers apart.
    lag : int
        0: a plain autoencoder. > 0: a time-lagged autoencoder (Wehmeyer & Noé, J. Chem. Phys. 148, 241703,
        2018) that reconstructs the frame ``lag`` frames later, so its latent space keeps the slow coordinates
        (state changes) and forgets fast thermal noise. Frames must be in time order (dense model only).
        For ``model="vampnet"``: the lag τ of the frame pairs (frames), >= 1.
    max_train_frames : int or None
        Train on a random subset of this many frames (all frames are encoded and clustered).
    clustering : {"auto", "gmm", "kmeans", "dbscan"}
        Full-covariance Gaussian mixture, k-means or DBSCAN on the standardized latent space; "auto": k-means
        on the kinetic latent spaces (``model="vampnet"`` or ``lag > 0``) unless the number of clusters is to
        be chosen by BIC, a Gaussian mixture otherwise. When one state
        holds most frames its latent cloud is not Gaussian and the mixture tends to split it: on planar LJ7
        (benchmarks/README.md) k-means on a time-lagged autoencoder's latent space scored ARI 0.96 where a
        mixture on the same latent space scored 0.64-0.82.
    n_clusters : int or None
        For GMM / k-means; None chooses it in ``range(min_clusters, max_clusters + 1)`` by ``criterion``.
    criterion : {"bic", "silhouette"}
        BIC of the Gaussian mixture (lowest wins; GMM only) or the silhouette score (highest wins).
    dbscan_eps, dbscan_min_samples :
        DBSCAN on the standardized latent space (unit variance per latent dimension); label -1 is noise.
    lof_neighbors : int
        Neighbours of the local outlier factor.
    trajectory, top, stride :
        What :meth:`analyze` reads (default: the simulation's own ``TrajectoryReporter`` file) and the
        frame stride applied when loading.
    output_dir : str or None
        When set, :meth:`analyze` also writes the outputs of :meth:`save` there.
    name : str
        Key of the result in ``sim.analysis``.
    random_state : int or None
        Seeds training, subsampling and clustering; same seed, same labels.

    Attributes
    ----------
    labels_ : (n_frames,) int
        Cluster of each frame, numbered by decreasing population (-1: DBSCAN noise).
    latent_ : (n_frames, latent_dim) float64
    cluster_centers_ : (n_clusters_, latent_dim)
        Mean latent vector of each cluster.
    medoids_ : (n_clusters_,) int
        Frame of each cluster with the least summed latent distance to the other members.
    populations_ : (n_clusters_,) int
        Frames per cluster.
    transition_counts_ : (n_clusters_, n_clusters_) int
        ``[a, b]``: consecutive frame pairs going from cluster a to b (noise frames skipped).
    outlier_scores_ : (n_frames,) float
        Local outlier factor (≈1 inside a cluster, larger for outliers); see :meth:`outliers`.
    representatives_ : mdtraj.Trajectory
        The medoid frames, one per cluster.
    selection_scores_ : dict
        Criterion value per tried number of clusters (empty when it was given).
    history_ : dict
        Training and validation losses per epoch (VAMPnet: minus the VAMP-2 score; entry 0 is the start).
    vamp_singular_values_ : (latent_dim,) float
        VAMPnet only: singular values of the latent coordinates (≈ exp(-lag / implied timescale)).

    Examples
    --------
    >>> import mdtraj as md, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> top = md.Topology(); ch = top.add_chain()
    >>> for _ in range(4): _ = top.add_atom("Ar", md.element.argon, top.add_residue("AR", ch))
    >>> a = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    >>> b = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]], np.float32)
    >>> xyz = np.concatenate([a + 0.02 * rng.normal(size=(40, 4, 3)), b + 0.02 * rng.normal(size=(40, 4, 3))])
    >>> dc = DeepClustering(latent_dim=2, hidden=(16,), epochs=30, n_clusters=2, random_state=0)
    >>> labels = dc.fit_predict(md.Trajectory(xyz.astype(np.float32), top))
    >>> len(set(labels[:40])), len(set(labels[40:])), bool(labels[0] != labels[-1])
    (1, 1, True)
    """

    def __init__(self, featurizer="distances", selection="all", cutoff=0.8, sort_distances=False, model="auto",
                 latent_dim=None, hidden=(128, 32), filters=32, epochs=50, batch_size=256, learning_rate=1e-3,
                 patience=5, validation_fraction=0.1, scale="global", lag=0, max_train_frames=20000, clustering="auto",
                 n_clusters=None, min_clusters=2, max_clusters=8, criterion="bic", dbscan_eps=0.3,
                 dbscan_min_samples=10,
                 lof_neighbors=20, trajectory=None, top=None, stride=1, output_dir=None,
                 name="deep_clustering", random_state=None):
        self.featurizer = featurizer
        self.selection = selection
        self.cutoff = cutoff
        self.sort_distances = sort_distances
        self.model = model
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.filters = filters
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.scale = scale
        self.lag = lag
        self.max_train_frames = max_train_frames
        self.clustering = clustering
        self.n_clusters = n_clusters
        self.min_clusters = min_clusters
        self.max_clusters = max_clusters
        self.criterion = criterion
        self.dbscan_eps = dbscan_eps
        self.dbscan_min_samples = dbscan_min_samples
        self.lof_neighbors = lof_neighbors
        self.trajectory = trajectory
        self.top = top
        self.stride = stride
        self.output_dir = output_dir
        self.name = name
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        if self.clustering not in ("auto", "gmm", "kmeans", "dbscan"):
            raise ValueError(f"clustering must be 'auto', 'gmm', 'kmeans' or 'dbscan', got {self.clustering!r}")
        if self.model not in ("auto", "dense", "vae", "vampnet"):
            raise ValueError(f"model must be 'auto', 'dense', 'vae' or 'vampnet', got {self.model!r}")
        if self.model == "vampnet" and (int(self.lag) != self.lag or self.lag < 1):
            raise ValueError(f"model='vampnet' learns from frame pairs a lag apart: lag must be a positive integer "
                             f"(frames), got {self.lag!r}")
        if self.criterion not in ("bic", "silhouette"):
            raise ValueError(f"criterion must be 'bic' or 'silhouette', got {self.criterion!r}")
        if self.latent_dim is not None and (int(self.latent_dim) != self.latent_dim or self.latent_dim < 1):
            raise ValueError(f"latent_dim must be a positive integer or None, got {self.latent_dim!r}")
        for key in ("epochs", "batch_size", "max_clusters", "lof_neighbors", "dbscan_min_samples"):
            v = getattr(self, key)
            if int(v) != v or v < 1:
                raise ValueError(f"{key} must be a positive integer, got {v!r}")
        if self.n_clusters is not None and (int(self.n_clusters) != self.n_clusters or self.n_clusters < 1):
            raise ValueError(f"n_clusters must be a positive integer or None, got {self.n_clusters!r}")
        if int(self.lag) != self.lag or self.lag < 0:
            raise ValueError(f"lag must be a non-negative integer (frames), got {self.lag!r}")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        if self.criterion == "bic" and self._clustering() == "kmeans" and self.n_clusters is None:
            raise ValueError("criterion='bic' needs a likelihood: use clustering='gmm' or criterion='silhouette'")

    def _clustering(self):
        """The clusterer ``clustering="auto"`` stands for: k-means on a kinetic latent space (``model="vampnet"``
        or ``lag > 0``) unless the number of clusters is to be chosen by BIC, a Gaussian mixture otherwise."""
        if self.clustering != "auto":
            return self.clustering
        kinetic = self.model == "vampnet" or self.lag > 0
        return "kmeans" if kinetic and not (self.n_clusters is None and self.criterion == "bic") else "gmm"

    def _latent_dim(self):
        """``latent_dim``, or for None: ``n_clusters - 1`` for a VAMPnet told the number of clusters (k metastable
        states are told apart by the k - 1 slowest processes), otherwise 3."""
        if self.latent_dim is not None:
            return int(self.latent_dim)
        if self.model == "vampnet" and self.n_clusters is not None and self.n_clusters >= 2:
            return int(self.n_clusters) - 1
        return 3

    def _seed(self, k):
        """Independent integer seeds for the parts of the fit, all from ``random_state``."""
        return int(np.random.SeedSequence(self.random_state).generate_state(k + 1)[k])

    # ------------------------------------------------------------------ features and model
    def _features(self, traj):
        feat = self.featurizer_ if hasattr(self, "featurizer_") else make_featurizer(
            self.featurizer, self.selection, self.cutoff, self.sort_distances)
        x = feat(traj)
        return feat, x

    def _model_input(self, x):
        if self.kind_ == "vae":
            return x
        x = x.reshape(len(x), -1)
        return ((x - self.feature_mean_) / self.feature_scale_).astype(np.float32)

    def _build_and_train(self, x):
        import torch

        from .autoencoders import ContactMapVAE, DenseAutoencoder, train_autoencoder

        rng = np.random.default_rng(self._seed(0))
        lag = int(self.lag)
        if lag and self.kind_ == "vae":
            raise ValueError(f"lag={lag}: the time-lagged autoencoder is the dense model; use model='dense'")
        if lag >= len(x):
            raise ValueError(f"lag={lag} frames is not shorter than the trajectory ({len(x)} frames)")
        train_rows = np.arange(len(x) - lag)
        if self.max_train_frames is not None and len(train_rows) > self.max_train_frames:
            train_rows = np.sort(rng.choice(train_rows, int(self.max_train_frames), replace=False))
        if self.kind_ in ("dense", "vampnet"):
            xt = x[train_rows].reshape(len(train_rows), -1).astype(np.float64)
            self.feature_mean_ = xt.mean(axis=0)
            std = xt.std(axis=0)
            if self.scale == "feature":
                self.feature_scale_ = np.where(std > 0, std, 1.0)
            elif self.scale == "global":
                self.feature_scale_ = np.full_like(std, np.sqrt(np.mean(std**2)) or 1.0)
            else:
                raise ValueError(f"scale must be 'global' or 'feature', got {self.scale!r}")
        xt = self._model_input(x[train_rows])
        target = self._model_input(x[train_rows + lag]) if lag else None
        if self.kind_ == "vampnet":
            self._train_vampnet(xt, target)
            return
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._seed(1))
            if self.kind_ == "vae":
                model = ContactMapVAE(x.shape[1], self._latent_dim(), filters=self.filters)
            else:
                model = DenseAutoencoder(xt.shape[1], self._latent_dim(), self.hidden)
        model = model.float()
        self.history_ = train_autoencoder(model, xt, self.epochs, self.batch_size, self.learning_rate,
                                          self.patience, self.validation_fraction, seed=self._seed(2), target=target)
        self.model_ = model

    def _train_vampnet(self, x0, x1):
        import torch

        from .vampnets import VAMPNet, linear_vamp, train_vampnet

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._seed(1))
            model = VAMPNet(x0.shape[1], self._latent_dim(), self.hidden).float()
        mean, w, _ = linear_vamp(x0, x1, self._latent_dim())
        model.init_linear(mean, w)
        self.history_ = train_vampnet(model, x0, x1, self.epochs, self.batch_size, self.learning_rate, self.patience,
                                      self.validation_fraction, seed=self._seed(2))
        self.vamp_singular_values_ = model.set_projection(x0, x1)
        self.model_ = model

    def _encode(self, x):
        from .autoencoders import encode

        out = []
        for s in range(0, len(x), 20000):  # bounds the scaled copy of big feature arrays
            out.append(encode(self.model_, self._model_input(x[s:s + 20000])))
        return np.concatenate(out)

    # ------------------------------------------------------------------ clustering
    def _choose_k(self, z):
        hi = min(int(self.max_clusters), len(z) - 1)
        lo = max(1 if self.criterion == "bic" else 2, int(self.min_clusters) if self.criterion != "bic" else 1)
        if hi < lo:
            raise ValueError(f"{len(z)} frames are too few to choose a number of clusters up to "
                             f"{self.max_clusters}")
        scores = {}
        for k in range(lo, hi + 1):
            model = self._make_clusterer(k).fit(z)
            if self.criterion == "bic":
                scores[k] = float(model.bic(z))
            else:
                labels = model.predict(z)
                scores[k] = float(silhouette_score(z, labels, sample_size=min(len(z), _SILHOUETTE_SAMPLE),
                                                   random_state=self._seed(3))) if len(set(labels)) > 1 else -1.0
        best = (min if self.criterion == "bic" else max)(scores, key=scores.get)
        return best, scores

    def _make_clusterer(self, k):
        if self._clustering() == "kmeans":
            return KMeans(k, n_init=10, random_state=self._seed(4))
        return GaussianMixture(k, covariance_type="full", n_init=2, random_state=self._seed(4))

    def _cluster(self, z):
        self.selection_scores_ = {}
        if self._clustering() == "dbscan":
            db = DBSCAN(eps=self.dbscan_eps, min_samples=int(self.dbscan_min_samples)).fit(z)
            labels = db.labels_
            if labels.max() < 0:
                raise ValueError(f"DBSCAN found no cluster (every frame is noise) with eps={self.dbscan_eps} in the "
                                 "standardized latent space: increase dbscan_eps or lower dbscan_min_samples")
            self._core_ = z[db.core_sample_indices_]
            self._core_labels_ = labels[db.core_sample_indices_]
            return labels
        k = self.n_clusters
        if k is None:
            k, self.selection_scores_ = self._choose_k(z)
        self.clusterer_ = self._make_clusterer(int(k)).fit(z)
        return self.clusterer_.predict(z)

    def _assign(self, z):
        if self._clustering() != "dbscan":
            return self._relabel[self.clusterer_.predict(z)]
        nn = NearestNeighbors(n_neighbors=1).fit(self._core_)
        d, i = nn.kneighbors(z)
        labels = self._relabel[self._core_labels_[i[:, 0]]]
        labels[d[:, 0] > self.dbscan_eps] = -1
        return labels

    # ------------------------------------------------------------------ fit / predict
    def fit(self, X, y=None):
        """Fit on a trajectory (``mdtraj.Trajectory`` or file path, with ``top`` for DCD/XTC); returns self."""
        self._check_params()
        traj = load_trajectory(X, self.top, self.stride)
        n = traj.n_frames
        need = max(int(self.n_clusters or 0), int(self.min_clusters) if self.n_clusters is None else 0, 3)
        if n < need:
            raise ValueError(f"the trajectory has {n} frames: too few for {need} clusters (at least one frame "
                             "per cluster, and 3 in all, are needed)")
        self.featurizer_, x = self._features(traj)
        self.kind_ = ("vae" if x.ndim == 3 else "dense") if self.model == "auto" else self.model
        if self.kind_ == "vae" and (x.ndim != 3 or x.shape[1] != x.shape[2]):
            raise ValueError(f"model='vae' needs square contact maps (featurizer='contacts'); features have shape "
                             f"{x.shape[1:]}")
        self.n_features_ = int(np.prod(x.shape[1:]))
        self._build_and_train(x)
        self.latent_ = self._encode(x)
        # a VAMPnet's latent space is a kinetic map (distances weigh slow processes most): centred, not rescaled
        self.latent_scaler_ = StandardScaler(with_std=self.kind_ != "vampnet").fit(self.latent_)
        z = self.latent_scaler_.transform(self.latent_)
        # The latent space has a few dimensions: BLAS threads cannot help there, and threads that spin
        # on a busy machine made a Gaussian-mixture fit of 80 frames take minutes instead of a second.
        with threadpool_limits(1, user_api="blas"):
            raw = self._cluster(z)
        # number clusters by decreasing population so that labels do not depend on the clusterer's order
        ids, counts = np.unique(raw[raw >= 0], return_counts=True)
        order = ids[np.lexsort((ids, -counts))]
        self._relabel = np.full(max(raw.max() + 1, 1) + 1, -1)
        self._relabel[order] = np.arange(len(order))
        self.labels_ = self._relabel[raw]
        self.n_clusters_ = len(order)
        self._describe(traj, z)
        return self

    def _describe(self, traj, z):
        k, labels = self.n_clusters_, self.labels_
        self.populations_ = np.bincount(labels[labels >= 0], minlength=k)
        self.cluster_centers_ = np.array([self.latent_[labels == c].mean(axis=0) for c in range(k)])
        rng = np.random.default_rng(self._seed(5))
        medoids = []
        for c in range(k):
            members = np.flatnonzero(labels == c)
            if len(members) > _MEDOID_SAMPLE:
                members = np.sort(rng.choice(members, _MEDOID_SAMPLE, replace=False))
            d = np.linalg.norm(z[members, None, :] - z[None, members, :], axis=-1)
            medoids.append(int(members[np.argmin(d.sum(axis=1))]))
        self.medoids_ = np.array(medoids, dtype=np.int64)
        a, b = labels[:-1], labels[1:]
        ok = (a >= 0) & (b >= 0)
        self.transition_counts_ = np.zeros((k, k), dtype=np.int64)
        np.add.at(self.transition_counts_, (a[ok], b[ok]), 1)
        with threadpool_limits(1, user_api="blas"):
            lof = LocalOutlierFactor(n_neighbors=min(int(self.lof_neighbors), len(z) - 1)).fit(z)
        self.outlier_scores_ = -lof.negative_outlier_factor_
        self.representatives_ = traj[self.medoids_]
        self.n_frames_ = traj.n_frames

    def transform(self, X):
        """Latent vectors (float64) of the frames of a trajectory (same featurizer and topology)."""
        self._check_fitted()
        traj = load_trajectory(X, self.top, 1)
        _, x = self._features(traj)
        if int(np.prod(x.shape[1:])) != self.n_features_:
            raise ValueError(f"the trajectory gives {int(np.prod(x.shape[1:]))} features per frame; the model was "
                             f"fitted on {self.n_features_}: mismatched topology or selection")
        return self._encode(x)

    def predict(self, X):
        """Cluster labels of new frames (DBSCAN: nearest core frame within ``dbscan_eps``, else -1)."""
        z = self.latent_scaler_.transform(self.transform(X))
        with threadpool_limits(1, user_api="blas"):
            return self._assign(z)

    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``."""
        return self.fit(X).labels_

    def outliers(self, n=100):
        """Indices of the ``n`` frames with the largest local outlier factor (restart candidates), most outlying
        first."""
        self._check_fitted()
        return np.argsort(-self.outlier_scores_, kind="stable")[:int(n)]

    def _check_fitted(self):
        if not hasattr(self, "labels_"):
            raise RuntimeError("DeepClustering is not fitted yet: call fit(trajectory) first")

    # ------------------------------------------------------------------ the analyzer door
    def analyze(self, sim):
        """Fit on the trajectory ``sim`` wrote and return self (stored in ``sim.analysis[self.name]``).

        The file is ``self.trajectory`` (with ``self.top``) when given; otherwise the path of the simulation's
        only :class:`~mdlearn.TrajectoryReporter` and the PDB topology it writes beside DCD/XTC files (no
        reporter, or more than one, raises ``ValueError``). With ``output_dir`` set the outputs of :meth:`save`
        are written there too.
        """
        if self.trajectory is not None:
            path, top = self.trajectory, self.top
        else:
            path, top = _trajectory_of_simulation(sim)
        saved = self.top
        self.top = top
        try:
            self.fit(path)
        finally:
            self.top = saved
        self.source_ = os.fspath(path)
        if self.output_dir is not None:
            self.save(self.output_dir)
        return self

    # ------------------------------------------------------------------ outputs
    def write_representatives(self, directory):
        """Write each cluster's medoid frame as ``cluster_<k>.pdb`` and all of them as ``representatives.dcd``
        (topology: ``cluster_0.pdb``); returns the paths."""
        self._check_fitted()
        os.makedirs(directory, exist_ok=True)
        paths = []
        for c in range(self.n_clusters_):
            p = os.path.join(directory, f"cluster_{c}.pdb")
            self.representatives_[c].save_pdb(p)
            paths.append(p)
        p = os.path.join(directory, "representatives.dcd")
        self.representatives_.save_dcd(p)
        return [*paths, p]

    def _latent_2d(self):
        if self.latent_.shape[1] <= 2:
            z = self.latent_ if self.latent_.shape[1] == 2 else np.column_stack([self.latent_[:, 0],
                                                                                 np.zeros(len(self.latent_))])
            return z, ("latent 1", "latent 2")
        from sklearn.decomposition import PCA

        return PCA(2, random_state=0).fit_transform(self.latent_), ("latent PC 1", "latent PC 2")

    def plot_latent(self, path):
        """PNG of the latent space (2 PCs when larger than 2), coloured by cluster and by frame index."""
        from matplotlib.figure import Figure

        self._check_fitted()
        z, (xl, yl) = self._latent_2d()
        fig = Figure(figsize=(10, 4.2))
        ax1, ax2 = fig.subplots(1, 2)
        s = max(1.0, 20.0 / np.sqrt(max(len(z) / 500, 1)))
        for c in range(-1, self.n_clusters_):
            m = self.labels_ == c
            if m.any():
                ax1.scatter(z[m, 0], z[m, 1], s=s, color="0.6" if c < 0 else f"C{c % 10}",
                            label="noise" if c < 0 else f"cluster {c}")
        ax1.set(title="by cluster", xlabel=xl, ylabel=yl)
        ax1.legend(fontsize="small", markerscale=max(1.0, 3.0 / s))
        sc = ax2.scatter(z[:, 0], z[:, 1], c=np.arange(len(z)), cmap="viridis", s=s)
        ax2.set(title="by time", xlabel=xl, ylabel=yl)
        fig.colorbar(sc, ax=ax2, label="frame")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        return path

    def plot_populations(self, path):
        """PNG of the cluster populations and of the cluster of each frame along time."""
        from matplotlib.figure import Figure

        self._check_fitted()
        fig = Figure(figsize=(10, 3.8))
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
        k = self.n_clusters_
        ax1.bar(np.arange(k), self.populations_ / self.n_frames_, color=[f"C{c % 10}" for c in range(k)])
        ax1.set(xlabel="cluster", ylabel="fraction of frames", xticks=np.arange(k))
        ax2.plot(np.arange(self.n_frames_), self.labels_, ".", ms=2)
        ax2.set(xlabel="frame", ylabel="cluster", yticks=np.arange(-1 if (self.labels_ < 0).any() else 0, k))
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        return path

    def report(self):
        """A short text summary: model, training, chosen clusters, populations, medoids, transitions, outliers."""
        self._check_fitted()
        h = self.history_
        lines = [
            f"DeepClustering: {self.n_frames_} frames, featurizer {self.featurizer_!r}, "
            f"{self.n_features_} features per frame",
            f"model {self.kind_}, latent dimension {self._latent_dim()}, {len(h['train'])} epochs "
            + (f"(entry 0 is the linear VAMP start; best {h['best_epoch']}: VAMP-2 score train "
               f"{-h['train'][h['best_epoch']]:.4g}, validation {-h['validation'][h['best_epoch']]:.4g}, at the "
               f"start {-h['validation'][0]:.4g}; singular values "
               + ", ".join(f"{v:.3f}" for v in self.vamp_singular_values_) + ")"
               if self.kind_ == "vampnet" else
               f"(best {h['best_epoch'] + 1}: train loss {h['train'][h['best_epoch']]:.4g}, "
               f"validation loss {h['validation'][h['best_epoch']]:.4g})"),
            f"clustering {self._clustering()}: {self.n_clusters_} clusters"
            + (f" chosen by {self.criterion} over k = {min(self.selection_scores_)}..{max(self.selection_scores_)}"
               if self.selection_scores_ else ""),
        ]
        if (self.labels_ < 0).any():
            lines.append(f"noise frames: {(self.labels_ < 0).sum()}")
        lines.append("cluster  frames  fraction  medoid frame")
        for c in range(self.n_clusters_):
            lines.append(f"{c:7d}  {self.populations_[c]:6d}  {self.populations_[c] / self.n_frames_:8.3f}  "
                         f"{self.medoids_[c]:12d}")
        lines.append("transition counts (row: from, column: to):")
        lines += ["  " + " ".join(f"{v:6d}" for v in row) for row in self.transition_counts_]
        top = self.outliers(10)
        lines.append("most outlying frames (LOF): " + ", ".join(f"{i} ({self.outlier_scores_[i]:.2f})" for i in top))
        return "\n".join(lines) + "\n"

    def save(self, directory):
        """Write representatives (PDB, DCD), ``latent.png``, ``populations.png``, ``report.txt`` and
        ``labels.csv`` (frame, cluster, LOF score) into ``directory``; returns the paths."""
        self._check_fitted()
        paths = self.write_representatives(directory)
        paths.append(self.plot_latent(os.path.join(directory, "latent.png")))
        paths.append(self.plot_populations(os.path.join(directory, "populations.png")))
        p = os.path.join(directory, "report.txt")
        with open(p, "w") as fh:
            fh.write(self.report())
        paths.append(p)
        p = os.path.join(directory, "labels.csv")
        np.savetxt(p, np.column_stack([np.arange(self.n_frames_), self.labels_, self.outlier_scores_]),
                   fmt=["%d", "%d", "%.6g"], delimiter=",", header="frame,cluster,lof", comments="")
        paths.append(p)
        return paths
