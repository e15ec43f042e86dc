"""Core process: movement of fighters between neighbouring cells.

Each day a share ``move_rate`` of every cell's fighters moves to the best of the cell and
its (up to) four neighbours (the share follows the physical speed, :func:`per_cell`: ``1 -
exp(-move_speed / cell_km)``, so that fighters cross a 2.5 km cell of Derna in a day and a
100 km cell of Somalia in about eleven), by a softmax of a movement score; a neighbour's score is
lowered by ``stay_bias`` (moving has a cost); sympathizers move with their comrades, and
movement conserves fighters exactly. The score of a cell for an organization's movers
(:func:`score`) is

    - danger_weight * danger + attraction_weight * log1p(sought) + cover_weight * cover
    + home_weight * people

where ``danger`` is the combat and raid hazard the organization faces there, ``sought``
the presence of what it seeks (an offensive's target, set by the offensive rule; a
protector, set by retreat) as sensed from about ``sense_km`` away (that many km in cells,
:func:`per_cell`), ``cover`` the ruggedness and remoteness of the cell, and ``people`` how
much the cell is a home among people (from its population density, ``Grid.people``). The
danger and cover weights are set by the retreat mechanism (zero when it is switched off),
the home weight by the terrain mechanism (a rooted group stays among its people; zero when
it is switched off); attraction is always on.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param

NAME = "movement"
SWITCHABLE = False

#: Passes of the stencil by which movers sense what they seek at the reference cell size
#: (25 km): a force is felt up to this many cells away, more faintly with distance (along
#: a line the weights run about 9.3, 6.5, 2.5, 0.5, 0.06 for 0 to 4 cells; only the log of
#: the sensed presence is used). A case's passes follow its cell size (:func:`per_cell`).
SENSE_PASSES = 4
#: Most passes of the sensing stencil (a bound on the work on small cells).
SENSE_MAX_PASSES = 12
#: Share of a cell's sensed presence passed to each neighbour at each pass.
SENSE_SHARE = 0.5

PARAMS: tuple[Param, ...] = (
    Param("move_speed", 9.0, 0.0, 1000.0, "km/day",
          A + ": 'left to regroup in the city's southern suburbs'; modelling convention "
          "(insurgents on foot and in pick-ups, net of halts)",
          "Net distance fighters who move cover in a day; a cell of cell_km km passes a "
          "share 1 - exp(-move_speed / cell_km) of its fighters a day."),
    Param("stay_bias", 3.0, 0.0, 100.0, "log-weight",
          "modelling convention (fighters hold their ground unless a move is clearly better)",
          "Score a neighbouring cell must gain over the current one to draw as many movers "
          "as staying does."),
    Param("attraction_weight", 2.0, 0.0, 100.0, "log-weight",
          "modelling convention",
          "Weight of an offensive target's or a protector's presence in movement."),
    Param("sense_km", 100.0, 10.0, 1000.0, "km",
          A + ": the IMU 'fled to Zabul' to join the Dadullah faction; modelling convention",
          "Distance up to which movers sense what they seek (an offensive's target, a "
          "protector): sense_passes = clip(round(sense_km / cell_km), 1, "
          "SENSE_MAX_PASSES) passes of the sensing stencil."),
)


@njit(cache=True)
def score(danger, danger_weight, sought, attraction_weight, cover, cover_weight, people,
          home_weight):
    """How much an organization's movers like a cell (see the module docstring)."""
    pull = attraction_weight * math.log1p(sought) if sought > 0.0 else 0.0
    return -danger_weight * danger + pull + cover_weight * cover + home_weight * people


def per_cell(p, cell_km: float) -> dict:
    """The kernel's per-cell values of this process's physical parameters for cells of
    ``cell_km`` km: the share of a cell's fighters who move in a day, and the passes of the
    sensing stencil."""
    return {"move_rate": -np.expm1(-p["move_speed"] / cell_km),
            "sense_passes": np.clip(np.round(p["sense_km"] / cell_km), 1.0,
                                    float(SENSE_MAX_PASSES))}
