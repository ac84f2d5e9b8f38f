"""Ion density profiles: along z between two walls, and radially around a centre (a nanoparticle), per
species, with error bars from block averaging, and the contact, peak and mid-point densities.

Samplers are reporters: attach one with ``sim.add_reporter(profile)`` and it histograms the positions
every ``every`` steps (or call ``profile.sample(state)`` yourself); ``profile.result()`` returns a
:class:`ProfileResult`.

Units of the results. In real units (positions in Å) positions are reported in **nm** and number densities
in **mol/L (M)**, the units of published primitive-model profiles (1 M = 0.602214 nm⁻³). In LJ units both
stay reduced: σ and σ⁻³. ``ProfileResult.units`` says which.

Error bars. The per-frame histograms are split into ``blocks`` consecutive blocks (leading frames that do
not fill a block are dropped); the error of a mean is the standard deviation of the block means over
sqrt(blocks) (standard error of the mean, assuming blocks longer than the correlation time). Scalars
(contact, peak, mid-point) get their error the same way, from their values in each block.
"""
import csv
from dataclasses import dataclass, field

import numpy as np

from .._kernels import profiles as _pk
from ..triggers import Periodic

__all__ = ["ProfileResult", "RadialProfile", "SlabProfile", "density_profile"]

AVOGADRO = 6.02214076e23
MOLAR_PER_INVERSE_A3 = 1e27 / AVOGADRO  # a number density of 1 Å⁻³ is 1660.54 mol/L


def _units(state):
    """(length factor, density factor, units dict) from the state's units to the reported ones."""
    if state.units.name == "real":
        return 0.1, MOLAR_PER_INVERSE_A3, {"position": "nm", "density": "M"}
    return 1.0, 1.0, {"position": state.units.length, "density": f"1/{state.units.length}^3"}


@dataclass
class ProfileResult:
    """Averaged density profiles.

    Attributes
    ----------
    kind : ``"z"`` or ``"radial"``
    centers, edges : arrays
        Bin centres (B,) and edges (B + 1,) in ``units["position"]``; for ``"z"``, measured from the
        mid-plane between the walls.
    density, error : dict of arrays
        Mean number density per species (B,) and its block standard error, ``units["density"]``.
    blocks : dict of arrays
        Block means per species (n_blocks, B).
    bin_volumes : array
        Volume of each bin in ``units["position"]``³.
    scalars : dict
        Per species: ``{"contact": (value, error), "peak": (value, error), "peak_position": x,
        "mid": (value, error)}`` in density units (position units for ``peak_position``). For ``"z"``
        they come from the profile symmetrised about the mid-plane; contact and mid-point are linear
        interpolations at the given positions (NaN when no contact position was given).
    frames, n_blocks : int
    units : dict
    """

    kind: str
    centers: np.ndarray
    edges: np.ndarray
    species: list
    density: dict
    error: dict
    blocks: dict
    bin_volumes: np.ndarray
    scalars: dict
    frames: int
    n_blocks: int
    units: dict
    density_per_count: float = field(repr=False, default=1.0)

    def number(self, species):
        """Mean number of ions of ``species`` in the binned range: ∫ ρ dV, from the profile."""
        return float(np.sum(self.density[species] * self.bin_volumes) / self.density_per_count)

    def symmetrized(self, species):
        """For ``"z"``: (|z| of the upper half bins, (ρ(z) + ρ(−z)) / 2, its error)."""
        if self.kind != "z":
            raise ValueError("only z profiles have a mid-plane")
        half = len(self.centers) // 2
        rho = 0.5 * (self.density[species] + self.density[species][::-1])
        blk = 0.5 * (self.blocks[species] + self.blocks[species][:, ::-1])
        err = blk.std(axis=0, ddof=1) / np.sqrt(self.n_blocks)
        return self.centers[half:], rho[half:], err[half:]

    def to_csv(self, path):
        """Write ``position, <species>, <species>_error, ...`` with a header naming the units."""
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            head = [f"{'z' if self.kind == 'z' else 'r'}_{self.units['position']}"]
            for s in self.species:
                head += [f"{s}_{self.units['density']}", f"{s}_error"]
            w.writerow(head)
            for k, x in enumerate(self.centers):
                row = [f"{x:.6g}"]
                for s in self.species:
                    row += [f"{self.density[s][k]:.6g}", f"{self.error[s][k]:.3g}"]
                w.writerow(row)

    def plot(self, path=None, ax=None, title=None):
        """Plot every species with its error band; save to ``path`` (PNG) when given. Returns the axes."""
        import matplotlib

        if ax is None and path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        for s in self.species:
            line, = ax.plot(self.centers, self.density[s], label=s)
            ax.fill_between(self.centers, self.density[s] - self.error[s], self.density[s] + self.error[s],
                            color=line.get_color(), alpha=0.3)
        ax.set_xlabel(f"{'z' if self.kind == 'z' else 'r'} ({self.units['position']})")
        ax.set_ylabel(f"density ({self.units['density']})")
        ax.legend()
        if title:
            ax.set_title(title)
        if path is not None:
            (fig or ax.figure).savefig(path, dpi=120, bbox_inches="tight")
            if fig is not None:
                plt.close(fig)
        return ax


