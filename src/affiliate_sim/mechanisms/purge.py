"""Mechanism 3: purge by an intelligence wing.

"Al-Shabaab has deployed its intelligence and security wing, the amniyat, to arrest or kill
Islamic State supporters"; "as many as 30 pro-Islamic State militants" detained; "Other
pro-Islamic State militants fled al-Shabaab-controlled territory"; two "turned themselves in
to Somali security forces to avoid the crackdown", preferring "to fall into the enemy's hands
instead of meeting death in the hands of brothers" (Gartenstein-Ross and Barr 2016).

Kernel side: a purge puts a hazard on the purging group's latent sympathizers (split into
killed and detained) and a fear that makes them flee, surrender to the state, or defect more
readily. Its reach shrinks in remote cells. Decide side: a group with an intelligence wing
purges once it suspects enough sympathizers.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms import terrain


def fear(purge_capacity, purge_effort, layers, p) -> np.ndarray:
    """``(R, O, H, W)`` fear of the purge among a group's sympathizers in each cell."""
    strength = purge_capacity * purge_effort * p["purge_capacity_scale"][:, None]
    return np.clip(strength, 0.0, None)[:, :, None, None] * terrain.reach(layers, p)[:, None]


def hazards(fear_cells, layers, has_receiver, p):
    """Per-sympathizer hazards from a purge.

    Returns:
        purge ``(R, O, H, W)`` caught by the wing; flee ``(R, O, H, W)``; surrender
        ``(R, O, H, W)`` to the state (zero where no state force receives them).
    """
    purge_h = p["purge_rate"][:, None, None, None] * fear_cells
    flee_h = p["flee_rate"][:, None, None, None] * fear_cells
    surr_h = (p["surrender_rate"][:, None, None, None] * fear_cells
              * layers.state_presence[:, None] * has_receiver[:, :, None, None])
    return purge_h, flee_h, surr_h


def decide(suspected_share: np.ndarray, capacity: np.ndarray, p) -> np.ndarray:
    """``(R, O)`` purge effort (0 or 1): purge where suspicion passes the trigger."""
    trig = p["purge_trigger"][:, None]
    return ((capacity > 0) & (suspected_share >= trig)).astype(float)
