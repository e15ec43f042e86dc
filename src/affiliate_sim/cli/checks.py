"""Checks of a command line before Hydra starts: flags, Hydra's own settings, output
folders, and what a run or a sweep will cost.

Each check raises :class:`~affiliate_sim.errors.InputError` naming the key (or flag) and
the problem, which the command prints as one line (exit status 2) instead of Hydra's usage
text or traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from affiliate_sim.errors import InputError

#: Hydra's command-line flags (``hydra._internal.utils.get_args_parser``).
HYDRA_FLAGS = ("--help", "-h", "--hydra-help", "--version", "--cfg", "-c", "--resolve",
               "--package", "-p", "--run", "-r", "--multirun", "-m", "--shell-completion",
               "-sc", "--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
               "--experimental-rerun", "--info", "-i")
#: Output folders a command line may set.
DIR_KEYS = ("hydra.run.dir", "hydra.sweep.dir")
#: Folders of the system where no output can be written.
SYSTEM_DIRS = ("/proc", "/sys", "/dev")
#: Most jobs a sweep may have without ``force=true``.
MAX_JOBS = 100_000
#: Runs expected to take longer than this (seconds) print their estimate first.
ANNOUNCE_SECONDS = 60.0


#: Hydra's flags of which one command takes one at most (each sets what the command does).
MODES = (("--run", "-r"), ("--multirun", "-m"), ("--cfg", "-c"), ("--info", "-i"),
         ("--shell-completion", "-sc"))


def unknown_flag(args: list[str]) -> None:
    """Refuse a flag Hydra does not know (``--bogus``), or two of its modes at once
    (``-m --cfg job``): Hydra would print its usage or a traceback."""
    for a in args:
        if a.startswith("-") and a.split("=", 1)[0] not in HYDRA_FLAGS:
            raise InputError("command line", a, "unknown flag (--help lists them)")
    modes = [m[0] for m in MODES if any(a.split("=", 1)[0] in m for a in args)]
    if len(modes) > 1:
        raise InputError("command line", " ".join(modes), "only one of these flags can be "
                         "given at once")


def hydra_settings(args: list[str], config_name: str) -> None:
    """Check the ``hydra.KEY=VALUE`` and ``hydra/GROUP=OPTION`` overrides: they compose,
    the output folders can be written, ``hydra.sweeper.max_batch_size`` is a whole number
    >= 1."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from affiliate_sim.cli import compose

    own = [a for a in args if not a.startswith("-")
           and a.lstrip("+~").startswith(("hydra.", "hydra/"))]
    if not own:
        return
    try:
        parsed = OverridesParser.create().parse_overrides(own)
    except Exception:  # noqa: BLE001  (named below, by composing)
        parsed = []
    for o in parsed:
        key = o.get_key_element().lstrip("+~")
        if key in DIR_KEYS and not o.is_sweep_override():
            output_dir(key, o.value())
        if key == "hydra.sweeper.max_batch_size":
            v = o.value()
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise InputError("override", key, f"must be a whole number >= 1 (or null), "
                                 f"got {v!r}")
    compose.config(*own, config_name=config_name, return_hydra_config=True)


