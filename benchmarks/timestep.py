"""Learned timestep autotuning for ions around a nanoparticle: classification quality, effective speedup at
equal accuracy, and a long run. Figures go to benchmarks/README.md ("Timestep autotuning").

    python benchmarks/timestep.py classify              # held-out balanced accuracy, recall, majority baseline
    python benchmarks/timestep.py speedup --systems 4    # learned tuner vs fixed safe dt vs VariableTimestep
    python benchmarks/timestep.py long --steps 1000000   # one long run with the learned tuner
    python benchmarks/timestep.py steps --tuner '{"cooldown": 5}'  # learned runs only: mean dt, tuner options

Everything uses the shipped model (data/np_timestep/model.joblib) and its held-out systems (never seen in
training). The fixed safe dt is the one stored with the model: the smallest largest-acceptable dt over the
training systems. The VariableTimestep baseline is calibrated the same way: its max_displacement is the largest
of a ladder that passes the stability criterion on the training system that sets the safe dt.
Results are written as JSON to benchmarks/results/.
"""
import argparse
import json
import math
import os
import platform
import time

import numpy as np

import mdlearn as mdl
from mdlearn.tune import LearnedTimestep, VariableTimestep, is_acceptable, load_timestep_model
from mdlearn.tune.compare import profile_agreement, timed_run
from mdlearn.tune.dataset import EQUILIBRATION, LADDER, SEGMENT, ladder_rows, make_system
from mdlearn.tune.labels import energy_fluctuation_ratio
from mdlearn.tune.model import DEFAULT_MODEL, FEATURES
from mdlearn.tune.train import classification_scores, load_ladder

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
LADDER_CSV = os.path.join(os.path.dirname(DEFAULT_MODEL), "ladder.csv")
PARAMS = ("radius", "charge", "counterion_valency", "salt_concentration", "ion_diameter", "log_epsilon_in")
XMAX_LADDER = (0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7)  # Å


def _env():
    return {"python": platform.python_version(), "machine": platform.machine(), "threads": mdl.get_num_threads(),
            "note": "2 cores shared with other jobs; wall times are noisy"}


def _geomean(values):
    return float(np.exp(np.mean(np.log(values))))


def _save(name, payload):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=1, default=float)
    print(f"wrote {path}")


def _system_and_start(row):
    """The system of a ladder row, equilibrated exactly as the data set did (same seeds)."""
    params = {k: row[k] for k in PARAMS}
    params["counterion_valency"] = int(params["counterion_valency"])
    seed = int(row["seed"])
    system = make_system(params, seed)
    system.simulation(seed=seed + 1).run(EQUILIBRATION, progress=False)
    start = system.state.copy()
    start.step, start.time = 0, 0.0
    return system, start


