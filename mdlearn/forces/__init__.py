"""Force terms and the force field that sums them."""
from .base import ForceField, ForceResult, Request
from .coulomb import DirectCoulomb, Ewald
from .dielectric import DielectricSphere
from .pair import WCA, LennardJones
from .region import Restricted, restrict
from .registry import available, create
from .torch import TorchPotential
from .walls import PlanarWalls, SphereBody, SphericalCell

__all__ = ["DielectricSphere", "DirectCoulomb", "Ewald", "ForceField", "ForceResult", "LennardJones", "PlanarWalls",
           "Request", "Restricted", "SphereBody", "SphericalCell", "TorchPotential", "WCA", "available", "create",
           "restrict"]
