"""Mechanism 5: coalition of local groups against an outsider.

"The Abu Salim Martyrs Brigade, a hardline Islamist militia with deep roots in the city,
immediately responded with a competing statement saying it would never pledge allegiance to
any power outside Libya"; "several militant factions ... announced the establishment of the
Derna Mujahedin Shura Council, which pointedly excluded the Islamic State"; after "IYSC
killed two leading members of the Council, including its leader, Salim Derbi ... the
Council [launched] a full-scale offensive" (Gartenstein-Ross and Barr 2016).

Local groups (deep roots) that share ground with an outsider pledged to a foreign power
(the IS camp, shallow roots) ally with each other and turn hostile to it, at a random time
(``coalition_rate``). The assassination of a leader (a scripted input) provokes a grudge in
the victim and every ally of it against the killer.
"""

from __future__ import annotations

import numpy as np


def is_local(roots, camp, state_camp, p) -> np.ndarray:
    """``(O,)`` bool: armed non-state groups with deep local roots."""
    return (roots >= p["coalition_roots"]) & (camp != state_camp)


def outsiders(roots, camp, is_camp, active, p) -> np.ndarray:
    """``(O,)`` bool: IS-camp groups with shallow local roots."""
    return (roots < p["outsider_roots"]) & (camp == is_camp) & active


def form(near: np.ndarray, roots, camp, active, allied, hostile, is_camp, state_camp,
         chance: np.ndarray, p) -> tuple[list[int], list[int]]:
    """Form a coalition of locals against outsiders sharing their ground.

    Locals facing an outsider come together at a random time: on a given day with
    probability ``1 - exp(-coalition_rate)``.

    Args:
        near: ``(O, O)`` ``[a, b]`` presence of b where a's fighters are (fighters).
        chance: ``(O,)`` uniforms in [0, 1), one per possible outsider.

    Returns:
        (members, outsiders) newly joined; relations are modified in place.
    """
    loc = np.nonzero(is_local(roots, camp, state_camp, p) & active & (camp != is_camp))[0]
    outs = np.nonzero(outsiders(roots, camp, is_camp, active, p))[0]
    members, targets = [], []
    for o in outs:
        facing = [a for a in loc if (near[a, o] > 0.5 or near[o, a] > 0.5)
                  and not allied[a, o]]  # a stated alliance holds
        if len(facing) < 2 or all(hostile[a, o] for a in facing):
            continue
        if chance[o] >= -np.expm1(-p["coalition_rate"]):
            continue
        new = False
        for a in facing:
            if not hostile[a, o]:
                hostile[a, o] = hostile[o, a] = True
                new = True
            for b in facing:
                if a != b and not allied[a, b]:
                    allied[a, b] = True
                    new = True
        if new:
            members += [a for a in facing if a not in members]
            targets.append(o)
    return members, targets


def provoke(victim: int, killer: int, allied, hostile, grudge, p) -> list[int]:
    """A coalition member's leader was killed by ``killer``: every member holds a grudge."""
    members = [victim] + list(np.nonzero(allied[victim])[0])
    for m in members:
        if m == killer:
            continue
        hostile[m, killer] = hostile[killer, m] = True
        grudge[m, killer] += p["provocation_grudge"]
    return members
