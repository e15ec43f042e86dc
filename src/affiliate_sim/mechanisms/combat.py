"""Core process: combat, and the offensive rule (whom an organization fights, and when).

Lanchester-type attrition between hostile forces in the same or adjacent cells. A defender
``v`` in cell ``c`` facing attacker ``k`` suffers the per-fighter hazard

    h[v, k, c] = combat_rate * engage[k, v] * P[k, c] * t(c)
                 / (F[v, c] + interference * P[k, c] + K[v, c])

where ``P[k, c]`` is k's effective force reaching ``c`` (its own cell and the share
``adjacent_reach = min(1, reach_km / cell_km)`` of each neighbour's, times
:func:`effectiveness`), ``t(c)`` the protection of the terrain and
``K[v, c]`` the defender's concealment (a density: ``conceal_guerrilla`` fighters per 100
km², times the cell's area, so that a large cell offers more room to hide;
:func:`per_cell`). Losses ``F * h`` follow the square law (aimed fire)
when the defender is large against its concealment, the linear law (area fire) when it is
small and hidden: the defender's side of the guerrilla-versus-conventional asymmetry.
Attackers of one organization get in one another's way (``interference``; Deitchman 1962,
Beddington 1975): when they far outnumber the defenders they can find, the hazard they put
on a defender stays below ``combat_rate / interference`` however many they are. On
the attacker's side, a conventional force hunting guerrillas finds them
``conventional_search`` times as well as a guerrilla force would (:func:`search`).

The offensive rule, shared by every attacker (a former ally retaliating, a coalition
provoked, a state on the offensive): every organization skirmishes with the hostile groups
whose fighters are near its own (``hostility_engagement``, raised by grudge). It opens a
full offensive against a hostile group when its side's strength near that group, times ``1 +
grudge``, exceeds the group's side's by ``offensive_threshold`` (the article: rivals with "a
strong ground network ... an advantage"; the Taliban's "24 hours"), at a random time whose
hazard grows with the excess. Among the groups it could attack, it chooses by the odds
times the motive squared: the motive (grudge) counts once in whether to attack and again in
whom. A non-state organization needs a motive: it weighs the odds by ``unprovoked +
grudge`` instead (``unprovoked`` <= 1), so that below 1 it leaves a
hostile group it holds no grudge against alone at odds it would otherwise take. A state
must first find a group: it opens a full offensive only once its intelligence on the
group, or the group's own visibility (a group that claims attacks and holds checkpoints
shows itself), has reached ``find_trigger``, and only against
a group of at least ``state_offensive_floor`` fighters (a smaller band is the work of its
raids). An offensive commits the attacker's whole effort against the target and those who
shelter it, and draws its fighters towards them; it ends when the target is gone from reach,
the grudge-weighted odds turn against the attacker (propensity below 1), the attacker has
broken (its losses reached its breakpoint: :mod:`affiliate_sim.mechanisms.retreat`; a broken
force opens none either), or after ``offensive_max_days``. Ending it discharges
``GRUDGE_DISCHARGE`` of the grudge (revenge taken, in part) and the attacker regroups
``regroup_days`` (an operational pause).
Under the watch of a hostile, vigilant state that raids where its fighters are, a non-state
organization's propensity is divided by ``1 + state_shadow * threat**2``
(:func:`state_threat`; it cannot mass against a rival without showing itself), for opening
and for going on alike. Grudges fade (``grudge_decay``).
An offensive ordered from outside (a scripted ``offensive`` input) runs its ordered days at
its ordered intensity whatever the odds, unless its target is gone. Air support (a scripted
input) multiplies the engagement of the side it supports, so that its kills are booked to
that side.

Backlash (Bennett 2008, JASSS 11(4) 7: violence that reaches civilians feeds the
insurgency it targets): the losses an organization suffers at others' hands in populated
places raise a backlash, in [0, 1], that multiplies its recruiting appeal by ``1 +
backlash_appeal * backlash`` (:mod:`affiliate_sim.mechanisms.population`); its gain is
``backlash_gain`` times the day's losses as a share of its strength, times ``pop / (pop +
BACKLASH_POPULATION)`` of the fighter-weighted population of its cells; it fades at
``backlash_decay``. States do not gain from it.

The counter-terrorism mechanism's selective violence (Kalyvas 2006) sets the share of a
state's effort that misses a guerrilla group for want of intelligence and falls on its
population (``missed``); the losses the group suffers at that state's hands raise backlash
``1 + missed`` times as much.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from affiliate_sim.mechanisms import retreat
from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param, hazard_share
from affiliate_sim.vocabulary import STATE

NAME = "combat"
SWITCHABLE = False

#: Share of its grudge an attacker keeps when one of its offensives ends.
GRUDGE_DISCHARGE = 0.5
#: Cap on the relative excess propensity in the hazard of opening an offensive.
MAX_EXCESS = 50.0
#: Population (thousands per cell) at which violence raises half the backlash it would in
#: a crowded place.
BACKLASH_POPULATION = 10.0

PARAMS: tuple[Param, ...] = (
    Param("combat_rate", 0.04, 0.0, 2.0, "1/day per effective fighter",
          "modelling convention (Lanchester attrition); calibrated",
          "Kill rate of one effective attacker against an exposed, unconcealed defender."),
    Param("interference", 0.0, 0.0, 10.0, "defenders per effective attacker",
          "Deitchman 1962 ('A Lanchester Model of Guerrilla Warfare', Operations Research "
          "10(6)): attackers hunting hidden guerrillas find targets, not fire, the limit; "
          "Beddington 1975 and DeAngelis et al. 1975 (interference among searchers); "
          + A + ": Wilayat Sinai 'withstood repeated offensives'",
          "Attackers in one another's way: each effective attacker of an organization "
          "reaching a cell counts as this many defenders in the denominator of its combat "
          "hazard, so that however many it brings, the hazard it puts on a defender stays "
          "below combat_rate / interference (0: the previous law)."),
    Param("reach_km", 8.75, 0.0, 1000.0, "km",
          "cases.md: attrition between forces 'in the same or adjacent cells'; modelling "
          "convention (the range of raids and patrols from a position)",
          "Distance over which a force bears on its surroundings: the share min(1, reach_km "
          "/ cell_km) of a cell's force also bears on each of its four neighbours."),
    Param("conceal_guerrilla", 6.4, 0.0, 1e4, "fighters per 100 km2",
          "modelling convention (Deitchman guerrilla-vs-conventional asymmetry)",
          "Concealment of a guerrilla force, per 100 km2 of a cell: below this size losses "
          "scale with its size (area fire); above it, with the attacker's (aimed fire)."),
    Param("conceal_conventional", 0.64, 0.0, 1e4, "fighters per 100 km2",
          "modelling convention (Lanchester aimed fire)",
          "Concealment of a conventional (state) force, per 100 km2 of a cell."),
    Param("conventional_search", 0.3, 0.0, 1.0, "share",
          A + ": 'What America and its agents could not do in 14 years, the Taliban did in "
          "24 hours.'",
          "Effectiveness of a conventional force hunting guerrillas, relative to a guerrilla "
          "force that knows the ground (the attacker's side of the guerrilla-versus-"
          "conventional asymmetry)."),
    Param("offensive_power", 3.0, 1.0, 20.0, "multiplier",
          A + ": 'the Taliban did in 24 hours'; 'full-scale offensive' (Derna)",
          "Effectiveness multiplier of an organization on a full offensive."),
    Param("fortune_sd", 0.25, 0.0, 2.0, "log-sd per day",
          "modelling convention (day-to-day fortune of war)",
          "Standard deviation of the daily lognormal noise on each organization's "
          "effectiveness."),
    Param("offensive_threshold", 2.0, 0.0, 100.0, "force ratio",
          A + ": rivals 'often have a strong ground network ... an advantage'; "
          "'frequently outnumbered'",
          "Propensity (local force ratio times unprovoked + grudge; 1 + grudge for a state) "
          "at which an organization opens an offensive."),
    Param("offensive_rate", 0.3, 0.0, 10.0, "1/day",
          "modelling convention",
          "Hazard of opening an offensive per unit of relative excess propensity "
          "(propensity / threshold - 1, capped at MAX_EXCESS)."),
    Param("return_fire", 0.5, 0.0, 1.0, "share",
          A + ": the Taliban's offensive 'overwhelmed' the IMU, Belmokhtar's clashes left "
          "Sahraoui 'badly wounded' (both sides fight); Lanchester 1916",
          "Share of its effort an organization under offensive (and not on one itself) "
          "turns on its attackers near it."),
    Param("unprovoked", 1.0, 0.0, 1.0, "share",
          A + ": the Taliban tolerated Mullah Dadullah's splinter until it sheltered the "
          "IMU ('a second operation ... Dadullah and dozens of his relatives killed'); "
          "Derna's council fought IS in earnest only after the assassination of its leaders",
          "Weight of the force ratio in a non-state organization's propensity to attack a "
          "hostile group it holds no grudge against (the propensity is ratio x (unprovoked "
          "+ grudge); 1: the odds alone decide; states are not bound by it)."),
    Param("find_trigger", 0.5, 0.0, 1.0, "intelligence",
          A + ": Wilayat Sinai's attacks drew Egypt's 'repeated offensives'; modelling "
          "convention",
          "Intelligence on a group, or the group's own visibility, at which a state has "
          "found it and can take the field against it (an ordered offensive is not bound "
          "by it)."),
    Param("state_offensive_floor", 100.0, 0.0, 1e5, "fighters",
          A + ": against Jund al-Khilafah's 'approximately 30 militants', 'two days of "
          "raids'; against Wilayat Sinai, 'repeated offensives'; modelling convention "
          "(counter-terrorism against bands, counter-insurgency against armies)",
          "Strength below which a state does not open a full offensive against a group "
          "(it raids it instead); an ordered offensive (an input) is not bound by it."),
    Param("offensive_max_days", 21.0, 1.0, 365.0, "days",
          A + ": Derna 'within two weeks'",
          "Longest an offensive lasts before the attacker stands down to regroup."),
    Param("regroup_days", 14.0, 1.0, 365.0, "days",
          A + ": the Taliban's offensive on the IMU 'shortly after' its pledge, then 'a "
          "second operation' in November; Wilayat Sinai's 'repeated offensives'; modelling "
          "convention (an operational pause: rest, refit, new intelligence)",
          "Days an attacker regroups after an offensive ends before it can open another."),
    Param("hostility_engagement", 0.15, 0.0, 1.0, "share",
          "modelling convention (low-level clashes between hostile groups)",
          "Engagement intensity between hostile organizations outside an offensive."),
    Param("backlash_gain", 2.0, 0.0, 100.0, "backlash per share lost",
          "Bennett 2008 (JASSS 11(4) 7): civilian casualties feed insurgent recruitment",
          "Backlash raised by losing one's whole strength to others' violence in a crowded "
          "place (losses as a share of strength times the population factor)."),
    Param("backlash_appeal", 1.0, 0.0, 100.0, "multiplier",
          "Bennett 2008 (JASSS 11(4) 7): civilian casualties feed insurgent recruitment; "
          "calibrated",
          "Rise of a group's recruiting appeal at full backlash: appeal times 1 + "
          "backlash_appeal * backlash."),
    Param("backlash_decay", 0.01, 0.0, 1.0, "1/day",
          "modelling convention (grievances fade over months)",
          "Daily decay of backlash."),
    Param("grudge_decay", 0.01, 0.0, 1.0, "1/day",
          "modelling convention",
          "Decay rate of grudges."),
    Param("state_shadow", 0.0, 0.0, 1000.0, "per unit threat",
          A + ": Algeria's 'hyper-vigilant security forces' crushed Jund al-Khilafah, not "
          "AQIM; modelling convention (an underground group under a watchful state cannot "
          "mass against a rival without showing itself)",
          "Deterrence a hostile state's watch puts on a non-state organization's offensives: "
          "its propensity is divided by 1 + state_shadow * threat^2, the threat being the "
          "vigilance of the most vigilant hostile state that raids today (one with "
          "fighters, counter-terrorism on) times the state presence where the "
          "organization's fighters are (squared: it bites only where the state both "
          "watches and is there)."),
)


# ---------------------------------------------------------------------- kernel side
@njit(cache=True)
def effectiveness(quality, cohesion, offensive, fortune, offensive_power, fortune_sd):
    """Combat effectiveness multiplier of an organization today: quality, cohesion, the
    boost of an offensive, and a lognormal fortune of war with mean 1."""
    luck = math.exp(fortune_sd * fortune - 0.5 * fortune_sd * fortune_sd)
    boost = 1.0 + (offensive_power - 1.0) * offensive
    return quality * (0.5 + 0.5 * cohesion) * boost * luck


@njit(cache=True)
def search(engage, attacker_conventional, defender_conventional, conventional_search):
    """Engagement of k against v times k's skill at finding v: a conventional attacker
    hunting a guerrilla defender is ``conventional_search`` as effective."""
    if attacker_conventional and not defender_conventional:
        return engage * conventional_search
    return engage


@njit(cache=True)
def exposure(fighters, concealment, protection):
    """``t(c) / (F + K)``: the defender-side factor of the combat hazard (the kernel passes
    ``F + interference * P[k, c]`` as ``fighters``)."""
    return protection / (fighters + concealment + 1e-12)


# ---------------------------------------------------------------------- decide side
def setup(world, p) -> None:
    """Concealment of each organization from its style of fighting."""
    o = world.orgs
    o.base_conceal = np.where(o.conventional, p["conceal_conventional_cell"][:, None],
                              p["conceal_guerrilla_cell"][:, None])
    o.conceal = o.base_conceal.copy()


def per_cell(p, cell_km: float) -> dict:
    """The per-cell values of this process's physical parameters for cells of ``cell_km``
    km: the share of a force bearing on each neighbour, and the concealment of guerrilla
    and conventional forces in a cell (fighters)."""
    area = cell_km * cell_km / 100.0  # in units of 100 km2
    return {"adjacent_reach": np.minimum(1.0, p["reach_km"] / cell_km),
            "conceal_guerrilla_cell": p["conceal_guerrilla"] * area,
            "conceal_conventional_cell": p["conceal_conventional"] * area}


def propensity(allied, near, power, grudge, base=1.0) -> np.ndarray:
    """``(R, O, O)`` ``[a, t]``: a's side over t's side near t's fighters, times ``base[a]
    + grudge[a, t]`` (``base``: ``(R, O, 1)`` or a number).

    a's side is a and its allies (not t); t's side is t and its allies (not a); a side's
    strength near t is the sum of its members' ``power * near[t, member]``. The ratio is
    infinite when t's side has no strength there and a's has some, 0 when neither has.
    """
    O = power.shape[1]
    eye = np.eye(O, dtype=bool)
    pn = power[:, None, :] * near  # [r, t, s] = power[s] * near[t, s]
    att = (eye[None, :, None, :] | allied[:, :, None, :]) & ~eye[None, None, :, :]
    dfn = (eye[None, None, :, :] | allied[:, None, :, :]) & ~eye[None, :, None, :]
    a = (att * pn[:, None, :, :]).sum(axis=-1)
    d = (dfn * pn[:, None, :, :]).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d > 0, a / np.where(d > 0, d, 1.0),
                         np.where(a > 0, np.inf, 0.0))
    w = base + grudge
    with np.errstate(invalid="ignore"):
        return np.where(w > 0, ratio * w, 0.0)  # no motive: no propensity, whatever the odds


def choose_target(feasible, prop, motive) -> np.ndarray:
    """``(R, O)`` the target each organization would open an offensive on (-1: none):
    among the feasible targets (the odds times the motive over the threshold), the one
    with the largest ``prop * motive``, the odds times the motive squared. The motive
    (``base + grudge``) counts once in whether to attack and again in whom: a betrayal is
    punished before a weaker stranger is preyed on, and a grudge all but forgotten weighs
    as little in the choice as in the decision."""
    score = np.where(feasible, prop * motive, -np.inf)
    best = score.argmax(axis=2)
    return np.where(feasible.any(axis=2), best, -1)


def _at(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[r, i, idx[r, i]]`` for ``(R, O, O)`` a and ``(R, O)`` idx (clipped at 0)."""
    return np.take_along_axis(a, np.maximum(idx, 0)[:, :, None], axis=2)[:, :, 0]


