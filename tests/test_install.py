"""A real install: the wheel, in a fresh virtualenv, run from a folder outside the clone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NUMBA_CACHE_DIR"] = str(Path(cwd) / ".numba")
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_runs_outside_the_clone(tmp_path):
    """`pip install` of the wheel (with its dependencies, no extras) into a new virtualenv
    gives commands that find the configs and shipped scenarios as package data, run a
    shipped scenario and a scenario file from another folder, and import neither the
    clone's sources nor Ray."""
    wheels = tmp_path / "wheels"
    out = _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", wheels],
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    [wheel] = wheels.glob("affiliate_sim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "affiliate_sim/py.typed" in names
    assert not any(n.startswith(("tests/", "notebooks/", "replay/")) for n in names)

    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    out = _run([base, "-m", "venv", venv], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    py = venv / "bin" / "python"
    out = _run([py, "-m", "pip", "install", "-q", "--prefer-binary", wheel], cwd=tmp_path,
               timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]

    elsewhere = tmp_path / "analyst"
    elsewhere.mkdir()
    # the installed package, not the clone's sources; the default install has no Ray
    probe = ("import affiliate_sim, importlib.util as u; print(affiliate_sim.__file__); "
             "print(u.find_spec('ray') is None)")
    out = _run([py, "-c", probe], cwd=elsewhere)
    assert out.returncode == 0, out.stderr
    where, no_ray = out.stdout.split()
    assert Path(where).is_relative_to(venv) and no_ray == "True"

    sim = venv / "bin" / "affiliate-sim"
    out = _run([sim, "list", "scenarios"], cwd=elsewhere)
    assert out.returncode == 0 and "sinai_2015" in out.stdout, out.stdout + out.stderr

    # a shipped scenario, by name
    out = _run([sim, "scenario=derna_illustrative", "days=30", "seed=1"], cwd=elsewhere)
    assert out.returncode == 0, out.stderr[-3000:]
    [summary] = (elsewhere / "outputs").glob("derna_illustrative/seed1/summary.json")
    assert json.loads(summary.read_text())["provenance"]["params"]["name"] == "calibrated"

    # a file of one's own, from another folder: the template, validated, then run
    mine = tmp_path / "elsewhere" / "my_case.yaml"
    mine.parent.mkdir()
    out = _run([sim, "new-scenario", mine], cwd=elsewhere)
    assert out.returncode == 0, out.stderr
    out = _run([sim, "validate", mine], cwd=elsewhere)
    assert out.returncode == 0, out.stdout + out.stderr
    out = _run([sim, f"scenario={mine}", "days=30", "seed=2"], cwd=elsewhere)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (elsewhere / "outputs" / "my_case" / "seed2" / "summary.json").is_file()
