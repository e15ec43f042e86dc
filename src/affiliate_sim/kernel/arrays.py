"""Array containers of the kernel: state, day plan, noise, parameters and flows.

Every array has a leading replicate axis ``R``; organization axes have length ``O``; grid
axes are ``H, W``. Organization-pair arrays are indexed ``[r, row, col]`` with the meaning
given per field. Parameters are arrays of shape ``(R,)`` so that each replicate may run its
own parameter set.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from affiliate_sim.params import Params

#: Camps (``camp`` codes).
CAMPS: tuple[str, ...] = ("IS", "AQ", "state", "independent")
IS, AQ, STATE, INDEPENDENT = range(4)

#: Kinds of organization (``kind`` codes), as in the case book.
KINDS: tuple[str, ...] = (
    "is_core",
    "is_affiliate",
    "aq_branch",
    "aq_ally",
    "splinter",
    "state_force",
    "militia",
)
IS_CORE, IS_AFFILIATE, AQ_BRANCH, AQ_ALLY, SPLINTER, STATE_FORCE, MILITIA = range(7)

#: Fighting styles: guerrilla forces conceal themselves; conventional forces do not.
STYLES: tuple[str, ...] = ("guerrilla", "conventional")


@dataclass
class GridLayers:
    """Static cell layers, each ``(R, H, W)``.

    Attributes:
        terrain: ruggedness in [0, 1].
        population: inhabitants, thousands per cell.
        remoteness: distance from centres of power, in [0, 1].
        state_presence: reach of the state's security apparatus, in [0, 1].
    """

    terrain: np.ndarray
    population: np.ndarray
    remoteness: np.ndarray
    state_presence: np.ndarray


@dataclass
class KernelState:
    """What the kernel reads of the world on one day.

    Attributes:
        layers: the grid layers.
        fighters: ``(R, O, H, W)`` fighters of each organization in each cell.
        sympathizers: ``(R, O, H, W)`` the part of ``fighters`` latently sympathetic to a
            rival (the rival camp, or a dissident faction); never above ``fighters``.
        cohesion: ``(R, O)`` in [0, 1].
        visibility: ``(R, O)`` in [0, 1], how exposed the group is to state intelligence.
        purge_capacity: ``(R, O)`` in [0, 1], strength of an intelligence wing.
        quality: ``(R, O)`` combat quality multiplier (training, arms).
        conceal: ``(R, O)`` concealment in fighters (from the style of fighting).
        conventional: ``(R, O)`` bool, fights conventionally rather than as guerrillas (the
            scenario's ``style``; state forces by default).
        emir_alive: ``(R, O)`` bool.
        commanders: ``(R, O)`` int, commanders alive below the emir.
    """

    layers: GridLayers
    fighters: np.ndarray
    sympathizers: np.ndarray
    cohesion: np.ndarray
    visibility: np.ndarray
    purge_capacity: np.ndarray
    quality: np.ndarray
    conceal: np.ndarray
    conventional: np.ndarray
    emir_alive: np.ndarray
    commanders: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self.fighters.shape  # type: ignore[return-value]


@dataclass
class DayPlan:
    """What the organizations decided for the day (the decide phase's output).

    Attributes:
        engage: ``(R, O, O)`` ``[r, k, v]`` share of k's combat effort against v (its
            effect is lowered by ``conventional_search`` when a conventional k hunts a
            guerrilla v).
        offensive: ``(R, O)`` in [0, 1], intensity of k's offensive today.
        raid: ``(R, O, O)`` ``[r, s, v]`` raid intensity of state s against v.
        purge: ``(R, O)`` in [0, 1], purge effort of v against its own sympathizers.
        pull_sympathizers: ``(R, O, O)`` ``[r, v, j]`` weight of j as destination of v's
            sympathizers (rows sum to at most 1).
        pull_loyal: ``(R, O, O)`` ``[r, v, j]`` bandwagoning pull on v's loyal fighters.
        split: ``(R, O, O)`` ``[r, v, j]`` extra hazard (1/day) that v's sympathizers leave
            for j in a public split, wherever they are.
        surrender_to: ``(R, O)`` int, the organization receiving v's surrenders (-1: none).
        recruit_appeal: ``(R, O)`` local recruiting appeal of v.
        foreign_inflow: ``(R, O)`` fighters per day arriving to v from outside the region
            (foreign fighters, state reinforcements).
        conversion: ``(R, O)`` 1/day, loyal fighters of v turning sympathizers.
        attract: ``(R, O, O)`` ``[r, v, j]`` how much v's movers seek j's presence.
        cover: ``(R, O)`` weight v's movers give to rugged, remote cells (retreat).
        evacuate: ``(R, O)`` 1/day, hazard of leaving the area under safe passage.
        desertion: ``(R, O)`` 1/day, desertion hazard of v.
    """

    engage: np.ndarray
    offensive: np.ndarray
    raid: np.ndarray
    purge: np.ndarray
    pull_sympathizers: np.ndarray
    pull_loyal: np.ndarray
    split: np.ndarray
    surrender_to: np.ndarray
    recruit_appeal: np.ndarray
    foreign_inflow: np.ndarray
    conversion: np.ndarray
    attract: np.ndarray
    cover: np.ndarray
    evacuate: np.ndarray
    desertion: np.ndarray

    @classmethod
    def empty(cls, R: int, O: int) -> DayPlan:
        """A plan in which nobody does anything."""
        z2 = lambda: np.zeros((R, O))  # noqa: E731
        z3 = lambda: np.zeros((R, O, O))  # noqa: E731
        return cls(
            engage=z3(), offensive=z2(), raid=z3(), purge=z2(),
            pull_sympathizers=z3(), pull_loyal=z3(), split=z3(),
            surrender_to=np.full((R, O), -1, dtype=np.int64),
            recruit_appeal=z2(), foreign_inflow=z2(), conversion=z2(),
            attract=z3(), cover=z2(), evacuate=z2(), desertion=z2(),
        )


@dataclass
class Noise:
    """Random numbers of the day, drawn by the caller so the kernel stays pure.

    Attributes:
        fortune: ``(R, O)`` standard normal draws (daily fortune of war).
        leader: ``(R, O, 1 + C)`` uniforms in [0, 1): column 0 for the emir, 1.. for the
            commanders.
    """

    fortune: np.ndarray
    leader: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, R: int, O: int, max_commanders: int) -> Noise:
        fortune = rng.standard_normal((R, O))
        leader = rng.random((R, O, 1 + max_commanders))
        return cls(fortune=fortune, leader=leader)


#: Rates that a switched-off mechanism sets to zero.
SWITCHED_RATES: dict[str, tuple[str, ...]] = {
    "pledge": ("defection_rate", "bandwagon_rate"),
    "retaliation": ("betrayal_grudge",),
    "purge": ("purge_rate", "flee_rate", "surrender_rate"),
    "counterterrorism": ("raid_rate", "intel_gain", "leader_hit_rate"),
    "coalition": ("provocation_grudge",),
    "schism": ("grievance_gain", "schism_statement_rate", "disaffection_rate"),
    "momentum": ("momentum_gain", "counter_messaging"),
    "investment": ("foreign_fighter_rate", "cadre_cohesion_gain"),
    "retreat": ("danger_aversion", "cover_weight", "safe_passage_rate"),
    "terrain": ("terrain_conceal", "population_conceal", "terrain_protection",
                "remoteness_shield"),
}


class KernelParams(dict):
    """Parameters as ``(R,)`` float arrays, one entry per field of :class:`Params`.

    Switched-off mechanisms have their rates zeroed here, so the kernel needs no branches.
    """

    @classmethod
    def from_params(cls, params: Params | list[Params]) -> KernelParams:
        plist = [params] if isinstance(params, Params) else list(params)
        out = cls()
        names = [f.name for f in fields(Params) if f.name != "mechanisms"]
        for name in names:
            out[name] = np.array([float(getattr(p, name)) for p in plist])
        for mech, rates in SWITCHED_RATES.items():
            off = np.array([not p.on(mech) for p in plist])
            for rate in rates:
                out[rate] = np.where(off, 0.0, out[rate])
        return out

    @property
    def R(self) -> int:
        return len(next(iter(self.values())))


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
        danger: ``(R, O, H, W)`` combat and raid hazard each organization faced (or would
            face) in each cell, 1/day; what movement avoids.
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
    danger: np.ndarray

    def outflow(self) -> np.ndarray:
        """``(R, O)`` every fighter who left each organization today."""
        return (self.killed.sum(2) + self.detained.sum(2) + self.surrendered.sum(2)
                + self.defected.sum(2) + self.fled + self.deserted)

    def inflow(self) -> np.ndarray:
        """``(R, O)`` every fighter who joined each organization today."""
        return self.recruited_local + self.recruited_foreign + self.defected.sum(1)
