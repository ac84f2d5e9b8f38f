"""Substitute a trained network for a slow calculator: ASE's EMT copper as the oracle, an ANI-like model as
the force term, with measured accuracy, observable, speed and a query-by-committee check.

1. Reference data: Langevin MD of fcc Cu driven by EMT (through ``AseForceTerm``) at a few temperatures;
   every ``--every`` steps a frame with EMT energy and forces.
2. Train ``mdlearn.ml.ANIModel`` (an ensemble: the committee) on those frames.
3. Held-out frames: a separate EMT-driven run at ``--temperature`` (another seed); energy and force RMSE of
   the network on them, and the radial distribution function g(r) of that oracle-driven run.
4. The same run (same start, same seeds) driven by the network: g(r) against the oracle's, time per step
   against EMT's (same engine, same system, one process).
5. Query by committee: during the network's runs, frames whose committee spread exceeds ``--flag-factor``
   times the largest spread seen on the held-out frames are flagged; a run at ``--hot-temperature`` (melting,
   outside the training data) shows what the flags are for.

    .venv/bin/python examples/substitution_emt.py --json out.json     # defaults: 38 min on 2 shared cores,
                                                                      # most of it training (ensemble of 4)
    .venv/bin/python examples/substitution_emt.py --train-steps 30 --steps 20 --hot-steps 10 --ensemble 2 \
        --hidden 8 --epochs 2                                         # the smoke test's settings: seconds

Units: eV, Å, fs, K (mdlearn's "real" units are ASE's).
"""
import argparse
import json
import time

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.geometry.rdf import get_rdf

import mdlearn as mdl

DT = 2.0          # fs
FRICTION = 0.02   # 1/fs


def copper(cells):
    """fcc Cu at EMT's lattice constant region (a = 3.61 Å), ``4 cells³`` atoms."""
    return mdl.State.from_atoms(bulk("Cu", "fcc", a=3.61, cubic=True).repeat((cells,) * 3))


def labelled(state):
    """An ase.Atoms of ``state`` carrying EMT's energy (eV) and forces (eV/Å)."""
    atoms = state.to_atoms()
    atoms.calc = EMT()
    e, f = atoms.get_potential_energy(), atoms.get_forces()
    atoms.calc = SinglePointCalculator(atoms, energy=e, forces=f)
    return atoms


