"""Training data for timestep prediction: nanoparticle systems sampled over a parameter space, each run at a
ladder of timesteps from the same equilibrated start and labelled by :mod:`mdlearn.tune.labels`.

``simulate(params, seed)`` does one system and returns a flat dict of floats (the shape a
:class:`~mdlearn.Campaign` stores); :func:`ladder_rows` expands such results into one row per (system, dt).
The shipped set was made with ``python -m mdlearn.tune.dataset`` (see ``data/np_timestep/README.md``).

    python -m mdlearn.tune.dataset --systems 128 --seed 7 --out data/np_timestep/ladder.csv
"""
import argparse
import csv
import math
import os
import time

from ..build import nanoparticle_system
from ..build.electrolytes import AVOGADRO
from .features import STATE_FEATURES, SYSTEM_FEATURES, state_features, system_features
from .labels import RATIO_LIMIT, is_acceptable, nve_segment

__all__ = ["LADDER", "SPACE", "ladder_rows", "make_system", "sample_parameters", "simulate"]

# Timesteps tried on every system (fs), about a factor 1.4 apart (2 at the low end).
LADDER = (4.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0)
# The parameter space: (low, high) for continuous inputs, a tuple of choices for discrete ones. Physical units
# as in nanoparticle_system: nm, e, mol/L. epsilon_in is sampled uniformly in log.
SPACE = {
    "radius": (0.75, 1.5),
    "charge": (-24.0, -6.0),
    "counterion_valency": (1, 2, 3),
    "salt_concentration": (0.0, 0.2),
    "ion_diameter": (0.3, 0.6),
    "log_epsilon_in": (math.log(2.0), math.log(78.5)),
}
CELL_RADIUS = 3.5  # nm: keeps systems at 20-100 ions
EQUILIBRATION = 1000  # Langevin steps at the builder's conservative timestep
SEGMENT = 400  # NVE steps per ladder rung
SAMPLE_EVERY = 2  # steps between energy samples in a segment


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
                p[name] = spec[0] + row[k] * (spec[1] - spec[0])
            else:
                p[name] = spec[min(int(row[k] * len(spec)), len(spec) - 1)]
        out.append(p)
    return out


def make_system(params, seed):
    """The nanoparticle system for one parameter dict (keys of :data:`SPACE`; ``epsilon_in`` may be given
    instead of ``log_epsilon_in``). The charge is rounded to a multiple of the counterion valency.

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
    return nanoparticle_system(radius=radius, charge=charge, salt_concentration=salt, counterion_valency=z,
                               coion_valency=1, ion_diameter=float(params["ion_diameter"]), epsilon_in=eps_in,
                               epsilon_out=78.5, cell_radius=CELL_RADIUS, seed=int(seed))


def simulate(params, seed, ladder=LADDER, equilibration=EQUILIBRATION, segment=SEGMENT, every=SAMPLE_EVERY):
    """Build a system, equilibrate it with Langevin dynamics at the builder's timestep, then run one NVE
    segment per timestep of ``ladder`` (fs) from that same state.

    Returns a dict of floats: the system and state features (:mod:`mdlearn.tune.features`), ``n_ions``,
    ``seconds`` (wall time), and per rung ``ratio_<k>`` (energy-fluctuation ratio, ``inf`` after a blow-up) and
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
        out[f"dt_{k}"], out[f"ratio_{k}"] = float(dt), float(ratio)
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


def _main(argv=None):
    parser = argparse.ArgumentParser(description="Make the timestep training set (one CSV row per system).")
    parser.add_argument("--systems", type=int, default=128, help="systems to sample (default: 128)")
    parser.add_argument("--seed", type=int, default=7, help="sampling and simulation seed (default: 7)")
    parser.add_argument("--out", default="data/np_timestep/ladder.csv", help="CSV, appended to and resumed")
    args = parser.parse_args(argv)
    done = set()
    if os.path.exists(args.out):
        with open(args.out) as fh:
            done = {int(r["system"]) for r in csv.DictReader(fh)}
    params = sample_parameters(args.systems, seed=args.seed)
    header = None
    for i, p in enumerate(params):
        if i in done:
            continue
        res = {"system": i, **p, **simulate(p, seed=args.seed * 100_000 + i)}
        new = not os.path.exists(args.out)
        with open(args.out, "a", newline="") as fh:
            header = header or list(res)
            w = csv.DictWriter(fh, fieldnames=header)
            if new:
                w.writeheader()
            w.writerow(res)
        print(f"system {i}: {int(res['n_ions'])} ions, z={p['counterion_valency']}, largest ok dt "
              f"{res['largest_ok']:g} fs, {res['seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    _main()
