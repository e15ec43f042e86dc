"""The World: the model's whole state as a few dataclasses of arrays.

Every per-organization array has a leading replicate axis ``R`` (one row per world of an
ensemble) and an organization axis ``O``; pair arrays are ``(R, O, O)``; stocks on the grid
are ``(R, O, H, W)``. The static landscape is shared by all replicates; the cell fields
that depend on parameters are ``(R, H, W)``.

The World holds no rule: the processes in :mod:`affiliate_sim.mechanisms` read and update
it; :meth:`World.refresh` recomputes the derived views they read (totals, who is near whom,
combat power, cells held, dominance). Nothing here imports Mesa or Hydra.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from affiliate_sim.kernel import grid as kgrid
from affiliate_sim.kernel.arrays import CellFields, KernelState
from affiliate_sim.vocabulary import CAMPS, IS_CORE, KINDS, STYLES

#: Radius (cells, Manhattan) over which forces count as "near" for decisions, at the
#: reference cell size (25 km); a case's radius is ``NEAR_KM`` in its cells.
NEAR_RADIUS = 3
#: Distance (km) over which forces count as "near" for decisions: about three days' march
#: at the default ``move_speed``.
NEAR_KM = 30.0
#: Population density (inhabitants per km2) at which a cell is half as much a group's home
#: as a crowded one (the ``people`` layer: ``d / (d + HOME_DENSITY)``).
HOME_DENSITY = 50.0


def near_radius(cell_km: float) -> int:
    """``NEAR_KM`` in cells of ``cell_km`` km (at least 1)."""
    return max(1, round(NEAR_KM / cell_km))
#: Fighters below which an organization no longer decides anything (the IS core always
#: decides).
MIN_ACTING = 1.0


@dataclass
class Grid:
    """The landscape. Static layers are ``(H, W)``; parameter-dependent fields ``(R, H, W)``.

    Attributes:
        terrain: ruggedness in [0, 1].
        population: inhabitants, thousands per cell.
        remoteness: distance from centres of power, in [0, 1].
        state_presence: reach of the state's security apparatus, in [0, 1].
        cover: what a retreating force seeks (``terrain + remoteness``).
        people: in [0, 1), how much a cell is a home among people, from its population
            density ``d`` (inhabitants per km2): ``d / (d + HOME_DENSITY)``.
        region_names: the scenario's named regions; ``region_masks`` ``(N, H, W)`` bool.
        fields: the per-replicate cell multipliers the kernel reads (neutral unless the
            terrain mechanism sets them).
    """

    terrain: np.ndarray
    population: np.ndarray
    remoteness: np.ndarray
    state_presence: np.ndarray
    cover: np.ndarray
    people: np.ndarray
    region_names: list[str]
    region_masks: np.ndarray
    fields: CellFields

    @property
    def shape(self) -> tuple[int, int]:
        return self.terrain.shape  # type: ignore[return-value]


@dataclass
class Forces:
    """Fighters and the views derived from them.

    Attributes:
        fighters: ``(R, O, H, W)`` fighters of each organization in each cell.
        sympathizers: ``(R, O, H, W)`` the part of them latently sympathetic to a rival.
        totals, sympathizer_totals: ``(R, O)`` over the grid (refreshed).
        start_totals: ``(R, O)`` totals at the start of the day (read in the apply phase).
        initial, peak: ``(R, O)`` strength at the start of the run, and the highest so far.
        reserve: ``(R, O)`` fighters a state force can still draw on to reinforce.
        collapsed: ``(R, O)`` bool, fell below the collapse threshold.
        held: ``(R, O, H, W)`` bool, cells each organization holds; ``cells_held`` ``(R, O)``.
        near: ``(R, O, O)`` ``[a, b]``: fighters of b within ``NEAR_KM`` of a's
            fighters (averaged over a's fighters).
        power: ``(R, O)`` combat power per fighter, ``quality * (0.5 + 0.5 * cohesion)``
            (0 for the IS core).
        dominance: ``(R, O)`` fighter-weighted mean of an organization's share of all
            fighters in its cells.
    """

    fighters: np.ndarray
    sympathizers: np.ndarray
    totals: np.ndarray
    sympathizer_totals: np.ndarray
    start_totals: np.ndarray
    initial: np.ndarray
    peak: np.ndarray
    reserve: np.ndarray
    collapsed: np.ndarray
    held: np.ndarray
    cells_held: np.ndarray
    near: np.ndarray
    power: np.ndarray
    dominance: np.ndarray


@dataclass
class Organizations:
    """Attributes of the organizations, ``(R, O)`` each (scenario fields and dynamic state).

    See the attribute table in ``docs/model.md`` (2.2) for units and ranges.
    """

    camp: np.ndarray
    kind: np.ndarray
    conventional: np.ndarray
    base_conceal: np.ndarray
    conceal: np.ndarray
    quality: np.ndarray
    brutality: np.ndarray
    purge_capacity: np.ndarray
    local_roots: np.ndarray
    disagreement: np.ndarray
    established: np.ndarray
    foreign_access: np.ndarray
    base_cohesion: np.ndarray
    cohesion: np.ndarray
    base_visibility: np.ndarray
    base_brutality: np.ndarray
    visibility: np.ndarray
    grievance: np.ndarray
    injustice: np.ndarray
    resources: np.ndarray
    vigilance: np.ndarray
    momentum: np.ndarray
    active: np.ndarray
    courted: np.ndarray
    investment_share: np.ndarray
    recent_statements: np.ndarray
    statements_since_review: np.ndarray
    backlash: np.ndarray
    consolidation: np.ndarray
    recognized: np.ndarray
    susceptibility: np.ndarray


@dataclass
class Relations:
    """Relations between organizations.

    Attributes:
        hostile, allied: ``(R, O, O)`` bool, symmetric.
        grudge: ``(R, O, O)`` ``[a, b]``: a's desire to punish b (asymmetric, >= 0).
        parent_of: ``(R, O)`` the organization v split from (-1: none).
        origin: ``(R, O)`` the group a splinter or dissident faction came from.
        patron: ``(R, O)`` the IS core that invests in v (-1: none).
        dissident_of: ``(R, O)`` affiliate v -> its dissident faction (-1: none).
    """

    hostile: np.ndarray
    allied: np.ndarray
    grudge: np.ndarray
    parent_of: np.ndarray
    origin: np.ndarray
    patron: np.ndarray
    dissident_of: np.ndarray


@dataclass
class Intelligence:
    """What organizations know of each other, ``(R, O, O)`` ``[knower, target]``: a state's
    intelligence on each group, and what a group's population hides of it from each
    attacker (``cover``).

    Attributes:
        intel: intelligence in [0, 1].
        operation_days: days left of a major raid operation.
        next_operation: first day on which another operation may start.
        located: share of the target's fighters the state located when it launched the
            operation under way (0 without one): all its raids can reach.
        hunt: whether the operation under way hunts the target's founding emir (a
            decapitation strike on the leader and his escort, not a sweep).
        hunt_odds: today's probability that a hunt under way finds its man (-1 on no
            hunt's day).
        strike: share of the located fighters the operation strikes today (0 on no
            operation day).
        strike_draw: ``(R, O, O, 2)`` today's uniforms for the target's emir and
            commanders caught in a strike by each state.
        missed: share of the state's combat effort today that misses the group for want of
            intelligence and falls on its population (0 without counter-terrorism).
        cover: ``[attacker, target]`` (any attacker, not only states) multiplier of the
            target's concealment against the attacker: the cover the target's population
            gives it against outsiders less rooted than it (1 without terrain).
    """

    intel: np.ndarray
    operation_days: np.ndarray
    next_operation: np.ndarray
    located: np.ndarray
    hunt: np.ndarray
    hunt_odds: np.ndarray
    strike: np.ndarray
    strike_draw: np.ndarray
    missed: np.ndarray
    cover: np.ndarray


@dataclass
class Leadership:
    """Emirs and commanders, ``(R, O)`` each.

    Attributes:
        emir_alive: bool.
        commanders: commanders alive below the emir.
        successions: successions since the scenario's emir (names the successor in events).
        named: whether the current line of emirs goes back to the scenario's named emir.
        founder: whether the organization's first emir has never died (the one a state's
            raid operations hunt before they sweep; never set again once he is dead, even
            when a successor or a revived faction's leader takes his place).
        successor_due: the day the successor of a dead emir takes over (-1: none due).
        emir_names: ``(O,)`` the scenario's emir names.
    """

    emir_alive: np.ndarray
    commanders: np.ndarray
    successions: np.ndarray
    named: np.ndarray
    founder: np.ndarray
    successor_due: np.ndarray
    emir_names: list[str]

    def emir_label(self, r: int, v: int) -> str:
        """The name of v's current emir in replicate r, as events show it."""
        n = int(self.successions[r, v])
        base = self.emir_names[v] if self.named[r, v] else ""
        if n == 0:
            return base
        return "successor of " * n + (base or "the emir")


