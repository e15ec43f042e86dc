"""Mechanism 1: defection by pledge (bayat).

"The Islamic State has succeeded in persuading rank-and-file militants and even occasionally
entire jihadist groups to defect to its ranks": a whole group (the IMU), a faction speaking
for the whole group (Sahraoui for al-Murabitun), or "foot soldiers and mid-level commanders"
one by one (Somalia) (Gartenstein-Ross and Barr 2016).

Kernel side: latent sympathizers defect to an organization they favour when it is within
reach (:func:`access`), at ``defection_rate`` (raised by the fear of a purge); loyal
fighters of a losing, incohesive group bandwagon to a stronger one at ``bandwagon_rate``.
Decide side: a whole group pledges to IS when its sympathizers are the majority
(``pledge_majority``); where each group's sympathizers would go (:func:`sympathizer_pull`)
and whom loyal fighters of a declining group follow (:func:`loyal_pull`).

:func:`join_is` is what a pledge does to the world, whether decided here or scripted: the
group joins the IS camp with the core as its patron, its sympathizers (now leading) start
afresh, and the processes that react to a pledge (retaliation) are told.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.vocabulary import IS, IS_AFFILIATE, IS_CORE, SPLINTER, STATE

NAME = "pledge"
SWITCHABLE = True
NUMBER = 1

PARAMS: tuple[Param, ...] = (
    Param("defection_rate", 0.02, 0.0, 5.0, "1/day",
          A + ": 'persuading rank-and-file militants and even occasionally entire jihadist "
          "groups to defect'",
          "Hazard that a latent sympathizer defects to an accessible organization he "
          "favours."),
    Param("bandwagon_rate", 0.01, 0.0, 5.0, "1/day",
          A + ": al-Murabitun 'loyalists came out on top'",
          "Hazard that a loyal fighter of a losing, incohesive organization changes side to "
          "a stronger one of his camp or his former parent."),
    Param("defection_reach", 20.0, 0.1, 1e5, "fighters",
          "modelling convention",
          "Presence of the receiving organization at which half of would-be defectors can "
          "reach it."),
    Param("pledge_majority", 0.6, 0.0, 1.0, "share",
          A + ": 'entire jihadist groups' (IMU) pledge as a whole",
          "Share of sympathizers at which a whole organization pledges to the rival camp."),
)


# ---------------------------------------------------------------------- kernel side
@njit(cache=True)
def access(reach, half):
    """Share of would-be defectors in a cell who can reach a group whose force reaching
    the cell is ``reach``: ``reach / (reach + defection_reach)``."""
    return reach / (reach + half)


# ---------------------------------------------------------------------- decide side
def sympathizer_pull(world) -> np.ndarray:
    """``(R, O, O)`` where each organization's latent sympathizers would go.

    Sympathizers of an IS affiliate that has a dissident faction lean towards it (their
    sympathy is with the dissidents, not the rival camp); sympathizers in any other armed
    group lean towards the IS camp's organizations present, the more the better their
    momentum. Rows sum to one or are zero (nowhere to go).
    """
    o, f, rel = world.orgs, world.forces, world.relations
    R, O = world.R, world.O
    present = o.active & (f.totals > 0)
    dest = (~np.eye(O, dtype=bool)[None] & (present & (o.camp == IS)
                                           & (o.kind != IS_CORE))[:, None, :])
    w = np.where(dest, 1.0 + np.maximum(o.momentum, 0.0)[:, None, :], 0.0)
    total = w.sum(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        pull = np.where(total > 0, w / np.where(total > 0, total, 1.0), 0.0)
    pull = np.where((o.camp == IS)[:, :, None], 0.0, pull)
    d = rel.dissident_of
    has = d >= 0
    onehot = np.zeros((R, O, O))
    rr, vv = np.nonzero(has)
    onehot[rr, vv, d[rr, vv]] = 1.0
    return np.where(has[:, :, None], onehot, pull)


def loyal_pull(world) -> np.ndarray:
    """``(R, O, O)`` bandwagoning of loyal fighters of a losing, incohesive group.

    Fighters of a group in decline (negative momentum) drift to their origin (the group
    they split from) or to a non-hostile group of their camp that is doing better; the pull
    ``(1 - cohesion) * decline`` is shared equally among the destinations. A state's
    soldiers do not bandwagon to another state force.
    """
    o, f, rel = world.orgs, world.forces, world.relations
    R, O = world.R, world.O
    present = o.active & (f.totals > 0)
    mom = o.momentum
    decline = np.maximum(-mom, 0.0)
    eye = np.eye(O, dtype=bool)[None]
    better = (~eye & present[:, None, :] & (o.camp[:, None, :] == o.camp[:, :, None])
              & ~rel.hostile & (mom[:, None, :] > mom[:, :, None])
              & (rel.parent_of[:, None, :] != np.arange(O)[None, :, None]))
    org = rel.origin
    back = np.zeros((R, O, O), dtype=bool)
    rr, vv = np.nonzero(org >= 0)
    back[rr, vv, org[rr, vv]] = present[rr, org[rr, vv]]
    dest = better | back
    n = dest.sum(axis=2)
    go = present & (decline > 0) & (n > 0) & (o.camp != STATE)  # soldiers do not bandwagon
    share = np.where(go, (1.0 - o.cohesion) * decline / np.maximum(n, 1), 0.0)
    return np.where(dest & go[:, :, None], share[:, :, None], 0.0)


def join_is(world, p, log, rs: np.ndarray, i: int, note: str) -> None:
    """Organization ``i`` pledges to the IS camp in replicates ``rs`` (where it is not in
    it yet), with what follows."""
    o, rel = world.orgs, world.relations
    rs = np.asarray(rs, dtype=np.int64)
    old = o.camp[rs, i]
    rs, old = rs[old != IS], old[old != IS]
    if len(rs) == 0:
        return
    core = world.core
    o.camp[rs, i] = IS
    o.kind[rs, i] = np.where(o.kind[rs, i] != SPLINTER, IS_AFFILIATE, o.kind[rs, i])
    rel.origin[rs, i] = np.where(rel.parent_of[rs, i] >= 0, rel.parent_of[rs, i],
                                 rel.origin[rs, i])
    for r in rs:
        log("pledge", r, i, core, world.forces.totals[r, i], note)
    world.emit("on_pledge", p, log, rs=rs, i=i, old_camp=old)
    rel.patron[rs, i] = core  # parent_of keeps its origin
    world.forces.sympathizers[rs, i] = 0.0  # the sympathizers now lead; dissent afresh
    o.courted[rs, i] = 0.0


def decide(world, plan, p, rng, log) -> None:
    """Whole groups pledge when their sympathizers are the majority; defection pulls."""
    o, f = world.orgs, world.forces
    share = f.sympathizer_totals / np.maximum(f.totals, 1e-9)
    pledges = (world.takes_part("pledge") & (share >= p["pledge_majority"][:, None])
               & (o.camp != IS) & (o.camp != STATE))
    for i in np.nonzero(pledges.any(axis=0))[0]:
        join_is(world, p, log, np.nonzero(pledges[:, i])[0], int(i),
                "sympathizers became the majority")
    plan.pull_sympathizers = sympathizer_pull(world)
    plan.pull_loyal = loyal_pull(world)
