"""Dynamics that hold over years, and the exogenous inputs.

Small scenarios built here (not historical cases) isolate one dynamic each: recruitment
saturates at the carrying capacity; a state's reinforcements stop when its reserve is
spent; fighters surrender to a state without any purge; a schism ends; each input kind
changes the run as documented. The four-year continuations of the nine cases are in
``test_plausibility``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from affiliate_sim.errors import InputError
from affiliate_sim.model import AffiliateModel
from affiliate_sim.scenario.files import parse_scenario
from affiliate_sim.scenario.params import Mechanisms, Params

BASE = {
    "name": "dynamics", "days": 200, "grid": {"height": 6, "width": 8},
    "background": {"terrain": 0.3, "population": 2.0, "remoteness": 0.3,
                   "state_presence": 0.2},
    "regions": [{"name": "west", "rows": [0, 6], "cols": [0, 4]},
                {"name": "east", "rows": [0, 6], "cols": [4, 8]}],
    "organizations": [
        {"name": "core", "camp": "IS", "kind": "is_core", "fighters": 0, "region": "west",
         "commanders": 0},
        {"name": "group", "camp": "independent", "kind": "militia", "fighters": 100,
         "region": "west", "local_roots": 0.8, "cohesion": 0.7},
        {"name": "army", "camp": "state", "kind": "state_force", "fighters": 500,
         "region": "east"},
    ],
}


def scenario(**changes):
    data = copy.deepcopy(BASE)
    for k, v in changes.items():
        data[k] = v
    return parse_scenario(data, Path("dynamics.yaml"))


def run(sc, params=None, seed=0, days=None):
    return AffiliateModel(sc, params or Params(), rng=seed, days=days).run()


def hist(m):
    """The history of a run (replicate 0)."""
    return m.record(0).history


def fighters(m, name):
    return hist(m).stocks["fighters"][:, m.names.index(name)]


def events(m, kind):
    return [e for e in m.events if e["kind"] == kind]


#: An al-Qaeda branch six times the group's size beside it (the odds of an offensive).
STRONG_RIVAL = {"name": "rival", "camp": "AQ", "kind": "aq_branch", "fighters": 600,
                "region": "west", "local_roots": 0.8, "cohesion": 0.9}


def test_recruitment_saturates_at_the_carrying_capacity():
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1]["regions"] = {"west": 0.5, "east": 0.5}
    del orgs[1]["region"]
    sc = scenario(days=2000, organizations=orgs)
    p = Params(local_recruit_rate=0.3, desertion_rate=0.0)
    f = fighters(run(sc, p), "group")
    # capacity: mobilization_ceiling * (0.5 + roots) * population * (1 - brake * presence)
    # per cell, over the 48 cells
    cap = (p.mobilization_ceiling * (0.5 + 0.8) * 2.0 * (1 - p.recruit_state_brake * 0.2)
           * 48)
    assert f[200] > 3 * f[0]                    # it grows ...
    # ... never much past what the population carries (the ceiling stops recruitment in a
    # cell; movement can crowd a few more into some cells)
    assert f[-1] <= 1.1 * cap
    assert f[-1] > 0.8 * cap                    # ... up to it
    assert f[-1] - f[-300] < 0.1 * (f[300] - f[0])  # ... and levels off
    # a higher ceiling lets it grow further: the ceiling binds
    more = fighters(run(sc, Params(local_recruit_rate=0.3, desertion_rate=0.0,
                                   mobilization_ceiling=2 * p.mobilization_ceiling)), "group")
    assert more[-1] > 1.5 * f[-1]


def test_an_established_group_left_alone_holds_its_strength():
    """The steady start: an old group (established 1) past the carrying capacity of its
    cells, with nobody fighting it, holds its strength over four years; the same group with
    the steady start off, or a new one, is drained by desertion; and the replacement never
    makes a group grow: it replaces no more than its deserters."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(fighters=1500, established=1.0)
    sc = scenario(days=4 * 365, organizations=orgs)
    old = fighters(run(sc), "group")
    assert 0.95 * old[0] < old[-1] < 1.05 * old[0]
    off = fighters(run(sc, Params(steady_start=0.0)), "group")
    assert off[-1] < 0.6 * off[0]
    half = fighters(run(sc, Params(steady_start=0.5)), "group")
    assert off[-1] < half[-1] < old[-1]  # in proportion to the weight
    orgs[1]["established"] = 0.05
    new = fighters(run(scenario(days=4 * 365, organizations=orgs)), "group")
    assert new[-1] < 0.6 * new[0]
    # a group within its capacity recruits; its replaced deserters add nothing on top: it
    # grows no faster than the same group without any desertion
    orgs[1].update(fighters=200, established=1.0)
    small = scenario(days=4 * 365, organizations=orgs)
    steady = fighters(run(small), "group")
    no_desertion = fighters(run(small, Params(desertion_rate=0.0, steady_start=0.0)), "group")
    bare = fighters(run(small, Params(steady_start=0.0)), "group")
    assert bare[-1] < steady[-1] <= no_desertion[-1] * (1 + 1e-9)
    assert steady[-1] > 1.02 * steady[0]  # it grew, past its start


def test_rival_fighters_count_against_the_capacity():
    orgs = copy.deepcopy(BASE["organizations"])
    orgs.append({"name": "rival", "camp": "AQ", "kind": "aq_branch", "fighters": 600,
                 "region": "west", "local_roots": 0.8})
    p = Params(local_recruit_rate=0.05, desertion_rate=0.0)
    alone = fighters(run(scenario(days=600), p), "group")
    crowded = fighters(run(scenario(days=600, organizations=orgs), p), "group")
    assert crowded[-1] < alone[-1]


def test_state_reinforcement_stops_when_the_reserve_is_spent():
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(fighters=3000, region="east", cohesion=0.9, quality=3.0)
    orgs[2].update(fighters=500, reserve=200)
    sc = scenario(days=300, organizations=orgs,
                  relations=[{"a": "army", "b": "group", "kind": "hostile"}])
    m = run(sc)
    reinforced = hist(m).flows["recruited_foreign"][:, m.names.index("army")].sum()
    assert 150 < reinforced <= 200 + 1e-6       # it draws on its reserve, not beyond
    assert m.world.forces.reserve[0, m.names.index("army")] < 50
    unlimited = copy.deepcopy(orgs)
    unlimited[2]["reserve"] = 1e6
    m2 = run(scenario(days=300, organizations=unlimited,
                      relations=[{"a": "army", "b": "group", "kind": "hostile"}]))
    assert hist(m2).flows["recruited_foreign"][:, m2.names.index("army")].sum() > reinforced


def test_surrender_to_a_state_without_any_purge():
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(cohesion=0.2, region="east")
    sc = scenario(days=120, organizations=orgs,
                  relations=[{"a": "army", "b": "group", "kind": "hostile"}])
    # the army's fire lands on the group (as if it knew it, and no population hides it), so
    # that the group is in danger
    exposed = dict(blind_effort=1.0, popular_cover=0.0)
    params = Params(mechanisms=Mechanisms(purge=False), **exposed)
    m = run(sc, params)
    g, a = m.names.index("group"), m.names.index("army")
    assert not events(m, "purge")
    surrendered = hist(m).pairs["surrendered"][:, g, a].sum()
    assert surrendered > 1
    # a lenient state receives more surrenders than a harsh one
    harsh = run(sc, Params(mechanisms=Mechanisms(purge=False), **exposed,
                           state_leniency=0.1))
    assert hist(harsh).pairs["surrendered"][:, g, a].sum() < 0.5 * surrendered
    # a cohesive group fights on
    orgs[1]["cohesion"] = 0.95
    firm = run(scenario(days=120, organizations=orgs,
                        relations=[{"a": "army", "b": "group", "kind": "hostile"}]), params)
    assert hist(firm).pairs["surrendered"][:, g, a].sum() < surrendered


