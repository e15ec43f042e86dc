"""Mechanism 9: retreat, regrouping and safe passage.

IS in Derna was "driven from Derna, and the remaining pro-Islamic State fighters were left to
regroup in the city's southern suburbs"; "in December 2015, Islamic State militants besieged
by Derna Mujahedin Shura Council forces requested safe passage out of the area"; IMU members
"decided to seek out a safe haven in Afghanistan's Zabul province" under an ally's
protection (Gartenstein-Ross and Barr 2016).

A non-state force breaks off the fight when the share of its strength it lost to violence
at others' hands (killed, detained, surrendered) over the last ``BREAK_DAYS`` reaches
``breakpoint`` (Helmbold 1971: battles end at a breakpoint, not in annihilation). Broken
for ``RALLY_DAYS``, it ends its offensive (the next day, :mod:`combat`) and opens none, it
disperses (its concealment times ``1 + break_dispersal``), retreats
whatever the odds, and its fighters without roots flee the area (``break_flight * (1 -
local_roots)`` per unit of danger); those with roots melt into their people.

Every organization's movers avoid danger (``danger_aversion``, less so on an offensive); see
:mod:`affiliate_sim.mechanisms.movement`. An organization outmatched at the front (the
force ratio within ``FRONT_KM`` of its fighters, the ground a firefight or a day's advance
covers, below ``retreat_threshold``, and not attacking) retreats: its movers seek
cover (``cover_weight``) and its allies; it stops once the ratio is half as much again above
the threshold. A group reduced below ``safe_passage_share`` of its peak and heavily
outnumbered (``BESIEGED_RATIO``) is besieged. It holds out while its stores and its hope
last, ``siege_endurance`` days of siege (each day out of it gives back a day), and then asks
its main enemy for safe passage, which the besieger grants unless it is a state force
(states do not let armed groups leave) or is on an offensive against the group (then the
group fights on and asks again after ``SAFE_PASSAGE_RETRY`` days). Under safe passage its
fighters leave the area at ``safe_passage_rate`` for ``SAFE_PASSAGE_DAYS``.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.vocabulary import STATE

NAME = "retreat"
SWITCHABLE = True
NUMBER = 9

#: Days a granted safe passage stays open.
SAFE_PASSAGE_DAYS = 10
#: Days before a refused group asks for safe passage again.
SAFE_PASSAGE_RETRY = 60
#: Own-to-enemy strength ratio below which a reduced group counts as besieged.
BESIEGED_RATIO = 0.5
#: Distance (km) over which fighters feel the force ratio that makes them hold or fall back:
#: the range of a firefight and of a day's advance in contested ground (a case's radius is
#: this in its cells, rounded; 0 is the fighters' own cell).
FRONT_KM = 5.0
#: How much higher than the threshold the force ratio must climb to end a retreat.
RETREAT_HYSTERESIS = 1.5
#: Days over which a force counts its losses against its strength at the start (the length
#: of an engagement; Helmbold 1971).
BREAK_DAYS = 7
#: Days a broken force stays dispersed (the day it breaks included) before it rallies.
RALLY_DAYS = 14

PARAMS: tuple[Param, ...] = (
    Param("danger_aversion", 30.0, 0.0, 1e4, "1/(hazard)",
          "modelling convention",
          "Weight of expected daily hazard in the choice of a cell to move to."),
    Param("cover_weight", 1.5, 0.0, 100.0, "log-weight",
          A + ": 'seek out a safe haven in Afghanistan's Zabul province'",
          "Weight of ruggedness and remoteness in the movement of a retreating force."),
    Param("retreat_threshold", 0.6, 0.0, 100.0, "force ratio",
          "modelling convention",
          "Local force ratio below which an organization retreats rather than holds."),
    Param("breakpoint", 0.3, 0.0, 1.0, "share",
          "Helmbold 1971 (RAND R-772-PR: battles end when a side's losses reach its "
          "breakpoint)",
          "Share of its strength a force loses within BREAK_DAYS at which it breaks off "
          "the fight and disperses."),
    Param("break_dispersal", 10.0, 0.0, 1000.0, "multiplier",
          "Mao 1937 ('the enemy advances, we retreat'); Kalyvas 2006 (the weaker side "
          "in irregular war avoids battle)",
          "Concealment of a broken force relative to its own: its fighters scatter into "
          "the population and the ground instead of standing."),
    Param("break_flight", 1.0, 0.0, 100.0, "flights per unit danger",
          "McLauchlin 2010 (desertion follows the odds of losing)",
          "Hazard of fleeing the area per unit of danger for a fighter of a broken force "
          "without local roots (those with roots melt into their people instead)."),
    Param("safe_passage_share", 0.3, 0.0, 1.0, "share",
          A + ": 'besieged ... requested safe passage out of the area'",
          "Fighters relative to peak below which a besieged organization asks for safe "
          "passage."),
    Param("siege_endurance", 150.0, 0.0, 3650.0, "days",
          "other reporting: the rebels of eastern Aleppo, encircled in July 2016, left "
          "under an evacuation deal in December 2016; the Islamic State's fighters in "
          "Raqqa, encircled in June 2017, left under one in October 2017",
          "Days a besieged organization holds out before it asks for safe passage."),
    Param("safe_passage_rate", 0.3, 0.0, 10.0, "1/day",
          "modelling convention",
          "Evacuation hazard once safe passage is granted."),
)


def local_balance(world, near=None) -> tuple[np.ndarray, np.ndarray]:
    """``(R, O)`` own side's over the enemy side's strength near each organization's
    fighters (infinite without enemies), and ``(R, O)`` its main enemy there (-1: no
    enemy); the enemy side is the main enemy and those of its allies who are foes too
    (foes at war with each other do not add up); near is the world's ``near``
    (decisions' range) unless given."""
    f, rel = world.forces, world.relations
    near = f.near if near is None else near
    eye = np.eye(world.O, dtype=bool)[None]
    foes = rel.hostile & ~eye
    strength = f.power[:, None, :] * near  # [r, i, s]: power[s] * near[i, s]
    main = np.where(foes.any(axis=2), np.where(foes, strength, -np.inf).argmax(axis=2), -1)
    # the enemies that fight together: the main enemy and those of its allies who are foes
    # too (foes at war with each other do not add up)
    m = np.maximum(main, 0)
    with_main = (rel.allied[np.arange(world.R)[:, None], m]  # [r, i, s]: allied[main, s]
                 | (np.arange(world.O)[None, None, :] == m[:, :, None]))
    enemy = np.where(foes & with_main, strength, 0.0).sum(axis=2)
    own = np.where(rel.allied | eye, strength, 0.0).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(enemy > 0, own / np.where(enemy > 0, enemy, 1.0), np.inf)
    return ratio, main


def broken(world) -> np.ndarray:
    """``(R, O)`` bool: the organizations broken today (dispersed until ``broken_until``)."""
    return world.conduct.broken_until >= world.day


def setup(world, p) -> None:
    """The memory of each organization's losses over the last ``BREAK_DAYS``."""
    world.conduct.losses = np.zeros(world.forces.totals.shape + (BREAK_DAYS,))


def decide(world, plan, p, rng, log) -> None:
    """Break when the engagement's losses reach the breakpoint; retreat when outmatched;
    use or ask for safe passage; how movers weigh danger."""
    f, cd, o = world.forces, world.conduct, world.orgs
    # breaking: the share of its strength at the engagement's start a force has lost
    lost_days = cd.losses.sum(axis=2)
    start = f.totals + lost_days
    with np.errstate(divide="ignore", invalid="ignore"):
        lost = np.where(start > 0, lost_days / np.where(start > 0, start, 1.0), 0.0)
    acting = world.takes_part("retreat")
    breaks = (acting & (o.camp != STATE) & (lost_days > 0)
              & (lost >= p["breakpoint"][:, None]) & ~broken(world))
    for r, i in zip(*np.nonzero(breaks), strict=True):
        log("broken", r, i, -1, lost[r, i], "share lost within the engagement")
    cd.broken_until = np.where(breaks, world.day + RALLY_DAYS - 1, cd.broken_until)
    is_broken = broken(world)
    o.conceal = o.base_conceal * np.where(is_broken, 1.0 + p["break_dispersal"][:, None], 1.0)
    # its rootless fighters flee (added to the flight weight surrender set just before)
    plan.flight = plan.flight + np.where(
        is_broken, p["break_flight"][:, None] * (1.0 - o.local_roots), 0.0)

    plan.danger_weight = p["danger_aversion"][:, None] * (1.0 - plan.offensive)
    ratio, main = local_balance(world)  # the besieged count the enemies around them
    at_front, facing = local_balance(world, world.near_within(FRONT_KM))
    was = cd.retreating
    limit = p["retreat_threshold"][:, None] * np.where(was, RETREAT_HYSTERESIS, 1.0)
    now = acting & (cd.offensive_target < 0) & ((at_front < limit) | is_broken)
    cd.retreating = np.where(acting, now, was)
    plan.cover = np.where(now, p["cover_weight"][:, None], plan.cover)
    plan.attract = np.where(now[:, :, None] & world.relations.allied, 1.0, plan.attract)
    for r, i in zip(*np.nonzero(now & ~was), strict=True):
        log("retreat", r, i, facing[r, i], at_front[r, i], "force ratio at the front")

    using = acting & (cd.safe_passage_days > 0)
    plan.evacuate = np.where(using, p["safe_passage_rate"][:, None], plan.evacuate)
    cd.safe_passage_days = np.where(using, cd.safe_passage_days - 1, cd.safe_passage_days)
    besieged = ((f.peak > 0) & (f.totals < p["safe_passage_share"][:, None] * f.peak)
                & (ratio < BESIEGED_RATIO))
    # a day's stores spent each day besieged, a day's laid in each day not
    cd.besieged_days = np.where(besieged, cd.besieged_days + 1,
                                np.maximum(cd.besieged_days - 1, 0))
    spent = cd.besieged_days > p["siege_endurance"][:, None]  # stores and hope run out
    asks = (acting & ~using & besieged & spent
            & (world.day - cd.last_request >= SAFE_PASSAGE_RETRY))
    for r, i in zip(*np.nonzero(asks), strict=True):
        cd.last_request[r, i] = world.day
        b = main[r, i]
        granted = bool(b >= 0 and o.camp[r, b] != STATE  # states refuse passage
                       and cd.offensive_target[r, b] != i)
        log("safe_passage", r, i, b, f.totals[r, i], "granted" if granted else "requested")
        if granted:
            cd.safe_passage_days[r, i] = SAFE_PASSAGE_DAYS


def apply(world, flows, p, log) -> None:
    """Remember today's losses to violence at others' hands (killed, detained,
    surrendered; not its own purge's victims), the raid operations' strikes included (this
    runs after counterterrorism's apply)."""
    own = np.eye(world.O, dtype=bool)[None]
    lost = (np.where(own, 0.0, flows.killed).sum(axis=2)
            + np.where(own, 0.0, flows.detained).sum(axis=2)
            + flows.surrendered.sum(axis=2))
    world.conduct.losses[:, :, world.day % BREAK_DAYS] = lost