def classify(args):
    model = load_timestep_model()
    meta = model.metadata_
    systems = {int(s["system"]): s for s in load_ladder(LADDER_CSV)}
    test_ids = set(meta["test_systems"])
    rows = [r for r in ladder_rows(systems.values()) if r["system"] in test_ids]
    X = np.array([[r[f] for f in FEATURES] for r in rows])
    dt = np.array([r["dt"] for r in rows])
    y = np.array([r["acceptable"] for r in rows])
    scores = classification_scores(y, model.predict(X, dt))
    # the dt the tuner would pick for each held-out system vs the largest the ladder accepted
    picks = []
    for i in sorted(test_ids):
        s = systems[i]
        pred = model.predict_dt({f: s[f] for f in FEATURES})
        failing = [d for d in LADDER if d > s["largest_ok"]]
        picks.append({"system": i, "predicted_dt": pred, "largest_ok": s["largest_ok"],
                      "first_failing": failing[0] if failing else math.inf})
    pred = np.array([p["predicted_dt"] for p in picks])
    best = np.array([p["largest_ok"] for p in picks])
    bad = np.array([p["first_failing"] for p in picks])
    safe = meta["safe_dt"]
    out = {"scores": scores, "safe_dt": safe, "systems": len(picks), "picks": picks,
           "above_best_fraction": float(np.mean(pred > best)),
           "at_or_above_failing_fraction": float(np.mean(pred >= bad)),
           "mean_predicted_over_safe": float(np.mean(pred / safe)),
           "mean_oracle_over_safe": float(np.mean(best / safe)), "env": _env()}
    print(f"held-out: {len(picks)} systems, {scores['rows']} (system, dt) rows, "
          f"{100 * scores['acceptable_fraction']:.1f}% acceptable")
    print(f"  balanced accuracy {scores['balanced_accuracy']:.3f}, recall (acceptable) "
          f"{scores['recall_acceptable']:.3f}, precision {scores['precision_acceptable']:.3f}, accuracy "
          f"{scores['accuracy']:.3f}; majority class ({scores['majority_class']}): accuracy "
          f"{scores['majority_accuracy']:.3f}, balanced accuracy 0.5")
    print(f"  predicted dt / safe dt {out['mean_predicted_over_safe']:.2f} on average (ladder's best: "
          f"{out['mean_oracle_over_safe']:.2f}); between the ladder's best and its first failing rung for "
          f"{100 * (out['above_best_fraction'] - out['at_or_above_failing_fraction']):.0f}% of systems, at or "
          f"above the failing rung for {100 * out['at_or_above_failing_fraction']:.0f}%; safe dt {safe:g} fs")
    _save("timestep_classify.json", out)


def calibrate_variable(model):
    """The largest max_displacement (Å) of XMAX_LADDER that passes the criterion on the training system that
    sets the safe dt (NVE segments as in the data set)."""
    systems = {int(s["system"]): s for s in load_ladder(LADDER_CSV)}
    safe = model.metadata_["safe_dt"]
    hardest = min((systems[i] for i in model.metadata_["train_systems"]), key=lambda s: (s["largest_ok"], s["system"]))
    system, start = _system_and_start(hardest)
    best = None
    for xmax in XMAX_LADDER:
        state = start.copy()
        sim = mdl.Simulation(state, system.forcefield, mdl.VelocityVerlet(dt=safe))
        sim.add_tuner(VariableTimestep(xmax, every=10, dt_min=0.5, dt_max=63.0, max_change=1.5))
        e, k = [], []
        sim.add_reporter((lambda snap, e=e, k=k: (e.append(snap.conserved_energy), k.append(snap.kinetic_energy)), 2))
        try:
            sim.run(SEGMENT, progress=False)
            ratio = energy_fluctuation_ratio(e, k)
        except mdl.SimulationError:
            ratio = math.inf
        mean_dt = state.time / max(state.step, 1)
        print(f"  calibration on system {int(hardest['system'])}: max_displacement {xmax} Å -> mean dt "
              f"{mean_dt:.1f} fs, ratio {ratio:.3g}")
        if not is_acceptable(ratio):
            break
        best = xmax
    return best if best is not None else XMAX_LADDER[0], int(hardest["system"])


