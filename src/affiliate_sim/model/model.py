"""AffiliateModel: jihadist organizations competing for fighters and ground, one day a step.

Source: D. Gartenstein-Ross and N. Barr, "Neither Remaining Nor Expanding: The Islamic
State's Global Expansion Struggles" (2016): IS affiliates outside Syria and Iraq failing to
states (Algeria), former allies (the IMU), parents (al-Murabitun), purges (Somalia), local
coalitions (Derna) and their own schisms (Yemen, Khorasan), and succeeding where no rival
dominates (Sirte, Sinai). The model description, in the ODD protocol, is ``docs/model.md``.

One model advances R replicates of a case at once (an ensemble): each replicate has its own
seed and may have its own parameter values; the switched-on mechanisms are the same for all.
Each day has three phases:

* **decide**: the day's scripted inputs; then each switched-on process, in the documented
  order (:data:`affiliate_sim.mechanisms.PROCESSES`), computes its decisions for every
  organization in every replicate and fills the day's plan;
* **interact**: one call of the kernel (:func:`affiliate_sim.kernel.interact`) computes
  every flow of the day on all cells of all replicates;
* **apply**: the new stocks, then each process's updates, in the same order; the derived
  views are refreshed and the day is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalVonNeumannGrid

from affiliate_sim.kernel import DayPlan, Noise, interact, pack_params
from affiliate_sim.mechanisms import PROCESSES
from affiliate_sim.model.agents import Organization, agent_class, roles
from affiliate_sim.model.events import EventLog
from affiliate_sim.model.history import History, RunHistory
from affiliate_sim.model.inputs import apply_inputs, enforce
from affiliate_sim.model.streams import Streams
from affiliate_sim.model.world import World
from affiliate_sim.scenario import Scenario, load_scenario
from affiliate_sim.scenario.params import Params, case_arrays, case_estimates
from affiliate_sim.vocabulary import CAMPS, KINDS


@dataclass
class Run:
    """One replicate of a run: what outputs, observations and figures read.

    Attributes:
        case: the scenario; seed: the replicate's seed; params: its parameter set;
        days: run length; names: organizations;
        camp, kind: ``(O,)`` codes at the end (after any pledge);
        history: its :class:`~affiliate_sim.model.history.RunHistory`;
        events: its event log.
    """

    case: Scenario
    seed: int
    params: Params
    days: int
    names: list[str]
    camp: np.ndarray
    kind: np.ndarray
    history: RunHistory
    events: list[dict]

    @property
    def camp_names(self) -> list[str]:
        """Each organization's camp at the end (``IS``, ``AQ``, ``state``, ``independent``)."""
        return [CAMPS[c] for c in self.camp]

    @property
    def kind_names(self) -> list[str]:
        return [KINDS[k] for k in self.kind]


