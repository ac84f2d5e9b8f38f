"""Simulations described in YAML: the ``mdlearn run config.yaml`` format.

Example (every top-level key except ``steps``, ``system``, ``forcefield`` and ``integrator`` is optional)::

    units: lj
    system: {builder: lattice, kind: fcc, cells: [6, 6, 6], density: 0.8442, temperature: 1.44, seed: 1}
    forcefield: [{type: LennardJones, epsilon: 1.0, sigma: 1.0, cutoff: 2.5, shift: true}]
    integrator: {type: Langevin, dt: 0.005, temperature: 1.44, friction: 1.0, seed: 2}
    skin: 0.3
    reporters: [{type: thermo, file: thermo.csv, every: 100}, {type: trajectory, file: traj.dcd, every: 100}]
    steps: 10000
    threads: 2

Parameters of a ``type`` are the keyword arguments of its class. File paths are relative to the folder of
the YAML file. Unknown keys and types raise :class:`ConfigError` naming the key and the valid choices.
"""
import difflib
import inspect
import os
from dataclasses import dataclass

from . import build
from .forces import ForceField, LennardJones
from .integrators import Langevin, NoseHooverChain, VelocityVerlet
from .reporters import CheckpointReporter, ThermoReporter, TrajectoryReporter
from .simulation import Simulation
from .threads import set_num_threads

__all__ = ["ConfigError", "Run", "build_run", "load_config"]

TOP_LEVEL = ("units", "system", "forcefield", "integrator", "skin", "reporters", "steps", "threads")
REQUIRED = ("system", "forcefield", "integrator", "steps")
BUILDERS = {"lattice": build.lattice}
SYSTEM_EXTRA = ("temperature", "seed")  # keys of `system` used after building: initial velocities
FORCE_TERMS = {"LennardJones": LennardJones}
INTEGRATORS = {"VelocityVerlet": VelocityVerlet, "Langevin": Langevin, "NoseHooverChain": NoseHooverChain}
REPORTERS = {"thermo": ThermoReporter, "trajectory": TrajectoryReporter, "checkpoint": CheckpointReporter}


class ConfigError(ValueError):
    """A configuration that cannot be turned into a simulation; the message names the offending key."""


@dataclass
class Run:
    """A ready simulation and how many steps to run it."""

    simulation: Simulation
    steps: int
    threads: int | None = None


def load_config(path):
    """Read a YAML file into a dict (checked to be a mapping)."""
    import yaml

    try:
        with open(path) as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys {list(TOP_LEVEL)}")
    return data


def build_run(config, base_dir="."):
    """Turn a config dict (as from :func:`load_config`) into a :class:`Run`.

    ``base_dir`` is the folder that relative file paths are resolved against (the YAML file's folder).
    Sets the kernels' thread count when ``threads`` is given.
    """
    _check_keys(config, TOP_LEVEL, "the top level")
    missing = [k for k in REQUIRED if k not in config]
    if missing:
        raise ConfigError(f"missing required key(s) {missing} at the top level")
    units = config.get("units", "lj")
    if units not in ("lj", "real"):
        raise ConfigError(f"units: unknown unit system {units!r}; valid: ['lj', 'real']")

    steps = config["steps"]
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ConfigError(f"steps: must be a non-negative integer, got {steps!r}")
    threads = config.get("threads")
    if threads is not None:
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise ConfigError(f"threads: must be a positive integer, got {threads!r}")

    state = _build_system(config["system"], units)
    terms = config["forcefield"]
    if isinstance(terms, dict):
        terms = [terms]
    if not isinstance(terms, list) or not terms:
        raise ConfigError("forcefield: must be a non-empty list of terms like {type: LennardJones, ...}")
    forcefield = ForceField([_make(FORCE_TERMS, t, f"forcefield[{i}]") for i, t in enumerate(terms)])
    integrator = _make(INTEGRATORS, config["integrator"], "integrator")
    skin = config.get("skin")
    if skin is not None and (isinstance(skin, bool) or not (isinstance(skin, (int, float)) and skin > 0)):
        raise ConfigError(f"skin: must be a positive number, got {skin!r}")
    try:
        sim = Simulation(state, forcefield, integrator, skin=skin)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot set up the simulation: {exc}") from exc

    reporters = config.get("reporters") or []
    if not isinstance(reporters, list):
        raise ConfigError("reporters: must be a list like [{type: thermo, file: thermo.csv, every: 100}]")
    try:
        for i, spec in enumerate(reporters):
            if isinstance(spec, dict) and isinstance(spec.get("file"), str):
                spec = {**spec, "file": os.path.join(base_dir, os.path.expanduser(spec["file"]))}
                os.makedirs(os.path.dirname(spec["file"]), exist_ok=True)
            sim.add_reporter(_make(REPORTERS, spec, f"reporters[{i}]"))
    except BaseException:
        sim.close()  # files opened by the reporters made so far
        raise
    if threads is not None:
        set_num_threads(threads)
    return Run(sim, steps, threads)


def _build_system(spec, units):
    where = "system"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: must be a mapping like {{builder: lattice, kind: fcc, ...}}")
    spec = dict(spec)
    name = spec.pop("builder", None)
    if name not in BUILDERS:
        raise ConfigError(f"{where}.builder: unknown builder {name!r}; valid: {sorted(BUILDERS)}")
    fn = BUILDERS[name]
    extra = {k: spec.pop(k) for k in SYSTEM_EXTRA if k in spec}
    if "units" in spec:
        raise ConfigError(f"{where}.units: set units at the top level, not in {where}")
    _check_keys(spec, _parameters(fn, exclude=("units",)) + list(SYSTEM_EXTRA), f"{where} (builder {name})")
    try:
        state = fn(**spec, units=units)
        if "temperature" in extra:
            state.set_temperature(extra["temperature"], seed=extra.get("seed"))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return state


def _make(registry, spec, where):
    """Instantiate ``registry[spec["type"]](**rest)`` after checking the keys against its signature."""
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: must be a mapping with a 'type' key; valid types: {sorted(registry)}")
    spec = dict(spec)
    name = spec.pop("type", None)
    if name not in registry:
        raise ConfigError(f"{where}.type: unknown type {name!r}; valid: {sorted(registry)}")
    cls = registry[name]
    _check_keys(spec, _parameters(cls), f"{where} (type {name})")
    try:
        # YAML has no tuple keys: LennardJones pairs are given as a list of [type_a, type_b, epsilon, sigma].
        if cls is LennardJones and isinstance(spec.get("pairs"), list):
            spec["pairs"] = {(a, b): (eps, sig) for a, b, eps, sig in spec["pairs"]}
        return cls(**spec)
    except (TypeError, ValueError, OSError) as exc:
        raise ConfigError(f"{where} (type {name}): {exc}") from exc


def _parameters(fn, exclude=()):
    return [p for p in inspect.signature(fn).parameters if p not in ("self", *exclude)]


def _check_keys(mapping, valid, where):
    for key in mapping:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown key {key!r} in {where}{hint}; valid keys: {list(valid)}")
