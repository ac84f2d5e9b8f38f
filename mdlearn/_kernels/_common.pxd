# cython: language_level=3
"""Pieces every pair kernel shares: adding one pair's force and virial, summing per-thread buffers, and the
longest neighbor-list row (the size of a thread's gather buffer).

Thread layout of the pair kernels: thread 0 adds straight into ``f``, thread t > 0 into its own (N, 3)
buffer ``scratch + (t - 1) * 3N``; each thread's virial goes to ``vscratch + 8 t`` (rows padded against
false sharing). The buffers are summed in thread order, so results do not depend on scheduling.
"""
from cython.parallel cimport prange


cdef inline void image_shifts(double* shifts, const double[::1] box) noexcept nogil:
    """Fill ``shifts`` (27 x 3) with s L for each neighbor-list image code (sx+1) + 3 (sy+1) + 9 (sz+1)."""
    cdef int code
    for code in range(27):
        shifts[3 * code] = (code % 3 - 1) * box[0]
        shifts[3 * code + 1] = (code // 3 % 3 - 1) * box[1]
        shifts[3 * code + 2] = (code // 9 - 1) * box[2]


cdef inline void add_pair(Py_ssize_t j, double dx, double dy, double dz, double fpair, double* fi, double* f,
                          double* vir, bint want_virial) noexcept nogil:
    """Force ``fpair * r_ij`` on i (accumulated in ``fi``), its opposite on j, and r_ij ⊗ f_ij into ``vir``."""
    fi[0] += dx * fpair
    fi[1] += dy * fpair
    fi[2] += dz * fpair
    f[3 * j] -= dx * fpair
    f[3 * j + 1] -= dy * fpair
    f[3 * j + 2] -= dz * fpair
    if want_virial:
        vir[0] += dx * dx * fpair
        vir[1] += dy * dy * fpair
        vir[2] += dz * dz * fpair
        vir[3] += dx * dy * fpair
        vir[4] += dx * dz * fpair
        vir[5] += dy * dz * fpair


cdef inline long longest_row(const long* start, Py_ssize_t n) noexcept nogil:
    """The most neighbors of any of the ``n`` rows whose slices of the list begin at ``start`` (n + 1)."""
    cdef long longest = 0
    cdef Py_ssize_t i
    for i in range(n):
        if start[i + 1] - start[i] > longest:
            longest = start[i + 1] - start[i]
    return longest


cdef inline void reduce_threads(double* f, const double* scratch, const double* vscratch, double* vir,
                                Py_ssize_t n, int nthreads) noexcept nogil:
    """Add the buffers of threads 1.. into ``f`` and every thread's virial row into ``vir`` (6)."""
    cdef Py_ssize_t i
    cdef int t, a
    for i in prange(3 * n, num_threads=nthreads, schedule="static"):
        for t in range(nthreads - 1):
            f[i] += scratch[t * 3 * n + i]
    for t in range(nthreads):
        for a in range(6):
            vir[a] += vscratch[8 * t + a]
