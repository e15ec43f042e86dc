"""Mechanism 2: retaliation against defectors by the former ally or parent.

"Shortly after the IMU pledged allegiance to the Islamic State, the Taliban launched an
offensive against its erstwhile ally"; "Belmokhtar immediately issued a statement rejecting
this realignment, and then went on the offensive against Sahraoui"; "smaller contingents
that defect to the Islamic State often lack the strength to fend off retribution from the
organizations they've splintered from" (Gartenstein-Ross and Barr 2016).

When a group or faction pledges away, its former parent and allies of the old camp turn
hostile and hold a grudge (a parent more than an ally). The grudge raises the propensity to
attack (see :mod:`affiliate_sim.offensive`) and extends to allies who shelter the defector
(half of it, through ``shelter``). More generally, with this mechanism on, any attacker on
an offensive (a former ally, a coalition, a state) turns on the target's allies found with
it (``Organization.strike_shelterers``).
"""

from __future__ import annotations

import numpy as np

#: A parent's grudge relative to an ally's.
PARENT_FACTOR = 1.5


def on_pledge(pledger: int, old_camp: int, camp, parent_of, allied, hostile, grudge,
              p) -> list[int]:
    """Turn the pledger's former parent and allies of its old camp against it.

    Arrays are modified in place. Returns the organizations that turned hostile.
    """
    O = len(camp)
    turned = []
    for o in range(O):
        if o == pledger or camp[o] != old_camp:
            continue
        is_parent = parent_of[pledger] == o
        if not (is_parent or allied[o, pledger]):
            continue
        allied[o, pledger] = allied[pledger, o] = False
        hostile[o, pledger] = hostile[pledger, o] = True
        grudge[o, pledger] += p["betrayal_grudge"] * (PARENT_FACTOR if is_parent else 1.0)
        turned.append(o)
    return turned


def shelter(grudge: np.ndarray, allied: np.ndarray) -> np.ndarray:
    """``(O, O)`` grudge extended to those who shelter its target: half of it to allies."""
    extended = grudge.copy()
    O = grudge.shape[0]
    for holder in range(O):
        for target in range(O):
            if grudge[holder, target] > 0:
                for a in np.nonzero(allied[target])[0]:
                    if a != holder:
                        extended[holder, a] = max(extended[holder, a],
                                                  0.5 * grudge[holder, target])
    return extended


def decay(grudge: np.ndarray, p) -> None:
    """Grudges fade (in place)."""
    grudge *= np.exp(-p["grudge_decay"])
