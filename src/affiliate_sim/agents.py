"""The organizations: Mesa agents that decide each day.

An organization is a :class:`mesa.discrete_space.CellAgent` standing on the cell of its
headquarters (where most of its fighters are); its fighters are spread over the grid in the
model's arrays. Each day, in random order (``shuffle_do("decide")``), every organization
fills its rows of the day's plan: whom it fights and whether it opens an offensive, whether
it purges, retreats or asks for safe passage, whether it pledges, and (IS core) where it
invests and whether it keeps a contested wali; state forces raid, using the intelligence
the apply phase accumulates.
The rules themselves live in :mod:`affiliate_sim.mechanisms` and
:mod:`affiliate_sim.offensive`.
"""

from __future__ import annotations

import math

import numpy as np
from mesa.discrete_space import CellAgent

from affiliate_sim import offensive
from affiliate_sim.kernel.arrays import IS, STATE
from affiliate_sim.mechanisms import counterterrorism, investment, pledge, purge, retreat
from affiliate_sim.mechanisms import schism

#: Days between the IS core's reviews of contested walis.
WALI_REVIEW_DAYS = 30
#: Days a granted safe passage stays open.
SAFE_PASSAGE_DAYS = 10
#: Days before a refused group asks for safe passage again.
SAFE_PASSAGE_RETRY = 60
#: Fighters below which an organization no longer decides anything.
MIN_ACTING = 1.0
#: Days an attacker regroups after an offensive before it can open another.
REGROUP_DAYS = 14
#: Share of its grudge an attacker keeps when one of its offensives ends.
GRUDGE_DISCHARGE = 0.5
#: Share of the core's means above which it sends senior cadres (logged as an event).
CADRE_SHARE = 0.25


