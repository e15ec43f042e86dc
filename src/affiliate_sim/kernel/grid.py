"""Views over the grid: totals, who is near whom, who holds which cell, dominance.

Pure functions over ``(R, O, H, W)`` arrays (the grid is not a torus; neighbours are von
Neumann). The loops are compiled with numba and sum in a fixed order, so that a replicate's
values do not depend on how many replicates are computed with it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Fighters an organization needs in a cell, and more than anyone else, to hold it.
HOLD_MIN = 1.0


@njit(cache=True)
def totals(x):
    """``(R, O)`` sum of ``x`` ``(R, O, H, W)`` over the grid (row by row, in order)."""
    R, O, H, W = x.shape
    out = np.zeros((R, O))
    for r in range(R):
        for v in range(O):
            s = 0.0
            for i in range(H):
                for j in range(W):
                    s += x[r, v, i, j]
            out[r, v] = s
    return out


@njit(cache=True)
def near(fighters, total, radius):
    """``(R, O, O)`` ``[a, b]``: fighters of b within ``radius`` cells (Manhattan) of a's
    fighters, averaged over a's fighters (0 for an organization without fighters).

    The diamond around each cell is summed row by row from prefix sums of each row."""
    R, O, H, W = fighters.shape
    out = np.zeros((R, O, O))
    wide = np.zeros((O, H, W))
    prefix = np.zeros((H, W + 1))
    for r in range(R):
        for b in range(O):
            for i in range(H):
                s = 0.0
                for j in range(W):
                    s += fighters[r, b, i, j]
                    prefix[i, j + 1] = s
            for i in range(H):
                for j in range(W):
                    s = 0.0
                    for di in range(-radius, radius + 1):
                        ii = i + di
                        if ii < 0 or ii >= H:
                            continue
                        rest = radius - abs(di)
                        s += prefix[ii, min(j + rest + 1, W)] - prefix[ii, max(j - rest, 0)]
                    wide[b, i, j] = s
        for a in range(O):
            if total[r, a] <= 0:
                continue
            for b in range(O):
                s = 0.0
                for i in range(H):
                    for j in range(W):
                        s += fighters[r, a, i, j] * wide[b, i, j]
                out[r, a, b] = s / total[r, a]
    return out


@njit(cache=True)
def dominance(fighters, total):
    """``(R, O)`` fighter-weighted mean of each organization's share of all fighters in
    its cells."""
    R, O, H, W = fighters.shape
    out = np.zeros((R, O))
    for r in range(R):
        for i in range(H):
            for j in range(W):
                here = 0.0
                for v in range(O):
                    here += fighters[r, v, i, j]
                if here <= 0:
                    continue
                for v in range(O):
                    f = fighters[r, v, i, j]
                    if f > 0 and total[r, v] > 0:
                        out[r, v] += (f / total[r, v]) * (f / here)
    return out


@njit(cache=True)
def masked_sums(x, masks):
    """``(R, O, N)`` sum of ``x`` ``(R, O, H, W)`` over each of ``masks`` ``(N, H, W)``."""
    R, O, H, W = x.shape
    N = masks.shape[0]
    out = np.zeros((R, O, N))
    for r in range(R):
        for v in range(O):
            for n in range(N):
                s = 0.0
                for i in range(H):
                    for j in range(W):
                        if masks[n, i, j]:
                            s += x[r, v, i, j]
                out[r, v, n] = s
    return out


def held(fighters: np.ndarray, hold_min: float = HOLD_MIN) -> np.ndarray:
    """Who holds each cell: ``(..., O, H, W)`` booleans, True where an organization has at
    least ``hold_min`` fighters and no fewer than anyone else there (ties: all of them).

    Args:
        fighters: ``(..., O, H, W)`` fighters per organization per cell.
        hold_min: fighters needed to hold a cell.
    """
    top = fighters.max(axis=-3, keepdims=True)
    return (fighters >= hold_min) & (fighters >= top) & (top > 0)