def run(state, term, temperature, steps, every, seed, on_frame):
    """Langevin MD of ``state`` with one force term; ``on_frame(state, term)`` every ``every`` steps.
    Returns the seconds spent stepping (frame work excluded)."""
    sim = mdl.Simulation(state, mdl.ForceField([term]), mdl.Langevin(dt=DT, temperature=temperature,
                                                                     friction=FRICTION, seed=seed), skin=1.0)
    seconds = 0.0
    for _ in range(steps // every):
        t0 = time.perf_counter()
        sim.run(every, progress=False)
        seconds += time.perf_counter() - t0
        on_frame(state, term)
    return seconds


def rdf(frames, rmax, nbins):
    """g(r) averaged over ase.Atoms frames (ASE's ``get_rdf``); returns (r, g)."""
    gs = [get_rdf(a, rmax, nbins) for a in frames]
    return gs[0][1], np.mean([g for g, _ in gs], axis=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=4, help="fcc cells per side (4 atoms each; >= 4)")
    parser.add_argument("--train-temperatures", type=float, nargs="+", default=[300.0, 700.0, 1100.0])
    parser.add_argument("--train-steps", type=int, default=200, help="EMT steps per training temperature")
    parser.add_argument("--every", type=int, default=10, help="steps between frames")
    parser.add_argument("--temperature", type=float, default=700.0, help="K, held-out and comparison runs")
    parser.add_argument("--steps", type=int, default=300, help="steps of the oracle and network runs")
    parser.add_argument("--hot-temperature", type=float, default=2000.0, help="K, beyond the training data")
    parser.add_argument("--hot-steps", type=int, default=200)
    parser.add_argument("--ensemble", type=int, default=4, help="committee size")
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--epochs", type=int, default=60, help="most training epochs (early stopping)")
    parser.add_argument("--flag-factor", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    if args.threads:
        mdl.set_num_threads(args.threads)
    from mdlearn.ml import AEVParameters, ANIModel, Dataset

    # 1. reference data from the oracle
    t0 = time.perf_counter()
    train = []
    for k, temp in enumerate(args.train_temperatures):
        st = copper(args.cells)
        st.set_temperature(temp, seed=args.seed + k)
        run(st, mdl.AseForceTerm(EMT()), temp, args.train_steps, args.every, args.seed + 10 + k,
            lambda s, _: train.append(labelled(s)))
    data_seconds = time.perf_counter() - t0

    # 2. the committee
    t0 = time.perf_counter()
    model = ANIModel(species=("Cu",), aev=AEVParameters(species=("Cu",), radial_cutoff=5.2, angular_cutoff=3.5),
                     hidden=tuple(args.hidden), ensemble=args.ensemble, random_state=args.seed)
    model.fit(Dataset.from_ase(train), force_weight=1.0, validation_fraction=0.1, max_epochs=args.epochs,
              patience=15, random_state=args.seed)
    train_seconds = time.perf_counter() - t0

    # 3. held-out frames and g(r) from an oracle-driven run; 4. the same run with the network
    start = copper(args.cells)
    start.set_temperature(args.temperature, seed=args.seed + 100)
    held_out = []
    st = start.copy()
    t_oracle = run(st, mdl.AseForceTerm(EMT()), args.temperature, args.steps, args.every, args.seed + 200,
                   lambda s, _: held_out.append(labelled(s)))

    term = model.potential()
    ff = mdl.ForceField([term])
    de, df, spread_held = [], [], []
    for atoms in held_out:
        res = ff.compute(mdl.State.from_atoms(atoms), virial=False)
        de.append((res.energy - atoms.get_potential_energy()) / len(atoms))
        df.append(res.forces - atoms.get_forces())
        spread_held.append(term.last_uncertainty["energy_std_per_sqrt_atom"])
    threshold = args.flag_factor * max(spread_held)

    def sample(frames, spreads):
        def on_frame(state, term):
            frames.append(state.to_atoms())
            spreads.append(float(term.last_uncertainty["energy_std_per_sqrt_atom"]))
        return on_frame

    net_frames, net_spread = [], []
    t_net = run(start.copy(), model.potential(), args.temperature, args.steps, args.every, args.seed + 200,
                sample(net_frames, net_spread))
    rmax = min(6.0, 0.49 * float(start.box.min()))
    r, g_oracle = rdf(held_out, rmax, 60)
    _, g_net = rdf(net_frames, rmax, 60)

    # 5. beyond the training data
    hot = start.copy()
    hot.set_temperature(args.hot_temperature, seed=args.seed + 300)
    hot_frames, hot_spread, hot_error = [], [], None
    try:
        run(hot, model.potential(), args.hot_temperature, args.hot_steps, args.every, args.seed + 400,
            sample(hot_frames, hot_spread))
    except mdl.SimulationError as exc:  # a network far outside its data may well blow up: that is the point
        hot_error = str(exc)

    n = start.n_atoms
    dr = r[1] - r[0]
    out = {
        "atoms": n, "training_frames": len(train), "held_out_frames": len(held_out),
        "energy_rmse_meV_per_atom": 1e3 * float(np.sqrt(np.mean(np.square(de)))),
        "force_rmse_eV_per_A": float(np.sqrt(np.mean(np.square(df)))),
        "force_std_eV_per_A": float(np.std([a.get_forces() for a in held_out])),
        "rdf_max_abs_diff": float(np.max(np.abs(g_net - g_oracle))),
        "rdf_integrated_abs_diff_A": float(np.sum(np.abs(g_net - g_oracle)) * dr),
        "rdf_first_peak_A": [float(r[np.argmax(g_oracle)]), float(r[np.argmax(g_net)])],
        "oracle_ms_per_step": 1e3 * t_oracle / args.steps, "network_ms_per_step": 1e3 * t_net / args.steps,
        "speedup_per_step": t_oracle / t_net,
        "data_seconds": data_seconds, "train_seconds": train_seconds,
        "flag_threshold_eV": threshold,
        "flagged_at_temperature": int(np.sum(np.array(net_spread) > threshold)),
        "frames_at_temperature": len(net_spread),
        "flagged_hot": int(np.sum(np.array(hot_spread) > threshold)), "frames_hot": len(hot_spread),
        "hot_run_error": hot_error,
    }
    saved = out["oracle_ms_per_step"] - out["network_ms_per_step"]
    out["break_even_steps"] = (data_seconds + train_seconds) * 1e3 / saved if saved > 0 else float("inf")
    print(f"{n} Cu atoms; {len(train)} EMT frames for training ({data_seconds:.0f} s), ensemble of {args.ensemble} "
          f"trained in {train_seconds:.0f} s")
    print(f"held out ({len(held_out)} frames at {args.temperature:g} K): energy RMSE "
          f"{out['energy_rmse_meV_per_atom']:.2f} meV/atom, force RMSE {out['force_rmse_eV_per_A']:.3f} eV/Å "
          f"(force std {out['force_std_eV_per_A']:.3f})")
    print(f"g(r) network vs EMT-driven run: max |Δg| {out['rdf_max_abs_diff']:.3f}, ∫|Δg| dr "
          f"{out['rdf_integrated_abs_diff_A']:.3f} Å, first peak {out['rdf_first_peak_A'][0]:.2f} / "
          f"{out['rdf_first_peak_A'][1]:.2f} Å")
    print(f"per step: EMT {out['oracle_ms_per_step']:.1f} ms, network {out['network_ms_per_step']:.1f} ms: "
          f"speedup {out['speedup_per_step']:.1f}x (break-even after {out['break_even_steps']:.0f} steps "
          f"including data and training)")
    print(f"committee: threshold {threshold:.4f} eV; flagged {out['flagged_at_temperature']}/{len(net_spread)} "
          f"frames at {args.temperature:g} K, {out['flagged_hot']}/{len(hot_spread)} at "
          f"{args.hot_temperature:g} K" + (f" (run stopped: {hot_error})" if hot_error else ""))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    main()