class _ProfileSampler:
    """Shared code: histogram per species per frame, reporter protocol, block averages."""

    include = ()
    kind = None

    def __init__(self, bin_width, every, species, contact, name):
        self.bin_width = bin_width
        self.every = every
        self.species = species
        self.contact = contact
        self.name = name
        self._trigger = Periodic(every)
        self._frames = []
        self._setup = None

    # reporter protocol
    def describe_next_report(self, sim):
        return self._trigger.steps_until(sim.state.step), self.include

    def report(self, sim, snapshot):
        self.sample(snapshot.state)

    def reset(self):
        """Forget the frames sampled so far (e.g. after equilibration)."""
        self._frames = []

    @property
    def frames(self):
        return len(self._frames)

    def _prepare(self, state):
        if not (np.isfinite(self.bin_width) and self.bin_width > 0):
            raise ValueError(f"bin_width must be positive, got {self.bin_width}")
        names = list(state.type_names)
        species = names if self.species is None else list(self.species)
        unknown = [s for s in species if s not in names]
        if unknown:
            raise ValueError(f"unknown species {unknown}; the state has types {names}")
        edges = self._edges()
        lf, df, units = _units(state)
        slot = np.full(len(names), -1, dtype=np.intc)  # type index -> row of the histogram (-1: not sampled)
        slot[[names.index(s) for s in species]] = np.arange(len(species), dtype=np.intc)
        self._setup = {"species": species, "slot": slot, "edges": edges,
                       "lf": lf, "df": df, "units": units, "volumes": self._volumes(edges)}

    def sample(self, state):
        """Histogram one configuration."""
        if self._setup is None:
            self._prepare(state)
        su = self._setup
        # one kernel call: np.histogram per species cost ~100 µs per sample inside a run (mostly Python), a
        # large share of a fast run that samples its profile every few hundred fs
        counts = np.zeros((len(su["species"]), len(su["edges"]) - 1), dtype=np.int_)
        self._count(state, su["slot"], su["edges"], counts)
        self._frames.append(counts)

    def result(self, blocks=10):
        """Average the frames into a :class:`ProfileResult` with ``blocks`` blocks for the error bars."""
        if self._setup is None or not self._frames:
            raise ValueError(f"{self.name}: no frames sampled yet")
        if int(blocks) != blocks or blocks < 2:
            raise ValueError(f"blocks must be an integer >= 2, got {blocks}")
        n_frames = len(self._frames)
        per = n_frames // blocks
        if per < 1:
            raise ValueError(f"{self.name}: {n_frames} frames cannot fill {blocks} blocks; sample more or use fewer")
        su = self._setup
        counts = np.asarray(self._frames[n_frames - per * blocks:], dtype=float)  # (F, S, B)
        # number density in reported units: count / (bin volume in state units) * density factor
        scale = su["df"] / su["volumes"]
        block_means = counts.reshape(blocks, per, *counts.shape[1:]).mean(axis=1) * scale  # (blocks, S, B)
        lf = su["lf"]
        edges = su["edges"] * lf
        centers = 0.5 * (edges[1:] + edges[:-1])
        dens, err, blk, scal = {}, {}, {}, {}
        for k, s in enumerate(su["species"]):
            b = block_means[:, k, :]
            blk[s] = b
            dens[s] = b.mean(axis=0)
            err[s] = b.std(axis=0, ddof=1) / np.sqrt(blocks)
        res = ProfileResult(self.kind, self._report_positions(centers), self._report_positions(edges),
                            su["species"], dens, err, blk, su["volumes"] * lf**3, scal, n_frames, int(blocks),
                            su["units"], density_per_count=su["df"] * lf**3)
        for s in su["species"]:
            scal[s] = self._scalars(res, s)
        return res

    def _contact_for(self, species, lf):
        c = self.contact
        if isinstance(c, dict):
            c = c.get(species)
        return None if c is None else float(c) * lf

    @staticmethod
    def _block_stat(values):
        values = np.asarray(values, dtype=float)
        return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


