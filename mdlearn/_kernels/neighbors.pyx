# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cell list -> half Verlet list, and the displacement test that decides a rebuild.

Positions on periodic axes are expected inside [0, L); pairs are found by the minimum image, which
is unique because the caller guarantees L >= 2 * (cutoff + skin) on every periodic axis.
"""
from libc.math cimport floor

import numpy as np

cdef extern from *:
    """
    #ifdef _OPENMP
    #define MDLEARN_OPENMP 1
    #else
    #define MDLEARN_OPENMP 0
    #endif
    """
    int MDLEARN_OPENMP


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(MDLEARN_OPENMP)


cdef inline double _wrap_delta(double d, double length, double half, bint periodic) noexcept nogil:
    if periodic:
        if d > half:
            d -= length
        elif d < -half:
            d += length
    return d


def max_displacement_sq(const double[:, ::1] x, const double[:, ::1] ref, const double[::1] box,
                        const unsigned char[::1] periodic):
    """Largest squared displacement of any atom between ``ref`` and ``x`` (minimum image)."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef int a
    cdef double d, d2, best = 0.0
    cdef double half[3]
    for a in range(3):
        half[a] = 0.5 * box[a]
    with nogil:
        for i in range(n):
            d2 = 0.0
            for a in range(3):
                d = _wrap_delta(x[i, a] - ref[i, a], box[a], half[a], periodic[a])
                d2 += d * d
            if d2 > best or d2 != d2:  # a NaN forces a rebuild, where it is reported
                best = d2
    return best