def engagement(target, hostile, allied, near, grudge, p) -> np.ndarray:
    """``(R, O, O)`` each attacker's effort against each organization today.

    On an offensive (``target >= 0``) the whole effort goes to the target and, in
    proportion to their presence near it, to its allies who shelter it and are hostile to
    the attacker. Otherwise each hostile group near the attacker's fighters draws
    ``hostility_engagement * (1 + grudge)`` (at most 1) of effort, split by presence, the
    total at most 1; an organization under offensive and not on one itself turns a share
    ``return_fire`` of its effort on its attackers near it (split by their presence), the
    rest staying with its skirmishes (both sides fire in a battle).
    """
    R, O = target.shape
    eye = np.eye(O, dtype=bool)
    # skirmishes
    foes = hostile & ~eye[None]
    presence = np.where(foes, near, 0.0)
    psum = presence.sum(axis=2, keepdims=True)
    level = np.minimum(1.0, p["hostility_engagement"][:, None, None] * (1.0 + grudge))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(psum > 0, presence / np.where(psum > 0, psum, 1.0), 0.0)
    row = np.where(foes, level * share, 0.0)
    total = row.sum(axis=2, keepdims=True)
    row = np.where(total > 1.0, row / np.where(total > 1.0, total, 1.0), row)
    # the attacked fire back
    on = target >= 0
    hit_by = ((target[:, :, None] == np.arange(O)[None, None, :]) & on[:, :, None]
              ).transpose(0, 2, 1) & foes                     # [r, v, k]: k attacks v
    back = np.where(hit_by, near, 0.0)
    bsum = back.sum(axis=2, keepdims=True)
    attacked = (bsum > 0) & ~on[:, :, None]
    rf = p["return_fire"][:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        defence = np.where(bsum > 0, back / np.where(bsum > 0, bsum, 1.0), 0.0)
    row = np.where(attacked, (1.0 - rf) * row + rf * defence, row)
    # offensives
    if on.any():
        t = np.maximum(target, 0)
        rr = np.arange(R)[:, None]
        shelter = allied[rr, t] & hostile & ~eye[None]          # [r, a, s]: allied[t, s]
        w = np.where(shelter, near[rr, t], 0.0)                 # near[t, s]
        own = np.maximum(np.maximum(_at(near, t), near[rr, t, t]), 1e-9)
        np.put_along_axis(w, t[:, :, None], own[:, :, None], axis=2)
        w = w / w.sum(axis=2, keepdims=True)
        row = np.where(on[:, :, None], w, row)
    return row


def decide(world, plan, p, rng, log) -> None:
    """Continue, end or open offensives; set today's engagement, offensive intensity and
    what the attackers' movers seek."""
    O = world.O
    f, rel, cd = world.forces, world.relations, world.conduct
    day = world.day
    chance = rng.uniform("open", (O,))
    acting = world.takes_part("offensive")
    grudge = plan.grudge
    # a non-state organization attacks a rival it holds no grudge against only at better
    # odds (it needs a motive: a betrayal, a provocation, sheltering its enemy)
    base = np.where(world.orgs.camp == STATE, 1.0, p["unprovoked"][:, None])[:, :, None]
    prop = propensity(rel.allied, f.near, f.power, grudge, base)
    # under a watchful state's shadow an underground group does not mass against rivals
    threat = state_threat(world)
    prop = prop / (1.0 + p["state_shadow"][:, None, None] * (threat * threat)[:, :, None])
    thr = p["collapse_threshold"][:, None]

    # continue or end the current offensive
    t = cd.offensive_target
    on = acting & (t >= 0)
    cd.offensive_days = np.where(on, cd.offensive_days + 1, cd.offensive_days)
    tt = np.maximum(t, 0)
    ordered = day < cd.ordered_until  # an offensive ordered from outside (an input)
    # a force that broke (retreat: its losses reached its breakpoint) breaks off its attack
    broken = retreat.broken(world)
    gone = (np.take_along_axis(f.totals, tt, axis=1) < thr) | (
        ~ordered & (_at(f.near.transpose(0, 2, 1), t) <= 0))
    end = on & (gone
                | (~ordered & ((_at(prop, t) < 1.0)
                               | (cd.offensive_days >= p["offensive_max_days"][:, None])))
                | (cd.ordered_until == day)
                | (broken & ~ordered)
                | ~_at(rel.hostile, t))
    for r, i in zip(*np.nonzero(end), strict=True):
        log("offensive_ended", r, i, t[r, i], cd.offensive_days[r, i],
            "target gone" if gone[r, i] else "broken" if broken[r, i] else "stood down")
        rel.grudge[r, i, t[r, i]] *= GRUDGE_DISCHARGE  # revenge taken, in part
    cd.offensive_target = np.where(end, -1, t)
    cd.offensive_days = np.where(end, 0, cd.offensive_days)
    cd.ordered_until = np.where(end, -1, cd.ordered_until)
    cd.regroup_until = np.where(end, day + np.round(p["regroup_days"])[:, None].astype(int),
                                cd.regroup_until)

    # maybe open one
    can = acting & (cd.offensive_target < 0) & (day >= cd.regroup_until) & ~broken
    eye = np.eye(O, dtype=bool)
    cand = (rel.hostile & ~eye[None] & (f.totals[:, None, :] >= thr[:, :, None])
            & (f.near.transpose(0, 2, 1) > 0))
    is_state = world.orgs.camp == STATE
    # find it first: by its intelligence, or because the group shows itself (it claims
    # attacks, holds checkpoints: its visibility)
    known = np.maximum(world.intel.intel, world.orgs.visibility[:, None, :])
    cand &= ~(is_state[:, :, None] & (known < p["find_trigger"][:, None, None]))
    # a state takes the field only against a group large enough to hold ground; a band
    # smaller than that is the work of its raids (counter-terrorism, not counter-insurgency)
    cand &= ~(is_state[:, :, None]
              & (f.totals[:, None, :] < p["state_offensive_floor"][:, None, None]))
    limit = p["offensive_threshold"][:, None]
    best = choose_target(cand & (prop > limit[:, :, None]), prop, base + grudge)
    best_prop = np.where(best >= 0, _at(prop, best), 0.0)
    over = can & (best >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.minimum(best_prop / limit - 1.0, MAX_EXCESS)
    opens = over & (chance < hazard_share(p["offensive_rate"][:, None] * excess))
    for r, i in zip(*np.nonzero(opens), strict=True):
        log("offensive_started", r, i, best[r, i], best_prop[r, i],
            "force ratio x (unprovoked + grudge)")
    cd.offensive_target = np.where(opens, best, cd.offensive_target)
    cd.offensive_days = np.where(opens, 0, cd.offensive_days)

    # today's engagement
    target = np.where(acting, cd.offensive_target, -1)
    plan.engage = np.where(acting[:, :, None],
                           engagement(target, rel.hostile, rel.allied, f.near, grudge, p), 0.0)
    air = day < cd.air_until  # air support (an input) multiplies the attrition
    plan.engage = np.where(air, plan.engage * cd.air, plan.engage)
    attacking = target >= 0
    plan.offensive = np.where(attacking, np.where(day < cd.ordered_until,
                                                  cd.ordered_intensity, 1.0), plan.offensive)
    rr, ii = np.nonzero(attacking)
    plan.attract[rr, ii, target[rr, ii]] = 1.0


def state_threat(world) -> np.ndarray:
    """``(R, O)`` the watch a non-state organization is under: the vigilance of the most
    vigilant state hostile to it that raids today (with fighters; none with counter-terrorism
    off), times the state presence of its fighters' cells (fighter-weighted); 0 for
    states."""
    o, f = world.orgs, world.forces
    state = o.camp == STATE
    raiders = world.takes_part("raid") & state & (f.totals > 0)
    watch = np.where(raiders[:, None, :] & world.relations.hostile,
                     o.vigilance[:, None, :], 0.0).max(axis=2)
    F = f.fighters
    seen = (F * world.grid.state_presence[None, None]).sum(axis=(2, 3)) / np.maximum(
        F.sum(axis=(2, 3)), 1e-12)
    return np.where(state, 0.0, watch * seen)


def backlash_raise(backlash, losses, strength, population, gain):
    """Backlash raised by losses at others' hands (before the day's decay): ``gain *
    losses / strength * population / (population + BACKLASH_POPULATION) * (1 -
    backlash)`` more."""
    share = losses / np.maximum(strength, 1.0)
    crowd = population / (population + BACKLASH_POPULATION)
    return np.clip(backlash + gain * share * crowd * (1.0 - backlash), 0.0, 1.0)


def backlash_step(backlash, losses, strength, population, p) -> np.ndarray:
    """New backlash after a day's losses at others' hands (see the module docstring)."""
    b = backlash_raise(backlash, losses, strength, population, p["backlash_gain"][:, None])
    return np.clip(b * np.exp(-p["backlash_decay"])[:, None], 0.0, 1.0)


def apply(world, flows, p, log) -> None:
    """Grudges fade; backlash from the day's violence."""
    world.relations.grudge *= np.exp(-p["grudge_decay"])[:, None, None]
    o, f = world.orgs, world.forces
    O = world.O
    others = ~np.eye(O, dtype=bool)[None]
    # losses at a state's hands whose violence also missed (falling on the population)
    # count 1 + missed times
    blind = 1.0 + world.intel.missed.transpose(0, 2, 1)  # [r, victim, killer]
    losses = (np.where(others, (flows.killed + flows.detained) * blind, 0.0)).sum(axis=2)
    F = f.fighters
    tot = np.maximum(F.sum(axis=(2, 3)), 1e-12)
    pop = (F * world.grid.population[None, None]).sum(axis=(2, 3)) / tot
    b = backlash_step(o.backlash, losses, f.start_totals, pop, p)
    o.backlash = np.where(o.camp == STATE, 0.0, b)