def test_a_schism_ends():
    """A wali whose injustice never stops: the aggrieved leave in waves and take their
    grievance with them; the statements stop, bounded, years before the end. Without the
    discharge (the old rule) they go on in the hundreds until the group is bled dry."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(camp="IS", kind="is_affiliate", fighters=800, injustice=1.0,
                   grievance=0.6, cohesion=0.6)
    orgs.append({"name": "dissidents", "camp": "IS", "kind": "splinter", "fighters": 0,
                 "region": "west", "dormant": True, "dissident_of": "group"})
    sc = scenario(days=4 * 365, organizations=orgs)
    kw = dict(grievance_gain=0.01, grievance_decay=0.002, schism_statement_rate=0.3,
              core_backs_wali=1.0)
    m = run(sc, Params(**kw))
    said = [e["day"] for e in m.events if e["kind"] in ("split", "defection_statement")]
    assert said, "the schism never started"
    assert len(said) < 40                             # bounded, not hundreds
    assert max(said) < m.days - 365                   # and over a year before the end
    g = m.names.index("group")
    stuck = run(sc, Params(**kw, schism_discharge=0.0))
    again = [e["day"] for e in stuck.events if e["kind"] in ("split", "defection_statement")]
    assert len(again) > 3 * len(said)
    assert stuck.world.orgs.grievance[0, g] > m.world.orgs.grievance[0, g]


def test_a_handful_of_men_issues_no_statement():
    """A statement is made by people: a group whose wave would take fewer than
    MIN_STATEMENT fighters says nothing, however aggrieved; the same grievance in a large
    group splits it."""
    from affiliate_sim.mechanisms.schism import MIN_STATEMENT

    def said(fighters):
        orgs = copy.deepcopy(BASE["organizations"])
        orgs[1].update(camp="IS", kind="is_affiliate", fighters=fighters, injustice=1.0,
                       grievance=0.9, cohesion=0.6, sympathizer_share=0.5)
        orgs.append({"name": "dissidents", "camp": "IS", "kind": "splinter",
                     "fighters": 0, "region": "west", "dormant": True,
                     "dissident_of": "group"})
        m = run(scenario(days=120, organizations=orgs),
                Params(schism_statement_rate=1.0, schism_wave_share=0.35,
                       core_backs_wali=1.0, local_recruit_rate=0.0))
        return [e for e in m.events if e["kind"] in ("split", "defection_statement")]
    assert 4 * 0.5 * 0.35 < MIN_STATEMENT
    assert not said(4)  # 0.7 of a man would follow: no statement
    big = said(400)
    assert big and min(e["magnitude"] for e in big) >= MIN_STATEMENT


def test_a_first_statement_sets_off_a_wave():
    """Contagion (Granovetter 1978): after the first public statement, the disaffected who
    remain speak out in a wave within weeks, although the exits discharge the grievance;
    without contagion, the first statement mostly stands alone."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(camp="IS", kind="is_affiliate", fighters=800, injustice=0.8,
                   grievance=0.7, cohesion=0.6)
    orgs.append({"name": "dissidents", "camp": "IS", "kind": "splinter", "fighters": 0,
                 "region": "west", "dormant": True, "dissident_of": "group"})
    sc = scenario(days=200, organizations=orgs)

    def wave(contagion):
        counts = []
        for seed in range(6):
            m = run(sc, Params(grievance_gain=0.01, schism_statement_rate=0.1,
                               schism_discharge=2.0, schism_contagion=contagion,
                               disaffection_rate=0.02, core_backs_wali=1.0), seed=seed)
            said = [e["day"] for e in m.events
                    if e["kind"] in ("split", "defection_statement")]
            counts.append(sum(1 for d in said if said and d - said[0] <= 30) - 1
                          if said else -1)
        return counts

    spread, alone = wave(4.0), wave(0.0)
    assert min(spread) >= 0, "no split"
    assert np.mean(spread) >= 2 and np.mean(spread) > np.mean(alone) + 1


def _wali_scenario(days, grievance=0.4):
    """An IS affiliate of 800 under an unjust wali, with a dormant dissident faction."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(camp="IS", kind="is_affiliate", fighters=800, injustice=0.8,
                   grievance=grievance, cohesion=0.6)
    orgs.append({"name": "dissidents", "camp": "IS", "kind": "splinter", "fighters": 0,
                 "region": "west", "dormant": True, "dissident_of": "group"})
    return scenario(days=days, organizations=orgs)


def test_a_narrow_spread_of_thresholds_times_the_first_statement():
    """Granovetter's thresholds: with the disaffected's thresholds spread over the whole
    range above schism_threshold, the statement hazard rises from zero as grievance creeps
    past the threshold and the first statement comes after a long, random wait; with a
    narrow spread it follows the crossing within days, in every seed alike."""
    sc = _wali_scenario(200)
    kw = dict(grievance_gain=0.004, grievance_decay=0.001, schism_threshold=0.5,
              schism_statement_rate=0.5, core_backs_wali=1.0)
    g = AffiliateModel(sc, Params(**{**kw, "schism_statement_rate": 0.0}), rng=0).run()
    trace = hist(g).stocks["grievance"][:, g.names.index("group")]
    crossing = int(np.argmax(trace >= 0.5))
    assert 20 < crossing < 120, crossing

    def first_days(spread):
        m = AffiliateModel(sc, Params(**kw, schism_threshold_spread=spread),
                           seeds=list(range(16))).run()
        days = [min((e["day"] for e in log if e["kind"] == "split"), default=sc.days)
                for log in m.log.by_replicate]
        return np.array(days)

    narrow, wide = first_days(0.02), first_days(0.5)
    assert np.all(narrow >= crossing - 1) and np.all(narrow <= crossing + 20), narrow
    assert narrow.std() < 0.5 * wide.std(), (narrow, wide)
    assert np.median(wide) > np.median(narrow) + 15


def test_a_wali_defied_in_public_is_reviewed():
    """The core reviews a wali whose men defied him in public since its last review, even
    when the wave of exits has already carried the grievance back below the threshold, and
    not at the next review if nobody has spoken since; it does not review one never
    defied whose grievance stays below it."""
    from affiliate_sim.mechanisms.schism import WALI_REVIEW_DAYS
    kw = dict(grievance_gain=0.004, grievance_decay=0.001, schism_threshold=0.5,
              schism_threshold_spread=0.02, schism_statement_rate=2.0,
              schism_discharge=20.0, core_backs_wali=1.0)
    m = AffiliateModel(_wali_scenario(240), Params(**kw), rng=0)
    g = m.names.index("group")
    reviews = []
    while m.running:
        if m.day % WALI_REVIEW_DAYS == 0:
            reviews.append((m.day, float(m.world.orgs.grievance[0, g])))
        m.step()
    said = [e["day"] for e in events(m, "split") + events(m, "defection_statement")]
    backed = [e["day"] for e in events(m, "wali_backed")]
    after = [(d, gr) for d, gr in reviews if d > min(said)][0]
    assert after[1] < 0.5, "the test needs the grievance discharged below the threshold"
    assert after[0] in backed
    # a review resets the count: the next one, with no statement since and the grievance
    # still below the threshold, finds nothing to review
    # (a statement on a review's day is made before the review, and counts for it)
    quiet = [d for (c, _), (d, gr) in zip(reviews, reviews[1:])
             if c >= after[0] and gr < 0.5 and not any(c < x <= d for x in said)]
    assert quiet
    assert not set(quiet) & set(backed)
    calm = run(_wali_scenario(150, grievance=0.0), Params(**{**kw, "grievance_gain": 0.0005}))
    assert not events(calm, "split") and not events(calm, "wali_backed")


# ---------------------------------------------------------------------- inputs
def test_ordered_offensive_runs_whatever_the_odds():
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[2].update(fighters=150)  # an army too weak to attack by its own rule
    rel = [{"a": "army", "b": "group", "kind": "hostile"}]
    base = run(scenario(days=90, organizations=orgs, relations=rel))
    assert not [e for e in base.events if e["kind"] == "offensive_started"
                and e["actor"] == "army"]
    ordered = run(scenario(days=90, organizations=orgs, relations=rel, inputs=[
        {"day": 10, "kind": "offensive", "actor": "army", "target": "group",
         "duration": 30}]))
    assert events(ordered, "offensive_ordered")
    g, a = ordered.names.index("group"), ordered.names.index("army")
    assert (hist(ordered).pairs["killed"][:, g, a].sum()
            > 1.5 * hist(base).pairs["killed"][:, g, a].sum())


def _two_groups():
    """The army and a militia in the east, the group in the west; nobody is hostile to
    anyone, so only orders make war."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs.append({"name": "militia", "camp": "independent", "kind": "militia",
                 "fighters": 80, "region": "east", "local_roots": 0.5})
    return orgs


def test_an_offensive_ordered_against_a_region_hits_its_holder():
    """Ordered against a region without a target, an offensive is against the group that
    holds most of it that day; against an empty region, nothing happens."""
    orgs = _two_groups()
    west = run(scenario(days=60, organizations=orgs, inputs=[
        {"day": 5, "kind": "offensive", "actor": "army", "region": "west",
         "duration": 30}]))
    (order,) = events(west, "offensive_ordered")
    assert order["target"] == "group"
    g, a, mi = (west.names.index(n) for n in ("group", "army", "militia"))
    assert hist(west).pairs["killed"][:, g, a].sum() > 2.0
    assert hist(west).pairs["killed"][:, mi, a].sum() == 0.0
    east = run(scenario(days=60, organizations=orgs, inputs=[
        {"day": 5, "kind": "offensive", "actor": "army", "region": "east",
         "duration": 30}]))
    assert events(east, "offensive_ordered")[0]["target"] == "militia"
    assert hist(east).pairs["killed"][:, mi, a].sum() > 2.0
    assert hist(east).pairs["killed"][:, g, a].sum() == 0.0
    # a region nobody holds: the order is logged and nothing follows
    grid = scenario(days=30, organizations=orgs[:3], regions=BASE["regions"] + [
        {"name": "empty", "rows": [5, 6], "cols": [7, 8]}], inputs=[
        {"day": 1, "kind": "offensive", "actor": "army", "region": "empty"}])
    m = run(grid)
    assert events(m, "offensive_ordered")[0]["target"] == ""
    assert not events(m, "offensive_started")


def test_air_support_over_a_region_hits_only_those_in_it():
    """Air support over a region multiplies the attrition on the groups there that day,
    not on the others."""
    orgs = _two_groups()
    rel = [{"a": "army", "b": "group", "kind": "hostile"},
           {"a": "army", "b": "militia", "kind": "hostile"}]
    base = run(scenario(days=40, organizations=orgs, relations=rel))
    air = run(scenario(days=40, organizations=orgs, relations=rel, inputs=[
        {"day": 0, "kind": "air_support", "actor": "army", "region": "east",
         "magnitude": 4.0, "duration": 40}]))
    mi, a = air.names.index("militia"), air.names.index("army")
    assert air.world.conduct.air[0, a, mi] == 4.0
    assert air.world.conduct.air[0, a, air.names.index("group")] == 1.0  # in the west
    assert (hist(air).pairs["killed"][:, mi, a].sum()
            > 1.5 * hist(base).pairs["killed"][:, mi, a].sum())


