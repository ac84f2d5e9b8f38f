# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Integrator building blocks, each one pass over the atoms.

``inv_mass`` is the per-atom force->acceleration factor (acceleration unit / mass), so kernels stay
unit-agnostic.
"""


def kick(double[:, ::1] v, const double[:, ::1] f, const double[::1] inv_mass, double dt):
    """v += f * inv_mass * dt."""
    cdef Py_ssize_t i, n = v.shape[0]
    cdef double c
    with nogil:
        for i in range(n):
            c = inv_mass[i] * dt
            v[i, 0] += f[i, 0] * c
            v[i, 1] += f[i, 1] * c
            v[i, 2] += f[i, 2] * c


def kick_twice_ke(double[:, ::1] v, const double[:, ::1] f, const double[::1] inv_mass, double dt):
    """v += f * inv_mass * dt; return sum(v^2 / inv_mass) = 2 KE (in energy units), NaN if anything is."""
    cdef Py_ssize_t i, n = v.shape[0]
    cdef double c, s = 0.0
    with nogil:
        for i in range(n):
            c = inv_mass[i] * dt
            v[i, 0] += f[i, 0] * c
            v[i, 1] += f[i, 1] * c
            v[i, 2] += f[i, 2] * c
            s += (v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1] + v[i, 2] * v[i, 2]) / inv_mass[i]
    return s


def drift(double[:, ::1] x, const double[:, ::1] v, double dt):
    """x += v dt. No wrapping: the neighbor list rewraps when it rebuilds, so pair images stay fixed."""
    cdef Py_ssize_t i, n = x.shape[0]
    with nogil:
        for i in range(n):
            x[i, 0] += v[i, 0] * dt
            x[i, 1] += v[i, 1] * dt
            x[i, 2] += v[i, 2] * dt


def ornstein_uhlenbeck(double[:, ::1] v, const double[:, ::1] noise, double c1, const double[::1] sigma):
    """v = c1 v + sigma_i * noise (the O step of BAOAB); sigma_i = sqrt((1 - c1^2) kT inv_mass_i)."""
    cdef Py_ssize_t i, n = v.shape[0]
    with nogil:
        for i in range(n):
            v[i, 0] = c1 * v[i, 0] + sigma[i] * noise[i, 0]
            v[i, 1] = c1 * v[i, 1] + sigma[i] * noise[i, 1]
            v[i, 2] = c1 * v[i, 2] + sigma[i] * noise[i, 2]


def twice_kinetic(const double[:, ::1] v, const double[::1] inv_mass):
    """sum(v^2 / inv_mass) = 2 KE in energy units."""
    cdef Py_ssize_t i, n = v.shape[0]
    cdef double s = 0.0
    with nogil:
        for i in range(n):
            s += (v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1] + v[i, 2] * v[i, 2]) / inv_mass[i]
    return s
