"""Mechanism 1: defection by pledge (bayat).

"The Islamic State has succeeded in persuading rank-and-file militants and even occasionally
entire jihadist groups to defect to its ranks": a whole group (the IMU), a faction speaking
for the whole group (Sahraoui for al-Murabitun), or "foot soldiers and mid-level commanders"
one by one (Somalia) (Gartenstein-Ross and Barr 2016).

Kernel side: latent sympathizers defect to an organization they favour when it is within
reach (``access``); loyal fighters of a losing, incohesive group bandwagon to a stronger
one. Decide side: where sympathizers favour to go (``sympathizer_pull``), whom loyal
fighters follow (``loyal_pull``), and when a whole group pledges (``group_pledges``).
"""

from __future__ import annotations

import numpy as np


def access(reach: np.ndarray, p) -> np.ndarray:
    """``(R, O, H, W)`` share of would-be defectors in a cell who can reach each group."""
    half = p["defection_reach"][:, None, None, None]
    return reach / (reach + half)


def sympathizer_pull(camp, kind, parent, active, momentum, dissident_of, is_camp) -> np.ndarray:
    """``(O, O)`` where each organization's latent sympathizers would go.

    Sympathizers of an IS affiliate that has a dissident faction lean towards it (their
    sympathy is with the dissidents, not the rival camp); sympathizers in any other armed
    group lean towards the IS camp's organizations, the more the better their momentum.
    Rows sum to one or are zero (nowhere to go).
    """
    O = len(camp)
    pull = np.zeros((O, O))
    for v in range(O):
        d = dissident_of[v]
        if d >= 0:
            pull[v, d] = 1.0
            continue
        if camp[v] == is_camp:
            continue
        dest = [j for j in range(O) if j != v and active[j] and camp[j] == is_camp
                and kind[j] != 0]  # not the IS core (it has no fighters here)
        if dest:
            w = np.array([1.0 + max(momentum[j], 0.0) for j in dest])
            pull[v, dest] = w / w.sum()
    return pull


def loyal_pull(camp, parent_of, origin, active, momentum, cohesion, hostile) -> np.ndarray:
    """``(O, O)`` bandwagoning of loyal fighters of a losing, incohesive group.

    Fighters of a group in decline (negative momentum) and low cohesion drift to their
    former parent (the loyalists of the group they split from) or to a non-hostile group of
    their camp that is doing better. The pull is ``(1 - cohesion) * decline``.
    """
    O = len(camp)
    pull = np.zeros((O, O))
    for v in range(O):
        decline = max(-momentum[v], 0.0)
        if not active[v] or decline <= 0:
            continue
        dest = []
        if origin[v] >= 0 and active[origin[v]]:
            dest.append(origin[v])
        dest += [j for j in range(O) if j != v and active[j] and camp[j] == camp[v]
                 and not hostile[v, j] and momentum[j] > momentum[v] and j not in dest
                 and parent_of[j] != v]
        if dest:
            pull[v, dest] = (1.0 - cohesion[v]) * decline / len(dest)
    return pull


def group_pledges(sym_share: np.ndarray, camp, is_camp, state_camp, p_majority) -> np.ndarray:
    """``(O,)`` bool: non-IS armed groups whose sympathizers are now the majority."""
    return (sym_share >= p_majority) & (camp != is_camp) & (camp != state_camp)
