"""Where a result comes from: the package version, the git commit of a checkout, the
parameter set (its name and a digest of its values) and the scenario file (its path, a
digest of its bytes and the case's start date). Every output records it
(``summary.json``, the sweep table, the replay's ``replay.json`` and report), so that a
result found later can be traced to the code, the parameters and the file that made it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any


def version() -> str:
    """The installed package's version (the source's, if it is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("affiliate_sim")
    except PackageNotFoundError:
        from affiliate_sim import __version__

        return __version__


@functools.cache
def commit() -> str | None:
    """The git commit of the checkout the package runs from (None for an installed wheel
    or without git), with ``+dirty`` when tracked files differ from it."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain",
                                "--untracked-files=no", "--", "."],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def digest(data: Any) -> str:
    """A short digest (sha256, 16 hex digits) of JSON-able data."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: Path | str) -> str | None:
    """A short digest of a file's bytes (None if it cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def params_record(params, name: str | None = None) -> dict[str, Any]:
    """The parameter set: its name (the ``params`` config option it came from, with
    ``+overrides`` when values were changed on top of it) and a digest of its values."""
    return {"name": name, "digest": digest(params.to_dict())}


def scenario_record(scenario) -> dict[str, Any]:
    """The scenario: its name, file, a digest of the file and the case's start date."""
    return {"name": scenario.name, "file": str(scenario.path),
            "digest": file_digest(scenario.path), "start_date": scenario.start_date or None}


def record(params, params_name: str | None = None, scenarios=()) -> dict[str, Any]:
    """The provenance of a result (module docstring)."""
    return {"version": version(), "commit": commit(),
            "params": params_record(params, params_name),
            "scenarios": [scenario_record(s) for s in scenarios]}