def speedup(args):
    model = load_timestep_model()
    meta = model.metadata_
    safe = meta["safe_dt"]
    xmax, calib_system = calibrate_variable(model)
    print(f"VariableTimestep max_displacement = {xmax} Å (calibrated on training system {calib_system})")
    systems = {int(s["system"]): s for s in load_ladder(LADDER_CSV)}
    rng = np.random.default_rng(args.seed)
    chosen = sorted(rng.choice(sorted(meta["test_systems"]), size=min(args.systems, len(meta["test_systems"])),
                               replace=False).tolist())
    fs = 1000.0 * args.duration
    rows = []
    for i in chosen:
        system, start = _system_and_start(systems[i])
        tuners = {"fixed": lambda: None,
                  "variable": lambda: VariableTimestep(xmax, every=10, dt_min=0.5 * safe, dt_max=63.0, max_change=1.5),
                  "learned": lambda system=system: LearnedTimestep(model, features=system, every=200, dt_min=0.5 * safe,
                                                                   dt_max=63.0, max_change=1.5)}
        # The runs are deterministic: each is repeated (interleaved) and timed by its fastest repeat, so that
        # a burst of load from the machine's neighbours does not land on one policy's single short run.
        runs, times = {}, {name: [] for name in tuners}
        for _ in range(args.repeats):
            for name, make in tuners.items():
                r = timed_run(system, start, safe, fs, tuner=make(), sample_interval=fs / 200)
                if name in runs and r["steps"] != runs[name]["steps"]:
                    raise RuntimeError(f"system {i}, {name}: a repeat ran {r['steps']} steps, the first "
                                       f"{runs[name]['steps']}: the runs are not deterministic")
                runs.setdefault(name, r)
                times[name].append((r["wall"], r["cpu"]))
        for name, r in runs.items():
            r["wall"], r["cpu"] = min(t[0] for t in times[name]), min(t[1] for t in times[name])
            r["rate"], r["cpu_rate"] = r["simulated"] / r["wall"], r["simulated"] / r["cpu"]
            r["repeats"] = times[name]
        learned = runs["learned"]["tuner"]
        ref = runs["fixed"]["profile"]
        row = {"system": i, "ions": system.state.n_atoms, "largest_ok": systems[i]["largest_ok"]}
        for name, r in runs.items():
            agree = profile_agreement(ref, r["profile"]) if (ref is not None and r["profile"] is not None
                                                             and name != "fixed") else None
            row[name] = {"rate_ps_per_s": r["rate"] / 1000, "wall": r["wall"], "steps": r["steps"],
                         "repeats_wall_cpu": r["repeats"],
                         "cpu_rate_ps_per_s": r["cpu_rate"] / 1000, "cpu": r["cpu"],
                         "mean_dt": r["simulated"] / max(r["steps"], 1), "failed": r["failed"],
                         "drift_per_ns": r["drift"], "agreement": agree,
                         "ok": r["failed"] is None and (agree is None or agree["agree"])}
        row["learned"]["restores"], row["learned"]["discarded_steps"] = learned.restores, learned.discarded_steps
        row["speedup_vs_fixed"] = row["learned"]["rate_ps_per_s"] / row["fixed"]["rate_ps_per_s"]
        row["speedup_vs_variable"] = row["learned"]["rate_ps_per_s"] / row["variable"]["rate_ps_per_s"]
        row["variable_vs_fixed"] = row["variable"]["rate_ps_per_s"] / row["fixed"]["rate_ps_per_s"]
        # CPU time of the one-thread runs: what the machine's load distorts least, and it counts the tuners' cost
        for other in ("fixed", "variable"):
            row[f"cpu_speedup_vs_{other}"] = row["learned"]["cpu_rate_ps_per_s"] / row[other]["cpu_rate_ps_per_s"]
        row["cpu_variable_vs_fixed"] = row["variable"]["cpu_rate_ps_per_s"] / row["fixed"]["cpu_rate_ps_per_s"]
        # the same ratios in simulated time per step: free of the machine's load, blind to the tuners' overhead
        row["dt_ratio_vs_fixed"] = row["learned"]["mean_dt"] / row["fixed"]["mean_dt"]
        row["dt_ratio_vs_variable"] = row["learned"]["mean_dt"] / row["variable"]["mean_dt"]
        rows.append(row)
        print(f"system {i} ({row['ions']} ions, ladder's best {row['largest_ok']:g} fs): mean dt fixed "
              f"{row['fixed']['mean_dt']:.1f}, variable {row['variable']['mean_dt']:.1f}, learned "
              f"{row['learned']['mean_dt']:.1f} fs; speedup (wall, CPU) learned/fixed {row['speedup_vs_fixed']:.2f}x, "
              f"{row['cpu_speedup_vs_fixed']:.2f}x, learned/variable {row['speedup_vs_variable']:.2f}x, "
              f"{row['cpu_speedup_vs_variable']:.2f}x; ok: variable {row['variable']['ok']}, "
              f"learned {row['learned']['ok']} ({learned.restores} restores)", flush=True)
    def gm(key):
        return _geomean([r[key] for r in rows])

    out = {"safe_dt": safe, "max_displacement": xmax, "calibration_system": calib_system,
           "duration_ps": args.duration, "repeats": args.repeats, "rows": rows,
           "geomean_speedup_vs_fixed": gm("speedup_vs_fixed"),
           "geomean_speedup_vs_variable": gm("speedup_vs_variable"),
           "geomean_variable_vs_fixed": gm("variable_vs_fixed"), "geomean_dt_ratio_vs_fixed": gm("dt_ratio_vs_fixed"),
           "geomean_dt_ratio_vs_variable": gm("dt_ratio_vs_variable"),
           "geomean_cpu_speedup_vs_fixed": gm("cpu_speedup_vs_fixed"),
           "geomean_cpu_speedup_vs_variable": gm("cpu_speedup_vs_variable"),
           "geomean_cpu_variable_vs_fixed": gm("cpu_variable_vs_fixed"),
           "all_learned_ok": all(r["learned"]["ok"] for r in rows),
           "all_variable_ok": all(r["variable"]["ok"] for r in rows), "env": _env()}
    for name in ("variable", "learned"):  # profile agreement with the fixed-dt run over all systems
        chi2 = [r[name]["agreement"]["chi2_per_bin"] for r in rows if r[name]["agreement"] is not None]
        out[f"{name}_chi2_mean"], out[f"{name}_chi2_median"] = float(np.mean(chi2)), float(np.median(chi2))
        out[f"{name}_agree_fraction"] = float(np.mean([c < 2.0 for c in chi2]))
    print(f"profile chi2/bin vs fixed, mean / median / fraction < 2: variable {out['variable_chi2_mean']:.2f} / "
          f"{out['variable_chi2_median']:.2f} / {out['variable_agree_fraction']:.2f}, learned "
          f"{out['learned_chi2_mean']:.2f} / {out['learned_chi2_median']:.2f} / {out['learned_agree_fraction']:.2f}")
    print(f"geometric mean speedup: learned/fixed {out['geomean_speedup_vs_fixed']:.2f}x, learned/variable "
          f"{out['geomean_speedup_vs_variable']:.2f}x, variable/fixed {out['geomean_variable_vs_fixed']:.2f}x "
          f"(mean dt ratios: learned/fixed {out['geomean_dt_ratio_vs_fixed']:.2f}, learned/variable "
          f"{out['geomean_dt_ratio_vs_variable']:.2f}; CPU time: learned/fixed "
          f"{out['geomean_cpu_speedup_vs_fixed']:.2f}x, learned/variable "
          f"{out['geomean_cpu_speedup_vs_variable']:.2f}x); "
          f"every learned run at equal accuracy: {out['all_learned_ok']}")
    _save("timestep_speedup.json", out)


