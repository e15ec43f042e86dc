"""Core process: recruitment, desertion, reinforcement, latent sympathy and growth.

Local recruitment runs through local networks: a group recruits in a cell in proportion to
the cell's population, its recruiting appeal and its share of the recruiting groups'
fighters there (``local_recruit_rate``, ``recruit_scale``); states do not compete for
recruits. Recruitment has a carrying capacity (:func:`room`): it stops as the armed groups
in a cell approach what the population can sustain, ``mobilization_ceiling`` fighters per
1000 inhabitants, scaled by the group's roots (``0.5 + local_roots``) and braked by the
state's presence (``recruit_state_brake``); the fighters rival groups already hold in the
cell count against it. The appeal (:func:`decide`) is ``local_roots * (0.5 + 0.5 *
resources) * (1 + brand) * (1 + backlash_appeal * backlash)``, the brand being the IS appeal
for the IS camp (the core's broadcast, ``is_broadcast``, as shaped by the momentum
mechanism) and nothing for the others, the backlash the grievance that violence against the
group in populated places raises among its population (combat). Groups desert at
``desertion_rate * (1 - cohesion) * (1.5 - resources)``, less what an established group
replaces (below). A state force draws reinforcements
from a finite reserve (``reserve`` in the scenario; by default its starting strength once
over) back towards its initial strength (``state_reinforcement``); when the reserve is
spent, its losses are final.

A steady start (spin-up; Jones and Libicki 2008: military force ended 7% of the armed
groups that ended): the world did not begin on day 0, and the strength a long-established
group holds then is a steady state, in which its networks replace the members it loses to
ordinary turnover; the bare rules would drain it over the years. Its desertion is replaced
at ``steady_start * established * min(1, start / strength)`` of the rate: fully for an old
group at or below its starting strength, in proportion for a younger one, not at all for a
new one (``established`` near 0), less and less as a group grows past where it started, so
that the replacement never makes it grow. Losses to enemies, purges and defection are not
replaced: they are the mechanisms' doing, and ordinary recruitment makes them good as the
carrying capacity allows. Loyal fighters of a group the IS core courts (a scripted input)
turn latent IS sympathizers at ``conversion_rate * IS appeal * courting``; latent
sympathizers return to loyalty at ``reversion_rate``. Each organization's momentum is an
exponential memory of its monthly growth rate (``momentum_memory``), which the pledge,
investment and momentum mechanisms read.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.vocabulary import IS, IS_CORE, STATE

NAME = "population"
SWITCHABLE = False

PARAMS: tuple[Param, ...] = (
    Param("local_recruit_rate", 0.004, 0.0, 1.0, "fighters/day per 1000 inhabitants",
          "modelling convention; calibrated",
          "Daily local recruits per thousand inhabitants of a cell that an organization "
          "fully dominates, at appeal 1."),
    Param("recruit_scale", 50.0, 1.0, 1e5, "fighters",
          "modelling convention",
          "Presence at which an organization reaches half its recruiting potential in a "
          "cell."),
    Param("mobilization_ceiling", 10.0, 0.0, 1000.0, "fighters per 1000 inhabitants",
          "modelling convention: insurgent strength rarely passes about 1% of the "
          "population it lives among",
          "Fighters the armed groups of a cell can hold per 1000 inhabitants, at local roots "
          "0.5 and no state presence, before local recruitment stops."),
    Param("recruit_state_brake", 0.5, 0.0, 1.0, "share",
          "modelling convention: state presence deters open recruitment",
          "Share of the carrying capacity a cell under full state presence loses."),
    Param("desertion_rate", 0.0015, 0.0, 1.0, "1/day",
          "modelling convention",
          "Desertion hazard, scaled by (1 - cohesion) * (1.5 - resources): a group without "
          "cohesion or means loses 1.5 times this rate."),
    Param("conversion_rate", 0.01, 0.0, 1.0, "1/day",
          A + ": IS 'appealing to al-Shabaab's foot soldiers and mid-level commanders'",
          "Rate at which loyal fighters of a group the IS core courts (a scripted input) "
          "turn latent IS sympathizers, per unit of IS appeal and courting intensity."),
    Param("reversion_rate", 0.01, 0.0, 1.0, "1/day",
          "modelling convention",
          "Rate at which latent sympathizers return to loyalty."),
    Param("state_reinforcement", 0.02, 0.0, 1.0, "1/day",
          "modelling convention (a state draws on a national hinterland, within its reserve)",
          "Rate at which a state force is reinforced from its reserve back towards its "
          "initial strength."),
    Param("is_broadcast", 0.4, 0.0, 2.0, "appeal",
          A + ": 'remaining and expanding' ... 'winner's messaging'",
          "Baseline appeal of the IS brand broadcast by the core."),
    Param("steady_start", 1.0, 0.0, 1.0, "share",
          "modelling convention: spin-up to a steady state (an established group's starting "
          "strength is what its population carries and replaces); Jones and Libicki 2008 "
          "(How Terrorist Groups End, RAND): military force ended 7% of the groups that "
          "ended",
          "Weight of the steady start: the share of its deserters an established group "
          "(established = 1) replaces while at or below its starting strength (times its "
          "established); 0 leaves every group to the bare recruitment rule."),
    Param("momentum_memory", 30.0, 1.0, 365.0, "days",
          "modelling convention",
          "Time scale of the exponential memory of an organization's growth."),
)


@njit(cache=True)
def local_recruits(rate, appeal, population, fighters, inverse_competition, room):
    """Local recruits of a group in a cell today: ``rate * appeal * population * fighters
    / (fighters of the recruiting groups here + recruit_scale) * room``, the competition
    factor given as its inverse (it is the same for every group in the cell)."""
    return rate * appeal * population * fighters * inverse_competition * room


@njit(cache=True)
def room(recruiters, ceiling, population, state_presence, brake):
    """Share of its recruiting potential a group keeps in a cell: ``1 - recruiters /
    capacity``, at least 0, the capacity being ``ceiling * population * (1 - brake *
    state_presence)`` (``ceiling`` in fighters per 1000 inhabitants, ``population`` in
    thousands)."""
    capacity = ceiling * population * (1.0 - brake * state_presence)
    if capacity <= 0.0:
        return 0.0
    return max(0.0, 1.0 - recruiters / capacity)


def armed(world) -> np.ndarray:
    """``(R, O)`` bool: armed non-state organizations (not states, not the IS core)."""
    o = world.orgs
    return (o.camp != STATE) & (o.kind != IS_CORE)


def setup(world, p) -> None:
    """The IS brand starts at the core's broadcast (the momentum mechanism reshapes it)."""
    world.region.is_appeal = p["is_broadcast"].astype(float).copy()