def test_air_support_multiplies_the_kills_booked_to_its_side():
    rel = [{"a": "army", "b": "group", "kind": "hostile"}]
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1]["region"] = "east"
    base = run(scenario(days=60, organizations=orgs, relations=rel))
    air = run(scenario(days=60, organizations=orgs, relations=rel, inputs=[
        {"day": 0, "kind": "air_support", "actor": "army", "target": "group",
         "magnitude": 3.0, "duration": 20}]))
    g, a = base.names.index("group"), base.names.index("army")
    k0 = hist(base).pairs["killed"][:20, g, a].sum()
    k1 = hist(air).pairs["killed"][:20, g, a].sum()
    assert k1 > 1.5 * k0
    # after the support ends, the army fights on its own again: no extra multiplier
    assert events(air, "air_support")


def test_recognition_makes_the_core_invest():
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(foreign_access=0.8)
    plain = run(scenario(days=120, organizations=orgs))
    rec = run(scenario(days=120, organizations=orgs, inputs=[
        {"day": 5, "kind": "recognition", "actor": "core", "target": "group"}]))
    g = rec.names.index("group")
    assert rec.world.orgs.camp[0, g] == 0  # IS
    assert hist(plain).flows["recruited_foreign"][:, g].sum() == 0
    assert hist(rec).flows["recruited_foreign"][:, g].sum() > 0
    assert events(rec, "recognized") and events(rec, "pledge")


def test_core_fortunes_scale_investment_and_broadcast():
    """The core's fortunes elsewhere (an input): halved, its foreign fighters halve and its
    brand's appeal falls; restored, they come back."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(camp="IS", kind="is_affiliate", foreign_access=0.8)
    p = Params(mechanisms=Mechanisms(momentum=False))
    base = AffiliateModel(scenario(days=60, organizations=orgs), p, rng=0)
    low = AffiliateModel(scenario(days=60, organizations=orgs, inputs=[
        {"day": 0, "kind": "core_fortunes", "actor": "core", "magnitude": 0.5}]), p, rng=0)
    base.run()
    low.run()
    g = base.names.index("group")
    assert low.world.region.is_appeal[0] == pytest.approx(0.5 * base.world.region.is_appeal[0])
    f_base = hist(base).flows["recruited_foreign"][:, g].sum()
    f_low = hist(low).flows["recruited_foreign"][:, g].sum()
    assert 0 < f_low < 0.6 * f_base
    assert events(low, "core_fortunes")


def test_decapitation_kills_the_emir_without_provoking():
    orgs = copy.deepcopy(BASE["organizations"])
    rel = [{"a": "army", "b": "group", "kind": "hostile"}]
    m = run(scenario(days=20, organizations=orgs, relations=rel, inputs=[
        {"day": 3, "kind": "decapitation", "actor": "army", "target": "group"}]))
    g = m.names.index("group")
    assert events(m, "decapitation")
    assert m.world.leadership.successions[0, g] >= 1
    assert not events(m, "emir_killed")  # the scripted strike is not the model's outcome
    assert m.world.relations.grudge[0, g, m.names.index("army")] == 0.0


def test_withdrawal_empties_the_region_and_keeps_out():
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[2]["regions"] = {"west": 0.5, "east": 0.5}
    del orgs[2]["region"]
    m = run(scenario(days=60, organizations=orgs, inputs=[
        {"day": 10, "kind": "withdrawal", "actor": "army", "region": "west"}]))
    a = m.names.index("army")
    west = m.case.regions["west"]
    present = hist(m).region_fighters[:, a, hist(m).region_names.index("west")]
    assert present[5] > 0
    assert np.all(present[12:] < 1e-9)
    assert m.world.grid.state_presence[west].max() == 0.0


def test_intelligence_input_sets_the_starting_knowledge():
    rel = [{"a": "army", "b": "group", "kind": "hostile"}]
    m = AffiliateModel(scenario(days=5, relations=rel, inputs=[
        {"day": 0, "kind": "intelligence", "actor": "army", "target": "group",
         "magnitude": 0.9}]), Params(), rng=0)
    m.step()
    assert m.world.intel.intel[0, m.names.index("army"), m.names.index("group")] > 0.85


def test_deployment_adds_fighters_in_the_region():
    base = run(scenario(days=10))
    m = run(scenario(days=10, inputs=[
        {"day": 2, "kind": "deployment", "actor": "army", "region": "west",
         "magnitude": 300}]))
    a = m.names.index("army")
    west = hist(m).region_names.index("west")
    extra = hist(m).region_fighters[:, a, west] - hist(base).region_fighters[:, a, west]
    assert np.all(extra[:3] == 0)
    assert extra[3] > 250
    assert fighters(m, "army")[3] > fighters(base, "army")[3] + 290
    assert events(m, "deployment")


def test_atrocity_raises_brutality_and_hastens_the_split():
    """A wali's atrocity is a decision from outside the fighting (an input): from its day
    the affiliate's brutality is at least its magnitude and the act is seen; the grievance
    of the fighters grows faster and the dissidents break away sooner than without it."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(camp="IS", kind="is_affiliate", fighters=800, brutality=0.2,
                   cohesion=0.6)
    orgs.append({"name": "dissidents", "camp": "IS", "kind": "splinter", "fighters": 0,
                 "region": "west", "dormant": True, "dissident_of": "group"})
    kw = dict(grievance_gain=0.015, core_backs_wali=1.0)
    atrocity = [{"day": 30, "kind": "atrocity", "actor": "group", "magnitude": 1.0}]
    m = AffiliateModel(scenario(days=400, organizations=orgs, inputs=atrocity),
                       Params(**kw), rng=0)
    g = m.names.index("group")
    seen = m.world.orgs.visibility[0, g]
    for _ in range(31):
        m.step()
    assert m.world.orgs.brutality[0, g] > 0.99
    assert m.world.orgs.visibility[0, g] > seen + 0.4
    assert events(m, "atrocity")
    m.run()
    # the outrage fades back towards the wali's usual conduct over months
    assert 0.2 < m.world.orgs.brutality[0, g] < 0.2 + 0.8 * np.exp(-300 / 180) + 0.01
    calm = run(scenario(days=400, organizations=orgs), Params(**kw))
    first = [e["day"] for e in m.events if e["kind"] == "split"]
    never = [e["day"] for e in calm.events if e["kind"] == "split"]
    assert first, "no split after the atrocity"
    assert not never or never[0] > first[0] + 30


def _hunted(**org):
    """A guerrilla group in the east, hunted by the army there, with ``org`` changes."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(region="east", fighters=300, cohesion=0.9, **org)
    return scenario(days=150, organizations=orgs,
                    relations=[{"a": "army", "b": "group", "kind": "hostile"}])


def _killed_by_army(m):
    return hist(m).pairs["killed"][:, m.names.index("group"), m.names.index("army")].sum()


#: A state's knowledge of a group held where an input sets it (no intelligence work, no
#: raids), and skirmishes only (no offensive either way).
KNOWLEDGE_FIXED = dict(intel_gain=0.0, intel_decay=0.0, intel_per_informant=0.0,
                       raid_rate=0.0, raid_trigger=1.0, blind_effort=0.2,
                       state_offensive_floor=1e5)


def test_a_state_kills_those_it_knows_blind_violence_feeds_backlash():
    """Kalyvas 2006: a state's effort lands on a guerrilla group as well as the state knows
    it; what misses falls on the population and feeds the group's backlash. The state's
    knowledge is held fixed (an input, no intelligence work, no raids)."""
    fixed = KNOWLEDGE_FIXED
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(region="east", fighters=300, cohesion=0.9)
    rel = [{"a": "army", "b": "group", "kind": "hostile"}]

    def knowing(x, **kw):
        inputs = [{"day": 0, "kind": "intelligence", "actor": "army", "target": "group",
                   "magnitude": x}]
        return run(scenario(days=150, organizations=orgs, relations=rel, inputs=inputs),
                   Params(**{**fixed, **kw}))

    blind, informed = knowing(0.0), knowing(1.0)
    assert _killed_by_army(blind) < 0.6 * _killed_by_army(informed)
    g = blind.names.index("group")
    per_loss = [mm.world.orgs.backlash[0, g] / max(_killed_by_army(mm), 1e-9)
                for mm in (blind, informed)]
    assert per_loss[0] > 1.2 * per_loss[1]
    # blind_effort 1, or no counter-terrorism: knowledge no longer matters
    for kw in (dict(blind_effort=1.0), dict(mechanisms=Mechanisms(counterterrorism=False))):
        same = [_killed_by_army(knowing(x, **kw)) for x in (0.0, 1.0)]
        assert same[0] == pytest.approx(same[1], rel=0.05)


def test_backlash_appeal_turns_blind_violence_into_recruits():
    """The backlash a group's losses in populated places raise multiply its recruiting
    appeal by ``1 + backlash_appeal * backlash``: the same blind violence brings it more
    recruits the larger ``backlash_appeal``, none beyond the usual at 0."""
    fixed = dict(KNOWLEDGE_FIXED, local_recruit_rate=0.02, backlash_gain=40.0)
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(region="east", fighters=300, cohesion=0.9)
    sc = scenario(days=150, organizations=orgs,
                  background={**BASE["background"], "population": 20.0},
                  relations=[{"a": "army", "b": "group", "kind": "hostile"}])

    def recruits(appeal):
        m = run(sc, Params(**fixed, backlash_appeal=appeal))
        g = m.names.index("group")
        assert m.world.orgs.backlash[0, g] > 0.1       # the violence raised a backlash
        return hist(m).flows["recruited_local"][:, g].sum()

    none, some, much = recruits(0.0), recruits(2.0), recruits(8.0)
    assert none < some < much
    assert much > 1.5 * none


def test_a_watchful_state_keeps_rivals_from_massing():
    """Under a hostile, vigilant state present where it stands, a non-state organization's
    propensity to open an offensive on a rival is divided by ``1 + state_shadow *
    threat**2``: with the shadow it holds back from a rival it would otherwise attack; a
    state that is not hostile to it casts no shadow."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs.append(dict(STRONG_RIVAL))
    watched = [{"a": "rival", "b": "group", "kind": "hostile"},
               {"a": "army", "b": "rival", "kind": "hostile"}]

    def attacks(relations, shadow):
        sc = scenario(days=90, organizations=orgs, relations=relations,
                      background={**BASE["background"], "state_presence": 0.6})
        m = run(sc, Params(state_shadow=shadow, state_vigilance=1.0))
        return [e for e in events(m, "offensive_started") if e["actor"] == "rival"]

    assert attacks(watched, 0.0)            # the odds are its own: it attacks
    assert not attacks(watched, 1000.0)     # under the state's watch it holds back
    assert attacks(watched[:1], 1000.0)     # a state not hostile to it casts no shadow


