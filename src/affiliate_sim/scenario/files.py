"""Scenario files: YAML data, checked against a schema, never executed.

A scenario describes one case: the geography (grid, named regions with terrain,
remoteness, population, state presence), the organizations with their initial strength,
position and attributes, their relations, the dated scripted inputs (the start of the case
and shocks from outside the fighting) and, for the historical cases, the observations the
model must produce. Files are read with ``yaml.safe_load`` (no tags, no objects) and every
key is checked; a problem raises :class:`~affiliate_sim.errors.InputError` naming the file,
the key path and the problem.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from affiliate_sim.errors import InputError
from affiliate_sim.paths import SCENARIO_DIR
from affiliate_sim.scenario.observations import Observation
from affiliate_sim.scenario.observations import parse as parse_observations
from affiliate_sim.vocabulary import CAMPS, EVENT_KINDS, KINDS, STYLES

LAYERS = ("terrain", "population", "remoteness", "state_presence")
#: Side of a grid cell (km) of a scenario that does not declare ``cell_km`` (the shipped
#: scenarios all declare theirs): the reference size the per-cell conventions of the
#: model were first written for.
DEFAULT_CELL_KM = 25.0
UNIT_LAYERS = ("terrain", "remoteness", "state_presence")  # in [0, 1]
RELATIONS = ("hostile", "allied", "parent", "patron")
INPUT_KINDS = ("pledge", "visibility_shock", "assassination", "courting", "offensive",
               "air_support", "recognition", "decapitation", "withdrawal", "intelligence",
               "deployment", "core_fortunes", "atrocity")
#: What each input kind needs besides ``day``, ``kind`` and ``actor`` (docs/model.md, 6.1).
INPUT_NEEDS: dict[str, tuple[str, ...]] = {
    "assassination": ("target",), "courting": ("target",),
    "recognition": ("target",), "decapitation": ("target",), "withdrawal": ("region",),
    "intelligence": ("target",), "deployment": ("region",),
}
#: Input kinds that take a ``region``.
REGIONAL = ("withdrawal", "deployment", "offensive", "air_support")
#: Inputs that last ``duration`` days (default :data:`DEFAULT_DURATION`).
LASTING = ("offensive", "air_support")
DEFAULT_DURATION = 30
#: Each input kind's range of ``magnitude`` (default 1).
MAGNITUDE: dict[str, tuple[float, float]] = {
    "pledge": (0.0, 1e6), "visibility_shock": (0.0, 1.0), "assassination": (0.0, 1e6),
    "courting": (0.0, 1.0), "offensive": (0.0, 1.0), "air_support": (1.0, 100.0),
    "recognition": (0.0, 1e6), "decapitation": (0.0, 1e6), "withdrawal": (0.0, 1.0),
    "intelligence": (0.0, 1.0), "deployment": (0.0, 1e6), "core_fortunes": (0.0, 10.0),
    "atrocity": (0.0, 1.0),
}


@dataclass(frozen=True)
class OrgField:
    """An optional field of an organization in a scenario file.

    Attributes:
        default: value when the file omits it.
        check: ``unit`` (a number in [0, 1]), ``number`` (in [lo, hi]), ``integer`` (in
            [lo, hi]), ``choice`` (one of ``choices``), ``string`` or ``bool``.
    """

    default: Any
    check: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()


#: Every optional field of an organization (``docs/model.md``, 2.2, says what each means).
ORG_FIELDS: dict[str, OrgField] = {
    "style": OrgField("guerrilla", "choice", choices=STYLES),  # conventional for states
    "sympathizer_share": OrgField(0.0, "unit"),
    "cohesion": OrgField(0.7, "unit"),
    "brutality": OrgField(0.0, "unit"),
    "visibility": OrgField(0.1, "unit"),
    "purge_capacity": OrgField(0.0, "unit"),
    "local_roots": OrgField(0.5, "unit"),
    "quality": OrgField(1.0, "number", 0.0, 10.0),
    "vigilance": OrgField(1.0, "number", 0.0, 2.0),
    "injustice": OrgField(0.0, "unit"),
    "grievance": OrgField(0.0, "unit"),
    "strategic_disagreement": OrgField(0.0, "unit"),
    "established": OrgField(0.5, "unit"),
    "resources": OrgField(0.5, "unit"),
    "foreign_access": OrgField(0.0, "unit"),
    "commanders": OrgField(4, "integer", 0, 64),
    # fighters a state force can draw on to reinforce over the run (omitted: its starting
    # strength once over; the loader fills it in)
    "reserve": OrgField(-1.0, "number", 0.0, 1e7),
    "emir": OrgField("", "string"),
    "dormant": OrgField(False, "bool"),
    "dissident_of": OrgField("", "string"),
    "description": OrgField("", "string"),
}

#: The organization fields a case's estimate may be varied on, replicate by replicate
#: (``params.estimates``; the priors of ``affiliate-calibrate method=abc``), with the range
#: a value must lie in: the starting strength and the numeric attributes.
ESTIMABLE: dict[str, tuple[float, float]] = {
    "fighters": (0.0, 1e7),
    **{k: ((0.0, 1.0) if f.check == "unit" else (float(f.lo), float(f.hi)))
       for k, f in ORG_FIELDS.items() if f.check in ("unit", "number") and k != "reserve"},
}

OrgSpec = make_dataclass(
    "OrgSpec",
    [("name", str), ("camp", str), ("kind", str), ("fighters", float),
     ("regions", dict)]
    + [(k, type(f.default), field(default=f.default)) for k, f in ORG_FIELDS.items()]
    # whether the file left ``reserve`` to its default (its strength once over)
    + [("reserve_default", bool, field(default=False))],
    namespace={"__doc__": "An organization as the scenario gives it (required: name, camp, "
                          "kind, fighters, regions; the rest from ORG_FIELDS)."},
    module=__name__)


@dataclass
class InputSpec:
    """A dated, scripted input."""

    day: int
    kind: str
    actor: str
    target: str = ""
    magnitude: float = 1.0
    note: str = ""
    source: str = ""
    region: str = ""
    duration: int = 0


@dataclass
class Scenario:
    """A validated scenario."""

    name: str
    title: str
    path: Path
    days: int
    height: int
    width: int
    layers: dict[str, np.ndarray]
    regions: dict[str, np.ndarray]
    organizations: list[OrgSpec]
    relations: list[tuple[str, str, str]]
    inputs: list[InputSpec]
    observations: list[Observation] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    description: str = ""
    start_date: str = ""
    cell_km: float = DEFAULT_CELL_KM
    #: ``{organization: {field: (low, high)}}``: the plausible range of each value the file
    #: gives as an estimate (not a number of the article), for priors and screening.
    estimates: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)

    def org_index(self, name: str) -> int:
        return [o.name for o in self.organizations].index(name)


# ------------------------------------------------------------------ schema helpers
class _Checker:
    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, problem: str):
        raise InputError(self.where, key, problem)

    def mapping(self, value, key: str, allowed: dict[str, bool]) -> dict:
        """Check a mapping's keys: ``allowed`` maps each key to whether it is required."""
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {_tname(value)}")
        for k in value:
            if not isinstance(k, str):
                self.fail(key, f"keys must be strings, got {k!r}")
            if k not in allowed:
                self.fail(_join(key, k), f"unknown key (allowed: {', '.join(allowed)})")
        for k, req in allowed.items():
            if req and k not in value:
                self.fail(_join(key, k), "required key is missing")
        return value

    def string(self, value, key: str, choices=None) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            self.fail(key, f"{value!r} is not one of: {', '.join(choices)}")
        return value

    def number(self, value, key: str, lo=None, hi=None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"must be a number, got {_tname(value)} {value!r}")
        value = float(value)
        if not np.isfinite(value):
            self.fail(key, "must be a finite number")
        if lo is not None and value < lo:
            self.fail(key, f"{value:g} is below the minimum {lo:g}")
        if hi is not None and value > hi:
            self.fail(key, f"{value:g} is above the maximum {hi:g}")
        return value

    def integer(self, value, key: str, lo=None, hi=None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, got {_tname(value)} {value!r}")
        if lo is not None and value < lo:
            self.fail(key, f"{value} is below the minimum {lo}")
        if hi is not None and value > hi:
            self.fail(key, f"{value} is above the maximum {hi}")
        return value

    def boolean(self, value, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {value!r}")
        return value

    def seq(self, value, key: str) -> list:
        if not isinstance(value, list):
            self.fail(key, f"must be a list, got {_tname(value)}")
        return value


def _tname(v) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}.get(
        type(v), type(v).__name__)


def _join(key: str, sub: str) -> str:
    return f"{key}.{sub}" if key else sub


# ------------------------------------------------------------------ loading
TOP = {
    "name": True, "title": False, "description": False, "sources": False, "start_date": False,
    "days": True, "grid": True, "background": False, "regions": True, "organizations": True,
    "relations": False, "inputs": False, "observations": False, "cell_km": False,
    "estimates": False,
}
ORG_KEYS = {"name": True, "camp": True, "kind": True, "fighters": True, "region": False,
            "regions": False, **{k: False for k in ORG_FIELDS}}


def resolve(name_or_path: str | Path) -> Path:
    """The file of a scenario given by name (``scenarios/NAME.yaml``) or path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return SCENARIO_DIR / f"{name_or_path}.yaml"


def available() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        InputError: naming the file, the key path and the problem.
    """
    path = resolve(name_or_path)
    return parse_scenario(_read(path), path)


#: Limits of a YAML file read (a scenario or parameter file): bytes, nesting depth, and
#: nodes once every alias is expanded (an alias "bomb" of a few lines would otherwise
#: expand to billions).
MAX_BYTES = 16 * 2**20
MAX_DEPTH = 64
MAX_NODES = 1_000_000


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (data only) that also rejects duplicate keys, reads ``1e3`` as a
    number (YAML 1.2) and enforces :data:`MAX_DEPTH` and :data:`MAX_NODES`."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than "
                                                  f"{MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None and _expanded_size(node) > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"aliases expand to more than {MAX_NODES} values", node.start_mark)
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    dup = key in seen
                except TypeError:  # an unhashable key: construct_mapping reports it
                    continue
                if dup:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def _expanded_size(root) -> int:
    """Values a YAML node graph holds once every alias is expanded (each shared node
    counted as often as it is reached)."""
    memo: dict[int, int] = {}

    def size(node) -> int:
        if id(node) in memo:
            return memo[id(node)]
        memo[id(node)] = 1  # a node reached again while being sized: a cycle
        if isinstance(node, yaml.SequenceNode):
            n = 1 + sum(size(v) for v in node.value)
        elif isinstance(node, yaml.MappingNode):
            n = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            n = 1
        memo[id(node)] = n
        return n

    return size(root)


def read_yaml(text: str, where: str) -> Any:
    """YAML data from ``text`` (:class:`_Loader`: data only, no duplicate keys, bounded).

    Raises:
        InputError: naming ``where`` and the line and column of the problem.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise InputError(where, "file", f"larger than {MAX_BYTES // 2**20} MiB")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(where, "yaml", f"malformed YAML{at}: {problem}") from None
    except RecursionError:
        raise InputError(where, "yaml", f"nested deeper than {MAX_DEPTH} levels") from None


def _read(path: Path) -> Any:
    """A scenario file's YAML data (a missing, unreadable or malformed file is an
    :class:`InputError`)."""
    where = str(path)
    if not path.is_file():
        known = ", ".join(available()) or "none"
        raise InputError(where, "scenario", f"no such scenario file (shipped: {known})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(where, "file", f"cannot be read: {err}") from None
    return read_yaml(text, where)


@contextmanager
def _collecting(problems: list | None):
    """Let an item's problem go on to the next item when collecting (``problems`` a list),
    else raise it."""
    try:
        yield
    except InputError as err:
        if problems is None:
            raise
        problems.append(err)


def check_scenario(name_or_path: str | Path) -> list[InputError]:
    """Every problem of a scenario file, without running it: one per region,
    organization, relation and scripted input that has one, and the first of the rest
    (the file's top level, its observations, its estimates); ``[]`` if there is none."""
    problems: list[InputError] = []
    try:
        path = resolve(name_or_path)
        data = _read(path)
        parse_scenario(data, path, problems)
    except InputError as err:
        problems.append(err)
    return problems


def parse_scenario(data: Any, path: Path, problems: list | None = None) -> Scenario:
    """Validate already-parsed YAML data (see :func:`load_scenario`); with a list of
    ``problems``, the problem of a region, organization, relation or input is added to it
    and the check goes on with the next (:func:`check_scenario`)."""
    c = _Checker(str(path))
    if data is None:
        c.fail("(top)", "the file is empty")
    c.mapping(data, "", TOP)
    name = c.string(data["name"], "name")
    days = c.integer(data["days"], "days", lo=1, hi=100_000)
    grid = c.mapping(data["grid"], "grid", {"height": True, "width": True})
    H = c.integer(grid["height"], "grid.height", lo=1, hi=4096)
    W = c.integer(grid["width"], "grid.width", lo=1, hi=4096)
    start_date = str(data.get("start_date") or "")
    if start_date:  # a calendar date (plots and reports count days from it)
        import datetime

        try:
            datetime.date.fromisoformat(start_date)
        except ValueError:
            c.fail("start_date", f"must be a date YYYY-MM-DD, got {start_date!r}")

    background = c.mapping(data.get("background", {}), "background",
                           {k: False for k in LAYERS})
    layers = {}
    for k in LAYERS:
        v = c.number(background.get(k, 0.0), f"background.{k}", lo=0.0,
                     hi=1.0 if k in UNIT_LAYERS else None)
        layers[k] = np.full((H, W), v)

    regions: dict[str, np.ndarray] = {}
    for i, reg in enumerate(c.seq(data["regions"], "regions")):
        with _collecting(problems):
            key = f"regions[{i}]"
            c.mapping(reg, key, {"name": True, "rows": True, "cols": True, "description": False,
                                 **{k: False for k in LAYERS}})
            rname = c.string(reg["name"], f"{key}.name")
            if rname in regions:
                c.fail(f"{key}.name", f"duplicate region name {rname!r}")
            mask = np.zeros((H, W), dtype=bool)
            r0, r1 = _span(c, reg["rows"], f"{key}.rows", H)
            c0, c1 = _span(c, reg["cols"], f"{key}.cols", W)
            mask[r0:r1, c0:c1] = True
            regions[rname] = mask
            for k in LAYERS:
                if k in reg:
                    layers[k][mask] = c.number(reg[k], f"{key}.{k}", lo=0.0,
                                               hi=1.0 if k in UNIT_LAYERS else None)
    if not regions:
        c.fail("regions", "at least one region is required")

    orgs: list[OrgSpec] = []
    names: set[str] = set()
    for i, od in enumerate(c.seq(data["organizations"], "organizations")):
        with _collecting(problems):
            key = f"organizations[{i}]"
            c.mapping(od, key, ORG_KEYS)
            oname = c.string(od["name"], f"{key}.name")
            if "." in oname or not oname.strip():
                # tables name columns ORG.metric and estimates CASE.ORG.FIELD
                c.fail(f"{key}.name", f"{oname!r}: an organization's name has no dot and "
                       "is not blank")
            if oname in names:
                c.fail(f"{key}.name", f"duplicate organization name {oname!r}")
            names.add(oname)
            kw: dict[str, Any] = {
                "name": oname,
                "camp": c.string(od["camp"], f"{key}.camp", CAMPS),
                "kind": c.string(od["kind"], f"{key}.kind", KINDS),
                "fighters": c.number(od["fighters"], f"{key}.fighters", lo=0.0, hi=1e7),
            }
            if "region" in od and "regions" in od:
                c.fail(f"{key}.regions", "give either region or regions, not both")
            if "region" in od:
                kw["regions"] = {c.string(od["region"], f"{key}.region"): 1.0}
            elif "regions" in od:
                rmap = od["regions"]
                if not isinstance(rmap, dict) or not rmap:
                    c.fail(f"{key}.regions", "must be a mapping of region name to share")
                kw["regions"] = {r: c.number(s, f"{key}.regions.{r}", lo=0.0)
                                 for r, s in rmap.items()}
                if sum(kw["regions"].values()) <= 0:
                    c.fail(f"{key}.regions", "shares must add up to more than zero")
            else:
                c.fail(f"{key}.region", "required key is missing (region or regions)")
            for r in kw["regions"]:
                if r not in regions:
                    c.fail(f"{key}.region", f"no region named {r!r} (regions: "
                           f"{', '.join(regions)})")
            for f, spec in ORG_FIELDS.items():
                if f not in od:
                    continue
                k = f"{key}.{f}"
                if spec.check == "unit":
                    kw[f] = c.number(od[f], k, lo=0.0, hi=1.0)
                elif spec.check == "number":
                    kw[f] = c.number(od[f], k, lo=spec.lo, hi=spec.hi)
                elif spec.check == "integer":
                    kw[f] = c.integer(od[f], k, lo=spec.lo, hi=spec.hi)
                elif spec.check == "choice":
                    kw[f] = c.string(od[f], k, spec.choices)
                elif spec.check == "bool":
                    kw[f] = c.boolean(od[f], k)
                else:
                    kw[f] = c.string(od[f], k)
            if "style" not in od and kw["kind"] == "state_force":
                kw["style"] = "conventional"
            if "reserve" not in od:
                kw["reserve"] = kw["fighters"]
                kw["reserve_default"] = True
            orgs.append(OrgSpec(**kw))
    if not orgs:
        c.fail("organizations", "at least one organization is required")
    for i, o in enumerate(orgs):
        if o.dissident_of and o.dissident_of not in names:
            c.fail(f"organizations[{i}].dissident_of", f"no organization named "
                   f"{o.dissident_of!r}")
        if o.dissident_of == o.name:
            c.fail(f"organizations[{i}].dissident_of", "an organization cannot be its own "
                   "dissident faction")

    relations = []
    for i, rel in enumerate(c.seq(data.get("relations", []) or [], "relations")):
        with _collecting(problems):
            key = f"relations[{i}]"
            c.mapping(rel, key, {"a": True, "b": True, "kind": True, "note": False})
            a = c.string(rel["a"], f"{key}.a")
            b = c.string(rel["b"], f"{key}.b")
            kind = c.string(rel["kind"], f"{key}.kind", RELATIONS)
            for k, v in (("a", a), ("b", b)):
                if v not in names:
                    c.fail(f"{key}.{k}", f"no organization named {v!r}")
            if a == b:
                c.fail(key, "an organization cannot relate to itself")
            relations.append((a, b, kind))

    inputs = []
    kinds_of = {o.name: o.kind for o in orgs}
    for i, inp in enumerate(c.seq(data.get("inputs", []) or [], "inputs")):
        with _collecting(problems):
            key = f"inputs[{i}]"
            c.mapping(inp, key, {"day": True, "kind": True, "actor": True, "target": False,
                                 "magnitude": False, "note": False, "source": False,
                                 "region": False, "duration": False})
            day = c.integer(inp["day"], f"{key}.day", lo=0)
            if day >= days:
                c.fail(f"{key}.day", f"day {day} is outside the run (days: {days})")
            kind = c.string(inp["kind"], f"{key}.kind", INPUT_KINDS)
            actor = c.string(inp["actor"], f"{key}.actor")
            if actor not in names:
                c.fail(f"{key}.actor", f"no organization named {actor!r}")
            target = ""
            if "target" in inp:
                target = c.string(inp["target"], f"{key}.target")
                if target not in names:
                    c.fail(f"{key}.target", f"no organization named {target!r}")
            if "target" in INPUT_NEEDS.get(kind, ()) and not target:
                c.fail(f"{key}.target", f"a {kind} input needs a target")
            if target == actor:
                c.fail(f"{key}.target", f"a {kind} input cannot target its own actor")
            region = ""
            if "region" in inp and kind not in REGIONAL:
                c.fail(f"{key}.region", f"only {', '.join(REGIONAL)} inputs take a region")
            if "region" in inp:
                region = c.string(inp["region"], f"{key}.region")
                if region not in regions:
                    c.fail(f"{key}.region", f"no region named {region!r} (regions: "
                           f"{', '.join(regions)})")
            elif "region" in INPUT_NEEDS.get(kind, ()):
                c.fail(f"{key}.region", f"a {kind} input needs a region")
            if kind == "offensive" and not target and not region:
                c.fail(f"{key}.target", "an offensive input needs a target or a region")
            if "duration" in inp and kind not in LASTING:
                c.fail(f"{key}.duration", f"only {' and '.join(LASTING)} inputs last (a {kind} "
                       "input happens on its day)")
            duration = (c.integer(inp.get("duration", DEFAULT_DURATION), f"{key}.duration", lo=1,
                                  hi=100_000) if kind in LASTING else 0)
            if actor not in kinds_of:  # its organization had a problem of its own
                continue
            if kind in ("recognition", "core_fortunes") and kinds_of[actor] != "is_core":
                c.fail(f"{key}.actor", f"a {kind} input's actor is the IS core (kind is_core)")
            if kind in ("intelligence", "decapitation") and kinds_of[actor] != "state_force":
                c.fail(f"{key}.actor", f"a {kind} input's actor must be a state force")
            lo, hi = MAGNITUDE[kind]
            mag = c.number(inp.get("magnitude", 1.0), f"{key}.magnitude", lo=lo, hi=hi)
            inputs.append(InputSpec(day=day, kind=kind, actor=actor, target=target,
                                    magnitude=mag, note=str(inp.get("note", "")),
                                    source=str(inp.get("source", "")), region=region,
                                    duration=duration))

    observations = parse_observations(data.get("observations"), str(path), names,
                                      set(regions), days, tuple(EVENT_KINDS))
    estimates = _estimates(c, data.get("estimates"), orgs, names)
    sources = [c.string(s, f"sources[{i}]") for i, s in
               enumerate(c.seq(data.get("sources", []) or [], "sources"))]
    return Scenario(
        name=name, title=str(data.get("title", name)), path=path, days=days, height=H,
        width=W, layers=layers, regions=regions, organizations=orgs, relations=relations,
        inputs=sorted(inputs, key=lambda x: x.day), observations=observations,
        sources=sources, description=str(data.get("description", "")),
        start_date=start_date,
        cell_km=c.number(data.get("cell_km", DEFAULT_CELL_KM), "cell_km", lo=0.01,
                         hi=10_000),
        estimates=estimates,
    )


def _estimates(c: _Checker, value, orgs: list,
               names: set[str]) -> dict[str, dict[str, tuple[float, float]]]:
    """The ``estimates`` block: ``{organization: {field: [low, high]}}``, each range inside
    the field's (:data:`ESTIMABLE`) and holding the file's own value."""
    if value is None:
        return {}
    by_name = {o.name: o for o in orgs}
    out: dict[str, dict[str, tuple[float, float]]] = {}
    c.mapping(value, "estimates", {n: False for n in names})
    for oname, fmap in value.items():
        if oname not in by_name:  # its organization had a problem of its own
            continue
        key = f"estimates.{oname}"
        c.mapping(fmap, key, {f: False for f in ESTIMABLE})
        spec = by_name[oname]
        out[oname] = {}
        for f, rng in fmap.items():
            k = f"{key}.{f}"
            seq = c.seq(rng, k)
            if len(seq) != 2:
                c.fail(k, f"must be [low, high], got {rng!r}")
            flo, fhi = ESTIMABLE[f]
            lo = c.number(seq[0], f"{k}[0]", lo=flo, hi=fhi)
            hi = c.number(seq[1], f"{k}[1]", lo=flo, hi=fhi)
            if not lo < hi:
                c.fail(k, f"low {lo} must be below high {hi}")
            own = float(getattr(spec, f))
            if not lo <= own <= hi:
                c.fail(k, f"the range [{lo}, {hi}] must hold the file's value {own}")
            if f == "fighters" and lo <= 0:
                c.fail(k, "a range of fighters must start above 0")
            out[oname][f] = (lo, hi)
    return out


def _span(c: _Checker, value, key: str, size: int) -> tuple[int, int]:
    """A half-open ``[start, stop)`` index span inside ``[0, size]``."""
    seq = c.seq(value, key)
    if len(seq) != 2:
        c.fail(key, f"must be [start, stop], got {value!r}")
    a = c.integer(seq[0], f"{key}[0]", lo=0, hi=size - 1)
    b = c.integer(seq[1], f"{key}[1]", lo=1, hi=size)
    if b <= a:
        c.fail(key, f"stop {b} must be greater than start {a}")
    return a, b
