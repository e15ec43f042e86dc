"""Array containers of the kernel: state, cell fields, day plan, noise, parameters, flows.

Every array has a leading replicate axis ``R``; organization axes have length ``O``; grid
axes are ``H, W``. Organization-pair arrays are indexed ``[r, row, col]`` with the meaning
given per field. Parameters reach the kernel packed as an ``(R, len(KERNEL_PARAMS))``
array, so that each replicate runs its own parameter set. Nothing here knows the
user-facing parameter class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

#: The parameters the kernel reads, in the column order of the packed array (per cell:
#: ``adjacent_reach``, ``move_rate`` and ``sense_passes`` are derived from the physical
#: parameters and the case's cell size by the processes' ``per_cell``).
KERNEL_PARAMS: tuple[str, ...] = (
    "combat_rate", "interference", "adjacent_reach", "offensive_power", "fortune_sd",
    "conventional_search", "raid_rate", "raid_kill_share", "leader_exposure",
    "purge_rate", "flee_rate", "surrender_rate", "purge_capacity_scale", "purge_kill_share",
    "defection_rate", "bandwagon_rate", "defection_reach",
    "local_recruit_rate", "recruit_scale", "recruit_state_brake", "reversion_rate",
    "attraction_weight", "move_rate", "stay_bias", "sense_passes",
)
#: A recruiting ceiling so high it never binds (an empty plan's).
NO_CEILING = 1e12
#: Column of each kernel parameter in the packed array.
COLUMN: dict[str, int] = {name: k for k, name in enumerate(KERNEL_PARAMS)}


def pack_params(p: Mapping[str, np.ndarray]) -> np.ndarray:
    """``(R, len(KERNEL_PARAMS))`` float64 array of the kernel's parameters."""
    return np.ascontiguousarray(np.stack([np.asarray(p[n], dtype=float)
                                          for n in KERNEL_PARAMS], axis=1))


@dataclass
class KernelState:
    """What the kernel reads of the world on one day.

    Attributes:
        fighters: ``(R, O, H, W)`` fighters of each organization in each cell.
        sympathizers: ``(R, O, H, W)`` the part of ``fighters`` latently sympathetic to a
            rival (the rival camp, or a dissident faction); never above ``fighters``.
        cohesion: ``(R, O)`` in [0, 1].
        visibility: ``(R, O)`` in [0, 1], how exposed the group is to state intelligence.
        purge_capacity: ``(R, O)`` in [0, 1], strength of an intelligence wing.
        quality: ``(R, O)`` combat quality multiplier (training, arms).
        conceal: ``(R, O)`` concealment in fighters (from the style of fighting).
        conceal_against: ``(R, O, O)`` ``[r, k, v]`` multiplier of v's concealment against
            attacker k (1: v is as hidden from k as from anyone; the terrain mechanism's
            popular cover raises it against attackers with shallower local roots).
        conventional: ``(R, O)`` bool, fights conventionally rather than as guerrillas.
        emir_alive: ``(R, O)`` bool.
        commanders: ``(R, O)`` int, commanders alive below the emir.
        population: ``(H, W)`` inhabitants, thousands per cell.
        state_presence: ``(H, W)`` reach of the state's security apparatus, in [0, 1].
        cover: ``(H, W)`` what a retreating force seeks (ruggedness plus remoteness).
        people: ``(H, W)`` in [0, 1), how much a cell is a home among people (from its
            population density).
    """

    fighters: np.ndarray
    sympathizers: np.ndarray
    cohesion: np.ndarray
    visibility: np.ndarray
    purge_capacity: np.ndarray
    quality: np.ndarray
    conceal: np.ndarray
    conceal_against: np.ndarray
    conventional: np.ndarray
    emir_alive: np.ndarray
    commanders: np.ndarray
    population: np.ndarray
    state_presence: np.ndarray
    cover: np.ndarray
    people: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self.fighters.shape  # type: ignore[return-value]


