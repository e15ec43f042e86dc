"""Bayesian calibration (`affiliate-calibrate method=abc`): ABC-SMC through the project's
own code path (the batch sampler, the priors' scale, the distance, the summaries) recovers
a known posterior, keeps identified and unidentified parameters apart, resumes after a
kill to the same population, and writes a posterior that the replay draws from."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from affiliate_sim.errors import InputError
from affiliate_sim.experiments.abcsmc import (
    GAP_CAP,
    MIN_BATCH,
    Bound,
    Target,
    error_scale,
    read_table,
    run_abc,
    weighted_quantile,
)
from affiliate_sim.scenario import load_scenario
from affiliate_sim.scenario.params import Params, load_params

BIN = Path(sys.executable).parent

#: A model with a known posterior: y = theta + N(0, 1) noise; the article says y = 1.
TOY = '''
import numpy as np

def toy(points, seeds, calls=None, pause=0.0):
    import time
    if calls is not None:
        calls.append(len(points))
    time.sleep(pause)
    return [{"y": p["theta"] + np.random.default_rng(s).normal(), "other": 0.0}
            for p, s in zip(points, seeds)]
'''
namespace: dict = {}
exec(TOY, namespace)  # noqa: S102 (the same toy, here and in the killed subprocess)
toy = namespace["toy"]
TARGETS = [Target("y", 1.0, 1.0, 1.0)]
BOUNDS = {"theta": Bound(-5.0, 5.0, False), "noise": Bound(0.1, 10.0, True)}


def test_abc_recovers_a_known_posterior_and_runs_particles_in_batches(tmp_path):
    calls: list[int] = []
    post = run_abc(lambda p, s: toy(p, s, calls), TARGETS, BOUNDS, population=400,
                   generations=6, quantile=0.5, db=tmp_path / "toy.db", seed=1,
                   log=lambda m: None)
    theta = post.values[:, 0]
    mean = float(np.sum(post.weights * theta))
    sd = float(np.sqrt(np.sum(post.weights * (theta - mean) ** 2)))
    # the exact posterior is N(1, 1) (the uniform prior's truncation is negligible); ABC's
    # last tolerance (a few tenths) widens it by about eps^2 / 3
    assert abs(mean - 1.0) < 0.2, mean
    assert 0.8 < sd < 1.3, sd
    rows = {r["parameter"]: r for r in post.summary()}
    assert rows["theta"]["contraction"] > 0.8  # identified
    assert abs(rows["noise"]["contraction"]) < 0.25  # the data say nothing of it
    assert rows["noise"]["q05"] < 0.2 and rows["noise"]["q95"] > 5.0  # its prior's range
    assert len(post.generations) == 6 and post.generations[0]["evaluations"] == 400
    eps = [g["epsilon"] for g in post.generations[1:]]
    assert all(b < a for a, b in zip(eps, eps[1:], strict=False))  # the tolerance shrinks
    # particles are evaluated together: few calls, each a batch
    n = sum(g["evaluations"] for g in post.generations)
    assert sum(calls) >= n and len(calls) < n / 50
    assert max(calls) >= MIN_BATCH
    # the weights are spread (not collapsed onto a few particles)
    assert 1.0 / np.sum(post.weights ** 2) > 0.3 * 400


def test_the_weighted_quantile_and_the_error_scale():
    assert weighted_quantile([1, 2, 3, 4], [0, 0, 1, 0], [0.05, 0.5, 0.95]) == \
        pytest.approx([3.0, 3.0, 3.0])
    assert weighted_quantile([3, 1, 2], [1, 1, 1], 0.5) == pytest.approx(2.0)
    sc = {o.id: o for o in load_scenario("algeria_2014").observations}
    assert error_scale(sc["remnant_by_early_2016"]) == 3.0  # its tolerance
    assert error_scale(sc["emir_killed_within_months"]) == pytest.approx(13.0)  # 10% of 130
    assert error_scale(sc["two_emirs_killed"]) == 1.0  # at least one unit
    assert error_scale(sc["state_main_killer"]) == pytest.approx(0.06)  # a share
    t = Target("x", 2.0, 4.0, 0.5)
    assert t.gap(3.0) == 0.0 and t.gap(5.0) == pytest.approx(2.0)
    assert t.signed_gap(1.0) == pytest.approx(-2.0) and t.gap(float("nan")) == GAP_CAP
    assert t.gap(1e9) == GAP_CAP


KILLED = TOY + '''
import sys
from pathlib import Path
from affiliate_sim.experiments.abcsmc import Bound, Target, run_abc
post = run_abc(lambda p, s: toy(p, s, pause=0.4), [Target("y", 1.0, 1.0, 1.0)],
               {"theta": Bound(-5.0, 5.0, False), "noise": Bound(0.1, 10.0, True)},
               population=150, generations=5, quantile=0.5, db=Path(sys.argv[1]), seed=7,
               log=lambda m: None)
'''


def _generations_on_record(db: Path) -> int:
    try:
        with sqlite3.connect(db) as con:
            return con.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_killed_calibration_resumes_from_its_database(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(KILLED, encoding="utf-8")
    db = tmp_path / "killed.db"
    proc = subprocess.Popen([sys.executable, str(script), str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while _generations_on_record(db) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, "finished before it could be killed"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _generations_on_record(db)
    assert 2 <= done < 5
    args = dict(population=150, generations=5, quantile=0.5, seed=7, log=lambda m: None)
    resumed = run_abc(lambda p, s: toy(p, s), TARGETS, BOUNDS, db=db, **args)
    assert resumed.resumed_from == done
    whole = run_abc(lambda p, s: toy(p, s), TARGETS, BOUNDS, db=tmp_path / "whole.db", **args)
    assert whole.resumed_from == 0
    np.testing.assert_array_equal(resumed.values, whole.values)
    np.testing.assert_array_equal(resumed.weights, whole.weights)
    assert [g["epsilon"] for g in resumed.generations] == \
        [g["epsilon"] for g in whole.generations]
    # other settings: the database is set aside, not resumed
    other = run_abc(lambda p, s: toy(p, s), TARGETS, BOUNDS, db=db,
                    **{**args, "seed": 8, "generations": 2})
    assert other.resumed_from == 0
    assert list(tmp_path.glob("killed.db.stale-*"))


def test_a_posterior_table_is_checked_and_drawn_by_weight(tmp_path):
    good = tmp_path / "p.csv"
    pd.DataFrame({"weight": [0.0, 1.0, 3.0], "combat_rate": [0.02, 0.04, 0.08]}).to_csv(good, index=False)
    table = read_table(good, Params())
    draws = table.draw(range(400))
    rates = [p.combat_rate for p in draws]
    assert 0.02 not in rates  # weight 0: never drawn
    assert 0.6 < rates.count(0.08) / 400 < 0.9  # 3 to 1
    assert [p.combat_rate for p in table.draw(range(10))] == rates[:10]  # seed by seed
    assert draws[0].purge_rate == Params().purge_rate  # the rest from the point set
    # a case's estimate is drawn with the particle, into that case's estimates
    est = tmp_path / "e.csv"
    pd.DataFrame({"weight": [1.0, 1.0], "combat_rate": [0.02, 0.04],
                  "estimates.sinai_2015.Wilayat_Sinai.fighters": [600.0, 1800.0]}).to_csv(
        est, index=False)
    pairs = {(p.combat_rate, p.estimates["sinai_2015"]["Wilayat_Sinai"]["fighters"])
             for p in read_table(est, Params()).draw(range(40))}
    assert pairs == {(0.02, 600.0), (0.04, 1800.0)}
    for frame, text in [
        ({"combat_rate": [0.02]}, "not a posterior table"),
        ({"weight": [1.0], "no_such": [1.0]}, "unknown: no_such"),
        ({"weight": [-1.0], "combat_rate": [0.02]}, "weights must be"),
        ({"weight": [1.0], "combat_rate": [9.0]}, "outside the range"),
        ({"weight": [1.0], "estimates.sinai_2015.Wilayat_Sinai.brains": [1.0]},
         "unknown: estimates.sinai_2015.Wilayat_Sinai.brains"),
        ({"weight": [1.0], "estimates.sinai_2015.Wilayat_Sinai.cohesion": [1.5]},
         "outside the range"),
    ]:
        bad = tmp_path / "bad.csv"
        pd.DataFrame(frame).to_csv(bad, index=False)
        with pytest.raises(InputError, match=text):
            read_table(bad, Params())


def test_the_predictive_interval_counts_unmeasured_seeds_as_outside():
    from affiliate_sim.experiments.replay import summarize
    from affiliate_sim.experiments.runs import CaseResult

    obs = [o for o in load_scenario("algeria_2014").observations
           if o.id == "two_emirs_killed"]  # exactly 2

    def runs(values):
        return [CaseResult("algeria_2014", k, [], [], np.zeros((1, 0)),
                           {"two_emirs_killed": v}, {"two_emirs_killed": v == 2.0}, {})
                for k, v in enumerate(values)]

    inside = summarize(runs([2.0] * 20), obs)["two_emirs_killed"]
    assert inside["covers"] and inside["predictive"] == [2.0, 2.0]
    assert inside["gap_q05"] == inside["gap_q95"] == 0.0 and inside["unmeasured"] == 0.0
    above = summarize(runs([2.0] + [5.0] * 19), obs)["two_emirs_killed"]
    assert not above["covers"] and 2.5 < above["gap_q05"] <= 3.0  # one seed in 20 is not 5%
    spread = summarize(runs([1.0] * 10 + [3.0] * 10), obs)["two_emirs_killed"]
    assert spread["covers"] and spread["share_met"] == 0.0  # reaches it, never meets it
    # measured in one seed of 20 (and met there): the interval of the measured values alone
    # would be [2, 2]; counting the others as far outside, it does not reach the target
    mostly_nan = summarize(runs([2.0] + [float("nan")] * 19), obs)["two_emirs_killed"]
    assert mostly_nan["predictive"] == [2.0, 2.0]
    assert mostly_nan["unmeasured"] == pytest.approx(0.95)
    assert not mostly_nan["covers"] and mostly_nan["gap_q95"] == GAP_CAP


def calibrate(*args, cwd=None):
    return subprocess.run([str(BIN / "affiliate-calibrate"), *args], capture_output=True,
                          text=True, timeout=900, cwd=cwd)


@pytest.mark.parametrize("override,key,text", [
    ("quantile=1.5", "quantile", "must be a number in (0, 1)"),
    ("population=3", "population", "whole number >= 10"),
    ("generations=0", "generations", "whole number >= 1"),
    ("+abc_free.no_such=[0,1]", "abc_free.no_such", "unknown parameter"),
    ("+abc_free.combat_rate=[0.2,0.1]", "abc_free.combat_rate", "low < high"),
    ("crossval=true", "crossval", "applies to method=optimize or cmaes only"),
    ("cluster=somewhere", "cluster", "tcp://HOST:PORT"),
])
def test_bad_abc_input_one_line(tmp_path, override, key, text):
    res = calibrate("method=abc", override, f"out={tmp_path}/p.yaml",
                    f"report={tmp_path}/r", f"db={tmp_path}/a.db", f"hydra.run.dir={tmp_path}")
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"affiliate-calibrate: error: override: {key}: ") and text in err
    assert "Traceback" not in res.stderr + res.stdout
    assert not (tmp_path / "p.yaml").exists() and not (tmp_path / "a.db").exists()


@pytest.mark.slow
def test_the_command_writes_a_posterior_that_the_replay_draws_from(tmp_path):
    small = ["method=abc", "params=calibrated", "cases=[yemen_2015]", "population=24",
             "generations=2", "workers=2", "~abc_free", "abc_estimates=1", "screen_seeds=4",
             "+abc_free={combat_rate:[0.01,0.15],stay_bias:[1.5,6.0]}", f"db={tmp_path}/abc.db"]
    res = calibrate(*small, f"out={tmp_path}/post.yaml", f"report={tmp_path}/rep",
                    f"hydra.run.dir={tmp_path}/h")
    assert res.returncode == 0, res.stderr
    assert "2 generations of 24 (" in res.stdout
    table = pd.read_csv(tmp_path / "post" / "particles.csv")
    # the case's estimate with the largest effect on its distance (screened) gets a
    # prior over the range its file declares: the grievance built up before day 0
    grievance = "estimates.yemen_2015.IS_Yemen.grievance"
    assert "priors over 1 estimates of the cases: yemen_2015.IS_Yemen.grievance" in res.stderr
    assert list(table.columns) == ["weight", "combat_rate", "stay_bias", grievance]
    assert len(table) == 24 and table[grievance].between(0.2, 0.6).all()
    assert table.weight.sum() == pytest.approx(1.0)
    assert table.combat_rate.between(0.01, 0.15).all()
    summary = json.loads((tmp_path / "rep" / "posterior.json").read_text())
    assert [r["parameter"] for r in summary["parameters"]] == ["combat_rate", "stay_bias",
                                                                grievance]
    screening = {r["name"]: r for r in summary["screening"]}
    assert len(screening) == 10 and screening[grievance]["effect"] == max(
        r["effect"] for r in screening.values())
    assert (tmp_path / "rep" / "marginals.png").stat().st_size > 0
    text = (tmp_path / "post.yaml").read_text()
    assert f"posterior: {tmp_path / 'post' / 'particles.csv'}" in text
    point = load_params(tmp_path / "post.yaml")  # the medians, the estimate's too
    assert 0.2 <= point.estimates["yemen_2015"]["IS_Yemen"]["grievance"] <= 0.6
    # run again: resumed from the database, the same particles
    res = calibrate(*small, f"out={tmp_path}/again.yaml", f"report={tmp_path}/rep2",
                    f"hydra.run.dir={tmp_path}/h2")
    assert res.returncode == 0, res.stderr
    assert "resuming" in res.stderr
    pd.testing.assert_frame_equal(table, pd.read_csv(tmp_path / "again" / "particles.csv"))
    # the posterior predictive replay draws one particle per seed
    rep = subprocess.run([str(BIN / "affiliate-replay"), "params=calibrated",
                          f"params.posterior={tmp_path / 'post' / 'particles.csv'}",
                          "cases=[yemen_2015]", "seeds=4", "knockout_seeds=0",
                          "continuation_seeds=0", f"out={tmp_path}/replay",
                          f"hydra.run.dir={tmp_path}/h3"],
                         capture_output=True, text=True, timeout=600)
    assert rep.returncode == 0, rep.stderr
    assert "parameters drawn from the posterior" in rep.stdout
    out = json.loads((tmp_path / "replay" / "replay.json").read_text())["yemen_2015"]
    for v in out.values():
        if v["predictive"] is not None:
            lo, hi = v["predictive"]
            assert lo <= hi
        assert v["covers"] == (v["gap_q05"] <= 0.0 <= v["gap_q95"])
    assert "drawn for each seed from the posterior" in \
        (tmp_path / "replay" / "report.md").read_text()
    bad = subprocess.run([str(BIN / "affiliate-replay"),
                          f"params.posterior={tmp_path / 'nothing.csv'}",
                          f"out={tmp_path}/r2", f"hydra.run.dir={tmp_path}/h4"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no posterior table" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