def output_dir(key: str, value, cwd: str | None = None) -> None:
    """Check that an output folder can be made and written: not empty, not under
    ``/proc``, ``/sys`` or ``/dev``, no file in its place or above it, writable (the part
    before an interpolation ``${...}`` is checked)."""
    text = "" if value is None else str(value)
    if not text.strip():
        raise InputError("override", key, "is empty (the outputs would land in the current "
                         "folder); give a folder")
    static = text.split("${", 1)[0]
    if not static.strip():
        return
    path = Path(os.path.abspath(os.path.join(cwd or os.getcwd(), static)))
    real = os.path.realpath(path)
    for system in SYSTEM_DIRS:
        if real == system or real.startswith(system + "/"):
            raise InputError("override", key, f"{text} is under {system}, where no outputs "
                             "can be written")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == path else f"is under {existing}, a file"
        raise InputError("override", key, f"{text} {where}, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError("override", key, f"{text}: {existing} is not writable (read-only "
                         "or not ours)")


def outputs(spec) -> None:
    """Check the output folders a validated request names (``out`` of ``affiliate-replay``,
    ``-sensitivity`` and ``-discover``; the folders of ``affiliate-calibrate``'s files), so
    that a long computation does not end in a write that cannot succeed."""
    data = spec if isinstance(spec, dict) else getattr(spec, "__dict__", {})
    if "free" in data:  # affiliate-calibrate: files (None: the package's defaults)
        for key in ("out", "db"):
            if data.get(key) is not None:
                output_dir(key, os.path.dirname(os.path.abspath(str(data[key]))))
        if "report" in data:
            output_dir("report", data["report"])
    elif "out" in data:
        output_dir("out", data["out"])


def forced(overrides: list[str]) -> bool:
    """Whether the command line says ``force=true``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:  # noqa: BLE001  (a bad override is named by the checks that follow)
        return False
    return any(o.get_key_element().lstrip("+~") == "force" and o.value() is True
               for o in parsed if not o.is_sweep_override())


def sweep_size(overrides: list[str], force: bool) -> int:
    """The number of jobs of a sweep, refused above :data:`MAX_JOBS` unless forced."""
    from affiliate_sim.cli.sweep_callback import count_jobs, sweep_lengths

    try:
        jobs = count_jobs(overrides)
    except Exception:  # noqa: BLE001  (a bad override is named by the checks that follow)
        return 1
    if jobs > MAX_JOBS and not force:
        lengths = sweep_lengths(overrides)
        key = max(lengths, key=lengths.get) if lengths else "sweep"
        raise InputError("override", key, f"the sweep has {jobs} jobs, more than {MAX_JOBS} "
                         "(force=true runs it anyway)")
    return jobs


def budget(prog: str, specs: list, jobs: int, force: bool) -> None:
    """Estimate the time and memory of ``jobs`` jobs the size of the largest of ``specs``
    (:mod:`affiliate_sim.experiments.budget`); refuse what cannot fit in the memory
    available unless forced; print the estimate of a long one."""
    from affiliate_sim.experiments import budget as bud

    if not specs:
        return
    largest = max(specs, key=lambda s: bud.estimate(s, jobs).bytes)
    est = bud.estimate(largest, jobs)
    sc = largest.scenario
    _judge(prog, est, f"{sc.name} ({sc.height}x{sc.width} cells, {len(sc.organizations)} "
           f"organizations, {largest.days} days{f', {jobs} jobs' if jobs > 1 else ''})",
           force, "scenario")


def replay_budget(prog: str, spec, force: bool) -> None:
    """:func:`budget` of ``affiliate-replay``: per case, its seeds, the null model's, the
    knock-outs' and the continuations' runs, on the command's workers (the time of the
    cases added up, the memory of the largest)."""
    from affiliate_sim.experiments import budget as bud
    from affiliate_sim.experiments import continuation
    from affiliate_sim.experiments.runs import RunSpec
    from affiliate_sim.mechanisms import MECHANISMS
    from affiliate_sim.scenario import load_scenario

    runs = 2 * spec.seeds + spec.knockout_seeds * len(MECHANISMS)
    ests = []
    for case in spec.cases:
        sc = load_scenario(case)
        ests.append(bud.estimate(RunSpec.of(sc, spec.params, 0, spec.days), runs,
                                 cores=spec.workers))
        if spec.continuation_seeds:
            ests.append(bud.estimate(RunSpec.of(sc, spec.params, 0, continuation.DAYS),
                                     spec.continuation_seeds, cores=spec.workers))
    if not ests:
        return
    est = bud.Estimate(jobs=sum(e.jobs for e in ests), processes=max(e.processes for e in ests),
                       seconds=sum(e.seconds for e in ests), bytes=max(e.bytes for e in ests))
    _judge(prog, est, f"the replay of {len(spec.cases)} cases ({est.jobs} runs"
           f"{f', {spec.days} days' if spec.days else ''})", force, "cases")


def _judge(prog: str, est, what: str, force: bool, key: str) -> None:
    """Refuse an estimate above the memory available unless forced (naming ``key``, what
    sets the size); print a long one."""
    from affiliate_sim.experiments import budget as bud

    available = bud.available_memory()
    if available is not None and est.bytes > available and not force:
        raise InputError("override", key,
                         f"{what} needs about {bud.gigabytes(est.bytes)} of memory, "
                         f"{bud.gigabytes(available)} available (force=true runs it anyway)")
    if est.seconds >= ANNOUNCE_SECONDS or est.bytes > (available or est.bytes + 1):
        print(f"{prog}: estimate: {est.describe(available)}", file=sys.stderr, flush=True)
