# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Coulomb kernels: Ewald real space on the half Verlet list, the Ewald structure-factor sum over
k vectors, and the direct all-pairs sum for open boundaries.

All kernels are unit-agnostic: ``prefactor`` is 1 / (4 pi eps0 eps_r) in the caller's units (or
l_B k_B T), charges are in the caller's charge unit, and energies come out in energy units.

Threads: the real-space and direct kernels follow ``pair.pyx`` (each thread adds into its own force
buffer, summed afterwards); the reciprocal kernels run over atoms, with one structure-factor buffer per
thread in the first pass, and every atom writing only its own force row in the second.
"""
from cython.parallel cimport prange, threadid

from mdlearn._kernels._common cimport add_pair, image_shifts, longest_row, reduce_threads
from libc.math cimport cos, sin, sqrt

import numpy as np


# --------------------------------------------------------------------------------------------------
# real space: q_i q_j erfc(alpha r) / r on the half list, erfc and exp from a cubic table (libm's erfc
# and exp cost ~4x more than the rest of the pair)
# --------------------------------------------------------------------------------------------------
cdef inline double _real_atom(Py_ssize_t k, const int* rows, const double* x, const double* q,
                              const double* shifts, const long* start, const int* nbr,
                              const unsigned char* codes, double alpha, double rc2, double prefactor,
                              const double* table, double inv_h, double* f, double* vir,
                              bint want_energy, bint want_virial, double* buf, int* jbuf) noexcept nogil:
    """Row k in two passes, as ``pair._lj_atom``: gather the charged candidates in range without a branch,
    then their forces. ``buf`` holds 5 and ``jbuf`` 1 values per candidate (+ 1)."""
    cdef Py_ssize_t p, u, m = 0, j, i = rows[k]
    cdef double qi = prefactor * q[i]
    if qi == 0.0:
        return 0.0
    cdef double dx, dy, dz, r2, r, rinv, s, t, qq, ec, gauss, fpair, e = 0.0
    cdef Py_ssize_t cell
    cdef double fi[3]
    fi[0] = fi[1] = fi[2] = 0.0
    cdef double xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
    cdef const double* c
    cdef const double* sh
    for p in range(start[k], start[k + 1]):
        j = nbr[p]
        qq = qi * q[j]
        sh = shifts + 3 * codes[p]
        dx = xi - x[3 * j] - sh[0]
        dy = yi - x[3 * j + 1] - sh[1]
        dz = zi - x[3 * j + 2] - sh[2]
        r2 = dx * dx + dy * dy + dz * dz
        buf[5 * m] = dx
        buf[5 * m + 1] = dy
        buf[5 * m + 2] = dz
        buf[5 * m + 3] = r2
        buf[5 * m + 4] = qq
        jbuf[m] = <int>j
        m += (r2 < rc2) & (qq != 0.0)
    for u in range(m):
        r2 = buf[5 * u + 3]
        qq = buf[5 * u + 4]
        r = sqrt(r2)
        rinv = 1.0 / r
        # erfc(alpha r) and (2 / sqrt(pi)) exp(-alpha^2 r^2) from the cubic table, s = alpha r / h
        s = alpha * r * inv_h
        cell = <Py_ssize_t> s
        t = s - cell
        c = table + 8 * cell
        ec = qq * (c[0] + t * (c[1] + t * (c[2] + t * c[3]))) * rinv
        gauss = c[4] + t * (c[5] + t * (c[6] + t * c[7]))
        fpair = (ec + qq * alpha * gauss) * rinv * rinv
        add_pair(jbuf[u], buf[5 * u], buf[5 * u + 1], buf[5 * u + 2], fpair, fi, f, vir, want_virial)
        if want_energy:
            e += ec
    f[3 * i] += fi[0]
    f[3 * i + 1] += fi[1]
    f[3 * i + 2] += fi[2]
    return e


def ewald_real(const double[:, ::1] x, const double[::1] q, const double[::1] box, const int[::1] rows,
               const long[::1] start, const int[::1] nbr, const unsigned char[::1] codes, double alpha, double cutoff, double prefactor, const double[:, ::1] table, double spacing,
               double[:, ::1] f, double[::1] virial6,
               bint want_energy, bint want_virial, double[:, :, ::1] scratch, double[:, ::1] vscratch):
    """Add the real-space Ewald forces of ``prefactor q_i q_j erfc(alpha r) / r`` for listed pairs with
    r < cutoff into ``f`` (virial xx, yy, zz, xy, xz, yz into ``virial6``); return the energy.

    Row k of the neighbor list (``rows``, ``start``, ``nbr``, ``codes``) holds the later neighbors of atom
    ``rows[k]`` and the periodic image of each (see ``neighbors.pyx``). ``table`` row m holds the cubic coefficients (in t = s - m, s = alpha r / spacing) of erfc and of
    (2 / sqrt(pi)) exp(-s^2 spacing^2) on [m, m + 1) (see ``forces.coulomb.erfc_table``); it must reach
    alpha * cutoff. Thread layout as in ``pair.lennard_jones``: ``vscratch`` is (nthreads, 8),
    ``scratch`` (nthreads - 1, N, 3).
    """
    if table.shape[1] != 8 or (table.shape[0] - 1) * spacing < alpha * cutoff:
        raise ValueError("the erfc table does not reach alpha * cutoff")
    cdef Py_ssize_t n = x.shape[0]
    cdef int nthreads = vscratch.shape[0]
    cdef double shifts[27 * 3]  # image code -> s L
    cdef int a
    image_shifts(shifts, box)
    cdef double rc2 = cutoff * cutoff
    cdef double inv_h = 1.0 / spacing
    cdef const double* ptab = &table[0, 0]
    cdef double energy = 0.0
    cdef Py_ssize_t i
    cdef double vir[6]
    for a in range(6):
        vir[a] = 0.0
    cdef const double* px = &x[0, 0]
    cdef const double* pq = &q[0]
    cdef const long* ps = &start[0]
    cdef const int* pr = &rows[0]
    cdef const int* pn = &nbr[0] if nbr.shape[0] > 0 else NULL
    cdef const unsigned char* pc = &codes[0] if codes.shape[0] > 0 else NULL
    cdef double* pf = &f[0, 0]
    cdef double* pscr = &scratch[0, 0, 0]
    cdef double* pvs = &vscratch[0, 0]
    cdef Py_ssize_t stride = 3 * scratch.shape[1]
    cdef double* mine
    cdef long longest = longest_row(ps, n)
    cdef double[:, ::1] rowbuf = np.empty((nthreads, 5 * (longest + 1)))
    cdef int[:, ::1] jrowbuf = np.empty((nthreads, longest + 1), dtype=np.intc)
    if nthreads == 1:
        with nogil:
            for i in range(n):
                energy += _real_atom(i, pr, px, pq, shifts, ps, pn, pc, alpha, rc2, prefactor, ptab, inv_h,
                                     pf, vir, want_energy, want_virial, &rowbuf[0, 0], &jrowbuf[0, 0])
    else:
        scratch[:, :, :] = 0.0
        vscratch[:, :] = 0.0
        with nogil:
            for i in prange(n, num_threads=nthreads, schedule="static", chunksize=256):
                mine = pf if threadid() == 0 else pscr + (threadid() - 1) * stride
                energy += _real_atom(i, pr, px, pq, shifts, ps, pn, pc, alpha, rc2, prefactor, ptab, inv_h,
                                     mine, pvs + 8 * threadid(), want_energy, want_virial,
                                     &rowbuf[threadid(), 0], &jrowbuf[threadid(), 0])
            reduce_threads(pf, pscr, pvs, vir, n, nthreads)
    if want_virial:
        for a in range(6):
            virial6[a] += vir[a]
    return energy


# --------------------------------------------------------------------------------------------------
# reciprocal space
# --------------------------------------------------------------------------------------------------
# The k vectors are k = 2 pi (nx / Lx, ny / Ly, nz / Lz), grouped in "columns" of fixed (nx, ny) and
# consecutive nz: columns[c] = (nx, ny, nz_lo, nz_hi), nx >= 0, and the k index runs through the
# columns in order. Per atom, exp(i n theta_a) with theta_a = 2 pi x_a / L_a is tabulated for
# n = 0..nmax_x (x) and -nmax..nmax (y, z) by repeated multiplication, so each k vector costs one
# complex product.
cdef inline void _phase_tables(const double* xi, const double* period, const int* nmax,
                               double* ex, double* ey, double* ez) noexcept nogil:
    """ex[2n], ex[2n+1] = cos, sin of n theta_x (n = 0..nmax_x); ey, ez centred at index nmax."""
    cdef int a, n, m
    cdef double th, c1, s1, c, s, cn
    cdef double* tab
    for a in range(3):
        th = 6.283185307179586 * xi[a] / period[a]
        c1 = cos(th)
        s1 = sin(th)
        m = nmax[a]
        if a == 0:
            tab = ex
        elif a == 1:
            tab = ey + 2 * m
        else:
            tab = ez + 2 * m
        c = 1.0
        s = 0.0
        tab[0] = 1.0
        tab[1] = 0.0
        for n in range(1, m + 1):
            cn = c * c1 - s * s1
            s = s * c1 + c * s1
            c = cn
            tab[2 * n] = c
            tab[2 * n + 1] = s
            if a > 0:
                tab[-2 * n] = c
                tab[-2 * n + 1] = -s


def ewald_structure_factor(const double[:, ::1] x, const double[::1] q, const int[::1] atoms,
                           const double[::1] period, const int[::1] nmax, const int[:, ::1] columns,
                           double[:, ::1] S, double[:, ::1] trig, double[:, :, ::1] sbuf):
    """S[k] = sum_i q_i exp(i k . x_i) over ``atoms`` (S[k, 0] real part, S[k, 1] imaginary part).

    ``period`` are the lengths that define k (the padded length on a slab's z axis); ``nmax`` the
    largest |n| per axis; ``columns`` as described above, S (nk, 2). Thread count = ``trig.shape[0]``;
    ``trig`` is (nthreads, >= 2 (nmax_x + 1) + 2 (2 nmax_y + 1) + 2 (2 nmax_z + 1)) and ``sbuf``
    (nthreads, nk, 2) per-thread sums.
    """
    cdef int nthreads = trig.shape[0]
    cdef Py_ssize_t na = atoms.shape[0], nk = S.shape[0], ncol = columns.shape[0]
    cdef Py_ssize_t m, i, c, kk, kz, t
    cdef int nz
    cdef double qi, cxy, sxy, cz, sz
    cdef const double* px = &x[0, 0]
    cdef const double* pp = &period[0]
    cdef const int* pm = &nmax[0]
    cdef const int* pc = &columns[0, 0]
    cdef double* tabs = &trig[0, 0]
    cdef Py_ssize_t tstride = trig.shape[1]
    cdef Py_ssize_t oy = 2 * (nmax[0] + 1)
    cdef Py_ssize_t oz = oy + 2 * (2 * nmax[1] + 1)
    cdef double* buf
    cdef double* ex
    cdef double* ey
    cdef double* ez
    cdef double* ezc
    sbuf[:, :, :] = 0.0
    cdef double* psb = &sbuf[0, 0, 0]
    with nogil:
        for m in prange(na, num_threads=nthreads, schedule="static"):
            i = atoms[m]
            t = threadid()
            qi = q[i]
            ex = tabs + t * tstride
            ey = ex + oy
            ez = ex + oz
            buf = psb + t * 2 * nk
            _phase_tables(px + 3 * i, pp, pm, ex, ey, ez)
            ey = ey + 2 * pm[1]
            ez = ez + 2 * pm[2]
            kk = 0
            for c in range(ncol):
                cxy = ex[2 * pc[4 * c]] * ey[2 * pc[4 * c + 1]] - ex[2 * pc[4 * c] + 1] * ey[2 * pc[4 * c + 1] + 1]
                sxy = ex[2 * pc[4 * c]] * ey[2 * pc[4 * c + 1] + 1] + ex[2 * pc[4 * c] + 1] * ey[2 * pc[4 * c + 1]]
                cxy = qi * cxy
                sxy = qi * sxy
                for nz in range(pc[4 * c + 2], pc[4 * c + 3] + 1):
                    ezc = ez + 2 * nz
                    buf[2 * kk] += cxy * ezc[0] - sxy * ezc[1]
                    buf[2 * kk + 1] += cxy * ezc[1] + sxy * ezc[0]
                    kk = kk + 1
        for kk in prange(nk, num_threads=nthreads, schedule="static"):
            S[kk, 0] = 0.0
            S[kk, 1] = 0.0
            for t in range(nthreads):
                S[kk, 0] += sbuf[t, kk, 0]
                S[kk, 1] += sbuf[t, kk, 1]


def ewald_reciprocal_forces(const double[:, ::1] x, const double[::1] q, const int[::1] atoms,
                            const double[::1] period, const int[::1] nmax, const int[:, ::1] columns,
                            const double[:, ::1] A, double[:, ::1] f, double[:, ::1] trig):
    """Add F_i = 2 q_i sum_k k Im[exp(i k . x_i) conj(A_k)] into ``f`` for ``atoms``.

    ``A`` (nk, 2) is the structure factor times the energy coefficient of each k vector, so that
    E = sum_k coef_k |S_k|^2 over the half space of k vectors and A_k = coef_k S_k. Every atom writes
    only its own row of ``f``. Thread count and ``trig`` as in :func:`ewald_structure_factor`.
    """
    cdef int nthreads = trig.shape[0]
    cdef Py_ssize_t na = atoms.shape[0], ncol = columns.shape[0]
    cdef Py_ssize_t m, i, c, kk, t
    cdef int nz
    cdef double qi, cxy, sxy, cr, ci, tk, st, stz, fx, fy, fz
    cdef const double* px = &x[0, 0]
    cdef const double* pp = &period[0]
    cdef const int* pm = &nmax[0]
    cdef const int* pc = &columns[0, 0]
    cdef const double* pa = &A[0, 0]
    cdef double* tabs = &trig[0, 0]
    cdef Py_ssize_t tstride = trig.shape[1]
    cdef Py_ssize_t oy = 2 * (nmax[0] + 1)
    cdef Py_ssize_t oz = oy + 2 * (2 * nmax[1] + 1)
    cdef double* ex
    cdef double* ey
    cdef double* ez
    cdef double* ezc
    cdef double tpx = 6.283185307179586 / period[0]
    cdef double tpy = 6.283185307179586 / period[1]
    cdef double tpz = 6.283185307179586 / period[2]
    with nogil:
        for m in prange(na, num_threads=nthreads, schedule="static"):
            i = atoms[m]
            t = threadid()
            qi = q[i]
            ex = tabs + t * tstride
            ey = ex + oy
            ez = ex + oz
            _phase_tables(px + 3 * i, pp, pm, ex, ey, ez)
            ey = ey + 2 * pm[1]
            ez = ez + 2 * pm[2]
            kk = 0
            fx = 0.0
            fy = 0.0
            fz = 0.0
            for c in range(ncol):
                cxy = ex[2 * pc[4 * c]] * ey[2 * pc[4 * c + 1]] - ex[2 * pc[4 * c] + 1] * ey[2 * pc[4 * c + 1] + 1]
                sxy = ex[2 * pc[4 * c]] * ey[2 * pc[4 * c + 1] + 1] + ex[2 * pc[4 * c] + 1] * ey[2 * pc[4 * c + 1]]
                st = 0.0
                stz = 0.0
                for nz in range(pc[4 * c + 2], pc[4 * c + 3] + 1):
                    ezc = ez + 2 * nz
                    cr = cxy * ezc[0] - sxy * ezc[1]
                    ci = cxy * ezc[1] + sxy * ezc[0]
                    tk = ci * pa[2 * kk] - cr * pa[2 * kk + 1]
                    st = st + tk
                    stz = stz + nz * tk
                    kk = kk + 1
                fx = fx + pc[4 * c] * st
                fy = fy + pc[4 * c + 1] * st
                fz = fz + stz
            f[i, 0] += 2.0 * qi * tpx * fx
            f[i, 1] += 2.0 * qi * tpy * fy
            f[i, 2] += 2.0 * qi * tpz * fz


# --------------------------------------------------------------------------------------------------
# direct all-pairs sum (open boundaries)
# --------------------------------------------------------------------------------------------------
cdef inline double _direct_row(Py_ssize_t i, Py_ssize_t n, const double* x, const double* q, double prefactor,
                               double* f, double* vir, bint want_energy, bint want_virial) noexcept nogil:
    cdef double qi = prefactor * q[i]
    if qi == 0.0:
        return 0.0
    cdef Py_ssize_t j
    cdef double dx, dy, dz, r2, qq, rinv, ej, fpair, e = 0.0
    cdef double fi[3]
    fi[0] = fi[1] = fi[2] = 0.0
    cdef double xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
    for j in range(i + 1, n):
        qq = qi * q[j]
        if qq == 0.0:
            continue
        dx = xi - x[3 * j]
        dy = yi - x[3 * j + 1]
        dz = zi - x[3 * j + 2]
        r2 = dx * dx + dy * dy + dz * dz
        rinv = 1.0 / sqrt(r2)
        ej = qq * rinv
        fpair = ej * rinv * rinv
        add_pair(j, dx, dy, dz, fpair, fi, f, vir, want_virial)
        if want_energy:
            e += ej
    f[3 * i] += fi[0]
    f[3 * i + 1] += fi[1]
    f[3 * i + 2] += fi[2]
    return e


def direct_coulomb(const double[:, ::1] x, const double[::1] q, double prefactor, double[:, ::1] f,
                   double[::1] virial6, bint want_energy, bint want_virial, double[:, :, ::1] scratch,
                   double[:, ::1] vscratch):
    """Add ``prefactor q_i q_j / r`` over all pairs (no periodic images) into ``f`` and ``virial6``;
    return the energy.

    Rows i and N-1-i are handled together so that a static schedule balances the triangular loop.
    Thread layout as in :func:`ewald_real`.
    """
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t half = (n + 1) // 2
    cdef int nthreads = vscratch.shape[0]
    cdef int a, t
    cdef double energy = 0.0
    cdef Py_ssize_t m
    cdef double vir[6]
    for a in range(6):
        vir[a] = 0.0
    cdef const double* px = &x[0, 0]
    cdef const double* pq = &q[0]
    cdef double* pf = &f[0, 0]
    cdef double* pscr = &scratch[0, 0, 0]
    cdef double* pvs = &vscratch[0, 0]
    cdef Py_ssize_t stride = 3 * scratch.shape[1]
    cdef double* mine
    if nthreads == 1:
        with nogil:
            for m in range(n):
                energy += _direct_row(m, n, px, pq, prefactor, pf, vir, want_energy, want_virial)
    else:
        scratch[:, :, :] = 0.0
        vscratch[:, :] = 0.0
        with nogil:
            for m in prange(half, num_threads=nthreads, schedule="static", chunksize=16):
                mine = pf if threadid() == 0 else pscr + (threadid() - 1) * stride
                energy += _direct_row(m, n, px, pq, prefactor, mine, pvs + 8 * threadid(),
                                      want_energy, want_virial)
                if n - 1 - m != m:
                    energy += _direct_row(n - 1 - m, n, px, pq, prefactor, mine, pvs + 8 * threadid(),
                                          want_energy, want_virial)
            reduce_threads(pf, pscr, pvs, vir, n, nthreads)
    if want_virial:
        for a in range(6):
            virial6[a] += vir[a]
    return energy