class SlabProfile(_ProfileSampler):
    """Number density along z between walls at ``z_lo`` and ``z_hi`` (length units of the state), per species.

    Bins are symmetric about the mid-plane (their number is round((z_hi − z_lo) / bin_width)); positions in
    the result are measured from it. ``contact`` is the distance from the mid-plane at which an ion touches
    a wall (state length units; a float, or a dict per species), e.g. h/2 − d/2.

    Parameters
    ----------
    z_lo, z_hi : float
        Length units.
    bin_width : float
        Length units (published profiles bin at 0.05 d: 0.357 Å for d = 0.714 nm).
    every : int
        Steps between samples when used as a reporter.
    species : list of type names, optional (default: all types)
    contact : float or dict, optional
    name : str

    Examples
    --------
    >>> import mdlearn as mdl
    >>> prof = mdl.analysis.SlabProfile(z_lo=0.0, z_hi=30.0, bin_width=0.5, every=100)
    """

    kind = "z"

    def __init__(self, z_lo, z_hi, bin_width, every=100, species=None, contact=None, name="slab_profile"):
        super().__init__(bin_width, every, species, contact, name)
        self.z_lo = z_lo
        self.z_hi = z_hi

    def _edges(self):
        if not self.z_hi > self.z_lo:
            raise ValueError(f"need z_lo < z_hi, got {self.z_lo}, {self.z_hi}")
        n = max(int(round((self.z_hi - self.z_lo) / self.bin_width)), 2)
        return np.linspace(self.z_lo, self.z_hi, n + 1)

    @staticmethod
    def _volumes(edges):
        return np.diff(edges)  # times the area, applied in _coordinate's normalisation below

    def _prepare(self, state):
        super()._prepare(state)
        if not (state.pbc[0] and state.pbc[1]):
            raise ValueError(f"a slab profile needs a box periodic in x and y, got pbc={state.pbc.tolist()}")
        self._setup["volumes"] = np.diff(self._setup["edges"]) * state.box[0] * state.box[1]

    def _count(self, state, slot, edges, counts):
        _pk.axis_counts(state.positions, 2, state.types, slot, edges, counts)

    def _report_positions(self, x):
        return x - 0.5 * (self.z_lo + self.z_hi) * self._setup["lf"]

    def _scalars(self, res, s):
        lf = self._setup["lf"]
        half = len(res.centers) // 2
        pos = res.centers[half:]
        blk = 0.5 * (res.blocks[s] + res.blocks[s][:, ::-1])[:, half:]
        mean = blk.mean(axis=0)
        k = int(np.argmax(mean))
        contact = self._contact_for(s, lf)
        out = {"peak": self._block_stat(blk[:, k]), "peak_position": float(pos[k]),
               "mid": self._block_stat([np.interp(0.0, pos, b) for b in blk])}
        out["contact"] = (self._block_stat([np.interp(contact, pos, b) for b in blk]) if contact is not None
                          else (float("nan"), float("nan")))
        return out


