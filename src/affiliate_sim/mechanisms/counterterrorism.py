"""Mechanism 4: state counter-terrorism: raids, intelligence and decapitation.

"Hyper-vigilant security forces crushed its fledging affiliate"; the beheading of Hervé
Gourdel "placed themselves squarely in the crosshairs of Algeria's security forces"; "About
a month after Jund al-Khilafah's inception, Algerian security forces killed the group's
emir"; "In May 2015, Algerian soldiers killed at least 25 Islamic State militants in two
days of raids ... five of Jund al-Khilafah's six commanders dead" (Gartenstein-Ross and
Barr 2016).

Kernel side: the raid hazard (:func:`detection`), which grows with the target's visibility
and the state's presence and falls with ruggedness and remoteness (the terrain's
``raid_shield``), each state's raids reaching only where its forces are (:func:`raid_reach`:
within ``raid_reach_km`` of its fighters); the hazard on a group's leaders
(:func:`leader_hazard`): ``leader_exposure`` times their men's hazard in battle and under
patrols and background raids. Decide side: each state force raids every hostile group at a
background level set by its vigilance and intelligence, and launches short, intense raid
operations once intelligence passes the trigger. While the group's founding emir lives, an
operation hunts him (find, fix, finish, exploit: targeting starts with the leaders; Flynn,
Juergens and Cantrell 2008): it strikes him and his ``escort`` and finds him with
probability ``1 - (1 - intel)^leader_hit_rate``, and ends with him (his commanders fall
only as his escort does: with the share struck); once he is dead (however he died)
operations sweep the share of the group the state located, and hunt its leaders among
those they strike (each falls with probability ``1 - (1 - share)^leader_hit_rate``). Raids
hunt large groups harder than a handful in hiding (``hiding_scale``): a remnant of a few
men is hard to find. Apply side:
intelligence accumulates (faster on visible groups and for a vigilant state), the more
slowly the deeper the group's roots among the population (``roots_shield``: the population
shelters it and does not inform; nor can the state's intelligence grow past ``1 -
roots_shield * local_roots``, what the population will not tell), and jumps with every
fighter the state detains or receives in surrender (``intel_per_informant``: detainees and
defectors talk); it decays; a visibility shock fades. A group's attacks show the state where
it is: each state fighter it kills removes a share ``attack_exposure`` of its remaining
invisibility (Wilayat Sinai's "torrid pace of serious terrorist attacks" drew Egypt's
offensives).

Selective and indiscriminate violence (Kalyvas 2006, *The Logic of Violence in Civil War*,
ch. 6-7: an incumbent without information from the population cannot tell insurgents from
civilians): a state's combat effort against a guerrilla group lands on it only as well as
the state knows the group, ``blind_effort + (1 - blind_effort) * intel``; what misses
(``missed``) falls on the group's population, and the combat process books the backlash
it raises. Switched off, states fight as if they knew (no intelligence work, no
selectivity); a state still finds, for its offensives, a group that shows itself (its
visibility at the combat process's ``find_trigger``), and a scripted starting
intelligence stays as it is.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.stats import binom

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param, hazard_share
from affiliate_sim.mechanisms.combat import backlash_raise
from affiliate_sim.mechanisms.population import armed
from affiliate_sim.vocabulary import STATE

NAME = "counterterrorism"
SWITCHABLE = True
NUMBER = 4

#: Fighters of a state within raiding distance of a cell at which its raids there reach
#: 1 - 1/e of their strength (a raid is the work of a small party: a few dozen soldiers
#: nearby raid as well as an army).
RAID_PARTY = 10.0
#: Days after a major raid operation starts before the same state can launch another on
#: the same group (the operation's aftermath: exploitation, new intelligence to gather).
OPERATION_REFRACTORY = 60

PARAMS: tuple[Param, ...] = (
    Param("state_vigilance", 0.5, 0.0, 1.0, "share",
          "policy lever; " + A + ": 'hyper-vigilant security forces'",
          "Baseline vigilance of state forces; each state's scenario vigilance multiplies "
          "it."),
    Param("raid_rate", 0.01, 0.0, 10.0, "1/day",
          "modelling convention; calibrated",
          "Background raid hazard on a fully visible fighter under full state presence and "
          "vigilance."),
    Param("raid_kill_share", 0.8, 0.0, 1.0, "share",
          A + ": 'killed at least 25 Islamic State militants in two days of raids'",
          "Share of fighters hit by a raid who are killed (the rest are detained)."),
    Param("intel_gain", 0.02, 0.0, 1.0, "1/day",
          A + ": the beheading 'placed themselves squarely in the crosshairs'",
          "Daily growth of a state's intelligence on a group, per unit visibility and "
          "vigilance."),
    Param("intel_decay", 0.005, 0.0, 1.0, "1/day",
          "modelling convention",
          "Daily decay of intelligence."),
    Param("raid_operation_rate", 0.1, 0.0, 10.0, "1/day",
          A + ": 'two days of raids in the mountains of northeastern Algeria'",
          "Hazard of launching a major raid operation per unit intelligence above the "
          "trigger."),
    Param("raid_trigger", 0.5, 0.0, 1.0, "intelligence",
          "modelling convention",
          "Intelligence level above which a state can launch major raid operations on a "
          "group."),
    Param("raid_operation_days", 2.0, 1.0, 60.0, "days",
          A + ": 'two days of raids'",
          "Length of a major raid operation."),
    Param("raid_operation_intensity", 120.0, 0.0, 1e4, "multiplier",
          A + ": 'left five of Jund al-Khilafah's six commanders dead'",
          "Raid intensity during a major operation, relative to background raiding."),
    Param("operation_capacity", 50.0, 1.0, 1e4, "fighters",
          A + ": 'killed at least 25 Islamic State militants in two days of raids'",
          "Most fighters of a group one raid operation can locate and strike (raids are "
          "the work of small parties: a large group is fought by offensives)."),
    Param("leader_hit_rate", 1.5, 0.0, 100.0, "multiplier",
          A + ": 'Algerian security forces killed the group's emir'",
          "How hard intelligence-led operations hunt leaders: in a sweep each leader is "
          "caught with probability 1 - (1 - hit)^leader_hit_rate, hit the share of the "
          "group struck; a hunt finds its emir with probability 1 - (1 - "
          "intel)^leader_hit_rate. (In battle and under background raids leaders face "
          "leader_exposure times their fighters' hazard.)"),
    Param("leader_exposure", 0.5, 0.0, 5.0, "multiplier",
          A + ": the IMU's leader and 'Dadullah and dozens of his family members were "
          "killed' when their men were overrun; modelling convention (0.5: leaders lead "
          "from behind and hide better than their men); calibrated (1.0)",
          "Leaders' hazard in battle and under patrols and background raids, relative to "
          "their fighters' (only intelligence-led operations hunt them, at "
          "leader_hit_rate)."),
    Param("roots_shield", 0.7, 0.0, 1.0, "share",
          A + ": Wilayat Sinai 'withstood repeated offensives'; cases.md: 'an affiliate "
          "embedded in terrain and population'",
          "Share of a state's intelligence gain a group with full local roots denies it (the "
          "population shelters it and does not inform), and of the intelligence the state "
          "can ever reach on it."),
    Param("intel_per_informant", 0.01, 0.0, 1.0, "share per fighter",
          "modelling convention: detainees and defectors are a state's main source",
          "Share of a state's remaining ignorance of a group each of its fighters the state "
          "detains or receives in surrender removes."),
    Param("escort", 3.0, 0.0, 100.0, "fighters",
          "other public reporting: Gouri was killed with two other militants at Sidi Daoud "
          "on 22 December 2014, five months before the May 2015 raids; Flynn, Juergens "
          "and Cantrell 2008 ('Employing ISR: SOF Best Practices', Joint Force Quarterly "
          "50): targeting starts with the leaders",
          "Fighters around a group's founding emir that an operation hunting him strikes "
          "(while he lives, operations hunt him; once he is dead, they sweep the share of "
          "the group the state located)."),
    Param("hiding_scale", 10.0, 0.0, 1e4, "fighters",
          A + ": 'only six or seven Islamic State fighters remain'",
          "Size at which a group draws half the raiding a large group draws (a handful of "
          "men in hiding is hard to find)."),
    Param("blind_effort", 0.3, 0.0, 1.0, "share",
          "Kalyvas 2006 (The Logic of Violence in Civil War, ch. 6-7): violence without "
          "information is indiscriminate",
          "Share of a state's combat effort that lands on a guerrilla group it has no "
          "intelligence on (with full intelligence, all of it)."),
    Param("visibility_decay", 0.01, 0.0, 1.0, "1/day",
          "modelling convention",
          "Rate at which a visibility shock fades back to the organization's baseline."),
    Param("raid_reach_km", 30.0, 0.0, 1000.0, "km",
          "modelling convention: a state raids from its bases and positions (the Algerian "
          "army 'in the mountains of northeastern Algeria'); the Pakistani army does not "
          "raid on Afghan soil",
          "Distance from its forces over which a state raids: its raid intensity in a cell "
          "is scaled by 1 - exp(-n / RAID_PARTY), n its fighters within raid_cells = "
          "floor(raid_reach_km / cell_km) cells (a square window)."),
    Param("attack_exposure", 0.005, 0.0, 1.0, "share per fighter",
          A + ": Wilayat Sinai's 'torrid pace of serious terrorist attacks'; Algeria: the "
          "beheading 'placed themselves squarely in the crosshairs'",
          "Share of a group's remaining invisibility each state fighter it kills removes "
          "(its attacks show the state where it is)."),
)


# ---------------------------------------------------------------------- kernel side
@njit(cache=True)
def detection(raid_rate, state_presence, raid_shield, visibility):
    """Raid hazard on a group's fighters in a cell per unit of raid intensity."""
    return raid_rate * state_presence * raid_shield * visibility


