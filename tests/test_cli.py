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
