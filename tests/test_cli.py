"""The `affiliate-sim` command: outputs, determinism, bad overrides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXE = Path(sys.executable).with_name("affiliate-sim")


def cli(*args, cwd=None):
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    res = cli("scenario=derna_illustrative", "seed=4", "days=200", f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr
    return out


def test_outputs(run_dir):
    summ = json.loads((run_dir / "summary.json").read_text())
    assert summ["scenario"] == "derna_illustrative" and summ["seed"] == 4
    assert summ["days"] == 200
    iysc = summ["organizations"]["IYSC"]
    for key in ("fighters_start", "fighters_end", "fighters_peak", "cells_held_end", "flows"):
        assert key in iysc
    assert set(iysc["flows"]) >= {"killed", "detained", "surrendered", "defected_out",
                                  "defected_in", "fled", "deserted", "recruited_local",
                                  "recruited_foreign"}
    assert iysc["fighters_start"] == 800
    assert any(e["kind"] == "pledge" for e in summ["events"])
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert len(ts) == 201 * 5
    assert {"day", "organization", "fighters", "cells_held", "killed"} <= set(ts.columns)
    last = ts[(ts.day == 200) & (ts.organization == "IYSC")]
    assert last.fighters.item() == pytest.approx(iysc["fighters_end"])
    flows = pd.read_parquet(run_dir / "flows.parquet")
    assert set(flows.flow) <= {"killed", "detained", "surrendered", "defected"}
    killed = flows[(flows.flow == "killed") & (flows.organization == "IYSC")].fighters.sum()
    assert killed == pytest.approx(iysc["flows"]["killed"])


def test_a_run_records_where_it_comes_from(run_dir, tmp_path):
    """By default a run uses the calibrated set and says so; its summary records the
    version, the commit, the parameter set's name and digest and the scenario file's
    digest; its files are readable by others as a plain open would leave them."""
    import hashlib
    import stat

    from affiliate_sim.experiments.output import FILE_MODE
    from affiliate_sim.paths import CALIBRATED, SCENARIO_DIR
    from affiliate_sim.provenance import digest
    from affiliate_sim.scenario.params import load_params

    prov = json.loads((run_dir / "summary.json").read_text())["provenance"]
    assert prov["params"] == {"name": "calibrated",
                              "digest": digest(load_params(CALIBRATED).to_dict())}
    [sc] = prov["scenarios"]
    data = (SCENARIO_DIR / "derna_illustrative.yaml").read_bytes()
    assert sc["digest"] == hashlib.sha256(data).hexdigest()[:16]
    assert prov["version"] and (prov["commit"] is None or len(prov["commit"]) >= 40)
    for f in ("summary.json", "timeseries.parquet", "flows.parquet", "events.json"):
        assert stat.S_IMODE((run_dir / f).stat().st_mode) == FILE_MODE
    res = cli("scenario=derna_illustrative", "days=5", "params=default",
              "params.combat_rate=0.05", f"hydra.run.dir={tmp_path}")
    assert res.returncode == 0, res.stderr
    assert "params=default+overrides" in res.stdout
    other = json.loads((tmp_path / "summary.json").read_text())["provenance"]["params"]
    assert other["name"] == "default+overrides" and other["digest"] != prov["params"]["digest"]


def test_same_seed_identical_parquet(run_dir, tmp_path):
    res = cli("scenario=derna_illustrative", "seed=4", "days=200", f"hydra.run.dir={tmp_path}")
    assert res.returncode == 0, res.stderr
    a = (run_dir / "timeseries.parquet").read_bytes()
    b = (tmp_path / "timeseries.parquet").read_bytes()
    assert a == b


@pytest.mark.parametrize("override,key,problem", [
    ("scenario=nope", "scenario", "no scenario named 'nope'"),
    ("seed=abc", "seed", "could not be converted to Integer"),
    ("params.no_such=1", "params.no_such", "unknown key"),
    ("params.combat_rate=9", "params.combat_rate", "out of range"),
    ("params.purge_rate=abc", "params.purge_rate", "could not be converted"),
    ("mechanisms.purge=maybe", "mechanisms.purge", "not a valid bool"),
    ("days=0", "days", "must be a whole number >= 1"),
    ("nonsense", "nonsense", "cannot parse"),
    ("+foo=1", "foo", "unknown key"),
    ("days=100001", "days", "must be at most 100000"),
    ("+params.estimates.derna_illustrative.Nobody.fighters=5",
     "params.estimates.derna_illustrative.Nobody", "no organization named 'Nobody'"),
    ("+params.estimates.derna_illustrative.IYSC.strength=5",
     "params.estimates.derna_illustrative.IYSC.strength", "not a field"),
    ("+params.estimates.derna_illustrative.IYSC.cohesion=1.5",
     "params.estimates.derna_illustrative.IYSC.cohesion", "out of range [0.0, 1.0]"),
    ("+params.estimates.derna_illustrative.IS_core.fighters=10",
     "params.estimates.derna_illustrative.IS_core.fighters", "starts with fighters"),
])
def test_bad_override_one_line(tmp_path, override, key, problem):
    res = cli(override, f"hydra.run.dir={tmp_path}")
    assert res.returncode == 2
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"affiliate-sim: error: override: {key}: ")
    assert problem in err
    assert "Traceback" not in res.stderr + res.stdout
    assert not (tmp_path / "summary.json").exists()


def test_a_scenario_of_ones_own_from_template_to_run(tmp_path):
    """new-scenario writes a template that validates and runs as it is, given as
    scenario=PATH; its outputs go to a folder named after the file."""
    res = cli("new-scenario", "my_case", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "my_case.yaml").is_file()
    again = cli("new-scenario", "my_case", cwd=tmp_path)
    assert again.returncode == 2 and "exists (not overwritten)" in again.stderr
    ok = cli("validate", "my_case.yaml", "sinai_2015", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count(": ok: ") == 2
    run = cli("scenario=my_case.yaml", "days=20", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    summ = json.loads((tmp_path / "outputs" / "my_case" / "seed0" / "summary.json").read_text())
    assert summ["scenario"] == "my_case" and summ["days"] == 20
    assert summ["provenance"]["scenarios"][0]["file"] == str(tmp_path / "my_case.yaml")


def test_validate_lists_every_problem_one_line_each(tmp_path):
    good = cli("new-scenario", "case_a", cwd=tmp_path)
    assert good.returncode == 0
    text = (tmp_path / "case_a.yaml").read_text()
    bad = (text.replace("fighters: 300 ", "fighters: -300 ")
           .replace("kind: pledge\n", "kind: pledgee\n")
           .replace("vigilance: 1.0 ", "vigilance: 7 "))
    (tmp_path / "bad.yaml").write_text(bad)
    (tmp_path / "dup.yaml").write_text(text + "days: 30\n")
    res = cli("validate", "bad.yaml", "dup.yaml", "case_a.yaml", "nothing.yaml", cwd=tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert "Traceback" not in res.stderr
    assert [ln.split(": ")[2] for ln in lines[:-1]] == [
        "organizations[1].fighters", "organizations[3].vigilance", "inputs[0].kind",
        "yaml", "scenario"]
    assert "duplicate key 'days'" in lines[3]
    assert lines[-1].endswith("3 of 4 files have problems")
    assert "case_a.yaml: ok: case_a" in res.stdout


def test_list_what_exists():
    res = cli("list", "mechanisms")
    assert res.returncode == 0
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 10 and lines[0].startswith("pledge ") and "Mechanism 1" in lines[0]
    every = cli("list")
    assert every.returncode == 0
    assert {"scenarios:", "params:", "levers:", "mechanisms:"} <= set(every.stdout.splitlines())
    assert any(ln.split()[:2] == ["sinai_2015", "case"] for ln in every.stdout.splitlines())
    assert any(ln.split()[:1] == ["calibrated"] for ln in every.stdout.splitlines())
    bad = cli("list", "bogus")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_a_run_shorter_than_an_observation_window_is_flagged(tmp_path):
    res = cli("scenario=sinai_2015", "days=5", f"hydra.run.dir={tmp_path}")
    assert res.returncode == 0, res.stderr
    [warning] = [ln for ln in res.stderr.splitlines() if "warning" in ln]
    assert "runs 5 days, before the end of the window of 5 observations" in warning
    full = cli("scenario=sinai_2015", "days=420", f"hydra.run.dir={tmp_path}/full")
    assert full.returncode == 0 and "warning" not in full.stderr  # the case's own length
