"""Stencil operations on ``(..., H, W)`` arrays (non-periodic grid, von Neumann neighbours)."""

from __future__ import annotations

import numpy as np

#: Fighters an organization needs in a cell, and more than anyone else, to hold it.
HOLD_MIN = 1.0

#: The four neighbour directions as (row offset, column offset).
DIRECTIONS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))


def spread(x: np.ndarray, share: np.ndarray | float) -> np.ndarray:
    """A force's reach: itself plus ``share`` of each neighbour's.

    Args:
        x: ``(..., H, W)`` values.
        share: broadcastable to ``x`` without the grid axes plus two singleton axes.

    Returns:
        ``out[i, j] = x[i, j] + share * (x[i-1, j] + x[i+1, j] + x[i, j-1] + x[i, j+1])``
        with cells outside the grid counting as zero.
    """
    nb = np.zeros_like(x)
    nb[..., 1:, :] += x[..., :-1, :]
    nb[..., :-1, :] += x[..., 1:, :]
    nb[..., :, 1:] += x[..., :, :-1]
    nb[..., :, :-1] += x[..., :, 1:]
    nb *= share
    nb += x
    return nb


def neighbour_view(x: np.ndarray, d: tuple[int, int], fill: float) -> np.ndarray:
    """``out[i, j] = x[i + di, j + dj]``, ``fill`` where that cell is off the grid."""
    di, dj = d
    out = np.full_like(x, fill)
    H, W = x.shape[-2:]
    src_r = slice(max(di, 0), H + min(di, 0))
    dst_r = slice(max(-di, 0), H + min(-di, 0))
    src_c = slice(max(dj, 0), W + min(dj, 0))
    dst_c = slice(max(-dj, 0), W + min(-dj, 0))
    out[..., dst_r, dst_c] = x[..., src_r, src_c]
    return out


def send(x: np.ndarray, d: tuple[int, int]) -> np.ndarray:
    """Move every value one cell in direction ``d``: ``out[i + di, j + dj] = x[i, j]``.

    Values that would leave the grid are dropped; callers give them zero weight.
    """
    return neighbour_view(x, (-d[0], -d[1]), 0.0)


def held(fighters: np.ndarray, hold_min: float = HOLD_MIN) -> np.ndarray:
    """Who holds each cell: ``(..., O, H, W)`` booleans, True where an organization has at
    least ``hold_min`` fighters and no fewer than anyone else there (ties: all of them).

    Args:
        fighters: ``(..., O, H, W)`` fighters per organization per cell.
        hold_min: fighters needed to hold a cell.
    """
    top = fighters.max(axis=-3, keepdims=True)
    return (fighters >= hold_min) & (fighters >= top) & (top > 0)
