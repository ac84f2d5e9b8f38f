"""The live state of a simulation: positions, velocities, forces, masses, types, charges, box."""
import numpy as np

from . import units as _units
from ._kernels import integrate as _ik

__all__ = ["State"]


def _vector3(value, name, n):
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n, 3):
        raise ValueError(f"{name} must have shape ({n}, 3), got {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argwhere(bad)[0, 0])
        raise ValueError(f"{name} of atom {i} is not finite: {arr[i].tolist()}")
    return np.array(arr, order="C", copy=True)  # the state owns its buffers: never alias the caller's


def _per_atom(value, name, n):
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape not in ((), (n,)):
        raise ValueError(f"{name} must be one value or have shape ({n},), got shape {arr.shape}")
    return np.broadcast_to(arr, (n,))


def _box_lengths(box, pbc):
    if box is None:
        if pbc.any():
            raise ValueError(f"a box is required for periodic axes (pbc={pbc.tolist()})")
        return np.zeros(3)
    arr = np.array(box, dtype=np.float64)  # a copy: the state owns its box (and a strided view would not do)
    if arr.shape == (3, 3):
        if np.any(arr[~np.eye(3, dtype=bool)] != 0.0):
            raise NotImplementedError(f"triclinic boxes are not supported yet; got box {arr.tolist()}")
        arr = np.diag(arr).copy()
    if arr.shape == ():
        arr = np.full(3, float(arr))
    if arr.shape != (3,):
        raise ValueError(f"box must be 3 lengths or a 3x3 matrix, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr[pbc] <= 0):
        raise ValueError(f"box lengths must be finite and positive on periodic axes, got {arr.tolist()}")
    return arr


class State:
    """Positions, velocities, forces and per-atom properties of a system in one unit system.

    Arrays are float64, C-contiguous and updated in place by the integrator: keep references to them
    if you like, and assign through the attributes (``state.positions = x`` copies into the buffer).

    Parameters
    ----------
    positions : array (N, 3)
        Length units (σ for ``"lj"``, Å for ``"real"``).
    box : 3 lengths, a diagonal 3x3 matrix, or None
        Orthorhombic box from the origin, in length units; needed on periodic axes.
    pbc : bool or 3 bools
        Periodicity per axis.
    types : None, sequence of str, or sequence of int
        Atom types; names (element symbols in real units) or integers. ``None``: one type.
    masses : None, float, or array (N,)
        Mass units (m or amu). ``None``: 1 in LJ units, the element's mass in real units.
    charges : None or array (N,)
        Charge units (e in real units).
    velocities : None or array (N, 3)
        Length / time units.
    units : ``"lj"`` or ``"real"``

    Examples
    --------
    >>> import numpy as np, mdlearn as mdl
    >>> st = mdl.State(np.array([[0.0, 0, 0], [1.1, 0, 0]]), box=[10, 10, 10], units="lj")
    >>> st.n_atoms, st.volume
    (2, 1000.0)
    """

    def __init__(self, positions, box=None, pbc=True, types=None, masses=None, charges=None,
                 velocities=None, units="lj"):
        self.units = _units.get(units)
        pos = np.asarray(positions, dtype=np.float64)
        if pos.ndim != 2 or pos.shape[1] != 3 or pos.shape[0] == 0:
            raise ValueError(f"positions must have shape (N, 3) with N >= 1, got {pos.shape}")
        n = pos.shape[0]
        self._pbc = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,)).copy()
        self._box = _box_lengths(box, self._pbc)
        self.periodic = self._pbc.view(np.uint8)  # what kernels take
        self._positions = _vector3(pos, "positions", n)
        self._velocities = np.zeros((n, 3)) if velocities is None else _vector3(velocities, "velocities", n)
        self._forces = np.zeros((n, 3))
        self.images = np.zeros((n, 3), dtype=np.intc)
        self.type_names, self._types = self._parse_types(types, n)
        self._masses = np.empty(n)
        self.masses = self._default_masses() if masses is None else masses
        self._charges = np.zeros(n)
        if charges is not None:
            self.charges = charges
        self.step = 0
        self.time = 0.0

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _parse_types(types, n):
        if types is None:
            return ["A"], np.zeros(n, dtype=np.intc)
        arr = np.asarray(types)
        if arr.shape != (n,):
            raise ValueError(f"types must have shape ({n},), got {arr.shape}")
        if arr.dtype.kind in "iu":
            if arr.min() < 0:
                raise ValueError(f"integer types must be >= 0, got {int(arr.min())}")
            names = [str(t) for t in range(int(arr.max()) + 1)]
            return names, arr.astype(np.intc)
        if arr.dtype.kind not in "UO":
            raise ValueError(f"types must be names or integers, got dtype {arr.dtype}")
        unique, first, inverse = np.unique(arr.astype(str), return_index=True, return_inverse=True)
        order = np.argsort(first)  # names in order of first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return [str(u) for u in unique[order]], rank[inverse.ravel()].astype(np.intc)

    def _default_masses(self):
        if self.units.name == "lj":
            return 1.0
        from ase.data import atomic_masses, atomic_numbers

        unknown = [t for t in self.type_names if t not in atomic_numbers]
        if unknown:
            raise ValueError(f"cannot infer masses for types {unknown} (not element symbols); pass masses=")
        table = np.array([atomic_masses[atomic_numbers[t]] for t in self.type_names])
        return table[self._types]

    # ------------------------------------------------------------------ arrays
    @property
    def n_atoms(self):
        return self._positions.shape[0]

    def __len__(self):
        return self.n_atoms

    @property
    def positions(self):
        """(N, 3) positions in length units (live array)."""
        return self._positions

    @positions.setter
    def positions(self, value):
        self._positions[...] = _vector3(value, "positions", self.n_atoms)

    @property
    def velocities(self):
        """(N, 3) velocities in length / time units (live array)."""
        return self._velocities

    @velocities.setter
    def velocities(self, value):
        self._velocities[...] = _vector3(value, "velocities", self.n_atoms)

    @property
    def forces(self):
        """(N, 3) forces from the last evaluation, energy / length units (live array)."""
        return self._forces

    @property
    def masses(self):
        """(N,) masses in mass units."""
        return self._masses

    @masses.setter
    def masses(self, value):
        m = _per_atom(value, "masses", self.n_atoms)
        bad = ~(np.isfinite(m) & (m > 0))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"masses must be positive and finite; atom {i} has mass {m[i]}")
        self._masses[...] = m
        self.inv_mass = self.units.acceleration / self._masses

    @property
    def types(self):
        """(N,) integer type indices into :attr:`type_names`."""
        return self._types

    @property
    def charges(self):
        """(N,) charges in charge units."""
        return self._charges

    @charges.setter
    def charges(self, value):
        q = _per_atom(value, "charges", self.n_atoms)
        if not np.all(np.isfinite(q)):
            raise ValueError(f"charges must be finite, got {q[~np.isfinite(q)][:3].tolist()}")
        self._charges[...] = q

    @property
    def box(self):
        """Box lengths (3,) in length units."""
        return self._box

    @box.setter
    def box(self, value):
        self._box[...] = _box_lengths(value, self._pbc)

    @property
    def pbc(self):
        """(3,) periodicity per axis."""
        return self._pbc

    @property
    def volume(self):
        """Box volume in length**3 (0 when an axis has no length)."""
        return float(np.prod(self._box))

    # ------------------------------------------------------------------ observables
    @property
    def degrees_of_freedom(self):
        """3N - 3: the momentum of an isolated or periodic system is conserved."""
        return max(3 * self.n_atoms - 3, 1)

    def kinetic_energy(self):
        """Kinetic energy in energy units."""
        v2 = np.einsum("ij,ij->i", self._velocities, self._velocities)
        return 0.5 * float(np.dot(self._masses, v2)) / self.units.acceleration

    def kinetic_tensor(self):
        """Σ m v_a v_b (3, 3) in energy units (twice the kinetic energy tensor)."""
        mv = self._velocities * self._masses[:, None]
        return mv.T @ self._velocities / self.units.acceleration

    def temperature(self, dof=None):
        """Kinetic temperature 2 KE / (dof k_B) in temperature units; ``dof`` defaults to 3N - 3."""
        dof = self.degrees_of_freedom if dof is None else dof
        return 2.0 * self.kinetic_energy() / (dof * self.units.boltzmann)

    def set_temperature(self, temperature, seed=None):
        """Draw Maxwell–Boltzmann velocities at ``temperature`` (temperature units), zero total momentum,
        and rescale so that :meth:`temperature` is exactly the target."""
        if not temperature >= 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        rng = np.random.default_rng(seed)
        sd = np.sqrt(self.units.boltzmann * temperature * self.units.acceleration / self._masses)
        v = rng.standard_normal((self.n_atoms, 3)) * sd[:, None]
        if self.n_atoms > 1:
            v -= (self._masses @ v) / self._masses.sum()
        self._velocities[...] = v
        current = self.temperature()
        if current > 0:
            self._velocities *= np.sqrt(temperature / current)

    # ------------------------------------------------------------------ geometry
    def wrap(self):
        """Wrap positions into [0, L) on periodic axes, counting image crossings in :attr:`images`.
        Raises ValueError naming the first atom with a non-finite position."""
        bad = _ik.wrap(self._positions, self._box, self.periodic, self.images)
        if bad >= 0:
            raise ValueError(f"position of atom {bad} is not finite: {self._positions[bad].tolist()}")

    def is_wrapped(self):
        """True when every position lies in [0, L) on each periodic axis."""
        x = self._positions[:, self._pbc]
        return bool(np.all((x >= 0) & (x < self._box[self._pbc])))

    def unwrapped_positions(self):
        """Positions plus image shifts: continuous trajectories for diffusion analysis."""
        return self._positions + self.images * self._box

    # ------------------------------------------------------------------ copies
    def to_dict(self):
        """Plain arrays and values, enough to rebuild the state exactly (used by checkpoints)."""
        return {
            "positions": self._positions.copy(), "velocities": self._velocities.copy(),
            "forces": self._forces.copy(), "masses": self._masses.copy(), "charges": self._charges.copy(),
            "types": self._types.copy(), "type_names": list(self.type_names), "box": self._box.copy(),
            "pbc": self._pbc.copy(), "images": self.images.copy(), "step": self.step, "time": self.time,
            "units": self.units.name,
        }

    @classmethod
    def from_dict(cls, d):
        st = cls(d["positions"], box=d["box"], pbc=d["pbc"], types=d["types"], masses=d["masses"],
                 charges=d["charges"], velocities=d["velocities"], units=d["units"])
        st.type_names = list(d["type_names"])
        st._forces[...] = d["forces"]
        st.images[...] = d["images"]
        st.step, st.time = int(d["step"]), float(d["time"])
        return st

    @classmethod
    def from_atoms(cls, atoms):
        """A state in ``"real"`` units from an ``ase.Atoms``: positions, velocities (from the momenta, in
        Å/fs), masses, chemical symbols as type names, initial charges, cell and pbc. An orthorhombic cell
        only (a triclinic one raises ``NotImplementedError``); an all-zero cell gives ``box=None``.
        See :func:`mdlearn.ase.state_from_atoms`."""
        from .ase import state_from_atoms

        return state_from_atoms(atoms, cls)

    def to_atoms(self, symbols=None):
        """An ``ase.Atoms`` carrying positions, momenta, masses, numbers, charges, cell ``diag(box)`` and
        pbc; needs ``"real"`` units. ``symbols={type_name: element}`` renames types that are not element
        symbols. See :func:`mdlearn.ase.state_to_atoms`."""
        from .ase import state_to_atoms

        return state_to_atoms(self, symbols)

    def copy(self):
        """An independent deep copy."""
        # The arrays were validated when this state was made: copying them skips the constructor's checks,
        # which cost more than the copy for small systems (reporters copy the state often).
        new = object.__new__(type(self))
        new.__dict__.update({k: v.copy() if isinstance(v, np.ndarray | list) else v for k, v in self.__dict__.items()})
        new.periodic = new._pbc.view(np.uint8)
        return new

    def snapshot(self):
        """A read-only copy for reporters."""
        snap = self.copy()
        for arr in (snap._positions, snap._velocities, snap._forces, snap._masses, snap._charges,
                    snap._types, snap._box, snap._pbc, snap.images):
            arr.flags.writeable = False
        return snap

    def __repr__(self):
        return (f"State(n_atoms={self.n_atoms}, types={self.type_names}, box={self._box.tolist()}, "
                f"pbc={self._pbc.tolist()}, units={self.units.name!r}, step={self.step})")
