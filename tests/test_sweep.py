"""Sweeps from the command line: parallel jobs, one table, failures recorded, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from affiliate_sim.cli.main import sweep_variants
from affiliate_sim.experiments.sweep import FAIL_ENV, job_dir

BIN = Path(sys.executable).parent
SWEEP = ["scenario=derna_illustrative", "seed=range(0,4)", "days=60",
         "params.state_vigilance=0.2,0.8"]


def sweep(tmp: Path, *extra: str, env=None, **kw):
    return subprocess.run([str(BIN / "affiliate-sim"), "-m", *SWEEP, *extra,
                           f"hydra.sweep.dir={tmp}"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env or {})}, **kw)


def statuses(tmp: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(tmp.glob("*/status.json"))]


def test_job_dir_names():
    assert job_dir("scenario=a,seed=1") == "scenario=a,seed=1"
    assert job_dir("") == "defaults"
    long = job_dir("x=" + "y" * 300)
    assert len(long) <= 120 and long != job_dir("x=" + "y" * 299)
    assert "/" not in job_dir("params.a=1/2")


def test_sweep_variants_try_every_value():
    variants = sweep_variants(["days=range(5,8)", "params.state_vigilance=0.2,0.8", "seed=3"])
    assert len(variants) == 3
    assert {v for vs in variants for v in vs if v.startswith("days")} == {
        "days=5", "days=6", "days=7"}
    assert {v for vs in variants for v in vs if v.startswith("params")} == {
        "params.state_vigilance=0.2", "params.state_vigilance=0.8"}
    assert all("seed=3" in v for v in variants)


def test_sweep_variants_compose_one_plain_seed_but_every_doubtful_one():
    variants = sweep_variants(["seed=range(0,100)", "days=5"])
    assert variants == [["days=5", "seed=0"]]
    variants = sweep_variants(["seed=1,x,-2,4"])
    assert sorted(v[0] for v in variants) == ["seed=-2", "seed=1", "seed=x"]


@pytest.mark.parametrize("bad", ["seed=0,1,abc", "seed=2,-1"])
def test_a_bad_seed_in_a_sweep_stops_it(bad, tmp_path):
    res = subprocess.run([str(BIN / "affiliate-sim"), "-m", bad, "days=2",
                          f"hydra.sweep.dir={tmp_path / 's'}"], capture_output=True, text=True)
    assert res.returncode == 2 and "seed" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_parallel_sweep_table_and_determinism(tmp_path):
    par, ser = tmp_path / "joblib", tmp_path / "serial"
    res = sweep(par)
    assert res.returncode == 0, res.stderr
    done = statuses(par)
    assert len(done) == 8
    assert len({s["pid"] for s in done}) >= 2  # jobs ran in several worker processes
    table = pd.read_parquet(par / "sweep.parquet")
    assert len(table) == 8 and set(table.status) == {"done"}
    assert {"seed", "params.state_vigilance", "scenario", "IYSC.fighters_end",
             "camp:IS.fighters_end"} <= set(table.columns)
    # each row says where it comes from: the calibrated set, changed on the command line
    assert set(table.params_name) == {"calibrated+overrides"}
    assert table.groupby("params.state_vigilance").params_digest.nunique().eq(1).all()
    assert table.params_digest.nunique() == 2 and table.scenario_digest.nunique() == 1
    long = pd.read_parquet(par / "timeseries.parquet")
    assert len(long) == 8 * 61 * 5 and long.job.nunique() == 8
    # same seeds and config, serial launcher: identical results, job by job
    res = sweep(ser, "hydra/launcher=basic")
    assert res.returncode == 0, res.stderr
    for job in par.glob("*/timeseries.parquet"):
        assert job.read_bytes() == (ser / job.parent.name / job.name).read_bytes()


@pytest.mark.slow
def test_failed_job_is_recorded(tmp_path):
    res = sweep(tmp_path, env={FAIL_ENV: "seed=1"})
    assert res.returncode == 1, res.stderr  # the sweep finishes, and says it failed
    assert "2 of 8 jobs failed" in res.stderr and "Traceback" not in res.stderr
    table = pd.read_parquet(tmp_path / "sweep.parquet")
    assert len(table) == 8
    failed = table[table.status == "failed"]
    assert len(failed) == 2 and set(failed.seed) == {1}
    assert failed.error.str.contains("failure injected").all()
    assert (table[table.status != "failed"].status == "done").all()
    # a finished job's result corrupted afterwards: aggregation records it as failed and
    # still writes the table
    done = sorted(tmp_path.glob("*/summary.json"))[0]
    done.write_text(done.read_text()[:100])
    out = subprocess.run([str(BIN / "affiliate-aggregate"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "3 of 8 jobs failed" in out.stderr
    assert "Traceback" not in out.stderr
    again = pd.read_parquet(tmp_path / "sweep.parquet")
    bad = again[again.job == done.parent.name]
    assert bad.status.item() == "failed" and "unreadable result" in bad.error.item()


@pytest.mark.slow
def test_interrupted_sweep_resumes(tmp_path):
    args = [str(BIN / "affiliate-sim"), "-m", "scenario=derna_illustrative",
            "seed=range(0,12)", "days=300", "hydra/launcher=basic",
            f"hydra.sweep.dir={tmp_path}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while len(list(tmp_path.glob("*/summary.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.parent.name: (p.stat().st_mtime_ns, p.read_bytes())
                for p in tmp_path.glob("*/summary.json")}
    assert 3 <= len(finished) < 12
    res = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    table = pd.read_parquet(tmp_path / "sweep.parquet")
    assert len(table) == 12 and table.job.is_unique and set(table.status) == {"done"}
    for name, (mtime, data) in finished.items():  # finished results untouched
        p = tmp_path / name / "summary.json"
        assert p.stat().st_mtime_ns == mtime and p.read_bytes() == data
    # aggregating again on demand gives the same table
    before = table.sort_values("job").reset_index(drop=True)
    out = subprocess.run([str(BIN / "affiliate-aggregate"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    again = pd.read_parquet(tmp_path / "sweep.parquet").sort_values("job").reset_index(
        drop=True)
    pd.testing.assert_frame_equal(before, again)


@pytest.mark.parametrize("override,key", [
    ("params.state_vigilance=0.2,7", "params.state_vigilance"),
    ("seed=abc", "seed"),
    ("scenario=derna_illustrative,nope", "scenario"),
])
def test_bad_sweep_stops_before_any_job(tmp_path, override, key):
    out = tmp_path / "sweep"
    res = subprocess.run([str(BIN / "affiliate-sim"), "-m", "seed=range(0,2)", override,
                          f"hydra.sweep.dir={out}"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert f"override: {key}: " in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_job_count_includes_preset_and_command_line():
    from omegaconf import OmegaConf

    from affiliate_sim.cli.sweep_callback import count_jobs, sweep_overrides

    cfg = OmegaConf.create({"hydra": {
        "sweeper": {"params": {"scenario": "algeria_2014,imu_2015", "lever": "glob(*)",
                               "seed": "range(0,10)"}},
        "overrides": {"task": ["seed=0", "days=30"]}}})
    overrides = sweep_overrides(cfg)
    assert "seed=0" in overrides and "seed=range(0,10)" not in overrides
    assert count_jobs(overrides) == 2 * 8  # 2 scenarios x 8 levers x 1 seed


@pytest.mark.slow
def test_policy_preset_one_row_per_job(tmp_path):
    res = subprocess.run([str(BIN / "affiliate-sim"), "-m", "+sweep=policy_levers", "seed=0",
                          "days=20", "scenario=derna_2014,yemen_2015",
                          f"hydra.sweep.dir={tmp_path}"], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    table = pd.read_parquet(tmp_path / "sweep.parquet")
    assert len(table) == 2 * 8 and set(table.status) == {"done"}
    assert set(table.lever) >= {"none", "counter_messaging", "purge_capacity_high"}


def test_a_bad_value_in_a_preset_stops_the_sweep_before_any_job(tmp_path, monkeypatch, capsys):
    """Hydra's own per-job check is off (conf/hydra/sweeper/checked.yaml): affiliate-sim
    checks the values a preset sweeps before the sweep starts."""
    import shutil

    from affiliate_sim.cli import config as appconfig
    from affiliate_sim.cli import main as cli

    conf = tmp_path / "conf"
    shutil.copytree(appconfig.CONF_DIR, conf)
    (conf / "sweep" / "bad.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n"
        "      params.state_vigilance: 0.5,7.0\n      seed: range(0,3)\n")
    monkeypatch.setattr(appconfig, "CONF_DIR", conf)
    assert cli.preset_sweep(["+sweep=bad", "seed=1"]) == ["params.state_vigilance=0.5,7.0"]
    assert cli.preset_sweep(["seed=1"]) == []
    with pytest.raises(SystemExit) as exc:
        cli._guarded("affiliate-sim", appconfig.PRIMARY, appconfig.validate,
                     lambda: pytest.fail("the sweep started"),
                     ["-m", "+sweep=bad", "scenario=derna_2014",
                      f"hydra.sweep.dir={tmp_path / 's'}"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "params.state_vigilance" in err and "7.0" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_notebook_lever_sweep_rows_equal_the_command_line_sweep(tmp_path):
    """compose.lever_sweep (notebooks) and `affiliate-sim -m` give the same row per job."""
    from affiliate_sim.cli import compose

    levers = ["none", "state_vigilance_high"]
    res = subprocess.run([str(BIN / "affiliate-sim"), "-m", "scenario=derna_2014",
                          f"lever={','.join(levers)}", "seed=0,1", "params=calibrated",
                          "days=40", "hydra/launcher=basic", f"hydra.sweep.dir={tmp_path}"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    cli = pd.read_parquet(tmp_path / "sweep.parquet").sort_values(["lever", "seed"])
    nb = compose.lever_sweep(["derna_2014"], levers, seeds=[0, 1], workers=1, days=40)
    nb = nb.sort_values(["lever", "seed"])
    metrics = [c for c in nb.columns if "." in c and not c.startswith("params.")]
    assert len(metrics) > 40 and set(metrics) <= set(cli.columns)
    pd.testing.assert_frame_equal(cli[metrics].reset_index(drop=True),
                                  nb[metrics].reset_index(drop=True))
    # and the lever made a difference (same seed), so the comparison is not vacuous
    a, b = (nb[(nb.lever == lv) & (nb.seed == 0)][metrics].iloc[0] for lv in levers)
    assert not a.equals(b)


def test_sweeps_use_the_checked_sweeper_in_batches():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.plugins import Plugins

    from affiliate_sim.cli import config as appconfig

    appconfig.register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(appconfig.CONF_DIR), version_base="1.3"):
            cfg = compose(config_name=appconfig.PRIMARY, return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_ == "hydra_plugins.affiliate_sim_sweeper.CheckedSweeper"
    assert sweeper.max_batch_size == 48
    # Hydra can find and build it (plugins must live in the hydra_plugins namespace)
    from hydra_plugins.affiliate_sim_sweeper import CheckedSweeper

    assert CheckedSweeper in Plugins.instance().discover()
    assert CheckedSweeper(max_batch_size=2).validate_batch_is_legal([["seed=x"]]) is None


def test_jobs_differing_only_in_seed_and_parameters_share_an_ensemble():
    from hydra_plugins.affiliate_sim_sweeper import plan_groups

    jobs = [[f"scenario={c}", f"seed={s}", f"params.x={v}", "days=5"]
            for c in ("a", "b") for v in (1, 2) for s in range(3)]
    jobs.append(["scenario=a", "seed=0", "params.x=1", "days=6"])  # another length
    groups = plan_groups(jobs, cores=2, ensemble=64)
    assert sorted(len(g) for g in groups) == [1, 6, 6]  # three groups: enough for 2 cores
    for g in groups:  # one scenario and length per group; every job exactly once
        assert len({(m[0], m[3]) for m in g}) == 1
    assert sorted(map(tuple, (m for g in groups for m in g))) == sorted(map(tuple, jobs))
    # one group and 2 cores: cut in two; a large group: ensembles of at most 64
    assert sorted(len(g) for g in plan_groups(jobs[:6], cores=2, ensemble=64)) == [3, 3]
    big = [["scenario=a", f"seed={s}"] for s in range(200)]
    assert sorted(len(g) for g in plan_groups(big, cores=2, ensemble=64)) == [50] * 4


def test_member_folders_are_named_as_hydra_names_jobs():
    from hydra._internal.config_loader_impl import get_overrides_dirname
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from affiliate_sim.experiments.sweep import override_dirname

    for job in (["seed=3", "scenario=derna_2014", "params.state_vigilance=0.2"],
                ["+sweep=policy_levers", "lever=none", "seed=0", "group=abc"],
                ["scenario=a", "mechanisms=without_purge", "days=10"]):
        parsed = OverridesParser.create().parse_overrides(job)
        assert override_dirname(job) == get_overrides_dirname(
            parsed, exclude_keys=["group"], item_sep=",", kv_sep="=")
