"""AffiliateModel: jihadist organizations competing for fighters and ground, one day a step.

Source: D. Gartenstein-Ross and N. Barr, "Neither Remaining Nor Expanding: The Islamic
State's Global Expansion Struggles" (2016): IS affiliates outside Syria and Iraq failing to
states (Algeria), former allies (the IMU), parents (al-Murabitun), purges (Somalia), local
coalitions (Derna) and their own schisms (Yemen, Khorasan), and succeeding where no rival
dominates (Sirte, Sinai). The model description, in the ODD protocol, is ``docs/model.md``.

Each day has three phases:

* **decide**: scripted inputs of the day are applied; every organization (a Mesa agent, in
  random order) fills its rows of the day's plan; then the per-fighter behaviour of every
  group (where sympathizers would defect, conversion, recruiting appeal, desertion) is set.
* **interact**: one call of the vectorized kernel (:func:`affiliate_sim.kernel.interact`)
  computes every flow of the day on all cells.
* **apply**: the flows update stocks, leadership, cohesion, grievance and momentum; events
  are logged; the day is written to the model's own history buffers.
"""

from __future__ import annotations

import math
from pathlib import Path

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalVonNeumannGrid
from scipy import ndimage

from affiliate_sim import offensive
from affiliate_sim.agents import ISCore, Organization, StateForce
from affiliate_sim.history import History
from affiliate_sim.kernel import grid, interact
from affiliate_sim.kernel.arrays import (
    CAMPS,
    IS,
    IS_AFFILIATE,
    IS_CORE,
    KINDS,
    SPLINTER,
    STATE,
    STYLES,
    DayPlan,
    GridLayers,
    KernelParams,
    KernelState,
    Noise,
)
from affiliate_sim.mechanisms import coalition, counterterrorism, investment, momentum, pledge
from affiliate_sim.mechanisms import retaliation, schism
from affiliate_sim.params import Params
from affiliate_sim.scenario import Scenario, load_scenario

#: Most commanders any organization can have (size of the leader noise array).
MAX_COMMANDERS = 64
_r = offensive.NEAR_RADIUS
_yy, _xx = np.mgrid[-_r:_r + 1, -_r:_r + 1]
#: Diamond stencil of radius NEAR_RADIUS, with a leading organization axis.
_DIAMOND = (np.abs(_yy) + np.abs(_xx) <= _r).astype(float)[None]


