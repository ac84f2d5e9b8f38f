"""``mdlearn analyze cluster TRAJ --top TOP``: deep clustering of a trajectory file from the command line."""
import sys

__all__ = ["add_cluster_command", "run_cluster_command"]


def add_cluster_command(sub):
    """Add the ``cluster`` subcommand to the ``analyze`` subparsers ``sub``."""
    p = sub.add_parser("cluster", help="cluster the frames of a trajectory with an autoencoder",
                       description="Featurize frames, train an autoencoder, cluster its latent space and write "
                                   "representative frames (PDB/DCD), latent.png, populations.png, report.txt "
                                   "and labels.csv (mdlearn.analysis.DeepClustering).")
    p.add_argument("trajectory", help="trajectory file mdtraj reads (DCD, XTC, HDF5, ...)")
    p.add_argument("--top", help="topology (PDB) for DCD/XTC files")
    p.add_argument("--out", default="clusters", help="output folder (default: clusters)")
    p.add_argument("--featurizer", choices=("distances", "contacts", "coordination", "spectrum"), default="distances")
    p.add_argument("--selection", default="all", help="mdtraj atom selection (default: all)")
    p.add_argument("--cutoff", type=float, default=0.8,
                   help="contact cutoff, or switching radius of coordination/spectrum, in nm (default: 0.8)")
    p.add_argument("--sort-distances", action="store_true",
                   help="sort distances per frame (identical atoms that may swap)")
    p.add_argument("--model", choices=("auto", "dense", "vae", "vampnet"), default="auto",
                   help="vampnet: a network trained on the VAMP-2 score of frame pairs --lag apart (needs --lag)")
    p.add_argument("--latent-dim", type=int, help="default: n-clusters - 1 for vampnet with --n-clusters, else 3")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--lag", type=int, default=0, help="frames: > 0 trains a time-lagged autoencoder, or the lag of "
                   "the VAMPnet's frame pairs (default: 0)")
    p.add_argument("--clustering", choices=("auto", "gmm", "kmeans", "dbscan"), default="auto",
                   help="auto: k-means for vampnet or --lag > 0 (unless k is chosen by BIC), else gmm")
    p.add_argument("--n-clusters", type=int, help="number of clusters (default: chosen by --criterion)")
    p.add_argument("--max-clusters", type=int, default=8)
    p.add_argument("--criterion", choices=("bic", "silhouette"), default="bic")
    p.add_argument("--stride", type=int, default=1, help="read every n-th frame")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.set_defaults(func=run_cluster_command)
    return p


def run_cluster_command(args):
    """Fit, write the outputs, print the report; exit status 1 with a message on bad input."""
    from .clustering import DeepClustering

    dc = DeepClustering(featurizer=args.featurizer, selection=args.selection, cutoff=args.cutoff,
                        sort_distances=args.sort_distances, model=args.model, latent_dim=args.latent_dim,
                        epochs=args.epochs, lag=args.lag, clustering=args.clustering, n_clusters=args.n_clusters,
                        max_clusters=args.max_clusters, criterion=args.criterion, top=args.top,
                        stride=args.stride, random_state=args.seed)
    try:
        dc.fit(args.trajectory)
    except (ValueError, FileNotFoundError, TypeError) as exc:
        print(f"mdlearn analyze cluster: error: {exc}", file=sys.stderr)
        return 1
    paths = dc.save(args.out)
    print(dc.report(), end="")
    print(f"wrote {len(paths)} files to {args.out}")
    return 0
