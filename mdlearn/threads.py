"""How many OpenMP threads the kernels use."""
import functools
import os

from ._kernels.neighbors import openmp_enabled

__all__ = ["elementwise_threads", "get_num_threads", "set_num_threads"]

_threads = None


@functools.cache
def _default():  # read once, as OpenMP does: kernels ask for the thread count several times per step
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def get_num_threads():
    """Threads the kernels use: ``set_num_threads``, else ``OMP_NUM_THREADS`` (as it was at the first call),
    else the usable cores (always 1 when the kernels were built without OpenMP)."""
    if not openmp_enabled():
        return 1
    return _threads if _threads is not None else _default()


def set_num_threads(n):
    """Use ``n`` threads in the kernels (``None`` restores the default)."""
    global _threads
    if n is not None and (int(n) != n or n < 1):
        raise ValueError(f"number of threads must be a positive integer, got {n!r}")
    _threads = None if n is None else int(n)


def elementwise_threads(n_atoms):
    """Threads for one cheap pass over the atoms (kick, drift): below ~16k atoms waking threads costs
    more than the pass itself."""
    return get_num_threads() if n_atoms >= 16384 else 1
