"""Core process: leaders, succession, cohesion, collapse.

The kernel kills emirs and commanders with the hazard around them (in battle and under
background raids they face ``leader_exposure`` times their men's hazard; intelligence-led
raid operations hunt them, see :mod:`affiliate_sim.mechanisms.counterterrorism`). When an
emir dies, the group is leaderless for ``succession_days`` (its shura meets; the new man's
name is kept from the enemy), and then a commander still alive succeeds him; the cost in
cohesion, "rarely crippling for well-established jihadist groups" (``succession_shock * (1 -
established)``), is paid at the death. With no commander left by then, the group has no
emir. While no emir is in place, none can be killed: a successor is not struck in the raid
that killed his predecessor. The founding emir's death ends ``founder`` for good (the man
raid operations hunt before they sweep). Cohesion recovers towards a target set by grievance
and leadership (``cohesion_recovery``). A dormant faction that has fighters becomes active
with a living emir. An armed group whose fighters fall below ``collapse_threshold`` after
having had at least as many has collapsed.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.mechanisms.population import armed

NAME = "leadership"
SWITCHABLE = False

#: Cohesion target multiplier without a living emir, and without any commander.
LEADERLESS, NO_COMMANDERS = 0.5, 0.8

PARAMS: tuple[Param, ...] = (
    Param("succession_shock", 0.35, 0.0, 1.0, "cohesion",
          A + ": 'rarely crippling for well-established jihadist groups'",
          "Cohesion lost when a new organization's emir is killed (scaled by 1 - "
          "establishment)."),
    Param("succession_days", 7.0, 0.0, 365.0, "days",
          "other reporting: the Taliban named Akhundzada 4 days after Mansour was killed "
          "(May 2016), the Islamic State named al-Qurashi 4 days after al-Baghdadi (Oct "
          "2019), al-Qaeda named al-Zawahiri 45 days after bin Laden (2011)",
          "Days between an emir's death and his successor taking over (0: the next "
          "commander at once)."),
    Param("cohesion_recovery", 0.02, 0.0, 1.0, "1/day",
          "modelling convention",
          "Rate at which cohesion returns towards its target."),
    Param("collapse_threshold", 10.0, 0.0, 1e5, "fighters",
          "cases.md: 'collapse to under about 10 fighters'",
          "Fighters below which an organization counts as collapsed."),
)


def succession(world, p, rs: np.ndarray, v: int, morning: bool = False) -> None:
    """The emir of ``v`` is dead in replicates ``rs``: the group loses cohesion and is
    leaderless until its successor takes over, after ``succession_days`` days without an
    emir (at once with 0). A death in the day's fighting (``morning`` false) leaves the
    next ``succession_days`` days without him; a scripted death in the morning (an input),
    today and the following days, so the successor is due a day earlier."""
    ld, o = world.leadership, world.orgs
    ld.emir_alive[rs, v] = False
    ld.founder[rs, v] = False
    shock = p["succession_shock"][rs] * (1.0 - o.established[rs, v])
    o.cohesion[rs, v] = np.maximum(0.0, o.cohesion[rs, v] - shock)
    wait = np.ceil(p["succession_days"][rs]).astype(np.int64)
    due = world.day + np.where(morning & (wait > 0), wait - 1, wait)
    ld.successor_due[rs, v] = due
    now = rs[wait <= 0]
    if len(now):
        take_over(world, now, v)


def take_over(world, rs: np.ndarray, v: int) -> None:
    """The successor of ``v``'s dead emir takes over in replicates ``rs``: a commander
    still alive, if any. If a leader came forward meanwhile by other means (a dissident
    faction's statement, a deployment), he is the successor and no commander is used."""
    ld = world.leadership
    came = rs[ld.emir_alive[rs, v]]
    ld.successions[came, v] += 1
    ld.successor_due[came, v] = -1
    rs = rs[~ld.emir_alive[rs, v]]
    has = ld.commanders[rs, v] > 0
    ld.commanders[rs, v] = np.where(has, ld.commanders[rs, v] - 1, ld.commanders[rs, v])
    ld.emir_alive[rs, v] = has
    ld.successions[rs, v] = np.where(has, ld.successions[rs, v] + 1, 0)
    ld.named[rs, v] = has & ld.named[rs, v]
    ld.successor_due[rs, v] = -1


def apply(world, flows, p, log) -> None:
    """Leaders killed today, succession, cohesion, activation, collapse, peak."""
    ld, o, f = world.leadership, world.orgs, world.forces
    killer = world.main_killer(flows.killed)
    for r, v in zip(*np.nonzero(flows.commanders_killed), strict=True):
        n = int(flows.commanders_killed[r, v])
        ld.commanders[r, v] = max(ld.commanders[r, v] - n, 0)
        log("commanders_killed", r, killer[r, v], v, n, "")
    for r, v in zip(*np.nonzero(flows.emir_killed), strict=True):  # after commander losses
        log("emir_killed", r, killer[r, v], v, 1.0, ld.emir_label(r, v))
        succession(world, p, np.array([r]), int(v))
    due = (ld.successor_due >= 0) & (ld.successor_due <= world.day)
    for r, v in zip(*np.nonzero(due), strict=True):  # take_over clears successor_due
        take_over(world, np.array([r]), int(v))
    lead = (np.where(ld.emir_alive, 1.0, LEADERLESS)
            * np.where(ld.commanders > 0, 1.0, NO_COMMANDERS))
    target = o.base_cohesion * (1.0 - 0.5 * o.grievance) * lead
    o.cohesion = np.clip(o.cohesion + p["cohesion_recovery"][:, None] * (target - o.cohesion),
                         0.0, 1.0)
    filled = ~o.active & (f.totals > 0)  # a dormant faction filled by a split
    o.active |= filled
    ld.emir_alive |= filled  # its leader emerges
    thr = p["collapse_threshold"][:, None]
    newly = ~f.collapsed & (f.peak >= thr) & (f.totals < thr) & armed(world)
    for r, v in zip(*np.nonzero(newly), strict=True):
        log("collapse", r, v, -1, f.totals[r, v], "fewer fighters than the threshold")
    f.collapsed |= newly
    f.peak = np.maximum(f.peak, f.totals)
