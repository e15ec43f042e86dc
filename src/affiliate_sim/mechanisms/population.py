"""Core process: recruitment, desertion, reinforcement, latent sympathy and growth.

Local recruitment runs through local networks: a group recruits in a cell in proportion to
the cell's population, its recruiting appeal and its share of the recruiting groups'
fighters there (``local_recruit_rate``, ``recruit_scale``); states do not compete for
recruits. The appeal (:func:`decide`) is ``local_roots * (0.5 + 0.5 * resources) * (1 +
brand)``, the brand being the IS appeal for the IS camp (the core's broadcast,
``is_broadcast``, as shaped by the momentum mechanism) and nothing for the others. Groups
desert at ``desertion_rate * (1 - cohesion) * (1.5 - resources)``. A state force draws
reinforcements from its hinterland back towards its initial strength
(``state_reinforcement``). Loyal fighters of a group the IS core courts (a scripted input)
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
          "modelling convention (a state draws on a national hinterland)",
          "Rate at which a state force is reinforced back towards its initial strength."),
    Param("is_broadcast", 0.4, 0.0, 2.0, "appeal",
          A + ": 'remaining and expanding' ... 'winner's messaging'",
          "Baseline appeal of the IS brand broadcast by the core."),
    Param("momentum_memory", 30.0, 1.0, 365.0, "days",
          "modelling convention",
          "Time scale of the exponential memory of an organization's growth."),
)


@njit(cache=True)
def local_recruits(rate, appeal, population, fighters, inverse_competition):
    """Local recruits of a group in a cell today: ``rate * appeal * population * fighters
    / (fighters of the recruiting groups here + recruit_scale)``, the last factor given as
    its inverse (it is the same for every group in the cell)."""
    return rate * appeal * population * fighters * inverse_competition


def armed(world) -> np.ndarray:
    """``(R, O)`` bool: armed non-state organizations (not states, not the IS core)."""
    o = world.orgs
    return (o.camp != STATE) & (o.kind != IS_CORE)


def setup(world, p) -> None:
    """The IS brand starts at the core's broadcast (the momentum mechanism reshapes it)."""
    world.region.is_appeal = p["is_broadcast"].astype(float).copy()


def decide(world, plan, p, rng, log) -> None:
    """Recruiting appeal, desertion, reinforcements, conversion by courting."""
    o, f = world.orgs, world.forces
    arm = armed(world)
    present = o.active & (f.totals > 0)
    is_camp = o.camp == IS
    brand = np.where(is_camp, world.region.is_appeal[:, None], 0.0)
    appeal = o.local_roots * (0.5 + 0.5 * o.resources) * (1.0 + brand)
    plan.recruit_appeal = np.where(arm & present, appeal, 0.0)
    plan.desertion = np.where(arm, p["desertion_rate"][:, None] * (1.0 - o.cohesion)
                              * (1.5 - o.resources), 0.0)
    states = (o.camp == STATE) & present
    plan.foreign_inflow = plan.foreign_inflow + np.where(
        states, p["state_reinforcement"][:, None] * np.clip(f.initial - f.totals, 0.0, None),
        0.0)
    courting = p["conversion_rate"][:, None] * world.region.is_appeal[:, None] * o.courted
    plan.conversion = plan.conversion + np.where(arm & ~is_camp, courting, 0.0)


def growth_memory(momentum, start, end, p) -> np.ndarray:
    """New momentum: memory of the monthly growth rate, in [-1, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(start > 0, (end - start) / np.maximum(start, 1.0), 0.0) * 30.0
    m = momentum + (np.clip(growth, -1.0, 1.0) - momentum) / p["momentum_memory"][:, None]
    return np.clip(m, -1.0, 1.0)


def apply(world, flows, p, log) -> None:
    """Momentum: memory of the day's growth."""
    f = world.forces
    world.orgs.momentum = growth_memory(world.orgs.momentum, f.start_totals, f.totals, p)
