"""Force-term plugins: regions without double counting (checked against an all-pairs NumPy sum), the
force-field editing methods, and terms made by name from entry points of a (fake) installed package."""
import numpy as np
import pytest

import mdlearn as mdl
from mdlearn.forces import _reference as ref
from mdlearn.forces.region import PairFilter, Restricted, region_mask

BOX = 7.0


@pytest.fixture
def mixture(random_state):
    return random_state(300, BOX, types="AB")


def lj_terms(name="lj"):
    return mdl.LennardJones(epsilon={"A": 1.0, "B": 0.7}, sigma={"A": 1.0, "B": 1.1}, cutoff=2.5, name=name)


def assert_same_result(a, b):
    assert a.energy == pytest.approx(b.energy, rel=1e-11)
    np.testing.assert_allclose(a.forces, b.forces, rtol=1e-9, atol=1e-9 * np.abs(b.forces).max())
    np.testing.assert_allclose(a.virial, b.virial, rtol=1e-9, atol=1e-9 * np.abs(b.virial).max())


def test_region_and_rest_sum_to_the_full_term(mixture, rng):
    mask = rng.random(mixture.n_atoms) < 0.4
    full = mdl.ForceField([lj_terms()]).compute(mixture)
    ff = mdl.ForceField([lj_terms()])
    ff.substitute(lj_terms("region"), atoms=mask)
    split = ff.compute(mixture)
    assert_same_result(split, full)
    # the region alone is the same potential over the region's atoms only (all-pairs NumPy sum)
    sub = ref.lennard_jones(mixture.positions[mask], BOX, types=mixture.types[mask], epsilon=[1.0, 0.7],
                            sigma=[1.0, 1.1], cutoff=2.5)
    assert split.energies["region"] == pytest.approx(sub.energy, rel=1e-11)
    assert split.energies["lj"] == pytest.approx(full.energy - sub.energy, rel=1e-11)


def test_indices_and_mask_give_the_same_region(mixture, rng):
    idx = rng.choice(mixture.n_atoms, 120, replace=False)
    a = mdl.ForceField([lj_terms()])
    a.substitute(lj_terms("net"), atoms=idx)
    b = mdl.ForceField([lj_terms()])
    b.substitute(lj_terms("net"), atoms=region_mask(idx, mixture.n_atoms))
    ra, rb = a.compute(mixture), b.compute(mixture)
    assert ra.energies == pytest.approx(rb.energies, rel=1e-12)


def test_add_with_atoms_restricts_to_pairs_within(mixture, rng):
    mask = rng.random(mixture.n_atoms) < 0.5
    res = mdl.ForceField([lj_terms()], ).compute(mixture)
    ff = mdl.ForceField()
    ff.add(lj_terms("in"), atoms=mask)
    ff.add(Restricted(lj_terms("out"), mask, pairs="rest"))
    assert_same_result(ff.compute(mixture), res)


