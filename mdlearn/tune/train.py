"""Fit the timestep model on the ladder data set and report held-out metrics.

    python -m mdlearn.tune.train --data data/np_timestep/ladder.csv --out data/np_timestep/model.joblib

Systems (not rows) are split: ``--test-fraction`` of them are held out, the model is fitted on the rest and
scored on the held-out systems' (system, dt) rows: balanced accuracy, recall and precision of the
"acceptable" class, and the score of always answering the majority class. The shipped model is the one fitted
on the training systems only, so ``benchmarks/timestep.py`` can evaluate it on systems it never saw.
"""
import argparse
import csv
import json

import numpy as np

from .dataset import ladder_rows
from .model import FEATURES, TimestepModel

__all__ = ["classification_scores", "grouped_cv_scores", "load_ladder", "split_systems"]
CV_ALPHAS = (0.01, 0.1, 1.0, 3.0)


def load_ladder(path):
    """Rows of the ladder CSV (one per system) as a list of dicts of floats."""
    with open(path) as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def split_systems(system_ids, test_fraction=0.25, seed=0):
    """(train ids, test ids): a seeded random split of the distinct system ids."""
    ids = np.unique(np.asarray(system_ids, dtype=int))
    rng = np.random.default_rng(seed)
    test = np.sort(rng.choice(ids, size=max(1, int(round(test_fraction * len(ids)))), replace=False))
    return np.setdiff1d(ids, test), test


def classification_scores(y_true, y_pred):
    """Balanced accuracy, recall and precision of class 1 ("acceptable"), plain accuracy, and the accuracy and
    balanced accuracy of always predicting the majority class.

    Examples
    --------
    >>> s = classification_scores([1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 1])
    >>> round(s["balanced_accuracy"], 3), s["recall_acceptable"], s["majority_accuracy"]
    (0.625, 0.5, 0.6666666666666666)
    """
    from sklearn.metrics import balanced_accuracy_score, precision_score, recall_score

    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    majority = int(np.mean(y_true) >= 0.5)
    return {
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "recall_acceptable": float(recall_score(y_true, y_pred, pos_label=1, zero_division=0)),
        "precision_acceptable": float(precision_score(y_true, y_pred, pos_label=1, zero_division=0)),
        "accuracy": float(np.mean(y_true == y_pred)),
        "majority_class": majority,
        "majority_accuracy": float(np.mean(y_true == majority)),
        "majority_balanced_accuracy": 0.5,
        "acceptable_fraction": float(np.mean(y_true)),
        "rows": int(len(y_true)),
    }


def grouped_cv_scores(rows, alpha, threshold=0.5, folds=5, seed=0, feature_names=FEATURES):
    """:func:`classification_scores` of a ``folds``-fold cross-validation that keeps each system's rows in one
    fold (scikit-learn ``GroupKFold``): the way to choose ``alpha`` from the training systems alone.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> rows = [{"system": s, "k": k, "dt": dt, "acceptable": int(dt * k < 40)}
    ...         for s, k in enumerate(rng.uniform(1, 3, 20)) for dt in (5.0, 10.0, 20.0, 40.0)]
    >>> grouped_cv_scores(rows, alpha=0.1, feature_names=["k"])["balanced_accuracy"] > 0.8
    True
    """
    from sklearn.model_selection import GroupKFold

    X, dt, y = _arrays(rows, feature_names)
    groups = np.array([r["system"] for r in rows])
    pred = np.zeros_like(y)
    for fit, held in GroupKFold(folds).split(X, y, groups):
        model = TimestepModel(feature_names=feature_names, alpha=alpha, threshold=threshold, random_state=seed)
        pred[held] = model.fit(X[fit], dt[fit], y[fit]).predict(X[held], dt[held])
    return classification_scores(y, pred)


def _arrays(rows, feature_names=FEATURES):
    X = np.array([[r[f] for f in feature_names] for r in rows])
    return X, np.array([r["dt"] for r in rows]), np.array([r["acceptable"] for r in rows])


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fit the timestep model; print held-out metrics.")
    parser.add_argument("--data", default="data/np_timestep/ladder.csv")
    parser.add_argument("--out", default="data/np_timestep/model.joblib")
    parser.add_argument("--metrics", default="data/np_timestep/metrics.json")
    parser.add_argument("--test-fraction", type=float, default=0.25)
    parser.add_argument("--threshold", type=float, default=0.5, help="P(acceptable) needed (default: 0.5)")
    parser.add_argument("--alpha", type=float, default=1.0,
                        help="L2 penalty of the perceptron (default: 1, the best of --cv on the shipped set)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cv", action="store_true", help=f"only print grouped 5-fold cross-validation scores on "
                        f"the training systems for alpha in {CV_ALPHAS}; write nothing")
    args = parser.parse_args(argv)

    systems = load_ladder(args.data)
    rows = ladder_rows(systems)
    train_ids, test_ids = split_systems([r["system"] for r in rows], args.test_fraction, args.seed)
    train = [r for r in rows if r["system"] in set(train_ids)]
    test = [r for r in rows if r["system"] in set(test_ids)]
    if args.cv:
        cv = {alpha: grouped_cv_scores(train, alpha, args.threshold, seed=args.seed) for alpha in CV_ALPHAS}
        for alpha, sc in cv.items():
            print(f"alpha {alpha:5g}: grouped-CV balanced accuracy {sc['balanced_accuracy']:.3f}, recall "
                  f"(acceptable) {sc['recall_acceptable']:.3f} on {len(train_ids)} training systems")
        return cv
    model = TimestepModel(threshold=args.threshold, alpha=args.alpha, random_state=args.seed).fit(*_arrays(train))
    Xt, dtt, yt = _arrays(test)
    scores = classification_scores(yt, model.predict(Xt, dtt))
    scores_train = classification_scores(_arrays(train)[2], model.predict(*_arrays(train)[:2]))
    metrics = {"test": scores, "train": scores_train, "train_systems": train_ids.tolist(),
               "test_systems": test_ids.tolist(), "threshold": args.threshold, "alpha": args.alpha, "seed": args.seed,
               "data": args.data, "features": list(FEATURES)}
    # the fixed dt a user would pick to be safe everywhere: the smallest largest-acceptable dt of the training systems
    largest = {int(s["system"]): s["largest_ok"] for s in systems}
    safe_dt = min(largest[i] for i in train_ids)
    metrics["safe_dt"] = safe_dt
    model.save(args.out, train_systems=train_ids.tolist(), test_systems=test_ids.tolist(), data=args.data,
               threshold=args.threshold, alpha=args.alpha, seed=args.seed, test_scores=scores, safe_dt=safe_dt)
    with open(args.metrics, "w") as fh:
        json.dump(metrics, fh, indent=1)
    print(f"{len(train_ids)} training systems ({len(train)} rows), {len(test_ids)} held-out systems "
          f"({len(test)} rows, {100 * scores['acceptable_fraction']:.1f}% acceptable)")
    for k in ("balanced_accuracy", "recall_acceptable", "precision_acceptable", "accuracy", "majority_accuracy"):
        print(f"  {k:22s} held-out {scores[k]:.3f}   train {scores_train[k]:.3f}")
    print(f"fixed safe dt (smallest largest-acceptable dt over the training systems): {safe_dt:g} fs")
    print(f"wrote {args.out} and {args.metrics}")
    return metrics


if __name__ == "__main__":
    main()