@njit(cache=True)
def leader_hazard(exposure, mean_raid, mean_combat):
    """Hazard (1/day) on a group's leaders: ``exposure`` (``leader_exposure``) times the
    fighter-weighted mean raid and combat hazards around them (intelligence-led operations
    hunt them: see :func:`strike`)."""
    return exposure * (mean_raid + mean_combat)


# ---------------------------------------------------------------------- decide side
def per_cell(p, cell_km: float) -> dict:
    """Cells over which a state raids from its forces, for cells of ``cell_km`` km."""
    return {"raid_cells": np.floor(p["raid_reach_km"] / cell_km + 1e-9)}


def window_sum(F: np.ndarray, n: int) -> np.ndarray:
    """``(..., H, W)`` sums of F (>= 0) over the square window of half-width ``n`` cells
    around each cell (cut at the grid's edges). One axis at a time, as differences of
    running sums: a running sum of non-negative numbers never decreases, so a window is
    never negative, and exactly 0 where it holds nothing."""
    out = F.copy()
    if n <= 0:
        return out
    for axis in (-1, -2):
        size = out.shape[axis]
        run = np.concatenate([np.zeros_like(np.take(out, [0], axis=axis)),
                              out.cumsum(axis=axis)], axis=axis)
        hi = np.clip(np.arange(size) + n + 1, 0, size)
        lo = np.clip(np.arange(size) - n, 0, size)
        out = np.take(run, hi, axis=axis) - np.take(run, lo, axis=axis)
    return out


