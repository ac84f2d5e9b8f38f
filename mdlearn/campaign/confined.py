"""The simulate function of the confined-electrolyte surrogate: one short Langevin run of the primitive model
between two uncharged walls (:func:`mdlearn.build.confined_electrolyte`), returning the contact, peak and
mid-point densities of the positive ions with their block error bars.

Inputs (the published surrogate's five; Kadupitiya, Fox and Jadhao 2019/2020):
``h`` confinement length (nm), ``z_pos`` positive valency, ``z_neg`` negative valency (−1), ``c`` salt
concentration (M) counted as *negative ions per volume* as in that study (the builder's formula-unit
concentration is ``c / z_pos`` for z₋ = −1), ``d`` ion diameter (nm, both ions).

Outputs (M): ``contact``, ``peak``, ``mid`` and their ``_err`` (standard errors over ``blocks`` blocks), and
``peak_position`` (nm from the mid-plane). Solvent ε_r = 80 and T = 298 K as in the study.
"""
from ..analysis import density_profile
from ..build import confined_electrolyte

__all__ = ["INPUTS", "OUTPUTS", "SPACE", "simulate"]

INPUTS = ("h", "z_pos", "z_neg", "c", "d")
OUTPUTS = ("contact", "peak", "mid")
SPACE = {"h": (3.0, 4.0), "z_pos": [1, 2, 3], "z_neg": -1, "c": (0.3, 0.9), "d": (0.5, 0.75)}
"""The published input ranges, for :class:`~mdlearn.campaign.Space`."""


def simulate(params, seed, *, lateral_size=4.0, equilibration_steps=1000, production_steps=5000, every=10,
             blocks=10, bin_fraction=0.1, ewald_accuracy=1e-4):
    """Simulate one point; ``params`` holds ``h``, ``z_pos``, ``z_neg``, ``c``, ``d`` (module docstring).

    Parameters
    ----------
    lateral_size : float
        Box length along x and y, nm (small: short runs have few ions and wide error bars).
    equilibration_steps, production_steps : int
        Langevin steps at the builder's suggested timestep before and while sampling.
    every : int
        Steps between profile samples.
    blocks : int
        Blocks for the error bars.
    bin_fraction : float
        Histogram bin width over the ion diameter.
    ewald_accuracy : float
        Relative force accuracy of the slab Ewald sum.

    Examples
    --------
    >>> from mdlearn.campaign.confined import simulate
    >>> out = simulate({"h": 3.0, "z_pos": 1, "z_neg": -1, "c": 0.5, "d": 0.714}, seed=1,
    ...                equilibration_steps=20, production_steps=40, every=2, blocks=2)
    >>> sorted(out)
    ['contact', 'contact_err', 'mid', 'mid_err', 'peak', 'peak_err', 'peak_position']
    """
    missing = [k for k in INPUTS if k not in params]
    if missing:
        raise ValueError(f"missing inputs {missing}; need {list(INPUTS)}")
    z_pos, z_neg = int(params["z_pos"]), int(params["z_neg"])
    if z_neg != -1:
        raise ValueError(f"z_neg must be -1 (c counts negative ions), got {params['z_neg']}")
    d = float(params["d"])
    system = confined_electrolyte(h=float(params["h"]), z_pos=z_pos, z_neg=z_neg,
                                  concentration=float(params["c"]) / z_pos, ion_diameter=d,
                                  lateral_size=lateral_size, seed=seed, epsilon_r=80.0, temperature=298.0,
                                  ewald_accuracy=ewald_accuracy)
    sim = system.simulation(seed=seed)
    try:
        sim.run(equilibration_steps, progress=False)
        profile = density_profile(system, bin_width=bin_fraction * d * 10.0, every=every, species=["cation"])
        sim.add_reporter(profile)
        sim.run(production_steps, progress=False)
    finally:
        sim.close()
    sc = profile.result(blocks=blocks).scalars["cation"]
    out = {"peak_position": sc["peak_position"]}
    for k in OUTPUTS:
        out[k], out[f"{k}_err"] = sc[k]
    return out
