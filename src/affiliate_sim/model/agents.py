"""The organizations: Mesa agents, one per organization of the scenario.

An organization is a :class:`mesa.discrete_space.CellAgent` standing on the cell of its
headquarters (where most of its fighters are, in replicate 0); its state in every
replicate is its row of the model's :class:`~affiliate_sim.model.world.World`. Its class
says which decisions it takes: the processes of the day
(:mod:`affiliate_sim.mechanisms`) compute each decision for all the organizations that take
it, in all replicates at once.

======================  ==================================================================
class                   decisions
======================  ==================================================================
``Organization``        pledge, offensive, purge, retreat, speak_out (IS affiliates, AQ
                        branches and allies, splinters, militias)
``StateForce``          offensive, raid
``ISCore``              invest, review_walis (it always acts; it has no fighters here)
======================  ==================================================================
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import CellAgent

from affiliate_sim.vocabulary import CAMPS, IS_CORE, KINDS, STATE_FORCE


class Organization(CellAgent):
    """An armed organization (IS affiliate, AQ branch or ally, splinter, militia).

    Args:
        model: the :class:`~affiliate_sim.model.AffiliateModel`.
        index: the organization's row in the world's arrays.
        name: its name in the scenario.
    """

    #: The decisions organizations of this class take (see the module docstring).
    DECISIONS: tuple[str, ...] = ("pledge", "offensive", "purge", "retreat", "speak_out")

    def __init__(self, model, index: int, name: str):
        super().__init__(model)
        self.index = index
        self.name = name

    @property
    def fighters(self) -> np.ndarray:
        """``(R,)`` its fighters in each replicate."""
        return self.model.world.forces.totals[:, self.index]

    @property
    def camp(self) -> list[str]:
        """Its camp in each replicate."""
        return [CAMPS[c] for c in self.model.world.orgs.camp[:, self.index]]

    @property
    def kind(self) -> list[str]:
        """Its kind in each replicate (``is_affiliate`` after a pledge)."""
        return [KINDS[k] for k in self.model.world.orgs.kind[:, self.index]]

    @property
    def acting(self) -> np.ndarray:
        """``(R,)`` whether it decides today in each replicate."""
        return self.model.world.acting[:, self.index]


class StateForce(Organization):
    """A state's security forces: fight like others, gather intelligence and raid."""

    DECISIONS = ("offensive", "raid")


class ISCore(Organization):
    """The Islamic State's central leadership: invests, backs or replaces walis."""

    DECISIONS = ("invest", "review_walis")


def agent_class(kind: int) -> type[Organization]:
    """The agent class of an organization of a kind (``vocabulary.KINDS`` code)."""
    return {IS_CORE: ISCore, STATE_FORCE: StateForce}.get(int(kind), Organization)


def roles(agents: list[Organization]) -> dict[str, np.ndarray]:
    """``{decision: (O,) bool}``: which organizations take each decision."""
    out: dict[str, np.ndarray] = {}
    for a in agents:
        for d in a.DECISIONS:
            out.setdefault(d, np.zeros(len(agents), dtype=bool))[a.index] = True
    return out