class Organization(CellAgent):
    """An armed organization (IS affiliate, AQ branch or ally, splinter, militia).

    Args:
        model: the :class:`~affiliate_sim.model.AffiliateModel`.
        index: the organization's row in the model's arrays.
        name: its name in the scenario.
    """

    def __init__(self, model, index: int, name: str):
        super().__init__(model)
        self.index = index
        self.name = name
        self.offensive_target = -1
        self.offensive_days = 0
        self.retreating = False
        self.purging = False
        self.safe_passage_days = 0
        self.last_safe_passage_request = -math.inf
        self.regroup_until = 0

    # ------------------------------------------------------------ helpers
    @property
    def fighters(self) -> float:
        return float(self.model.totals[self.index])

    @property
    def active(self) -> bool:
        """Whether it still acts: not dormant, and at least one fighter left."""
        return bool(self.model.active[self.index]) and self.fighters >= MIN_ACTING

    def log(self, kind: str, target: int = -1, magnitude: float = 0.0, note: str = ""):
        self.model.log(kind, self.index, target, magnitude, note)

    # ------------------------------------------------------------ daily decision
    def decide(self) -> None:
        """Fill this organization's rows of today's plan."""
        if not self.active:
            return
        self.consider_pledge()
        self.choose_targets()
        self.purge_ranks()
        self.consider_retreat()
        self.speak_out()

    def consider_pledge(self) -> None:
        """Pledge the whole group to IS when its sympathizers are the majority."""
        m = self.model
        if not m.params.on("pledge"):
            return
        i = self.index
        share = m.sympathizer_totals[i] / max(self.fighters, 1e-9)
        if pledge.group_pledges(np.array([share]), m.camp[i:i + 1], IS, STATE,
                                m.p["pledge_majority"])[0]:
            m.pledge(i, note="sympathizers became the majority")

    def choose_targets(self) -> None:
        """Open, continue or end an offensive; set today's engagement."""
        m = self.model
        i = self.index
        t = self.offensive_target
        if t >= 0:
            self.offensive_days += 1
            prop = offensive.propensity(i, t, m.allied, m.near, m.power, m.grudge_ext)
            gone = m.totals[t] < m.p["collapse_threshold"] or m.near[t, i] <= 0
            if (gone or prop < 1.0 or self.offensive_days >= m.p["offensive_max_days"]
                    or not m.hostile[i, t]):
                self.log("offensive_ended", t, self.offensive_days,
                         "target gone" if gone else "stood down")
                m.grudge[i, t] *= GRUDGE_DISCHARGE  # revenge taken, in part
                self.offensive_target, self.offensive_days, t = -1, 0, -1
                self.regroup_until = m.day + REGROUP_DAYS
        if t < 0 and m.day >= self.regroup_until:
            t = self.consider_offensive()
        m.plan.engage[0, i] = offensive.engagement_row(i, t, m.hostile, m.allied, m.near,
                                                       m.grudge_ext, m.p)
        if t >= 0:
            self.strike_shelterers(t)
            m.plan.offensive[0, i] = 1.0
            m.plan.attract[0, i, t] = 1.0

    def strike_shelterers(self, t: int) -> None:
        """Allies sheltering the target where it is become enemies too (retaliation)."""
        m = self.model
        i = self.index
        if not m.params.on("retaliation"):
            return
        for a in np.nonzero(m.allied[t])[0]:
            if a in (i, t) or m.hostile[i, a] or m.allied[i, a] or m.near[t, a] <= 0:
                continue
            m.hostile[i, a] = m.hostile[a, i] = True
            self.log("shelter_targeted", int(a), m.near[t, a],
                     f"shelters {m.names[t]}")

    def consider_offensive(self) -> int:
        """Maybe open an offensive; returns the target or -1."""
        m = self.model
        i = self.index
        best, best_prop = -1, 0.0
        for j in np.nonzero(m.hostile[i])[0]:
            if j == i or m.totals[j] < m.p["collapse_threshold"] or m.near[j, i] <= 0:
                continue
            prop = offensive.propensity(i, j, m.allied, m.near, m.power, m.grudge_ext)
            if m.camp[i] == STATE and m.intel[i, j] < m.p["raid_trigger"]:
                continue  # a state must find a group before it can attack it
            if prop > best_prop:
                best, best_prop = int(j), prop
        thr = m.p["offensive_threshold"]
        if best < 0 or best_prop <= thr:
            return -1
        excess = min(best_prop / thr - 1.0, 50.0)
        if m.rng.random() < -math.expm1(-m.p["offensive_rate"] * excess):
            self.offensive_target, self.offensive_days = best, 0
            self.log("offensive_started", best, best_prop, "force ratio x (1 + grudge)")
            return best
        return -1

    def purge_ranks(self) -> None:
        """Purge suspected sympathizers if the organization has an intelligence wing."""
        m = self.model
        i = self.index
        if not m.params.on("purge"):
            return
        share = m.sympathizer_totals[i] / max(self.fighters, 1e-9)
        effort = purge.decide(np.array([[share]]), m.purge_capacity[i:i + 1][None], m.kp)[0, 0]
        m.plan.purge[0, i] = effort
        if effort > 0 and not self.purging:
            self.log("purge", -1, m.sympathizer_totals[i], "suspected sympathizers")
        self.purging = effort > 0

    def consider_retreat(self) -> None:
        """Retreat towards cover and protectors when outmatched; ask for safe passage."""
        m = self.model
        i = self.index
        if not m.params.on("retreat"):
            return
        enemy = m.enemy_strength_near(i)
        own = m.own_side_strength_near(i)
        ratio = own / enemy if enemy > 0 else math.inf
        was = self.retreating
        self.retreating = retreat.should_retreat(ratio, self.offensive_target >= 0, was, m.p)
        if self.retreating:
            m.plan.cover[0, i] = 1.0
            friends = np.nonzero(m.allied[i])[0]
            m.plan.attract[0, i, friends] = 1.0
            if not was:
                self.log("retreat", m.main_enemy(i), ratio, "local force ratio")
        if self.safe_passage_days > 0:
            self.safe_passage_days -= 1
            m.plan.evacuate[0, i] = m.p["safe_passage_rate"]
        elif (retreat.besieged(self.fighters, m.peak[i], ratio, m.p)
              and m.day - self.last_safe_passage_request >= SAFE_PASSAGE_RETRY):
            self.last_safe_passage_request = m.day
            besieger = m.main_enemy(i)
            granted = (besieger >= 0 and m.camp[besieger] != STATE  # states refuse passage
                       and not m.on_offensive_against(besieger, i))
            self.log("safe_passage", besieger, self.fighters,
                     "granted" if granted else "requested")
            if granted:
                self.safe_passage_days = SAFE_PASSAGE_DAYS

    def speak_out(self) -> None:
        """The disaffected of an IS affiliate may publicly break with the wali."""
        m = self.model
        i = self.index
        d = m.dissident_of[i]
        if d < 0 or not m.params.on("schism"):
            return
        h = schism.statement_hazard(m.grievance[i:i + 1], m.recent_statements[i:i + 1],
                                    m.p)[0]
        if m.rng.random() < -math.expm1(-h):
            m.plan.split[0, i, d] = schism.wave_hazard(m.p)
            first = not m.active[d]
            m.active[d] = True
            m.emir_alive[d] = True  # the dissidents' leader speaks for them
            m.recent_statements[i] += 1.0
            expected = m.sympathizer_totals[i] * m.p["schism_wave_share"]
            self.log("split" if first else "defection_statement", d, expected,
                     "public statement against the wali")