def replaced(established, start, totals, steady_start) -> np.ndarray:
    """``(R, O)`` share of its desertion an organization's networks replace (the steady
    start): ``steady_start * established * min(1, start / strength)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(totals > 0, np.minimum(1.0, start / totals), 1.0)
    return steady_start[:, None] * established * ratio


def decide(world, plan, p, rng, log) -> None:
    """Recruiting appeal, desertion, reinforcements, conversion by courting."""
    o, f = world.orgs, world.forces
    arm = armed(world)
    present = o.active & (f.totals > 0)
    is_camp = o.camp == IS
    brand = np.where(is_camp, world.region.is_appeal[:, None], 0.0)
    appeal = (o.local_roots * (0.5 + 0.5 * o.resources) * (1.0 + brand)
              * (1.0 + p["backlash_appeal"][:, None] * o.backlash))
    plan.recruit_appeal = np.where(arm & present, appeal, 0.0)
    plan.recruit_ceiling = p["mobilization_ceiling"][:, None] * (0.5 + o.local_roots)
    # an established group's networks replace its ordinary turnover (the steady start)
    kept = 1.0 - replaced(o.established, f.initial, f.totals, p["steady_start"])
    plan.desertion = np.where(arm, p["desertion_rate"][:, None] * (1.0 - o.cohesion)
                              * (1.5 - o.resources) * kept, 0.0)
    states = (o.camp == STATE) & present
    want = p["state_reinforcement"][:, None] * np.clip(f.initial - f.totals, 0.0, None)
    plan.foreign_inflow = plan.foreign_inflow + np.where(
        states, np.minimum(want, f.reserve), 0.0)
    courting = p["conversion_rate"][:, None] * world.region.is_appeal[:, None] * o.courted
    plan.conversion = plan.conversion + np.where(arm & ~is_camp, courting, 0.0)


def growth_memory(momentum, start, end, p) -> np.ndarray:
    """New momentum: memory of the monthly growth rate, in [-1, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(start > 0, (end - start) / np.maximum(start, 1.0), 0.0) * 30.0
    m = momentum + (np.clip(growth, -1.0, 1.0) - momentum) / p["momentum_memory"][:, None]
    return np.clip(m, -1.0, 1.0)


def apply(world, flows, p, log) -> None:
    """States spend their reserve on reinforcements; momentum: memory of the day's
    growth."""
    f = world.forces
    states = world.orgs.camp == STATE
    f.reserve = np.where(states, np.maximum(f.reserve - flows.recruited_foreign, 0.0),
                         f.reserve)
    world.orgs.momentum = growth_memory(world.orgs.momentum, f.start_totals, f.totals, p)
