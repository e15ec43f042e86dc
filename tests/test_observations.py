"""Observations: each quantity measures the run's history (never its inputs)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from affiliate_sim.model import AffiliateModel
from affiliate_sim.scenario.observations import Observation, evaluate, measure


@pytest.fixture(scope="module")
def run():
    return AffiliateModel("derna_illustrative", rng=3, days=300).run().record(0)


def obs(**kw):
    base = {"id": "x", "quantity": "fighters", "window": (0, 300), "source": "test source",
            "at_least": 0.0}
    return Observation(**{**base, **kw})


def test_fighters_stats(run):
    f = run.history.stocks["fighters"][:, run.names.index("IYSC")]
    assert measure(run, obs(org="IYSC")) == f[300]
    assert measure(run, obs(org="IYSC", stat="max", window=(0, 100))) == f[:101].max()
    assert measure(run, obs(org="IYSC", stat="min", window=(50, 100))) == f[50:101].min()


def test_flows_match_history(run):
    i, j = run.names.index("IYSC"), run.names.index("Abu_Salim_Brigade")
    killed = run.history.pairs["killed"][:, i, j].sum()
    assert measure(run, obs(quantity="flow", org="IYSC", flow="killed",
                            partner="Abu_Salim_Brigade")) == pytest.approx(killed)
    share = measure(run, obs(quantity="flow_share", org="IYSC", flow="killed"))
    assert share == pytest.approx(run.history.pairs["killed"][:, i].sum() / 800)
    main = measure(run, obs(quantity="main_killer_share", org="IYSC",
                            partner="Abu_Salim_Brigade"))
    assert 0 < main < 1


def test_events_and_anchor(run):
    pledges = measure(run, obs(quantity="event_count", event="pledge", actor="IYSC"))
    assert pledges == 1
    assert measure(run, obs(quantity="first_event_day", event="leader_killed")) == 240
    # anchored on the assassination: offensives within 15 days of it
    n = measure(run, obs(quantity="event_count", event="offensive_started",
                         target_org="IYSC", anchor="leader_killed", window=(0, 15)))
    assert n >= 1
    never = obs(quantity="event_count", event="pledge", anchor="wali_replaced")
    assert math.isnan(measure(run, never)) and not never.met(measure(run, never))


def test_leaders_killed_counts_emirs_and_commanders(run):
    """An emir counts one, a commanders_killed event its magnitude; only the target's, in
    the window, and by the actor when one is named."""
    def ev(day, kind, actor, target, magnitude):
        return {"day": day, "kind": kind, "actor": actor, "target": target,
                "magnitude": magnitude, "note": ""}
    events = [ev(5, "emir_killed", "army", "group", 0.8),        # counts 1, not 0.8
              ev(6, "commanders_killed", "army", "group", 3.0),
              ev(7, "commanders_killed", "rival", "group", 2.0),
              ev(8, "emir_killed", "army", "other", 1.0),         # another group's
              ev(8, "commanders_killed", "army", "group", 1.0),   # the window's last day
              ev(9, "commanders_killed", "army", "group", 4.0),   # after the window
              ev(6, "pledge", "group", "group", 1.0)]
    fake = SimpleNamespace(history=run.history, events=events)
    leaders = obs(quantity="leaders_killed", target_org="group", window=(0, 8))
    assert measure(fake, leaders) == 7.0
    assert measure(fake, obs(quantity="leaders_killed", target_org="group", actor="army",
                             window=(0, 8))) == 5.0
    assert measure(fake, obs(quantity="event_total", event="commanders_killed",
                             target_org="group", window=(0, 8))) == 6.0
    # anchored on the first emir killed of "other" (day 8), not of "group" (day 5): the
    # window [1, 1] is day 9 alone
    after = obs(quantity="leaders_killed", target_org="group", window=(1, 1),
                anchor="emir_killed", anchor_target="other")
    assert measure(fake, after) == 4.0
    after_group = obs(quantity="leaders_killed", target_org="group", window=(1, 3),
                      anchor="emir_killed", anchor_target="group")
    assert measure(fake, after_group) == 6.0      # days 6 to 8


def test_region_quantities(run):
    i = run.names.index("IYSC")
    share = measure(run, obs(quantity="region_share", org="IYSC", region="city",
                             window=(0, 100)))
    assert share == run.history.region_cells[100, i, 1] / 20
    pres = measure(run, obs(quantity="region_presence", org="IYSC", region="city",
                            window=(0, 100)))
    assert 0 < pres <= 1


def test_max_drop_ignores_remnants(run):
    whole = measure(run, obs(quantity="max_drop", org="IYSC", span=10))
    f = run.history.stocks["fighters"][:, run.names.index("IYSC")]
    drops = [(f[t] - f[t + 10]) / f[t] for t in range(len(f) - 10) if f[t] >= 5]
    assert whole == pytest.approx(max(drops))


def test_targets_and_tolerance():
    o = obs(at_least=10.0, at_most=20.0, tolerance=2.0)
    assert o.met(8.0) and o.met(22.0) and not o.met(7.9) and not o.met(22.1)
    assert o.target_text() == "10 to 20"


def test_evaluate_scores_every_observation(run):
    out = evaluate(run, [obs(id="a", org="IYSC"), obs(id="b", org="IYSC", at_least=1e9)])
    assert out["a"]["met"] and not out["b"]["met"]
    assert np.isfinite(out["a"]["value"])
