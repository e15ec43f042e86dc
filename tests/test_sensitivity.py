"""Global sensitivity (`affiliate-sensitivity`): the methods recover known indices through
the project's own code path, the problem is checked data, the outcomes are what they say,
a killed run resumes, and bad input stops with one line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from affiliate_sim.errors import InputError
from affiliate_sim.experiments.sensitivity import (
    Morris,
    Problem,
    Sobol,
    evaluate_points,
    is_outcomes,
    problem,
    ranking,
)

EXE = Path(sys.executable).with_name("affiliate-sensitivity")
PI = math.pi


def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def test_sobol_recovers_the_ishigami_function_s_analytic_indices():
    # Ishigami and Homma (1990); analytic indices for a = 7, b = 0.1 (Saltelli et al. 2008)
    prob = Problem(("x1", "x2", "x3"), ((-PI, PI),) * 3, (False,) * 3)
    s = Sobol()
    X = s.sample(prob, 4096, seed=3)
    rows = {r["parameter"]: r for r in s.analyze(prob, X, ishigami(prob.natural(X)), seed=3)}
    for name, s1, st in (("x1", 0.3139, 0.5576), ("x2", 0.4424, 0.4424), ("x3", 0.0, 0.2437)):
        assert rows[name]["S1"] == pytest.approx(s1, abs=0.03), name
        assert rows[name]["ST"] == pytest.approx(st, abs=0.03), name
        assert 0.0 < rows[name]["ST_conf"] < 0.1
    # x3 acts only with x1: no first-order share, a clear total one
    assert rows["x3"]["ST"] - rows["x3"]["S1"] > 0.2
    # the bootstrap is seeded, seed 0 too (SALib takes 0 for no seed)
    Y = ishigami(prob.natural(X[:640]))
    assert s.analyze(prob, X[:640], Y, seed=0) == s.analyze(prob, X[:640], Y, seed=0)


def test_sobol_on_a_log_scaled_parameter_samples_its_range_geometrically():
    # y = log10(x) on [1, 1000]: uniform in log, so y is uniform on [0, 3] and explains all
    prob = Problem(("x", "z"), ((1.0, 1000.0), (0.0, 1.0)), (True, False))
    s = Sobol()
    X = s.sample(prob, 1024, seed=1)
    nat = prob.natural(X)
    assert nat[:, 0].min() >= 1.0 and nat[:, 0].max() <= 1000.0
    assert np.median(nat[:, 0]) == pytest.approx(math.sqrt(1000.0), rel=0.1)
    rows = {r["parameter"]: r for r in s.analyze(prob, X, np.log10(nat[:, 0]), seed=1)}
    assert rows["x"]["S1"] == pytest.approx(1.0, abs=0.03)
    assert abs(rows["z"]["ST"]) < 0.02


def test_sobol_indices_are_undefined_where_the_a_and_b_rows_do_not_vary():
    # SALib would return 0 for every index here, although the outcome varies
    prob = Problem(("x1", "x2"), ((0.0, 1.0),) * 2, (False, False))
    s = Sobol()
    X = s.sample(prob, 64, seed=2)
    Y = np.ones(len(X))
    Y[1::4] = np.linspace(0.0, 2.0, len(Y[1::4]))  # the AB rows of x1 vary
    rows = s.analyze(prob, X, Y, seed=2)
    assert all(math.isnan(r["S1"]) and math.isnan(r["ST"]) for r in rows)
    Y[0::4] = np.linspace(0.0, 1.0, len(Y[0::4]))  # once A varies, indices come back
    assert all(not math.isnan(r["ST"]) for r in s.analyze(prob, X, Y, seed=2))


def test_the_runner_maps_runs_back_to_points_cases_and_seeds(monkeypatch):
    from affiliate_sim.experiments import runs
    from affiliate_sim.experiments.sensitivity import CaseRunner
    from affiliate_sim.scenario.params import Params

    def fake(specs, workers=1, collect=None):
        alg = [s.scenario.name == "algeria_2014" for s in specs]
        return [{"is_left": s.params.combat_rate * (1 if a else 10),
                 "is_collapse_day": s.seed + (0 if a else 100),
                 "met": {"a": s.seed == 0, "b": True}} for s, a in zip(specs, alg)]

    monkeypatch.setattr(runs, "execute", fake)
    prob = Problem(("combat_rate",), ((0.01, 0.1),), (True,))
    runner = CaseRunner(prob, Params(), ["algeria_2014", "sinai_2015"], [0, 1],
                        {"algeria_2014": ["a"], "sinai_2015": ["b"]})
    cr = np.array([0.02, 0.05, 0.08])
    Y = runner(np.log(cr)[:, None])
    assert runner.columns[:3] == [("algeria_2014", o) for o in
                                  ("is_left", "is_collapse_day", "informative_met")]
    np.testing.assert_allclose(Y[:, 0], cr)
    np.testing.assert_allclose(Y[:, 1:3], [[0.5, 0.5]] * 3)
    np.testing.assert_allclose(Y[:, 3], 10 * cr)
    np.testing.assert_allclose(Y[:, 4:6], [[100.5, 1.0]] * 3)


def test_morris_ranks_a_planted_function():
    prob = Problem(("lin", "sq", "none"), ((0.0, 1.0),) * 3, (False,) * 3)
    m = Morris(levels=4)
    X = m.sample(prob, 20, seed=5)
    Y = 10.0 * X[:, 0] + 4.0 * X[:, 1] ** 2
    rows = {r["parameter"]: r for r in m.analyze(prob, X, Y, seed=5)}
    assert rows["lin"]["mu_star"] == pytest.approx(10.0)
    assert rows["lin"]["sigma"] == pytest.approx(0.0, abs=1e-9)  # linear: no spread
    assert 0.0 < rows["sq"]["mu_star"] < 10.0 and rows["sq"]["sigma"] > 0.0
    assert rows["none"]["mu_star"] == 0.0
    morris_rows = [{"case": "c", "outcome": "y", **r} for r in rows.values()]
    assert ranking(morris_rows) == ["lin", "sq", "none"]


def test_ranking_weighs_outcomes_of_different_units_alike():
    rows = [{"case": "a", "outcome": "day", "parameter": "p", "mu_star": 300.0},
            {"case": "a", "outcome": "day", "parameter": "q", "mu_star": 100.0},
            {"case": "a", "outcome": "share", "parameter": "p", "mu_star": 0.01},
            {"case": "a", "outcome": "share", "parameter": "q", "mu_star": 0.02},
            {"case": "a", "outcome": "share", "parameter": "r", "mu_star": 0.015}]
    assert ranking(rows) == ["p", "q", "r"]  # q leads its outcome, as p leads the other


TABLE = [{"name": "a", "lo": 0.0, "hi": 1.0}, {"name": "b", "lo": 0.0, "hi": 10.0},
         {"name": "c", "lo": 0.0, "hi": 5.0}, {"name": "d", "lo": 1.0, "hi": 100.0}]


def test_the_problem_is_checked_data():
    base = {"a": 0.8, "b": 0.0, "c": 2.0, "d": 3.0}
    prob = problem(base, TABLE, {"b": [0.0, 4.0]}, spread=2.0)
    assert prob.names == ("a", "b", "c", "d")
    assert prob.bounds == ((0.4, 1.0), (0.0, 4.0), (1.0, 4.0), (1.5, 6.0))  # a clipped at 1
    assert prob.log == (True, False, True, True)
    held = problem(base, TABLE, None, spread=2.0)
    assert "b" not in held.names  # base 0, no range: nothing to spread around
    for ranges, key, text in (({"e": [0, 1]}, "ranges.e", "unknown parameter"),
                              ({"c": [3.0, 1.0]}, "ranges.c", "low < high"),
                              ({"d": [0.5, 2.0]}, "ranges.d", "leaves the parameter's range")):
        with pytest.raises(InputError) as err:
            problem(base, TABLE, ranges, where="sensitivity.yaml")
        assert str(err.value).startswith(f"sensitivity.yaml: {key}: ") and text in str(err.value)
    with pytest.raises(InputError, match="spread"):
        problem(base, TABLE, None, spread=1.0)


def test_is_outcomes_read_the_peak_and_the_collapse():
    days = np.arange(11, dtype=float)
    fighters = np.stack([np.where(days <= 4, 100.0 + 25.0 * days, 200.0 - 40.0 * (days - 4)),
                         np.full(11, 50.0), np.zeros(11)], axis=1).clip(min=0.0)
    # IS camp: columns 0 and 2; the peak (200) on day 4; under 20 from day 9 (0)
    left, collapse = is_outcomes(fighters, ["IS", "state", "IS"])
    assert collapse == 9.0
    assert left == 0.0
    survivor = fighters.copy()
    survivor[5:, 0] = 150.0
    assert is_outcomes(survivor, ["IS", "state", "IS"]) == (0.75, 10.0)  # never: censored
    assert is_outcomes(fighters, ["AQ", "state", "state"]) == (0.0, 10.0)
    assert is_outcomes(fighters, ["state", "state", "IS"]) == (0.0, 10.0)  # never any


def test_a_killed_evaluation_resumes_from_its_checkpoint(tmp_path):
    X = np.arange(20, dtype=float).reshape(10, 2)
    calls = []

    def run(chunk):
        calls.append(len(chunk))
        return np.stack([chunk.sum(axis=1), chunk.prod(axis=1)], axis=1)

    def dies_after(n):
        def run_or_die(chunk):
            if len(calls) >= n:
                raise KeyboardInterrupt
            return run(chunk)
        return run_or_die

    ck = tmp_path / "ck.npz"
    seen = []
    with pytest.raises(KeyboardInterrupt):
        evaluate_points(X, dies_after(2), 2, ck, key="k", chunk=3,
                        progress=lambda d, n: seen.append(d))
    assert calls == [3, 3] and ck.exists()
    assert seen == [0, 3, 6]  # where it starts, then after each chunk
    calls.clear()
    seen.clear()
    Y = evaluate_points(X, run, 2, ck, key="k", chunk=3, progress=lambda d, n: seen.append(d))
    assert calls == [3, 1]  # only what the killed run had not finished
    assert seen == [6, 9, 10]
    np.testing.assert_array_equal(Y, run(X))
    calls.clear()
    evaluate_points(X, run, 2, ck, key="other settings", chunk=3)
    assert calls == [3, 3, 3, 1]  # a checkpoint of other settings is not trusted


def sens(*args, cwd=None):
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.parametrize("override,key,problem_text", [
    ("method=fast", "method", "must be one of morris, sobol, both"),
    ("levels=3", "levels", "must be even"),
    ("sobol_n=100", "sobol_n", "power of 2"),
    ("trajectories=1", "trajectories", "whole number >= 2"),
    ("spread=1", "spread", "above 1"),
    ("+ranges.no_such=[0,1]", "ranges.no_such", "unknown parameter"),
    ("+ranges.combat_rate=[0.5,0.1]", "ranges.combat_rate", "low < high"),
    ("+ranges.combat_rate=[0.1,9]", "ranges.combat_rate", "leaves the parameter's range"),
    ("cases=[nowhere]", "nowhere.yaml: scenario", "no such scenario file"),
    ("cases=[sinai_2015,sinai_2015]", "cases", "given twice"),
])
def test_bad_sensitivity_input_one_line(tmp_path, override, key, problem_text):
    res = sens(override, f"out={tmp_path}/s", f"hydra.run.dir={tmp_path}")
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("affiliate-sensitivity: error: ")
    assert key in err and problem_text in err
    assert "Traceback" not in res.stderr + res.stdout
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_the_command_writes_a_tidy_table_and_the_same_again(tmp_path):
    args = ["cases=[algeria_2014,sinai_2015]", "trajectories=2", "seeds=1", "sobol_n=4",
            "sobol_top=3", "workers=2"]
    res = sens(*args, f"out={tmp_path}/a", f"hydra.run.dir={tmp_path}/h")
    assert res.returncode == 0, res.stderr
    df = pd.read_parquet(tmp_path / "a" / "sensitivity.parquet")
    meta = json.loads((tmp_path / "a" / "sensitivity.json").read_text())
    n = len(meta["settings"]["problem"])
    assert n > 100  # every shared parameter with a scale
    morris = df[df.method == "morris"]
    assert len(morris) == n * 2 * 3  # parameters x cases x outcomes
    assert set(morris.outcome) == {"is_left", "is_collapse_day", "informative_met"}
    assert (morris.mu_star >= 0).all() and morris.mu_star.max() > 0
    sobol = df[df.method == "sobol"]
    assert sorted(set(sobol.parameter)) == sorted(meta["ranking"][:3])
    assert (tmp_path / "a" / "morris.png").stat().st_size > 0
    assert not list((tmp_path / "a").glob("*.checkpoint.npz"))  # finished: none left
    # same settings and seeds: the same table
    res = sens(*args, "workers=1", f"out={tmp_path}/b", f"hydra.run.dir={tmp_path}/h2")
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(df, pd.read_parquet(tmp_path / "b" / "sensitivity.parquet"))
