"""Features for timestep prediction: the physical parameters of a nanoparticle system and the running state.

System features come from the ``metadata`` of :func:`mdlearn.build.nanoparticle_system` (or from the same
physical parameters given as a dict); state features are read from a live :class:`~mdlearn.Simulation`.
All are dimensionless or in the physical units named below, so that one estimator serves every system.
"""
import numpy as np

from ..units import REAL

__all__ = ["STATE_FEATURES", "SYSTEM_FEATURES", "state_features", "system_features"]

SYSTEM_FEATURES = ("radius_nm", "charge_e", "valency", "salt_M", "ion_diameter_nm", "epsilon_in", "contrast",
                   "ion_density_nm3", "contact_coupling", "ion_coupling")
STATE_FEATURES = ("max_force", "closest_approach", "temperature_error")


def _bjerrum(epsilon_r, kt):
    """Bjerrum length in Å for a permittivity and k_B T in eV."""
    return REAL.coulomb / (epsilon_r * kt)


def system_features(metadata):
    """The physical parameters of a nanoparticle system, as a dict of floats.

    ``radius_nm``, ``charge_e`` (|Q|), ``valency`` (counterion), ``salt_M``, ``ion_diameter_nm`` (the
    smallest), ``epsilon_in``, ``contrast`` = (ε_out − ε_in)/(ε_out + ε_in), ``ion_density_nm3`` (ions per nm³ of
    the cell), ``contact_coupling`` = z |Q| l_B / (a + d/2) and ``ion_coupling`` = z² l_B / d (Coulomb energies at
    contact in k_B T; l_B the Bjerrum length).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> system = mdl.build.nanoparticle_system(radius=1.0, charge=-6, ion_diameter=0.5, cell_radius=3.0, seed=1)
    >>> f = mdl.tune.system_features(system.metadata)
    >>> f["valency"], round(f["ion_coupling"], 2)
    (1.0, 1.43)
    """
    m = metadata
    try:
        species = m["species"]
        counter = species["counterion"]
        d_a = min(s["diameter"] for s in species.values())  # Å
        a_a, cell_a, kt = m["radius"], m["cell_radius"], m["kT"]
        eps_in, eps_out = m["epsilon_in"], m["epsilon_out"]
        n_ions = sum(s["count"] for s in species.values())
    except KeyError as exc:
        raise ValueError(f"metadata lacks {exc}: expected the metadata of mdlearn.build.nanoparticle_system") from None
    z = abs(counter["valency"])
    lb = _bjerrum(eps_out, kt)
    volume_nm3 = 4.0 / 3.0 * np.pi * ((cell_a / 10) ** 3 - (a_a / 10) ** 3)
    return {
        "radius_nm": a_a / 10, "charge_e": abs(m["charge"]), "valency": float(z), "salt_M": m["concentration"],
        "ion_diameter_nm": d_a / 10, "epsilon_in": eps_in, "contrast": (eps_out - eps_in) / (eps_out + eps_in),
        "ion_density_nm3": n_ions / volume_nm3, "contact_coupling": z * abs(m["charge"]) * lb / (a_a + 0.5 * d_a),
        "ion_coupling": z * z * lb / d_a,
    }


def state_features(sim, metadata):
    """Features of the running state: ``max_force`` (largest force on an ion in k_B T / d), ``closest_approach``
    (smallest ion–ion distance over d, the smallest diameter) and ``temperature_error`` (|T − T₀| / T₀).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> system = mdl.build.nanoparticle_system(radius=1.0, charge=-6, ion_diameter=0.5, cell_radius=3.0, seed=1)
    >>> f = mdl.tune.state_features(system.simulation(seed=1), system.metadata)
    >>> f["closest_approach"] >= 1.0
    True
    """
    st = sim.state
    d_a = min(s["diameter"] for s in metadata["species"].values())
    kt = metadata["kT"]
    fmax = float(np.sqrt(np.max(np.einsum("ij,ij->i", st.forces, st.forces)))) if st.n_atoms else 0.0
    x = st.positions
    if st.n_atoms > 1:
        diff = x[:, None, :] - x[None, :, :]
        r2 = np.einsum("ijk,ijk->ij", diff, diff)
        np.fill_diagonal(r2, np.inf)
        closest = float(np.sqrt(r2.min())) / d_a
    else:
        closest = np.inf
    t0 = metadata["temperature"]
    return {"max_force": fmax * d_a / kt, "closest_approach": closest,
            "temperature_error": abs(sim.temperature() - t0) / t0}