def steps(args):
    """Learned-tuner runs only: the mean dt over the safe dt with LearnedTimestep options overridden by
    ``--tuner`` (JSON), what each option of the tuner is worth. Simulated time per step is free of the machine's
    load; the effective ratio also counts the steps the safety net threw away (run, then run again). ``--on
    train`` draws ``--systems`` training systems (``--seed``) instead of the held-out ones: where options are
    chosen, so that the held-out systems stay unseen."""
    model = load_timestep_model()
    meta = model.metadata_
    safe = meta["safe_dt"]
    systems = {int(s["system"]): s for s in load_ladder(LADDER_CSV)}
    options = {"every": 200, "dt_min": 0.5 * safe, "dt_max": 63.0, "max_change": 1.5, **json.loads(args.tuner)}
    fs = 1000.0 * args.duration
    pool = sorted(meta["train_systems"] if args.on == "train" else meta["test_systems"])
    n = len(pool) if args.systems is None else min(args.systems, len(pool))
    chosen = sorted(np.random.default_rng(args.seed).choice(pool, size=n, replace=False).tolist())
    rows = []
    for i in chosen:
        system, start = _system_and_start(systems[i])
        tuner = LearnedTimestep(model, features=system, **options)
        r = timed_run(system, start, safe, fs, tuner=tuner, sample_interval=fs / 200)
        rows.append({"system": i, "ions": system.state.n_atoms, "largest_ok": systems[i]["largest_ok"],
                     "first_dt": tuner.history[0]["dt"], "steps": r["steps"], "mean_dt": r["simulated"] / r["steps"],
                     "effective_dt": r["simulated"] / (r["steps"] + tuner.discarded_steps), "cpu": r["cpu"],
                     "restores": tuner.restores, "discarded_steps": tuner.discarded_steps, "failed": r["failed"]})
        print(f"system {i} ({rows[-1]['ions']} ions, ladder's best {rows[-1]['largest_ok']:g} fs): first dt "
              f"{rows[-1]['first_dt']:.1f}, mean dt {rows[-1]['mean_dt']:.1f} fs ({rows[-1]['effective_dt']:.1f} "
              f"counting {tuner.discarded_steps} discarded steps), {tuner.restores} restores"
              + (f", FAILED: {r['failed']}" if r["failed"] else ""), flush=True)
    def gm(key):
        return _geomean([r[key] / safe for r in rows])

    out = {"tuner": options, "on": args.on, "duration_ps": args.duration, "safe_dt": safe, "rows": rows,
           "geomean_dt_ratio_vs_fixed": gm("mean_dt"), "geomean_effective_dt_ratio_vs_fixed": gm("effective_dt"),
           "restores": sum(r["restores"] for r in rows), "discarded_steps": sum(r["discarded_steps"] for r in rows),
           "steps": sum(r["steps"] for r in rows), "cpu": sum(r["cpu"] for r in rows),
           "env": _env()}
    print(f"{len(rows)} {args.on} systems, {args.duration:g} ps each, tuner {options}: mean dt / safe dt "
          f"{out['geomean_dt_ratio_vs_fixed']:.3f}, counting discarded steps "
          f"{out['geomean_effective_dt_ratio_vs_fixed']:.3f} (geometric means); {out['restores']} restores "
          f"discarding {out['discarded_steps']} steps; CPU {out['cpu']:.1f} s")
    _save(args.out, out)


