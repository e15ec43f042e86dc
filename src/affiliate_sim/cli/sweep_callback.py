"""Hydra callback of ``affiliate-sim`` sweeps: progress while it runs, the table at the end.

While a multirun runs, a thread prints every few seconds how many jobs are done, failed,
running and remaining, and an estimate of the time left (read from the jobs' status files,
so it works whatever the launcher). At the end it aggregates the sweep folder
(:func:`affiliate_sim.experiments.sweep.aggregate`). Because failed jobs are recorded rather than raised
(:func:`affiliate_sim.experiments.sweep.run_job`), Hydra always reaches the end of the sweep.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from affiliate_sim.experiments.sweep import STATUS, aggregate, is_finished


def sweep_length(override) -> int:
    """Number of values of one parsed override (1 unless it sweeps), counted without
    listing them (``seed=range(0,100000000)`` is counted at once)."""
    import math

    from hydra.core.override_parser.types import Glob, RangeSweep

    from affiliate_sim.cli.config import group_options

    if not override.is_sweep_override():
        return 1
    value = override.value()
    if isinstance(value, Glob):
        return len(value.filter(group_options(override.get_key_element())))
    if isinstance(value, RangeSweep):
        start, stop, step = value.start, value.stop, value.step
        if all(isinstance(x, int) for x in (start, stop, step)):
            return len(range(start, stop, step))
        return max(0, math.ceil((stop - start) / step)) if step else 0
    return len(list(override.sweep_string_iterator()))


def sweep_lengths(task_overrides: list[str]) -> dict[str, int]:
    """Number of values of each sweeping key."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return {o.get_key_element(): sweep_length(o)
            for o in OverridesParser.create().parse_overrides(task_overrides)
            if o.is_sweep_override()}


def count_jobs(task_overrides: list[str]) -> int:
    """Number of jobs a list of (possibly sweeping) overrides expands to."""
    total = 1
    for n in sweep_lengths(task_overrides).values():
        total *= n
    return total


def merge_sweep(preset_params, overrides) -> list[str]:
    """A sweep's overrides: a preset's ``hydra.sweeper.params`` (a mapping), then the
    command line's ``overrides``, which win for the same key."""
    items = {str(k): f"{k}={v}" for k, v in (preset_params or {}).items()}
    for o in overrides:
        items[o.split("=", 1)[0].lstrip("+~")] = o
    return list(items.values())


def sweep_overrides(config: DictConfig) -> list[str]:
    """The sweep's overrides, from a running multirun's config (see :func:`merge_sweep`)."""
    return merge_sweep(config.hydra.sweeper.get("params"), config.hydra.overrides.task)


def progress_counts(sweep_dir: Path) -> dict[str, int]:
    """Jobs done, failed, running (by their status files) in a sweep folder."""
    counts = {"done": 0, "failed": 0, "running": 0}
    for f in Path(sweep_dir).glob(f"*/{STATUS}"):
        if is_finished(f.parent):
            counts["done"] += 1
            continue
        try:
            state = json.loads(f.read_text(encoding="utf-8")).get("status")
        except (OSError, json.JSONDecodeError):
            continue
        if state in counts:
            counts[state] += 1
    return counts


#: The running progress monitor of this process (kept out of the callback object, which
#: launchers pickle and send to their workers).
_MONITOR: dict[str, Any] = {}
#: The finished sweep's job count, failed jobs and table (the command's exit status).
RESULT: dict[str, Any] = {}


class SweepCallback(Callback):
    """Progress and aggregation for ``affiliate-sim -m`` sweeps."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        RESULT.clear()
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            total = count_jobs(sweep_overrides(config))
        except Exception:  # noqa: BLE001  (progress is best effort)
            total = 0
        before = progress_counts(sweep_dir)["done"] if sweep_dir.exists() else 0
        start = time.monotonic()

        stop = threading.Event()

        def report() -> None:
            while not stop.wait(self.every):
                c = progress_counts(sweep_dir)
                new = c["done"] - before + c["failed"]
                left = max(total - c["done"] - c["failed"], 0)
                elapsed = time.monotonic() - start
                eta = f", about {elapsed / new * left:.0f} s left" if new > 0 else ""
                print(f"affiliate-sim sweep: {c['done']} done, {c['failed']} failed, "
                      f"{c['running']} running, {left} remaining of {total}{eta}",
                      file=sys.stderr, flush=True)

        thread = threading.Thread(target=report, daemon=True)
        _MONITOR.update(stop=stop, thread=thread)
        thread.start()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if "stop" in _MONITOR:
            _MONITOR.pop("stop").set()
        sweep_dir = Path(config.hydra.sweep.dir)
        table_path = sweep_dir / "sweep.parquet"
        try:
            table, _ = aggregate(sweep_dir, PLANNED)
        except OSError as err:  # even the table cannot be written (a full or read-only disk)
            print(f"affiliate-sim: error: {table_path}: cannot write the sweep's table "
                  f"({err.strerror or err}); its jobs' results are in their folders",
                  file=sys.stderr, flush=True)
            RESULT.update(jobs=len(PLANNED), failed=None, table=None, error=str(err))
            return
        counts = table["status"].value_counts().to_dict() if len(table) else {}
        print(f"affiliate-sim sweep: {len(table)} jobs {counts}; table: "
              f"{table_path}", file=sys.stderr, flush=True)
        RESULT.update(jobs=len(table), failed=int(counts.get("failed", 0)),
                      table=str(table_path))


#: The job folders (names) of the sweep this process launches, as the sweeper planned them
#: (:class:`hydra_plugins.affiliate_sim_sweeper.CheckedSweeper`).
PLANNED: list[str] = []
