"""Design rules, checked on the imports of each layer (in a fresh interpreter each):

* the kernel and every process module import neither Mesa nor Hydra;
* the model imports no Hydra; neither do runs, the replay and calibration;
* the kernel does not know the user-facing parameter class;
* no module of the package imports a module of a layer above it, and there is no cycle
  between sub-packages.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from affiliate_sim.mechanisms import PROCESSES

CHECK = ("import sys, importlib; importlib.import_module({mod!r}); "
         "bad = [m for m in sys.modules if m.split('.')[0] in {banned!r} "
         "or m in {banned_modules!r}]; print(','.join(sorted(bad)))")
NO_UI = ("mesa", "hydra", "omegaconf")
PACKAGE = Path(__file__).resolve().parents[1] / "src" / "affiliate_sim"


@pytest.mark.parametrize("mod,banned,banned_modules", [
    ("affiliate_sim.kernel", NO_UI, ("affiliate_sim.scenario.params",)),
    *[(m.__name__, NO_UI, ()) for m in PROCESSES],
    ("affiliate_sim.model", ("hydra", "omegaconf"), ()),
    ("affiliate_sim.experiments.runs", ("hydra", "omegaconf"), ()),
    ("affiliate_sim.experiments.replay", ("hydra", "omegaconf"), ()),
    ("affiliate_sim.experiments.calibrate", ("hydra", "omegaconf"), ()),
])
def test_no_forbidden_imports(mod, banned, banned_modules):
    code = CHECK.format(mod=mod, banned=banned, banned_modules=banned_modules)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"{mod} imports {out}"


#: Sub-packages from the inside out; a module may import only its own layer and those
#: before it (vocabulary, errors and paths are shared by all). The kernel composes the
#: processes' hazard terms, so it sits above them; figures sit below the experiments that
#: draw them.
LAYERS = ("mechanisms", "kernel", "scenario", "model", "viz", "experiments", "cli")
SHARED = ("vocabulary", "errors", "paths")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("affiliate_sim.")}


def test_layers_import_only_downwards():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).parts
        if len(rel) == 1:
            continue
        mine = LAYERS.index(rel[0])
        for name in _imports(path):
            part = name.split(".")[1]
            if part in SHARED or part == rel[0]:
                continue
            if LAYERS.index(part) > mine:
                bad.append(f"{'/'.join(rel)} imports {name}")
    assert not bad, "\n".join(bad)
