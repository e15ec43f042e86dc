"""Mechanism 10: remoteness and terrain.

"Many of the group's defeats have taken place in far-flung and dangerous areas"; Algeria's
fighting is in "the mountains of northeastern Algeria"; "Puntland is geographically removed
from al-Shabaab's largest strongholds" (Gartenstein-Ross and Barr 2016).

Ruggedness and population conceal guerrillas and protect every defender; remoteness shields
a cell from the reach of raids and purges. A guerrilla group's own population hides it (Mao
1937, *On Guerrilla Warfare*: the fish in the sea of the people), but only from outsiders:
the population tells those rooted among it as deeply as the group what it would hide from
strangers (Kalyvas 2006, *The Logic of Violence in Civil War*, ch. 7: information comes
from the population, and to those it is tied to). Against an attacker k, a guerrilla group
v's concealment is ``1 + popular_cover * max(0, local_roots[v] - local_roots[k])`` times
its own: a local rival or a state with roots sees through what hides v from an army of
outsiders. And it keeps to its people: its movers weigh a cell's population density (the
``people`` layer) by ``home_weight * local_roots`` (not while on the offensive), so that a
rooted group holds its towns and villages where an outsider falls back on the mountains.
The landscape is static, so the terrain sets the kernel's cell fields once per run
(:func:`setup`); switched off, they stay neutral (1), no group gains popular cover and none
keeps to its people. A retreating force seeks cover (see
:mod:`affiliate_sim.mechanisms.retreat`).
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.mechanisms.population import armed

NAME = "terrain"
SWITCHABLE = True
NUMBER = 10

PARAMS: tuple[Param, ...] = (
    Param("terrain_conceal", 3.0, 0.0, 100.0, "multiplier",
          A + ": 'the mountains of northeastern Algeria'; Sinai",
          "Increase of concealment per unit of ruggedness."),
    Param("population_conceal", 0.02, 0.0, 10.0, "1/thousand inhabitants",
          "cases.md: Sinai 'embedded in terrain and population'",
          "Increase of concealment per thousand inhabitants of a cell (for every style; a "
          "conventional force's small base concealment gains little)."),
    Param("popular_cover", 1.0, 0.0, 100.0, "multiplier",
          "Mao 1937 (On Guerrilla Warfare: the guerrilla as a fish in the sea of the people); "
          "Kalyvas 2006 (ch. 7: information goes to those the population is tied to); "
          "cases.md: Sinai 'embedded in terrain and population'",
          "Increase of a guerrilla group's concealment against an attacker per unit of "
          "local roots it has beyond the attacker's (its population hides it from "
          "outsiders)."),
    Param("home_weight", 1.0, 0.0, 100.0, "log-weight",
          "Mao 1937 (the guerrilla moves amongst the people as a fish swims in the sea); "
          "cases.md: Sinai 'embedded in terrain and population'",
          "Weight a guerrilla group with full local roots gives, in movement, to staying "
          "among people (the people layer, from population density); times its roots."),
    Param("terrain_protection", 1.0, 0.0, 100.0, "multiplier",
          "modelling convention",
          "Reduction of all combat hazards per unit of ruggedness."),
    Param("remoteness_shield", 0.8, 0.0, 1.0, "share",
          A + ": 'Puntland is geographically removed from al-Shabaab's largest "
          "strongholds'",
          "Share of raid and purge reach lost in a fully remote cell."),
)


def fields(terrain, population, remoteness, p) -> dict:
    """The kernel's cell fields (``CellFields`` entries, ``(R, H, W)`` each) of a landscape
    under parameters ``p`` (``(R,)`` arrays):

    * concealment multiplier ``1 + terrain_conceal * terrain + population_conceal *
      population`` (a conventional force's small base concealment gains little);
    * combat protection ``1 / (1 + terrain_protection * terrain)``;
    * reach of raids and purges ``1 - remoteness_shield * remoteness``; raids also find
      fighters ``1 + terrain_conceal * terrain`` times less often in rugged ground.
    """
    tc = p["terrain_conceal"][:, None, None]
    reach = 1.0 - p["remoteness_shield"][:, None, None] * remoteness[None]
    return dict(
        conceal_factor=1.0 + tc * terrain[None]
        + p["population_conceal"][:, None, None] * population[None],
        protection=1.0 / (1.0 + p["terrain_protection"][:, None, None] * terrain[None]),
        raid_shield=reach / (1.0 + tc * terrain[None]),
        purge_reach=reach.copy(),
    )


def popular_cover(local_roots, conventional, p) -> np.ndarray:
    """``(R, O, O)`` ``[k, v]``: multiplier of v's concealment against attacker k, ``1 +
    popular_cover * max(0, local_roots[v] - local_roots[k])`` for a guerrilla group v, 1
    for a conventional force."""
    deeper = np.clip(local_roots[:, None, :] - local_roots[:, :, None], 0.0, None)
    cover = 1.0 + p["popular_cover"][:, None, None] * deeper
    return np.where(conventional[:, None, :], 1.0, cover)


def decide(world, plan, p, rng, log) -> None:
    """A rooted guerrilla group's movers stay among the people who hide and feed it
    (``home_weight * local_roots``), unless it is on the offensive."""
    o = world.orgs
    rooted = armed(world) & ~o.conventional
    plan.home = np.where(rooted, p["home_weight"][:, None] * o.local_roots
                         * (1.0 - plan.offensive), 0.0)


def setup(world, p) -> None:
    """Set the kernel's cell fields from the landscape; a guerrilla group's population
    hides it from those less rooted than it."""
    g = world.grid
    for name, value in fields(g.terrain, g.population, g.remoteness, p).items():
        setattr(g.fields, name, value)
    o = world.orgs
    world.intel.cover = popular_cover(o.local_roots, o.conventional, p)

