"""Training data for timestep prediction: nanoparticle systems sampled over a parameter space, each run at a
ladder of timesteps from the same equilibrated start and labelled by :mod:`mdlearn.tune.labels`.

``simulate(params, seed)`` does one system and returns a flat dict of floats (the shape a
:class:`~mdlearn.Campaign` stores); :func:`ladder_rows` expands such results into one row per (system, dt).
The shipped set was made with ``python -m mdlearn.tune.dataset`` (see ``data/np_timestep/README.md``), which
runs :func:`simulate` over :func:`sample_parameters` as a :class:`~mdlearn.Campaign` (Dask, resumable) and
exports the finished runs:

    python -m mdlearn.tune.dataset --systems 128 --seed 7 --store data/np_timestep/campaign \
        --out data/np_timestep/ladder.csv
"""
import argparse
import csv
import math
import time

from ..build import nanoparticle_system
from ..build.electrolytes import AVOGADRO
from ..campaign.runner import RESERVED
from .features import STATE_FEATURES, SYSTEM_FEATURES, state_features, system_features
from .labels import RATIO_LIMIT, is_acceptable, nve_segment

__all__ = ["LADDER", "SPACE", "ladder_rows", "make_system", "sample_parameters", "simulate"]

# Timesteps tried on every system (fs), a factor of about 1.5 apart.
LADDER = (3.0, 6.0, 9.0, 13.0, 19.0, 28.0, 42.0, 63.0)
# The parameter space: (low, high) for continuous inputs, a tuple of choices for discrete ones. Physical units
# as in nanoparticle_system: nm, e, mol/L. epsilon_in is sampled uniformly in log.
SPACE = {
    "radius": (0.75, 1.5),
    "charge": (-24.0, -6.0),
    "counterion_valency": (1, 2, 3),
    "salt_concentration": (0.0, 0.2),
    "ion_diameter": (0.2, 0.7),
    "log_epsilon_in": (math.log(2.0), math.log(78.5)),
}
CELL_RADIUS = 3.5  # nm: keeps systems at 20-100 ions
MAX_GRID = 800  # boundary elements at most: the induced-charge solve then costs about as much as the ions
EQUILIBRATION = 1000  # Langevin steps at the builder's conservative timestep
SEGMENT = 400  # NVE steps per ladder rung
SAMPLE_EVERY = 2  # steps between energy samples in a segment
BLOWN_UP = 1e3  # the ratio stored for a segment that blew up (JSON has no infinity)


def sample_parameters(n, seed=0):
    """``n`` parameter dicts from a scrambled Sobol sequence over :data:`SPACE` (a plain stand-in for
    :class:`mdlearn.campaign.Space`).

    Examples
    --------
    >>> from mdlearn.tune.dataset import sample_parameters
    >>> p = sample_parameters(4, seed=1)
    >>> len(p), sorted(p[0])[:2]
    (4, ['charge', 'counterion_valency'])
    """
    from scipy.stats import qmc

    names = list(SPACE)
    u = qmc.Sobol(len(names), scramble=True, seed=seed).random(int(n))
    out = []
    for row in u:
        p = {}
        for k, name in enumerate(names):
            spec = SPACE[name]
            if len(spec) == 2:
                p[name] = float(spec[0] + row[k] * (spec[1] - spec[0]))
            else:
                p[name] = spec[min(int(row[k] * len(spec)), len(spec) - 1)]
        out.append(p)
    return out


def make_system(params, seed):
    """The nanoparticle system for one parameter dict (keys of :data:`SPACE`; ``epsilon_in`` may be given
    instead of ``log_epsilon_in``, and ``n_grid`` may be set). The charge is rounded to a multiple of the counterion
    valency.

    Examples
    --------
    >>> from mdlearn.tune.dataset import make_system
    >>> s = make_system({"radius": 1.0, "charge": -7.0, "counterion_valency": 2, "salt_concentration": 0.0,
    ...                  "ion_diameter": 0.5, "epsilon_in": 2.0}, seed=1)
    >>> s.metadata["charge"], s.metadata["species"]["counterion"]["count"]
    (-8.0, 4)
    """
    z = int(params["counterion_valency"])
    charge = -z * max(1, round(abs(float(params["charge"])) / z))
    eps_in = float(params["epsilon_in"]) if "epsilon_in" in params else math.exp(float(params["log_epsilon_in"]))
    radius, salt = float(params["radius"]), float(params["salt_concentration"])
    volume_l = 4.0 / 3.0 * math.pi * (CELL_RADIUS**3 - radius**3) * 1e-24
    if round(salt * AVOGADRO * volume_l) == 0:  # less than half a formula unit in the cell: no salt
        salt = 0.0
    d = float(params["ion_diameter"])
    n_grid = int(params.get("n_grid") or min(max(4 * math.pi * (2 * radius / d) ** 2, 300), MAX_GRID))  # capped rule
    return nanoparticle_system(radius=radius, charge=charge, salt_concentration=salt, counterion_valency=z,
                               coion_valency=1, ion_diameter=d, epsilon_in=eps_in, epsilon_out=78.5,
                               cell_radius=CELL_RADIUS, seed=int(seed), n_grid=n_grid)