def raid_reach(fighters: np.ndarray, raid_cells: np.ndarray) -> np.ndarray:
    """``(R, O, H, W)`` share of each organization's raid intensity that reaches each cell:
    ``1 - exp(-n / RAID_PARTY)``, n its fighters within ``raid_cells[r]`` cells."""
    out = np.empty_like(fighters)
    cells = raid_cells.astype(int)
    for n in np.unique(cells):
        rs = cells == n
        out[rs] = -np.expm1(-window_sum(fighters[rs], int(n)) / RAID_PARTY)
    return out


def setup(world, p) -> None:
    """A state's vigilance: its scenario vigilance times the baseline, within [0, 1]."""
    o = world.orgs
    o.vigilance = np.clip(o.vigilance * p["state_vigilance"][:, None], 0.0, 1.0)


def operation_hazard(intel, p) -> np.ndarray:
    """``(R, O, O)`` hazard of launching a major raid operation."""
    return p["raid_operation_rate"][:, None, None] * np.clip(
        intel - p["raid_trigger"][:, None, None], 0.0, None)


def decide(world, plan, p, rng, log) -> None:
    """Raid hostile groups; launch raid operations where intelligence allows, on the
    fighters it locates."""
    o, f, it = world.orgs, world.forces, world.intel
    chance = rng.uniform("operation", (world.O, world.O))
    it.strike_draw = rng.uniform("strike", (world.O, world.O, 2))
    raiders = world.takes_part("raid")[:, :, None]
    present = (f.totals > 0)[:, None, :]
    ld = world.leadership
    founder = ld.emir_alive & ld.founder
    # a hunt whose man died otherwise (in battle, at another state's hands, scripted) is
    # over: what it located is spent, and his successor is not known to it
    close(it, it.hunt & ~founder[:, None, :])
    start = (raiders & (it.operation_days <= 0) & (world.day >= it.next_operation)
             & (chance < hazard_share(operation_hazard(it.intel, p))) & present)
    days = np.ceil(p["raid_operation_days"])[:, None, None]  # whole days
    found = f.totals / (f.totals + p["hiding_scale"][:, None] + 1e-12)  # a handful hides
    # what it locates: its intelligence on the group, a handful hiding better, and no more
    # fighters than an operation can strike; while the group's founding emir lives, an
    # operation hunts him: it strikes him and his escort, not the rank and file
    room = np.minimum(1.0, p["operation_capacity"][:, None]
                      / np.maximum(f.totals, 1e-12))
    hunting = start & founder[:, None, :]
    for r, s, j in zip(*np.nonzero(start), strict=True):
        log("raid_operation", r, s, j, it.intel[r, s, j],
            "hunt for the emir" if hunting[r, s, j] else "intelligence-led sweep")
    escort = np.minimum(1.0, p["escort"][:, None] / np.maximum(f.totals, 1e-12))
    swept = it.intel * (found * room)[:, None, :]
    it.located = np.where(start, np.where(hunting, escort[:, None, :], swept), it.located)
    it.hunt = np.where(start, hunting, it.hunt)
    it.operation_days = np.where(start, days, it.operation_days)
    it.next_operation = np.where(start, world.day + OPERATION_REFRACTORY, it.next_operation)
    on = (it.operation_days > 0) & raiders & world.relations.hostile & present
    # an operation strikes the located fighters, spread evenly over its days
    it.strike = np.where(on, -np.expm1(np.log1p(-np.minimum(it.located, 1.0 - 1e-12))
                                       / days), 0.0)
    # a hunt finds its man as well as the state knows the group, its days sharing the odds
    it.hunt_odds = np.where(on & it.hunt, -np.expm1(
        p["leader_hit_rate"][:, None, None] / days
        * np.log1p(-np.minimum(it.intel, 1.0 - 1e-12))), -1.0)
    row = o.vigilance[:, :, None] * (0.5 + it.intel) * found[:, None, :]
    plan.raid = np.where(raiders & world.relations.hostile & present, row, plan.raid)
    plan.raid_reach = raid_reach(f.fighters, p["raid_cells"])  # a state raids near its forces
    left = np.where(raiders, np.maximum(it.operation_days - 1, 0), it.operation_days)
    ended = (it.operation_days > 0) & (left <= 0)
    close(it, ended)
    it.operation_days = left
    # a state's combat effort lands on a guerrilla group as well as it knows it
    lands = selectivity(world, p)
    plan.engage = plan.engage * lands
    it.missed = np.where(plan.engage > 0, 1.0 - lands, 0.0)