@dataclass
class Conduct:
    """What each organization remembers of its own decisions, ``(R, O)`` each.

    Attributes:
        offensive_target: the target of its offensive (-1: none); ``offensive_days`` its
            length so far; ``regroup_until`` the day until which it regroups after one.
        retreating, purging: bool.
        safe_passage_days: days left of a granted safe passage; ``last_request`` the day
            of its last request (-inf: never); ``besieged_days`` its days of siege (one
            more each day besieged, one fewer each day not).
        ordered_until: the day until which an offensive ordered from outside (a scripted
            input) runs whatever the odds (-1: none); ``ordered_intensity`` its intensity.
        air: ``(R, O, O)`` ``[k, v]`` attrition multiplier of air support for k's combat
            against v (1: none), until ``air_until`` (exclusive).
        withdrawn: ``(R, O, N)`` bool, k has withdrawn from region n (a standing order).
        friction: the friction the locals around an outsider have built up against it
            (the coalition forms at 1).
        losses: ``(R, O, D)`` fighters lost to violence (killed, detained, surrendered) on
            each of the last D days (a ring indexed by day mod D; D is the retreat
            mechanism's ``BREAK_DAYS``, 0 when it is off).
        broken_until: the last day of a broken force's dispersal (-1: never broken).
    """

    offensive_target: np.ndarray
    offensive_days: np.ndarray
    regroup_until: np.ndarray
    retreating: np.ndarray
    purging: np.ndarray
    safe_passage_days: np.ndarray
    last_request: np.ndarray
    besieged_days: np.ndarray
    ordered_until: np.ndarray
    ordered_intensity: np.ndarray
    air: np.ndarray
    air_until: np.ndarray
    withdrawn: np.ndarray
    friction: np.ndarray
    losses: np.ndarray
    broken_until: np.ndarray