def test_filtered_list_follows_rebuilds_during_a_run(lj_liquid, rng):
    st = lj_liquid(cells=4)
    mask = np.zeros(st.n_atoms, dtype=bool)
    mask[: st.n_atoms // 2] = True
    ff = mdl.ForceField([mdl.LennardJones(shift=True)])
    ff.substitute(mdl.LennardJones(shift=True, name="net"), atoms=mask)
    sim = mdl.Simulation(st, ff, mdl.VelocityVerlet(dt=0.005), skin=0.3)
    sim.run(200, progress=False)
    assert sim.nlist.builds > 2
    split = ff.compute(st, sim.nlist)
    assert_same_result(split, mdl.ForceField([mdl.LennardJones(shift=True)]).compute(st))


def test_pair_filter_keeps_the_list_layout(mixture, rng):
    nl = mdl.NeighborList(2.5, 0.3)
    nl.update(mixture)
    mask = rng.random(mixture.n_atoms) < 0.3
    within, rest = PairFilter(mask, "within")(nl), PairFilter(mask, "rest")(nl)
    assert within.n_pairs + rest.n_pairs == nl.n_pairs
    for view in (within, rest):
        assert view.start.dtype == nl.start.dtype and view.neighbors.dtype == nl.neighbors.dtype
        assert view.start[-1] == view.n_pairs
    i, j, _ = within.pairs(mixture)
    assert mask[i].all() and mask[j].all()
    i, j, _ = rest.pairs(mixture)
    assert not (mask[i] & mask[j]).any()


def test_region_errors(mixture):
    n = mixture.n_atoms
    with pytest.raises(ValueError, match="shape"):
        region_mask(np.ones(n - 1, dtype=bool), n)
    with pytest.raises(ValueError, match=f"atom index {n} is out of range"):
        region_mask([0, n], n)
    with pytest.raises(ValueError, match="bool mask or a 1-D array"):
        region_mask([0.5, 1.5], n)
    with pytest.raises(TypeError, match="cannot be restricted"):
        Restricted(mdl.PlanarWalls(0.0, 7.0), [0, 1])
    with pytest.raises(ValueError, match="pairs must be one of"):
        Restricted(lj_terms(), [0, 1], pairs="both")
    ff = mdl.ForceField([mdl.LennardJones(tail=True)])
    ff.substitute(mdl.LennardJones(name="net"), atoms=[0, 1])
    with pytest.raises(ValueError, match="tail corrections"):
        ff.compute(mixture)
    ff = mdl.ForceField([lj_terms()])
    with pytest.raises(KeyError, match="no term named 'coulomb'"):
        ff.substitute(lj_terms("net"), atoms=[0], replace=["coulomb"])
    with pytest.raises(ValueError, match="already in the force field"):
        ff.substitute(lj_terms("lj"), atoms=[0])


def test_replace_remove_add_keep_order(mixture):
    ff = mdl.ForceField([lj_terms("a"), lj_terms("b")])
    ff.replace("a", lj_terms("c"))
    assert [t.name for t in ff] == ["c", "b"]
    assert ff.remove("b").name == "b"
    ff.add(lj_terms("d"))
    assert [t.name for t in ff] == ["c", "d"]
    assert ff.compute(mixture).energies["d"] == pytest.approx(ff.compute(mixture).energies["c"], rel=1e-12)


# ------------------------------------------------------------------------------------------- by name
PLUGIN_MODULE = '''
import numpy as np


class Tether:
    """k/2 |r - r0|^2 per atom, r0 the positions at attach."""

    cutoff = None

    def __init__(self, k=1.0, name="tether"):
        self.k, self.name = k, name

    def attach(self, state):
        self.r0 = state.positions.copy()

    def compute(self, state, nlist, request, out):
        d = state.positions - self.r0
        out.forces -= self.k * d
        return 0.5 * self.k * float((d * d).sum())


def not_a_term(**kwargs):
    return object()
'''


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """A package installed on sys.path with entry points in the ``mdlearn.forces`` group."""
    (tmp_path / "fake_mdl_plugin.py").write_text(PLUGIN_MODULE)
    info = tmp_path / "fake_mdl_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-mdl-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[mdlearn.forces]\ntether = fake_mdl_plugin:Tether\nbroken = fake_mdl_plugin:Missing\n"
        "odd = fake_mdl_plugin:not_a_term\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    import sys

    sys.modules.pop("fake_mdl_plugin", None)


def test_entry_point_term_is_made_by_name(fake_plugin, mixture):
    assert {"tether", "LennardJones", "TorchPotential"} <= set(mdl.forces.available())
    tether = mdl.forces.create("tether", k=2.0)
    ff = mdl.ForceField([lj_terms(), tether])
    mixture.positions = mixture.positions + 0.0  # attach records r0 at the current positions
    ff.compute(mixture)
    mixture.positions[0] += [0.1, 0.0, 0.0]
    res = ff.compute(mixture)
    assert res.energies["tether"] == pytest.approx(0.5 * 2.0 * 0.01, rel=1e-12)


def test_entry_point_errors(fake_plugin):
    with pytest.raises(ImportError, match="'broken' from package 'fake-mdl-plugin'"):
        mdl.forces.create("broken")
    with pytest.raises(TypeError, match="not a force term"):
        mdl.forces.create("odd")
    with pytest.raises(ValueError, match="did you mean 'tether'"):
        mdl.forces.create("tethr")


def test_builtin_terms_by_name():
    lj = mdl.forces.create("LennardJones", cutoff=3.0, name="x")
    assert isinstance(lj, mdl.LennardJones) and lj.cutoff == 3.0
    with pytest.raises(ValueError, match="unknown force term 'Lenard'"):
        mdl.forces.create("Lenard")


def test_filtered_view_follows_a_different_list(mixture, rng):
    mask = rng.random(mixture.n_atoms) < 0.5
    ff = mdl.ForceField([lj_terms()])
    ff.substitute(lj_terms("net"), atoms=mask)
    full = mdl.ForceField([lj_terms()]).compute(mixture)
    for skin in (0.3, 0.5, 0.3):  # each list built once (builds == 1): the view must still be remade
        assert_same_result(ff.compute(mixture, mdl.NeighborList(2.5, skin)), full)
