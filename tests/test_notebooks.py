"""Notebooks are kept stripped in git and load their configs through Hydra's compose API.

(The notebooks themselves are executed by nbmake as test items of ``notebooks/``.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_five_stories_are_there():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_historical_replays", "02_policy_levers", "03_derna_in_depth",
                     "04_sensitivity", "05_scenario_discovery"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stripped_and_uses_the_package(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), \
        f"{path.name} has outputs: run `python scripts/strip_notebooks.py`"
    src = "\n".join(c.source for c in code)
    assert "compose." in src  # configs come from conf/ through Hydra's compose API
    assert "AFFILIATE_SIM_QUICK" in src  # small settings in the test suite
    longest = max(len(c.source.splitlines()) for c in code)
    assert longest <= 15, f"{path.name}: a {longest}-line cell; move code to the package"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def test_strip_script_finds_and_strips_outputs(tmp_path):
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", text="hello")]
    cell.execution_count = 3
    p = tmp_path / "dirty.ipynb"
    nbformat.write(nb, p)
    script = ROOT / "scripts" / "strip_notebooks.py"
    check = subprocess.run([sys.executable, script, "--check", p], capture_output=True,
                           text=True)
    assert check.returncode == 1 and "not stripped" in check.stdout
    subprocess.run([sys.executable, script, p], check=True, capture_output=True)
    again = subprocess.run([sys.executable, script, "--check", p], capture_output=True)
    assert again.returncode == 0
    assert nbformat.read(p, as_version=4).cells[cell_index(nb)].outputs == []


def cell_index(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
