"""TorchPotential: forces and virial against finite differences and against the Cython LJ kernel, regions,
dtypes, energy conservation, and clear errors for bad models and a missing torch."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import mdlearn as mdl

BOX = 6.0


class TorchLJ(torch.nn.Module):
    """Plain Lennard-Jones (ε = σ = 1, unshifted) over the pairs it is given; no parameters (float64)."""

    cutoff = 2.5

    def forward(self, species, positions, box, pairs, shifts):
        d = positions[pairs[1]] + shifts - positions[pairs[0]]
        s6 = 1.0 / (d * d).sum(dim=1) ** 3
        return (4.0 * (s6 * s6 - s6)).sum()


class DensityMLP(torch.nn.Module):
    """A many-body model: E = Σ_i MLP(G_i) + e0[s_i], G_i,k = Σ_j w[s_j] exp(-4 (r_ij - μ_k)²) fc(r_ij),
    fc a cosine cutoff (smooth at ``cutoff``)."""

    def __init__(self, cutoff=2.5, seed=0, dtype=torch.float64, species=None):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.cutoff = cutoff
        if species is not None:
            self.species = species
        f64 = torch.float64  # the same weights for every dtype: made in float64, then cast
        self.register_buffer("mu", torch.linspace(0.8, cutoff, 6, dtype=f64))
        self.weight = torch.nn.Parameter(torch.rand(2, generator=gen, dtype=f64) + 0.5)
        self.e0 = torch.nn.Parameter(torch.tensor([-1.0, -2.0], dtype=f64))
        self.net = torch.nn.Sequential(torch.nn.Linear(6, 16, dtype=f64), torch.nn.Tanh(),
                                       torch.nn.Linear(16, 1, dtype=f64))
        with torch.no_grad():
            for p in self.net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=f64) * 0.5)
        self.to(dtype)

    def forward(self, species, positions, box, pairs, shifts):
        i, j = pairs
        d = positions[j] + shifts - positions[i]
        r = torch.linalg.norm(d, dim=1)
        fc = 0.5 * (torch.cos(torch.pi * r / self.cutoff) + 1.0)
        g = torch.exp(-4.0 * (r[:, None] - self.mu) ** 2) * fc[:, None]
        feats = torch.zeros((len(positions), 6), dtype=positions.dtype)
        feats = feats.index_add(0, i, g * self.weight[species[j]][:, None])
        feats = feats.index_add(0, j, g * self.weight[species[i]][:, None])
        return self.net(feats).sum() + self.e0[species].sum()


@pytest.fixture
def liquid(random_state):
    return random_state(80, BOX, types="AB")


def energy_of(ff, state):
    return ff.compute(state, energy=True, virial=False).energy


def test_forces_match_finite_differences(liquid, rng):
    ff = mdl.ForceField([mdl.TorchPotential(DensityMLP())])
    res = ff.compute(liquid)
    h = 1e-5
    for atom in rng.choice(liquid.n_atoms, 4, replace=False):
        for axis in range(3):
            x0 = liquid.positions[atom, axis]
            liquid.positions[atom, axis] = x0 + h
            ep = energy_of(ff, liquid)
            liquid.positions[atom, axis] = x0 - h
            em = energy_of(ff, liquid)
            liquid.positions[atom, axis] = x0
            assert res.forces[atom, axis] == pytest.approx(-(ep - em) / (2 * h), rel=1e-5, abs=1e-7)


def test_periodic_virial_diagonal_matches_box_scaling(liquid):
    ff = mdl.ForceField([mdl.TorchPotential(DensityMLP())])
    w = ff.compute(liquid).virial
    h = 1e-5
    for a in range(3):
        e = []
        for sign in (1, -1):
            scale = np.ones(3)
            scale[a] += sign * h
            st = mdl.State(liquid.positions * scale, box=liquid.box * scale, types=liquid.types)
            e.append(mdl.ForceField([mdl.TorchPotential(DensityMLP())]).compute(st).energy)
        assert w[a, a] == pytest.approx(-(e[0] - e[1]) / (2 * h), rel=1e-5)


def test_open_cluster_virial_matches_every_strain_component(random_state):
    st = random_state(40, None, pbc=False, extent=4.0)
    w = mdl.ForceField([mdl.TorchPotential(DensityMLP())]).compute(st).virial
    h = 1e-5
    de = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            e = []
            for sign in (1, -1):
                strain = np.eye(3)
                strain[a, b] += sign * h
                moved = mdl.State(st.positions @ strain.T, pbc=False, types=st.types)
                e.append(mdl.ForceField([mdl.TorchPotential(DensityMLP())]).compute(moved).energy)
            de[a, b] = (e[0] - e[1]) / (2 * h)
    np.testing.assert_allclose(w, -0.5 * (de + de.T), rtol=1e-5, atol=1e-7)


def test_torch_lj_equals_the_cython_kernel(liquid):
    mine = mdl.ForceField([mdl.TorchPotential(TorchLJ())]).compute(liquid)
    kernel = mdl.ForceField([mdl.LennardJones(cutoff=2.5)]).compute(liquid)
    assert mine.energy == pytest.approx(kernel.energy, rel=1e-12)
    np.testing.assert_allclose(mine.forces, kernel.forces, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(mine.virial, kernel.virial, rtol=1e-10, atol=1e-10)


def test_network_region_and_classical_rest_count_each_pair_once(liquid, rng):
    mask = rng.random(liquid.n_atoms) < 0.5
    ff = mdl.ForceField([mdl.LennardJones(cutoff=2.5)])
    ff.substitute(mdl.TorchPotential(TorchLJ()), atoms=mask)
    split = ff.compute(liquid)
    full = mdl.ForceField([mdl.LennardJones(cutoff=2.5)]).compute(liquid)
    assert split.energy == pytest.approx(full.energy, rel=1e-12)
    np.testing.assert_allclose(split.forces, full.forces, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(split.virial, full.virial, rtol=1e-10, atol=1e-10)
    assert abs(split.energies["torch"]) > 0.1 * abs(full.energy)


def test_float32_model_gives_float64_results_close_to_float64(liquid):
    r64 = mdl.ForceField([mdl.TorchPotential(DensityMLP())]).compute(liquid)
    r32 = mdl.ForceField([mdl.TorchPotential(DensityMLP(dtype=torch.float32))]).compute(liquid)
    assert r32.forces.dtype == np.float64 and isinstance(r32.energy, float)
    assert r32.energy == pytest.approx(r64.energy, abs=1e-5 * liquid.n_atoms)  # float32 sums of O(1) terms
    np.testing.assert_allclose(r32.forces, r64.forces, atol=1e-4 * np.abs(r64.forces).max())


def test_species_names_map_to_model_indices(liquid):
    # the model lists B first: swapping the state's type order must give the same energy
    model = DensityMLP(species=("B", "A"))
    swapped = mdl.State(liquid.positions, box=liquid.box, types=[liquid.type_names[t] for t in liquid.types])
    e = mdl.ForceField([mdl.TorchPotential(model)]).compute(swapped).energy
    codes = np.where(liquid.types == liquid.type_names.index("B"), 0, 1)
    recoded = mdl.State(liquid.positions, box=liquid.box, types=codes.tolist())
    e_plain = mdl.ForceField([mdl.TorchPotential(DensityMLP(), species=None)]).compute(recoded).energy
    assert e == pytest.approx(e_plain, rel=1e-12)
    with pytest.raises(ValueError, match=r"knows species \['X'\], not \['A', 'B'\]"):
        mdl.ForceField([mdl.TorchPotential(DensityMLP(), species=("X",))]).compute(liquid)


def test_model_returning_forces(liquid):
    class WithForces(TorchLJ):
        def forward(self, species, positions, box, pairs, shifts):
            e = super().forward(species, positions, box, pairs, shifts)
            (g,) = torch.autograd.grad(e, positions, create_graph=True)
            return e, -g

    a = mdl.ForceField([mdl.TorchPotential(WithForces())]).compute(liquid)
    b = mdl.ForceField([mdl.LennardJones(cutoff=2.5)]).compute(liquid)
    np.testing.assert_allclose(a.forces, b.forces, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(a.virial, b.virial, rtol=1e-10, atol=1e-10)


def test_nve_conserves_energy_with_a_network(lj_liquid):
    st = lj_liquid(cells=4)
    sim = mdl.Simulation(st, mdl.ForceField([mdl.TorchPotential(DensityMLP(cutoff=2.5))]),
                         mdl.VelocityVerlet(dt=0.002))
    e0 = sim.forcefield.compute(st, sim.nlist).energy + st.kinetic_energy()
    sim.run(100, progress=False)
    e1 = sim.forcefield.compute(st, sim.nlist).energy + st.kinetic_energy()
    assert sim.nlist.builds >= 1
    assert abs(e1 - e0) / st.n_atoms < 1e-4


def test_bad_models_get_clear_errors(liquid):
    class PerAtom(TorchLJ):
        def forward(self, species, positions, box, pairs, shifts):
            return positions.sum(dim=1)

    class BadForces(TorchLJ):
        def forward(self, species, positions, box, pairs, shifts):
            return positions.sum(), positions[:, :2]

    class Constant(TorchLJ):
        def forward(self, species, positions, box, pairs, shifts):
            return torch.tensor(1.0, dtype=torch.float64)

    n = liquid.n_atoms
    with pytest.raises(ValueError, match=rf"PerAtom returned an energy of shape \({n},\); expected a scalar"):
        mdl.ForceField([mdl.TorchPotential(PerAtom())]).compute(liquid)
    with pytest.raises(ValueError, match=rf"BadForces returned forces of shape \({n}, 2\); expected \({n}, 3\)"):
        mdl.ForceField([mdl.TorchPotential(BadForces())]).compute(liquid)
    with pytest.raises(ValueError, match="does not depend on the positions"):
        mdl.ForceField([mdl.TorchPotential(Constant())]).compute(liquid)
    with pytest.raises(TypeError, match="needs a torch.nn.Module, got function"):
        mdl.TorchPotential(lambda *a: 0.0)
    with pytest.raises(ValueError, match="has no 'cutoff' attribute"):
        mdl.TorchPotential(torch.nn.Linear(3, 1))
    with pytest.raises(ValueError, match="cutoff must be positive"):
        mdl.TorchPotential(TorchLJ(), cutoff=-1.0)


def test_missing_torch_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"mdlearn\[ml\]"):
        mdl.TorchPotential(object())


def test_mdlearn_imports_without_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import mdlearn as mdl\n"
            "st = mdl.build.lattice('fcc', cells=(4, 4, 4), density=0.8442)\n"
            "print(round(mdl.ForceField([mdl.LennardJones()]).compute(st).energy / st.n_atoms, 4))\n"
            "try:\n    mdl.TorchPotential(None)\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "-6.7734"
    assert "pip install 'mdlearn[ml]'" in out
