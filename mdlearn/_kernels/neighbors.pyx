# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cell list -> half Verlet list, and the displacement test that decides a rebuild.

Positions on periodic axes are expected inside [0, L) at build time; pairs are found by the minimum
image, which is unique because the caller guarantees L >= 2 * (cutoff + skin) on every periodic axis.
Each pair also records which image of j is meant (``codes``: (sx+1) + 3 (sy+1) + 9 (sz+1), with
r_j + s L the image next to r_i), so kernels need no minimum-image test while atoms are not rewrapped,
that is until the next build.
"""
from cython.parallel cimport prange
from libc.math cimport floor
from libc.string cimport memmove

cdef enum:
    REACH = 2  # finest bins: rlist / REACH (measured: 2 beats 1 and 3 for the LJ liquid)

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


def max_displacement_sq(const double[:, ::1] x, const double[:, ::1] ref):
    """Largest squared displacement of any atom between ``ref`` and ``x``. No minimum image: an atom
    rewrapped since the build counts as moved a box length, so the list (and its image codes) is rebuilt."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef int a
    cdef double d, d2, best = 0.0
    with nogil:
        for i in range(n):
            d2 = 0.0
            for a in range(3):
                d = x[i, a] - ref[i, a]
                d2 += d * d
            if d2 > best or d2 != d2:  # a NaN forces a rebuild, where it is reported
                best = d2
    return best