class StateForce(Organization):
    """A state's security forces: fight like others, and also gather intelligence and raid."""

    def decide(self) -> None:
        if not self.active:
            return
        self.choose_targets()
        self.raid()

    def raid(self) -> None:
        """Raid hostile groups; launch raid operations where intelligence allows.

        Intelligence itself accumulates in the apply phase (``model._apply``,
        :func:`affiliate_sim.mechanisms.counterterrorism.intel_step`).
        """
        m = self.model
        i = self.index
        if not m.params.on("counterterrorism"):
            return
        ops = m.raid_operation_days[i] > 0
        ready = m.day >= m.next_operation[i]
        start = (~ops) & ready & (m.rng.random(len(m.totals))
                                  < -np.expm1(-counterterrorism.operation_hazard(m.intel[i],
                                                                                 m.p)))
        start &= m.totals > 0
        for j in np.nonzero(start)[0]:
            m.raid_operation_days[i, j] = m.p["raid_operation_days"]
            m.next_operation[i, j] = m.day + counterterrorism.OPERATION_REFRACTORY
            self.log("raid_operation", int(j), m.intel[i, j], "intelligence-led raids")
        on = m.raid_operation_days[i] > 0
        row = counterterrorism.raid_intensity(m.vigilance[i:i + 1], m.intel[i:i + 1],
                                              on[None], m.p)[0]
        m.plan.raid[0, i] = np.where(m.hostile[i] & (m.totals > 0), row, 0.0)
        m.raid_operation_days[i] = np.maximum(m.raid_operation_days[i] - 1, 0)


class ISCore(Organization):
    """The Islamic State's central leadership: accepts pledges, invests, backs or replaces
    walis. It has no fighters in the region."""

    @property
    def active(self) -> bool:
        return True

    def decide(self) -> None:
        self.invest()
        self.review_walis()

    def invest(self) -> None:
        """Send foreign fighters, cadres and money to the affiliates with prospects."""
        m = self.model
        if not m.params.on("investment"):
            m.investment_share[:] = 0.0
            return
        is_aff = (m.camp == IS) & m.active & (m.totals > 0) & (m.kind != 0) & (
            (m.patron == self.index) | (m.patron < 0))
        prospect = np.where(is_aff, investment.prospects(m.momentum, m.dominance,
                                                         m.foreign_access, m.totals), 0.0)
        share = investment.allocate(prospect, m.p)
        for v in np.nonzero((share >= CADRE_SHARE) & (m.investment_share < CADRE_SHARE))[0]:
            self.log("cadres_sent", int(v), share[v], "senior cadres and money")
        m.investment_share[:] = share
        m.plan.foreign_inflow[0] = investment.inflow(share, m.is_appeal, m.p)

    def review_walis(self) -> None:
        """Every month, back or replace each wali whose fighters are in open dissent."""
        m = self.model
        if m.day % WALI_REVIEW_DAYS or not m.params.on("schism"):
            return
        for v in np.nonzero((m.dissident_of >= 0) & (m.camp == IS))[0]:
            if m.grievance[v] < m.p["schism_threshold"] or m.totals[v] <= 0:
                continue
            if m.rng.random() < m.p["core_backs_wali"]:
                self.log("wali_backed", int(v), m.grievance[v], "the core stuck with its man")
            else:
                self.log("wali_replaced", int(v), m.grievance[v], "the core named a new wali")
                m.injustice[v] = 0.0
                m.grievance[v] *= 0.5
