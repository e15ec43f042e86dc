"""Runs on a cluster: a Dask cluster started here (two worker processes on this machine)
gives the same results as local runs, for the run path itself and for a whole command
(scenario discovery, ``cluster=tcp://HOST:PORT``)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from affiliate_sim.experiments.runs import Pool, RunSpec, execute
from affiliate_sim.scenario import load_scenario
from affiliate_sim.scenario.params import Params

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=50)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_runs_on_a_cluster_equal_local_runs(dask_cluster):
    sc = [load_scenario("yemen_2015"), load_scenario("algeria_2014")]
    base = Params()
    specs = [RunSpec.of(s, dataclasses.replace(base, combat_rate=r), seed, days=60)
             for s in sc for r in (0.03, 0.06) for seed in (0, 1)]
    local = execute(specs, workers=1)
    with Pool(cluster=dask_cluster) as pool:
        assert pool.cores == 2
        remote = execute(specs, workers=pool)
        client = pool._client
        again = execute(specs[:3], workers=pool)
        assert pool._client is client  # the connection is kept between calls
    for a, b in zip(local, remote, strict=True):
        assert a.scenario == b.scenario and a.seed == b.seed
        np.testing.assert_array_equal(a.fighters, b.fighters)
        np.testing.assert_equal(a.values, b.values)  # nan equal to nan
    np.testing.assert_array_equal(again[2].fighters, local[2].fighters)


def test_local_processes_kept_between_calls_equal_serial_runs():
    sc = load_scenario("yemen_2015")
    specs = [RunSpec.of(sc, Params(), seed, days=40) for seed in range(4)]
    serial = execute(specs, workers=1)
    with Pool(2) as pool:
        first = execute(specs, workers=pool)
        executor = pool._executor
        second = execute(specs[1:], workers=pool)
        assert pool._executor is executor and executor is not None
    assert pool._executor is None  # closed
    for a, b in zip(serial, first, strict=True):
        np.testing.assert_array_equal(a.fighters, b.fighters)
    np.testing.assert_array_equal(second[0].fighters, serial[1].fighters)


def test_an_unreachable_cluster_is_one_line(tmp_path):
    res = subprocess.run([str(BIN / "affiliate-discover"), "cluster=tcp://127.0.0.1:9",
                          "n=4", "cases=[sinai_2015]", f"out={tmp_path}/d",
                          f"hydra.run.dir={tmp_path}/h"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "cluster: cannot reach tcp://127.0.0.1:9" in err and "Traceback" not in err


@pytest.mark.slow
def test_a_command_on_a_cluster_equals_the_command_run_locally(dask_cluster, tmp_path):
    args = ["n=24", "cases=[sinai_2015,algeria_2014]", "chunk=8"]
    exe = str(BIN / "affiliate-discover")
    local = subprocess.run([exe, *args, "workers=1", f"out={tmp_path}/a",
                            f"hydra.run.dir={tmp_path}/h"],
                           capture_output=True, text=True, timeout=600)
    assert local.returncode == 0, local.stderr
    remote = subprocess.run([exe, *args, f"cluster={dask_cluster}", f"out={tmp_path}/b",
                             f"hydra.run.dir={tmp_path}/h2"],
                            capture_output=True, text=True, timeout=600)
    assert remote.returncode == 0, remote.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "discovery.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "discovery.parquet"))
    a = json.loads((tmp_path / "a" / "boxes.json").read_text())
    b = json.loads((tmp_path / "b" / "boxes.json").read_text())
    assert a["boxes"] == b["boxes"]
