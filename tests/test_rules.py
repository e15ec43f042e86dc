"""Every decision rule fires in a scenario built to exercise it (tests/data/all_mechanisms)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affiliate_sim.model import AffiliateModel
from affiliate_sim.scenario.params import Mechanisms, Params

SCENARIO = Path(__file__).parent / "data" / "all_mechanisms.yaml"


def run(seed=0, **mech):
    return AffiliateModel(SCENARIO, Params(mechanisms=Mechanisms(**mech)), rng=seed).run() \
        .record(0)


@pytest.fixture(scope="module")
def model():
    return run()


def events(m, kind, actor=None, target=None):
    return [e for e in m.events if e["kind"] == kind and (actor is None or e["actor"] == actor)
            and (target is None or e["target"] == target)]


def pair(m, flow, a, b):
    return m.history.pairs[flow][:, m.names.index(a), m.names.index(b)].sum()


def test_purge_detains_kills_and_drives_out_sympathizers(model):
    assert events(model, "purge", "shabaab")
    assert pair(model, "detained", "shabaab", "shabaab") > 0   # detained by the amniyat
    assert pair(model, "killed", "shabaab", "shabaab") > 0
    assert model.history.flows["fled"][:, model.names.index("shabaab")].sum() > 0
    assert pair(model, "surrendered", "shabaab", "army") > 0


def test_purge_switch(model):
    off = run(purge=False)
    assert not events(off, "purge")
    assert pair(off, "detained", "shabaab", "shabaab") == 0
    # fighters in danger still surrender by choice, but the purge's fear adds to it
    assert pair(off, "surrendered", "shabaab", "army") < pair(model, "surrendered",
                                                              "shabaab", "army")
    # without the purge, more sympathizers are left to defect to IS
    assert (pair(off, "defected", "shabaab", "mumin") + pair(off, "defected", "shabaab",
            "yemen_IS")) > (pair(model, "defected", "shabaab", "mumin")
                            + pair(model, "defected", "shabaab", "yemen_IS"))


def test_state_intelligence_and_raids():
    """A visible group draws raid operations; the state is its main killer; leaders fall
    when the operation reaches them (the army's raids reaching the mountains, intense
    enough not to be lost in them: an operation strikes only what it reaches)."""
    with_ops = leaders_hit = 0
    reaching = Params(raid_reach_km=1000.0, raid_operation_intensity=1e4)
    for seed in range(5):
        m = AffiliateModel(SCENARIO, reaching, rng=seed).run().record(0)
        jak, army = m.names.index("jak"), m.names.index("army")
        killed_by = m.history.pairs["killed"][:, jak].sum(0)
        assert np.argmax(killed_by) == army  # the state, not the AQ parent
        if events(m, "raid_operation", "army", "jak"):
            with_ops += 1
            leaders_hit += bool(events(m, "emir_killed", target="jak")
                                or events(m, "commanders_killed", target="jak"))
    assert with_ops >= 3
    assert leaders_hit >= with_ops - 1
    off = run(seed=1, counterterrorism=False)
    assert not events(off, "raid_operation")


def test_scripted_pledge_moves_the_group_to_the_is_camp(model):
    pledge = events(model, "pledge", "jak")
    assert pledge and pledge[0]["target"] == "core_IS" and pledge[0]["day"] == 0
    assert model.camp[model.names.index("jak")] == 0  # IS


def test_schism_statements_and_split():
    """Grievance leads to one public split, then further statements, in most seeds."""
    with_split = 0
    for seed in range(4):
        m = run(seed=seed)
        splits = events(m, "split", "yemen_IS", "dissidents")
        assert len(splits) <= 1
        if splits:
            with_split += 1
            assert pair(m, "defected", "yemen_IS", "dissidents") > 0
            assert events(m, "wali_backed") or events(m, "wali_replaced")
    assert with_split >= 3


def test_schism_switch():
    off = run(schism=False)
    assert not events(off, "split")
    assert pair(off, "defected", "yemen_IS", "dissidents") == 0


def test_investment_brings_foreign_fighters(model):
    ff = model.history.flows["recruited_foreign"]
    assert ff[:, model.names.index("yemen_IS")].sum() > 0
    off = run(investment=False)
    is_orgs = [model.names.index(n) for n in ("yemen_IS", "mumin", "jak")]
    assert off.history.flows["recruited_foreign"][:, is_orgs].sum() == 0


def test_remoteness_shields_a_faction_from_raids(model):
    """Mumin's remote, rugged ground takes most of the state's raids off it: with the
    terrain switched off the army kills several times as many of its fighters."""
    off = run(terrain=False)
    by_army = pair(model, "killed", "mumin", "army")
    assert by_army > 0
    assert pair(off, "killed", "mumin", "army") > 2.5 * by_army