# small and cheap: 21 ions; 300 boundary elements (spacing 2 Å, about the ion radius) instead of the rule's 410
LONG_SYSTEM = dict(radius=1.0, charge=-12.0, counterion_valency=2, salt_concentration=0.05, ion_diameter=0.35,
                   epsilon_in=2.0, n_grid=300)


def long_run(args):
    model = load_timestep_model(args.model)
    safe = model.metadata_["safe_dt"]
    system = make_system(LONG_SYSTEM, seed=args.seed)
    system.simulation(seed=args.seed + 1).run(EQUILIBRATION, progress=False)
    st = system.state
    st.step, st.time = 0, 0.0
    meta = system.metadata
    integrator = mdl.NoseHooverChain(dt=safe, temperature=meta["temperature"], tau=500.0)
    sim = mdl.Simulation(st, system.forcefield, integrator)
    tuner = None
    if not args.fixed:  # --fixed: the small-dt reference of the same system
        tuner = LearnedTimestep(model, features=system, every=200, dt_min=0.5 * safe, dt_max=63.0, max_change=1.5)
        sim.add_tuner(tuner)
    profile = mdl.analysis.density_profile(system, bin_width=1.0, species=["counterion"], every=500)
    sim.add_reporter(profile)
    energies = []
    sim.add_reporter((lambda snap: energies.append((snap.time, snap.conserved_energy, snap.temperature)), 1000))
    t0 = time.perf_counter()
    done = 0
    while done < args.steps:  # the summary is rewritten after every chunk, so a stopped run still reports
        n = min(args.chunk, args.steps - done)
        sim.run(n, progress=False)
        done += n
        out = _long_summary(args, model, system, sim, tuner, profile, energies, time.perf_counter() - t0,
                            complete=done >= args.steps)
        print(f"  {done} steps, t = {st.time / 1e6:.2f} ns, dt = {sim.integrator.dt:.1f} fs, restores "
              f"{out['restores']}, {out['wall']:.0f} s", flush=True)
        _save("timestep_long_reference.json" if args.fixed else "timestep_long.json", out)
    sc = out["profile"]["scalars"]
    print(f"long run: {out['steps']} steps ({out['simulated_ns']:.2f} ns) of {out['ions']} ions in {out['wall']:.0f} s;"
          f" mean dt {out['mean_dt']:.1f} fs (safe {safe:g}); {out['restores']} safety-net restores; conserved-energy "
          f"drift {out['drift_kT_per_ion_per_ns']:.3g} kT per ion per ns; mean T {out['mean_temperature']:.1f} K")
    print(f"  counterion contact {sc['contact'][0]:.3f} ± {sc['contact'][1]:.3f} M, peak {sc['peak'][0]:.3f} ± "
          f"{sc['peak'][1]:.3f} M at {sc['peak_position']:.2f} nm, mid {sc['mid'][0]:.3f} ± {sc['mid'][1]:.3f} M")