@dataclass
class CellFields:
    """Per-replicate multipliers of each cell, ``(R, H, W)`` each (1 where nothing acts).

    The terrain mechanism sets them once per run from the landscape and its parameters
    (:func:`affiliate_sim.mechanisms.terrain.setup`); switched off, they stay neutral.

    Attributes:
        conceal_factor: multiplier of every organization's concealment.
        protection: multiplier in (0, 1] of every combat hazard.
        raid_shield: multiplier of the raid hazard (remoteness and ruggedness).
        purge_reach: multiplier of a purge's reach (remoteness).
    """

    conceal_factor: np.ndarray
    protection: np.ndarray
    raid_shield: np.ndarray
    purge_reach: np.ndarray

    @classmethod
    def neutral(cls, R: int, H: int, W: int) -> CellFields:
        return cls(*(np.ones((R, H, W)) for _ in range(4)))


@dataclass
class DayPlan:
    """What the organizations decided for the day: the decide phase's output and the
    kernel's input. :meth:`empty` is the plan in which nobody does anything (every
    hazard zero); each process fills its own entries.

    Attributes:
        engage: ``(R, O, O)`` ``[r, k, v]`` share of k's combat effort against v.
        offensive: ``(R, O)`` in [0, 1], intensity of k's offensive today.
        raid: ``(R, O, O)`` ``[r, s, v]`` raid intensity of state s against v.
        raid_reach: ``(R, O, H, W)`` (or broadcastable to it) share of s's raid
            intensity that reaches each cell (where its forces are; 1 everywhere in the
            empty plan).
        purge: ``(R, O)`` in [0, 1], purge effort of v against its own sympathizers.
        pull_sympathizers: ``(R, O, O)`` ``[r, v, j]`` weight of j as destination of v's
            sympathizers (rows sum to at most 1).
        pull_loyal: ``(R, O, O)`` ``[r, v, j]`` bandwagoning pull on v's loyal fighters.
        split: ``(R, O, O)`` ``[r, v, j]`` extra hazard (1/day) that v's sympathizers leave
            for j in a public split, wherever they are.
        surrender_to: ``(R, O)`` int, the organization receiving v's surrenders (-1: none).
        leniency: ``(R, O)`` the treatment v's fighters expect from ``surrender_to`` (0:
            no receiver); it scales the purge's surrenders.
        yield_sympathizers, yield_loyal: ``(R, O)`` surrender hazard of v's sympathizers
            and loyal fighters per unit of the danger they face (combat and raids).
        flight: ``(R, O)`` hazard of v's fighters fleeing per unit of danger.
        recruit_appeal: ``(R, O)`` local recruiting appeal of v.
        recruit_ceiling: ``(R, O)`` fighters per 1000 inhabitants v's recruiting groups can
            hold in a cell before local recruitment stops (the carrying capacity).
        foreign_inflow: ``(R, O)`` fighters per day arriving to v from outside the region
            (foreign fighters, state reinforcements).
        conversion: ``(R, O)`` 1/day, loyal fighters of v turning sympathizers.
        attract: ``(R, O, O)`` ``[r, v, j]`` how much v's movers seek j's presence.
        cover: ``(R, O)`` weight v's movers give to cover (rugged, remote cells).
        home: ``(R, O)`` weight v's movers give to the people layer (a rooted group stays
            among its people).
        danger_weight: ``(R, O)`` weight v's movers give to the danger of a cell.
        evacuate: ``(R, O)`` 1/day, hazard of leaving the area under safe passage.
        desertion: ``(R, O)`` 1/day, desertion hazard of v.
        grudge: ``(R, O, O)`` the grudges today's decisions act on (decide phase only; the
            kernel does not read it): the world's grudges, widened by retaliation to those
            who shelter their target.
    """

    engage: np.ndarray
    offensive: np.ndarray
    raid: np.ndarray
    raid_reach: np.ndarray
    purge: np.ndarray
    pull_sympathizers: np.ndarray
    pull_loyal: np.ndarray
    split: np.ndarray
    surrender_to: np.ndarray
    leniency: np.ndarray
    yield_sympathizers: np.ndarray
    yield_loyal: np.ndarray
    flight: np.ndarray
    recruit_appeal: np.ndarray
    recruit_ceiling: np.ndarray
    foreign_inflow: np.ndarray
    conversion: np.ndarray
    attract: np.ndarray
    cover: np.ndarray
    home: np.ndarray
    danger_weight: np.ndarray
    evacuate: np.ndarray
    desertion: np.ndarray
    grudge: np.ndarray

    @classmethod
    def empty(cls, R: int, O: int) -> DayPlan:
        """A plan in which nobody does anything (raids, should any be planned, reach every
        cell)."""
        z2 = lambda: np.zeros((R, O))  # noqa: E731
        z3 = lambda: np.zeros((R, O, O))  # noqa: E731
        return cls(
            engage=z3(), offensive=z2(), raid=z3(), raid_reach=np.ones((R, O, 1, 1)),
            purge=z2(),
            pull_sympathizers=z3(), pull_loyal=z3(), split=z3(),
            surrender_to=np.full((R, O), -1, dtype=np.int64),
            leniency=z2(), yield_sympathizers=z2(), yield_loyal=z2(), flight=z2(),
            recruit_appeal=z2(), recruit_ceiling=np.full((R, O), NO_CEILING),
            foreign_inflow=z2(), conversion=z2(),
            attract=z3(), cover=z2(), home=z2(), danger_weight=z2(), evacuate=z2(), desertion=z2(),
            grudge=z3(),
        )


