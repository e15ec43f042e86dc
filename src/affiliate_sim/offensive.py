"""The offensive rule: whom an organization fights, and when it opens a full offensive.

Shared by every attacker (a former ally retaliating, a coalition provoked, a state on the
offensive). Every organization skirmishes with the hostile groups whose fighters are near
its own (``hostility_engagement``, raised by grudge). It opens a full offensive against a
hostile group when its side's strength near that group, times ``1 + grudge``, exceeds the
group's side's by ``offensive_threshold`` (the article: rivals with "a strong ground network
... an advantage"; the Taliban's "24 hours"), at a random time whose hazard grows with the
excess. A state must first find a group: it opens a full offensive only once its intelligence on
the group has reached ``raid_trigger`` (skirmishes and an offensive already under way are
not gated) (see :mod:`affiliate_sim.mechanisms.counterterrorism`). When an offensive ends, the attacker keeps
``GRUDGE_DISCHARGE`` of its grudge (revenge taken, in part) and regroups ``REGROUP_DAYS``. An offensive commits the attacker's whole effort against the target and those who
shelter it, and draws its fighters towards them; it ends when the target is gone from
reach, the grudge-weighted odds turn against the attacker (propensity below 1), or after
``offensive_max_days``.
"""

from __future__ import annotations

import math

import numpy as np

#: Radius (cells) over which forces count as "near" for the decision to attack.
NEAR_RADIUS = 3


def side_strength(target: int, side: np.ndarray, near: np.ndarray, power: np.ndarray) -> float:
    """Strength of the organizations in ``side`` near ``target``'s fighters."""
    return float((power[side] * near[target, side]).sum())


def force_ratio(attacker: int, target: int, allied, near, power) -> float:
    """Attacker's side over target's side, both measured where the target's fighters are."""
    att = np.zeros(len(power), dtype=bool)
    att[attacker] = True
    att |= allied[attacker] & (np.arange(len(power)) != target)
    dfn = np.zeros(len(power), dtype=bool)
    dfn[target] = True
    dfn |= allied[target]
    dfn[attacker] = False
    a = side_strength(target, att, near, power)
    d = side_strength(target, dfn, near, power)
    return a / d if d > 0 else (math.inf if a > 0 else 0.0)


def propensity(attacker, target, allied, near, power, grudge) -> float:
    """Force ratio times ``1 + grudge``."""
    return force_ratio(attacker, target, allied, near, power) * (1.0 + grudge[attacker, target])


def engagement_row(attacker: int, target: int, hostile, allied, near, grudge, p) -> np.ndarray:
    """``(O,)`` the attacker's effort against each organization today.

    On an offensive (``target >= 0``) the whole effort goes to the target and, in
    proportion to their presence, to its allies who shelter it. Otherwise each hostile
    group near the attacker's fighters draws ``hostility_engagement * (1 + grudge)``
    (at most 1) of effort, split by presence.
    """
    O = hostile.shape[0]
    row = np.zeros(O)
    if target >= 0:
        shelter = np.nonzero(allied[target] & hostile[attacker])[0]
        shelter = shelter[shelter != attacker]
        w = np.zeros(O)
        w[target] = max(near[attacker, target], near[target, target], 1e-9)
        w[shelter] = near[target, shelter]
        return w / w.sum()
    foes = np.nonzero(hostile[attacker])[0]
    foes = foes[foes != attacker]
    presence = near[attacker, foes]
    if presence.sum() <= 0:
        return row
    level = np.minimum(1.0, p["hostility_engagement"] * (1.0 + grudge[attacker, foes]))
    share = presence / presence.sum()
    row[foes] = level * share
    total = row.sum()
    return row / total if total > 1.0 else row
