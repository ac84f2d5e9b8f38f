# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Histograms of atom coordinates per species for the density profiles (``mdlearn.analysis.profiles``).

Bins follow ``numpy.histogram`` with an edge array: bin k holds ``edges[k] <= x < edges[k + 1]``, the last bin
also ``x == edges[-1]``; values outside (and NaN) are not counted. The edges are uniform, so a bin is guessed
from the width and then checked against the edges themselves (the guess can be one off by rounding).
Serial: a profile sample is a few dozen to a few thousand atoms, less than a thread start-up.
"""
from libc.math cimport floor, nearbyint, sqrt


cdef inline void _count(double x, int s, const double[::1] edges, double inv_width,
                        long[:, ::1] counts) noexcept nogil:
    cdef Py_ssize_t nb = edges.shape[0] - 1
    cdef Py_ssize_t k
    if not (x >= edges[0] and x <= edges[nb]):
        return
    k = <Py_ssize_t>floor((x - edges[0]) * inv_width)
    if k > nb - 1:
        k = nb - 1
    while k > 0 and x < edges[k]:
        k -= 1
    while k < nb - 1 and x >= edges[k + 1]:
        k += 1
    counts[s, k] += 1


def radial_counts(const double[:, ::1] positions, const double[::1] center, const double[::1] box,
                  const unsigned char[::1] periodic, const int[::1] types, const int[::1] slot,
                  const double[::1] edges, long[:, ::1] counts):
    """Add to ``counts[slot[types[i]], k]`` the bin k of each atom's distance from ``center`` (nearest
    periodic image along axes with ``periodic[a]``); atoms whose ``slot`` is negative are skipped."""
    cdef Py_ssize_t i, a, n = positions.shape[0]
    cdef int s
    cdef double d, r2
    cdef double inv_width = (edges.shape[0] - 1) / (edges[edges.shape[0] - 1] - edges[0])
    with nogil:
        for i in range(n):
            s = slot[types[i]]
            if s < 0:
                continue
            r2 = 0.0
            for a in range(3):
                d = positions[i, a] - center[a]
                if periodic[a]:
                    d -= box[a] * nearbyint(d / box[a])
                r2 += d * d
            _count(sqrt(r2), s, edges, inv_width, counts)


def axis_counts(const double[:, ::1] positions, int axis, const int[::1] types, const int[::1] slot,
                const double[::1] edges, long[:, ::1] counts):
    """Add to ``counts[slot[types[i]], k]`` the bin k of each atom's coordinate along ``axis``."""
    cdef Py_ssize_t i, n = positions.shape[0]
    cdef int s
    cdef double inv_width = (edges.shape[0] - 1) / (edges[edges.shape[0] - 1] - edges[0])
    with nogil:
        for i in range(n):
            s = slot[types[i]]
            if s >= 0:
                _count(positions[i, axis], s, edges, inv_width, counts)
