"""Where the package's data lives: the Hydra configs and the shipped scenario files.

Both are package data (``affiliate_sim/conf`` and ``affiliate_sim/scenarios``), found
through :mod:`importlib.resources`, so that an installed package finds them as well as a
checkout does.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_ROOT = Path(str(files("affiliate_sim")))

#: The Hydra config folder (primary configs and config groups).
CONF_DIR: Path = _ROOT / "conf"
#: The shipped scenario files (``NAME.yaml``).
SCENARIO_DIR: Path = _ROOT / "scenarios"
#: The calibrated parameter set.
CALIBRATED: Path = CONF_DIR / "params" / "calibrated.yaml"
