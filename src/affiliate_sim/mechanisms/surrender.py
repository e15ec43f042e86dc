"""Core process: surrender and flight as the choices of fighters in danger.

"One al-Shabaab commander explained that Islamic State supporters within al-Shabaab
preferred 'to fall into the enemy's hands instead of meeting death in the hands of
brothers'" (Gartenstein-Ross and Barr 2016). Fighters of a faction under attack can fight
on, defect to a rival (the pledge mechanism's pull), flee, or surrender; they weigh the
danger they face against the treatment they expect.

Decide side (:func:`decide`): each armed group's surrenders go to the hostile organization
that offers the best prospect, its expected treatment (``state_leniency`` for a state,
``rival_leniency`` for a jihadist or militia rival: "death in the hands of brothers") times
its fighters near the group. The expected treatment (``leniency``) scales the purge's
surrenders (the purge-driven case is one instance of this choice). In combat and under
raids, fighters surrender at ``yield_rate * leniency`` per unit of the danger they face
(the hazard of being killed or caught, 1/day) if they are latent sympathizers of a rival
(nothing holds them), and at ``yield_rate * leniency * (1 - cohesion)`` if they are loyal;
they flee the area at ``flight_rate * (1 - cohesion)`` per unit of danger. Kernel side: the
hazards are the plan's weights times the cell's danger (:mod:`affiliate_sim.kernel.step`).
A cohesive group fights on; a broken one melts away. A hopelessly outnumbered one scatters
(Lanchester's odds as the fighters see them, McLauchlin 2010 on desertion when a side is
losing): fighters also flee at ``scatter_rate * (1 - local_roots) * max(odds - 1, 0)`` per
unit of danger, odds the enemy side's strength over their own side's within the front
(:data:`affiliate_sim.mechanisms.retreat.FRONT_KM`); fighters with roots among the
population have nowhere else to go and stay (the IMU's Uzbeks scattered before the
Taliban; Wilayat Sinai's tribesmen held).

The IS core and state forces do not surrender.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.mechanisms.population import armed
from affiliate_sim.mechanisms.retreat import FRONT_KM, local_balance
from affiliate_sim.vocabulary import IS_CORE, STATE

NAME = "surrender"
SWITCHABLE = False

#: Odds beyond which more enemies make no one flee faster (a group alone against an army).
MAX_ODDS = 20.0

PARAMS: tuple[Param, ...] = (
    Param("yield_rate", 0.3, 0.0, 10.0, "surrenders per unit danger",
          A + ": 'to fall into the enemy's hands instead of meeting death'",
          "Surrender hazard per unit of the hazard of being killed or caught, for a "
          "fighter with nothing holding him (a latent sympathizer of a rival, or a loyal "
          "fighter of a group without cohesion) who expects the treatment of a state."),
    Param("flight_rate", 0.2, 0.0, 10.0, "flights per unit danger",
          A + ": 'Other pro-Islamic State militants fled'",
          "Hazard of fleeing the area per unit of danger, for a fighter of a group without "
          "cohesion."),
    Param("scatter_rate", 0.0, 0.0, 10.0, "flights per unit danger and odds",
          A + ": the IMU's Central Asians before the Taliban ('What America and its agents "
          "could not do in 14 years, the Taliban did in 24 hours'); McLauchlin 2010 "
          "(desertion follows the odds of losing)",
          "Hazard of fleeing the area per unit of danger and of odds above even (the enemy "
          "side's strength over the own side's at the front), for a fighter without local "
          "roots."),
    Param("state_leniency", 1.0, 0.0, 1.0, "treatment",
          "policy lever (amnesty, rehabilitation); " + A + ": 'the enemy's hands'",
          "Treatment fighters expect if they surrender to a state (1: they live)."),
    Param("rival_leniency", 0.2, 0.0, 1.0, "treatment",
          A + ": 'meeting death in the hands of brothers'",
          "Treatment fighters expect if they surrender to a rival jihadist group or "
          "militia."),
)


def decide(world, plan, p, rng, log) -> None:
    """Who receives each group's surrenders, what treatment its fighters expect, and
    their surrender and flight weights."""
    o, f = world.orgs, world.forces
    arm = armed(world)
    can = o.active & (f.totals > 0) & (o.kind != IS_CORE)
    receive = can[:, None, :] & world.relations.hostile & arm[:, :, None]
    treatment = np.where(o.camp == STATE, p["state_leniency"][:, None],
                         p["rival_leniency"][:, None])[:, None, :]
    prospect = np.where(receive, treatment * (f.near + 1e-9), -np.inf)
    best = prospect.argmax(axis=2)
    has = receive.any(axis=2) & (np.take_along_axis(treatment[:, 0, :], best, axis=1) > 0)
    plan.surrender_to = np.where(has, best, -1)
    leniency = np.where(has, np.take_along_axis(treatment[:, 0, :], best, axis=1), 0.0)
    plan.leniency = leniency
    loose = 1.0 - o.cohesion
    plan.yield_sympathizers = np.where(arm, p["yield_rate"][:, None] * leniency, 0.0)
    plan.yield_loyal = plan.yield_sympathizers * loose
    at_front, _ = local_balance(world, world.near_within(FRONT_KM))
    with np.errstate(divide="ignore"):
        odds = np.where(at_front > 0, 1.0 / at_front, np.inf)
    scatter = (p["scatter_rate"][:, None] * (1.0 - o.local_roots)
               * np.minimum(np.maximum(odds - 1.0, 0.0), MAX_ODDS))
    plan.flight = np.where(arm, p["flight_rate"][:, None] * loose + scatter, 0.0)