@dataclass
class Noise:
    """Random numbers of the day, drawn by the caller so that the kernel stays pure.

    Attributes:
        fortune: ``(R, O)`` standard normal draws (daily fortune of war).
        leader: ``(R, O, 1 + C)`` uniforms in [0, 1): column 0 for the emir, 1.. for up to
            C commanders.
    """

    fortune: np.ndarray
    leader: np.ndarray


@dataclass
class Flows:
    """Every flow of one day (the interact phase's output).

    Aggregated flows (per organization, summed over cells):

    Attributes:
        killed: ``(R, O, O)`` ``[r, victim, killer]``.
        detained: ``(R, O, O)`` ``[r, detainee, detainer]``.
        surrendered: ``(R, O, O)`` ``[r, who, to whom]``.
        defected: ``(R, O, O)`` ``[r, from, to]``.
        fled: ``(R, O)`` left the area (flight from a purge, evacuation under safe passage).
        deserted: ``(R, O)`` went home.
        recruited_local: ``(R, O)``.
        recruited_foreign: ``(R, O)`` arrivals from outside the region (foreign fighters;
            a state's reinforcements).
        emir_killed: ``(R, O)`` bool.
        commanders_killed: ``(R, O)`` int.
        leader_hazard: ``(R, O)`` hazard (1/day) the leaders faced.
        fighters: ``(R, O, H, W)`` fighters at the end of the day (after movement).
        sympathizers: ``(R, O, H, W)`` sympathizers at the end of the day.
    """

    killed: np.ndarray
    detained: np.ndarray
    surrendered: np.ndarray
    defected: np.ndarray
    fled: np.ndarray
    deserted: np.ndarray
    recruited_local: np.ndarray
    recruited_foreign: np.ndarray
    emir_killed: np.ndarray
    commanders_killed: np.ndarray
    leader_hazard: np.ndarray
    fighters: np.ndarray
    sympathizers: np.ndarray

    def outflow(self) -> np.ndarray:
        """``(R, O)`` every fighter who left each organization today."""
        return (self.killed.sum(2) + self.detained.sum(2) + self.surrendered.sum(2)
                + self.defected.sum(2) + self.fled + self.deserted)

    def inflow(self) -> np.ndarray:
        """``(R, O)`` every fighter who joined each organization today."""
        return self.recruited_local + self.recruited_foreign + self.defected.sum(1)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
