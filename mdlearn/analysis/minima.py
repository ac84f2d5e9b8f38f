"""Quenching frames to their local energy minimum: physical state labels for small clusters.

Each frame is minimised with scipy's L-BFGS; frames whose minima have the same energy (within a tolerance)
belong to the same basin (isomer). This labels frames by physics, independently of any learned method.
"""
import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

__all__ = ["group_minima", "lj_cluster", "quench"]


def lj_cluster(positions, epsilon=1.0, sigma=1.0):
    """Energy and forces of an isolated Lennard-Jones cluster: all pairs, no cutoff, no periodic images.

    ``U = Σ_{i<j} 4 ε [(σ/r)^12 − (σ/r)^6]`` (energy units of ε); forces in ε/σ.

    Examples
    --------
    >>> import numpy as np
    >>> e, f = lj_cluster(np.array([[0.0, 0, 0], [2 ** (1 / 6), 0, 0]]))
    >>> round(e, 12), bool(np.abs(f).max() < 1e-12)
    (-1.0, True)
    """
    x = np.asarray(positions, dtype=np.float64)
    d = x[:, None, :] - x[None, :, :]  # full matrix: cheaper than index pairs for the few atoms of a cluster
    r2 = np.einsum("ijk,ijk->ij", d, d)
    np.fill_diagonal(r2, np.inf)
    s6 = (sigma * sigma / r2) ** 3
    energy = float(np.sum(2.0 * epsilon * (s6 * s6 - s6)))  # each pair counted twice
    forces = np.einsum("ij,ijk->ik", 24.0 * epsilon * (2.0 * s6 * s6 - s6) / r2, d)
    return energy, forces


def quench(frames, energy_forces=lj_cluster, gtol=1e-6, maxiter=5000, on_failure="raise"):
    """Minimise each frame (``(n_frames, N, 3)``, or ``(n_frames, N, 2)`` for a planar system) with L-BFGS on
    ``energy_forces(x) -> (energy, forces)``.

    Returns ``(energies (n_frames,), minima (n_frames, N, 3))``. A minimisation that does not converge
    raises ``RuntimeError`` naming the frame (``on_failure="raise"``), or gives that frame a NaN energy and
    minimum (``on_failure="nan"``; e.g. an atom drifting away from a hot cluster, whose flat tail can exhaust
    the evaluations).

    Examples
    --------
    >>> import numpy as np
    >>> tri = np.array([[0.0, 0, 0], [1.2, 0, 0], [0.5, 1.0, 0]])
    >>> e, _ = quench(tri[None])
    >>> round(float(e[0]), 6)   # equilateral triangle at r = 2^(1/6): three bonds of -1
    -3.0
    """
    if on_failure not in ("raise", "nan"):
        raise ValueError(f"on_failure must be 'raise' or 'nan', got {on_failure!r}")
    frames = np.asarray(frames, dtype=np.float64)
    energies = np.empty(len(frames))
    minima = np.empty_like(frames)
    shape = frames.shape[1:]

    def fun(flat):
        e, f = energy_forces(flat.reshape(shape))
        return e, -f.ravel()

    for k, x in enumerate(frames):
        # small dense algebra: BLAS threads only add wake-ups (and spin on a busy machine)
        with threadpool_limits(1, user_api="blas"):
            res = minimize(fun, x.ravel(), jac=True, method="L-BFGS-B",
                           options={"gtol": gtol, "ftol": 1e-15, "maxiter": maxiter, "maxcor": 30})
        if not res.success and np.abs(res.jac).max() > 100 * gtol:
            if on_failure == "raise":
                raise RuntimeError(f"quench of frame {k} did not converge: {res.message}")
            energies[k], minima[k] = np.nan, np.nan
            continue
        energies[k] = res.fun
        minima[k] = res.x.reshape(shape)
    return energies, minima


def group_minima(energies, tol=1e-3):
    """Labels ``0, 1, …`` of minima grouped by energy (sorted, a new group where the gap exceeds ``tol``),
    and the mean energy of each group, lowest first. NaN energies (failed quenches) get label -1.

    Examples
    --------
    >>> labels, levels = group_minima([-16.5054, -15.9350, -16.5053])
    >>> labels.tolist(), levels.round(3).tolist()
    ([0, 1, 0], [-16.505, -15.935])
    """
    e = np.asarray(energies, dtype=np.float64)
    ok = np.flatnonzero(~np.isnan(e))
    order = ok[np.argsort(e[ok], kind="stable")]
    new = np.r_[True, np.diff(e[order]) > tol]
    group = np.cumsum(new) - 1
    labels = np.full(len(e), -1, dtype=np.int64)
    labels[order] = group
    levels = np.array([e[labels == g].mean() for g in range(group[-1] + 1)]) if len(ok) else np.empty(0)
    return labels, levels
