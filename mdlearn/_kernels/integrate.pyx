# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Integrator building blocks, each one pass over the atoms, split over ``nthreads`` OpenMP threads.

``inv_mass`` is the per-atom force->acceleration factor (acceleration unit / mass), so kernels stay
unit-agnostic. Sums are taken per thread over fixed index ranges and added in thread order, so results do
not depend on scheduling.
"""
from cython.parallel cimport prange
from libc.math cimport floor, isfinite


def kick(double[:, ::1] v, const double[:, ::1] f, const double[::1] inv_mass, double dt, int nthreads=1):
    """v += f * inv_mass * dt."""
    cdef Py_ssize_t i, n = v.shape[0]
    cdef double c
    with nogil:
        for i in prange(n, num_threads=nthreads, schedule="static"):
            c = inv_mass[i] * dt
            v[i, 0] += f[i, 0] * c
            v[i, 1] += f[i, 1] * c
            v[i, 2] += f[i, 2] * c


cdef double _kick_sum(double[:, ::1] v, const double[:, ::1] f, const double[::1] inv_mass, double dt,
                      Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef Py_ssize_t i
    cdef double c, s = 0.0
    for i in range(lo, hi):
        c = inv_mass[i] * dt
        v[i, 0] += f[i, 0] * c
        v[i, 1] += f[i, 1] * c
        v[i, 2] += f[i, 2] * c
        s += (v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1] + v[i, 2] * v[i, 2]) / inv_mass[i]
    return s


def kick_twice_ke(double[:, ::1] v, const double[:, ::1] f, const double[::1] inv_mass, double dt,
                  int nthreads=1):
    """v += f * inv_mass * dt; return sum(v^2 / inv_mass) = 2 KE (in energy units), NaN if anything is.
    ``dt = 0`` only sums."""
    cdef Py_ssize_t n = v.shape[0]
    cdef int t
    cdef double partial[64]
    cdef double s = 0.0
    nthreads = min(max(nthreads, 1), 64)
    with nogil:
        for t in prange(nthreads, num_threads=nthreads, schedule="static", chunksize=1):
            partial[t] = _kick_sum(v, f, inv_mass, dt, n * t // nthreads, n * (t + 1) // nthreads)
    for t in range(nthreads):
        s += partial[t]
    return s


def drift(double[:, ::1] x, const double[:, ::1] v, double dt, int nthreads=1):
    """x += v dt. No wrapping: the neighbor list rewraps when it rebuilds, so pair images stay fixed."""
    cdef Py_ssize_t i, n = x.shape[0]
    with nogil:
        for i in prange(n, num_threads=nthreads, schedule="static"):
            x[i, 0] += v[i, 0] * dt
            x[i, 1] += v[i, 1] * dt
            x[i, 2] += v[i, 2] * dt


def ornstein_uhlenbeck(double[:, ::1] v, const double[:, ::1] noise, double c1, const double[::1] sigma,
                       int nthreads=1):
    """v = c1 v + sigma_i * noise (the O step of BAOAB); sigma_i = sqrt((1 - c1^2) kT inv_mass_i)."""
    cdef Py_ssize_t i, n = v.shape[0]
    with nogil:
        for i in prange(n, num_threads=nthreads, schedule="static"):
            v[i, 0] = c1 * v[i, 0] + sigma[i] * noise[i, 0]
            v[i, 1] = c1 * v[i, 1] + sigma[i] * noise[i, 1]
            v[i, 2] = c1 * v[i, 2] + sigma[i] * noise[i, 2]


def wrap(double[:, ::1] x, const double[::1] box, const unsigned char[::1] periodic, int[:, ::1] images):
    """Wrap periodic axes into [0, L), counting crossings in ``images``. Returns the first atom with a
    non-finite coordinate (left as it is), or -1."""
    cdef Py_ssize_t i, n = x.shape[0], bad = -1
    cdef int a
    cdef double v, s, length
    with nogil:
        for i in range(n):
            for a in range(3):
                v = x[i, a]
                if not isfinite(v):
                    bad = i
                    break
                if periodic[a]:
                    length = box[a]
                    if v >= length or v < 0.0:
                        s = floor(v / length)
                        v -= s * length
                        if v >= length:  # rounding of a value just below 0
                            v -= length
                            s += 1
                        x[i, a] = v
                        images[i, a] += <int>s
            if bad >= 0:
                break
    return bad