class RadialProfile(_ProfileSampler):
    """Number density in spherical shells around ``center`` between ``r_min`` and ``r_max`` (length units of
    the state), per species.

    ``contact`` is the distance from the centre at which an ion touches the particle (a + d/2; float or
    dict per species), ``mid`` the radius of the mid-point density (default halfway between r_min and
    r_max). Other parameters as :class:`SlabProfile`.

    Examples
    --------
    >>> import mdlearn as mdl
    >>> prof = mdl.analysis.RadialProfile(center=(0, 0, 0), r_min=20.0, r_max=80.0, bin_width=1.0)
    """

    kind = "radial"

    def __init__(self, center, r_max, bin_width, every=100, r_min=0.0, species=None, contact=None, mid=None,
                 name="radial_profile"):
        super().__init__(bin_width, every, species, contact, name)
        self.center = center
        self.r_min = r_min
        self.r_max = r_max
        self.mid = mid

    def _edges(self):
        if not (self.r_max > self.r_min >= 0):
            raise ValueError(f"need 0 <= r_min < r_max, got {self.r_min}, {self.r_max}")
        n = max(int(round((self.r_max - self.r_min) / self.bin_width)), 1)
        return np.linspace(self.r_min, self.r_max, n + 1)

    @staticmethod
    def _volumes(edges):
        return 4.0 / 3.0 * np.pi * np.diff(edges**3)

    def _count(self, state, slot, edges, counts):
        _pk.radial_counts(state.positions, self._setup["center"], state.box, state.pbc.view(np.uint8), state.types,
                          slot, edges, counts)

    def _prepare(self, state):
        super()._prepare(state)
        center = np.array(self.center, dtype=np.float64)
        if center.shape != (3,) or not np.all(np.isfinite(center)):
            raise ValueError(f"center must be 3 finite numbers, got {self.center!r}")
        self._setup["center"] = center

    def _report_positions(self, x):
        return x

    def _scalars(self, res, s):
        lf = self._setup["lf"]
        blk = res.blocks[s]
        k = int(np.argmax(res.density[s]))
        mid = (0.5 * (self.r_min + self.r_max) if self.mid is None else float(self.mid)) * lf
        contact = self._contact_for(s, lf)
        out = {"peak": self._block_stat(blk[:, k]), "peak_position": float(res.centers[k]),
               "mid": self._block_stat([np.interp(mid, res.centers, b) for b in blk])}
        out["contact"] = (self._block_stat([np.interp(contact, res.centers, b) for b in blk])
                          if contact is not None else (float("nan"), float("nan")))
        return out


def density_profile(system, bin_width=None, every=100, species=None):
    """The sampler that fits a system from :mod:`mdlearn.build.electrolytes`: a :class:`SlabProfile` for
    ``confined_electrolyte`` or a :class:`RadialProfile` for ``nanoparticle_system``, with walls, contact
    and mid-point positions taken from ``system.metadata``. ``bin_width`` in the state's length units
    (default 0.5 Å for a slab, 1 Å around a particle)."""
    meta = system.metadata
    geometry = meta.get("geometry")
    if geometry == "slab":
        return SlabProfile(meta["z_lo"], meta["z_hi"], 0.5 if bin_width is None else bin_width, every=every,
                           species=species, contact=meta["contact"])
    if geometry == "sphere":
        return RadialProfile(meta["center"], meta["cell_radius"], 1.0 if bin_width is None else bin_width,
                             every=every, r_min=meta["radius"], species=species, contact=meta["contact"],
                             mid=meta["mid"])
    raise ValueError(f"no density profile for geometry {geometry!r}; expected 'slab' or 'sphere'")
