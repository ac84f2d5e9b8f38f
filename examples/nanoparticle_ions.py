"""Ions around a charged dielectric nanoparticle: Langevin dynamics and the radial density profiles.

Builds a primitive-model system with mdlearn.build.nanoparticle_system (implicit water, a fixed particle of
low permittivity whose induced surface charge is solved each step by boundary elements, counterions and a
1:1 salt in a spherical cell), equilibrates, samples the radial ion densities around the particle, and writes
profile.csv (r in nm, densities in mol/L with block-averaged errors) and profile.png to --out. About half a
minute with the defaults on two cores.

    python examples/nanoparticle_ions.py --out np-output
"""
import argparse
import time
from pathlib import Path

import mdlearn as mdl  # noqa: E402


def run(out, radius=1.5, charge=-15.0, salt=0.1, valency=1, ion_diameter=0.5, epsilon_in=2.0,
        epsilon_out=78.5, cell_radius=5.0, steps=20000, equilibration=4000, every=20, seed=1, threads=None,
        progress=True):
    """Build, run and analyse; returns the :class:`~mdlearn.analysis.ProfileResult`. Physical units as in
    :func:`mdlearn.build.nanoparticle_system` (nm, e, mol/L)."""
    if threads:
        mdl.set_num_threads(threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    system = mdl.build.nanoparticle_system(
        radius=radius, charge=charge, salt_concentration=salt, counterion_valency=valency, coion_valency=1,
        ion_diameter=ion_diameter, epsilon_in=epsilon_in, epsilon_out=epsilon_out, cell_radius=cell_radius,
        seed=seed)
    meta = system.metadata
    counts = ", ".join(f"{v['count']} {k}s ({v['valency']:+d} e)" for k, v in meta["species"].items())
    print(f"particle: radius {radius:g} nm, charge {meta['charge']:+g} e, eps_in {epsilon_in:g} / eps_out "
          f"{epsilon_out:g}, {meta['n_grid']} boundary elements; cell radius {cell_radius:g} nm")
    print(f"ions: {counts}; salt {meta['concentration']:.3f} M; timestep {meta['timestep']:.1f} fs")

    sim = system.simulation(seed=seed)
    t0 = time.perf_counter()
    sim.run(equilibration, progress=progress)
    profile = mdl.analysis.density_profile(system, every=every, bin_width=1.0)
    sim.add_reporter(profile)
    sim.run(steps, progress=progress)
    wall = time.perf_counter() - t0

    result = profile.result(blocks=10)
    result.to_csv(out / "profile.csv")
    result.plot(out / "profile.png", title=f"Q = {meta['charge']:+g} e, a = {radius:g} nm, "
                                           f"eps_in = {epsilon_in:g}, {meta['concentration']:.2f} M salt")
    print(f"{equilibration} + {steps} steps ({(equilibration + steps) * meta['timestep'] / 1000:.0f} ps) in "
          f"{wall:.1f} s, {(equilibration + steps) / wall:.0f} steps/s, T = {sim.state.temperature():.0f} K")
    for s, sc in result.scalars.items():
        print(f"{s:>10}: contact {sc['contact'][0]:.3f} ± {sc['contact'][1]:.3f} M, peak {sc['peak'][0]:.3f} ± "
              f"{sc['peak'][1]:.3f} M at r = {sc['peak_position']:.2f} nm, mid-point {sc['mid'][0]:.3f} ± "
              f"{sc['mid'][1]:.3f} M")
    print(f"wrote {out / 'profile.csv'} and {out / 'profile.png'}")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="np-output", help="output folder (default: np-output)")
    parser.add_argument("--radius", type=float, default=1.5, help="particle radius, nm (default: 1.5)")
    parser.add_argument("--charge", type=float, default=-15.0, help="particle charge, e (default: -15)")
    parser.add_argument("--salt", type=float, default=0.1, help="1:1 salt concentration, M (default: 0.1)")
    parser.add_argument("--valency", type=int, default=1, help="counterion valency (default: 1)")
    parser.add_argument("--ion-diameter", type=float, default=0.5, help="ion diameter, nm (default: 0.5)")
    parser.add_argument("--epsilon-in", type=float, default=2.0, help="particle permittivity (default: 2)")
    parser.add_argument("--cell-radius", type=float, default=5.0, help="cell radius, nm (default: 5)")
    parser.add_argument("--steps", type=int, default=20000, help="sampling steps (default: 20000)")
    parser.add_argument("--equilibration", type=int, default=4000, help="equilibration steps (default: 4000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--threads", type=int, help="kernel threads (default: all cores)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    a = parser.parse_args(argv)
    run(a.out, radius=a.radius, charge=a.charge, salt=a.salt, valency=a.valency, ion_diameter=a.ion_diameter,
        epsilon_in=a.epsilon_in, cell_radius=a.cell_radius, steps=a.steps, equilibration=a.equilibration,
        seed=a.seed, threads=a.threads, progress=not a.no_progress)


if __name__ == "__main__":
    main()
