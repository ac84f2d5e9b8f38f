# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernels of the boundary-element dielectric sphere (``mdlearn.forces.dielectric``).

All positions are relative to the sphere's centre; grid points are ``radius * normals``. No prefactors:
the caller scales. Threads split the outer loop, and every thread writes only its own output rows, so
the results do not depend on the thread count. (BLAS is avoided on purpose: its own threads collapse on a
busy machine, and these products are small.)
"""
from cython.parallel cimport prange
from libc.math cimport sqrt


def sources(const double[:, ::1] x, const double[::1] q, const double[:, ::1] normals, double radius,
            double[::1] v, double[::1] b, int nthreads):
    """Per grid point i: ``v_i = sum_k q_k / |s_i - x_k|`` and ``b_i = sum_k q_k (s_i - x_k).n_i / |s_i - x_k|^3``
    (potential and normal field of the ions), with ``s_i = radius * n_i``."""
    cdef Py_ssize_t i, k, m = normals.shape[0], n = x.shape[0]
    cdef double sx, sy, sz, dx, dy, dz, inv, inv3, vi, bi
    for i in prange(m, nogil=True, num_threads=nthreads, schedule="static"):
        sx = radius * normals[i, 0]
        sy = radius * normals[i, 1]
        sz = radius * normals[i, 2]
        vi = 0.0
        bi = 0.0
        for k in range(n):
            dx = sx - x[k, 0]
            dy = sy - x[k, 1]
            dz = sz - x[k, 2]
            inv = 1.0 / sqrt(dx * dx + dy * dy + dz * dz)
            inv3 = inv * inv * inv
            vi = vi + q[k] * inv
            bi = bi + q[k] * (dx * normals[i, 0] + dy * normals[i, 1] + dz * normals[i, 2]) * inv3
        v[i] = vi
        b[i] = bi


def symmetric_matvec2(const double[:, ::1] a, const double[::1] u1, const double[::1] u2,
                      double[::1] out1, double[::1] out2, int nthreads):
    """``out1 = a @ u1`` and ``out2 = a @ u2`` in one pass over the rows of ``a``."""
    cdef Py_ssize_t i, j, m = a.shape[0]
    cdef double s1, s2, aij
    for i in prange(m, nogil=True, num_threads=nthreads, schedule="static"):
        s1 = 0.0
        s2 = 0.0
        for j in range(m):
            aij = a[i, j]
            s1 = s1 + aij * u1[j]
            s2 = s2 + aij * u2[j]
        out1[i] = s1
        out2[i] = s2


def gradient(const double[:, ::1] x, const double[::1] q, const double[:, ::1] normals, double radius,
             const double[::1] y, const double[::1] xt, double[:, ::1] grad, int nthreads):
    """``grad_k = q_k sum_i [ y_i d_ik / rho^3 + xt_i (3 (d_ik.n_i) d_ik / rho^5 - n_i / rho^3) ]`` with
    ``d_ik = s_i - x_k``: the gradient of ``v.y + b.xt`` with respect to ion k's position."""
    cdef Py_ssize_t i, k, m = normals.shape[0], n = x.shape[0]
    cdef double dx, dy, dz, inv, inv2, inv3, dn, c, gx, gy, gz
    for k in prange(n, nogil=True, num_threads=nthreads, schedule="static"):
        gx = 0.0
        gy = 0.0
        gz = 0.0
        for i in range(m):
            dx = radius * normals[i, 0] - x[k, 0]
            dy = radius * normals[i, 1] - x[k, 1]
            dz = radius * normals[i, 2] - x[k, 2]
            inv2 = 1.0 / (dx * dx + dy * dy + dz * dz)
            inv = sqrt(inv2)
            inv3 = inv * inv2
            dn = dx * normals[i, 0] + dy * normals[i, 1] + dz * normals[i, 2]
            c = (y[i] + 3.0 * xt[i] * dn * inv2) * inv3
            gx = gx + c * dx - xt[i] * normals[i, 0] * inv3
            gy = gy + c * dy - xt[i] * normals[i, 1] * inv3
            gz = gz + c * dz - xt[i] * normals[i, 2] * inv3
        grad[k, 0] = q[k] * gx
        grad[k, 1] = q[k] * gy
        grad[k, 2] = q[k] * gz
