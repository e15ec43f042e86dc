"""The commands of ``affiliate-sim`` beside running a scenario, for an analyst's own files:

    affiliate-sim validate FILE...            check scenario files without running them
    affiliate-sim list [scenarios|params|levers|mechanisms]
    affiliate-sim new-scenario NAME           write a commented template NAME.yaml
    affiliate-sim schema [--markdown]         the scenario file's JSON Schema (or reference)
    affiliate-sim outputs [--markdown]        the output files' columns (data dictionary)
    affiliate-sim plot DIR [--out OUT]        the standard figures of a run or sweep folder

and ``scenario=PATH.yaml`` for running a file of one's own (:func:`scenario_paths`).
Each prints one line per item or problem; bad input exits with status 2, no traceback.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from affiliate_sim.errors import InputError

PROG = "affiliate-sim"
EXIT_BAD_INPUT = 2


def scenario_paths(args: list[str]) -> list[str]:
    """The command line with each ``scenario=`` that names a file (a path, or a name ending
    in ``.yaml``) given as ``scenario.name=ABSOLUTE_PATH`` (the ``scenario`` config group has
    one option per shipped file; ``scenario.name`` takes a name or a path). A sweep list
    (``scenario=a.yaml,sinai_2015``) is rewritten item by item."""
    out = []
    for a in args:
        m = re.fullmatch(r"scenario=(.+)", a)
        items = m.group(1).split(",") if m else []
        if m and any(_is_path(v) for v in items):
            a = "scenario.name=" + ",".join(os.path.abspath(v) if _is_path(v) else v
                                            for v in items)
        out.append(a)
    return out


def _is_path(value: str) -> bool:
    return value.endswith((".yaml", ".yml")) or "/" in value or os.sep in value


def stem(name: str) -> str:
    """A scenario's name for folder names: a file's stem, or the name itself."""
    return Path(name).stem if _is_path(name) else name


# ---------------------------------------------------------------------------- validate
def validate(files: list[str]) -> int:
    """Check scenario files: every problem on its own line, or one ``ok`` line per file."""
    from affiliate_sim.scenario.files import check_scenario, load_scenario

    if not files:
        print(f"{PROG} validate: error: give one or more scenario files (or shipped names)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    bad = 0
    for f in files:
        problems = check_scenario(f)
        if problems:
            bad += 1
            for err in problems:
                print(f"{PROG} validate: {err}", file=sys.stderr)
            continue
        sc = load_scenario(f)
        print(f"{PROG} validate: {sc.path}: ok: {sc.name}, {len(sc.organizations)} "
              f"organizations, {len(sc.regions)} regions, {len(sc.inputs)} inputs, "
              f"{len(sc.observations)} observations, {sc.days} days")
    if bad:
        print(f"{PROG} validate: {bad} of {len(files)} files have problems", file=sys.stderr)
    return EXIT_BAD_INPUT if bad else 0


# ---------------------------------------------------------------------------- list
def _first_comment(path: Path) -> str:
    """The first comment line of a config file that is not a Hydra directive."""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("#") and not text.startswith("# @package"):
            return text.lstrip("# ").strip()
    return ""


def listing(what: str) -> list[str]:
    """One line per item of ``what``: scenarios, params, levers or mechanisms."""
    from affiliate_sim.paths import CONF_DIR

    if what == "scenarios":
        from affiliate_sim.scenario import CASES, available, load_scenario

        out = []
        for name in available():
            sc = load_scenario(name)
            tag = "case" if name in CASES else "other"
            out.append(f"{name:22s} {tag:5s} {sc.days:5d} days  {sc.title}")
        return out
    if what in ("params", "levers"):
        folder = CONF_DIR / ("params" if what == "params" else "lever")
        return [f"{p.stem:22s} {_first_comment(p)}" for p in sorted(folder.glob("*.yaml"))]
    if what == "mechanisms":
        from affiliate_sim.mechanisms import BY_NAME, MECHANISMS

        return [f"{m:22s} {(BY_NAME[m].__doc__ or '').strip().splitlines()[0]}"
                for m in MECHANISMS]
    raise InputError("list", "what", f"must be one of {', '.join(LISTS)}, got {what!r}")


LISTS = ("scenarios", "params", "levers", "mechanisms")


def list_command(args: list[str]) -> int:
    whats = args or list(LISTS)
    try:
        blocks = [(w, listing(w)) for w in whats]
    except InputError as err:
        print(f"{PROG} list: error: {err.problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for w, lines in blocks:
        if len(whats) > 1:
            print(f"{w}:")
        for line in lines:
            print(("  " if len(whats) > 1 else "") + line)
    return 0


# ---------------------------------------------------------------------------- new-scenario
TEMPLATE = '''\
# A scenario of one's own: {name}. Check it with `affiliate-sim validate {file}`, run it
# with `affiliate-sim scenario={file}`. Every key is described in docs/model.md, section 5;
# each value marked "estimate" is a guess to be replaced by what the sources say.
name: {name}
title: "A new theatre: an IS affiliate against a local rival and the state"
description: >
  Replace with the case: who is there, where, and what happened on day 0.
sources: []                  # quotations the inputs and observations rest on
start_date: "2016-01-01"     # the calendar date of day 0
days: 365                    # run length
grid: {{height: 10, width: 10}}
cell_km: 20                  # side of a cell, km (movement, reach, sensing follow it)
background: {{terrain: 0.3, population: 2.0, remoteness: 0.4, state_presence: 0.3}}
regions:                     # half-open [start, stop) rows and columns of the grid
  - {{name: towns, rows: [0, 3], cols: [0, 10], terrain: 0.1, population: 30.0,
     remoteness: 0.1, state_presence: 0.8}}
  - {{name: countryside, rows: [3, 7], cols: [0, 10]}}
  - {{name: mountains, rows: [7, 10], cols: [0, 10], terrain: 0.9, population: 0.5,
     remoteness: 0.8, state_presence: 0.1}}
organizations:
  - {{name: IS_core, camp: IS, kind: is_core, fighters: 0, region: mountains, commanders: 0,
     description: "the Islamic State's central leadership (invests in its provinces)"}}
  - name: IS_affiliate
    camp: independent        # pledges on day 0 (inputs)
    kind: militia
    fighters: 300            # estimate
    regions: {{countryside: 0.7, mountains: 0.3}}
    local_roots: 0.3         # estimate: in [0, 1]
    cohesion: 0.7            # estimate
  - name: AQ_branch
    camp: AQ
    kind: aq_branch
    fighters: 800            # estimate
    regions: {{mountains: 0.6, countryside: 0.4}}
    local_roots: 0.7         # estimate
  - name: State_forces
    camp: state
    kind: state_force
    fighters: 3000           # estimate
    region: towns
    vigilance: 1.0           # multiplies params.state_vigilance
relations:
  - {{a: State_forces, b: AQ_branch, kind: hostile}}
  - {{a: State_forces, b: IS_affiliate, kind: hostile}}
inputs:
  - day: 0
    kind: pledge
    actor: IS_affiliate
    note: "the group pledges to the Islamic State"
observations:                # what the model must produce, written before the first run
  - id: affiliate_survives_the_year
    quantity: fighters
    org: IS_affiliate
    window: [0, 365]
    at_least: 50
    source: "replace with the sentence the target rests on"
estimates:                   # the plausible range of each estimate (calibration priors)
  IS_affiliate: {{fighters: [150, 600]}}
  AQ_branch: {{fighters: [400, 1600]}}
'''


def new_scenario(args: list[str]) -> int:
    """Write a commented template scenario (it validates and runs as it is)."""
    if len(args) != 1:
        print(f"{PROG} new-scenario: error: give one name (a file NAME.yaml is written)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    target = Path(args[0] if args[0].endswith((".yaml", ".yml")) else args[0] + ".yaml")
    name = target.stem
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        print(f"{PROG} new-scenario: error: {name!r}: a name is a letter, then letters, "
              "digits or _", file=sys.stderr)
        return EXIT_BAD_INPUT
    if target.exists():
        print(f"{PROG} new-scenario: error: {target}: exists (not overwritten)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    from affiliate_sim.experiments.output import atomic_write

    text = TEMPLATE.format(name=name, file=target)
    try:
        atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    except OSError as err:
        print(f"{PROG} new-scenario: error: {target}: cannot be written "
              f"({err.strerror or err.__class__.__name__})", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{PROG} new-scenario: wrote {target}; check it with `{PROG} validate {target}`")
    return 0


def schema(args: list[str]) -> int:
    """``affiliate-sim schema [--markdown]``: the scenario file's JSON Schema, or the
    reference (:mod:`affiliate_sim.scenario.schema`)."""
    from affiliate_sim.scenario.schema import main

    return main(args)


def outputs(args: list[str]) -> int:
    """``affiliate-sim outputs [--markdown]``: the columns of the output files, or the data
    dictionary ``docs/outputs.md`` (:mod:`affiliate_sim.experiments.tables`)."""
    from affiliate_sim.experiments.tables import main

    return main(args)


# ---------------------------------------------------------------------------- plot
def plot(args: list[str]) -> int:
    """``affiliate-sim plot DIR [--out OUT]``: the standard figures of a run folder or a
    sweep folder (:mod:`affiliate_sim.experiments.figures`), into ``DIR/figures`` or ``OUT``; one line
    per file written."""
    out = None
    rest = list(args)
    if "--out" in rest:
        i = rest.index("--out")
        if i + 1 >= len(rest):
            print(f"{PROG} plot: error: --out needs a folder", file=sys.stderr)
            return EXIT_BAD_INPUT
        out = rest[i + 1]
        del rest[i:i + 2]
    if len(rest) != 1 or rest[0].startswith("-"):
        print(f"{PROG} plot: error: give one run or sweep folder: {PROG} plot DIR "
              "[--out OUT]", file=sys.stderr)
        return EXIT_BAD_INPUT
    import matplotlib

    matplotlib.use("Agg")
    from affiliate_sim.experiments.figures import figures

    try:
        written = figures(Path(rest[0]), Path(out) if out is not None else None)
    except InputError as err:
        print(f"{PROG} plot: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for path in written:
        print(f"{PROG} plot: wrote {path}")
    return 0


COMMANDS = {"validate": validate, "list": list_command, "new-scenario": new_scenario,
            "schema": schema, "outputs": outputs, "plot": plot}
