"""The ``mdlearn`` command line and the YAML config format (``mdlearn.cli``, ``mdlearn.config``)."""
import subprocess
import sys
import textwrap

import mdtraj
import numpy as np
import pytest

import mdlearn as mdl
from mdlearn.cli import main
from mdlearn.config import ConfigError, build_run, load_config

CONFIG = """\
units: lj
system: {builder: lattice, kind: fcc, cells: [4, 4, 4], density: 0.8442, temperature: 1.44, seed: 1}
forcefield: [{type: LennardJones, epsilon: 1.0, sigma: 1.0, cutoff: 2.5, shift: true}]
integrator: {type: Langevin, dt: 0.005, temperature: 1.44, friction: 1.0, seed: 2}
skin: 0.3
reporters:
  - {type: thermo, file: out/thermo.csv, every: 25}
  - {type: trajectory, file: out/traj.dcd, every: 50}
  - {type: checkpoint, file: run.chk, every: 120}
steps: 300
threads: 1
"""


def write_config(folder, text=CONFIG):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def test_run_writes_outputs_beside_the_yaml(tmp_path, monkeypatch, capsys):
    cfg = write_config(tmp_path / "case")
    monkeypatch.chdir(tmp_path)  # relative paths must follow the YAML file, not the working directory
    assert main(["run", str(cfg), "--no-progress"]) == 0
    out = tmp_path / "case" / "out"
    thermo = np.genfromtxt(out / "thermo.csv", delimiter=",", names=True)
    assert thermo["step"].tolist() == list(range(25, 301, 25))
    assert "temperature" in thermo.dtype.names and "energy_lj" in thermo.dtype.names
    traj = mdtraj.load(str(out / "traj.dcd"), top=str(out / "traj.pdb"))
    assert traj.n_frames == 6 and traj.n_atoms == 256
    sim = mdl.Simulation.from_checkpoint(tmp_path / "case" / "run.chk")
    assert sim.state.step == 240  # checkpoints at 120 and 240
    assert isinstance(sim.integrator, mdl.Langevin) and sim.integrator.temperature == 1.44
    printed = capsys.readouterr().out
    assert "256 atoms" in printed and "300 steps" in printed and "thermo.csv" in printed


def test_steps_override_and_module_entry_point(tmp_path):
    cfg = write_config(tmp_path)
    assert main(["run", str(cfg), "--steps", "50", "--threads", "1", "--no-progress"]) == 0
    rows = np.genfromtxt(tmp_path / "out" / "thermo.csv", delimiter=",", names=True)
    assert np.atleast_1d(rows["step"]).tolist() == [25, 50]
    # `python -m mdlearn` is the same command
    proc = subprocess.run([sys.executable, "-m", "mdlearn", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "run" in proc.stdout and "demo" in proc.stdout


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "run" in out and "demo" in out and "YAML" in out
    with pytest.raises(SystemExit) as exc:
        main(["run", "--help"])
    assert exc.value.code == 0
    assert "--steps" in capsys.readouterr().out


def test_no_subcommand_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("steps: 300", "stpes: 300", ["'stpes'", "did you mean 'steps'", "valid keys", "integrator"]),
        ("type: Langevin,", "type: Langevan,", ["integrator.type", "'Langevan'", "NoseHooverChain",
                                                 "VelocityVerlet"]),
        ("friction: 1.0,", "gamma: 1.0,", ["'gamma'", "integrator (type Langevin)", "'friction'", "'dt'"]),
        ("{type: thermo,", "{type: thermometer,", ["reporters[0].type", "'thermometer'", "checkpoint",
                                                    "trajectory"]),
        ("cutoff: 2.5,", "cutof: 2.5,", ["'cutof'", "forcefield[0] (type LennardJones)", "'cutoff'"]),
        ("builder: lattice", "builder: crystal", ["system.builder", "'crystal'", "lattice"]),
        ("kind: fcc", "knd: fcc", ["'knd'", "system", "'kind'"]),
        ("units: lj", "units: metal", ["units", "'metal'", "'real'"]),
        ("steps: 300", "", ["missing", "'steps'"]),
        ("steps: 300", "steps: -5", ["steps", "non-negative"]),
        ("kind: fcc", "kind: hcp", ["system", "unknown lattice 'hcp'"]),
        ("file: out/traj.dcd", "file: out/traj.xyz", ["reporters[1] (type trajectory)", "'.xyz'", ".h5"]),
        ("skin: 0.3", "skin: -1", ["skin", "positive"]),
    ],
)
def test_bad_config_gives_clear_error(tmp_path, capsys, old, new, expected):
    assert old in CONFIG
    cfg = write_config(tmp_path, CONFIG.replace(old, new))
    assert main(["run", str(cfg), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mdlearn run: error:")
    for text in expected:
        assert text in err, f"{text!r} not in {err!r}"
    thermo = tmp_path / "out" / "thermo.csv"
    assert not thermo.exists() or thermo.read_text() == ""  # nothing ran


def test_config_errors_are_value_errors(tmp_path):
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write_config(tmp_path, "- just\n- a list\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write_config(tmp_path, "steps: [1, 2\n"))
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="reporters: must be a list"):
        build_run({**load_config(write_config(tmp_path)), "reporters": {"type": "thermo"}}, base_dir=tmp_path)


def test_build_run_other_integrators(tmp_path):
    config = load_config(write_config(tmp_path))
    config["reporters"] = []
    nve = {"type": "VelocityVerlet", "dt": 0.004}
    nhc = {"type": "NoseHooverChain", "dt": 0.004, "temperature": 1.2, "tau": 0.5}
    for spec, cls in [(nve, mdl.VelocityVerlet), (nhc, mdl.NoseHooverChain)]:
        run = build_run({**config, "integrator": spec}, base_dir=tmp_path)
        assert isinstance(run.simulation.integrator, cls) and run.simulation.integrator.dt == 0.004
        assert run.steps == 300 and run.threads == 1
        run.simulation.run(5, progress=False)
        assert run.simulation.state.step == 5


def test_yaml_example_in_docs_is_valid(tmp_path):
    """The example in the module docstring of mdlearn.config parses and builds."""
    import yaml

    import mdlearn.config as config_module

    doc = config_module.__doc__
    block = textwrap.dedent(doc.split("::\n\n", 1)[1].split("\n\n", 1)[0])
    config = yaml.safe_load(block)
    config["system"]["cells"] = [4, 4, 4]
    config["threads"] = 1
    run = build_run(config, base_dir=tmp_path)
    assert run.steps == 10000 and len(run.simulation.reporters) == 2
    run.simulation.close()