def test_a_rival_needs_a_motive_to_attack_at_modest_odds():
    """A non-state organization's propensity to attack is the force ratio times
    ``unprovoked + grudge``: at ``unprovoked`` 1 the odds alone make a rival six times the
    group's size attack it; at 0.1 it leaves the group alone until the group provokes it
    (the assassination of its leader, a grudge)."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs.append(dict(STRONG_RIVAL))
    rel = [{"a": "rival", "b": "group", "kind": "hostile"}]
    provoke = [{"day": 40, "kind": "assassination", "actor": "group", "target": "rival"}]

    def attacks(unprovoked, inputs=()):
        sc = scenario(days=90, organizations=orgs, relations=rel, inputs=list(inputs))
        m = run(sc, Params(unprovoked=unprovoked))
        return [e["day"] for e in events(m, "offensive_started") if e["actor"] == "rival"]

    assert attacks(1.0)                          # the odds alone decide
    assert not attacks(0.1)                      # no motive, modest odds: no offensive
    late = attacks(0.1, provoke)
    assert late and min(late) >= 40              # provoked, it attacks


def test_the_motive_chooses_the_target_the_odds_decide_the_attack():
    """Among the hostile groups it could attack (odds times motive over the threshold), an
    organization opens its offensive on the one it has most motive against, not on the
    weakest: it chooses by the odds times the motive squared. A rival with a grudge of 2
    against the group attacks it, although a band an eighth its size beside it offers
    odds whose product with the motive (30 x 1) beats the group's (4 x 3): the old rule
    (the best odds times the motive wins) preyed on the band; without the grudge, it
    still does."""
    from affiliate_sim.mechanisms.combat import choose_target

    feasible = np.array([[[False, True, True, False]]])
    prop = np.array([[[9.0, 8.0, 12.0, 50.0]]])   # odds x motive
    assert choose_target(feasible, prop, np.array([[[1.0, 4.0, 1.0, 9.0]]]))[0, 0] == 1
    assert choose_target(feasible, prop, np.array([[[1.0, 1.0, 1.0, 9.0]]]))[0, 0] == 2
    # a grudge all but forgotten does not outweigh better odds
    assert choose_target(feasible, prop, np.array([[[1.0, 1.001, 1.0, 9.0]]]))[0, 0] == 2
    assert choose_target(feasible & False, prop, prop)[0, 0] == -1

    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(fighters=150)
    orgs.append(dict(STRONG_RIVAL))
    orgs.append({"name": "band", "camp": "independent", "kind": "militia", "fighters": 20,
                 "region": "west", "local_roots": 0.8, "cohesion": 0.7})
    rel = [{"a": "rival", "b": "group", "kind": "hostile"},
           {"a": "rival", "b": "band", "kind": "hostile"}]

    def first_target(grudge):
        m = AffiliateModel(scenario(days=60, organizations=orgs, relations=rel),
                           Params(unprovoked=1.0, offensive_threshold=1.5), rng=0)
        m.world.relations.grudge[:, m.names.index("rival"), m.names.index("group")] = grudge
        m.run()
        opened = [e for e in events(m, "offensive_started") if e["actor"] == "rival"]
        assert opened
        return opened[0]["target"]

    assert first_target(0.0) == "band"
    assert first_target(2.0) == "group"  # 4 x 3 x 3 = 36 for it, 30 x 1 x 1 for the band


def test_a_besieged_group_holds_out_before_it_asks_for_safe_passage():
    """A group reduced below ``safe_passage_share`` of its peak and heavily outnumbered is
    besieged; it asks its besieger for safe passage only once it has been besieged for
    ``siege_endurance`` days (at once with 0), and a non-state besieger not attacking it
    grants it: its fighters leave."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs.append(dict(STRONG_RIVAL))
    rel = [{"a": "rival", "b": "group", "kind": "hostile"}]

    def asked(endurance):
        m = run(scenario(days=120, organizations=orgs, relations=rel),
                Params(unprovoked=0.0, hostility_engagement=0.0, safe_passage_share=1.0,
                       siege_endurance=endurance))
        said = [e for e in events(m, "safe_passage") if e["actor"] == "group"]
        assert said and said[0]["target"] == "rival" and said[0]["note"] == "granted"
        d = said[0]["day"]
        left = fighters(m, "group")
        return d, left[d] - left[d + 10]

    at_once, held = asked(0.0), asked(30.0)
    assert held[0] - at_once[0] == 30          # besieged from day 1: asks on day 31
    assert at_once[1] > 50 and held[1] > 50    # and leaves once granted


