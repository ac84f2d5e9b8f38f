"""Trajectories in the formats mdtraj reads (DCD, XTC, HDF5), with a topology."""
import os

import numpy as np

from .base import PeriodicReporter

__all__ = ["TrajectoryReporter", "topology"]

# mdtraj works in nm and ps. A reduced length (σ) is written as 1 nm and a reduced time (τ) as 1 ps,
# so files of LJ runs hold the reduced numbers unchanged.
_NM_PER_LENGTH = {"lj": 1.0, "real": 0.1}
_PS_PER_TIME = {"lj": 1.0, "real": 1e-3}


def topology(state):
    """An ``mdtraj.Topology`` with one residue per atom, named after the atom's type.

    Type names that are element symbols get that element; others are virtual sites.
    """
    import mdtraj as md

    top = md.Topology()
    chain = top.add_chain()
    elements = []
    for name in state.type_names:
        try:
            elements.append(md.element.Element.getBySymbol(name))
        except KeyError:
            elements.append(md.element.virtual_site)
    for t in state.types:
        name = state.type_names[t]
        res = top.add_residue(name[:3].upper(), chain)
        top.add_atom(name, elements[t], res)
    return top


class TrajectoryReporter(PeriodicReporter):
    """Write positions and box every ``every`` steps to ``.dcd``, ``.xtc`` or ``.h5`` through mdtraj.

    For DCD and XTC a PDB topology is written beside the trajectory (``traj.dcd`` → ``traj.pdb``) so that
    ``mdtraj.load("traj.dcd", top="traj.pdb")`` works; HDF5 files carry their own topology.
    Lengths are converted to nm (Å / 10 in real units; reduced lengths written unchanged).

    Parameters
    ----------
    file : str or path
        Ending selects the format.
    every : int
        Report interval in steps.
    unwrap : bool
        Write unwrapped positions (continuous across periodic boundaries).

    Examples
    --------
    >>> import mdlearn as mdl
    >>> rep = mdl.TrajectoryReporter("traj.dcd", every=100)
    """

    _FORMATS = (".dcd", ".xtc", ".h5")

    def __init__(self, file, every=100, unwrap=False):
        super().__init__(every)
        self.path = os.fspath(file)
        ext = os.path.splitext(self.path)[1].lower()
        if ext not in self._FORMATS:
            raise ValueError(f"unsupported trajectory format {ext!r} for {self.path}; use one of {self._FORMATS}")
        self.format = ext
        self.unwrap = bool(unwrap)
        self.topology_path = None if ext == ".h5" else os.path.splitext(self.path)[0] + ".pdb"
        self._fh = None

    def _open(self, state):
        import mdtraj as md
        from mdtraj.formats import DCDTrajectoryFile, HDF5TrajectoryFile, XTCTrajectoryFile

        self._nm = _NM_PER_LENGTH[state.units.name]
        self._ps = _PS_PER_TIME[state.units.name]
        top = topology(state)
        if self.format == ".h5":
            self._fh = HDF5TrajectoryFile(self.path, "w")
            self._fh.topology = top
        else:
            xyz = (state.positions * self._nm)[None].astype(np.float32)
            frame = md.Trajectory(xyz, top, unitcell_lengths=(state.box * self._nm)[None],
                                  unitcell_angles=np.full((1, 3), 90.0))
            frame.save_pdb(self.topology_path)
            self._fh = (DCDTrajectoryFile if self.format == ".dcd" else XTCTrajectoryFile)(self.path, "w")

    def report(self, sim, snap):
        st = snap.state
        if self._fh is None:
            self._open(st)
        x = st.unwrapped_positions() if self.unwrap else st.positions
        xyz = (x * self._nm)[None].astype(np.float32)
        box = (st.box * self._nm)[None].astype(np.float32)
        if self.format == ".dcd":
            self._fh.write(xyz * 10.0, cell_lengths=box * 10.0, cell_angles=np.full((1, 3), 90.0, np.float32))
        elif self.format == ".xtc":
            self._fh.write(xyz, time=np.array([snap.time * self._ps], np.float32),
                           step=np.array([snap.step], np.int32), box=box[:, None, :] * np.eye(3, dtype=np.float32))
        else:
            self._fh.write(xyz, time=np.array([snap.time * self._ps]), cell_lengths=box,
                           cell_angles=np.full((1, 3), 90.0, np.float32))
        self.flush()

    def flush(self):
        if self._fh is not None and hasattr(self._fh, "flush"):
            self._fh.flush()

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None
