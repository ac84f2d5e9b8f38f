"""A user's own force term in plain NumPy, run in a Simulation without touching mdlearn's core.

The term is a Morse pair potential for copper (Girifalco & Weizer, Phys. Rev. 114, 687 (1959):
D = 0.3429 eV, a = 1.3588 / Å, r0 = 2.866 Å), shifted to zero at the cutoff. It implements the force-term
protocol of ``mdlearn/forces/base.py`` (``name``, ``cutoff``, ``attach``, ``compute``) on mdlearn's
neighbor list; ``pairwise = True`` says its energy is a sum over listed pairs, so it can also be restricted
to a region of atoms (``ForceField.substitute``). The script checks the forces and the pressure against
finite differences, then runs Langevin + NVE and prints the energy drift.

    .venv/bin/python examples/custom_force_term.py --cells 4 --steps 500
"""
import argparse

import numpy as np
from ase.build import bulk

import mdlearn as mdl


class Morse:
    """U(r) = D [(1 - exp(-a (r - r0)))² - 1] - U(rc) for r < rc; eV and Å."""

    pairwise = True

    def __init__(self, D=0.3429, a=1.3588, r0=2.866, cutoff=6.0, name="morse"):
        self.D, self.a, self.r0, self.cutoff, self.name = D, a, r0, cutoff, name

    def _u(self, r):
        x = np.exp(-self.a * (r - self.r0))
        return self.D * ((1.0 - x) ** 2 - 1.0), 2.0 * self.D * self.a * x * (1.0 - x)  # U, dU/dr

    def attach(self, state):
        if self.cutoff <= self.r0:
            raise ValueError(f"cutoff {self.cutoff} Å must exceed r0 = {self.r0} Å")
        self._shift = self._u(self.cutoff)[0]

    def compute(self, state, nlist, request, out):
        i, j, shift = nlist.pairs(state)
        d = state.positions[j] + shift - state.positions[i]  # from i to j
        r = np.linalg.norm(d, axis=1)
        near = r < self.cutoff
        i, j, d, r = i[near], j[near], d[near], r[near]
        u, du = self._u(r)
        f_on_i = (du / r)[:, None] * d  # -dU/dr_i
        n = state.n_atoms
        for axis in range(3):
            out.forces[:, axis] += np.bincount(i, f_on_i[:, axis], n) - np.bincount(j, f_on_i[:, axis], n)
        if request.virial:  # W_ab = Σ r_ij,a f_ij,b with r_ij = -d
            out.add_virial(-d.T @ f_on_i)
        return float(np.sum(u - self._shift)) if request.energy else 0.0


def finite_difference_check(state, ff, h=1e-5):
    """Largest |F - F_fd| over a few components (eV/Å) and the pressure error from a box scaling (eV/Å³)."""
    res = ff.compute(state)
    err = 0.0
    for atom, axis in [(0, 0), (7, 1), (13, 2)]:
        x0 = state.positions[atom, axis]
        e = []
        for sign in (1, -1):
            state.positions[atom, axis] = x0 + sign * h
            e.append(ff.compute(state, virial=False).energy)
        state.positions[atom, axis] = x0
        err = max(err, abs(res.forces[atom, axis] + (e[0] - e[1]) / (2 * h)))
    e = []
    for sign in (1, -1):  # W_xx + W_yy + W_zz = -3 V dU/dV
        s = 1 + sign * h
        moved = state.copy()
        moved.box, moved.positions = state.box * s, state.positions * s
        e.append(mdl.ForceField([Morse()]).compute(moved).energy)
    pressure_fd = -(e[0] - e[1]) / (2 * h) / (3 * state.volume)
    return err, abs(np.trace(res.virial) / (3 * state.volume) - pressure_fd)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=5, help="fcc cells per side (4 atoms each)")
    parser.add_argument("--steps", type=int, default=2000, help="NVE steps (after as many Langevin steps)")
    parser.add_argument("--temperature", type=float, default=300.0, help="K")
    args = parser.parse_args(argv)

    state = mdl.State.from_atoms(bulk("Cu", "fcc", a=3.61, cubic=True).repeat((args.cells,) * 3))
    state.positions += np.random.default_rng(0).normal(0.0, 0.05, state.positions.shape)  # off the lattice
    ff = mdl.ForceField([Morse()])
    ferr, perr = finite_difference_check(state, ff)
    print(f"{state.n_atoms} Cu atoms, Morse term in NumPy: U/N = {ff.compute(state).energy / state.n_atoms:.4f} eV; "
          f"finite differences: max force error {ferr:.2e} eV/Å, pressure error {perr:.2e} eV/Å³")

    state.set_temperature(args.temperature, seed=1)
    sim = mdl.Simulation(state, ff, mdl.Langevin(dt=2.0, temperature=args.temperature, friction=0.01, seed=2),
                         skin=0.5)
    sim.run(args.steps, progress=False)
    sim.integrator = mdl.VelocityVerlet(dt=2.0)
    e0 = ff.compute(state, sim.nlist).energy + state.kinetic_energy()
    sim.run(args.steps, progress=False)
    e1 = ff.compute(state, sim.nlist).energy + state.kinetic_energy()
    print(f"NVE {args.steps} steps of 2 fs: T = {state.temperature():.0f} K, "
          f"energy drift {(e1 - e0) / state.n_atoms:+.2e} eV/atom")
    return {"force_error": ferr, "pressure_error": perr, "drift_per_atom": (e1 - e0) / state.n_atoms}


if __name__ == "__main__":
    main()