class AffiliateModel(mesa.Model):
    """The affiliate competition model (see the module docstring and docs/model.md).

    Args:
        scenario: a :class:`~affiliate_sim.scenario.Scenario`, a scenario name or a path.
        params: a parameter set for every replicate, or one per replicate (defaults if
            omitted). Every replicate must switch on the same mechanisms.
        rng: the seed of a single run (``seeds=[rng]``); seeds Mesa's streams too.
        days: run length (defaults to the scenario's).
        seeds: the replicates' seeds (an ensemble of ``len(seeds)`` replicates).
        snapshots: keep weekly grid snapshots in the history (for maps and the view).

    Attributes:
        world: the :class:`~affiliate_sim.model.world.World` (the whole state).
        history: the history buffers of every replicate.
        day, days: days elapsed, run length.
        seeds: the replicates' seeds; ``R`` their number.
    """

    def __init__(self, scenario: Scenario | str | Path,
                 params: Params | Sequence[Params] | None = None, rng: int | None = None,
                 days: int | None = None, *, seeds: Sequence[int] | None = None,
                 snapshots: bool = True):
        if seeds is None:
            seeds = [int(rng) if rng is not None
                     else int(np.random.SeedSequence().entropy % 2**63)]
        self.seeds = [int(s) for s in seeds]
        if not self.seeds or any(s < 0 for s in self.seeds):
            raise ValueError("seeds must be whole numbers >= 0, at least one")
        super().__init__(rng=self.seeds[0])
        self.case = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        R = len(self.seeds)
        plist = ([params] * R if isinstance(params, Params) or params is None
                 else list(params))
        plist = [p if p is not None else Params() for p in plist]
        if len(plist) != R:
            raise ValueError(f"{len(plist)} parameter sets for {R} seeds")
        for p in plist:
            p.validate()
        if any(p.mechanisms != plist[0].mechanisms for p in plist):
            raise ValueError("every replicate of an ensemble must switch on the same "
                             "mechanisms")
        self.param_sets = plist
        self.params = plist[0]
        self.p = case_arrays(plist, self.case.cell_km)  # per cell: docs/model.md 2.1
        self.kp = pack_params(self.p)
        self.days = int(days if days is not None else self.case.days)
        self.day = 0
        self.processes = [m for m in PROCESSES if not m.SWITCHABLE or self.params.on(m.NAME)]

        world = self.world = World.build(self.case, R, case_estimates(self.case, plist))
        self.names = world.names
        H, W = self.case.height, self.case.width
        self.grid = OrthogonalVonNeumannGrid((H, W), torus=False, random=self.random)
        self.organizations: list[Organization] = [
            agent_class(k)(self, i, n) for i, (n, k) in enumerate(zip(
                world.names, world.orgs.kind[0], strict=True))]
        world.roles = roles(self.organizations)
        for m in self.processes:
            for event, hook in getattr(m, "HOOKS", {}).items():
                world.hooks.setdefault(event, []).append(hook)
        for m in self.processes:
            if hasattr(m, "setup"):
                m.setup(world, self.p)
        world.refresh()

        self.streams = Streams(self.seeds)
        self.log = EventLog(world.names, R)
        self._max_commanders = int(world.leadership.commanders.max(initial=0))
        self.history = History(self.days, world.names, world.grid.region_names, R, snapshots)
        self.history.record(world, 0)
        self._inputs: dict[int, list] = {}
        for x in self.case.inputs:
            self._inputs.setdefault(x.day, []).append(x)
        self._place_agents()

    @property
    def R(self) -> int:
        return len(self.seeds)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """One day: decide, interact, apply."""
        w = self.world
        R, O = w.R, w.O
        w.day = self.log.day = self.streams.day = self.day
        plan = DayPlan.empty(R, O)
        plan.grudge = w.relations.grudge
        w.begin_day()
        apply_inputs(w, self._inputs.get(self.day, ()), self.p, self.log)
        enforce(w)
        for m in self.processes:
            if hasattr(m, "decide"):
                m.decide(w, plan, self.p, self.streams.of(m.NAME), self.log)
        noise = Noise(fortune=self.streams.of("combat").normal("fortune", (O,)),
                      leader=self.streams.of("leadership").uniform(
                          "leader", (O, 1 + self._max_commanders)))
        flows = interact(w.kernel_state(), w.grid.fields, plan, self.kp, noise)
        f = w.forces
        f.start_totals = f.totals
        f.fighters, f.sympathizers = flows.fighters, flows.sympathizers
        enforce(w)  # standing orders hold through the day's movement too
        w.refresh_totals()
        for m in self.processes:
            if hasattr(m, "apply"):
                m.apply(w, flows, self.p, self.log)
        w.refresh()
        self.day += 1
        self.history.record(w, self.day, flows)
        self._place_agents()
        if self.day >= self.days:
            self.running = False

    def run(self) -> AffiliateModel:
        """Run to the last day."""
        while self.running:
            self.step()
        return self

    def _place_agents(self) -> None:
        """Stand each organization's agent on the cell where most of its fighters are
        (replicate 0)."""
        F = self.world.forces.fighters[0]
        W = F.shape[2]
        best = F.reshape(F.shape[0], -1).argmax(axis=1)
        for agent, flat in zip(self.organizations, best, strict=True):
            agent.cell = self.grid._cells[(int(flat) // W, int(flat) % W)]

    # ------------------------------------------------------------------ results
    def record(self, r: int = 0) -> Run:
        """Replicate ``r`` of the run so far (history views, no copy)."""
        return Run(case=self.case, seed=self.seeds[r], params=self.param_sets[r],
                   days=self.days, names=list(self.names),
                   camp=self.world.orgs.camp[r].copy(), kind=self.world.orgs.kind[r].copy(),
                   history=self.history.replicate(r), events=self.log.by_replicate[r])

    @property
    def events(self) -> list[dict]:
        """The event log of replicate 0 (of the run, when it is a single run)."""
        return self.log.by_replicate[0]
