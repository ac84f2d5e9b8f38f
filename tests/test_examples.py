"""Smoke tests: the demo (``mdlearn.demo``, ``mdlearn demo lj``) and every file in ``examples/`` run on a
tiny setting. A new example must be given a fast path in ``FAST`` below."""
import importlib.util
import json
import shutil
from pathlib import Path

import mdtraj
import numpy as np
import pytest

from mdlearn.cli import main
from mdlearn.demo import run_lj_demo

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY_DEMO = ["--cells", "4", "--equilibration", "40", "--steps", "60", "--threads", "1", "--no-progress"]


def check_demo_output(out, frames):
    thermo = np.genfromtxt(out / "thermo.csv", delimiter=",", names=True)
    assert len(thermo) == frames
    traj = mdtraj.load(str(out / "traj.dcd"), top=str(out / "traj.pdb"))
    assert traj.n_frames == frames and traj.n_atoms == 256
    png = (out / "energy.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000


def test_run_lj_demo_tiny(tmp_path, capsys):
    s = run_lj_demo(tmp_path / "demo", cells=4, steps=60, equilibration=40, every=10, seed=5, progress=False)
    check_demo_output(tmp_path / "demo", frames=10)
    assert s["atoms"] == 256 and s["steps"] == 100 and s["nve_steps"] == 60
    assert s["wall_time"] > 0 and s["atom_steps_per_s"] > 0
    assert 0.5 < s["mean_temperature"] < 3.0
    assert abs(s["energy_drift"]) < 1e-3
    printed = capsys.readouterr().out
    for text in ("256 atoms", "40 Langevin + 60 NVE", "atom-steps/s", "mean T", "energy drift", "energy.png"):
        assert text in printed


def test_demo_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="cells"):
        run_lj_demo(tmp_path, cells=0)
    with pytest.raises(ValueError, match="steps"):
        run_lj_demo(tmp_path, steps=-1)
    with pytest.raises(ValueError, match="at least every"):
        run_lj_demo(tmp_path, steps=5, equilibration=0, every=10)


def test_demo_subcommand(tmp_path):
    assert main(["demo", "lj", "--out", str(tmp_path / "out"), *TINY_DEMO]) == 0
    check_demo_output(tmp_path / "out", frames=2)  # every 50 steps over 100


# --------------------------------------------------------------------------------------------- examples/
def run_python_example(path, args):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # examples guard their work with `if __name__ == "__main__"`
    return module.main(args)


def fast_lj_demo(tmp_path):
    run_python_example(EXAMPLES / "lj_demo.py", ["--out", str(tmp_path / "out"), *TINY_DEMO])
    check_demo_output(tmp_path / "out", frames=2)


def fast_yaml(name, steps=200):
    def run(tmp_path):
        cfg = tmp_path / name
        shutil.copy(EXAMPLES / name, cfg)  # outputs land beside the YAML file: keep them in tmp_path
        assert main(["run", str(cfg), "--steps", str(steps), "--threads", "1", "--no-progress"]) == 0
        assert any(p.suffix == ".csv" for p in tmp_path.rglob("*"))
    return run


