"""Sweeps on a Ray cluster (``hydra/launcher=ray_cluster``), against a real local cluster.

The test starts a one-node Ray cluster on the loopback interface (``ray start --head
--block``), runs a sweep on it with ``affiliate-sim`` in a subprocess, and checks that the
jobs ran in Ray's worker processes, that a failing job is recorded while the others finish,
and that the results are those of the same sweep run serially.
"""

from __future__ import annotations

import os
import subprocess

import pandas as pd
import pytest
from ray_local import LOCAL_RAY, local_ray_cluster
from test_sweep import BIN, statuses

from affiliate_sim.experiments.sweep import FAIL_ENV, job_dir

SWEEP = ["scenario=derna_illustrative", "seed=range(0,2)", "days=60",
         "params.state_vigilance=0.2,0.8"]  # 4 jobs


def test_job_dir_absolute_given_the_sweep_folder(tmp_path):
    name = job_dir("seed=1,days=5")
    assert job_dir("seed=1,days=5", "multirun/x", "/home/me") == f"/home/me/multirun/x/{name}"
    assert job_dir("seed=1,days=5", str(tmp_path), "/elsewhere") == str(tmp_path / name)
    assert job_dir("", "../s", "/a/b") == "/a/s/defaults"


@pytest.fixture(scope="module")
def ray_cluster():
    """A one-node Ray cluster of 2 CPUs on 127.0.0.1; yields its address."""
    with local_ray_cluster(cpus=2) as address:
        yield address


def run(folder, *extra: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "affiliate-sim"), "-m", *SWEEP, *extra,
                           f"hydra.sweep.dir={folder}"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_ray_sweep_failure_recorded_and_same_results_as_serial(ray_cluster, tmp_path):
    ray, ser = tmp_path / "ray", tmp_path / "serial"
    fail = {FAIL_ENV: "seed=1"}
    # the driver runs elsewhere than the cluster's workers: a relative sweep folder
    # (resolved against the driver's working folder) must still receive every job
    tmp_path.joinpath("cwd").mkdir()
    proc = subprocess.Popen(
        [str(BIN / "affiliate-sim"), "-m", *SWEEP, "hydra/launcher=ray_cluster",
         "hydra.sweep.dir=../ray"], cwd=tmp_path / "cwd", stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, **LOCAL_RAY, **fail, "RAY_ADDRESS": ray_cluster})
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err  # it finishes, and says that jobs failed
    assert "2 of 4 jobs failed" in err
    # the 4 jobs differ only in seed and parameter values: 2 ensembles, one per CPU
    assert "Ray Launcher is launching 2 jobs" in out + err

    jobs = statuses(ray)
    assert len(jobs) == 4
    assert proc.pid not in {s["pid"] for s in jobs}  # jobs ran in Ray's workers
    table = pd.read_parquet(ray / "sweep.parquet")
    assert len(table) == 4
    failed = table[table.status == "failed"]
    assert len(failed) == 2 and set(failed.seed) == {1}  # carried by the runtime env
    assert failed.error.str.contains("failure injected").all()
    assert set(table[table.seed != 1].status) == {"done"}

    # same sweep, serial launcher: the same table, and the same series byte for byte
    res = run(ser, "hydra/launcher=basic", env=fail)
    assert res.returncode == 1 and "2 of 4 jobs failed" in res.stderr, res.stderr
    serial = pd.read_parquet(ser / "sweep.parquet")
    pd.testing.assert_frame_equal(table.sort_values("job").reset_index(drop=True),
                                  serial.sort_values("job").reset_index(drop=True))
    series = sorted(ray.glob("*/timeseries.parquet"))
    assert len(series) == 2
    for job in series:
        assert job.read_bytes() == (ser / job.parent.name / job.name).read_bytes()