def simulate(params, seed, ladder=LADDER, equilibration=EQUILIBRATION, segment=SEGMENT, every=SAMPLE_EVERY):
    """Build a system, equilibrate it with Langevin dynamics at the builder's timestep, then run one NVE
    segment per timestep of ``ladder`` (fs) from that same state.

    Returns a dict of floats: the system and state features (:mod:`mdlearn.tune.features`), ``n_ions``,
    ``seconds`` (wall time), and per rung ``ratio_<k>`` (energy-fluctuation ratio, 1000 after a blow-up) and
    ``dt_<k>``. ``largest_ok`` is the largest dt below which every rung passed the criterion (0 if none did).
    """
    t0 = time.perf_counter()
    system = make_system(params, seed)
    sim = system.simulation(seed=int(seed) + 1)
    sim.run(int(equilibration), progress=False)
    out = {**system_features(system.metadata), **state_features(sim, system.metadata),
           "n_ions": float(system.state.n_atoms)}
    largest, ok_so_far = 0.0, True
    for k, dt in enumerate(ladder):
        ratio, _ = nve_segment(system.state, system.forcefield, dt, int(segment), every=int(every))
        out[f"dt_{k}"], out[f"ratio_{k}"] = float(dt), float(min(ratio, BLOWN_UP))
        ok_so_far = ok_so_far and is_acceptable(ratio)
        if ok_so_far:
            largest = float(dt)
    out["largest_ok"] = largest
    out["seconds"] = time.perf_counter() - t0
    return out


def ladder_rows(results, limit=RATIO_LIMIT):
    """One row per (system, rung) from :func:`simulate` results (a list of dicts, each with a ``system``
    key): the features, ``dt`` (fs), ``ratio`` and ``acceptable`` (0/1)."""
    rows = []
    for res in results:
        k = 0
        while f"dt_{k}" in res:
            row = {name: float(res[name]) for name in SYSTEM_FEATURES + STATE_FEATURES}
            ratio = float(res[f"ratio_{k}"])
            row.update(system=int(res["system"]), dt=float(res[f"dt_{k}"]), ratio=ratio,
                       acceptable=int(is_acceptable(ratio, limit)))
            rows.append(row)
            k += 1
    return rows


def export_csv(table, path):
    """Write the finished runs of a campaign results table (pandas) as the ladder CSV: one row per system with
    its parameters, features and rungs; ``system`` is the campaign index."""
    ok = table[table["status"] == "ok"].sort_values("index")
    drop = set(RESERVED)  # the run bookkeeping of the results table, not outputs
    columns = ["system", "seed"] + [c for c in ok.columns if c not in drop]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for _, row in ok.iterrows():
            w.writerow([int(row["index"]), int(row["seed"])] + [row[c] for c in columns[2:]])
    return len(ok)


def _main(argv=None):
    from ..campaign import Campaign

    parser = argparse.ArgumentParser(description="Make the timestep training set with a Campaign (one run per "
                                                 "system) and export it as CSV.")
    parser.add_argument("--systems", type=int, default=128, help="systems to sample (default: 128)")
    parser.add_argument("--seed", type=int, default=7, help="sampling and simulation seed (default: 7)")
    parser.add_argument("--store", default="data/np_timestep/campaign", help="campaign folder (resumed)")
    parser.add_argument("--out", default="data/np_timestep/ladder.csv", help="exported CSV")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default: 2)")
    parser.add_argument("--export-only", action="store_true", help="export what is stored, run nothing")
    args = parser.parse_args(argv)
    campaign = Campaign(simulate, sample_parameters(args.systems, seed=args.seed), args.store, seed=args.seed,
                        n_workers=args.workers)
    if not args.export_only:
        campaign.run(progress=True)  # runs only what the store lacks
    n = export_csv(campaign.results(), args.out)
    print(f"{n} systems in {args.out}; campaign status {campaign.status()}")


if __name__ == "__main__":
    _main()
