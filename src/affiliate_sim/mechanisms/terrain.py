"""Mechanism 10: remoteness and terrain.

"Many of the group's defeats have taken place in far-flung and dangerous areas"; Algeria's
fighting is in "the mountains of northeastern Algeria"; "Puntland is geographically removed
from al-Shabaab's largest strongholds" (Gartenstein-Ross and Barr 2016).

Ruggedness and population conceal guerrillas and protect every defender; remoteness shields
a cell from the reach of raids and purges. A guerrilla group's own population hides it (Mao
1937, *On Guerrilla Warfare*: the fish in the sea of the people): its concealment grows with
its local roots, ``1 + popular_cover * local_roots`` times. The landscape is static, so the
terrain sets the kernel's cell fields once per run (:func:`setup`); switched off, they stay
neutral (1).
A retreating force seeks cover (see :mod:`affiliate_sim.mechanisms.retreat`).
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param

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
          "cases.md: Sinai 'embedded in terrain and population'",
          "Increase of a guerrilla group's concealment per unit of local roots (its "
          "population hides and feeds it)."),
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


def setup(world, p) -> None:
    """Set the kernel's cell fields from the landscape; a guerrilla group's population
    hides it."""
    g = world.grid
    for name, value in fields(g.terrain, g.population, g.remoteness, p).items():
        setattr(g.fields, name, value)
    o = world.orgs
    o.conceal = np.where(o.conventional, o.conceal,
                         o.conceal * (1.0 + p["popular_cover"][:, None] * o.local_roots))