def test_the_attacked_fire_back():
    """An organization under offensive turns ``return_fire`` of its effort on its
    attackers: the attacker's losses to it grow with the share, from the skirmishes alone
    at 0."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs.append(dict(STRONG_RIVAL))
    rel = [{"a": "rival", "b": "group", "kind": "hostile"}]

    def losses(rf):
        m = run(scenario(days=60, organizations=orgs, relations=rel),
                Params(return_fire=rf, hostility_engagement=0.02))
        assert [e for e in events(m, "offensive_started") if e["actor"] == "rival"]
        g, k = m.names.index("group"), m.names.index("rival")
        return hist(m).pairs["killed"][:, k, g].sum()

    none, half, full = losses(0.0), losses(0.5), losses(1.0)
    assert none < half < full
    assert full > 5 * max(none, 0.1)


def test_grudges_reach_only_allies_who_shelter_the_target():
    """A grudge against a group extends to its allies whose fighters are near the group's
    (they shelter it), not to an ally far away."""
    from affiliate_sim.mechanisms.retaliation import SHELTER_SHARE, shelter
    grudge = np.zeros((1, 3, 3))
    grudge[0, 0, 1] = 2.0                        # 0 holds a grudge against 1
    allied = np.zeros((1, 3, 3), dtype=bool)
    allied[0, 1, 2] = allied[0, 2, 1] = True     # 1 and 2 are allies
    near = np.zeros((1, 3, 3))
    assert shelter(grudge, allied, near)[0, 0, 2] == 0.0      # 2 is far from 1
    near[0, 1, 2] = 5.0                                       # 2's fighters near 1's
    assert shelter(grudge, allied, near)[0, 0, 2] == SHELTER_SHARE * 2.0


def test_a_state_raids_only_where_its_forces_reach():
    """A state's raid intensity in a cell is scaled by ``1 - exp(-n / RAID_PARTY)``, n its
    fighters within ``raid_reach_km``: an army five to seven cells (of 10 km) away does not
    raid a group beyond its reach, and does within it."""
    quiet = dict(raid_trigger=1.0, state_offensive_floor=1e5, hostility_engagement=0.0,
                 move_speed=0.0, raid_rate=0.05, state_vigilance=1.0)
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(fighters=200, visibility=0.8)
    sc = scenario(days=60, organizations=orgs, cell_km=10.0,
                  regions=[{"name": "west", "rows": [0, 6], "cols": [0, 2]},
                           {"name": "east", "rows": [0, 6], "cols": [6, 8]}],
                  relations=[{"a": "army", "b": "group", "kind": "hostile"}])

    def raided(reach_km):
        m = run(sc, Params(**quiet, raid_reach_km=reach_km))
        g, a = m.names.index("group"), m.names.index("army")
        h = hist(m)
        return h.pairs["killed"][:, g, a].sum() + h.pairs["detained"][:, g, a].sum()

    assert raided(30.0) == 0.0          # 5 to 7 cells of 10 km away: out of reach
    assert raided(55.0) > 0.0           # the nearest of its cells in reach
    assert raided(1000.0) > 1.5 * raided(55.0)  # all of them


def _operation_model(intel, days=40, hunt=False, extra=(), seed=0, **kw):
    """A band of 40 in the army's region, which the army knows at ``intel`` (held fixed)
    and raids; operations start as soon as the intelligence allows. Unless ``hunt``, its
    founding emir was killed on day 0 (a scripted decapitation), so the operations sweep
    the band rather than hunt him. ``extra``: more inputs. The model, not yet run."""
    quiet = dict(intel_gain=0.0, intel_decay=0.0, intel_per_informant=0.0,
                 raid_rate=0.01, raid_trigger=0.2, raid_operation_rate=10.0,
                 raid_operation_intensity=1e4, hiding_scale=0.0, state_offensive_floor=1e5,
                 hostility_engagement=0.0, move_speed=0.0)
    quiet.update(kw)
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(region="east", fighters=40, cohesion=0.95, local_roots=0.0,
                   visibility=1.0)
    sc = scenario(days=days, organizations=orgs,  # raids as intense as they can be
                  background={**BASE["background"], "state_presence": 1.0},
                  relations=[{"a": "army", "b": "group", "kind": "hostile"}],
                  inputs=[{"day": 0, "kind": "intelligence", "actor": "army",
                           "target": "group", "magnitude": intel}]
                  + ([] if hunt else [{"day": 0, "kind": "decapitation", "actor": "army",
                                       "target": "group"}]) + list(extra))
    return AffiliateModel(sc, Params(**quiet), rng=seed)


def _operation(intel, days=40, hunt=False, **kw):
    """:func:`_operation_model`, run. Returns the run, the band's losses to the army over
    the days of the first operation, and the days operations started."""
    m = _operation_model(intel, days, hunt, **kw).run()
    g, a = m.names.index("group"), m.names.index("army")
    h = hist(m)
    lost = h.pairs["killed"][:, g, a] + h.pairs["detained"][:, g, a]
    ops = [e["day"] for e in events(m, "raid_operation")]
    d = ops[0] if ops else 0
    span = int(np.ceil(m.p["raid_operation_days"][0]))
    return m, float(lost[d:d + span + 1].sum()), ops


def test_a_raid_operation_strikes_only_what_the_state_located():
    """A raid operation hits at most the share of the group the state located, its
    intelligence times the share a handful cannot hide, however intense its raids; no more
    fighters than ``operation_capacity``; and what it located is spent: the intelligence
    left is on those it never found."""
    m, known, ops = _operation(0.8)
    assert ops                                            # the operation is launched
    assert 0.7 * 32 < known < 1.1 * 32                    # about 0.8 of 40, not all 40
    _, half, _ = _operation(0.4)
    assert 0.7 * 16 < half < 1.1 * 16                     # about 0.4 of 40
    _, hidden, _ = _operation(0.8, hiding_scale=40.0)
    assert 0.7 * 16 < hidden < 1.1 * 16                   # found: 40 / (40 + 40) of them
    _, capped, _ = _operation(0.8, operation_capacity=10.0)
    assert capped < 0.4 * known                           # a party strikes at most 10
    g, a = m.names.index("group"), m.names.index("army")
    # spent: what the state still knows is of those it never found, 0.8 x (1 - 0.8)
    assert m.world.intel.intel[0, a, g] == pytest.approx(0.16, rel=1e-6)


def _leader_losses(m, span):
    emirs = [e for e in events(m, "emir_killed")
             if e["target"] == "group" and e["day"] in span]
    cmd = sum(e["magnitude"] for e in events(m, "commanders_killed")
              if e["target"] == "group" and e["day"] in span)
    return len(emirs), cmd


def test_a_raid_operation_hunts_the_leaders():
    """In a sweep's strike each leader is caught with probability ``1 - (1 -
    hit)^leader_hit_rate``: hunted hard, the emir (the founder's successor here, named at
    once) and the commanders left fall with the raid; at ``leader_hit_rate`` 0 none does (no
    leader dies outside the strike here either). With the successor named only
    ``succession_days`` after the founder's death, the sweep finds no emir to kill, and all
    four commanders fall."""
    def losses(rate, wait=0.0):
        # background raids too light to touch the leaders in the operation's days
        m, _, ops = _operation(0.8, leader_hit_rate=rate, raid_rate=0.001,
                               succession_days=wait)
        assert ops == [0]
        return _leader_losses(m, range(0, int(Params().raid_operation_days) + 1))

    # the successor and the three commanders left (one of the four succeeded the founder)
    assert losses(20.0) == (1, 3)
    assert losses(0.0) == (0, 0)
    assert Params().raid_operation_days < 30
    assert losses(20.0, wait=30.0) == (0, 4)


def test_a_hunt_s_commanders_fall_only_as_its_escort_does():
    """A hunt is for one man: on its days each commander falls with the share of the band
    struck (his escort's), not hunted at ``leader_hit_rate`` as a sweep hunts them. On the
    first day of 200 hunts the commanders lost are the same whatever the rate, and about
    200 x commanders x the share struck (under the rule before, at rate 20, about half of
    them fell each day)."""
    first = _operation_model(0.8, hunt=True, days=1)
    commanders = int(first.world.leadership.commanders[0, first.names.index("group")])

    def commanders_lost(rate):
        lost, struck = [], []
        for seed in range(200):
            m, band, ops = _operation(0.8, hunt=True, days=1, raid_rate=0.001,
                                      leader_hit_rate=rate, seed=seed)
            assert ops == [0]
            lost.append(_leader_losses(m, range(0, 1))[1])
            struck.append(band / 40.0)
        return lost, float(np.mean(struck))

    hard, share = commanders_lost(20.0)
    soft, _ = commanders_lost(0.5)
    assert hard == soft
    assert 0.01 < share < 0.1                    # the escort's share of a day, not the band
    expected = 200 * commanders * share
    assert 0.6 * expected < sum(hard) < 1.5 * expected


def test_a_successor_takes_over_after_the_interregnum():
    """An emir's death leaves the group leaderless for ``succession_days``: no emir in
    place (none to kill), the commanders all still below; on the day due, one of them takes
    over. With 0 days he takes over at once; a group without commanders has no successor."""
    def model(wait, commanders=3):
        orgs = copy.deepcopy(BASE["organizations"])
        orgs[1].update(commanders=commanders)
        return AffiliateModel(scenario(days=30, organizations=orgs, inputs=[
            {"day": 5, "kind": "decapitation", "actor": "army", "target": "group"}]),
            Params(succession_days=wait), rng=0)

    m = model(7.0)
    g = m.names.index("group")
    ld = m.world.leadership
    seen = []
    while m.running:
        m.step()
        seen.append((m.day - 1, bool(ld.emir_alive[0, g]), int(ld.commanders[0, g])))
    # killed on the morning of day 5 (a scripted input): seven days of fighting without
    # him, days 5 to 11; his successor takes over at the end of day 11
    assert seen[4] == (4, True, 3)
    assert all(alive is False and c == 3 for d, alive, c in seen if 5 <= d < 11)
    assert seen[11] == (11, True, 2) and seen[-1][1:] == (True, 2)
    assert ld.successions[0, g] == 1

    now = model(0.0)
    now.run()
    assert now.world.leadership.emir_alive[0, g] and now.world.leadership.commanders[0, g] == 2
    none = model(7.0, commanders=0)
    none.run()
    assert not none.world.leadership.emir_alive[0, g]


def test_patrols_do_not_hunt_leaders():
    """Outside operations leaders face ``leader_exposure`` times their men's hazard, not
    ``leader_hit_rate`` times: under background raids alone (the trigger out of reach)
    the leaders' losses, day by day, do not depend on ``leader_hit_rate``. (The factor
    itself is checked against the reference kernel, tests/reference.py.)"""
    def losses(rate, seed):
        m, _, ops = _operation(0.8, hunt=True, days=150, raid_trigger=1.0, raid_rate=0.03,
                               leader_hit_rate=rate, seed=seed)
        assert not ops
        kinds = ("emir_killed", "commanders_killed")
        return m, [(e["kind"], e["day"], e["magnitude"]) for e in m.events
                   if e["kind"] in kinds and e["target"] == "group"]

    men, same, any_loss = [], 0, 0
    for seed in range(10):
        m, low = losses(0.1, seed)
        _, high = losses(20.0, seed)
        same += low == high
        any_loss += bool(low)
        men.append(1.0 - fighters(m, "group")[-1] / 40.0)
    assert same == 10 and any_loss >= 3        # leaders fall, the same whatever the rate
    assert 0.2 < np.mean(men) < 0.95           # the raids bite, and leave a band


def test_a_hunt_s_bookkeeping():
    """Day by day: a hunt locates its escort's share of the band and finds its man with
    ``1 - (1 - intel)^(leader_hit_rate / days)`` a day; the day it kills him it ends, and
    the intelligence is spent by the escort's share, exactly; a hunt whose man dies
    otherwise (a scripted decapitation on its second day) ends that day too, and his
    successor is not hunted."""
    escort, lhr = Params().escort, 1e-6

    def world(m):
        return m.world.intel, m.names.index("group"), m.names.index("army")

    m = _operation_model(0.8, hunt=True, raid_operation_days=5, leader_hit_rate=lhr)
    m.step()
    it, g, a = world(m)
    assert it.hunt[0, a, g] and it.located[0, a, g] == pytest.approx(escort / 40)
    assert it.hunt_odds[0, a, g] == pytest.approx(1 - 0.2 ** (lhr / 5), rel=1e-6)
    assert it.operation_days[0, a, g] == 4 and m.world.leadership.emir_alive[0, g]

    m = _operation_model(0.8, hunt=True, raid_operation_days=5, leader_hit_rate=50.0)
    m.step()                                   # found on the first day, almost surely
    it, g, a = world(m)
    assert [e["day"] for e in events(m, "emir_killed")] == [0]
    assert not it.hunt[0, a, g] and it.operation_days[0, a, g] == 0
    assert it.intel[0, a, g] == pytest.approx(0.8 * (1 - escort / 40), rel=1e-12)
    m.step()
    assert (it.hunt_odds == -1.0).all() and it.located[0, a, g] == 0.0

    cut = [{"day": 1, "kind": "decapitation", "actor": "army", "target": "group"}]
    m = _operation_model(0.8, hunt=True, raid_operation_days=5, leader_hit_rate=lhr,
                         extra=cut)
    m.step()
    m.step()
    it, g, a = world(m)
    assert not it.hunt[0, a, g] and it.operation_days[0, a, g] == 0
    assert (it.hunt_odds == -1.0).all()
    assert it.intel[0, a, g] == pytest.approx(0.8 * (1 - escort / 40), rel=1e-12)
    assert not events(m, "emir_killed")       # the scripted blow only


def test_the_first_operations_hunt_the_founding_emir_and_his_escort():
    """While a group's founding emir lives, an operation hunts him: it strikes his escort
    (``escort`` fighters), not the share of the band the state located, and finds him
    with probability ``1 - (1 - intel)^leader_hit_rate``; once he is dead, the next
    operation sweeps what the state located."""
    escort = Params().escort
    m, struck, ops = _operation(0.8, hunt=True, days=120, raid_rate=0.001,
                                leader_hit_rate=20.0)
    assert ops and struck < 1.5 * escort            # his escort, not 0.8 of 40
    _, swept, _ = _operation(0.8, raid_rate=0.001, leader_hit_rate=20.0)
    assert swept > 5 * struck                       # a sweep strikes the located share
    span = range(ops[0], ops[0] + int(Params().raid_operation_days) + 1)
    emirs, _ = _leader_losses(m, span)
    assert emirs == 1                               # found at intel 0.8, hunted hard
    assert len(ops) >= 2                            # the next one sweeps
    g, a = m.names.index("group"), m.names.index("army")
    h = hist(m)
    lost = h.pairs["killed"][:, g, a] + h.pairs["detained"][:, g, a]
    assert lost[ops[1]:ops[1] + 3].sum() > 5 * struck
    # a hunt that knows little rarely finds him: over 20 seeds, at intel 0.3 and
    # leader_hit_rate 1, about 1 - 0.7 = 30% of first operations kill the emir
    found = 0
    for seed in range(20):
        mm, _, o = _operation(0.3, hunt=True, days=6, raid_rate=0.001, leader_hit_rate=1.0,
                              raid_trigger=0.1, seed=seed)
        found += _leader_losses(mm, range(0, 6))[0] if o else 0
    assert 1 <= found <= 12


def test_an_outnumbered_group_without_roots_scatters():
    """Fighters who face hopeless odds at the front flee at ``scatter_rate * (1 -
    local_roots) * (odds - 1)`` per unit of danger: a rootless group under the army's fire
    scatters, a rooted one stays; at ``scatter_rate`` 0 neither does."""
    def fled(roots, rate, army=500):
        orgs = copy.deepcopy(BASE["organizations"])
        orgs[1].update(region="east", cohesion=0.95, local_roots=roots)
        orgs[2].update(fighters=army)
        sc = scenario(days=60, organizations=orgs,
                      relations=[{"a": "army", "b": "group", "kind": "hostile"}])
        m = run(sc, Params(blind_effort=1.0, popular_cover=0.0, scatter_rate=rate))
        return hist(m).flows["fled"][:, m.names.index("group")].sum()

    assert fled(0.0, 1.0) > 10 * max(fled(0.0, 0.0), 0.1)
    assert fled(1.0, 1.0) == pytest.approx(fled(1.0, 0.0), abs=1e-9)
    # at better than even odds nobody scatters (a smaller army still fights the group)
    assert fled(0.0, 0.0, army=30) > 0.0
    assert fled(0.0, 1.0, army=30) == pytest.approx(fled(0.0, 0.0, army=30), abs=1e-9)


def test_raid_reach_sums_a_state_s_fighters_over_its_window():
    """The window sums behind the raid reach: the brute-force sums of the square window
    (cut at the edges), never negative, and exactly 0 where the window holds nobody (no
    state raids where none of its fighters is within reach)."""
    from affiliate_sim.mechanisms.counterterrorism import RAID_PARTY, raid_reach, window_sum

    rng = np.random.default_rng(3)
    F = rng.random((2, 3, 7, 9)) * 100 * (rng.random((2, 3, 7, 9)) < 0.4)
    F[..., :, :3] = 0.0                       # an empty strip
    for n in (0, 1, 2, 20):
        got = window_sum(F, n)
        want = np.zeros_like(F)
        for i in range(7):
            for j in range(9):
                want[..., i, j] = F[..., max(0, i - n):i + n + 1,
                                    max(0, j - n):j + n + 1].sum(axis=(-2, -1))
        assert np.allclose(got, want, rtol=1e-12, atol=1e-9)
        assert (got >= 0).all() and (got[want == 0] == 0).all()
    # per replicate: replicate 0 raids from its own cell only, replicate 1 two cells out
    reach = raid_reach(F, np.array([0.0, 2.0]))
    assert np.allclose(reach[0], -np.expm1(-F[0] / RAID_PARTY))
    assert np.allclose(reach[1], -np.expm1(-window_sum(F[1], 2) / RAID_PARTY))
    assert (reach[:, :, :, 0] == 0).all()     # nobody within two cells of column 0


def test_an_attacker_regroups_before_its_next_offensive():
    """After an offensive ends the attacker opens no other for ``regroup_days``."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs.append(dict(STRONG_RIVAL))
    orgs[1].update(fighters=300)
    sc = scenario(days=150, organizations=orgs,
                  relations=[{"a": "rival", "b": "group", "kind": "hostile"}])

    def gaps(pause):
        m = run(sc, Params(offensive_max_days=5.0, regroup_days=pause, combat_rate=0.005))
        started = [e["day"] for e in events(m, "offensive_started") if e["actor"] == "rival"]
        ended = [e["day"] for e in events(m, "offensive_ended") if e["actor"] == "rival"]
        assert len(started) >= 2, started
        return [s - e for s, e in zip(started[1:], ended, strict=False)]

    assert min(gaps(30.0)) >= 30
    assert min(gaps(7.0)) >= 7
    assert max(gaps(7.0)) < 30          # it comes back sooner after a shorter pause


