"""Mechanism 6: internal schism against a wali, in waves.

In Yemen "70 Islamic State members and several senior leaders released a statement ...
announcing that they were defecting from the group's local governor (wali)", accusing him of
"injustice against the weak", of dismissing fighters and of "failing to provide sufficient
resources"; "This statement opened the floodgates"; "over 30", then "another 24"; "Rather
than replacing the controversial wali ... the Islamic State's central leadership stuck with
its man". In Khorasan, Muslim Dost would "no longer obey" the wali over his "brutality
against civilian populations" and strategic disagreement, while remaining "loyal to the
Islamic State" (Gartenstein-Ross and Barr 2016).

Grievance grows with the wali's injustice, his brutality against civilians and strategic
disagreement. It turns loyal fighters into disaffected ones (latent sympathizers of a
dissident faction, loyal to the caliph). Above a threshold, public defection statements
occur at random, each taking a share of the disaffected to the dissident faction. The
disaffected do not all speak at the same grievance: their thresholds are spread uniformly
over ``schism_threshold_spread`` above ``schism_threshold`` (Granovetter 1978; Kuran 1991,
World Politics 44(1)), and the hazard grows with the share of thresholds passed, so a narrow
spread makes the first statement follow the crossing of the threshold closely. Each
statement also encourages the next (contagion, Granovetter 1978, AJS 83(6): those who would
speak once others have): recent statements add ``schism_contagion * recent / (1 + recent)``
to the excess grievance in the hazard, weighted by how many disaffected remain to speak (``d
/ (d + DISAFFECTED_HALF)``, ``d`` their share of the fighters) and by the susceptibility of
those who remain (below), so that a first statement sets off a wave that runs until the
disaffected are spent, even as the exits discharge the grievance, and later waves are weaker
as the aggrieved leave. A statement is made by people: it needs at least
``MIN_STATEMENT`` fighter expected to leave with it (``schism_wave_share`` of the
disaffected), so a handful of survivors does not keep a schism going. The IS core reviews
contested walis every ``WALI_REVIEW_DAYS`` and backs or replaces them; a wali is contested
when grievance against him is above the threshold or when his men have defied him in public
since the last review.

Schisms end: the disaffected who leave take their grievance with them. Each day the share of
an affiliate's fighters who left for the dissidents discharges its grievance, and the
susceptibility of those who remain to the wali's conduct, by the factor ``exp(-
schism_discharge * share)`` (those who stay are the loyal). With grievance below the
threshold, statements go on only while recent statements pull on disaffected who remain (and
disaffection goes on while there is any grievance, at its rate); once the wave has passed
they stop, and the remaining disaffected drift back to loyalty (reversion). The outrage of
an atrocity (a scripted input) fades back to the wali's usual brutality over
``ATROCITY_MEMORY`` days. Grievance also decays (``grievance_decay``: reconciliation), and a
replaced wali takes half of it with him.
"""

from __future__ import annotations

import math

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param, hazard_share
from affiliate_sim.mechanisms.population import armed
from affiliate_sim.vocabulary import IS

NAME = "schism"
SWITCHABLE = True
NUMBER = 6

#: Daily retention of the memory of recent statements (about ten days).
STATEMENT_MEMORY = 0.9
#: Share of an affiliate's fighters disaffected at which recent statements pull half as
#: hard as they would on a group of the disaffected alone.
DISAFFECTED_HALF = 0.05
#: Days over which the outrage of an atrocity (a scripted input raising a wali's brutality)
#: fades back to his usual conduct (the e-folding time of the excess).
ATROCITY_MEMORY = 180.0
#: Fewest fighters a public statement must be expected to take with it (a statement is made
#: by people: a remnant of a few men issues none).
MIN_STATEMENT = 1.0
#: Days between the IS core's reviews of contested walis.
WALI_REVIEW_DAYS = 30
#: Share of grievance left when the core replaces a wali (his injustice goes with him).
REPLACED_GRIEVANCE = 0.5