def build_half_list(const double[:, ::1] x, const double[::1] box, const unsigned char[::1] periodic,
                    double rlist, int[::1] rows, long[::1] start, int[::1] nbr):
    """Find every pair closer than ``rlist`` once (a half list), binned on a cell grid.

    Atoms are visited cell by cell: ``rows`` (N) receives the atom of each list row and the neighbors of
    atom ``rows[k]`` are ``nbr[start[k]:start[k+1]]``. Returns the number of pairs found; when it exceeds
    ``len(nbr)`` nothing past the end is written and the caller must grow ``nbr`` and call again.
    """
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t cap = nbr.shape[0]
    cdef double lo[3]
    cdef double width[3]
    cdef double half[3]
    cdef long ncell[3]
    cdef int a
    cdef double extent, mn, mx
    cdef Py_ssize_t i, k, s, t
    for a in range(3):
        half[a] = 0.5 * box[a]
        if periodic[a]:
            lo[a] = 0.0
            extent = box[a]
        else:
            mn = x[0, a]
            mx = x[0, a]
            for i in range(n):
                if x[i, a] < mn:
                    mn = x[i, a]
                if x[i, a] > mx:
                    mx = x[i, a]
            lo[a] = mn
            extent = mx - mn
        ncell[a] = <long>floor(extent / rlist)
        if ncell[a] < 1:
            ncell[a] = 1
        if ncell[a] > 1024:  # sparse open systems: bound the grid, not the correctness
            ncell[a] = 1024
        width[a] = extent / ncell[a] if extent > 0 else 1.0

    # The stencil: with at least three cells on every periodic axis, half of the 26 neighbor cells
    # suffice (each pair of cells is met once). Otherwise -1 and +1 may name the same cell: visit each
    # distinct cell once and keep only pairs with the later atom, as in the own cell.
    cdef long offs[27][3]
    cdef bint later_only[27]
    cdef int nst = 0, ox, oy, oz
    cdef bint half_stencil = True
    for a in range(3):
        if periodic[a] and ncell[a] < 3:
            half_stencil = False
    cdef long lim[3]
    for a in range(3):
        lim[a] = 1 if ncell[a] >= 3 or not periodic[a] else ncell[a] - 1
    for oz in range(-1, 2):
        for oy in range(-1, 2):
            for ox in range(-1, 2):
                if half_stencil:
                    if oz < 0 or (oz == 0 and (oy < 0 or (oy == 0 and ox < 0))):
                        continue
                else:
                    if ox > lim[0] or oy > lim[1] or oz > lim[2]:
                        continue
                    if ((ox < 0 and ncell[0] < 3 and periodic[0]) or (oy < 0 and ncell[1] < 3 and periodic[1])
                            or (oz < 0 and ncell[2] < 3 and periodic[2])):
                        continue
                    if (ncell[0] == 1 and ox != 0) or (ncell[1] == 1 and oy != 0) or (ncell[2] == 1 and oz != 0):
                        continue
                offs[nst][0] = ox
                offs[nst][1] = oy
                offs[nst][2] = oz
                later_only[nst] = (not half_stencil) or (ox == 0 and oy == 0 and oz == 0)
                nst += 1

    cdef long total_cells = ncell[0] * ncell[1] * ncell[2]
    cdef long[::1] cell_of = np.empty(n, dtype=np.int_)
    cdef long[::1] cell_start = np.zeros(total_cells + 1, dtype=np.int_)
    cdef long[::1] fill = np.empty(total_cells, dtype=np.int_)
    cdef double[:, ::1] xs = np.empty((n, 3), dtype=np.float64)

    cdef long c[3]
    cdef long cc[3]
    cdef long cid, nid, ci
    cdef int m
    cdef bint skip
    cdef double d, r2, rlist2 = rlist * rlist
    cdef double xi0, xi1, xi2, xj0, xj1, xj2
    cdef double shift[3]
    cdef Py_ssize_t count = 0
    with nogil:
        for i in range(n):
            for a in range(3):
                c[a] = <long>floor((x[i, a] - lo[a]) / width[a])
                if c[a] < 0:
                    c[a] = 0
                elif c[a] >= ncell[a]:
                    c[a] = ncell[a] - 1
            cid = (c[0] * ncell[1] + c[1]) * ncell[2] + c[2]
            cell_of[i] = cid
            cell_start[cid + 1] += 1
        for k in range(total_cells):
            cell_start[k + 1] += cell_start[k]
            fill[k] = cell_start[k]
        for i in range(n):
            s = fill[cell_of[i]]
            rows[s] = <int>i
            xs[s, 0] = x[i, 0]
            xs[s, 1] = x[i, 1]
            xs[s, 2] = x[i, 2]
            fill[cell_of[i]] += 1

        for ci in range(total_cells):
            c[2] = ci % ncell[2]
            c[1] = (ci // ncell[2]) % ncell[1]
            c[0] = ci // (ncell[2] * ncell[1])
            for s in range(cell_start[ci], cell_start[ci + 1]):
                start[s] = count
                xi0 = xs[s, 0]
                xi1 = xs[s, 1]
                xi2 = xs[s, 2]
                for m in range(nst):
                    skip = False
                    for a in range(3):
                        cc[a] = c[a] + offs[m][a]
                        shift[a] = 0.0
                        if cc[a] < 0 or cc[a] >= ncell[a]:
                            if not periodic[a]:
                                skip = True
                            elif cc[a] < 0:
                                shift[a] = -box[a]
                            else:
                                shift[a] = box[a]
                            cc[a] = (cc[a] + ncell[a]) % ncell[a]
                    if skip:
                        continue
                    nid = (cc[0] * ncell[1] + cc[1]) * ncell[2] + cc[2]
                    t = cell_start[nid]
                    if later_only[m] and t <= s:
                        t = s + 1
                    if half_stencil:
                        # a wrapped neighbor cell is one whole box away: shift it instead of a minimum image
                        xj0 = xi0 - shift[0]
                        xj1 = xi1 - shift[1]
                        xj2 = xi2 - shift[2]
                        for t in range(t, cell_start[nid + 1]):
                            d = xj0 - xs[t, 0]
                            r2 = d * d
                            d = xj1 - xs[t, 1]
                            r2 += d * d
                            d = xj2 - xs[t, 2]
                            r2 += d * d
                            if r2 < rlist2:
                                if count < cap:
                                    nbr[count] = rows[t]
                                count += 1
                    else:
                        for t in range(t, cell_start[nid + 1]):
                            d = _wrap_delta(xi0 - xs[t, 0], box[0], half[0], periodic[0])
                            r2 = d * d
                            d = _wrap_delta(xi1 - xs[t, 1], box[1], half[1], periodic[1])
                            r2 += d * d
                            d = _wrap_delta(xi2 - xs[t, 2], box[2], half[2], periodic[2])
                            r2 += d * d
                            if r2 < rlist2:
                                if count < cap:
                                    nbr[count] = rows[t]
                                count += 1
        start[n] = count
    return count
