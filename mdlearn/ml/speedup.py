"""Effective speedup of a surrogate over running the simulations (Sun, Kadupitiya and Jadhao, JCTC 19,
4606 (2023))::

    S = T_seq (N_lookup + N_train) / (T_lookup N_lookup + (T_train + T_learn) N_train)

``T_seq`` is the sequential time of one simulation, ``T_train`` the time per training simulation on the
resources used (the campaign's elapsed time over its runs: below ``T_seq`` when runs go in parallel),
``T_learn`` the training time of the surrogate per training point and ``T_lookup`` the time of one
prediction; all in seconds. With no lookups S = T_seq / (T_train + T_learn); with many more lookups than
training runs S -> T_seq / T_lookup; at a fixed number of lookups S falls as 1 / N_train.
"""
import numpy as np

__all__ = ["campaign_timings", "crossover_lookups", "effective_speedup"]


def _times(**kw):
    out = []
    for name, v in kw.items():
        v = float(v)
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite time >= 0 (s), got {v}")
        out.append(v)
    return out


def effective_speedup(n_lookup, n_train, t_seq, t_train, t_learn, t_lookup):
    """S for ``n_lookup`` predictions after ``n_train`` training simulations (arrays broadcast); times in s.

    >>> round(effective_speedup(0, 100, t_seq=10.0, t_train=10.0, t_learn=0.5, t_lookup=1e-4), 4)
    0.9524
    >>> round(effective_speedup(1e12, 100, t_seq=10.0, t_train=10.0, t_learn=0.5, t_lookup=1e-4))
    99999
    """
    t_seq, t_train, t_learn, t_lookup = _times(t_seq=t_seq, t_train=t_train, t_learn=t_learn, t_lookup=t_lookup)
    n_lookup = np.asarray(n_lookup, dtype=float)
    n_train = np.asarray(n_train, dtype=float)
    if np.any(n_lookup < 0) or np.any(n_train < 0):
        raise ValueError(f"n_lookup and n_train must be >= 0, got {n_lookup} and {n_train}")
    cost = t_lookup * n_lookup + (t_train + t_learn) * n_train
    if np.any(cost <= 0):
        raise ValueError("the surrogate's cost is zero: give n_train > 0 or t_lookup > 0")
    s = t_seq * (n_lookup + n_train) / cost
    return float(s) if np.ndim(s) == 0 else s


def crossover_lookups(n_train, t_seq, t_train, t_learn, t_lookup):
    """The number of lookups beyond which the surrogate pays (S > 1): 0 when it pays from the start
    (T_train + T_learn < T_seq), ``inf`` when it never does (T_lookup >= T_seq).

    >>> crossover_lookups(100, t_seq=10.0, t_train=10.0, t_learn=0.5, t_lookup=1e-4)
    5.000050000500005
    """
    t_seq, t_train, t_learn, t_lookup = _times(t_seq=t_seq, t_train=t_train, t_learn=t_learn, t_lookup=t_lookup)
    extra = (t_train + t_learn - t_seq) * float(n_train)
    if extra <= 0:
        return 0.0
    if t_lookup >= t_seq:
        return float("inf")
    return extra / (t_seq - t_lookup)


def campaign_timings(table):
    """``(t_seq, t_train)`` in s from a campaign's results table (:meth:`mdlearn.Campaign.results`) of
    successful runs: ``t_seq`` the mean simulation wall time, ``t_train`` the campaign's busy time over the
    number of runs. The busy time is the length of the union of the runs' [start, finish] intervals (from the
    records' ``finished`` stamps and wall times): runs on parallel workers overlap and count once, and the idle
    time of a campaign that was interrupted, then resumed or extended, does not count (nor does the scheduling
    gap between consecutive runs, a small fraction here)."""
    import pandas as pd

    ok = table[table["status"] == "ok"]
    if len(ok) == 0:
        raise ValueError("no successful runs in the table")
    if "finished" not in ok:
        raise ValueError("the table has no 'finished' column; use ResultStore.table() of a campaign store")
    end = pd.to_datetime(ok["finished"], utc=True)
    start = end - pd.to_timedelta(ok["wall_time"], unit="s")
    t0 = start.min()
    intervals = sorted(zip((start - t0).dt.total_seconds(), (end - t0).dt.total_seconds(), strict=True))
    elapsed, reach = 0.0, -np.inf
    for a, b in intervals:  # sweep: add the part of each interval beyond what is already covered
        if b > reach:
            elapsed += b - max(a, reach)
            reach = b
    return float(ok["wall_time"].mean()), float(elapsed / len(ok))
