# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""ANI atomic environment vectors (AEVs) and their vector-Jacobian product, on mdlearn's neighbor list.

Conventions follow NeuroChem / torchani (checked numerically against torchani in the tests):

- radial term of centre i and neighbour j (r = r_ij < Rcr), stored in the block of j's species::

      0.25 exp(-EtaR (r - ShfR)^2) fc(r, Rcr),      fc(r, Rc) = 0.5 cos(pi r / Rc) + 0.5

- angular term of centre i and neighbours j < k (both closer than Rca), in the block of the unordered
  species pair (s_j, s_k), with theta = acos(0.95 cos(angle jik)) (0.95 keeps acos differentiable)::

      2 ((1 + cos(theta - ShfZ)) / 2)^Zeta exp(-EtaA ((r_ij + r_ik) / 2 - ShfA)^2) fc(r_ij, Rca) fc(r_ik, Rca)

Sub-AEV index orders: radial (EtaR, ShfR), angular (EtaA, Zeta, ShfA, ShfZ), the last varying fastest.

``full_neighbors`` turns the half list into per-atom lists of (neighbour, vector, distance), neighbours
within Rca first; ``aev_forward`` fills the AEVs row by row (no write conflicts); ``aev_backward`` takes
g = dE/dAEV and adds forces -dE/dr and the virial, recomputing each term's derivative instead of storing
the (N, L, N, 3) Jacobian. Excluded atoms have species -1: they neither get an AEV nor appear in one.
"""
import numpy as np

from cython.parallel cimport prange, threadid
from libc.math cimport cos, exp, pi, pow, sin, sqrt

from mdlearn._kernels._common cimport image_shifts


def full_neighbors(const double[:, ::1] x, const double[::1] box, const int[::1] species, const int[::1] rows,
                   const long[::1] start, const int[::1] nbr, const unsigned char[::1] codes,
                   double rcr, double rca):
    """Per-atom neighbour lists from a half list: pairs of included atoms closer than ``rcr``.

    Returns ``(nstart (N+1,), nang (N,), index (P,), vec (P, 3), dist (P,))``: atom i's neighbours are
    entries ``nstart[i]:nstart[i+1]``, the first ``nang[i]`` of them closer than ``rca``; ``vec`` is
    r_j - r_i (with the periodic image), in length units.
    """
    cdef Py_ssize_t n = x.shape[0], nrows = rows.shape[0]
    cdef double shifts[27 * 3]
    image_shifts(shifts, box)
    cdef double rcr2 = rcr * rcr, rca2 = rca * rca
    cdef Py_ssize_t k, p, i, j, q
    cdef double dx, dy, dz, r2
    cnt_np = np.zeros(n, dtype=np.intp)
    ang_np = np.zeros(n, dtype=np.intp)
    cdef Py_ssize_t[::1] cnt = cnt_np
    cdef Py_ssize_t[::1] nang = ang_np
    with nogil:
        for k in range(nrows):
            i = rows[k]
            if species[i] < 0:
                continue
            for p in range(start[k], start[k + 1]):
                j = nbr[p]
                if species[j] < 0:
                    continue
                dx = x[j, 0] + shifts[3 * codes[p]] - x[i, 0]
                dy = x[j, 1] + shifts[3 * codes[p] + 1] - x[i, 1]
                dz = x[j, 2] + shifts[3 * codes[p] + 2] - x[i, 2]
                r2 = dx * dx + dy * dy + dz * dz
                if r2 < rcr2:
                    cnt[i] += 1
                    cnt[j] += 1
                    if r2 < rca2:
                        nang[i] += 1
                        nang[j] += 1
    nstart_np = np.zeros(n + 1, dtype=np.intp)
    np.cumsum(cnt_np, out=nstart_np[1:])
    cdef Py_ssize_t total = nstart_np[n]
    index_np = np.empty(total, dtype=np.intc)
    vec_np = np.empty((total, 3))
    dist_np = np.empty(total)
    cdef Py_ssize_t[::1] nstart = nstart_np
    cdef int[::1] index = index_np
    cdef double[:, ::1] vec = vec_np
    cdef double[::1] dist = dist_np
    # fill pointers: near neighbours from the front, far ones from the end of the angular block
    head_np = nstart_np[:n].copy()
    tail_np = nstart_np[:n] + ang_np
    cdef Py_ssize_t[::1] head = head_np
    cdef Py_ssize_t[::1] tail = tail_np
    cdef double r
    with nogil:
        for k in range(nrows):
            i = rows[k]
            if species[i] < 0:
                continue
            for p in range(start[k], start[k + 1]):
                j = nbr[p]
                if species[j] < 0:
                    continue
                dx = x[j, 0] + shifts[3 * codes[p]] - x[i, 0]
                dy = x[j, 1] + shifts[3 * codes[p] + 1] - x[i, 1]
                dz = x[j, 2] + shifts[3 * codes[p] + 2] - x[i, 2]
                r2 = dx * dx + dy * dy + dz * dz
                if r2 >= rcr2:
                    continue
                r = sqrt(r2)
                if r2 < rca2:
                    q = head[i]
                    head[i] += 1
                else:
                    q = tail[i]
                    tail[i] += 1
                index[q] = <int>j
                vec[q, 0] = dx
                vec[q, 1] = dy
                vec[q, 2] = dz
                dist[q] = r
                if r2 < rca2:
                    q = head[j]
                    head[j] += 1
                else:
                    q = tail[j]
                    tail[j] += 1
                index[q] = <int>i
                vec[q, 0] = -dx
                vec[q, 1] = -dy
                vec[q, 2] = -dz
                dist[q] = r
    return nstart_np, ang_np, index_np, vec_np, dist_np


cdef enum:
    MAXSUB = 256  # most (zeta, ShfZ) or (EtaA, ShfA) combinations the stack buffers hold


cdef inline double _pow(double x, double e) noexcept nogil:
    """x**e; by squaring when e is a small non-negative integer (Zeta = 32 in ANI: 5 products, not pow)."""
    cdef int n = <int>e
    cdef double r = 1.0
    if n != e or n < 0 or n > 1024:
        return pow(x, e)
    while n:
        if n & 1:
            r *= x
        x *= x
        n >>= 1
    return r


cdef inline double _fc(double r, double rc) noexcept nogil:
    return 0.5 * cos(pi * r / rc) + 0.5


cdef inline double _dfc(double r, double rc) noexcept nogil:
    return -0.5 * pi / rc * sin(pi * r / rc)


cdef struct Params:
    double rcr
    double rca
    int nspecies
    int n_etar
    int n_shfr
    int n_etaa
    int n_zeta
    int n_shfa
    int n_shfz
    int radial_sub       # n_etar * n_shfr
    int angular_sub      # n_etaa * n_zeta * n_shfa * n_shfz
    int radial_length    # nspecies * radial_sub
    const double* etar
    const double* shfr
    const double* etaa
    const double* zeta
    const double* shfa
    const double* cos_shfz
    const double* sin_shfz
    const int* pair_block  # nspecies x nspecies -> index of the unordered species pair


cdef Params _params(int nspecies, const double[::1] etar, const double[::1] shfr, const double[::1] etaa,
                    const double[::1] zeta, const double[::1] shfa, const double[::1] cos_shfz,
                    const double[::1] sin_shfz, const int[:, ::1] pair_block, double rcr, double rca):
    cdef Params p
    p.rcr = rcr
    p.rca = rca
    p.nspecies = nspecies
    p.n_etar = etar.shape[0]
    p.n_shfr = shfr.shape[0]
    p.n_etaa = etaa.shape[0]
    p.n_zeta = zeta.shape[0]
    p.n_shfa = shfa.shape[0]
    p.n_shfz = cos_shfz.shape[0]
    p.radial_sub = p.n_etar * p.n_shfr
    p.angular_sub = p.n_etaa * p.n_zeta * p.n_shfa * p.n_shfz
    p.radial_length = nspecies * p.radial_sub
    p.etar = &etar[0]
    p.shfr = &shfr[0]
    p.etaa = &etaa[0]
    p.zeta = &zeta[0]
    p.shfa = &shfa[0]
    p.cos_shfz = &cos_shfz[0]
    p.sin_shfz = &sin_shfz[0]
    p.pair_block = &pair_block[0, 0]
    if p.n_zeta * p.n_shfz > MAXSUB or p.n_etaa * p.n_shfa > MAXSUB:
        raise ValueError(f"at most {MAXSUB} (zeta, angle section) and (eta, shift) combinations are supported")
    return p


cdef void _forward_atom(Py_ssize_t i, const Params* p, const int* species, const Py_ssize_t* nstart,
                        const Py_ssize_t* nang, const int* index, const double* vec, const double* dist,
                        double* out) noexcept nogil:
    cdef Py_ssize_t a, b, e, s, z, t, base, lo = nstart[i], na = nang[i]
    cdef double r, fc, gauss, ra, rb, c, cost, sint, fab, ravg, d, f1
    cdef double* row
    for a in range(lo, nstart[i + 1]):
        r = dist[a]
        fc = 0.25 * _fc(r, p.rcr)
        row = out + species[index[a]] * p.radial_sub
        for e in range(p.n_etar):
            for s in range(p.n_shfr):
                d = r - p.shfr[s]
                row[e * p.n_shfr + s] += exp(-p.etar[e] * d * d) * fc
    cdef double f1s[MAXSUB]
    cdef double f2s[MAXSUB]
    for a in range(lo, lo + na):
        ra = dist[a]
        for b in range(a + 1, lo + na):
            rb = dist[b]
            c = (vec[3 * a] * vec[3 * b] + vec[3 * a + 1] * vec[3 * b + 1] + vec[3 * a + 2] * vec[3 * b + 2])
            c = c / (ra * rb)
            cost = 0.95 * c
            sint = sqrt(1.0 - cost * cost)
            fab = 2.0 * _fc(ra, p.rca) * _fc(rb, p.rca)
            ravg = 0.5 * (ra + rb)
            for z in range(p.n_zeta):
                for base in range(p.n_shfz):
                    f1 = 0.5 * (1.0 + cost * p.cos_shfz[base] + sint * p.sin_shfz[base])
                    f1s[z * p.n_shfz + base] = _pow(f1, p.zeta[z])
            for e in range(p.n_etaa):
                for s in range(p.n_shfa):
                    d = ravg - p.shfa[s]
                    f2s[e * p.n_shfa + s] = exp(-p.etaa[e] * d * d) * fab
            row = out + p.radial_length + p.pair_block[species[index[a]] * p.nspecies + species[index[b]]] \
                * p.angular_sub
            t = 0
            for e in range(p.n_etaa):
                for z in range(p.n_zeta):
                    for s in range(p.n_shfa):
                        gauss = f2s[e * p.n_shfa + s]
                        for base in range(p.n_shfz):
                            row[t] += f1s[z * p.n_shfz + base] * gauss
                            t += 1


def aev_forward(const int[::1] species, const Py_ssize_t[::1] nstart, const Py_ssize_t[::1] nang,
                const int[::1] index, const double[:, ::1] vec, const double[::1] dist,
                const double[::1] etar, const double[::1] shfr, const double[::1] etaa, const double[::1] zeta,
                const double[::1] shfa, const double[::1] shfz, const int[:, ::1] pair_block,
                double rcr, double rca, double[:, ::1] out, int nthreads):
    """Fill ``out`` (N, L), zeroed by the caller, with the AEVs of the atoms whose species is >= 0."""
    cos_np = np.cos(np.asarray(shfz))
    sin_np = np.sin(np.asarray(shfz))
    cdef double[::1] cs = cos_np
    cdef double[::1] sn = sin_np
    cdef Params p = _params(pair_block.shape[0], etar, shfr, etaa, zeta, shfa, cs, sn, pair_block, rcr, rca)
    cdef Py_ssize_t i, n = species.shape[0], length = out.shape[1]
    if length != p.radial_length + pair_block[p.nspecies - 1, p.nspecies - 1] * p.angular_sub + p.angular_sub:
        raise ValueError(f"AEV buffer has {length} columns, the parameters give another length")
    if n == 0:
        return
    cdef const double* pv = &vec[0, 0] if vec.shape[0] > 0 else NULL
    cdef const double* pd = &dist[0] if dist.shape[0] > 0 else NULL
    cdef const int* pi_ = &index[0] if index.shape[0] > 0 else NULL
    with nogil:
        for i in prange(n, num_threads=nthreads, schedule="dynamic", chunksize=16):
            if species[i] >= 0:
                _forward_atom(i, &p, &species[0], &nstart[0], &nang[0], pi_, pv, pd, &out[i, 0])


cdef void _backward_atom(Py_ssize_t i, const Params* p, const int* species, const Py_ssize_t* nstart,
                         const Py_ssize_t* nang, const int* index, const double* vec, const double* dist,
                         const double* g, Py_ssize_t gstride, int nsets, Py_ssize_t n, double* f, double* vir,
                         double* work) noexcept nogil:
    """Add -dE/dr of atom i's AEV terms into f (nsets, N, 3) and the virial into vir (nsets, 8).

    ``g`` points at g[0, i, 0] of the (nsets, N, L) gradient; ``work`` holds 3 * nsets doubles.
    """
    cdef Py_ssize_t a, b, e, s, z, t, base, m, j, k, lo = nstart[i], na = nang[i]
    cdef double r, fc, dfc, d, ex, dv, ra, rb, c, cost, sint, dsint, fa, fb, dfa, dfb, ravg, gauss, dgauss
    cdef double f1, pw, dpw, ux, uy, uz, wx, wy, wz, dra, drb, dc, gx, gy, gz, hx, hy, hz
    cdef const double* grow
    cdef double* fm
    cdef double* vm
    cdef double* sq = work             # per set: sum g * value        (for the fc derivatives)
    cdef double* sc = work + nsets     # per set: sum g * d value / d cos
    cdef double* sr = work + 2 * nsets  # per set: sum g * d value / d ravg
    cdef double f1s[MAXSUB]
    cdef double df1s[MAXSUB]
    cdef double f2s[MAXSUB]
    cdef double df2s[MAXSUB]
    for a in range(lo, nstart[i + 1]):
        r = dist[a]
        j = index[a]
        fc = 0.25 * _fc(r, p.rcr)
        dfc = 0.25 * _dfc(r, p.rcr)
        for m in range(nsets):
            sq[m] = 0.0
        for e in range(p.n_etar):
            for s in range(p.n_shfr):
                d = r - p.shfr[s]
                ex = exp(-p.etar[e] * d * d)
                dv = ex * (dfc - 2.0 * p.etar[e] * d * fc)
                t = species[j] * p.radial_sub + e * p.n_shfr + s
                for m in range(nsets):
                    sq[m] += g[m * gstride + t] * dv
        ux = vec[3 * a] / r
        uy = vec[3 * a + 1] / r
        uz = vec[3 * a + 2] / r
        for m in range(nsets):
            # dE/d(vec) = sq * u; the force on j is -that, on i +that
            fm = f + m * 3 * n
            gx = sq[m] * ux
            gy = sq[m] * uy
            gz = sq[m] * uz
            fm[3 * i] += gx
            fm[3 * i + 1] += gy
            fm[3 * i + 2] += gz
            fm[3 * j] -= gx
            fm[3 * j + 1] -= gy
            fm[3 * j + 2] -= gz
            vm = vir + 8 * m
            vm[0] -= vec[3 * a] * gx
            vm[1] -= vec[3 * a + 1] * gy
            vm[2] -= vec[3 * a + 2] * gz
            vm[3] -= vec[3 * a] * gy
            vm[4] -= vec[3 * a] * gz
            vm[5] -= vec[3 * a + 1] * gz
    for a in range(lo, lo + na):
        ra = dist[a]
        j = index[a]
        fa = _fc(ra, p.rca)
        dfa = _dfc(ra, p.rca)
        for b in range(a + 1, lo + na):
            rb = dist[b]
            k = index[b]
            fb = _fc(rb, p.rca)
            dfb = _dfc(rb, p.rca)
            c = (vec[3 * a] * vec[3 * b] + vec[3 * a + 1] * vec[3 * b + 1] + vec[3 * a + 2] * vec[3 * b + 2])
            c = c / (ra * rb)
            cost = 0.95 * c
            sint = sqrt(1.0 - cost * cost)
            dsint = -0.95 * cost / sint  # d sin(theta) / dc
            ravg = 0.5 * (ra + rb)
            grow = g + p.radial_length + p.pair_block[species[j] * p.nspecies + species[k]] * p.angular_sub
            for z in range(p.n_zeta):
                for base in range(p.n_shfz):
                    f1 = 0.5 * (1.0 + cost * p.cos_shfz[base] + sint * p.sin_shfz[base])
                    pw = _pow(f1, p.zeta[z] - 1.0)
                    t = z * p.n_shfz + base
                    df1s[t] = p.zeta[z] * pw * 0.5 * (0.95 * p.cos_shfz[base] + dsint * p.sin_shfz[base])
                    f1s[t] = pw * f1
            for e in range(p.n_etaa):
                for s in range(p.n_shfa):
                    d = ravg - p.shfa[s]
                    gauss = 2.0 * exp(-p.etaa[e] * d * d)
                    f2s[e * p.n_shfa + s] = gauss
                    df2s[e * p.n_shfa + s] = -2.0 * p.etaa[e] * d * gauss
            for m in range(3 * nsets):
                work[m] = 0.0
            t = 0
            for e in range(p.n_etaa):
                for z in range(p.n_zeta):
                    for s in range(p.n_shfa):
                        gauss = f2s[e * p.n_shfa + s]
                        dgauss = df2s[e * p.n_shfa + s]
                        for base in range(p.n_shfz):
                            pw = f1s[z * p.n_shfz + base]
                            dpw = df1s[z * p.n_shfz + base]
                            for m in range(nsets):
                                dv = grow[m * gstride + t]
                                sq[m] += dv * pw * gauss
                                sc[m] += dv * dpw * gauss
                                sr[m] += dv * pw * dgauss
                            t += 1
            for m in range(nsets):
                dra = sq[m] * dfa * fb + 0.5 * sr[m] * fa * fb
                drb = sq[m] * fa * dfb + 0.5 * sr[m] * fa * fb
                dc = sc[m] * fa * fb
                # dE/d(vec_a) = dra a/ra + dc (b/(ra rb) - c a/ra^2), and symmetrically for vec_b
                ux = vec[3 * a] / ra
                uy = vec[3 * a + 1] / ra
                uz = vec[3 * a + 2] / ra
                wx = vec[3 * b] / rb
                wy = vec[3 * b + 1] / rb
                wz = vec[3 * b + 2] / rb
                gx = dra * ux + dc * (wx - c * ux) / ra
                gy = dra * uy + dc * (wy - c * uy) / ra
                gz = dra * uz + dc * (wz - c * uz) / ra
                hx = drb * wx + dc * (ux - c * wx) / rb
                hy = drb * wy + dc * (uy - c * wy) / rb
                hz = drb * wz + dc * (uz - c * wz) / rb
                fm = f + m * 3 * n
                fm[3 * i] += gx + hx
                fm[3 * i + 1] += gy + hy
                fm[3 * i + 2] += gz + hz
                fm[3 * j] -= gx
                fm[3 * j + 1] -= gy
                fm[3 * j + 2] -= gz
                fm[3 * k] -= hx
                fm[3 * k + 1] -= hy
                fm[3 * k + 2] -= hz
                vm = vir + 8 * m
                vm[0] -= vec[3 * a] * gx + vec[3 * b] * hx
                vm[1] -= vec[3 * a + 1] * gy + vec[3 * b + 1] * hy
                vm[2] -= vec[3 * a + 2] * gz + vec[3 * b + 2] * hz
                vm[3] -= vec[3 * a] * gy + vec[3 * b] * hy
                vm[4] -= vec[3 * a] * gz + vec[3 * b] * hz
                vm[5] -= vec[3 * a + 1] * gz + vec[3 * b + 1] * hz


def aev_backward(const int[::1] species, const Py_ssize_t[::1] nstart, const Py_ssize_t[::1] nang,
                 const int[::1] index, const double[:, ::1] vec, const double[::1] dist,
                 const double[::1] etar, const double[::1] shfr, const double[::1] etaa, const double[::1] zeta,
                 const double[::1] shfa, const double[::1] shfz, const int[:, ::1] pair_block,
                 double rcr, double rca, const double[:, :, ::1] g, double[:, :, ::1] forces, double[:, ::1] virial,
                 int nthreads):
    """Add -d(sum g[m] * AEV)/dr into ``forces[m]`` (nsets, N, 3) and the virial
    ``W_ab = -sum_pairs d_a dE/dd_b`` (xx, yy, zz, xy, xz, yz) into ``virial[m]`` (nsets, 6).

    Every thread adds into its own buffers, summed in thread order afterwards (deterministic for a given
    thread count).
    """
    cos_np = np.cos(np.asarray(shfz))
    sin_np = np.sin(np.asarray(shfz))
    cdef double[::1] cs = cos_np
    cdef double[::1] sn = sin_np
    cdef Params p = _params(pair_block.shape[0], etar, shfr, etaa, zeta, shfa, cs, sn, pair_block, rcr, rca)
    cdef int nsets = g.shape[0]
    cdef Py_ssize_t n = species.shape[0], length = g.shape[2]
    if forces.shape[0] != nsets or forces.shape[1] != n or virial.shape[0] != nsets:
        raise ValueError("forces must be (nsets, N, 3) and virial (nsets, 6) with nsets = g.shape[0]")
    if n == 0:
        return
    nthreads = max(1, nthreads)
    fbuf_np = np.zeros((nthreads, nsets, n, 3))
    vbuf_np = np.zeros((nthreads, nsets, 8))
    work_np = np.zeros((nthreads, 3 * nsets + 8))
    cdef double[:, :, :, ::1] fbuf = fbuf_np
    cdef double[:, :, ::1] vbuf = vbuf_np
    cdef double[:, ::1] work = work_np
    cdef const double* pv = &vec[0, 0] if vec.shape[0] > 0 else NULL
    cdef const double* pd = &dist[0] if dist.shape[0] > 0 else NULL
    cdef const int* pi_ = &index[0] if index.shape[0] > 0 else NULL
    cdef Py_ssize_t i, q
    cdef int t, m, a
    with nogil:
        for i in prange(n, num_threads=nthreads, schedule="dynamic", chunksize=16):
            if species[i] >= 0:
                t = threadid()
                _backward_atom(i, &p, &species[0], &nstart[0], &nang[0], pi_, pv, pd, &g[0, i, 0], n * length,
                               nsets, n, &fbuf[t, 0, 0, 0], &vbuf[t, 0, 0], &work[t, 0])
        for m in range(nsets):
            for q in prange(n, num_threads=nthreads, schedule="static"):
                for t in range(nthreads):
                    forces[m, q, 0] += fbuf[t, m, q, 0]
                    forces[m, q, 1] += fbuf[t, m, q, 1]
                    forces[m, q, 2] += fbuf[t, m, q, 2]
            for t in range(nthreads):
                for a in range(6):
                    virial[m, a] += vbuf[t, m, a]
