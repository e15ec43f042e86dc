"""What every process of the day shares: its parameters' metadata and its interface.

Each module in :mod:`affiliate_sim.mechanisms` is one process of the model's day: one of
the article's ten mechanisms (switchable) or one of the core processes every run has
(combat, movement, population, leadership). A module holds its whole rule:

``NAME``, ``SWITCHABLE`` (and, for the article's mechanisms, ``NUMBER``: the case book's
numbering)
    who it is.
``PARAMS``
    its parameters as :class:`Param` (default, range, unit, source, meaning); the user
    facing :class:`~affiliate_sim.scenario.params.Params` is assembled from them.
``setup(world, p)``
    once, after the world is built (e.g. the terrain's static cell fields).
``decide(world, plan, p, rng, log)``
    every day, before the interaction: the organizations' decisions of this process,
    computed for every organization and every replicate at once from the world as it
    stands, written into the day's :class:`~affiliate_sim.kernel.DayPlan` (the kernel's
    inputs) and, for decisions that change the world's structure (a pledge, a coalition,
    an offensive), into the world.
``apply(world, flows, p, log)``
    every day, after the interaction: the updates of this process's state variables from
    the day's :class:`~affiliate_sim.kernel.Flows`.
``HOOKS``
    reactions to events of the day raised by other processes or by scripted inputs
    (``on_pledge``, ``on_assassination``): ``{event: function}``.
njit cell functions
    the process's hazard terms, per cell and organization, which the kernel
    (:mod:`affiliate_sim.kernel.step`) composes into competing risks.

Every function is optional. Arguments: ``world`` is the
:class:`~affiliate_sim.model.world.World` (arrays with a leading replicate axis ``R``),
``p`` a mapping of parameter name to an ``(R,)`` array (every parameter broadcasts per
replicate), ``rng`` the process's own random stream (:class:`~affiliate_sim.model.streams.
Draws`: one independent stream per replicate and per process, drawn in blocks of a fixed
shape every day), ``log`` the event log (:class:`~affiliate_sim.model.events.EventLog`).

A switched-off mechanism is not run at all: none of its functions is called, so its
entries of the day's plan keep their neutral values (no hazard), its state variables keep
their initial values, its hooks do not fire and its random stream is not drawn. That is the
one way a mechanism is switched off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Short-hand for sources quoting the article.
ARTICLE = "article"


@dataclass(frozen=True)
class Param:
    """A parameter of a process, as data (SALib style).

    Attributes:
        name: the parameter's name (unique over the model).
        default: default value.
        lo, hi: closed range of valid values.
        unit: unit ("1/day", "share", "fighters", ...).
        source: the article passage or modelling convention it comes from.
        doc: what it means.
    """

    name: str
    default: float
    lo: float
    hi: float
    unit: str
    source: str
    doc: str


def hazard_share(h):
    """Share ``1 - exp(-h)`` of a population a hazard ``h`` (1/day) removes in one day."""
    return -np.expm1(-h)