def close(it, done: np.ndarray) -> None:
    """End the operations marked ``done`` (``(R, O, O)`` bool): what each located is spent,
    ``intel <- intel * (1 - located)`` (what the state still knows is of those it never
    found), and nothing is located, hunted or left of it."""
    it.intel = np.where(done, it.intel * (1.0 - it.located), it.intel)
    it.located = np.where(done, 0.0, it.located)
    it.hunt = it.hunt & ~done
    it.operation_days = np.where(done, 0.0, it.operation_days)


def selectivity(world, p) -> np.ndarray:
    """``(R, O, O)`` ``[k, v]``: share of k's combat effort that lands on v: ``blind_effort +
    (1 - blind_effort) * intel[k, v]`` for a state k and a guerrilla group v, 1 otherwise."""
    o = world.orgs
    state = o.camp == STATE
    guerrilla = ~state & ~o.conventional
    blind = p["blind_effort"][:, None, None]
    sel = blind + (1.0 - blind) * world.intel.intel
    return np.where(state[:, :, None] & guerrilla[:, None, :], sel, 1.0)


def strike(world, flows, p) -> None:
    """Today's raid operations strike the fighters they located.

    In each cell a share ``strike * (1 - exp(-raid_operation_intensity * detection *
    reach))`` of the target's fighters is hit (``reach`` the state's :func:`raid_reach`,
    ``detection`` the kernel's raid hazard with the cell's presence and shield): at most the
    located share, however intense the raids, and less in rugged, remote cells and far from
    the state's forces. ``raid_kill_share`` of those hit are killed, the rest detained. The
    leaders are hunted: in a sweep each is caught with probability ``1 - (1 -
    hit)^leader_hit_rate``, ``hit`` the share of the group struck; a hunt that struck anyone
    finds the emir with today's ``hunt_odds`` (set by :func:`decide`) and ends with him,
    and each commander falls with probability ``hit`` (a hunt is for one man: those around
    him fall as his escort does).
    The losses raise the group's backlash like any others
    (:func:`affiliate_sim.mechanisms.combat.backlash_raise`)."""
    it, f, ld, o = world.intel, world.forces, world.leadership, world.orgs
    todo = np.argwhere(it.strike > 0)
    if not len(todo):
        return
    F, S = f.fighters, f.sympathizers
    fields = world.grid.fields
    reach = raid_reach(F, p["raid_cells"])
    for r, s, v in todo:
        total = F[r, v].sum()
        if total <= 0:
            continue
        det = detection(p["raid_rate"][r], world.grid.state_presence,
                        fields.raid_shield[r], o.visibility[r, v])
        share = it.strike[r, s, v] * -np.expm1(
            -p["raid_operation_intensity"][r] * det * reach[r, s])
        hit = F[r, v] * share
        n = hit.sum()
        F[r, v] -= hit
        S[r, v] = np.minimum(S[r, v] * (1.0 - share), F[r, v])
        flows.killed[r, v, s] += p["raid_kill_share"][r] * n
        flows.detained[r, v, s] += (1.0 - p["raid_kill_share"][r]) * n
        # the losses raise the group's backlash as any others do (the combat process
        # booked the day's other losses before the strike)
        pop = (hit * world.grid.population).sum() / max(n, 1e-12)
        o.backlash[r, v] = backlash_raise(o.backlash[r, v], n, f.start_totals[r, v], pop,
                                          p["backlash_gain"][r])
        hunted = it.hunt_odds[r, s, v] >= 0.0
        struck = min(n / total, 1.0 - 1e-12)
        # a sweep hunts the leaders among those it strikes (leader_hit_rate); a hunt is
        # for one man, and his commanders fall only as his escort does
        caught = struck if hunted else -np.expm1(p["leader_hit_rate"][r] * np.log1p(-struck))
        p_emir = it.hunt_odds[r, s, v] * (n > 0) if hunted else caught
        draw = it.strike_draw[r, s, v]
        if ld.emir_alive[r, v] and not flows.emir_killed[r, v] and draw[0] < p_emir:
            flows.emir_killed[r, v] = True
            if hunted:  # the hunt is over with its man
                done = np.zeros_like(it.hunt)
                done[r, s, v] = True
                close(it, done)
        left = max(int(ld.commanders[r, v]) - int(flows.commanders_killed[r, v]), 0)
        if left:
            flows.commanders_killed[r, v] += int(max(binom.ppf(draw[1], left, caught), 0))
    world.refresh_totals()