cdef Py_ssize_t _column_pass(const double* xs, const int* rows, int* nbr, unsigned char* codes,
                             Py_ssize_t count, Py_ssize_t cap,
                             const long* cell_start, long bin_lo, long bin_hi, const long* ncell, int reach,
                             const double* box, const unsigned char* periodic, const double* width,
                             double rlist2, long* start) noexcept nogil:
    """Half-stencil pass over bins [bin_lo, bin_hi), writing pairs from ``nbr[count]`` but never at or past
    ``nbr[cap]``; returns the count it would have reached. Bins are ordered z fastest, so the bins of one
    (x, y) column within reach in z are one contiguous run of sorted atoms: scan runs, not bins."""
    cdef long c0, c1, c2, cx, cy, z0, z1, base, ci, nx = ncell[0], ny = ncell[1], nz = ncell[2]
    cdef int ox, oy, a, g, nseg
    cdef long seg_lo[64]
    cdef long seg_hi[64]
    cdef double seg_shift[64][3]
    cdef unsigned char seg_code[64]
    cdef bint seg_later[64]
    cdef int sxi, syi
    cdef double sx, sy, gx, gy
    cdef Py_ssize_t s, t, t0
    cdef double xi0, xi1, xi2, d, r2
    cdef bint own
    for ci in range(bin_lo, bin_hi):
        if cell_start[ci] == cell_start[ci + 1]:
            continue
        c2 = ci % nz
        c1 = (ci // nz) % ny
        c0 = ci // (nz * ny)
        nseg = 0
        for ox in range(0, reach + 1):
            for oy in range(-reach, reach + 1):
                if ox == 0 and oy < 0:
                    continue
                own = ox == 0 and oy == 0
                gx = (ox - 1) * width[0] if ox > 1 else 0.0
                gy = (abs(oy) - 1) * width[1] if abs(oy) > 1 else 0.0
                if gx * gx + gy * gy >= rlist2:
                    continue
                cx = c0 + ox
                sxi = 0
                if cx >= nx:
                    if not periodic[0]:
                        continue
                    cx -= nx
                    sxi = 1
                cy = c1 + oy
                syi = 0
                if cy < 0 or cy >= ny:
                    if not periodic[1]:
                        continue
                    syi = -1 if cy < 0 else 1
                    cy = cy + ny if cy < 0 else cy - ny
                sx = sxi * box[0]
                sy = syi * box[1]
                base = (cx * ny + cy) * nz
                z0 = c2 if own else c2 - reach
                z1 = c2 + reach
                if not periodic[2]:
                    z0 = 0 if z0 < 0 else z0
                    z1 = nz - 1 if z1 >= nz else z1
                elif z0 < 0:  # at most one side wraps: nz >= 2 reach + 1
                    seg_lo[nseg] = cell_start[base + z0 + nz]
                    seg_hi[nseg] = cell_start[base + nz]
                    seg_shift[nseg][0] = sx
                    seg_shift[nseg][1] = sy
                    seg_shift[nseg][2] = -box[2]
                    seg_code[nseg] = (sxi + 1) + 3 * (syi + 1)
                    seg_later[nseg] = False
                    nseg += 1
                    z0 = 0
                elif z1 >= nz:
                    seg_lo[nseg] = cell_start[base]
                    seg_hi[nseg] = cell_start[base + z1 - nz + 1]
                    seg_shift[nseg][0] = sx
                    seg_shift[nseg][1] = sy
                    seg_shift[nseg][2] = box[2]
                    seg_code[nseg] = (sxi + 1) + 3 * (syi + 1) + 18
                    seg_later[nseg] = False
                    nseg += 1
                    z1 = nz - 1
                seg_lo[nseg] = cell_start[base + z0]
                seg_hi[nseg] = cell_start[base + z1 + 1]
                seg_shift[nseg][0] = sx
                seg_shift[nseg][1] = sy
                seg_shift[nseg][2] = 0.0
                seg_code[nseg] = (sxi + 1) + 3 * (syi + 1) + 9
                seg_later[nseg] = own
                nseg += 1
        for s in range(cell_start[ci], cell_start[ci + 1]):
            start[s] = count
            for g in range(nseg):
                # shifting atom i by minus the image shift puts it next to the run's atoms
                xi0 = xs[3 * s] - seg_shift[g][0]
                xi1 = xs[3 * s + 1] - seg_shift[g][1]
                xi2 = xs[3 * s + 2] - seg_shift[g][2]
                t0 = s + 1 if seg_later[g] else seg_lo[g]
                for t in range(t0, seg_hi[g]):
                    d = xi0 - xs[3 * t]
                    r2 = d * d
                    d = xi1 - xs[3 * t + 1]
                    r2 += d * d
                    d = xi2 - xs[3 * t + 2]
                    r2 += d * d
                    # write every candidate and advance past those in range: no branch on the distance
                    # (about half of the candidates are out of range, in no predictable order); the
                    # room check only fails when the list overflows
                    if count < cap:
                        nbr[count] = rows[t]
                        codes[count] = seg_code[g]
                    count += r2 < rlist2
    return count


cdef Py_ssize_t _threaded_columns(const double* xs, const int* rows, int* nbr, unsigned char* codes,
                                  Py_ssize_t cap,
                                  const long* cell_start, long total, const long* ncell, int reach,
                                  const double* box, const unsigned char* periodic, const double* width,
                                  double rlist2, long* start, Py_ssize_t n, int nthreads) noexcept nogil:
    """Split the bins into chunks of equal atom counts; each thread fills a slot of ``nbr`` sized in
    proportion to its atoms, then the slots are closed up. A slot that overflows sends the whole build
    to the serial pass (still correct, and the caller grows ``nbr`` if even that overflows)."""
    cdef long bins[65]
    cdef Py_ssize_t slot[65]
    cdef Py_ssize_t end[64]
    cdef int t
    cdef long b = 0
    cdef Py_ssize_t s, cum, shift
    if nthreads > 64:
        nthreads = 64
    bins[0] = 0
    slot[0] = 0
    for t in range(1, nthreads):
        while b < total and cell_start[b] < (n * t) // nthreads:
            b += 1
        bins[t] = b
        slot[t] = <Py_ssize_t>((<double>cap * cell_start[b]) / n)
    bins[nthreads] = total
    slot[nthreads] = cap
    for t in prange(nthreads, num_threads=nthreads, schedule="static", chunksize=1):
        end[t] = _column_pass(xs, rows, nbr, codes, slot[t], slot[t + 1], cell_start, bins[t], bins[t + 1], ncell,
                              reach, box, periodic, width, rlist2, start)
    for t in range(nthreads):
        if end[t] > slot[t + 1]:
            return _column_pass(xs, rows, nbr, codes, 0, cap, cell_start, 0, total, ncell, reach, box, periodic,
                                width, rlist2, start)
    cum = end[0]
    for t in range(1, nthreads):
        shift = slot[t] - cum
        if shift:
            memmove(nbr + cum, nbr + slot[t], (end[t] - slot[t]) * sizeof(int))
            memmove(codes + cum, codes + slot[t], (end[t] - slot[t]) * sizeof(unsigned char))
            for s in range(cell_start[bins[t]], cell_start[bins[t + 1]]):
                start[s] -= shift
        cum += end[t] - slot[t]
    return cum


def build_half_list(const double[:, ::1] x, const double[::1] box, const unsigned char[::1] periodic,
                    double rlist, int[::1] rows, long[::1] start, int[::1] nbr, unsigned char[::1] codes,
                    int nthreads=1):
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
    cdef double ext[3]
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
        ext[a] = extent
    # Bins of rlist / reach: finer bins check fewer candidates (reach 2 about 40% fewer than bins of rlist)
    # but need 2 reach + 1 distinct bins on every periodic axis. A box too small even for reach 1
    # takes the general path: each distinct bin once, minimum image, only pairs with the later atom.
    cdef int reach = REACH
    while reach > 1:
        for a in range(3):
            if periodic[a] and floor(ext[a] * reach / rlist) < 2 * reach + 1:
                break
        else:
            break
        reach -= 1
    for a in range(3):
        ncell[a] = <long>floor(ext[a] * reach / rlist)
        if ncell[a] < 1:
            ncell[a] = 1
    # Bound the grid by the atom count (short cutoffs, sparse or open systems): wider bins stay correct,
    # as long as periodic axes keep 2 reach + 1 of them.
    cdef double excess = (<double>ncell[0] * ncell[1] * ncell[2]) / (2.0 * n + 125.0)
    cdef long floor_a
    if excess > 1.0:
        for a in range(3):
            floor_a = 2 * reach + 1 if periodic[a] else 1
            if ncell[a] > floor_a:
                ncell[a] = <long>floor(ncell[a] / excess ** (1.0 / 3.0))
                if ncell[a] < floor_a:
                    ncell[a] = floor_a
    for a in range(3):
        width[a] = ext[a] / ncell[a] if ext[a] > 0 else 1.0
    cdef bint half_stencil = True
    for a in range(3):
        if periodic[a] and ncell[a] < 2 * reach + 1:
            half_stencil = False

    cdef long offs[27][3]
    cdef int nst = 0, ox, oy, oz
    if not half_stencil:
        for oz in range(-1, 2):
            for oy in range(-1, 2):
                for ox in range(-1, 2):
                    if ((ox < 0 and ncell[0] < 3 and periodic[0]) or (oy < 0 and ncell[1] < 3 and periodic[1])
                            or (oz < 0 and ncell[2] < 3 and periodic[2])):
                        continue  # with two bins, -1 and +1 are the same bin
                    if (ncell[0] == 1 and ox != 0) or (ncell[1] == 1 and oy != 0) or (ncell[2] == 1 and oz != 0):
                        continue
                    offs[nst][0] = ox
                    offs[nst][1] = oy
                    offs[nst][2] = oz
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
    cdef double xi[3]
    cdef int img, code
    cdef int POW3[3]
    POW3[0] = 1
    POW3[1] = 3
    POW3[2] = 9
    cdef Py_ssize_t count = 0
    cdef double bx[3]
    cdef unsigned char per[3]
    for a in range(3):
        bx[a] = box[a]
        per[a] = periodic[a]
    cdef const double* pxs = &xs[0, 0]
    cdef const int* prows = &rows[0]
    cdef int* pnbr = &nbr[0] if cap > 0 else NULL
    cdef unsigned char* pcodes = &codes[0] if cap > 0 else NULL
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

        if half_stencil and nthreads > 1 and n >= 4096:
            count = _threaded_columns(pxs, prows, pnbr, pcodes, cap, &cell_start[0], total_cells, ncell, reach,
                                      &bx[0], &per[0], width, rlist2, &start[0], n, nthreads)
        elif half_stencil:
            count = _column_pass(pxs, prows, pnbr, pcodes, 0, cap, &cell_start[0], 0, total_cells, ncell, reach,
                                 &bx[0], &per[0], width, rlist2, &start[0])
        else:
            for ci in range(total_cells):
                if cell_start[ci] == cell_start[ci + 1]:
                    continue
                c[2] = ci % ncell[2]
                c[1] = (ci // ncell[2]) % ncell[1]
                c[0] = ci // (ncell[2] * ncell[1])
                for s in range(cell_start[ci], cell_start[ci + 1]):
                    start[s] = count
                    xi[0] = xs[s, 0]
                    xi[1] = xs[s, 1]
                    xi[2] = xs[s, 2]
                    for m in range(nst):
                        skip = False
                        for a in range(3):
                            cc[a] = c[a] + offs[m][a]
                            if cc[a] < 0 or cc[a] >= ncell[a]:
                                if not periodic[a]:
                                    skip = True
                                cc[a] = (cc[a] + ncell[a]) % ncell[a]
                        if skip:
                            continue
                        nid = (cc[0] * ncell[1] + cc[1]) * ncell[2] + cc[2]
                        t = cell_start[nid]
                        if t <= s:
                            t = s + 1
                        for t in range(t, cell_start[nid + 1]):
                            r2 = 0.0
                            code = 0
                            for a in range(3):
                                d = xi[a] - xs[t, a]
                                img = 0
                                if periodic[a]:
                                    if d > half[a]:
                                        img = 1
                                    elif d < -half[a]:
                                        img = -1
                                d -= img * box[a]
                                r2 += d * d
                                code += (img + 1) * POW3[a]
                            if r2 < rlist2:
                                if count < cap:
                                    nbr[count] = rows[t]
                                    codes[count] = code
                                count += 1
        start[n] = count
    return count
