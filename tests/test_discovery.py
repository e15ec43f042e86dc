"""Scenario discovery (`affiliate-discover`): PRIM finds a planted box through the project's
code path, the sample is a Latin hypercube balanced over the cases, the dimensions are
checked data, and the command writes the same boxes again for the same seed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from affiliate_sim.errors import InputError
from affiliate_sim.experiments.discovery import Dimensions, dimensions, prim_box, quasi_p

EXE = Path(sys.executable).with_name("affiliate-discover")


def planted(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.random(n), "b": rng.random(n), "c": rng.random(n),
                      "case": pd.Categorical(rng.choice(["p", "q", "r"], n))})
    inside = (x.a > 0.6) & (x.b < 0.3) & (x.case != "r")
    noise = rng.random(n) < 0.03  # a few runs of interest outside the box
    return x, (inside | noise).to_numpy(), inside.to_numpy()


def test_prim_finds_a_planted_box():
    x, y, inside = planted()
    box = prim_box(x, y, min_density=0.8)
    assert set(box["limits"]) == {"a", "b", "case"}  # c is left free
    lo_a, hi_a = box["limits"]["a"]
    assert lo_a == pytest.approx(0.6, abs=0.1) and hi_a > 0.95
    assert box["limits"]["b"][1] == pytest.approx(0.3, abs=0.1)
    assert box["limits"]["case"] == ["p", "q"]
    assert box["density"] >= 0.8
    assert box["coverage"] >= 0.7  # most runs of interest (the box's, not the noise's)
    assert box["base_rate"] == pytest.approx(y.mean())
    # the figures are those of the box reported (its limits only)
    lim = box["limits"]
    inside = ((x.a >= lim["a"][0]) & (x.a <= lim["a"][1]) & (x.b >= lim["b"][0])
              & (x.b <= lim["b"][1]) & x.case.isin(lim["case"])).to_numpy()
    assert box["density"] == pytest.approx(y[inside].mean())
    assert box["coverage"] == pytest.approx(y[inside].sum() / y.sum())
    assert box["mass"] == pytest.approx(inside.mean())
    # the chosen step is the most covering of those dense enough
    t = box["trajectory"]
    dense = t[t.density >= 0.8]
    assert box["peeled"]["coverage"] == dense.coverage.max()


def test_a_restriction_no_better_than_chance_has_a_large_quasi_p_value():
    x, y, _ = planted()
    full = pd.DataFrame({"a": [0.0, 1.0], "b": [0.0, 1.0], "c": [0.0, 1.0],
                         "case": [{"p", "q", "r"}, {"p", "q", "r"}]})
    box = full.copy()
    box["a"] = [0.6, 1.0]     # where the runs of interest are
    box["c"] = [0.1, 1.0]     # c has nothing to do with them
    qp = quasi_p(x, y, full, box)
    assert set(qp) == {"a", "c"}  # b and case are not restricted
    assert qp["a"] < 1e-10 and qp["c"] > 0.05
    assert set(prim_box(x, y)["qp"]) == {"a", "b", "case"}


def test_the_runner_maps_runs_back_to_points(monkeypatch):
    from affiliate_sim.experiments import runs
    from affiliate_sim.experiments.discovery import DiscoveryRunner
    from affiliate_sim.scenario.params import Params

    cases = ("algeria_2014", "sinai_2015")

    def fake(specs, workers=1, collect=None):
        return [{"is_left": s.params.combat_rate, "is_start": float(s.seed),
                 "is_end": float(cases.index(s.scenario.name))} for s in specs]

    monkeypatch.setattr(runs, "execute", fake)
    dims = Dimensions(("combat_rate",), ((0.01, 0.1),), 0, cases)
    P = np.array([[0.02, 1, 7], [0.03, 0, 8], [0.04, 1, 9]])
    Y = DiscoveryRunner(dims, Params())(P)
    np.testing.assert_allclose(Y, [[0.02, 7, 1], [0.03, 8, 0], [0.04, 9, 1]])


def test_prim_on_an_outcome_that_never_varies_gives_no_box():
    x, _, _ = planted(200)
    box = prim_box(x, np.zeros(200, dtype=bool))
    assert box["step"] is None and box["limits"] == {} and "no box" in box["note"]


def test_the_sample_is_a_latin_hypercube_balanced_over_the_cases():
    dims = Dimensions(("u", "v"), ((0.0, 1.0), (10.0, 30.0)), 1, ("p", "q", "r"))
    X = dims.sample(60, seed=4)
    for j, (lo, hi) in enumerate(dims.bounds):
        bins = np.floor((X[:, j] - lo) / (hi - lo) * 60).astype(int)
        assert sorted(bins) == list(range(60))  # one point in each of 60 equal strata
    cases = dims.case_of(60, seed=4)
    assert np.bincount(cases).tolist() == [20, 20, 20]
    assert not np.array_equal(cases, np.tile([0, 1, 2], 20))  # shuffled
    np.testing.assert_array_equal(X, dims.sample(60, seed=4))


TABLE = [{"name": "a", "lo": 0.0, "hi": 1.0}, {"name": "b", "lo": 0.0, "hi": 10.0}]


@pytest.mark.parametrize("levers,uncertain,key,text", [
    ({"z": [0, 1]}, {}, "levers.z", "unknown parameter"),
    ({"a": [0.5, 0.2]}, {}, "levers.a", "low < high"),
    ({}, {"b": [1.0, 20.0]}, "uncertain.b", "leaves the parameter's range"),
    ({"a": [0, 1]}, {"a": [0, 1]}, "uncertain.a", "both a lever and an uncertain"),
    ({}, {}, "levers", "nothing to sample"),
])
def test_the_dimensions_are_checked_data(levers, uncertain, key, text):
    with pytest.raises(InputError) as err:
        dimensions(levers, uncertain, TABLE, ["p"], where="discover.yaml")
    assert str(err.value).startswith(f"discover.yaml: {key}: ") and text in str(err.value)
    ok = dimensions({"a": [0.1, 0.9]}, {"b": [1, 2]}, TABLE, ["p"])
    assert ok.names == ("a", "b") and ok.levers == 1


def disc(*args):
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("override,key,text", [
    ("n=1", "n", "whole number >= 2"),
    ("n=5", "n", "at least the number of cases"),
    ("survive_share=0", "survive_share", "(0, 1]"),
    ("+levers.no_such=[0,1]", "levers.no_such", "unknown parameter"),
    ("levers.state_vigilance=[0.5,2]", "levers.state_vigilance", "leaves the parameter's"),
    ("cases=[sinai_2015,sinai_2015]", "cases", "given twice"),
])
def test_bad_discovery_input_one_line(tmp_path, override, key, text):
    res = disc(override, f"out={tmp_path}/d", f"hydra.run.dir={tmp_path}")
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"affiliate-discover: error: override: {key}: ") and text in err
    assert "Traceback" not in res.stderr + res.stdout
    assert not (tmp_path / "d").exists()


@pytest.mark.slow
def test_the_command_writes_boxes_and_the_same_again(tmp_path):
    args = ["n=60", "cases=[sinai_2015,algeria_2014]", "chunk=16"]
    res = disc(*args, "workers=2", f"out={tmp_path}/a", f"hydra.run.dir={tmp_path}/h")
    assert res.returncode == 0, res.stderr
    table = pd.read_parquet(tmp_path / "a" / "discovery.parquet")
    boxes = json.loads((tmp_path / "a" / "boxes.json").read_text())
    assert len(table) == 60 and table.case.value_counts().tolist() == [30, 30]
    assert set(boxes["boxes"]) == {"is_survives", "is_grows"}
    assert boxes["levers"] == ["state_vigilance", "purge_capacity_scale", "counter_messaging",
                               "central_investment"]
    # the outcomes are what they say
    assert (table.is_survives == (table.is_left >= 0.25)).all()
    assert (table.is_grows == (table.is_end > table.is_start)).all()
    # Algeria's Jund al-Khilafah is crushed, Sinai's wilayat holds out, at most settings
    share = table.groupby("case", observed=True).is_survives.mean()
    assert share["algeria_2014"] < share["sinai_2015"]
    # within each case, a box over the levers and parameters where the outcome goes both ways
    for outcome, per in boxes["by_case"].items():
        assert set(per) == {"sinai_2015", "algeria_2014"}
        for case, box in per.items():
            rate = table[table.case == case][outcome].mean()
            assert box["base_rate"] == pytest.approx(rate)
            assert ("limits" in box) == (0.05 < rate < 0.95)
            assert "case" not in box.get("limits", {})
    assert (tmp_path / "a" / "tradeoff.png").stat().st_size > 0
    assert not list((tmp_path / "a").glob("*.checkpoint.npz"))
    res = disc(*args, "workers=1", f"out={tmp_path}/b", f"hydra.run.dir={tmp_path}/h2")
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(table, pd.read_parquet(tmp_path / "b" / "discovery.parquet"))
    again = json.loads((tmp_path / "b" / "boxes.json").read_text())
    assert again["boxes"] == boxes["boxes"] and again["by_case"] == boxes["by_case"]
    # one case: no case dimension to restrict
    res = disc("n=20", "cases=[sinai_2015]", f"out={tmp_path}/c", f"hydra.run.dir={tmp_path}/h3")
    assert res.returncode == 0, res.stderr
    one = json.loads((tmp_path / "c" / "boxes.json").read_text())
    assert "case" not in one["boxes"]["is_survives"]["limits"]
