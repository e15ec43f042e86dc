"""Mechanism 3: purge by an intelligence wing.

"Al-Shabaab has deployed its intelligence and security wing, the amniyat, to arrest or kill
Islamic State supporters"; "as many as 30 pro-Islamic State militants" detained; "Other
pro-Islamic State militants fled al-Shabaab-controlled territory"; two "turned themselves in
to Somali security forces to avoid the crackdown", preferring "to fall into the enemy's hands
instead of meeting death in the hands of brothers" (Gartenstein-Ross and Barr 2016).

Kernel side (:func:`hazards`): a purge puts a hazard on the purging group's latent
sympathizers (split into killed and detained by ``purge_kill_share``) and a fear that makes
them flee, surrender, or defect more readily. Its reach shrinks in remote cells (the
terrain's ``purge_reach``). Decide side: a group with an intelligence wing purges once it
suspects enough sympathizers (``purge_trigger``). Who receives the surrenders, and the
treatment expected, is the surrender process's choice.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param

NAME = "purge"
SWITCHABLE = True
NUMBER = 3

PARAMS: tuple[Param, ...] = (
    Param("purge_rate", 0.05, 0.0, 5.0, "1/day",
          A + ": amniyat 'arrest or kill Islamic State supporters'; 'as many as 30' "
          "detained",
          "Hazard that a latent sympathizer is caught by a purge at full capacity and "
          "effort."),
    Param("purge_kill_share", 0.3, 0.0, 1.0, "share",
          A + ": 'arrest or kill'",
          "Share of purged sympathizers killed (the rest are detained)."),
    Param("purge_trigger", 0.02, 0.0, 1.0, "share",
          A + ": IS 'shifted to appealing to al-Shabaab's foot soldiers'",
          "Suspected sympathizer share at which an organization with an intelligence wing "
          "starts a purge."),
    Param("purge_capacity_scale", 1.0, 0.0, 5.0, "multiplier",
          "policy lever: the strength of AQ branches' intelligence wings",
          "Multiplier on every organization's purge capacity."),
    Param("flee_rate", 0.02, 0.0, 5.0, "1/day per unit fear",
          A + ": 'Other pro-Islamic State militants fled al-Shabaab-controlled territory'",
          "Hazard that a sympathizer flees the organization, per unit of purge fear."),
    Param("surrender_rate", 0.005, 0.0, 5.0, "1/day per unit fear",
          A + ": 'preferred to fall into the enemy's hands'",
          "Hazard that a sympathizer surrenders, per unit fear and state presence, at the "
          "treatment expected from a state (state_leniency 1)."),
)


# ---------------------------------------------------------------------- kernel side
@njit(cache=True)
def fear(capacity, effort, scale, reach):
    """Fear of the purge among a group's sympathizers in a cell."""
    return max(capacity * effort * scale, 0.0) * reach


@njit(cache=True)
def hazards(fear, state_presence, leniency, purge_rate, flee_rate, surrender_rate):
    """Per-sympathizer hazards from a purge: (caught by the wing, flee, surrender). The
    purge's surrenders are one instance of surrender as a choice
    (:mod:`affiliate_sim.mechanisms.surrender`): they scale with the treatment expected
    from the receiver (``leniency``, 0 without one) and with the state's presence."""
    return purge_rate * fear, flee_rate * fear, surrender_rate * fear * state_presence * leniency


# ---------------------------------------------------------------------- decide side
def decide(world, plan, p, rng, log) -> None:
    """Purge where suspicion passes the trigger; who receives each group's surrenders."""
    o, f = world.orgs, world.forces
    share = f.sympathizer_totals / np.maximum(f.totals, 1e-9)
    effort = (world.takes_part("purge") & (o.purge_capacity > 0)
              & (share >= p["purge_trigger"][:, None]))
    for r, v in zip(*np.nonzero(effort & ~world.conduct.purging), strict=True):
        log("purge", r, v, -1, f.sympathizer_totals[r, v], "suspected sympathizers")
    world.conduct.purging = effort | (world.conduct.purging & ~world.takes_part("purge"))
    plan.purge = np.where(effort, 1.0, plan.purge)