def test_roots_cap_what_a_state_can_learn():
    """The population of a rooted group does not inform: a state's intelligence on it
    stops below ``1 - roots_shield * local_roots``; on a rootless group it goes further."""
    # fast intelligence work that never decays: without the cap it would near 1 for both
    p = Params(roots_shield=0.8, intel_gain=1.0, intel_decay=0.0)
    caps = {}
    for roots in (0.9, 0.0):
        m = AffiliateModel(_hunted(local_roots=roots), p, rng=0)
        for _ in range(140):
            m.step()
        caps[roots] = m.world.intel.intel[0, m.names.index("army"), m.names.index("group")]
    assert caps[0.9] == pytest.approx(1 - 0.8 * 0.9, abs=1e-9)   # held at the cap
    assert caps[0.0] > 0.9


def test_popular_cover_shelters_a_rooted_group():
    """A guerrilla group's population hides it (the terrain mechanism): with popular cover,
    a rooted group loses fewer fighters to the same army than a rootless one; without it,
    roots change nothing in the fighting."""
    def loss(roots, cover):
        return _loss_to_a_knowing_army(roots, 0.5, cover)  # the army at the default roots
    assert loss(0.9, 5.0) < 0.7 * loss(0.0, 5.0)
    assert loss(0.9, 0.0) == pytest.approx(loss(0.0, 0.0), rel=0.02)