def _long_summary(args, model, system, sim, tuner, profile, energies, wall, complete):
    st, meta = sim.state, system.metadata
    t, e, temp = np.array(energies).T
    n_kt = meta["kT"] * st.n_atoms
    fit = np.polyfit(t, e, 1)
    res = profile.result(blocks=10)
    hist = tuner.history_arrays() if tuner is not None else {"time": np.array([]), "dt": np.array([]),
                                                            "event": np.array([])}
    return {"complete": complete, "tuner": tuner is not None, "system": LONG_SYSTEM,
            "model": args.model or DEFAULT_MODEL,
            "model_train_systems": len(model.metadata_["train_systems"]), "ions": st.n_atoms, "steps": int(st.step),
            "simulated_ns": st.time / 1e6, "wall": wall, "steps_per_s": st.step / wall,
            "safe_dt": model.metadata_["safe_dt"], "mean_dt": st.time / st.step,
            "restores": tuner.restores if tuner is not None else 0,
            "drift_kT_per_ion_per_ns": float(fit[0] * 1e6 / n_kt),
            "energy_std_kT_per_ion": float(np.std(e - np.polyval(fit, t)) / n_kt),
            "mean_temperature": float(np.mean(temp)), "target_temperature": meta["temperature"],
            "profile": {"r_nm": res.centers.tolist(), "density_M": res.density["counterion"].tolist(),
                        "error_M": res.error["counterion"].tolist(), "scalars": res.scalars["counterion"]},
            "dt_trace": {"time_fs": hist["time"].tolist(), "dt": hist["dt"].tolist(),
                         "event": hist["event"].tolist()}, "env": _env()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("classify")
    p = sub.add_parser("speedup")
    p.add_argument("--systems", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3, help="timed repeats of each run, the fastest kept (default: 3)")
    p.add_argument("--duration", type=float, default=100.0, help="simulated ps per run (default: 100)")
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("steps")
    p.add_argument("--duration", type=float, default=100.0, help="simulated ps per run (default: 100)")
    p.add_argument("--on", choices=("test", "train"), default="test", help="held-out (default) or training systems")
    p.add_argument("--systems", type=int, help="how many systems to draw (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tuner", default="{}", help="LearnedTimestep keyword overrides as JSON")
    p.add_argument("--out", default="timestep_steps.json", help="file name in benchmarks/results/")
    p = sub.add_parser("long")
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--model", help="timestep model file (default: the shipped one)")
    p.add_argument("--chunk", type=int, default=20_000, help="steps between summaries (default: 20000)")
    p.add_argument("--fixed", action="store_true", help="no tuner: the fixed safe dt (the reference)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for name in ("systems", "repeats"):
        if getattr(args, name, None) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    mdl.set_num_threads(args.threads)
    {"classify": classify, "speedup": speedup, "steps": steps, "long": long_run}[args.what](args)


if __name__ == "__main__":
    main()
