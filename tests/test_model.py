"""The Mesa model: determinism, Mesa's streams, accounting over a run, mechanisms, agents."""

from __future__ import annotations

import numpy as np
import pytest

from affiliate_sim.errors import InputError
from affiliate_sim.model import AffiliateModel
from affiliate_sim.model.agents import ISCore, Organization, StateForce
from affiliate_sim.scenario import load_scenario
from affiliate_sim.scenario.params import Mechanisms, Params

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
    assert np.array_equal(a.world.forces.fighters, b.world.forces.fighters)


def test_different_seeds_differ():
    a, b = run(seed=1, days=120), run(seed=2, days=120)
    assert not np.array_equal(a.history.stocks["fighters"], b.history.stocks["fighters"])


def test_mesa_streams_seeded():
    a = AffiliateModel("derna_illustrative", rng=5)
    b = AffiliateModel("derna_illustrative", rng=5)
    assert a.random.random() == b.random.random()
    assert a.rng.random() == b.rng.random()
    c = AffiliateModel("derna_illustrative", rng=6)
    assert a.random.random() != c.random.random()


def test_accounting_over_a_run_of_an_ensemble():
    """Per replicate, organization and day: start + in - out = end, from the history."""
    m = AffiliateModel("derna_illustrative", seeds=[3, 4, 5], days=DAYS).run()
    for r in range(3):
        h = m.record(r).history
        f = h.stocks["fighters"]
        inflow = (h.flows["recruited_local"] + h.flows["recruited_foreign"]
                  + h.pairs["defected"].sum(axis=1))
        outflow = (h.pairs["killed"].sum(2) + h.pairs["detained"].sum(2)
                   + h.pairs["surrendered"].sum(2) + h.pairs["defected"].sum(2)
                   + h.flows["fled"] + h.flows["deserted"])
        np.testing.assert_allclose(f[:-1] + inflow - outflow, f[1:], rtol=1e-9, atol=1e-6)
        assert (f >= 0).all()
        assert (h.stocks["sympathizers"] <= f + 1e-9).all()
        assert outflow.sum() > 0 and inflow.sum() > 0


def test_grid_and_agents(base):
    assert base.grid.dimensions == (10, 10)
    assert len(base.organizations) == 5
    F = base.world.forces.fighters[0]
    for agent in base.organizations:  # each agent stands on its fighters' main cell
        if agent.fighters[0] > 0:
            r, c = agent.cell.coordinate
            assert F[agent.index, r, c] == F[agent.index].max()


def test_agent_classes_set_who_takes_which_decision(base):
    classes = {a.name: type(a) for a in base.organizations}
    state = next(n for n, c in classes.items() if c is StateForce)
    assert classes["IYSC"] is Organization
    i = base.names.index(state)
    assert base.world.roles["raid"][i] and not base.world.roles["retreat"][i]
    assert not base.world.roles["raid"][base.names.index("IYSC")]
    sc = load_scenario("somalia_2015")
    m = AffiliateModel(sc, rng=0, days=1)
    core = [a for a in m.organizations if isinstance(a, ISCore)]
    assert core and m.world.roles["invest"][core[0].index]


def test_story_emerges_from_rules():
    """The pledge (input) leads to a coalition (rule); the assassination (input) to an
    offensive against the killer (rule), which costs the IYSC the city: in most seeds."""
    m = AffiliateModel("derna_illustrative", seeds=range(6)).run()
    lost_city = 0
    for r in range(6):
        run_ = m.record(r)
        ev = run_.events
        assert [e for e in ev if e["kind"] == "pledge"][0]["actor"] == "IYSC"
        coal = [e for e in ev if e["kind"] == "coalition_formed"]
        assert coal and coal[0]["target"] == "IYSC"
        killing = [e for e in ev if e["kind"] == "leader_killed"][0]["day"]
        off = [e for e in ev if e["kind"] == "offensive_started" and e["target"] == "IYSC"
               and e["day"] >= killing]
        assert off, f"replicate {r}: no offensive on the IYSC after the assassination"
        h = run_.history
        held = h.region_cells[:, run_.names.index("IYSC"), h.region_names.index("city")]
        lost_city += held[killing] > 0 and held[-1] == 0
    assert lost_city >= 4


def test_coalition_switch_removes_the_offensive():
    m = run(seed=3, coalition=False)
    assert not kinds(m, "coalition_formed")
    assert not [e for e in kinds(m, "offensive_started") if e["actor"] == "Abu_Salim_Brigade"
                and e["target"] == "IYSC"]


def test_counterterrorism_switch_removes_raids(base):
    m = run(seed=3, counterterrorism=False)
    state = base.names.index("Hifter_forces")
    assert m.history.pairs["detained"][:, 0, :, state].sum() == 0
    assert not kinds(m, "raid_operation")
    assert base.history.pairs["killed"][:, 0, :, state].sum() > 0


def test_scenario_object_and_path_accepted():
    sc = load_scenario("derna_illustrative")
    a = AffiliateModel(sc, rng=1, days=5).run()
    b = AffiliateModel(sc.path, rng=1, days=5).run()
    assert np.array_equal(a.world.forces.fighters, b.world.forces.fighters)


def test_out_of_range_params_rejected():
    with pytest.raises(InputError, match="combat_rate"):
        AffiliateModel("derna_illustrative", Params(combat_rate=-1.0), rng=0)


def test_ensemble_needs_one_set_of_mechanisms():
    with pytest.raises(ValueError, match="same mechanisms"):
        AffiliateModel("derna_illustrative",
                       [Params(), Params(mechanisms=Mechanisms(purge=False))], seeds=[0, 1])