def _loss_to_a_knowing_army(group_roots, army_roots, cover):
    """Fighters of a group the army kills in 60 days, the army knowing all about it (an
    intelligence input; counter-terrorism off, no recruitment)."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(region="east", fighters=300, cohesion=0.9, local_roots=group_roots)
    orgs[2].update(local_roots=army_roots)
    know = [{"day": 0, "kind": "intelligence", "actor": "army", "target": "group",
             "magnitude": 1.0}]
    sc = scenario(days=60, organizations=orgs, inputs=know,
                  relations=[{"a": "army", "b": "group", "kind": "hostile"}])
    return _killed_by_army(run(sc, Params(mechanisms=Mechanisms(counterterrorism=False),
                                          popular_cover=cover, local_recruit_rate=0.0)))


def test_attackers_in_one_another_s_way_kill_no_faster_than_they_find():
    """``interference``: each effective attacker counts as that many defenders in the
    denominator of the hazard. Without it, ten times the army kills about ten times more
    of a band it knows all about in the first days of an ordered offensive; with it, the
    band's hazard is bounded by ``combat_rate / interference`` and ten times the army adds
    little, while a small army against the same band keeps most of its bite."""
    def killed(army, interference):
        orgs = copy.deepcopy(BASE["organizations"])
        orgs[1].update(region="east", fighters=100, cohesion=0.9, local_roots=0.0)
        orgs[2].update(fighters=army)
        know = [{"day": 0, "kind": "intelligence", "actor": "army", "target": "group",
                 "magnitude": 1.0},
                {"day": 0, "kind": "offensive", "actor": "army", "target": "group",
                 "duration": 20}]
        sc = scenario(days=3, organizations=orgs, inputs=know,
                      relations=[{"a": "army", "b": "group", "kind": "hostile"}])
        return _killed_by_army(run(sc, Params(
            mechanisms=Mechanisms(counterterrorism=False), local_recruit_rate=0.0,
            interference=interference)))

    free, crowded = killed(3000, 0.0) / killed(300, 0.0), killed(3000, 1.0) / killed(300, 1.0)
    assert free > 5.0 and crowded < free / 3.0
    assert killed(3000, 1.0) < 0.2 * killed(3000, 0.0)
    assert killed(300, 1.0) > 0.4 * killed(300, 0.0)


def test_popular_cover_hides_a_group_only_from_outsiders():
    """Kalyvas 2006, ch. 7: the population tells those rooted among it what it hides from
    strangers. Against an army as deeply rooted as the group, popular cover gives the group
    nothing; against a rootless army it shelters it."""
    def loss(army_roots, cover):
        return _loss_to_a_knowing_army(0.9, army_roots, cover)
    assert loss(0.0, 5.0) < 0.7 * loss(0.0, 0.0)
    assert loss(0.9, 5.0) == pytest.approx(loss(0.9, 0.0), rel=0.02)
    assert loss(0.5, 5.0) < 0.9 * loss(0.9, 5.0)  # part of the cover: roots 0.5 below 0.9


def test_popular_cover_by_attacker():
    """The cover of a guerrilla group v against attacker k is ``1 + popular_cover *
    max(0, roots[v] - roots[k])``; a conventional force has none."""
    from affiliate_sim.mechanisms.terrain import popular_cover
    roots = np.array([[0.9, 0.2, 0.5]])
    conventional = np.array([[False, False, True]])
    cover = popular_cover(roots, conventional, {"popular_cover": np.array([4.0])})
    assert cover.shape == (1, 3, 3)
    assert cover[0, 1, 0] == pytest.approx(1.0 + 4.0 * 0.7)  # the rootless attack the rooted
    assert cover[0, 0, 1] == pytest.approx(1.0)  # the rooted see the rootless
    assert cover[0, 2, 0] == pytest.approx(1.0 + 4.0 * 0.4)
    assert (cover[0, :, 2] == 1.0).all()  # a conventional force is not hidden by people


def test_a_rooted_group_keeps_to_its_people():
    """Terrain (Mao 1937): a rooted guerrilla group's movers weigh a cell's population
    density by ``home_weight * local_roots``: placed on the empty side of a valley, it
    drifts to the crowded side; a rootless one, or any with the weight at 0, does not."""
    regions = [{"name": "west", "rows": [0, 6], "cols": [0, 4], "population": 0.1},
               {"name": "east", "rows": [0, 6], "cols": [4, 8], "population": 60.0}]
    def east_share(roots, weight):
        orgs = copy.deepcopy(BASE["organizations"])
        orgs[1].update(region="west", local_roots=roots)
        orgs[2].update(region="west", fighters=0)
        m = run(scenario(days=60, regions=regions, organizations=orgs),
                Params(home_weight=weight, local_recruit_rate=0.0))
        g = m.names.index("group")
        F = m.world.forces.fighters[0, g]
        return float(F[:, 4:].sum() / F.sum())
    rooted = east_share(0.9, 8.0)  # about 0.38 (0.17 rootless, 0.11 by drift alone)
    assert rooted > 0.3
    assert rooted > east_share(0.1, 8.0) + 0.15
    assert east_share(0.9, 0.0) < 0.15


def test_attacks_show_the_state_where_a_group_is():
    """Each state fighter a group kills removes a share ``attack_exposure`` of its
    invisibility (counter-terrorism): a group fighting the army grows more visible than its
    baseline, the more so the larger the share; one that does not fight it does not."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(region="east", fighters=300, visibility=0.2)
    fight = [{"a": "army", "b": "group", "kind": "hostile"}]
    def visibility(rate, relations):
        m = run(scenario(days=40, organizations=orgs, relations=relations),
                Params(attack_exposure=rate))
        g, a = m.names.index("group"), m.names.index("army")
        return float(m.world.orgs.visibility[0, g]), hist(m).pairs["killed"][:, a, g].sum()
    still, killed = visibility(0.0, fight)
    assert killed > 5  # the group does kill soldiers
    assert still == pytest.approx(0.2, abs=1e-9)
    low, _ = visibility(0.002, fight)
    high, _ = visibility(0.02, fight)
    assert 0.2 < low < high <= 1.0
    calm, _ = visibility(0.02, [])
    assert calm == pytest.approx(0.2, abs=1e-9)


def test_movers_sense_what_they_seek_within_sense_km():
    """An army ordered against a group 250 km away heads for it when it senses that far
    (``sense_km``) and keeps its ground when it does not."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(region="east", fighters=200)
    orgs[2].update(region="west", fighters=500)
    regions = [{"name": "west", "rows": [0, 1], "cols": [0, 2]},
               {"name": "east", "rows": [0, 1], "cols": [12, 14]}]
    sc = scenario(days=30, grid={"height": 1, "width": 14}, cell_km=25, regions=regions,
                  organizations=orgs, relations=[{"a": "army", "b": "group",
                                                   "kind": "hostile"}],
                  inputs=[{"day": 0, "kind": "offensive", "actor": "army",
                           "target": "group", "duration": 30}])
    def east_of_start(sense):
        m = run(sc, Params(sense_km=sense, mechanisms=Mechanisms(retreat=False)))
        F = hist(m).stocks["fighters"]
        a = m.names.index("army")
        return float(m.world.forces.fighters[0, a, 0, 5:].sum() / F[-1, a])
    assert east_of_start(50.0) < 0.05
    assert east_of_start(300.0) > 0.2


def _outsider(strength, days=200):
    """An IS outsider (shallow roots) among two local groups (deep roots) in the west."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(camp="IS", kind="is_affiliate", fighters=strength, local_roots=0.1)
    orgs += [{"name": "locals_a", "camp": "independent", "kind": "militia", "fighters": 400,
              "region": "west", "local_roots": 0.9},
             {"name": "locals_b", "camp": "independent", "kind": "militia", "fighters": 200,
              "region": "west", "local_roots": 0.8}]
    return scenario(days=days, organizations=orgs)


def test_coalition_forms_sooner_against_a_stronger_outsider():
    """Friction with an outsider builds with the threat it poses (Christia 2012): the
    locals ally against a strong outsider within weeks and against a weak one later, and
    the friction rule, not a daily draw, sets the day."""
    p = Params(coalition_rate=0.03)
    day = {}
    for strength in (1200, 150):
        m = run(_outsider(strength), p)
        formed = events(m, "coalition_formed")
        assert formed, f"no coalition against an outsider of {strength}"
        day[strength] = formed[0]["day"]
        g = m.names.index("group")
        a, b = m.names.index("locals_a"), m.names.index("locals_b")
        assert m.world.relations.allied[0, a, b] and m.world.relations.hostile[0, a, g]
    assert day[1200] < day[150]
    # threat 1200 / (1200 + ~600) = 2/3: friction 1 after about 1 / (0.03 * 2/3) = 50 days
    assert 35 <= day[1200] <= 60
    # the day does not depend on the seed (no draw)
    assert events(run(_outsider(1200), p, seed=7), "coalition_formed")[0]["day"] == day[1200]


def test_a_state_takes_the_field_only_against_a_group_it_can_find_and_worth_it():
    """A state opens a full offensive only against a group of at least
    ``state_offensive_floor`` fighters that it has found, by its intelligence or because the
    group shows itself (visibility); a small band is left to its raids."""
    quiet = dict(mechanisms=Mechanisms(counterterrorism=False), find_trigger=0.5)
    rel = [{"a": "army", "b": "group", "kind": "hostile"}]

    def offensives(fighters, visibility, **kw):
        orgs = copy.deepcopy(BASE["organizations"])
        orgs[1].update(region="east", fighters=fighters, visibility=visibility,
                       cohesion=0.9)
        orgs[2].update(fighters=3000)                  # the odds are the army's
        m = run(scenario(days=60, organizations=orgs, relations=rel),
                Params(**{**quiet, **kw}))
        return [e for e in events(m, "offensive_started")
                if e["actor"] == "army"]

    assert offensives(300, 0.9)                    # large and visible: found, attacked
    assert not offensives(300, 0.05)               # large but hidden, no intelligence
    assert not offensives(30, 0.9)                 # visible but a band: below the floor
    assert offensives(30, 0.9, state_offensive_floor=10.0)
    assert offensives(300, 0.9, unprovoked=0.05)   # a state needs no motive beyond finding


