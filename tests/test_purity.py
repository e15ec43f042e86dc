"""Design rules: the kernel and the mechanisms import neither Mesa nor Hydra; the model
imports no Hydra."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = ("import sys, importlib; importlib.import_module({mod!r}); "
         "bad = [m for m in sys.modules if m.split('.')[0] in {banned!r}]; "
         "print(','.join(sorted(bad)))")


@pytest.mark.parametrize("mod,banned", [
    ("affiliate_sim.kernel", ("mesa", "hydra", "omegaconf")),
    ("affiliate_sim.reference", ("mesa", "hydra", "omegaconf")),
    ("affiliate_sim.mechanisms.pledge", ("mesa", "hydra", "omegaconf")),
    ("affiliate_sim.mechanisms.retreat", ("mesa", "hydra", "omegaconf")),
    ("affiliate_sim.model", ("hydra", "omegaconf")),
])
def test_no_forbidden_imports(mod, banned):
    out = subprocess.run([sys.executable, "-c", CHECK.format(mod=mod, banned=banned)],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"{mod} imports {out}"