def apply(world, flows, p, log) -> None:
    """Raid operations strike; visibility relaxes towards its baseline; intelligence grows
    and decays."""
    strike(world, flows, p)
    o, f, it = world.orgs, world.forces, world.intel
    o.visibility = o.visibility + p["visibility_decay"][:, None] * (o.base_visibility
                                                                     - o.visibility)
    is_state = o.camp == STATE
    # a group's attacks on a state show the state where it is
    struck = np.where(is_state[:, :, None], flows.killed, 0.0).sum(1)  # (R, O) by killer
    shown = -np.expm1(-p["attack_exposure"][:, None] * np.where(is_state, 0.0, struck))
    o.visibility = o.visibility + (1.0 - o.visibility) * shown
    targets = armed(world) & (f.totals > 0)
    shield = 1.0 - p["roots_shield"][:, None] * o.local_roots  # (R, O) of the target
    gain = (p["intel_gain"][:, None, None] * o.vigilance[:, :, None]
            * (o.visibility * shield)[:, None, :])
    talk = (flows.detained + flows.surrendered).transpose(0, 2, 1)  # [state, target]
    informed = -np.expm1(-p["intel_per_informant"][:, None, None] * talk)
    new = (it.intel + (gain + informed - gain * informed) * (1.0 - it.intel)
           - p["intel_decay"][:, None, None] * it.intel)
    # what the population will not tell, no informant and no patience makes up for
    new = np.minimum(new, np.maximum(it.intel, shield[:, None, :]))
    mask = is_state[:, :, None] & targets[:, None, :] & world.relations.hostile
    it.intel = np.where(mask, np.clip(new, 0.0, 1.0), 0.0)
