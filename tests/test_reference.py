"""The Cython LJ kernel and the cell/Verlet neighbor list against the all-pairs NumPy oracle.

Random configurations cover several densities, cubic and non-cubic boxes, one and two atom types,
full periodicity, a slab (periodic in x and y only) and an open cluster, boxes with exactly two or three
neighbor-list cells along an axis (where the cell stencil takes its special paths), and one or two
OpenMP threads.
"""
import numpy as np
import pytest

import mdlearn as mdl
from mdlearn.forces import _reference as ref
from mdlearn.threads import openmp_enabled

CUTOFF, SKIN = 2.5, 0.3  # ForceField.compute keeps its own list with skin 0.3
RLIST = CUTOFF + SKIN

TWO_TYPES = {"epsilon": {"A": 1.0, "B": 1.6}, "sigma": {"A": 1.0, "B": 1.25}}

# name: (n, box, pbc, extent for open systems, types)
CASES = {
    "cubic-dilute": (300, [10.0, 10.0, 10.0], True, None, None),
    "cubic-liquid": (600, [8.8, 8.8, 8.8], True, None, None),
    "cubic-dense": (720, [8.9, 8.9, 8.9], True, None, None),
    "noncubic": (500, [7.1, 9.3, 10.4], True, None, None),
    "two-types": (500, [8.2, 9.0, 10.1], True, None, "AB"),
    "slab-xy": (400, [8.0, 9.0, 7.5], (True, True, False), None, "AB"),
    "open": (350, None, False, [7.0, 8.0, 9.5], "AB"),
    "two-cells": (180, [5.61, 6.2, 7.9], True, None, None),          # exactly 2 cells on every axis
    "two-three-cells": (300, [6.0, 8.5, 10.9], True, None, "AB"),   # 2, 3 and 3 cells
    "mixed-cells": (420, [5.9, 9.0, 12.6], True, None, None),       # 2, 3 and 4 cells
    "slab-two-cells": (200, [5.7, 6.5, 4.0], (True, True, False), None, None),
}


def _ncells(box):
    return np.floor(np.asarray(box) / RLIST).astype(int)


def test_case_geometry():
    """The small-box cases really have the cell counts they claim (so the special stencils are hit)."""
    assert _ncells(CASES["two-cells"][1]).tolist() == [2, 2, 2]
    assert _ncells(CASES["two-three-cells"][1]).tolist() == [2, 3, 3]
    assert _ncells(CASES["mixed-cells"][1]).tolist() == [2, 3, 4]


def _state(random_state, name):
    n, box, pbc, extent, types = CASES[name]
    return random_state(n, box, pbc=pbc, types=types, extent=extent)


def _lj_kwargs(st):
    """Force-term parameters and the matching per-type arrays for the oracle."""
    if len(st.type_names) == 1:
        return {}, {"epsilon": 1.0, "sigma": 1.0}
    eps = [TWO_TYPES["epsilon"][t] for t in st.type_names]
    sig = [TWO_TYPES["sigma"][t] for t in st.type_names]
    return TWO_TYPES, {"epsilon": eps, "sigma": sig}


def _oracle(st, **kw):
    box = None if not st.pbc.any() else st.box
    return ref.lennard_jones(st.positions, box, st.pbc, st.types, cutoff=CUTOFF, **kw)


def _assert_matches(res, want):
    scale = np.abs(want.forces).max()
    assert res.energy == pytest.approx(want.energy, rel=1e-11, abs=1e-10)
    np.testing.assert_allclose(res.forces, want.forces, rtol=0, atol=1e-11 * scale)
    np.testing.assert_allclose(res.virial, want.virial, rtol=1e-11, atol=1e-10 * np.abs(want.virial).max())


THREADS = [1, pytest.param(2, marks=pytest.mark.skipif(not openmp_enabled(), reason="built without OpenMP"))]


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("shift", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_lj_kernel_matches_all_pairs(random_state, name, shift, threads):
    st = _state(random_state, name)
    term_kw, oracle_kw = _lj_kwargs(st)
    mdl.set_num_threads(threads)
    res = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, shift=shift, **term_kw)]).compute(st)
    want = _oracle(st, shift=shift, **oracle_kw)
    # guard against a vacuous comparison: the case must have many interacting pairs
    assert abs(want.energy) > 10.0
    _assert_matches(res, want)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("name", ["cubic-liquid", "two-types", "two-three-cells"])
def test_lj_tail_matches_all_pairs(random_state, name, threads):
    st = _state(random_state, name)
    term_kw, oracle_kw = _lj_kwargs(st)
    mdl.set_num_threads(threads)
    res = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, tail=True, **term_kw)]).compute(st)
    want = _oracle(st, tail=True, **oracle_kw)
    assert want.tail_energy < -1.0  # the tail is large enough that dropping it would fail the test
    _assert_matches(res, want)