def test_foes_at_war_with_each_other_do_not_add_up():
    """Retreat weighs the enemy side: the main enemy and its allies among one's foes. Two
    foes hostile to each other do not add up against a group."""
    from affiliate_sim.mechanisms.retreat import local_balance

    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(region="west", fighters=300)
    orgs.append({"name": "rival", "camp": "AQ", "kind": "aq_branch", "fighters": 400,
                 "region": "west"})
    orgs[2].update(region="west", fighters=500)
    hostile = [{"a": "army", "b": "group", "kind": "hostile"},
               {"a": "rival", "b": "group", "kind": "hostile"}]
    ratios = []
    for third in ({"a": "army", "b": "rival", "kind": "hostile"},
                  {"a": "army", "b": "rival", "kind": "allied"}):
        m = AffiliateModel(scenario(days=5, organizations=orgs, relations=[*hostile, third]),
                           Params(), rng=0)
        ratio, main = local_balance(m.world)
        g = m.names.index("group")
        assert main[0, g] == m.names.index("army")
        ratios.append(ratio[0, g])
    assert ratios[0] > 1.5 * ratios[1]             # allied foes add up; warring ones do not


def test_retreat_answers_the_front_not_the_wider_area():
    """In 2.5 km cells, an army 15 km away is near (decisions' range) but not at the front
    (``FRONT_KM``): the group holds; the same army on top of it makes it fall back."""
    regions = [{"name": "west", "rows": [0, 6], "cols": [0, 2]},
               {"name": "middle", "rows": [0, 6], "cols": [2, 6]},
               {"name": "east", "rows": [0, 6], "cols": [6, 8]}]
    rel = [{"a": "army", "b": "group", "kind": "hostile"}]
    quiet = Params(mechanisms=Mechanisms(counterterrorism=False))

    def retreating(army_region):
        orgs = copy.deepcopy(BASE["organizations"])
        orgs[1].update(region="west", fighters=100)
        orgs[2].update(region=army_region, fighters=2000)
        m = AffiliateModel(scenario(days=5, organizations=orgs, relations=rel,
                                    regions=regions, cell_km=2.5), quiet, rng=0)
        m.step()
        g = m.names.index("group")
        assert m.world.forces.near[0, g, m.names.index("army")] > 0  # within NEAR_KM
        return bool(m.world.conduct.retreating[0, g])

    assert not retreating("east")
    assert retreating("west")


@pytest.mark.parametrize("bad,problem", [
    ({"day": 1, "kind": "offensive", "actor": "army"}, "needs a target"),
    ({"day": 1, "kind": "withdrawal", "actor": "army"}, "needs a region"),
    ({"day": 1, "kind": "decapitation", "actor": "army", "target": "group",
      "region": "west"}, "take a region"),
    ({"day": 1, "kind": "air_support", "actor": "army", "magnitude": 0.5}, "below"),
    ({"day": 1, "kind": "recognition", "actor": "army", "target": "group"}, "IS core"),
    ({"day": 1, "kind": "decapitation", "actor": "group", "target": "army"}, "state force"),
    ({"day": 1, "kind": "pledge", "actor": "group", "duration": 5}, "only offensive"),
    ({"day": 1, "kind": "offensive", "actor": "army", "target": "army"}, "own actor"),
])
def test_bad_inputs_are_rejected_with_the_key(bad, problem):
    with pytest.raises(InputError) as err:
        scenario(inputs=[bad])
    assert problem in str(err.value) and "inputs[0]" in str(err.value)


def _battle(breakpoint, roots=0.8, **kw):
    """The group (100 men) beside a rival six times its size that opens an offensive on
    it; the run, the group's index and its daily losses to violence."""
    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(local_roots=roots)
    orgs.append(dict(STRONG_RIVAL))
    rel = [{"a": "rival", "b": "group", "kind": "hostile"}]
    m = run(scenario(days=60, organizations=orgs, relations=rel),
            Params(breakpoint=breakpoint, hostility_engagement=0.02, **kw))
    g = m.names.index("group")
    h = hist(m)
    lost = sum(h.pairs[k][:, g, :].sum(axis=1) for k in ("killed", "detained", "surrendered"))
    return m, g, lost


def test_a_force_that_loses_its_breakpoint_breaks_off_and_disperses():
    """Helmbold's breakpoint: the day the share of its strength a force lost to violence
    over the last ``BREAK_DAYS`` reaches ``breakpoint``, it breaks (once, for
    ``RALLY_DAYS``); broken, its fighters disperse (concealment times ``1 +
    break_dispersal``), so that it loses far fewer men than a force that stands and fights
    on at the same odds; rallied, its concealment is its own again."""
    from affiliate_sim.mechanisms.retreat import BREAK_DAYS, RALLY_DAYS

    stand, g, lost_stand = _battle(1.0)
    assert not events(stand, "broken")
    m, g, lost = _battle(0.2, break_flight=0.0)
    assert [e for e in events(m, "offensive_started") if e["actor"] == "rival"]
    breaks = [e for e in events(m, "broken") if e["actor"] == "group"]
    assert len(breaks) >= 2, "the group never broke twice"
    d = breaks[0]["day"]
    F = hist(m).stocks["fighters"][:, g]
    window = [lost[max(0, t - BREAK_DAYS):t].sum() for t in range(d + 1)]
    share = [w / (F[t] + w) for t, w in enumerate(window)]
    assert share[d] >= 0.2 > max(share[:d])          # the first day it reaches the breakpoint
    assert breaks[0]["magnitude"] == pytest.approx(share[d], rel=1e-9)
    assert all(e["day"] >= d + RALLY_DAYS for e in breaks[1:])  # not again while broken
    # until the break the runs are the same; broken, the dispersed group loses far fewer
    # men than one that breaks but does not disperse
    np.testing.assert_array_equal(lost[:d], lost_stand[:d])
    _, _, lost_nd = _battle(0.2, break_flight=0.0, break_dispersal=0.0)
    np.testing.assert_array_equal(lost[:d], lost_nd[:d])
    span = slice(d, d + RALLY_DAYS)
    assert lost[span].sum() < 0.5 * lost_nd[span].sum()
    o = m.world.orgs
    last = breaks[-1]["day"]
    if m.day > last + RALLY_DAYS:  # rallied by the end: its own concealment again
        np.testing.assert_array_equal(o.conceal, o.base_conceal)


def test_a_raid_operation_s_sweep_breaks_the_band():
    """Losses to a raid operation's strike count towards the breakpoint like losses in
    battle: a band swept of most of its men breaks the next day; at ``breakpoint`` 1 it
    never does."""
    m, lost, ops = _operation(0.9, days=20, breakpoint=0.3)
    assert ops
    g = m.names.index("group")
    h = hist(m)
    swept = h.pairs["killed"][:, g].sum(axis=1) + h.pairs["detained"][:, g].sum(axis=1)
    F = h.stocks["fighters"][:-1, g]  # at the start of each day
    d = int(np.argmax(swept > 0.3 * F))
    assert swept[d] > 0.3 * F[d]   # the sweep's day
    breaks = [e["day"] for e in events(m, "broken") if e["actor"] == "group"]
    assert breaks and breaks[0] == d + 1
    m1, _, _ = _operation(0.9, days=20, breakpoint=1.0)
    assert not events(m1, "broken")


def test_a_broken_force_without_roots_flees_one_with_roots_stays():
    """Broken, fighters without local roots flee at ``break_flight * (1 - local_roots)``
    per unit of danger; fighters with roots melt into their people and stay."""
    def fled(roots, rate):
        m, g, _ = _battle(0.2, roots=roots, break_flight=rate, scatter_rate=0.0)
        assert [e for e in events(m, "broken") if e["actor"] == "group"]
        return hist(m).flows["fled"][:, g].sum()

    assert fled(0.0, 5.0) > 5 * max(fled(0.0, 0.0), 0.1)
    assert fled(1.0, 5.0) == pytest.approx(fled(1.0, 0.0), abs=1e-9)


def test_a_broken_attacker_breaks_off_its_offensive():
    """An attacker whose own losses reach its breakpoint ends its offensive the next day
    (note "broken") and opens none until it has rallied; at ``breakpoint`` 1 the same
    offensive runs on."""
    from affiliate_sim.mechanisms.retreat import RALLY_DAYS

    orgs = copy.deepcopy(BASE["organizations"])
    orgs[1].update(quality=2.5, cohesion=0.9)  # a group that fights back hard
    orgs.append(dict(STRONG_RIVAL))
    rel = [{"a": "rival", "b": "group", "kind": "hostile"}]

    def battle(bp):
        return run(scenario(days=60, organizations=orgs, relations=rel),
                   Params(breakpoint=bp, hostility_engagement=0.02, return_fire=1.0,
                          break_flight=0.0))

    m = battle(0.03)
    broke = [e["day"] for e in events(m, "broken") if e["actor"] == "rival"]
    assert broke
    ended = [e for e in events(m, "offensive_ended") if e["actor"] == "rival"]
    assert ended[0]["day"] == broke[0] + 1 and ended[0]["note"] == "broken"
    opened = [e["day"] for e in events(m, "offensive_started") if e["actor"] == "rival"]
    assert not [d for d in opened if broke[0] <= d < broke[0] + RALLY_DAYS]
    stand = battle(1.0)
    assert not [e for e in events(stand, "offensive_ended") if e["note"] == "broken"]
    assert [e for e in events(stand, "offensive_ended")
            if e["actor"] == "rival"][0]["day"] > broke[0] + 1