class AffiliateModel(mesa.Model):
    """The affiliate competition model (see the module docstring and docs/model.md).

    Args:
        scenario: a :class:`~affiliate_sim.scenario.Scenario`, a scenario name or a path.
        params: behavioural parameters (defaults if omitted).
        rng: seed; seeds both Mesa streams (``model.random`` and ``model.rng``).
        days: run length (defaults to the scenario's).

    Attributes:
        day: days elapsed.
        fighters, sympathizers: ``(1, O, H, W)`` stocks (the kernel's leading replicate
            axis has length 1 here).
        history: per-day buffers (see :class:`~affiliate_sim.history.History`).
        events: the event log, a list of dicts.
    """

    def __init__(self, scenario: Scenario | str | Path, params: Params | None = None,
                 rng: int | None = None, days: int | None = None):
        super().__init__(rng=rng)
        self.case = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.params = params if params is not None else Params()
        self.params.validate()
        self.kp = KernelParams.from_params(self.params)
        self.p = {k: float(v[0]) for k, v in self.kp.items()}
        self.days = int(days if days is not None else self.case.days)
        self.day = 0
        case = self.case
        H, W = case.height, case.width
        self.grid = OrthogonalVonNeumannGrid((H, W), torus=False, random=self.random)
        self.layers = GridLayers(**{k: case.layers[k][None].astype(float)
                                    for k in ("terrain", "population", "remoteness",
                                              "state_presence")})
        self._build_organizations()
        self.history = History(self.days, self.names)
        self.events: list[dict] = []
        self._inputs = {d: [x for x in case.inputs if x.day == d]
                        for d in {x.day for x in case.inputs}}
        self._refresh()
        self.history.record_start(self)

    # ------------------------------------------------------------------ set-up
    def _build_organizations(self) -> None:
        case = self.case
        specs = case.organizations
        O = len(specs)
        H, W = case.height, case.width
        idx = {o.name: i for i, o in enumerate(specs)}
        self.names = [o.name for o in specs]
        self.camp = np.array([CAMPS.index(o.camp) for o in specs])
        self.kind = np.array([KINDS.index(o.kind) for o in specs])
        arr = lambda attr: np.array([float(getattr(o, attr)) for o in specs])  # noqa: E731
        self.base_cohesion = arr("cohesion")
        self.cohesion = self.base_cohesion.copy()
        self.base_visibility = arr("visibility")
        self.visibility = self.base_visibility.copy()
        self.brutality = arr("brutality")
        self.purge_capacity = arr("purge_capacity")
        self.local_roots = arr("local_roots")
        self.quality = arr("quality")
        self.vigilance = np.clip(arr("vigilance") * self.p["state_vigilance"], 0.0, 1.0)
        self.injustice = arr("injustice")
        self.disagreement = arr("strategic_disagreement")
        self.established = arr("established")
        self.resources = arr("resources")
        self.foreign_access = arr("foreign_access")
        self.style = np.array([STYLES.index(o.style) for o in specs])
        self.conceal = np.where(self.style == 0, self.p["conceal_guerrilla"],
                                self.p["conceal_conventional"])
        self.emir_alive = np.array([o.fighters > 0 or o.kind == "is_core" for o in specs])
        self.emir_name = [o.emir for o in specs]
        self.commanders = np.array([o.commanders for o in specs], dtype=np.int64)
        self.active = np.array([not o.dormant for o in specs])
        self.dissident_of = np.full(O, -1)
        for o in specs:
            if o.dissident_of:
                self.dissident_of[idx[o.dissident_of]] = idx[o.name]
        self.parent_of = np.full(O, -1)
        self.origin = np.full(O, -1)  # the group a splinter came from (kept after a split)
        self.hostile = np.zeros((O, O), dtype=bool)
        self.allied = np.zeros((O, O), dtype=bool)
        self.patron = np.full(O, -1)
        for a, b, kind in case.relations:
            i, j = idx[a], idx[b]
            if kind == "hostile":
                self.hostile[i, j] = self.hostile[j, i] = True
            elif kind == "allied":
                self.allied[i, j] = self.allied[j, i] = True
            elif kind == "parent":  # a's parent is b
                self.parent_of[i] = j
                self.origin[i] = j
            elif kind == "patron":
                self.patron[i] = j
        for o in specs:  # a dissident faction's origin is the affiliate it breaks from
            if o.dissident_of:
                self.origin[idx[o.name]] = idx[o.dissident_of]
        self.grudge = np.zeros((O, O))
        self.intel = np.zeros((O, O))
        self.raid_operation_days = np.zeros((O, O))
        self.next_operation = np.zeros((O, O))  # [state, target] first day of the next one
        self.grievance = arr("grievance")
        self.momentum = np.zeros(O)
        self.recent_statements = np.zeros(O)
        self.courted = np.zeros(O)
        self.investment_share = np.zeros(O)
        self.is_defeats = 0.0
        self.is_appeal = 0.0

        F = np.zeros((1, O, H, W))
        for i, o in enumerate(specs):
            total_share = sum(o.regions.values())
            for rname, share in o.regions.items():
                mask = case.regions[rname]
                F[0, i][mask] += o.fighters * share / total_share / mask.sum()
        self.fighters = F
        self.sympathizers = F * np.array([o.sympathizer_share for o in specs])[None, :, None,
                                                                               None]
        self.peak = F.sum(axis=(0, 2, 3))
        self.initial_fighters = self.peak.copy()
        self.collapsed = np.zeros(O, dtype=bool)

        self.organizations = []
        for i, o in enumerate(specs):
            cls = {IS_CORE: ISCore, KINDS.index("state_force"): StateForce}.get(
                self.kind[i], Organization)
            agent = cls(self, i, o.name)
            self.organizations.append(agent)
        self._place_headquarters()

    def _place_headquarters(self) -> None:
        """Stand each organization's agent on the cell where most of its fighters are."""
        F = self.fighters[0]
        W = self.case.width
        for agent in self.organizations:
            flat = int(np.argmax(F[agent.index]))
            agent.cell = self.grid._cells[(flat // W, flat % W)]

    # ------------------------------------------------------------------ day
    def step(self) -> None:
        """One day: decide, interact, apply."""
        self.plan = DayPlan.empty(1, len(self.names))
        self._apply_inputs()
        self.agents.shuffle_do("decide")
        self._population_rules()
        state = self.kernel_state()
        noise = Noise.draw(self.rng, 1, len(self.names), MAX_COMMANDERS)
        start = self.totals.copy()
        flows = interact(state, self.plan, self.kp, noise)
        self._apply(flows, start)
        self.day += 1
        self.history.record_day(self, flows)
        if self.day >= self.days:
            self.running = False

    def run(self) -> AffiliateModel:
        """Run to the last day."""
        while self.running:
            self.step()
        return self

    def kernel_state(self) -> KernelState:
        """The kernel's view of today's world."""
        e = lambda a: a[None]  # noqa: E731
        return KernelState(
            layers=self.layers, fighters=self.fighters, sympathizers=self.sympathizers,
            cohesion=e(self.cohesion), visibility=e(self.visibility),
            purge_capacity=e(self.purge_capacity), quality=e(self.quality),
            conceal=e(self.conceal), conventional=e(self.style == 1),
            emir_alive=e(self.emir_alive),
            commanders=e(self.commanders),
        )

    # ------------------------------------------------------------------ decide
    def _apply_inputs(self) -> None:
        """Scripted inputs of the day: the start of a case and outside shocks."""
        idx = {n: i for i, n in enumerate(self.names)}
        for x in self._inputs.get(self.day, []):
            a = idx[x.actor]
            t = idx[x.target] if x.target else -1
            if x.kind == "pledge":
                self.pledge(a, note=x.note or "scripted pledge")
            elif x.kind == "visibility_shock":
                self.visibility[a] = min(1.0, self.visibility[a] + x.magnitude)
                self.log("spectacular_attack", a, t, x.magnitude, x.note)
            elif x.kind == "assassination":
                self.log("leader_killed", a, t, 1.0, x.note)
                self._succession(t, killer=a)
                if self.params.on("coalition"):
                    coalition.provoke(t, a, self.allied, self.hostile, self.grudge, self.p)
            elif x.kind == "courting":
                self.courted[t] = min(1.0, x.magnitude)
                self.log("courting", a, t, x.magnitude, x.note)
        if self.params.on("coalition"):
            members, targets = coalition.form(self.near, self.local_roots, self.camp,
                                              self.active & (self.totals > 0), self.allied,
                                              self.hostile, IS, STATE,
                                              self.rng.random(len(self.names)), self.p)
            for t in targets:
                self.log("coalition_formed", members[0] if members else -1, t,
                         len(members), "locals: " + ", ".join(self.names[m] for m in members))
        self.grudge_ext = (retaliation.shelter(self.grudge, self.allied)
                           if self.params.on("retaliation") else self.grudge)

    def pledge(self, i: int, note: str = "") -> None:
        """Organization ``i`` pledges to the IS camp (bayat), with what follows."""
        old = int(self.camp[i])
        if old == IS:
            return
        self.camp[i] = IS
        if self.kind[i] != SPLINTER:
            self.kind[i] = IS_AFFILIATE
        if self.parent_of[i] >= 0:
            self.origin[i] = self.parent_of[i]
        core = np.nonzero(self.kind == IS_CORE)[0]
        self.log("pledge", i, int(core[0]) if len(core) else -1, self.totals[i], note)
        if self.params.on("retaliation"):
            for o in retaliation.on_pledge(i, old, self.camp, self.parent_of, self.allied,
                                           self.hostile, self.grudge, self.p):
                self.log("pledge_rejected", o, i, self.grudge[o, i],
                         "former parent or ally turns hostile")
        self.patron[i] = int(core[0]) if len(core) else -1  # parent_of keeps its origin
        self.sympathizers[0, i] = 0.0  # the sympathizers now lead; dissent starts afresh
        self.courted[i] = 0.0

    def _population_rules(self) -> None:
        """Per-fighter behaviour of every group: defection pulls, conversion, appeal."""
        O = len(self.names)
        pl = self.plan
        active = self.active & (self.totals > 0)
        if self.params.on("pledge"):
            pl.pull_sympathizers[0] = pledge.sympathizer_pull(
                self.camp, self.kind, self.parent_of, active, self.momentum,
                self.dissident_of, IS)
            pl.pull_loyal[0] = pledge.loyal_pull(self.camp, self.parent_of, self.origin,
                                                 active, self.momentum, self.cohesion,
                                                 self.hostile)
        else:  # dissident factions still receive the disaffected through public splits
            pl.pull_sympathizers[0] = 0.0
        armed = (self.camp != STATE) & (self.kind != IS_CORE)
        is_camp = self.camp == IS
        conv = np.where(armed & ~is_camp, momentum.conversion(self.is_appeal, self.courted,
                                                              self.p), 0.0)
        if self.params.on("schism"):
            conv = np.where(armed & is_camp & (self.dissident_of >= 0),
                            schism.conversion(self.grievance, self.p), conv)
        pl.conversion[0] = conv
        camp_appeal = np.where(is_camp, self.is_appeal, 0.0)
        appeal = momentum.recruit_appeal(self.local_roots, self.momentum, self.resources,
                                         camp_appeal, self.p)
        pl.recruit_appeal[0] = np.where(armed & active, appeal, 0.0)
        pl.desertion[0] = np.where(armed, self.p["desertion_rate"] * (1.0 - self.cohesion)
                                   * (1.5 - self.resources), 0.0)
        states = np.nonzero((self.camp == STATE) & active)[0]
        # states draw reinforcements from their hinterland (booked as arrivals)
        pl.foreign_inflow[0, states] = investment.reinforcement(
            self.initial_fighters[states], self.totals[states], self.p)
        for v in range(O):
            if not armed[v] or len(states) == 0:
                continue
            receivers = [s for s in states if self.hostile[s, v]]
            if receivers:
                pl.surrender_to[0, v] = max(receivers, key=lambda s: self.near[v, s])

    # ------------------------------------------------------------------ apply
    def _apply(self, flows, start: np.ndarray) -> None:
        self.fighters = flows.fighters
        self.sympathizers = flows.sympathizers
        p = self.p
        for v in np.nonzero(flows.commanders_killed[0])[0]:
            n = int(flows.commanders_killed[0, v])
            self.commanders[v] = max(self.commanders[v] - n, 0)
            self.log("commanders_killed", self._main_killer(flows, v), int(v), n, "")
        for v in np.nonzero(flows.emir_killed[0])[0]:  # after the day's commander losses
            killer = self._main_killer(flows, v)
            self.log("emir_killed", killer, int(v), 1.0, self.emir_name[v])
            self._succession(int(v), killer)
        self._refresh()
        end = self.totals
        # cohesion: recovers towards a target set by grievance and leadership, plus cadres
        lead = np.where(self.emir_alive, 1.0, 0.5) * np.where(self.commanders > 0, 1.0, 0.8)
        target = self.base_cohesion * (1.0 - 0.5 * self.grievance) * lead
        self.cohesion += p["cohesion_recovery"] * (target - self.cohesion)
        self.cohesion += p["cadre_cohesion_gain"] * self.params.central_investment \
            * self.investment_share
        np.clip(self.cohesion, 0.0, 1.0, out=self.cohesion)
        self.resources = np.clip(self.resources + 0.01 * self.investment_share
                                 * self.params.central_investment, 0.0, 1.0)
        if self.params.on("schism"):
            self.grievance = schism.grievance_step(self.grievance, self.injustice,
                                                   self.brutality, self.disagreement, p)
        self.recent_statements *= schism.STATEMENT_MEMORY
        self.momentum = momentum.update(self.momentum, start, end, p)
        is_armed = (self.camp == IS) & (self.kind != IS_CORE)
        losses = (flows.outflow()[0] - flows.defected[0][:, is_armed].sum(axis=1))[is_armed]
        self.is_defeats = momentum.defeat_record(self.is_defeats, losses.sum(),
                                                 start[is_armed].sum())
        retaliation.decay(self.grudge, p)
        self.visibility += p["visibility_decay"] * (self.base_visibility - self.visibility)
        is_state = self.camp == STATE
        armed = (~is_state) & (self.kind != IS_CORE)
        self.intel = counterterrorism.intel_step(self.intel, self.vigilance, self.visibility,
                                                 is_state, armed & (self.totals > 0),
                                                 self.hostile, p)
        for v in np.nonzero(~self.active & (end > 0))[0]:
            self.active[v] = True  # a dormant faction filled by a split: its leader emerges
            self.emir_alive[v] = True
        newly = (~self.collapsed) & (self.peak >= p["collapse_threshold"]) & (
            end < p["collapse_threshold"]) & armed
        for v in np.nonzero(newly)[0]:
            self.log("collapse", int(v), -1, end[v], "fewer fighters than the threshold")
        self.collapsed |= newly
        np.maximum(self.peak, end, out=self.peak)
        self._place_headquarters()

    def _main_killer(self, flows, v: int) -> int:
        """Who killed most of ``v``'s fighters today (not ``v`` itself), or -1."""
        row = flows.killed[0, v].copy()
        row[v] = 0.0
        return int(np.argmax(row)) if row.sum() > 0 else -1

    def on_offensive_against(self, attacker: int, target: int) -> bool:
        """Whether ``attacker`` is on an offensive against ``target``."""
        return self.organizations[attacker].offensive_target == target

    def _succession(self, v: int, killer: int = -1) -> None:
        """The emir of ``v`` is dead: a commander succeeds him, at a cost in cohesion."""
        if v < 0:
            return
        if self.commanders[v] > 0:
            self.commanders[v] -= 1
            self.emir_alive[v] = True
            self.emir_name[v] = f"successor of {self.emir_name[v] or 'the emir'}"
        else:
            self.emir_alive[v] = False
            self.emir_name[v] = ""
        self.cohesion[v] = max(0.0, self.cohesion[v] - self.p["succession_shock"]
                               * (1.0 - self.established[v]))

    # ------------------------------------------------------------------ shared views
    def _refresh(self) -> None:
        """Recompute the aggregate views the decide phase reads."""
        F = self.fighters[0]
        O, H, W = F.shape
        self.totals = F.sum(axis=(1, 2))
        self.sympathizer_totals = self.sympathizers[0].sum(axis=(1, 2))
        # fighters of each organization within NEAR_RADIUS cells (Manhattan) of each cell
        wide = ndimage.convolve(F, _DIAMOND, mode="constant", cval=0.0)
        w = np.divide(F, self.totals[:, None, None], out=np.zeros_like(F),
                      where=self.totals[:, None, None] > 0)
        #: near[a, b]: fighters of b within reach of a's fighters (a's fighter-weighted).
        self.near = w.reshape(O, -1) @ wide.reshape(O, -1).T
        eff = self.quality * (0.5 + 0.5 * self.cohesion)
        self.power = np.where(self.kind == IS_CORE, 0.0, eff)
        held = grid.held(F)
        self.held = held
        self.cells_held = held.sum(axis=(1, 2))
        total_here = F.sum(axis=0)
        share = np.divide(F, total_here[None], out=np.zeros_like(F), where=total_here > 0)
        self.dominance = (w * share).sum(axis=(1, 2))
        is_armed = (self.camp == IS) & (self.kind != IS_CORE) & (self.totals > 0)
        is_mom = (float((self.momentum * self.totals)[is_armed].sum()
                        / self.totals[is_armed].sum()) if is_armed.any() else 0.0)
        self.is_appeal = momentum.is_appeal(is_mom, self.is_defeats, self.p)

    @property
    def camp_names(self) -> list[str]:
        """Each organization's camp now (``IS``, ``AQ``, ``state``, ``independent``)."""
        return [CAMPS[c] for c in self.camp]

    def region_holdings(self) -> np.ndarray:
        """``(O, regions)`` cells each organization holds in each named region."""
        if not hasattr(self, "_region_masks"):
            self._region_masks = np.stack(list(self.case.regions.values())).astype(float)
        return np.einsum("ohw,nhw->on", self.held.astype(float), self._region_masks)

    def region_fighters(self) -> np.ndarray:
        """``(O, regions)`` fighters each organization has in each named region."""
        self.region_holdings()  # builds the masks
        return np.einsum("ohw,nhw->on", self.fighters[0], self._region_masks)

    def enemy_strength_near(self, i: int) -> float:
        foes = self.hostile[i].copy()
        foes[i] = False
        return float((self.power[foes] * self.near[i, foes]).sum())

    def own_side_strength_near(self, i: int) -> float:
        side = self.allied[i].copy()
        side[i] = True
        return float((self.power[side] * self.near[i, side]).sum())

    def main_enemy(self, i: int) -> int:
        foes = np.nonzero(self.hostile[i])[0]
        foes = foes[foes != i]
        if len(foes) == 0:
            return -1
        return int(foes[np.argmax(self.power[foes] * self.near[i, foes])])

    def log(self, kind: str, actor: int, target: int = -1, magnitude: float = 0.0,
            note: str = "") -> None:
        """Append an event to the log."""
        self.events.append({
            "day": self.day, "kind": kind,
            "actor": self.names[actor] if actor >= 0 else "",
            "target": self.names[target] if target >= 0 else "",
            "magnitude": float(magnitude) if math.isfinite(magnitude) else 0.0,
            "note": note,
        })
