"""Binary min-heap of (cost, node) on two growing arrays, with lazy deletion (numba).

Shared by the build-time contraction and the engine's searches."""

from __future__ import annotations

import numpy as np

from .jit import Floats, Int64s, njit


@njit(cache=True, nogil=True)
def _push(hc: Floats, hn: Int64s, size: int, c: float, n: int) -> int:
    i = size
    hc[i] = c
    hn[i] = n
    while i > 0:
        p = (i - 1) >> 1
        if hc[p] <= hc[i]:
            break
        hc[p], hc[i] = hc[i], hc[p]
        hn[p], hn[i] = hn[i], hn[p]
        i = p
    return size + 1


@njit(cache=True, nogil=True)
def _pop(hc: Floats, hn: Int64s, size: int) -> tuple[float, int, int]:
    c = hc[0]
    n = hn[0]
    size -= 1
    if size > 0:
        hc[0] = hc[size]
        hn[0] = hn[size]
        i = 0
        while True:
            l = 2 * i + 1
            if l >= size:
                break
            m = l
            r = l + 1
            if r < size and hc[r] < hc[l]:
                m = r
            if hc[i] <= hc[m]:
                break
            hc[m], hc[i] = hc[i], hc[m]
            hn[m], hn[i] = hn[i], hn[m]
            i = m
    return c, n, size


@njit(cache=True, nogil=True)
def _grow(hc: Floats, hn: Int64s) -> tuple[Floats, Int64s]:
    nc = np.empty(len(hc) * 2, hc.dtype)
    nn = np.empty(len(hn) * 2, hn.dtype)
    nc[: len(hc)] = hc
    nn[: len(hn)] = hn
    return nc, nn
