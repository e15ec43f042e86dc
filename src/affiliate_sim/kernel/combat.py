"""Lanchester-type attrition between hostile forces in the same or adjacent cells.

A defender ``v`` in cell ``c`` facing attacker ``k`` suffers the per-fighter hazard

    h[v, k, c] = combat_rate * engage[k, v] * P[k, c] * t(c) / (F[v, c] + K[v, c])

where ``P[k, c]`` is k's effective force reaching ``c`` (its own cell and a share of the
neighbours, times effectiveness), ``t(c)`` the protection of the terrain and ``K[v, c]`` the
defender's concealment. Losses ``F * h`` then follow the square law (aimed fire, ``~ P``)
when the defender is large against its concealment, and the linear law (area fire,
``~ P * F / K``) when it is small and hidden: the defender's side of the
guerrilla-versus-conventional asymmetry. On the attacker's side, a conventional force
hunting guerrillas finds them ``conventional_search`` times as well as a guerrilla force
would (:func:`search_engagement`).
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.kernel.grid import spread


def effectiveness(quality, cohesion, offensive, fortune, p) -> np.ndarray:
    """``(R, O)`` combat effectiveness multiplier of each organization today."""
    sd = p["fortune_sd"][:, None]
    luck = np.exp(sd * fortune - 0.5 * sd * sd)  # lognormal with mean 1
    boost = 1.0 + (p["offensive_power"][:, None] - 1.0) * offensive
    return quality * (0.5 + 0.5 * cohesion) * boost * luck


def pressure(fighters: np.ndarray, eff: np.ndarray, p) -> tuple[np.ndarray, np.ndarray]:
    """Reach and effective pressure of each organization on each cell.

    Returns:
        reach ``(R, O, H, W)`` fighters bearing on each cell, and pressure
        ``(R, O, H, W)`` = reach times effectiveness.
    """
    reach = spread(fighters, p["adjacent_reach"][:, None, None, None])
    return reach, reach * eff[:, :, None, None]


def exposure_factor(fighters, conceal_cells, protect) -> np.ndarray:
    """``(R, O, H, W)`` ``t(c) / (F + K)``: the defender-side factor of the hazard."""
    return protect[:, None] / (fighters + conceal_cells + 1e-12)


def search_engagement(engage, conventional, p) -> np.ndarray:
    """``(R, O, O)`` engagement ``[k, v]`` times k's skill at finding v.

    A conventional attacker hunting a guerrilla defender is ``conventional_search`` as
    effective as a guerrilla attacker would be; every other pairing is fully effective.
    """
    conv = conventional.astype(float)
    hunt = conv[:, :, None] * (1.0 - conv[:, None, :])  # conventional k, guerrilla v
    return engage * (1.0 - (1.0 - p["conventional_search"][:, None, None]) * hunt)


def combat_hazard(engage, press, expo, p) -> np.ndarray:
    """``(R, O, H, W)`` total combat hazard on each organization's fighters in each cell."""
    R, O, H, W = press.shape
    incoming = np.matmul(engage.transpose(0, 2, 1), press.reshape(R, O, H * W))
    return p["combat_rate"][:, None, None, None] * expo * incoming.reshape(R, O, H, W)
