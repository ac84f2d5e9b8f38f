"""Force terms and the force field that sums them."""
from .base import ForceField, ForceResult, Request
from .pair import LennardJones

__all__ = ["ForceField", "ForceResult", "LennardJones", "Request"]
