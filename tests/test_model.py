"""The Mesa model: determinism, both RNG streams, accounting over a run, mechanisms."""

from __future__ import annotations

import numpy as np
import pytest

from affiliate_sim.model import AffiliateModel
from affiliate_sim.params import Mechanisms, Params
from affiliate_sim.scenario import load_scenario

DAYS = 300


def run(seed=0, days=DAYS, **mech):
    params = Params(mechanisms=Mechanisms(**mech)) if mech else Params()
    return AffiliateModel("derna_illustrative", params, rng=seed, days=days).run()


@pytest.fixture(scope="module")
def base():
    return run(seed=3)


def kinds(model, kind):
    return [e for e in model.events if e["kind"] == kind]


def test_same_seed_bit_identical():
    a, b = run(seed=11, days=120), run(seed=11, days=120)
    for k in a.history.stocks:
        assert np.array_equal(a.history.stocks[k], b.history.stocks[k]), k
    for k in a.history.pairs:
        assert np.array_equal(a.history.pairs[k], b.history.pairs[k]), k
    assert a.events == b.events
    assert np.array_equal(a.fighters, b.fighters)


def test_different_seeds_differ():
    a, b = run(seed=1, days=120), run(seed=2, days=120)
    assert not np.array_equal(a.history.stocks["fighters"], b.history.stocks["fighters"])


def test_both_rng_streams_seeded():
    a = AffiliateModel("derna_illustrative", rng=5)
    b = AffiliateModel("derna_illustrative", rng=5)
    assert a.random.random() == b.random.random()
    assert a.rng.random() == b.rng.random()
    c = AffiliateModel("derna_illustrative", rng=6)
    assert a.random.random() != c.random.random()


def test_accounting_over_a_run(base):
    """Per organization per day: start + in - out = end, from the model's own history."""
    h = base.history
    f = h.stocks["fighters"]
    inflow = (h.flows["recruited_local"] + h.flows["recruited_foreign"]
              + h.pairs["defected"].sum(axis=1))
    outflow = (h.pairs["killed"].sum(2) + h.pairs["detained"].sum(2)
               + h.pairs["surrendered"].sum(2) + h.pairs["defected"].sum(2)
               + h.flows["fled"] + h.flows["deserted"])
    np.testing.assert_allclose(f[:-1] + inflow - outflow, f[1:], rtol=1e-9, atol=1e-6)
    assert (f >= 0).all()
    assert (h.stocks["sympathizers"] <= f + 1e-9).all()


def test_grid_and_agents(base):
    assert base.grid.dimensions == (10, 10)
    assert len(base.organizations) == 5
    for agent in base.organizations:  # each agent stands on its fighters' main cell
        if base.totals[agent.index] > 0:
            r, c = agent.cell.coordinate
            assert base.fighters[0, agent.index, r, c] == base.fighters[0, agent.index].max()


def test_story_emerges_from_rules(base):
    """The pledge (input) leads to a coalition (rule); the assassination (input) to an
    offensive against the killer (rule), which loses the city."""
    assert kinds(base, "pledge")[0]["actor"] == "IYSC"
    coal = kinds(base, "coalition_formed")
    assert coal and coal[0]["target"] == "IYSC"
    off = [e for e in kinds(base, "offensive_started") if e["target"] == "IYSC"]
    assert off and off[0]["day"] >= 240
    iysc = base.names.index("IYSC")
    city = base.history.region_names.index("city")
    held = base.history.region_cells[:, iysc, city]
    assert held[240] > 0 and held[-1] == 0


def test_coalition_switch_removes_the_offensive():
    m = run(seed=3, coalition=False)
    assert not kinds(m, "coalition_formed")
    assert not [e for e in kinds(m, "offensive_started") if e["actor"] == "Abu_Salim_Brigade"
                and e["target"] == "IYSC"]


def test_counterterrorism_switch_removes_raids(base):
    m = run(seed=3, counterterrorism=False)
    state = base.names.index("Hifter_forces")
    assert m.history.pairs["detained"][:, :, state].sum() == 0
    assert base.history.pairs["killed"][:, :, state].sum() > 0


def test_scenario_object_and_path_accepted(tmp_path):
    sc = load_scenario("derna_illustrative")
    a = AffiliateModel(sc, rng=1, days=5).run()
    b = AffiliateModel(sc.path, rng=1, days=5).run()
    assert np.array_equal(a.fighters, b.fighters)


def test_out_of_range_params_rejected():
    from affiliate_sim.errors import InputError
    with pytest.raises(InputError, match="combat_rate"):
        AffiliateModel("derna_illustrative", Params(combat_rate=-1.0), rng=0)
