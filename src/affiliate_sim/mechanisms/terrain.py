"""Mechanism 10: remoteness and terrain.

"Many of the group's defeats have taken place in far-flung and dangerous areas"; Algeria's
fighting is in "the mountains of northeastern Algeria"; "Puntland is geographically removed
from al-Shabaab's largest strongholds" (Gartenstein-Ross and Barr 2016).

Ruggedness and population conceal guerrillas and protect every defender; remoteness
shields a cell from the reach of raids and purges; a retreating force seeks cover.
"""

from __future__ import annotations

import numpy as np


def concealment(conceal: np.ndarray, layers, p) -> np.ndarray:
    """``(R, O, H, W)`` concealment ``K`` of each organization in each cell (fighters).

    ``K = conceal * (1 + terrain_conceal * terrain + population_conceal * population)``;
    a conventional force has a small ``conceal`` and gains little.
    """
    tc = p["terrain_conceal"][:, None, None]
    pc = p["population_conceal"][:, None, None]
    factor = 1.0 + tc * layers.terrain + pc * layers.population
    return conceal[:, :, None, None] * factor[:, None]


def protection(layers, p) -> np.ndarray:
    """``(R, H, W)`` multiplier in (0, 1] on every combat hazard: rugged ground protects."""
    return 1.0 / (1.0 + p["terrain_protection"][:, None, None] * layers.terrain)


def reach(layers, p) -> np.ndarray:
    """``(R, H, W)`` share of raid and purge reach left in each cell (remote cells less)."""
    return 1.0 - p["remoteness_shield"][:, None, None] * layers.remoteness


def cover(layers) -> np.ndarray:
    """``(R, H, W)`` what a retreating force seeks: ruggedness and remoteness."""
    return layers.terrain + layers.remoteness