def fast_nanoparticle_ions(tmp_path):
    out = tmp_path / "np"
    run_python_example(EXAMPLES / "nanoparticle_ions.py",
                       ["--out", str(out), "--steps", "200", "--equilibration", "50", "--radius", "1.0", "--charge",
                        "-6", "--cell-radius", "3.0", "--threads", "1", "--no-progress"])
    data = np.genfromtxt(out / "profile.csv", delimiter=",", names=True)
    assert data.dtype.names[:3] == ("r_nm", "counterion_M", "counterion_error") and len(data) == 20
    assert np.all(data["counterion_M"] >= 0) and data["counterion_M"].max() > 0
    png = (out / "profile.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000


def fast_ase_calculator(tmp_path):
    run_python_example(EXAMPLES / "ase_calculator.py",
                       ["--cells", "4", "--steps", "20", "--out", str(tmp_path / "out")])
    assert (tmp_path / "out" / "md.traj").stat().st_size > 0


def fast_custom_force_term(tmp_path):
    res = run_python_example(EXAMPLES / "custom_force_term.py", ["--cells", "4", "--steps", "100"])
    assert res["force_error"] < 1e-6 and res["pressure_error"] < 1e-6  # eV/Å, eV/Å³
    assert abs(res["drift_per_atom"]) < 1e-4


def fast_substitution_emt(tmp_path):
    res = run_python_example(EXAMPLES / "substitution_emt.py",
                             ["--train-temperatures", "500", "--train-steps", "30", "--steps", "20", "--hot-steps",
                              "10", "--ensemble", "2", "--hidden", "8", "--epochs", "2", "--threads", "1",
                              "--json", str(tmp_path / "out.json")])
    assert res["training_frames"] == 3 and res["held_out_frames"] == 2 and res["frames_hot"] == 1
    assert np.isfinite(res["energy_rmse_meV_per_atom"]) and res["force_rmse_eV_per_A"] > 0
    assert res["oracle_ms_per_step"] > 0 and res["network_ms_per_step"] > 0 and res["flag_threshold_eV"] > 0
    assert (tmp_path / "out.json").stat().st_size > 0


def fast_confined_surrogate(tmp_path):
    out = tmp_path / "cs"
    run_python_example(EXAMPLES / "confined_surrogate.py",
                       ["--out", str(out), "--points", "12", "--steps", "100", "--equilibration", "20",
                        "--synchronous", "--epochs", "20", "--no-progress"])
    metrics = json.loads((out / "metrics.json").read_text())
    records = [json.loads(p.read_text()) for p in (out / "campaign" / "results").glob("*.json")]
    assert len(records) == 12 and metrics["n_runs"] == sum(r["status"] == "ok" for r in records) >= 10
    assert metrics["outputs"] == ["contact", "peak", "mid"]
    assert metrics["t_seq_s"] > 1e3 * metrics["t_lookup_single_s"]
    assert (out / "parity.png").read_bytes().startswith(PNG_MAGIC)


FAST = {
    "ase_calculator.py": fast_ase_calculator,
    "custom_force_term.py": fast_custom_force_term,
    "lj_demo.py": fast_lj_demo,
    "nanoparticle_ions.py": fast_nanoparticle_ions,
    "substitution_emt.py": fast_substitution_emt,
    "lj_liquid.yaml": fast_yaml("lj_liquid.yaml"),
    "confined_surrogate.py": fast_confined_surrogate,
}
IGNORED_SUFFIXES = {".md", ".txt", ".png"}


def example_files():
    return sorted(p.name for p in EXAMPLES.iterdir()
                  if p.is_file() and p.suffix not in IGNORED_SUFFIXES and not p.name.startswith("."))


def test_every_example_has_a_fast_path():
    missing = sorted(set(example_files()) - set(FAST))
    assert not missing, f"examples without a smoke test (add them to FAST in {__file__}): {missing}"


@pytest.mark.parametrize("name", sorted(FAST))
def test_example(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    FAST[name](tmp_path)


# --------------------------------------------------------------------------------------------- nanoparticle demo
def test_nanoparticle_demo_tiny(tmp_path, capsys):
    from mdlearn.demo import run_nanoparticle_demo

    s = run_nanoparticle_demo(tmp_path / "np", radius=1.0, charge=-6, valency=1, salt=0.0, ion_diameter=0.5,
                              cell_radius=3.0, duration=1.5, equilibration=20, threads=1)
    assert s["fixed"]["failed"] is None and s["learned"]["failed"] is None
    assert s["fixed"]["simulated"] == pytest.approx(1500.0, abs=s["safe_dt"])
    assert s["learned"]["simulated"] == pytest.approx(1500.0, abs=64.0)
    assert s["mean_dt"] >= s["safe_dt"] * 0.5 and s["speedup"] > 0
    assert len(s["dt_trace"][1]) >= 1
    printed = capsys.readouterr().out
    for text in ("fixed safe dt", "learned tuner", "speedup", "dt over time", "counterion density"):
        assert text in printed
    png = (tmp_path / "np" / "nanoparticle.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000
    data = np.genfromtxt(tmp_path / "np" / "profiles.csv", delimiter=",", names=True)
    assert data.dtype.names == ("r_nm", "fixed_M", "fixed_error", "learned_M", "learned_error")
    assert data["fixed_M"].max() > 0 and data["learned_M"].max() > 0
    with pytest.raises(ValueError, match="duration"):
        run_nanoparticle_demo(tmp_path, duration=0.0)


def test_nanoparticle_demo_subcommand(tmp_path):
    assert main(["demo", "nanoparticle", "--out", str(tmp_path / "out"), "--duration", "1.0", "--equilibration",
                 "20", "--threads", "1"]) == 0
    assert (tmp_path / "out" / "nanoparticle.png").stat().st_size > 10_000
