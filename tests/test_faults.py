"""Faults: full and read-only output folders, runs too large for this machine, sweeps of
too many jobs.

A full or read-only folder is simulated by ``AFFILIATE_SIM_FAIL_WRITES``
(:mod:`affiliate_sim.experiments.faults`): a small tmpfs would need root, and root ignores
file permissions (these tests may run as root).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from affiliate_sim.experiments import budget
from affiliate_sim.experiments.faults import ENV as FAIL_WRITES

BIN = Path(sys.executable).parent
JOBS = ["scenario=derna_illustrative", "days=3"]


def sweep(folder: Path, *extra: str, env=None):
    return subprocess.run([str(BIN / "affiliate-sim"), "-m", *JOBS, *extra,
                           f"hydra.sweep.dir={folder}"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env or {})})


def files(folder: Path) -> dict[str, bytes]:
    """A sweep folder's results (not Hydra's own records, which it writes itself)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".hydra" not in p.parts and p.suffix != ".log"
            and p.name != "multirun.yaml"}


@pytest.mark.slow
def test_a_folder_that_fills_up_records_failed_jobs_and_writes_the_table(tmp_path):
    """Every process's writes fail after its first six (a job's status and four results,
    and its end): on two parallel workers, the first job of each is done and later ones
    fail (recorded, the sweep goes on), whatever the grouping this machine's cores give;
    the driver still writes the table, with every job, and the command exits 1."""
    res = sweep(tmp_path, "seed=0,1,2,3", "hydra.launcher.n_jobs=2",
                env={FAIL_WRITES: "6"})
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    assert res.returncode == 1, res.stderr
    table = pd.read_parquet(tmp_path / "sweep.parquet")
    assert len(table) == 4
    failed = table[table.status == "failed"]
    assert 1 <= len(failed) <= 3 and (table.status == "done").sum() == 4 - len(failed)
    assert f"{len(failed)} of 4 jobs failed" in res.stderr
    assert all("No space left on device" in e or "could not be written" in e
               for e in failed.error), failed.error.tolist()
    for job in table[table.status == "done"].job:  # what was written is whole
        assert json.loads((tmp_path / job / "summary.json").read_text())["days"] == 3


@pytest.mark.slow
def test_a_job_whose_folder_cannot_be_written_fails_alone(tmp_path):
    """Every write into one job's folder fails, its status included (before, a traceback
    and no table): that job is failed in the table, the others are done."""
    res = sweep(tmp_path, "seed=0,1,2", "hydra/launcher=basic",
                env={FAIL_WRITES: "ENOSPC:seed=1"})
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    assert res.returncode == 1
    table = pd.read_parquet(tmp_path / "sweep.parquet").set_index("job")
    assert table.status.to_dict() == {
        "days=3,scenario=derna_illustrative,seed=0": "done",
        "days=3,scenario=derna_illustrative,seed=1": "failed",
        "days=3,scenario=derna_illustrative,seed=2": "done"}
    assert "1 of 3 jobs failed" in res.stderr
    long = pd.read_parquet(tmp_path / "sweep_long.parquet")  # the long table says the same
    assert long.groupby("job").status.first().to_dict() == table.status.to_dict()
    assert "seed=1 failed: OSError: [Errno 28] No space left on device" in res.stderr


