"""mdlearn: molecular dynamics with fast Cython kernels and first-class learned components."""
import os as _os

__version__ = "0.1.0"

# OpenMP threads that spin long while waiting collapse when the cores are shared (a busy machine, a test
# runner, Dask workers); threads that sleep at once pay a wake-up per parallel loop. A short spin keeps most
# of both (LJ, 4,000 atoms, 2 threads: 2.44M atom-steps/s quiet and 1.30M beside a busy process, against
# 1.57M / 1.60M sleeping and 2.49M / 0.50M with libgomp's default spin). Set before the kernels load the
# OpenMP runtime; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ.setdefault("GOMP_SPINCOUNT", "10000")

from . import analysis, build, campaign, ml, tune, units  # noqa: E402
from .campaign import Campaign  # noqa: E402
from .errors import SimulationError  # noqa: E402
from .forces import DirectCoulomb, Ewald, ForceField, ForceResult, LennardJones, Request  # noqa: E402
from .forces.ase import AseForceTerm  # noqa: E402
from .forces.dielectric import DielectricSphere  # noqa: E402
from .forces.pair import WCA  # noqa: E402
from .forces.torch import TorchPotential  # noqa: E402  (torch itself is imported only when one is made)
from .forces.walls import PlanarWalls, SphereBody, SphericalCell  # noqa: E402
from .integrators import Langevin, NoseHooverChain, VelocityVerlet  # noqa: E402
from .neighbors import NeighborList  # noqa: E402
from .reporters import CheckpointReporter, ThermoReporter, TrajectoryReporter  # noqa: E402
from .simulation import Simulation, Snapshot  # noqa: E402
from .state import State  # noqa: E402
from .threads import get_num_threads, set_num_threads  # noqa: E402
from .triggers import Periodic  # noqa: E402

__all__ = [
    "AseForceTerm", "Campaign", "CheckpointReporter", "DielectricSphere", "DirectCoulomb", "Ewald", "ForceField",
    "ForceResult", "Langevin", "LennardJones", "NeighborList", "NoseHooverChain", "Periodic", "PlanarWalls",
    "Request", "Simulation", "SimulationError", "Snapshot", "SphereBody", "SphericalCell", "State",
    "ThermoReporter", "TorchPotential", "TrajectoryReporter", "VelocityVerlet", "WCA", "analysis", "build",
    "campaign", "get_num_threads", "ml", "set_num_threads", "tune", "units",
]
