"""Reporters: thermo CSV, trajectories read back with mdtraj, callables (``mdlearn.reporters``)."""
import csv
import io

import mdtraj
import numpy as np
import pytest

import mdlearn as mdl

THERMO_COLUMNS = ["step", "time", "dt", "potential_energy", "kinetic_energy", "total_energy",
                  "conserved_energy", "temperature"]


def lj_sim(integrator=None):
    st = mdl.build.lattice("fcc", cells=4, density=0.8442)  # 256 atoms
    st.set_temperature(1.2, seed=3)
    ff = mdl.ForceField([mdl.LennardJones(cutoff=2.5, shift=True)])
    return mdl.Simulation(st, ff, integrator or mdl.VelocityVerlet(dt=0.005))


def argon_sim():
    """Solid argon in real units (Å, fs, eV): positions must be written in nm, Å / 10."""
    st = mdl.build.lattice("fcc", cells=4, lattice_constant=5.26, types="Ar", units="real")
    st.set_temperature(60.0, seed=4)
    ff = mdl.ForceField([mdl.LennardJones(epsilon=0.0104, sigma=3.40, cutoff=8.5, shift=True)])
    return mdl.Simulation(st, ff, mdl.VelocityVerlet(dt=5.0))


def read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=float)


# ---------------------------------------------------------------------------------------------- thermo
def test_thermo_columns_rows_and_values(tmp_path):
    sim = lj_sim()
    rep = mdl.ThermoReporter(tmp_path / "thermo.csv", every=10)
    sim.add_reporter(rep)
    sim.run(40, progress=False)
    rep.close()
    header, data = read_csv(tmp_path / "thermo.csv")
    assert header == THERMO_COLUMNS + ["pressure", "energy_lj"]
    assert data.shape == (4, len(header))
    col = dict(zip(header, data.T, strict=True))
    assert col["step"].tolist() == [10, 20, 30, 40]
    np.testing.assert_allclose(col["time"], col["step"] * 0.005, rtol=1e-12)
    np.testing.assert_allclose(col["total_energy"], col["potential_energy"] + col["kinetic_energy"],
                               rtol=1e-12)
    np.testing.assert_array_equal(col["energy_lj"], col["potential_energy"])
    # The last row is the final state: check it against an independent evaluation.
    fresh = mdl.ForceField([mdl.LennardJones(cutoff=2.5, shift=True)]).compute(sim.state.copy())
    np.testing.assert_allclose(col["potential_energy"][-1], fresh.energy, rtol=1e-10)
    np.testing.assert_allclose(col["kinetic_energy"][-1], sim.state.kinetic_energy(), rtol=1e-12)
    np.testing.assert_allclose(col["temperature"][-1], sim.temperature(), rtol=1e-12)
    kinetic = np.trace(sim.state.kinetic_tensor())
    pressure = (kinetic + np.trace(fresh.virial)) / (3 * sim.state.volume)
    np.testing.assert_allclose(col["pressure"][-1], pressure, rtol=1e-9)


def test_thermo_without_pressure_and_to_a_file_object():
    sim = lj_sim(mdl.NoseHooverChain(dt=0.005, temperature=1.2, tau=0.5))
    buf = io.StringIO()
    sim.add_reporter(mdl.ThermoReporter(buf, every=7, pressure=False))
    sim.run(21, progress=False)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0] == THERMO_COLUMNS + ["energy_lj"]
    assert [int(r[0]) for r in rows[1:]] == [7, 14, 21]
    data = np.array(rows[1:], dtype=float)
    # Nosé–Hoover: the conserved energy includes the thermostat's share
    assert not np.allclose(data[:, 6], data[:, 5])
    assert np.ptp(data[:, 6]) < 1e-3 * abs(data[0, 6])


# ---------------------------------------------------------------------------------------------- trajectory
@pytest.mark.parametrize("units", ["lj", "real"])
@pytest.mark.parametrize("ext", [".dcd", ".xtc", ".h5"])
def test_trajectory_reads_back_with_mdtraj(tmp_path, ext, units):
    sim = lj_sim() if units == "lj" else argon_sim()
    nm = 1.0 if units == "lj" else 0.1      # LJ lengths are written as nm unchanged; Å / 10 otherwise
    ps = 1.0 if units == "lj" else 1e-3
    path = tmp_path / f"traj{ext}"
    rep = mdl.TrajectoryReporter(path, every=5)
    seen = []
    sim.add_reporter(rep)
    sim.add_reporter((seen.append, 5))
    sim.run(23, progress=False)
    sim.close()
    assert [s.step for s in seen] == [5, 10, 15, 20]
    if ext == ".h5":
        assert rep.topology_path is None
        traj = mdtraj.load(str(path))
    else:
        assert rep.topology_path == str(tmp_path / "traj.pdb")
        traj = mdtraj.load(str(path), top=rep.topology_path)
    assert traj.n_frames == 4 and traj.n_atoms == sim.state.n_atoms
    expected = np.array([s.state.positions for s in seen]) * nm
    box = sim.state.box * nm
    # float32 storage; XTC is also rounded to 1e-3 nm
    atol = 6e-4 if ext == ".xtc" else 4 * np.finfo(np.float32).eps * box.max()
    np.testing.assert_allclose(traj.xyz, expected, rtol=0, atol=atol)
    np.testing.assert_allclose(traj.unitcell_lengths, np.tile(box, (4, 1)), rtol=1e-6)
    np.testing.assert_allclose(traj.unitcell_angles, 90.0)
    if ext != ".dcd":
        np.testing.assert_allclose(traj.time, [s.time * ps for s in seen], rtol=1e-6)
    if units == "real":
        assert {a.element.symbol for a in traj.topology.atoms} == {"Ar"}


def test_trajectory_unwrapped_positions(tmp_path):
    sim = lj_sim()
    path = tmp_path / "traj.h5"
    sim.add_reporter(mdl.TrajectoryReporter(path, every=50, unwrap=True))
    seen = []
    sim.add_reporter((seen.append, 50))
    sim.run(200, progress=False)
    sim.close()
    traj = mdtraj.load(str(path))
    expected = np.array([s.state.unwrapped_positions() for s in seen])
    assert np.any(np.array([s.state.images for s in seen]) != 0)  # some atoms crossed the boundary
    np.testing.assert_allclose(traj.xyz, expected, rtol=0, atol=1e-5)


def test_trajectory_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"unsupported trajectory format '\.xyz'.*\.dcd"):
        mdl.TrajectoryReporter(tmp_path / "traj.xyz")


# ---------------------------------------------------------------------------------------------- callables
def test_callable_reporter_gets_snapshots():
    sim = lj_sim()
    snaps = []
    sim.add_reporter((snaps.append, 4))
    sim.run(13, progress=False)
    assert [s.step for s in snaps] == [4, 8, 12]
    for s in snaps:
        assert np.isfinite(s.potential_energy) and s.pressure is not None
        assert s.state.step == s.step and s.time == pytest.approx(s.step * 0.005)
        assert not s.state.positions.flags.writeable
    # each snapshot is a copy, not a view of the live state
    assert not np.array_equal(snaps[0].state.positions, snaps[-1].state.positions)
    assert not np.shares_memory(snaps[-1].state.positions, sim.state.positions)


def test_add_reporter_rejects_non_reporters():
    sim = lj_sim()
    with pytest.raises(TypeError, match="not a reporter"):
        sim.add_reporter(object())
    with pytest.raises(TypeError, match="callable"):
        sim.add_reporter(("not callable", 10))
