"""Tiny simulate functions for documentation and tests of campaigns (no molecular dynamics)."""
import time

__all__ = ["quadratic", "sleepy"]


def quadratic(params, seed):
    """``y = a x²`` with a made-up error bar ``y_err = 0.01``; ``params``: ``x``, ``a``.

    >>> quadratic({"x": 2.0, "a": 3}, seed=0)
    {'y': 12.0, 'y_err': 0.01}
    """
    return {"y": params["a"] * params["x"] ** 2, "y_err": 0.01}


def sleepy(params, seed):
    """Sleep ``params["sleep"]`` seconds, then return ``y = x`` (or raise ``ValueError`` when ``x < 0``): a
    stand-in for a slow simulation that sometimes fails."""
    time.sleep(float(params.get("sleep", 0.0)))
    if params["x"] < 0:
        raise ValueError(f"x = {params['x']} is negative")
    return {"y": float(params["x"])}
