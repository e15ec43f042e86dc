"""Mechanism 7: momentum and propaganda.

The Islamic State "would like the world — and especially prospective recruits — to believe
it is 'remaining and expanding'"; its "winner's messaging" sustains "the perception of
momentum that it works hard to maintain"; its defeats "have gone largely unnoticed", and
"highlighting these defeats may be one of the most effective ... counter-messaging
strategies" (Gartenstein-Ross and Barr 2016).

The appeal of the IS brand in a region (:func:`is_appeal`) is the core's broadcast, eroded
by IS defeats in the proportion that counter-messaging makes them visible, plus the local
IS momentum (the fighter-weighted momentum of the IS camp's armed groups). Each group's
local recruiting appeal grows with its own momentum (``momentum_gain``). Switched off, the
appeal is the broadcast alone and recruiting does not respond to wins and losses (momentum
itself, a memory of growth, is kept by the population process and still read by the pledge
and investment mechanisms).
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.vocabulary import IS, IS_CORE

NAME = "momentum"
SWITCHABLE = True
NUMBER = 7

#: Days over which IS defeats are remembered by the audience.
DEFEAT_MEMORY = 90.0
#: Monthly loss rate (share of the IS force) at which visible defeats erode the whole
#: broadcast appeal.
DEFEAT_SATURATION = 0.2

PARAMS: tuple[Param, ...] = (
    Param("counter_messaging", 0.0, 0.0, 1.0, "share",
          A + ": 'highlighting these defeats may be one of the most effective ... "
          "counter-messaging strategies'",
          "Share of IS defeats made visible, eroding the IS appeal (policy lever)."),
    Param("momentum_gain", 1.0, 0.0, 10.0, "multiplier",
          A + ": 'the perception of momentum that it works hard to maintain'",
          "Weight of local momentum in recruitment and appeal."),
)


def defeat_record(record, losses, fighters) -> np.ndarray:
    """``(R,)`` memory of IS losses in the region (share of its force lost per month)."""
    rate = losses / np.maximum(fighters, 1.0) * 30.0
    return record + (np.minimum(rate, 1.0) - record) / DEFEAT_MEMORY


def is_appeal(is_momentum, defeats, p, fortunes=1.0) -> np.ndarray:
    """``(R,)`` appeal of the IS brand in the region (>= 0); ``fortunes`` are the core's
    across theatres (a scripted input, 1 by default)."""
    seen = np.minimum(defeats / DEFEAT_SATURATION, 1.0)
    broadcast = p["is_broadcast"] * fortunes * (1.0 - p["counter_messaging"] * seen)
    return np.maximum(broadcast + p["momentum_gain"] * is_momentum, 0.0)


def decide(world, plan, p, rng, log) -> None:
    """Local recruiting appeal grows with the group's momentum."""
    factor = 1.0 + p["momentum_gain"][:, None] * world.orgs.momentum
    plan.recruit_appeal = np.clip(plan.recruit_appeal * factor, 0.0, None)


def apply(world, flows, p, log) -> None:
    """The record of IS defeats, and the IS appeal it leaves."""
    o, f, reg = world.orgs, world.forces, world.region
    is_armed = (o.camp == IS) & (o.kind != IS_CORE)
    into_is = np.where(is_armed[:, None, :], flows.defected, 0.0).sum(axis=2)
    losses = np.where(is_armed, flows.outflow() - into_is, 0.0).sum(axis=1)
    start = np.where(is_armed, f.start_totals, 0.0).sum(axis=1)
    reg.is_defeats = defeat_record(reg.is_defeats, losses, start)
    present = is_armed & (f.totals > 0)
    weight = np.where(present, f.totals, 0.0)
    total = weight.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mom = np.where(total > 0, (o.momentum * weight).sum(axis=1) / np.where(
            total > 0, total, 1.0), 0.0)
    reg.is_appeal = is_appeal(mom, reg.is_defeats, p, reg.core_fortunes)