@pytest.mark.skipif(not openmp_enabled(), reason="built without OpenMP")
def test_two_threads_agree_with_one(random_state):
    """Thread-private force buffers are summed: the result is the same up to round-off."""
    st = _state(random_state, "two-types")
    term_kw, _ = _lj_kwargs(st)
    ff = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, **term_kw)])
    one = ff.compute(st)
    one = (one.energy, one.forces.copy(), one.virial)
    mdl.set_num_threads(2)
    two = ff.compute(st)
    assert two.energy == pytest.approx(one[0], rel=1e-12)
    np.testing.assert_allclose(two.forces, one[1], rtol=0, atol=1e-11 * np.abs(one[1]).max())
    np.testing.assert_allclose(two.virial, one[2], rtol=1e-12)


def test_lj_pair_override_and_geometric_mixing(random_state):
    """``pairs=`` replaces the parameters of one unlike pair; ``mixing="geometric"`` takes
    sigma_ab = sqrt(sigma_a sigma_b)."""
    st = _state(random_state, "two-types")
    _, oracle_kw = _lj_kwargs(st)
    geo = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, mixing="geometric", **TWO_TYPES)]).compute(st)
    want = _oracle(st, mixing="geometric", **oracle_kw)
    assert geo.energy == pytest.approx(want.energy, rel=1e-11)
    lb = _oracle(st, **oracle_kw)
    assert abs(want.energy - lb.energy) > 1.0  # the two rules really differ on this configuration

    # override A-B by (0.7, 1.05): the oracle sums like pairs and the unlike pair separately
    lj = mdl.LennardJones(cutoff=CUTOFF, pairs={("A", "B"): (0.7, 1.05)}, **TWO_TYPES)
    res = mdl.ForceField([lj]).compute(st)
    i, j, rij = ref.pair_vectors(st.positions, st.box, st.pbc)
    r = np.linalg.norm(rij, axis=1)
    names = np.array(st.type_names)
    pair_type = np.char.add(names[st.types[i]], names[st.types[j]])
    eps = np.select([pair_type == "AA", pair_type == "BB"], [1.0, 1.6], 0.7)
    sig = np.select([pair_type == "AA", pair_type == "BB"], [1.0, 1.25], 1.05)
    sr6 = (sig / r) ** 6
    energy = np.sum(np.where(r < CUTOFF, 4 * eps * (sr6 * sr6 - sr6), 0.0))
    assert res.energy == pytest.approx(energy, rel=1e-11)
    assert abs(energy - lb.energy) > 1.0


# ------------------------------------------------------------------------------------------ neighbor list
def _listed_pairs(nl, st):
    i, j, shift = nl.pairs(st)
    pairs = list(zip(np.minimum(i, j).tolist(), np.maximum(i, j).tolist(), strict=True))
    return i, j, shift, pairs


@pytest.mark.parametrize("name", list(CASES))
def test_neighbor_list_equals_all_pairs(random_state, name):
    st = _state(random_state, name)
    nl = mdl.NeighborList(cutoff=CUTOFF, skin=SKIN)
    assert nl.update(st)
    i, j, shift, pairs = _listed_pairs(nl, st)
    assert len(pairs) == len(set(pairs)), "a pair is listed twice"
    assert set(pairs) == ref.all_pairs_within(st.positions, st.box, st.pbc, RLIST)
    assert nl.n_pairs == len(pairs) > 0
    # r_j + shift - r_i is the minimum-image vector, and shifts are whole boxes on periodic axes only
    d = st.positions[j] + shift - st.positions[i]
    np.testing.assert_allclose(d, ref.minimum_image(st.positions[j] - st.positions[i], st.box, st.pbc),
                               atol=1e-12)
    assert np.all(np.linalg.norm(d, axis=1) < RLIST)
    assert np.all(shift[:, ~st.pbc] == 0.0)
    if st.pbc.any():
        k = shift[:, st.pbc] / st.box[st.pbc]
        np.testing.assert_allclose(k, np.round(k), atol=1e-12)


def test_neighbor_list_rebuilds_only_past_half_skin(random_state):
    """No rebuild while every atom moved less than skin / 2; a rebuild (and the exact pair set again)
    once one atom moved farther."""
    st = _state(random_state, "noncubic")
    nl = mdl.NeighborList(cutoff=CUTOFF, skin=SKIN)
    nl.update(st)
    x0 = st.positions.copy()
    st.positions = x0 + np.array([0.0, 0.49 * 0.5 * SKIN, 0.0])  # everything just under skin / 2
    assert not nl.update(st)
    moved = x0.copy()
    moved[17] += [0.0, 0.0, 0.51 * SKIN]
    st.positions = moved
    st.wrap()
    assert nl.update(st)
    assert nl.builds == 2
    _, _, _, pairs = _listed_pairs(nl, st)
    assert set(pairs) == ref.all_pairs_within(st.positions, st.box, st.pbc, RLIST)


