"""Simulation campaigns on Dask: parameter spaces, durable per-run results, resume.

>>> import mdlearn as mdl
>>> mdl.campaign.Space({"c": (0.3, 0.9)}, method="sobol", n=4, seed=0).points()[0]["c"] < 0.9
True
"""
from .runner import Campaign, store_status
from .space import Space
from .store import ResultStore

__all__ = ["Campaign", "ResultStore", "Space", "store_status"]
