"""Mechanism 8: foreign fighters and central investment.

"The Islamic State now commands approximately 6,500 militants in Sirte and other hotspots in
Libya, which has become a destination for foreign fighters from across Africa. The Islamic
State's leadership has also dispatched several high-level figures, including Abu Ali
al-Anbari, to Sirte" (Gartenstein-Ross and Barr 2016).

The IS core invests where an affiliate has prospects (:func:`prospects`): momentum, ground it
holds unopposed, and a place foreign fighters can reach, concentrating on its best
prospects against its other uses (:func:`allocate`). Its investment brings foreign fighters
(in proportion to the IS appeal), cadres (cohesion) and money (resources).
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.vocabulary import IS, IS_CORE

NAME = "investment"
SWITCHABLE = True
NUMBER = 8

#: Exponent of the core's selectivity: it concentrates on its best prospects.
SELECTIVITY = 2.0
#: Share of the core's means above which it sends senior cadres (logged as an event).
CADRE_SHARE = 0.25
#: Daily gain of resources at full investment share and scale 1.
RESOURCE_GAIN = 0.01
#: How much more the core weighs a province it has recognized (a scripted input).
RECOGNITION_WEIGHT = 2.0

PARAMS: tuple[Param, ...] = (
    Param("central_investment", 1.0, 0.0, 5.0, "multiplier",
          "policy lever; " + A + ": 'dispatched several high-level figures'",
          "Scale of the IS core's investment of money, cadres and foreign fighters."),
    Param("foreign_fighter_rate", 10.0, 0.0, 1e4, "fighters/day",
          A + ": Libya 'a destination for foreign fighters from across Africa'",
          "Foreign fighters per day reaching an affiliate that receives all of the core's "
          "investment at IS appeal 1."),
    Param("investment_competition", 30.0, 0.0, 1e6, "prospect",
          A + ": wilayats 'in ten countries' compete for the core's means",
          "Prospect of the core's other uses of its means: an affiliate with this prospect "
          "receives half of what the core could give."),
    Param("cadre_cohesion_gain", 0.005, 0.0, 1.0, "1/day",
          A + ": 'Abu Ali al-Anbari' sent to Sirte",
          "Daily cohesion gain of an affiliate from cadres at full investment share."),
)


def prospects(momentum, dominance, access, fighters) -> np.ndarray:
    """How promising each affiliate looks to the core (>= 0).

    ``sqrt(fighters) * (1 + momentum) * dominance**2 * access``: the core favours ground an
    affiliate holds unopposed ("a contested space with no dominant rival", squared so that
    sharing ground with rivals weighs heavily), where foreign fighters can come.
    """
    size = np.sqrt(np.maximum(fighters, 0.0))
    return size * np.clip(1.0 + momentum, 0.0, None) * dominance ** 2 * access


def allocate(prospect: np.ndarray, p) -> np.ndarray:
    """``(R, O)`` share of the core's means each affiliate receives:
    ``prospect**k / (sum of prospects**k here + investment_competition**k)``,
    ``k = SELECTIVITY``."""
    k = SELECTIVITY
    weight = prospect ** k
    total = weight.sum(axis=1, keepdims=True) + p["investment_competition"][:, None] ** k
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, weight / np.where(total > 0, total, 1.0), 0.0)


def decide(world, plan, p, rng, log) -> None:
    """The core shares out its means; foreign fighters follow."""
    o, f, rel = world.orgs, world.forces, world.relations
    c = world.core
    if c < 0:
        return
    invests = world.takes_part("invest")[:, c:c + 1]
    affiliate = ((o.camp == IS) & o.active & (f.totals > 0) & (o.kind != IS_CORE)
                 & ((rel.patron == c) | (rel.patron < 0)) & invests)
    prospect = np.where(affiliate, prospects(o.momentum, f.dominance, o.foreign_access,
                                             f.totals), 0.0)
    prospect = np.where(o.recognized, RECOGNITION_WEIGHT * prospect, prospect)
    share = allocate(prospect, p)
    for r, v in zip(*np.nonzero((share >= CADRE_SHARE) & (o.investment_share < CADRE_SHARE)),
                    strict=True):
        log("cadres_sent", r, c, v, share[r, v], "senior cadres and money")
    o.investment_share = share
    means = p["central_investment"] * world.region.core_fortunes  # its fortunes elsewhere
    inflow = (p["foreign_fighter_rate"] * means)[:, None] * share \
        * world.region.is_appeal[:, None]
    plan.foreign_inflow = plan.foreign_inflow + inflow


def apply(world, flows, p, log) -> None:
    """Cadres raise cohesion; money raises resources."""
    o = world.orgs
    scale = (p["central_investment"] * world.region.core_fortunes)[:, None] \
        * o.investment_share
    o.cohesion = np.clip(o.cohesion + p["cadre_cohesion_gain"][:, None] * scale, 0.0, 1.0)
    o.resources = np.clip(o.resources + RESOURCE_GAIN * scale, 0.0, 1.0)
