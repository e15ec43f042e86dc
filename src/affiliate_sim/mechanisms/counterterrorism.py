"""Mechanism 4: state counter-terrorism: raids, intelligence and decapitation.

"Hyper-vigilant security forces crushed its fledging affiliate"; the beheading of Hervé
Gourdel "placed themselves squarely in the crosshairs of Algeria's security forces"; "About
a month after Jund al-Khilafah's inception, Algerian security forces killed the group's
emir"; "In May 2015, Algerian soldiers killed at least 25 Islamic State militants in two
days of raids ... five of Jund al-Khilafah's six commanders dead" (Gartenstein-Ross and
Barr 2016).

Kernel side: the raid hazard, whose detection grows with the target's visibility and falls
with ruggedness and remoteness. Decide side: each state force accumulates intelligence on
each armed group (faster for visible groups and for a vigilant state), raids at a
background level, and launches short, intense raid operations once intelligence is high.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms import terrain

#: Leaders' exposure to battle relative to their fighters' (they lead from behind).
LEADER_COMBAT_EXPOSURE = 0.5
#: Days after a major raid operation starts before the same state can launch another on
#: the same group (the operation's aftermath: exploitation, new intelligence to gather).
OPERATION_REFRACTORY = 60


def raid_detection(visibility: np.ndarray, layers, p) -> np.ndarray:
    """``(R, O, H, W)`` raid hazard per unit raid intensity on each group in each cell.

    ``raid_rate * state_presence * remoteness reach * visibility / (1 + terrain_conceal *
    terrain)``.
    """
    cell = (p["raid_rate"][:, None, None] * layers.state_presence * terrain.reach(layers, p)
            / (1.0 + p["terrain_conceal"][:, None, None] * layers.terrain))
    return visibility[:, :, None, None] * cell[:, None]


def leader_hazard(raid_h, combat_h, fighters, p) -> np.ndarray:
    """``(R, O)`` hazard on a group's leaders: the fighter-weighted hazard around them.

    Raids hunt leaders (``leader_hit_rate`` times the raid hazard); in battle leaders face
    ``LEADER_COMBAT_EXPOSURE`` times the hazard of their men.
    """
    total = fighters.sum(axis=(2, 3))
    w = np.divide(fighters, total[:, :, None, None], out=np.zeros_like(fighters),
                  where=total[:, :, None, None] > 0)
    mean_raid = (w * raid_h).sum(axis=(2, 3))
    mean_combat = (w * combat_h).sum(axis=(2, 3))
    return p["leader_hit_rate"][:, None] * mean_raid + LEADER_COMBAT_EXPOSURE * mean_combat


def intel_step(intel, vigilance, visibility, is_state, armed, hostile, p) -> np.ndarray:
    """``(O, O)`` new intelligence ``[state, target]`` after one day, in [0, 1]."""
    gain = p["intel_gain"] * vigilance[:, None] * visibility[None, :]
    mask = is_state[:, None] & armed[None, :] & hostile
    new = intel + gain * (1.0 - intel) - p["intel_decay"] * intel
    return np.where(mask, np.clip(new, 0.0, 1.0), 0.0)


def operation_hazard(intel, p) -> np.ndarray:
    """``(O, O)`` hazard of launching a major raid operation."""
    return p["raid_operation_rate"] * np.clip(intel - p["raid_trigger"], 0.0, None)


def raid_intensity(vigilance, intel, operation_on, p) -> np.ndarray:
    """``(O, O)`` raid intensity ``[state, target]``: background plus operations."""
    background = vigilance[:, None] * (0.5 + intel)
    return background * np.where(operation_on, p["raid_operation_intensity"], 1.0)
