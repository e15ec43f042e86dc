"""Mechanism 9: retreat, regrouping and safe passage.

IS in Derna was "driven from Derna, and the remaining pro-Islamic State fighters were left to
regroup in the city's southern suburbs"; "in December 2015, Islamic State militants besieged
by Derna Mujahedin Shura Council forces requested safe passage out of the area"; IMU members
"decided to seek out a safe haven in Afghanistan's Zabul province" under an ally's
protection (Gartenstein-Ross and Barr 2016).

Every organization's movers avoid danger (``danger_aversion``, less so on an offensive); see
:mod:`affiliate_sim.mechanisms.movement`. An organization outmatched at the front (the
force ratio within ``FRONT_KM`` of its fighters, the ground a firefight or a day's advance
covers, below ``retreat_threshold``, and not attacking) retreats: its movers seek
cover (``cover_weight``) and its allies; it stops once the ratio is half as much again above
the threshold. A group reduced below ``safe_passage_share`` of its peak and heavily
outnumbered (``BESIEGED_RATIO``) is besieged: it asks its main enemy for safe passage, which
the besieger grants unless it is a state force (states do not let armed groups leave) or is
on an offensive against the group (then the group fights on and asks again after
``SAFE_PASSAGE_RETRY`` days). Under safe passage its fighters leave the area at
``safe_passage_rate`` for ``SAFE_PASSAGE_DAYS``.
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
    Param("safe_passage_share", 0.3, 0.0, 1.0, "share",
          A + ": 'besieged ... requested safe passage out of the area'",
          "Fighters relative to peak below which a besieged organization asks for safe "
          "passage."),
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


def decide(world, plan, p, rng, log) -> None:
    """Retreat when outmatched; use or ask for safe passage; how movers weigh danger."""
    f, cd, o = world.forces, world.conduct, world.orgs
    plan.danger_weight = p["danger_aversion"][:, None] * (1.0 - plan.offensive)
    acting = world.takes_part("retreat")
    ratio, main = local_balance(world)  # the besieged count the enemies around them
    at_front, facing = local_balance(world, world.near_within(FRONT_KM))
    was = cd.retreating
    limit = p["retreat_threshold"][:, None] * np.where(was, RETREAT_HYSTERESIS, 1.0)
    now = acting & (cd.offensive_target < 0) & (at_front < limit)
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
    asks = (acting & ~using & besieged
            & (world.day - cd.last_request >= SAFE_PASSAGE_RETRY))
    for r, i in zip(*np.nonzero(asks), strict=True):
        cd.last_request[r, i] = world.day
        b = main[r, i]
        granted = bool(b >= 0 and o.camp[r, b] != STATE  # states refuse passage
                       and cd.offensive_target[r, b] != i)
        log("safe_passage", r, i, b, f.totals[r, i], "granted" if granted else "requested")
        if granted:
            cd.safe_passage_days[r, i] = SAFE_PASSAGE_DAYS
