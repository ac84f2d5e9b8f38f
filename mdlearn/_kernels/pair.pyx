# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Lennard-Jones energy, forces and virial on a half Verlet list.

Serially each pair is visited once and both atoms are updated (Newton's third law). With several
threads every thread adds into its own force buffer, which are summed afterwards: a half list stays
half as long as a full one, and the result is deterministic for a given thread count.
"""
from cython.parallel cimport prange, threadid

import numpy as np

from mdlearn._kernels._common cimport add_pair, image_shifts, longest_row, reduce_threads

# Columns of the per-type-pair parameter table.
cdef enum:
    LJ1 = 0     # 48 eps sigma^12   (force)
    LJ2 = 1     # 24 eps sigma^6
    LJ3 = 2     # 4 eps sigma^12    (energy)
    LJ4 = 3     # 4 eps sigma^6
    CUTSQ = 4
    OFFSET = 5


cdef inline double _lj_atom(Py_ssize_t k, const int* rows, const double* x, const double* shifts,
                            const int* types, int ntypes, const long* start, const int* nbr,
                            const unsigned char* codes, const double* table, double* f, double* vir,
                            bint want_energy, bint want_virial, double* buf, int* jbuf) noexcept nogil:
    """Row k in two passes: gather the candidates' separations and keep those inside the cutoff without a
    branch (about a third of a Verlet list lies in the skin, in no predictable order, so a branch there
    is mispredicted often), then the forces of the kept pairs. ``buf``/``jbuf`` hold a row: 4 and 2 each."""
    cdef Py_ssize_t p, q, m = 0, j, i = rows[k]
    cdef const double* prm
    cdef const double* sh
    cdef double dx, dy, dz, r2, r2inv, r6inv, fpair, e = 0.0
    cdef int tj
    cdef double fi[3]
    fi[0] = fi[1] = fi[2] = 0.0
    cdef double xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
    cdef const double* trow = table + 6 * types[i] * ntypes
    for p in range(start[k], start[k + 1]):
        j = nbr[p]
        sh = shifts + 3 * codes[p]
        dx = xi - x[3 * j] - sh[0]
        dy = yi - x[3 * j + 1] - sh[1]
        dz = zi - x[3 * j + 2] - sh[2]
        r2 = dx * dx + dy * dy + dz * dz
        tj = types[j]
        buf[4 * m] = dx
        buf[4 * m + 1] = dy
        buf[4 * m + 2] = dz
        buf[4 * m + 3] = r2
        jbuf[2 * m] = <int>j
        jbuf[2 * m + 1] = tj
        m += r2 < trow[6 * tj + CUTSQ]
    for q in range(m):
        prm = trow + 6 * jbuf[2 * q + 1]
        r2inv = 1.0 / buf[4 * q + 3]
        r6inv = r2inv * r2inv * r2inv
        fpair = r6inv * (prm[LJ1] * r6inv - prm[LJ2]) * r2inv
        add_pair(jbuf[2 * q], buf[4 * q], buf[4 * q + 1], buf[4 * q + 2], fpair, fi, f, vir, want_virial)
        if want_energy:
            e += r6inv * (prm[LJ3] * r6inv - prm[LJ4]) - prm[OFFSET]
    f[3 * i] += fi[0]
    f[3 * i + 1] += fi[1]
    f[3 * i + 2] += fi[2]
    return e


def lennard_jones(const double[:, ::1] x, const double[::1] box, const int[::1] types, const int[::1] rows,
                  const long[::1] start, const int[::1] nbr, const unsigned char[::1] codes,
                  const double[:, ::1] table, double[:, ::1] f, double[::1] virial6,
                  bint want_energy, bint want_virial, double[:, :, ::1] scratch, double[:, ::1] vscratch):
    """Add LJ forces into ``f`` (and the virial's xx, yy, zz, xy, xz, yz into ``virial6``); return the energy.

    Row k of the neighbor list (``rows``, ``start``, ``nbr``, ``codes``) holds the later neighbors of atom
    ``rows[k]`` and the periodic image of each (see ``neighbors.pyx``).
    ``table[ti * ntypes + tj]`` holds (48 eps s^12, 24 eps s^6, 4 eps s^12, 4 eps s^6, rc^2, shift).
    The thread count is ``vscratch.shape[0]``; ``vscratch`` is (nthreads, 8) (a row per thread, padded
    against false sharing) and ``scratch`` (nthreads - 1, N, 3) force buffers for threads other than the
    first (ignored with one thread).
    """
    cdef Py_ssize_t n = x.shape[0]
    cdef int nthreads = vscratch.shape[0]
    cdef int ntypes = 1
    while ntypes * ntypes < table.shape[0]:
        ntypes += 1
    cdef double shifts[27 * 3]  # image code -> s L
    cdef int a
    image_shifts(shifts, box)
    cdef double energy = 0.0
    cdef Py_ssize_t i
    cdef double vir[6]
    for a in range(6):
        vir[a] = 0.0
    cdef const double* px = &x[0, 0]
    cdef const int* pt = &types[0]
    cdef const long* ps = &start[0]
    cdef const int* pr = &rows[0]
    cdef const int* pn = &nbr[0] if nbr.shape[0] > 0 else NULL
    cdef const unsigned char* pc = &codes[0] if codes.shape[0] > 0 else NULL
    cdef const double* ptab = &table[0, 0]
    cdef double* pf = &f[0, 0]
    cdef double* pscr = &scratch[0, 0, 0]
    cdef double* pvs = &vscratch[0, 0]
    cdef Py_ssize_t stride = 3 * scratch.shape[1]
    cdef double* mine
    cdef long longest = longest_row(ps, n)
    # one row's gathered pairs per thread; the gather pass writes one slot past the last kept pair
    cdef double[:, ::1] rowbuf = np.empty((nthreads, 4 * (longest + 1)))
    cdef int[:, ::1] jrowbuf = np.empty((nthreads, 2 * (longest + 1)), dtype=np.intc)
    if nthreads == 1:
        with nogil:
            for i in range(n):
                energy += _lj_atom(i, pr, px, shifts, pt, ntypes, ps, pn, pc, ptab, pf, vir,
                                   want_energy, want_virial, &rowbuf[0, 0], &jrowbuf[0, 0])
    else:
        # thread 0 adds straight into f, thread t > 0 into scratch[t - 1]: one buffer fewer; one block of
        # rows per thread keeps each thread's writes within its own region of space
        scratch[:, :, :] = 0.0
        vscratch[:, :] = 0.0
        with nogil:
            for i in prange(n, num_threads=nthreads, schedule="static"):
                mine = pf if threadid() == 0 else pscr + (threadid() - 1) * stride
                energy += _lj_atom(i, pr, px, shifts, pt, ntypes, ps, pn, pc, ptab,
                                   mine, pvs + 8 * threadid(), want_energy, want_virial,
                                   &rowbuf[threadid(), 0], &jrowbuf[threadid(), 0])
        reduce_threads(pf, pscr, pvs, vir, n, nthreads)
    if want_virial:
        for a in range(6):
            virial6[a] += vir[a]
    return energy
