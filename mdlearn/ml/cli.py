"""``mdlearn surrogate train SOURCE`` and ``mdlearn surrogate predict MODEL``."""
import functools
import sys

__all__ = ["add_parser"]

CONFINED_INPUTS = "h,z_pos,z_neg,c,d"
CONFINED_OUTPUTS = "contact,peak,mid"


def _names(text):
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise ValueError(f"expected comma-separated names, got {text!r}")
    return names


def add_parser(sub, positive_int):
    """Add the ``surrogate`` command to the ``mdlearn`` subparsers."""
    sur = sub.add_parser("surrogate", help="train or query a learned surrogate of a campaign",
                         description="Learned surrogates (mdlearn.ml.Surrogate) of simulation campaigns.")
    ssub = sur.add_subparsers(dest="surrogate_command", metavar="ACTION", required=True)
    train = ssub.add_parser("train", help="train on a campaign folder or CSV table and report metrics",
                            description="Train on the successful runs of a campaign (folder or CSV), hold out a "
                                        "test set, report RMSE, within-error-bar fractions, lookup time and "
                                        "effective speedup; write model, metrics.json and plots.")
    train.add_argument("source", help="campaign folder (campaign.json + results/) or CSV table")
    train.add_argument("--inputs", default=CONFINED_INPUTS, help=f"input columns (default {CONFINED_INPUTS})")
    train.add_argument("--outputs", default=CONFINED_OUTPUTS,
                       help=f"output columns, each with a <name>_err column (default {CONFINED_OUTPUTS})")
    train.add_argument("--out", default="surrogate-output", help="output folder (default surrogate-output)")
    train.add_argument("--test-fraction", type=float, default=0.2, help="held-out fraction (default 0.2)")
    train.add_argument("--seed", type=int, default=0, help="split and model seed (default 0)")
    train.add_argument("--epochs", type=positive_int, default=1000, help="training epochs (default 1000)")
    train.add_argument("--models", type=positive_int, default=5, help="ensemble members (default 5)")
    train.add_argument("--hidden", default="32,32", help="hidden layer widths (default 32,32)")
    train.add_argument("--curve-points", type=int, default=4, help="learning-curve sizes, 0 for none (default 4)")
    train.add_argument("--curve-repeats", type=positive_int, default=1,
                       help="random training subsets per learning-curve size (default 1)")
    train.add_argument("--cv", type=int, default=0,
                       help="also measure the fractions by k-fold cross-validation over all runs (default 0: no)")
    train.add_argument("--blocks", type=int, default=None,
                       help="blocks behind each standard error (mdlearn.campaign.confined: 10): also report the "
                            "fraction within the 95%% confidence interval, t(0.975, blocks-1) standard errors")
    train.set_defaults(func=_train)
    pred = ssub.add_parser("predict", help="predict outputs for inputs given as name=value or a CSV file")
    pred.add_argument("model", help="surrogate .npz file written by 'surrogate train'")
    pred.add_argument("inputs", nargs="+", help="name=value pairs (one point) or a CSV file with the input columns")
    pred.set_defaults(func=_predict)


def _user_errors(func):
    @functools.wraps(func)
    def wrapper(args):
        from ..config import ConfigError

        try:
            return func(args)
        except (ValueError, FileNotFoundError) as exc:
            raise ConfigError(str(exc)) from exc

    return wrapper


@_user_errors
def _train(args):
    from .train import load_table, train_and_report

    if not 0 < args.test_fraction < 1:
        raise ValueError(f"--test-fraction must be between 0 and 1, got {args.test_fraction}")
    hidden = tuple(int(h) for h in _names(args.hidden))
    train_and_report(load_table(args.source), _names(args.inputs), _names(args.outputs), args.out,
                     test_fraction=args.test_fraction, seed=args.seed, curve_sizes=args.curve_points,
                     curve_repeats=args.curve_repeats, n_blocks=args.blocks, cv_folds=args.cv,
                     model_params={"epochs": args.epochs, "n_models": args.models, "hidden": hidden})
    print(f"wrote {args.out}/surrogate.npz, metrics.json and plots")
    return 0


@_user_errors
def _predict(args):
    import os

    import numpy as np
    import pandas as pd

    from .surrogate import Surrogate

    model = Surrogate.load(args.model)
    names = list(getattr(model, "feature_names_in_", []))
    if len(args.inputs) == 1 and os.path.isfile(args.inputs[0]):
        frame = pd.read_csv(args.inputs[0])
    else:
        pairs = [a.split("=", 1) for a in args.inputs]
        bad = [a for a, p in zip(args.inputs, pairs, strict=True) if len(p) != 2]
        if bad:
            raise ValueError(f"inputs must be name=value or one CSV file, got {bad}")
        frame = pd.DataFrame([{k: float(v) for k, v in pairs}])
    if names:
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise ValueError(f"missing inputs {missing}; the model takes {names}")
        frame = frame[names]
    mean, std = model.predict(frame.to_numpy(dtype=float), return_std=True)
    mean, std = np.atleast_2d(mean.T).T, np.atleast_2d(std.T).T
    outs = getattr(model, "output_names_", None) or [f"y{j}" for j in range(mean.shape[1])]
    result = frame.copy()
    for j, name in enumerate(outs):
        result[name], result[f"{name}_std"] = mean[:, j], std[:, j]
    result.to_csv(sys.stdout, index=False, float_format="%.6g")
    return 0