PARAMS: tuple[Param, ...] = (
    Param("grievance_gain", 0.01, 0.0, 1.0, "1/day",
          A + ": 'injustice against the weak'; 'failing to provide sufficient resources'",
          "Daily growth of grievance per unit of the wali's injustice, brutality and "
          "strategic disagreement."),
    Param("grievance_decay", 0.005, 0.0, 1.0, "1/day",
          "modelling convention",
          "Daily decay of grievance."),
    Param("disaffection_rate", 0.01, 0.0, 1.0, "1/day",
          A + ": 'This wave of defections and publicly aired grievances'",
          "Rate at which loyal fighters of an affiliate with a dissident faction become "
          "disaffected with the wali, per unit of grievance."),
    Param("schism_threshold", 0.5, 0.0, 1.0, "grievance",
          A + ": 'Tensions ... exploded into public in December 2015'",
          "Grievance above which public defection statements can occur."),
    Param("schism_threshold_spread", 0.5, 1e-3, 1.0, "grievance",
          "Granovetter 1978 (a uniform distribution of thresholds); Kuran 1991 "
          "(preference falsification: grievance is voiced once it passes each one's "
          "threshold)",
          "Width of the spread of the disaffected's thresholds above "
          "`schism_threshold`: the excess grievance in the statement hazard is the share "
          "of thresholds passed, (g - schism_threshold) / spread, at most 1. A narrow "
          "spread makes the first statement follow the crossing closely; 1 - "
          "schism_threshold spreads thresholds up to full grievance."),
    Param("schism_statement_rate", 0.1, 0.0, 10.0, "1/day",
          A + ": 'This statement opened the floodgates'",
          "Hazard of a public defection statement once grievance has passed every "
          "threshold (schism_threshold + schism_threshold_spread), before contagion."),
    Param("schism_wave_share", 0.35, 0.0, 1.0, "share",
          A + ": '70 members', then 'over 30', then 'another 24'",
          "Share of the disaffected who leave with one public statement."),
    Param("schism_contagion", 2.0, 0.0, 100.0, "excess grievance",
          A + ": 'each public statement encouraging the next' (cases.md); Granovetter "
          "1978 (threshold models of collective behaviour)",
          "Excess grievance that recent statements add, at most, to the statement hazard "
          "while disaffected fighters remain to speak."),
    Param("schism_discharge", 1.0, 0.0, 100.0, "grievance per share",
          A + ": 'At least one hundred fighters have defected' ... of 'fewer than a "
          "thousand'",
          "Relative fall of an affiliate's grievance per share of its fighters leaving for "
          "the dissidents (the aggrieved leave)."),
    Param("core_backs_wali", 0.9, 0.0, 1.0, "probability",
          A + ": 'the central leadership stuck with its man'",
          "Probability that the IS core backs (rather than replaces) a contested wali at "
          "each review."),
)


def grievance_step(grievance, injustice, brutality, disagreement, p,
                   susceptibility=1.0) -> np.ndarray:
    """New grievance after one day (logistic growth towards 1, linear decay)."""
    drive = (p["grievance_gain"][:, None] * (injustice + brutality + disagreement)
             * susceptibility)
    g = grievance + drive * (1.0 - grievance) - p["grievance_decay"][:, None] * grievance
    return np.clip(g, 0.0, 1.0)


def statement_hazard(grievance, recent, disaffected, p, susceptibility=1.0) -> np.ndarray:
    """``(R, O)`` 1/day hazard of a public defection statement: the share of the
    disaffected's thresholds that grievance has passed (uniform over ``schism_threshold``
    to ``schism_threshold + schism_threshold_spread``), plus the pull of recent statements
    on the disaffected who have not spoken yet (``disaffected``: their share of the
    affiliate's fighters), as susceptible as those who remain still are."""
    thr = p["schism_threshold"][:, None]
    spread = p["schism_threshold_spread"][:, None]
    excess = np.clip((grievance - thr) / spread, 0.0, 1.0)
    pull = (p["schism_contagion"][:, None] * recent / (1.0 + recent)
            * disaffected / (disaffected + DISAFFECTED_HALF) * susceptibility)
    return p["schism_statement_rate"][:, None] * (excess + pull)


