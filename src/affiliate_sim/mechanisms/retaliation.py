"""Mechanism 2: retaliation against defectors by the former ally or parent.

"Shortly after the IMU pledged allegiance to the Islamic State, the Taliban launched an
offensive against its erstwhile ally"; "Belmokhtar immediately issued a statement rejecting
this realignment, and then went on the offensive against Sahraoui"; "smaller contingents
that defect to the Islamic State often lack the strength to fend off retribution from the
organizations they've splintered from" (Gartenstein-Ross and Barr 2016).

When a group or faction pledges away (:func:`on_pledge`), its former parent and allies of
the old camp turn hostile and hold a grudge (a parent ``PARENT_FACTOR`` times more than an
ally). The grudge raises the propensity to attack (the offensive rule in
:mod:`affiliate_sim.mechanisms.combat`). Each day (:func:`decide`, before the offensive
rule) grudges extend to those who shelter their target, allies with the target's fighters
near their own (half of them, :func:`shelter`), and
an attacker on an offensive turns on the target's allies found with it.

Consolidation ("al-Qaeda has repeatedly rebuffed the Islamic State's advances,
consolidating its territorial control and strengthening its organizational cohesion in the
process"): an organization of the al-Qaeda camp that inflicts losses on the IS camp (killed
or detained, its own purged IS sympathizers included) gains lasting cohesion, its base
cohesion rising by ``consolidation_gain`` times those losses as a share of its strength,
times what is left to gain.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.vocabulary import AQ, IS

NAME = "retaliation"
SWITCHABLE = True
NUMBER = 2

#: A parent's grudge relative to an ally's.
PARENT_FACTOR = 1.5
#: Share of a grudge extended to those who shelter its target.
SHELTER_SHARE = 0.5

PARAMS: tuple[Param, ...] = (
    Param("betrayal_grudge", 3.0, 0.0, 100.0, "propensity",
          A + ": Taliban offensive 'shortly after' the IMU pledge; Belmokhtar 'went on the "
          "offensive'",
          "Grudge a parent or ally holds against an organization that pledges away."),
    Param("consolidation_gain", 1.0, 0.0, 100.0, "cohesion per share",
          A + ": al-Qaeda 'consolidating its territorial control and strengthening its "
          "organizational cohesion'",
          "Base cohesion an al-Qaeda organization gains by inflicting on the IS camp losses "
          "equal to its own strength (times what is left to gain)."),
)


def on_pledge(world, p, log, rs, i: int, old_camp) -> None:
    """Turn the pledger's former parent and allies of its old camp against it."""
    o, rel = world.orgs, world.relations
    for r, camp in zip(rs, old_camp, strict=True):
        for k in range(world.O):
            if k == i or o.camp[r, k] != camp:
                continue
            is_parent = rel.parent_of[r, i] == k
            if not (is_parent or rel.allied[r, k, i]):
                continue
            rel.allied[r, k, i] = rel.allied[r, i, k] = False
            rel.hostile[r, k, i] = rel.hostile[r, i, k] = True
            rel.grudge[r, k, i] += p["betrayal_grudge"][r] * (PARENT_FACTOR if is_parent
                                                             else 1.0)
            log("pledge_rejected", r, k, i, rel.grudge[r, k, i],
                "former parent or ally turns hostile")


HOOKS = {"on_pledge": on_pledge}


def shelter(grudge: np.ndarray, allied: np.ndarray, near: np.ndarray) -> np.ndarray:
    """``(R, O, O)`` grudges extended to those who shelter their target: ``[h, a]`` is at
    least ``SHELTER_SHARE * grudge[h, t]`` for every t that a is allied to (a != h) and
    that has fighters near a's (``near[t, a] > 0``: an ally far away shelters no one)."""
    O = grudge.shape[1]
    cand = ((grudge > 0)[:, :, :, None] & (allied & (near > 0))[:, None, :, :]
            & ~np.eye(O, dtype=bool)[None, :, None, :])           # [r, h, t, a]
    ext = np.where(cand, SHELTER_SHARE * grudge[:, :, :, None], 0.0).max(axis=2)
    return np.maximum(grudge, ext)


def decide(world, plan, p, rng, log) -> None:
    """Attackers on an offensive turn on their target's shelterers; today's grudges reach
    the shelterers."""
    rel, f = world.relations, world.forces
    t = world.conduct.offensive_target
    for r, i in zip(*np.nonzero(world.takes_part("offensive") & (t >= 0)), strict=True):
        tgt = t[r, i]
        for a in np.nonzero(rel.allied[r, tgt])[0]:
            if (a in (i, tgt) or rel.hostile[r, i, a] or rel.allied[r, i, a]
                    or f.near[r, tgt, a] <= 0):
                continue
            rel.hostile[r, i, a] = rel.hostile[r, a, i] = True
            log("shelter_targeted", r, i, a, f.near[r, tgt, a],
                f"shelters {world.names[tgt]}")
    plan.grudge = shelter(rel.grudge, rel.allied, f.near)


def apply(world, flows, p, log) -> None:
    """Al-Qaeda's consolidation: lasting cohesion from losses inflicted on the IS camp."""
    o, f = world.orgs, world.forces
    aq = o.camp == AQ
    is_camp = o.camp == IS
    # [victim, inflicter]: IS-camp victims, or the inflicter's own (purged) sympathizers
    hit = flows.killed + flows.detained
    others = ~np.eye(world.O, dtype=bool)[None]
    inflicted = (np.where(is_camp[:, :, None] & others, hit, 0.0).sum(axis=1)
                 + np.diagonal(hit, axis1=1, axis2=2))
    share = np.where(aq, inflicted / np.maximum(f.start_totals, 1.0), 0.0)
    gain = p["consolidation_gain"][:, None] * share * (1.0 - o.base_cohesion)
    o.base_cohesion = np.clip(o.base_cohesion + gain, 0.0, 1.0)
    o.consolidation = o.consolidation + gain