@dataclass
class Region:
    """Region-wide state, ``(R,)`` each: the IS brand's appeal, the record of IS defeats,
    and the IS core's fortunes across theatres (1: as at the start; a scripted input)."""

    is_appeal: np.ndarray
    is_defeats: np.ndarray
    core_fortunes: np.ndarray


@dataclass
class World:
    """The whole state of R replicates of one case.

    Attributes:
        names: organization names (``O``).
        day: days elapsed.
        core: the IS core (the patron of pledges, the investor; -1: none in the scenario).
        roles: ``{decision: (O,) bool}``, which organizations take that decision (from
            their agent class, :mod:`affiliate_sim.model.agents`).
        acting: ``(R, O)`` bool, who decides today (set by :meth:`begin_day`).
        hooks: ``{event: [function]}`` of the switched-on processes (see :meth:`emit`).
    """

    names: list[str]
    grid: Grid
    forces: Forces
    orgs: Organizations
    relations: Relations
    intel: Intelligence
    leadership: Leadership
    conduct: Conduct
    region: Region
    day: int = 0
    core: int = -1
    near_radius: int = NEAR_RADIUS
    cell_km: float = 25.0
    roles: dict[str, np.ndarray] = field(default_factory=dict)
    acting: np.ndarray | None = None
    hooks: dict[str, list[Callable[..., Any]]] = field(default_factory=dict)

    @property
    def R(self) -> int:
        return self.forces.totals.shape[0]

    @property
    def O(self) -> int:  # noqa: E743
        return len(self.names)

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, case, R: int, estimates: Sequence[dict] | None = None) -> World:
        """R replicates of a scenario's starting state, identical but for ``estimates``:
        each replicate's ``{organization: {field: value}}`` replacing the file's values
        (:func:`~affiliate_sim.scenario.params.case_estimates`; a new strength keeps the
        file's spread over the regions, and a reserve the file left to its default
        follows it).

        Parameter-dependent values (concealment, vigilance, cell fields, appeal) are set
        afterwards by the processes' ``setup``.
        """
        specs = case.organizations
        O = len(specs)
        H, W = case.height, case.width
        idx = {o.name: i for i, o in enumerate(specs)}
        rep = lambda a: np.repeat(np.asarray(a)[None], R, axis=0)  # noqa: E731
        col = lambda attr, dtype=float: rep(np.array([getattr(o, attr) for o in specs],  # noqa: E731
                                                      dtype=dtype))

        layers = {k: case.layers[k].astype(float) for k in
                  ("terrain", "population", "remoteness", "state_presence")}
        masks = (np.stack(list(case.regions.values())) if case.regions
                 else np.zeros((0, H, W), dtype=bool))
        density = 1000.0 * layers["population"] / case.cell_km ** 2  # inhabitants per km2
        grid = Grid(cover=layers["terrain"] + layers["remoteness"],
                    people=density / (density + HOME_DENSITY),
                    region_names=list(case.regions), region_masks=masks,
                    fields=CellFields.neutral(R, H, W), **layers)

        def spread(o, fighters: float) -> np.ndarray:
            """``(H, W)``: an organization's strength over its regions' cells."""
            out = np.zeros((H, W))
            total_share = sum(o.regions.values())
            for rname, share in o.regions.items():
                mask = case.regions[rname]
                out[mask] += fighters * share / total_share / mask.sum()
            return out

        F0 = np.stack([spread(o, o.fighters) for o in specs]) if specs else np.zeros((0, H, W))
        F = rep(F0)
        S = F * np.array([o.sympathizer_share for o in specs])[None, :, None, None]
        zeros = lambda: np.zeros((R, O))  # noqa: E731
        forces = Forces(fighters=F, sympathizers=S, totals=zeros(), sympathizer_totals=zeros(),
                        start_totals=zeros(), initial=zeros(), peak=zeros(),
                        reserve=col("reserve"),
                        collapsed=np.zeros((R, O), dtype=bool),
                        held=np.zeros((R, O, H, W), dtype=bool),
                        cells_held=np.zeros((R, O), dtype=np.int64),
                        near=np.zeros((R, O, O)), power=zeros(), dominance=zeros())

        kind = np.array([KINDS.index(o.kind) for o in specs])
        orgs = Organizations(
            camp=rep(np.array([CAMPS.index(o.camp) for o in specs])),
            kind=rep(kind),
            conventional=rep(np.array([STYLES.index(o.style) == 1 for o in specs])),
            base_conceal=zeros(), conceal=zeros(),
            quality=col("quality"), brutality=col("brutality"),
            base_brutality=col("brutality"),
            purge_capacity=col("purge_capacity"), local_roots=col("local_roots"),
            disagreement=col("strategic_disagreement"), established=col("established"),
            foreign_access=col("foreign_access"),
            base_cohesion=col("cohesion"), cohesion=col("cohesion"),
            base_visibility=col("visibility"), visibility=col("visibility"),
            grievance=col("grievance"), injustice=col("injustice"),
            resources=col("resources"), vigilance=col("vigilance"),
            momentum=zeros(), active=rep(np.array([not o.dormant for o in specs])),
            courted=zeros(), investment_share=zeros(), recent_statements=zeros(),
            statements_since_review=zeros(),
            backlash=zeros(), consolidation=zeros(),
            recognized=np.zeros((R, O), dtype=bool), susceptibility=np.ones((R, O)),
        )

        hostile = np.zeros((O, O), dtype=bool)
        allied = np.zeros((O, O), dtype=bool)
        parent_of = np.full(O, -1)
        origin = np.full(O, -1)
        patron = np.full(O, -1)
        dissident_of = np.full(O, -1)
        for a, b, rel in case.relations:
            i, j = idx[a], idx[b]
            if rel == "hostile":
                hostile[i, j] = hostile[j, i] = True
            elif rel == "allied":
                allied[i, j] = allied[j, i] = True
            elif rel == "parent":  # a's parent is b
                parent_of[i] = origin[i] = j
            elif rel == "patron":
                patron[i] = j
        for o in specs:
            if o.dissident_of:
                dissident_of[idx[o.dissident_of]] = idx[o.name]
                origin[idx[o.name]] = idx[o.dissident_of]
        relations = Relations(hostile=rep(hostile), allied=rep(allied),
                              grudge=np.zeros((R, O, O)), parent_of=rep(parent_of),
                              origin=rep(origin), patron=rep(patron),
                              dissident_of=rep(dissident_of))
        intel = Intelligence(intel=np.zeros((R, O, O)), operation_days=np.zeros((R, O, O)),
                             next_operation=np.zeros((R, O, O)), located=np.zeros((R, O, O)),
                             hunt=np.zeros((R, O, O), dtype=bool),
                             hunt_odds=np.full((R, O, O), -1.0),
                             strike=np.zeros((R, O, O)), strike_draw=np.ones((R, O, O, 2)),
                             missed=np.zeros((R, O, O)),
                             cover=np.ones((R, O, O)))
        emir_alive = np.array([o.fighters > 0 or o.kind == "is_core" for o in specs])
        leadership = Leadership(
            emir_alive=rep(emir_alive), commanders=col("commanders", np.int64),
            successions=np.zeros((R, O), dtype=np.int64),
            named=np.ones((R, O), dtype=bool), founder=np.ones((R, O), dtype=bool),
            successor_due=np.full((R, O), -1, dtype=np.int64), emir_names=[o.emir for o in specs])
        conduct = Conduct(
            offensive_target=np.full((R, O), -1), offensive_days=np.zeros((R, O), np.int64),
            regroup_until=np.zeros((R, O), np.int64),
            retreating=np.zeros((R, O), dtype=bool), purging=np.zeros((R, O), dtype=bool),
            safe_passage_days=np.zeros((R, O), np.int64),
            last_request=np.full((R, O), -np.inf),
            besieged_days=np.zeros((R, O), np.int64),
            ordered_until=np.full((R, O), -1, np.int64), ordered_intensity=np.zeros((R, O)),
            air=np.ones((R, O, O)), air_until=np.zeros((R, O, O), np.int64),
            withdrawn=np.zeros((R, O, len(case.regions)), dtype=bool),
            friction=np.zeros((R, O)),
            losses=np.zeros((R, O, 0)),  # sized by the retreat mechanism's setup
            broken_until=np.full((R, O), -1, np.int64))
        region = Region(is_appeal=np.zeros(R), is_defeats=np.zeros(R),
                        core_fortunes=np.ones(R))
        for r, est in enumerate(estimates or ()):
            for oname, values in est.items():
                _replace_estimates(forces, orgs, r, idx[oname], specs[idx[oname]], values,
                                   spread)
        world = cls(names=[o.name for o in specs], grid=grid, forces=forces, orgs=orgs,
                    relations=relations, intel=intel, leadership=leadership,
                    conduct=conduct, region=region,
                    core=int(np.argmax(kind == IS_CORE)) if (kind == IS_CORE).any() else -1,
                    near_radius=near_radius(case.cell_km), cell_km=float(case.cell_km))
        world.refresh()
        forces.initial = forces.totals.copy()
        forces.peak = forces.totals.copy()
        return world

    # ------------------------------------------------------------------ views
    def refresh_totals(self) -> None:
        """Recompute the totals over the grid."""
        f = self.forces
        f.totals = kgrid.totals(f.fighters)
        f.sympathizer_totals = kgrid.totals(f.sympathizers)

    def refresh(self) -> None:
        """Recompute every derived view the decisions read (see :class:`Forces`)."""
        self.refresh_totals()
        f, o = self.forces, self.orgs
        f.near = kgrid.near(f.fighters, f.totals, self.near_radius)
        f.power = np.where(o.kind == IS_CORE, 0.0, o.quality * (0.5 + 0.5 * o.cohesion))
        f.held = kgrid.held(f.fighters)
        f.cells_held = f.held.sum(axis=(2, 3))
        f.dominance = kgrid.dominance(f.fighters, f.totals)

    def near_within(self, km: float) -> np.ndarray:
        """``(R, O, O)`` ``[a, b]``: fighters of b within ``km`` of a's fighters (``km`` in
        this case's cells, rounded; 0 cells: the same cell), averaged over a's fighters."""
        f = self.forces
        return kgrid.near(f.fighters, f.totals, max(0, round(km / self.cell_km)))

    def begin_day(self) -> None:
        """Who decides today: active organizations with at least ``MIN_ACTING`` fighters,
        and the IS core always."""
        self.acting = ((self.orgs.active & (self.forces.totals >= MIN_ACTING))
                       | (self.orgs.kind == IS_CORE))

    def takes_part(self, decision: str) -> np.ndarray:
        """``(R, O)`` bool: organizations that take ``decision`` and act today."""
        role = self.roles.get(decision)
        if role is None:
            return np.zeros_like(self.acting)
        return self.acting & role[None, :]

    def kernel_state(self) -> KernelState:
        """The kernel's view of today's world."""
        o, ld = self.orgs, self.leadership
        return KernelState(
            fighters=self.forces.fighters, sympathizers=self.forces.sympathizers,
            cohesion=o.cohesion, visibility=o.visibility, purge_capacity=o.purge_capacity,
            quality=o.quality, conceal=o.conceal, conceal_against=self.intel.cover,
            conventional=o.conventional,
            emir_alive=ld.emir_alive, commanders=ld.commanders,
            population=self.grid.population, state_presence=self.grid.state_presence,
            cover=self.grid.cover, people=self.grid.people)

    # ------------------------------------------------------------------ events
    def emit(self, event: str, p, log, **kwargs) -> None:
        """Let the switched-on processes react to an event (e.g. ``on_pledge``)."""
        for hook in self.hooks.get(event, ()):
            hook(self, p, log, **kwargs)

    # ------------------------------------------------------------------ helpers
    def main_killer(self, killed: np.ndarray) -> np.ndarray:
        """``(R, O)`` who killed most of each organization's fighters today, not counting
        itself (-1: nobody else killed any). ``killed`` is ``(R, O, O)`` [victim, killer]."""
        k = killed.copy()
        O = k.shape[1]
        k[:, np.arange(O), np.arange(O)] = 0.0
        best = k.argmax(axis=2)
        return np.where(k.sum(axis=2) > 0, best, -1)

    def camp_names(self, r: int = 0) -> list[str]:
        """Each organization's camp now in replicate r."""
        return [CAMPS[c] for c in self.orgs.camp[r]]


#: Attributes of :class:`Organizations` a scenario field sets (the same name otherwise).
_ATTRS = {"cohesion": ("cohesion", "base_cohesion"),
          "visibility": ("visibility", "base_visibility"),
          "brutality": ("brutality", "base_brutality"),
          "strategic_disagreement": ("disagreement",)}


def _replace_estimates(forces: Forces, orgs: Organizations, r: int, i: int, spec,
                       values: dict[str, float], spread: Callable) -> None:
    """Replicate ``r``'s values of organization ``i``'s fields (:meth:`World.build`)."""
    for f, v in values.items():
        if f == "fighters":
            forces.fighters[r, i] = spread(spec, v)
            if spec.reserve_default:  # the file left it to its default
                forces.reserve[r, i] = v
        elif f != "sympathizer_share":
            for attr in _ATTRS.get(f, (f,)):
                getattr(orgs, attr)[r, i] = v
    share = values.get("sympathizer_share", spec.sympathizer_share)
    forces.sympathizers[r, i] = forces.fighters[r, i] * share