@pytest.mark.slow
def test_a_read_only_sweep_folder_stops_in_one_line_and_keeps_what_was_there(tmp_path):
    """A sweep resumed into a folder that has become read-only: the finished jobs are
    skipped, the new ones fail, and even the table cannot be written: one line says so,
    exit 1, and the earlier results (table included) are as they were."""
    first = sweep(tmp_path, "seed=0,1")
    assert first.returncode == 0, first.stderr
    before = files(tmp_path)
    res = sweep(tmp_path, "seed=0,1,2,3", "hydra/launcher=basic",
                env={FAIL_WRITES: f"EROFS:{tmp_path}"})
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    assert res.returncode == 1
    [line] = [ln for ln in res.stderr.splitlines() if "error" in ln]
    assert line.startswith(f"affiliate-sim: error: {tmp_path}/sweep.parquet: cannot write "
                           "the sweep's table (Read-only file system")
    after = files(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert not any(k.endswith(("summary.json", ".parquet")) for k in set(after) - set(before))
    # rebuilding the tables there later: one line too, the folder as it was
    agg = subprocess.run([str(BIN / "affiliate-aggregate"), str(tmp_path)],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, FAIL_WRITES: f"EROFS:{tmp_path}"})
    assert agg.returncode == 1 and "Traceback" not in agg.stderr, agg.stderr
    [line] = agg.stderr.strip().splitlines()
    assert line.startswith(f"affiliate-aggregate: error: {tmp_path}: cannot write the sweep's "
                           "tables: Read-only file system"), line
    assert files(tmp_path) == after


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_folder_is_refused_before_the_sweep(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        res = sweep(ro / "sweep", "seed=0,1")
    finally:
        ro.chmod(0o755)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    [line] = res.stderr.strip().splitlines()
    assert "hydra.sweep.dir" in line and "not writable" in line


def test_the_write_fault_hook_fails_what_it_is_told(tmp_path, monkeypatch):
    """The testing aid itself: by count and by path, with the errno asked for; unset, it
    changes nothing."""
    import errno

    from affiliate_sim.experiments import faults

    monkeypatch.setitem(faults._STATE, "writes", 0)
    monkeypatch.delenv(FAIL_WRITES, raising=False)
    faults.check(tmp_path / "a")  # unset: nothing, not even counted
    assert faults._STATE["writes"] == 0
    monkeypatch.setenv(FAIL_WRITES, "2,EROFS:/ro/")
    faults.check(tmp_path / "a")
    with pytest.raises(OSError) as exc:
        faults.check(Path("/ro/x"))
    assert exc.value.errno == errno.EROFS
    with pytest.raises(OSError) as exc:
        faults.check(tmp_path / "c")  # the third write
    assert exc.value.errno == errno.ENOSPC


def test_run_group_records_a_job_whose_status_cannot_be_written(tmp_path, monkeypatch):
    """In-process: the first status write of a job fails (before, it was outside the
    error handling and ended the sweep); the job is recorded as failed, the next one
    runs."""
    from affiliate_sim.cli import compose
    from affiliate_sim.experiments import sweep as sw

    real = sw.write_json

    def write_json(path, data):
        if "bad" in str(path):
            raise OSError(28, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(sw, "write_json", write_json)
    spec = compose.spec("scenario=derna_illustrative", "days=2")
    records = sw.run_group(lambda m: spec, [["seed=0"], ["seed=1"]],
                           lambda m: tmp_path / ("bad" if m == ["seed=0"] else "good"))
    assert [r["status"] for r in records] == ["failed", "done"]
    assert "No space left on device" in records[0]["error"]
    assert records[0]["unrecorded"].startswith("OSError")
    assert sw.is_finished(tmp_path / "good") and not (tmp_path / "bad").exists()


# --------------------------------------------------------------------------- estimates
def test_the_estimate_grows_with_what_is_run():
    from affiliate_sim.cli import compose

    spec = compose.spec("scenario=derna_illustrative")
    one = budget.estimate(spec, 1, cores=2)
    assert one.jobs == 1 and one.processes == 1
    assert budget.BASE_BYTES < one.bytes < 2 * 2**30 and 0 < one.seconds < 60
    longer = budget.estimate(compose.spec("scenario=derna_illustrative", "days=4000"), 1,
                             cores=2)
    assert longer.seconds > one.seconds and longer.bytes > one.bytes
    many = budget.estimate(spec, 1000, cores=2)
    assert many.processes == 2 and many.seconds > 10 * one.seconds  # ensembles share days
    assert budget.estimate(spec, 2000, cores=2).seconds > many.seconds
    assert many.bytes > one.bytes  # two processes of ensembles
    assert budget.history_bytes(10, 3, 2) == 8 * (10 * 3 + 4 * 9 + 2 * 3 * 2) * 11


def test_available_memory_reads_the_machine_or_the_testing_aid(monkeypatch):
    monkeypatch.delenv(budget.MEMORY_ENV, raising=False)
    avail = budget.available_memory()
    assert avail is None or avail > 2**20
    monkeypatch.setenv(budget.MEMORY_ENV, "1e9")
    assert budget.available_memory() == 10**9


def test_a_sweep_too_large_for_memory_is_refused_and_force_runs_it(tmp_path):
    """A sweep's estimate is its jobs' (here 2 000 jobs on a machine said to have 300 MB
    free): refused in one line naming the jobs; force=true runs what is asked (a small run
    here) and prints the estimate first."""
    env = {**os.environ, budget.MEMORY_ENV: str(300 * 2**20)}
    res = subprocess.run([str(BIN / "affiliate-sim"), "-m", "scenario=derna_illustrative",
                          "seed=range(0,2000)", f"hydra.sweep.dir={tmp_path / 's'}"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    [line] = res.stderr.strip().splitlines()
    assert "2000 jobs) needs about" in line and "300 MB available" in line
    assert not (tmp_path / "s").exists()
    forced = subprocess.run([str(BIN / "affiliate-sim"), "scenario=derna_illustrative",
                             "days=2", "force=true", f"hydra.run.dir={tmp_path / 'r'}"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert forced.returncode == 0, forced.stderr
    assert "affiliate-sim: estimate: about" in forced.stderr
    assert (tmp_path / "r" / "summary.json").is_file()


def test_a_huge_sweep_is_counted_at_once_and_refused():
    """seed=range(0,100000000) used to hang while its values were listed."""
    from affiliate_sim.cli import checks
    from affiliate_sim.cli.sweep_callback import count_jobs
    from affiliate_sim.errors import InputError

    t = time.perf_counter()
    from affiliate_sim.cli.config import group_options

    levers = len(group_options("lever"))
    assert levers > 1
    assert count_jobs(["seed=range(0,100000000)", "lever=glob(*)"]) == 100_000_000 * levers
    with pytest.raises(InputError, match="more than 100000"):
        checks.sweep_size(["seed=range(0,100000000)"], force=False)
    assert checks.sweep_size(["seed=range(0,100000000)"], force=True) == 100_000_000
    assert time.perf_counter() - t < 5


def test_a_replay_too_large_for_memory_is_refused(monkeypatch, capsys, tmp_path):
    """affiliate-replay's estimate: every case's runs (seeds, null model, knock-outs,
    continuations); 100 000 days on a machine said to have 4 GB free is refused before
    anything runs, a short one goes ahead."""
    from affiliate_sim.cli import config as appconfig
    from affiliate_sim.cli import main as cli

    monkeypatch.setenv(budget.MEMORY_ENV, str(4 * 2**30))
    started = []
    with pytest.raises(SystemExit) as exc:
        cli._guarded("affiliate-replay", "replay", appconfig.validate_replay,
                     lambda: started.append(1), ["days=100000", f"out={tmp_path}"])
    assert exc.value.code == 2 and not started
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("affiliate-replay: error: override: cases: the replay of 9 cases")
    assert "4.0 GB available (force=true runs it anyway)" in line
    cli._guarded("affiliate-replay", "replay", appconfig.validate_replay,
                 lambda: started.append(1), ["days=100000", "force=true", f"out={tmp_path}"])
    cli._guarded("affiliate-replay", "replay", appconfig.validate_replay,
                 lambda: started.append(1), ["days=30", "seeds=2", f"out={tmp_path}"])
    assert started == [1, 1]
