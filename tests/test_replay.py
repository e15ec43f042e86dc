"""The replay and calibration commands, end to end on small settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from affiliate_sim.scenario.params import Params

BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_replay_command(tmp_path):
    out = tmp_path / "replay"
    res = subprocess.run([str(BIN / "affiliate-replay"), "cases=[algeria_2014,yemen_2015]",
                          "seeds=2", "knockout_seeds=1", "continuation_seeds=2", "workers=2",
                          f"out={out}", f"hydra.run.dir={tmp_path / 'h'}"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "runs (" in res.stderr  # progress was shown
    assert not (out / ".replay.checkpoint").exists()  # finished: nothing left to resume
    cont = json.loads((out / "continuation.json").read_text())
    assert set(cont) == {"algeria_2014", "yemen_2015"}
    alg = cont["algeria_2014"]
    assert alg["seeds"] == 2 and alg["years"] == 4
    assert set(alg["bystanders"]) == {"AQIM", "Algerian_army"}  # not the group followed
    assert alg["strength"]["AQIM"][0] == pytest.approx(200.0)  # the scenario's start
    assert len(alg["strength"]["Jund_al_Khilafah"]) == 5  # start and the end of each year
    army = alg["bystanders"]["Algerian_army"]
    assert army["median_ratio"] == pytest.approx(alg["strength"]["Algerian_army"][-1] / 5000,
                                                 rel=1e-3)
    assert army["share_within"] in (0.0, 0.5, 1.0) and army["band"] == [1 / 3, 3.0]
    table = json.loads((out / "replay.json").read_text())
    assert set(table) == {"algeria_2014", "yemen_2015"}
    for case in table.values():
        for v in case.values():
            assert set(v) == {"share_met", "interval", "median", "target", "null_share_met",
                              "informative", "predictive", "unmeasured", "covers",
                              "gap_q05", "gap_median", "gap_q95"}
            assert v["covers"] == (v["gap_q05"] <= 0.0 <= v["gap_q95"])
            assert v["share_met"] in (0.0, 0.5, 1.0)
            assert v["interval"][0] <= v["share_met"] <= v["interval"][1]
            assert v["informative"] == (v["null_share_met"] < 0.5)
    # the null model does not raid: Algeria's raid is met by the model only
    assert table["algeria_2014"]["raid_kills_most_in_days"]["null_share_met"] == 0.0
    report = (out / "report.md").read_text()
    assert "![algeria_2014](algeria_2014.png)" in report
    assert "Mechanisms whose removal changes an outcome" in report
    assert "## Four-year continuations" in report and "| algeria_2014 | AQIM | 200 |" in report
    assert (out / "algeria_2014.png").stat().st_size > 10_000


def test_wilson_interval():
    from affiliate_sim.experiments.replay import separated, wilson

    lo, hi = wilson(10, 20)
    assert lo < 0.5 < hi and abs((lo + hi) / 2 - 0.5) < 1e-12
    assert wilson(0, 50)[0] == 0.0 and 0.0 < wilson(0, 50)[1] < 0.1
    assert wilson(50, 50)[1] == 1.0 and 0.9 < wilson(50, 50)[0] < 1.0
    # 95% Wilson interval of 8/10 (Newcombe 1998, table I: 0.490-0.943)
    lo, hi = wilson(8, 10)
    assert abs(lo - 0.490) < 1e-3 and abs(hi - 0.943) < 1e-3
    assert separated(wilson(45, 50), wilson(5, 50))
    assert not separated(wilson(30, 50), wilson(25, 50))


@pytest.mark.slow
def test_calibrate_command(tmp_path):
    out = tmp_path / "cal.yaml"
    res = subprocess.run([str(BIN / "affiliate-calibrate"), "cases=[algeria_2014]", "seeds=1",
                          "max_evaluations=3", "workers=1", f"out={out}",
                          "free={combat_rate: [0.01, 0.1]}",
                          f"hydra.run.dir={tmp_path / 'h'}"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert "# Method: Nelder-Mead (scipy)" in text and "3 evaluations" in text
    assert "four-year continuation" in text  # the bystanders counted, by default
    Params.from_dict(yaml.safe_load(text) or {})  # loads as a valid parameter set


def test_loss_pushes_observations_over_the_headline_share():
    """The calibration loss: an observation met in fewer than MET of the seeds pays
    HEADLINE_WEIGHT on top of its shortfall; one the null model meets earns nothing."""
    from affiliate_sim.experiments.calibrate import DISTANCE_WEIGHT, HEADLINE_WEIGHT, loss
    from affiliate_sim.experiments.runs import CaseResult
    from affiliate_sim.scenario import Observation

    obs = Observation(id="x", quantity="fighters", window=(0, 10), source="", org="a",
                      at_least=10.0)

    def results(values):
        return [CaseResult(scenario="c", seed=i, names=["a"], camps=["IS"],
                           fighters=np.zeros((1, 1), np.float32), values={"x": v},
                           met={"x": v >= 10.0}, event_counts={}) for i, v in
                enumerate(values)]
    four = results([10, 10, 10, 10, 5])  # met in 0.8 of the seeds: no headline penalty
    three = results([10, 10, 10, 5, 5])  # met in 0.6: the penalty
    l4, shares = loss(four, {"c": [obs]})
    l3, _ = loss(three, {"c": [obs]})
    assert shares == {"c": {"x": pytest.approx(0.8)}}
    assert l4 == pytest.approx(0.2 + DISTANCE_WEIGHT * 0.5 / 5)
    assert l3 == pytest.approx(0.4 + DISTANCE_WEIGHT * 1.0 / 5 + HEADLINE_WEIGHT)
    met_by_null, _ = loss(four, {"c": [obs]}, nulls=three)
    assert met_by_null == pytest.approx(1.0 + DISTANCE_WEIGHT + HEADLINE_WEIGHT)
    not_by_null, _ = loss(four, {"c": [obs]}, nulls=results([5, 5, 5, 10, 5]))
    assert not_by_null == pytest.approx(l4)


def test_bystanders_are_the_established_and_the_states_no_observation_follows():
    from affiliate_sim.experiments.continuation import bystanders
    from affiliate_sim.scenario import load_scenario

    # Algeria: Jund al-Khilafah is the story; AQIM (established 0.95) and the army are not
    assert bystanders(load_scenario("algeria_2014")) == ["AQIM", "Algerian_army"]
    # Derna: the Abu Salim brigade (established 0.7) is below the bar, IYSC is followed
    assert bystanders(load_scenario("derna_2014")) == ["Hifter_forces"]
    # Yemen: the dissidents start with no fighters
    assert bystanders(load_scenario("yemen_2015")) == ["AQAP", "Yemeni_government_forces"]


def test_loss_counts_each_bystander_s_continuation_as_an_observation():
    """A bystander within a third and three times its start over the continuation is met;
    outside, it costs like an unmet observation, more the further out (in log terms)."""
    from affiliate_sim.experiments import continuation
    from affiliate_sim.experiments.calibrate import DISTANCE_WEIGHT, HEADLINE_WEIGHT, loss
    from affiliate_sim.experiments.runs import CaseResult

    def run(end):
        f = np.array([[100.0, 50.0], [end, 50.0]], np.float32)
        return [CaseResult(scenario="c", seed=0, names=["a", "b"], camps=["AQ", "state"],
                           fighters=f, values={}, met={}, event_counts={})]
    held = {"c": ["a"]}
    kept, shares = loss([], {}, continued=run(120.0), bystanders=held)
    assert kept == 0.0 and shares == {"c": {"continued:a": 1.0}}
    assert loss([], {}, continued=run(34.0), bystanders=held)[0] == 0.0  # just inside
    drained, shares = loss([], {}, continued=run(10.0), bystanders=held)
    gap = (np.log(1 / 3) - np.log(0.1)) / (np.log(3) - np.log(1 / 3))
    assert continuation.gap(0.1) == pytest.approx(gap)
    assert drained == pytest.approx(1.0 + DISTANCE_WEIGHT * gap + HEADLINE_WEIGHT)
    assert shares == {"c": {"continued:a": 0.0}}
    # in log terms ten times the start is as far out as a tenth of it, thirty times further
    assert loss([], {}, continued=run(1000.0), bystanders=held)[0] == pytest.approx(drained)
    assert loss([], {}, continued=run(3000.0), bystanders=held)[0] > drained
    assert loss([], {}, continued=run(0.0), bystanders=held)[0] == pytest.approx(
        1.0 + DISTANCE_WEIGHT + HEADLINE_WEIGHT)


def test_cmaes_finds_a_minimum_within_its_budget_and_bounds():
    """The CMA-ES search the calibration uses, on a known function whose minimum lies on
    a bound in one coordinate: it finds it, spends at most its budget a generation at a
    time, and is deterministic."""
    from affiliate_sim.experiments.calibrate import _cmaes

    lo, hi = np.array([-2.0, 0.0, 1.0]), np.array([2.0, 4.0, 3.0])
    target = np.array([0.5, 4.0, 1.2])  # on the upper bound of the second coordinate

    def trace():
        seen, sizes = [], []

        def batch(xs):
            sizes.append(len(xs))
            seen.extend(np.array(x) for x in xs)
            return [float(np.sum((np.asarray(x) - target) ** 2)) for x in xs]
        _cmaes(batch, np.array([-1.5, 0.5, 2.8]), lo, hi, budget=300, popsize=10)
        return np.array(seen), sizes

    seen, sizes = trace()
    assert len(seen) <= 300 and set(sizes) == {10}
    best = seen[np.argmin(((seen - target) ** 2).sum(axis=1))]
    assert np.abs(best - target).max() < 0.05
    again, _ = trace()
    assert np.array_equal(seen, again)

    def first_generation(sigma):
        got = []

        def batch(xs):
            got.extend(np.array(x) for x in xs)
            return [0.0] * len(xs)
        _cmaes(batch, np.array([0.0, 2.0, 2.0]), lo, hi, budget=10, popsize=10, sigma=sigma)
        return np.array(got)

    # the first step is sigma of each bound's width
    narrow, wide = first_generation(0.02), first_generation(0.3)
    assert np.abs(narrow - [0.0, 2.0, 2.0]).max() < 0.02 * 4 * 4
    assert (wide.std(axis=0) / narrow.std(axis=0)).min() > 5


@pytest.mark.slow
def test_calibrate_command_cmaes(tmp_path):
    out = tmp_path / "cal.yaml"
    res = subprocess.run([str(BIN / "affiliate-calibrate"), "cases=[algeria_2014]", "seeds=1",
                          "method=cmaes", "popsize=4", "max_evaluations=9", "workers=1",
                          "continued=false", f"out={out}",
                          "free={combat_rate: [0.01, 0.1], raid_rate: [0.003, 0.05]}",
                          f"hydra.run.dir={tmp_path / 'h'}"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert "CMA-ES (cma)" in text and "9 evaluations" in text  # the start + two generations
    assert "continuation" not in text  # continued=false: the window's observations only
    Params.from_dict(yaml.safe_load(text) or {})


@pytest.mark.parametrize("overrides,words", [
    (["method=simplex"], ("method", "cmaes")),
    (["method=optimize", "popsize=8"], ("popsize", "cmaes")),
    (["method=cmaes", "sigma=0.9"], ("sigma", "(0, 0.5]")),
    (["method=cmaes", "sigma=zero"], ("sigma", "'zero'")),
    (["continued=maybe"], ("continued", "'maybe'")),
])
def test_bad_calibration_method(tmp_path, overrides, words):
    res = subprocess.run([str(BIN / "affiliate-calibrate"), *overrides,
                          f"hydra.run.dir={tmp_path / 'h'}"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert all(w in res.stderr for w in words) and "Traceback" not in res.stderr


@pytest.mark.slow
def test_crossval_command(tmp_path):
    """Leave-one-case-out: each case's score comes from a calibration without it."""
    out = tmp_path / "crossval.json"
    res = subprocess.run([str(BIN / "affiliate-calibrate"), "crossval=true",
                          "cases=[algeria_2014,murabitun_2015]", "seeds=1",
                          "max_evaluations=2", "replay_seeds=2", "workers=1", f"out={out}",
                          f"hydra.run.dir={tmp_path / 'h'}"],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    table = json.loads(out.read_text())
    assert set(table["cases"]) == {"algeria_2014", "murabitun_2015"}
    for case in table["cases"].values():
        assert case["informative"] == sum(v["informative"]
                                          for v in case["observations"].values())
        assert 0 <= case["met"] <= case["informative"]
        assert case["evaluations"] == 2
    assert table["settings"]["cases"] == ["algeria_2014", "murabitun_2015"]
    assert "left out" in res.stderr


def test_bad_replay_override(tmp_path):
    res = subprocess.run([str(BIN / "affiliate-replay"), "cases=[atlantis]",
                          f"out={tmp_path}"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert "atlantis" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow
def test_a_killed_calibration_resumes_to_the_same_result(tmp_path, monkeypatch):
    """The checkpoint answers the points a killed run evaluated; the search then goes on
    as an uninterrupted one would, to the same parameter set and history."""
    from affiliate_sim.experiments import calibrate as cal_mod
    from affiliate_sim.scenario.params import load_params

    start = load_params(None)
    args = dict(start=start, free={"combat_rate": (0.01, 0.1), "raid_rate": (0.003, 0.05)},
                cases=("algeria_2014",), seeds=1, max_evaluations=7, method="cmaes",
                popsize=2, continued=False)
    whole = cal_mod.calibrate(**args, log=lambda m: None)

    runs = []
    real = cal_mod.execute

    def counting(specs, **kw):
        runs.append(len(specs))
        return real(specs, **kw)

    monkeypatch.setattr(cal_mod, "execute", counting)
    ck = tmp_path / "cal.checkpoint.json"
    logs = []

    def dies_after_two_batches(msg):
        logs.append(msg)
        if sum("evaluation" in m for m in logs) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cal_mod.calibrate(**args, log=dies_after_two_batches, checkpoint=ck)
    assert runs == [2, 4] and ck.exists()  # the start, one generation of two (+ null model)
    runs.clear()
    logs.clear()
    resumed = cal_mod.calibrate(**args, log=logs.append, checkpoint=ck)
    assert runs == [4, 4]  # two generations left: the first three points not run again
    assert "resuming" in logs[0] and "3 evaluations on record" in logs[0]
    assert resumed.history == whole.history
    assert resumed.params == whole.params and resumed.loss_best == whole.loss_best
    # another setting: the checkpoint is not trusted
    runs.clear()
    cal_mod.calibrate(**{**args, "seeds": 2}, log=lambda m: None, checkpoint=ck)
    assert runs == [4, 8, 8, 8]


@pytest.mark.slow
def test_a_killed_crossval_keeps_its_finished_folds(tmp_path):
    out = tmp_path / "crossval.json"
    cmd = [str(BIN / "affiliate-calibrate"), "crossval=true",
           "cases=[algeria_2014,murabitun_2015]", "seeds=1", "max_evaluations=2",
           "replay_seeds=2", "workers=1", f"out={out}", f"hydra.run.dir={tmp_path / 'h'}"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    first = json.loads(out.read_text())
    # as if killed during the second fold: only the first on record
    partial = {**first, "cases": {"algeria_2014": first["cases"]["algeria_2014"]}}
    out.write_text(json.dumps(partial))
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    assert "algeria_2014 left out: on record" in res.stderr
    assert json.loads(out.read_text()) == first  # the same table, one fold not run again
    assert not list(tmp_path.glob("*.checkpoint.json"))
