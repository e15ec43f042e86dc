"""A case's estimates varied replicate by replicate (``params.estimates``), the scenario
file's ``estimates`` block (their plausible ranges), and the screening that picks the ones
the Bayesian calibration gives a prior."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from affiliate_sim.errors import InputError
from affiliate_sim.experiments.abcsmc import chosen_estimates
from affiliate_sim.model import AffiliateModel
from affiliate_sim.paths import SCENARIO_DIR
from affiliate_sim.scenario import load_scenario
from affiliate_sim.scenario.params import (
    Params,
    case_estimates,
    estimate_name,
    flat_estimates,
    split_estimate,
    with_values,
)

CHANGE = {"Wilayat_Sinai": {"fighters": 2000.0, "cohesion": 0.6, "sympathizer_share": 0.1},
          "Egyptian_forces": {"fighters": 20000.0, "vigilance": 1.2}}


def _edited(tmp_path):
    """sinai_2015 with CHANGE written into the file itself (same name)."""
    data = yaml.safe_load((SCENARIO_DIR / "sinai_2015.yaml").read_text(encoding="utf-8"))
    data.pop("estimates")  # its ranges need not hold the new values
    for org in data["organizations"]:
        org.update(CHANGE.get(org["name"], {}))
    path = tmp_path / "sinai_2015.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _same(a, b):
    for k in a.history.stocks:
        np.testing.assert_array_equal(a.history.stocks[k], b.history.stocks[k], err_msg=k)
    assert a.events == b.events


def test_estimates_in_an_ensemble_equal_a_file_holding_those_values(tmp_path):
    """Replicate r with estimates, in an ensemble beside a replicate without, is
    bit-identical to a run of a scenario file holding those values; the other replicate
    is untouched."""
    days = 90
    edited = AffiliateModel(_edited(tmp_path), rng=3, days=days).run().record(0)
    plain = AffiliateModel("sinai_2015", rng=3, days=days).run().record(0)
    est = Params.from_dict({"estimates": {"sinai_2015": CHANGE}})
    ens = AffiliateModel("sinai_2015", [Params(), est], seeds=[3, 3], days=days)
    f = ens.world.forces
    assert f.initial[1, 1] == pytest.approx(2000.0) and f.initial[0, 1] == pytest.approx(1000.0)
    assert f.reserve[1, 2] == 20000.0 and f.reserve[0, 2] == 15000.0  # the default follows
    ens.run()
    _same(ens.record(1), edited)
    _same(ens.record(0), plain)
    # estimates of another case play no part
    other = Params.from_dict({"estimates": {"algeria_2014": {"AQIM": {"fighters": 250}}}})
    _same(AffiliateModel("sinai_2015", other, rng=3, days=days).run().record(0), plain)


def test_flat_names_and_replacement():
    name = estimate_name("sinai_2015", "Wilayat_Sinai", "fighters")
    assert split_estimate(name) == ("sinai_2015", "Wilayat_Sinai", "fighters")
    assert split_estimate("combat_rate") is None
    p = with_values(Params(), {name: 1500.0, "combat_rate": 0.05})
    assert p.combat_rate == 0.05 and p.estimates == {"sinai_2015": {"Wilayat_Sinai":
                                                                    {"fighters": 1500.0}}}
    assert flat_estimates(p) == {name: 1500.0}
    assert Params().estimates == {}  # the original is untouched
    assert Params.from_dict(p.to_dict()) == p  # round trip through plain data


@pytest.mark.parametrize("est,key,text", [
    ({"sinai_2015": 3}, "params.estimates.sinai_2015", "mapping of organization"),
    ({"sinai_2015": {"Wilayat_Sinai": {"brains": 1}}},
     "params.estimates.sinai_2015.Wilayat_Sinai.brains", "not a field"),
    ({"sinai_2015": {"Wilayat_Sinai": {"cohesion": 2}}},
     "params.estimates.sinai_2015.Wilayat_Sinai.cohesion", "out of range"),
    ({"sinai_2015": {"Wilayat_Sinai": {"quality": "x"}}},
     "params.estimates.sinai_2015.Wilayat_Sinai.quality", "must be a number"),
])
def test_bad_estimates_name_the_key(est, key, text):
    with pytest.raises(InputError, match=text) as err:
        Params.from_dict({"estimates": est}, where="f.yaml")
    assert err.value.key == key


def test_estimates_are_checked_against_the_case():
    case = load_scenario("sinai_2015")
    ok = Params.from_dict({"estimates": {"sinai_2015": {"Wilayat_Sinai": {"fighters": 900}}}})
    assert case_estimates(case, [Params(), ok]) == [{}, {"Wilayat_Sinai": {"fighters": 900.0}}]
    for est, key in [({"Nobody": {"fighters": 5}}, "params.estimates.sinai_2015.Nobody"),
                     ({"IS_core": {"fighters": 5}}, "params.estimates.sinai_2015.IS_core.fighters"),
                     ({"Wilayat_Sinai": {"fighters": 0}},
                      "params.estimates.sinai_2015.Wilayat_Sinai.fighters")]:
        with pytest.raises(InputError) as err:
            case_estimates(case, [Params.from_dict({"estimates": {"sinai_2015": est}})])
        assert err.value.key == key


def _with_block(tmp_path, block):
    data = yaml.safe_load((SCENARIO_DIR / "sinai_2015.yaml").read_text(encoding="utf-8"))
    data["estimates"] = block
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("block,key,text", [
    ({"Nobody": {"fighters": [1, 2]}}, "estimates.Nobody", "unknown key"),
    ({"Wilayat_Sinai": {"emir": [1, 2]}}, "estimates.Wilayat_Sinai.emir", "unknown key"),
    ({"Wilayat_Sinai": {"fighters": [2000, 3000]}}, "estimates.Wilayat_Sinai.fighters",
     "must hold the file's value 1000"),
    ({"Wilayat_Sinai": {"cohesion": [0.9, 0.7]}}, "estimates.Wilayat_Sinai.cohesion",
     "must be below"),
    ({"Wilayat_Sinai": {"cohesion": [0.5, 1.5]}}, "estimates.Wilayat_Sinai.cohesion[1]",
     "above the maximum"),
    ({"Wilayat_Sinai": {"fighters": [500]}}, "estimates.Wilayat_Sinai.fighters",
     "[low, high]"),
])
def test_a_bad_estimates_block_names_the_key(tmp_path, block, key, text):
    with pytest.raises(InputError) as err:
        load_scenario(_with_block(tmp_path, block))
    assert err.value.key == key and text in err.value.problem


def test_every_case_declares_the_range_of_its_estimated_strengths():
    """Each of the nine cases declares ranges, holding the file's values (checked on
    load), for the strength of every armed organization whose number is an estimate."""
    from affiliate_sim.scenario import CASES

    for c in CASES:
        case = load_scenario(c)
        assert case.estimates, c
        strengths = [o for o, fs in case.estimates.items() if "fighters" in fs]
        assert len(strengths) >= 2, c


def test_the_screening_keeps_the_largest_effects_it_can_tell_from_noise():
    def row(case, name, effect, se):
        return {"case": case, "name": name, "effect": effect, "se": se}
    rows = [row("a", "x", 0.5, 0.1), row("a", "y", 0.9, 0.5), row("a", "z", 0.7, 0.1),
            row("a", "w", 0.0, 0.0), row("a", "t", 0.04, 0.0),  # below MIN_EFFECT
            row("b", "u", 0.2, math.nan), row("b", "v", 0.1, 0.2)]
    assert [r["name"] for r in chosen_estimates(rows, 2)] == ["z", "x", "u"]
    assert [r["name"] for r in chosen_estimates(rows, 1)] == ["z", "u"]


def test_a_sweep_over_a_case_estimate(tmp_path):
    """The command line sweeps a case's estimate like any parameter: one column of the
    sweep table, each job's run starting from its value."""
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    exe = Path(sys.executable).with_name("affiliate-sim")
    key = "params.estimates.sinai_2015.Wilayat_Sinai.fighters"
    res = subprocess.run([str(exe), "-m", "scenario=sinai_2015", "days=10", f"+{key}=500,2000",
                          f"hydra.sweep.dir={tmp_path}", "hydra/launcher=basic"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    table = pd.read_parquet(tmp_path / "sweep.parquet").sort_values(key)
    assert table[key].tolist() == [500.0, 2000.0]
    ts = pd.read_parquet(tmp_path / "timeseries.parquet")
    start = ts[(ts.day == 0) & (ts.organization == "Wilayat_Sinai")]
    assert sorted(start.fighters.round(6)) == [500.0, 2000.0]


def test_a_misspelt_case_and_an_explicit_reserve():
    """An estimate for a case that is neither shipped nor run is refused (it would be
    ignored); a reserve the file gives explicitly does not follow a new strength, even when
    it equals the old one."""
    import yaml as _yaml

    from affiliate_sim.cli.config import check_cases

    p = Params.from_dict({"estimates": {"sinai2015": {"Wilayat_Sinai": {"fighters": 900}}}})
    with pytest.raises(InputError) as err:
        check_cases(p, [load_scenario("sinai_2015")], "override")
    assert err.value.key == "params.estimates.sinai2015"
    with pytest.raises(InputError, match="without dots"):
        Params.from_dict({"estimates": {"a.b": {"X": {"fighters": 1}}}})
    data = _yaml.safe_load((SCENARIO_DIR / "sinai_2015.yaml").read_text(encoding="utf-8"))
    data["organizations"][2]["reserve"] = 15000  # written out, equal to its strength
    est = Params.from_dict({"estimates": {"sinai_2015": {"Egyptian_forces": {"fighters": 20000}}}})
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(_yaml.safe_dump(data), encoding="utf-8")
        m = AffiliateModel(path, est, rng=0, days=1)
    assert m.world.forces.reserve[0, 2] == 15000.0