def test_neighbor_list_skin_change(random_state):
    """A larger skin makes the list stale and the rebuilt list holds the pairs within the new range; a smaller one
    keeps the list (a superset); the largest skin is what the shortest periodic edge allows."""
    st = _state(random_state, "noncubic")
    nl = mdl.NeighborList(cutoff=CUTOFF, skin=SKIN)
    nl.update(st)
    nl.set_skin(0.5 * SKIN)
    assert not nl.needs_update(st)
    nl.set_skin(2.0 * SKIN)
    assert nl.update(st)
    _, _, _, pairs = _listed_pairs(nl, st)
    assert set(pairs) == ref.all_pairs_within(st.positions, st.box, st.pbc, CUTOFF + 2.0 * SKIN)
    assert nl.largest_skin(st) == pytest.approx(0.5 * st.box[st.pbc].min() - CUTOFF)
    with pytest.raises(ValueError, match="skin must be >= 0, got -1"):
        nl.set_skin(-1.0)
    free = random_state(50, [10.0, 10.0, 10.0])
    free = mdl.State(free.positions, box=None, pbc=False)
    assert nl.largest_skin(free) == np.inf


def test_neighbor_list_grows_instead_of_dropping(random_state):
    """A list sized for a dilute system grows when the same atoms are packed densely."""
    st = random_state(400, [14.0, 14.0, 14.0])
    nl = mdl.NeighborList(cutoff=CUTOFF, skin=SKIN)
    nl.update(st)
    capacity = len(nl.neighbors)
    dense = random_state(400, [7.4, 7.4, 7.4])
    nl.update(dense)
    _, _, _, pairs = _listed_pairs(nl, dense)
    assert len(pairs) > capacity
    assert set(pairs) == ref.all_pairs_within(dense.positions, dense.box, dense.pbc, RLIST)


def test_lj_after_moves_with_stale_but_valid_list(random_state):
    """Forces stay exact while the list is reused (atoms moved less than skin / 2, list not rebuilt)."""
    st = _state(random_state, "two-three-cells")
    term_kw, oracle_kw = _lj_kwargs(st)
    nl = mdl.NeighborList(cutoff=CUTOFF, skin=SKIN)
    ff = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, **term_kw)])
    ff.compute(st, nlist=nl)
    rng = np.random.default_rng(5)
    step = rng.uniform(-1, 1, size=st.positions.shape)
    step *= 0.45 * 0.5 * SKIN / np.linalg.norm(step, axis=1, keepdims=True)
    st.positions = st.positions + step
    res = ff.compute(st, nlist=nl)
    assert nl.builds == 1
    _assert_matches(res, _oracle(st, **oracle_kw))


@pytest.mark.skipif(not openmp_enabled(), reason="built without OpenMP")
@pytest.mark.parametrize("pbc", [True, (True, True, False)])
def test_threaded_neighbor_build_equals_serial(random_state, pbc):
    """Large enough (N >= 4096) for the build to split its bins between threads; the pairs must be the
    same set, each once, and their shifts the same."""
    st = random_state(6000, [19.0, 22.0, 17.0], pbc=pbc)
    lists = []
    for threads in (1, 2):
        mdl.set_num_threads(threads)
        nl = mdl.NeighborList(cutoff=2.5, skin=0.3)
        nl.build(st)
        i, j, shift = nl.pairs(st)
        pairs = {(min(a, b), max(a, b)): tuple(np.round(s * (1 if a < b else -1), 9))
                 for a, b, s in zip(i.tolist(), j.tolist(), shift, strict=True)}
        assert len(pairs) == nl.n_pairs
        lists.append(pairs)
    assert lists[0] == lists[1]


def test_two_threads_same_pairs_and_forces():
    """The threaded list build (N >= 4096) finds the same pairs, and the threaded LJ kernel the same energy,
    forces and virial, as one thread; in a mixture, so per-pair parameters are looked up."""
    st = mdl.build.lattice("fcc", cells=(11, 11, 12), density=0.8442)
    rng = np.random.default_rng(11)
    st.positions = st.positions + rng.uniform(-0.15, 0.15, st.positions.shape)
    st = mdl.State(st.positions, box=st.box, types=rng.choice(["A", "B"], st.n_atoms))
    results = []
    for threads in (1, 2):
        mdl.set_num_threads(threads)
        nl = mdl.NeighborList(cutoff=CUTOFF, skin=SKIN)
        nl.update(st)
        ff = mdl.ForceField([mdl.LennardJones(cutoff=CUTOFF, epsilon={"A": 1.0, "B": 0.7},
                                              sigma={"A": 1.0, "B": 0.9})])
        res = ff.compute(st, nlist=nl, energy=True, virial=True)
        results.append((set(_listed_pairs(nl, st)[3]), res.energy, res.forces.copy(), res.virial.copy()))
    (p1, e1, f1, w1), (p2, e2, f2, w2) = results
    assert st.n_atoms >= 4096 and p1 == p2
    assert e2 == pytest.approx(e1, rel=1e-12)
    np.testing.assert_allclose(f2, f1, rtol=0, atol=1e-11 * np.abs(f1).max())
    np.testing.assert_allclose(w2, w1, rtol=1e-12)