def wave_hazard(p) -> np.ndarray:
    """``(R,)`` hazard (1/day) that makes a share ``schism_wave_share`` of the disaffected
    leave in one day."""
    share = np.minimum(p["schism_wave_share"], 1.0 - 1e-12)
    return -np.log1p(-share)


def decide(world, plan, p, rng, log) -> None:
    """Public statements of the disaffected; the core's review of contested walis;
    disaffection."""
    o, f, rel, ld = world.orgs, world.forces, world.relations, world.leadership
    said = rng.uniform("statement", (world.O,))
    review = rng.uniform("review", (world.O,))
    d = rel.dissident_of
    with np.errstate(divide="ignore", invalid="ignore"):
        disaffected = np.where(f.totals > 0, f.sympathizer_totals
                               / np.where(f.totals > 0, f.totals, 1.0), 0.0)
    h = statement_hazard(o.grievance, o.recent_statements, disaffected, p, o.susceptibility)
    followers = f.sympathizer_totals * p["schism_wave_share"][:, None]
    speak = (world.takes_part("speak_out") & (d >= 0) & (said < hazard_share(h))
             & (followers >= MIN_STATEMENT))
    wave = wave_hazard(p)
    for r, i in zip(*np.nonzero(speak), strict=True):
        j = d[r, i]
        plan.split[r, i, j] = wave[r]
        first = not o.active[r, j]
        o.active[r, j] = True
        ld.emir_alive[r, j] = True  # the dissidents' leader speaks for them
        o.recent_statements[r, i] += 1.0
        o.statements_since_review[r, i] += 1.0
        log("split" if first else "defection_statement", r, i, j, followers[r, i],
            "public statement against the wali")

    if world.day % WALI_REVIEW_DAYS == 0:
        reviews = world.takes_part("review_walis").any(axis=1)  # (R,): a core reviews
        aggrieved = ((o.grievance >= p["schism_threshold"][:, None])
                     | (o.statements_since_review > 0))
        contested = ((d >= 0) & (o.camp == IS) & aggrieved
                     & (f.totals > 0) & reviews[:, None])
        o.statements_since_review[reviews] = 0.0
        core = world.core
        for r, v in zip(*np.nonzero(contested), strict=True):
            if review[r, v] < p["core_backs_wali"][r]:
                log("wali_backed", r, core, v, o.grievance[r, v], "the core stuck with its man")
            else:
                log("wali_replaced", r, core, v, o.grievance[r, v],
                    "the core named a new wali")
                o.injustice[r, v] = 0.0
                o.grievance[r, v] *= REPLACED_GRIEVANCE

    disaffection = p["disaffection_rate"][:, None] * o.grievance
    plan.conversion = plan.conversion + np.where(
        armed(world) & (o.camp == IS) & (d >= 0), disaffection, 0.0)


def apply(world, flows, p, log) -> None:
    """Grievance is discharged by the day's exits to the dissidents, then grows with
    injustice, brutality and disagreement; statements fade from memory."""
    o, f, rel = world.orgs, world.forces, world.relations
    d = rel.dissident_of
    left = np.take_along_axis(flows.defected, np.maximum(d, 0)[:, :, None], axis=2)[:, :, 0]
    share = np.where(d >= 0, left / np.maximum(f.start_totals, 1.0), 0.0)
    keep = np.exp(-p["schism_discharge"][:, None] * share)
    o.susceptibility = o.susceptibility * keep
    o.grievance = grievance_step(o.grievance * keep, o.injustice, o.brutality,
                                 o.disagreement, p, o.susceptibility)
    o.recent_statements = o.recent_statements * STATEMENT_MEMORY
    o.brutality = o.base_brutality + (o.brutality - o.base_brutality) * math.exp(
        -1.0 / ATROCITY_MEMORY)
