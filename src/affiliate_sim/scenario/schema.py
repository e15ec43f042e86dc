"""The scenario file's schema as data: a JSON Schema for editors and the reference
(``docs/scenarios.md``), both generated from the loader's own tables
(:mod:`affiliate_sim.scenario.files`, :mod:`affiliate_sim.scenario.observations`), so that
they cannot drift from what the loader accepts. The loader stays the judge: it also checks
what a JSON Schema cannot say (names that refer to each other, days inside the run, a
range holding the file's value).

``affiliate-sim schema`` prints the JSON Schema; ``affiliate-sim schema --markdown`` the
reference.
"""

from __future__ import annotations

import json
from typing import Any

from affiliate_sim.scenario import files as F
from affiliate_sim.scenario import observations as O
from affiliate_sim.vocabulary import CAMPS, EVENT_KINDS, KINDS

#: What each top-level key holds.
TOP_DOCS = {
    "name": "the scenario's name (outputs and `params.estimates` use it)",
    "title": "a one-line title",
    "description": "what the case is: who, where, what happened on day 0",
    "sources": "quotations and references the file rests on",
    "start_date": "the calendar date of day 0 (YYYY-MM-DD)",
    "days": "run length, days",
    "grid": "`height` and `width` in cells",
    "cell_km": f"side of a cell, km (default {F.DEFAULT_CELL_KM}): movement, reach, sensing "
               "and concealment follow it",
    "background": "each layer's value outside the regions (0 if omitted)",
    "regions": "named rectangles of cells, with their layers",
    "organizations": "the actors: their camp, kind, strength, position and attributes",
    "relations": "hostility, alliances, parents and patrons at day 0",
    "inputs": "dated scripted inputs: the start of the case and decisions from outside the "
              "fighting",
    "observations": "what the model must produce (scored on finished runs, never read by "
                    "the rules)",
    "estimates": "the plausible range `[low, high]` of each value the file gives as an "
                 "estimate, per organization and field (priors of the calibration)",
}

#: What each layer of a cell means.
LAYER_DOCS = {
    "terrain": "ruggedness, [0, 1]",
    "population": "inhabitants, thousands per cell",
    "remoteness": "distance from centres of power, [0, 1]",
    "state_presence": "reach of the state's security apparatus, [0, 1]",
}

#: What each organization field means (units in brackets).
ORG_DOCS = {
    "name": "identifier, unique in the file, without a dot",
    "camp": "allegiance at day 0",
    "kind": "kind of organization (the case book's actor kinds)",
    "fighters": "strength at day 0 [fighters]",
    "region": "the one region its fighters start in",
    "regions": "regions its fighters start in, with each region's share",
    "style": "guerrilla (conceals itself) or conventional (default for a state force)",
    "sympathizer_share": "share of its fighters latently sympathetic to a rival [0, 1]",
    "cohesion": "organizational cohesion [0, 1]",
    "brutality": "brutality against civilians [0, 1]",
    "visibility": "exposure to state intelligence [0, 1]",
    "purge_capacity": "strength of an intelligence wing (amniyat) [0, 1]",
    "local_roots": "depth of local roots [0, 1]",
    "quality": "combat quality, a multiplier [0, 10]",
    "vigilance": "a state's vigilance, multiplying params.state_vigilance [0, 2]",
    "injustice": "the leader's injustice towards his fighters [0, 1]",
    "grievance": "fighters' grievance against their leader at day 0 [0, 1]",
    "strategic_disagreement": "disagreement over strategy with the leader [0, 1]",
    "established": "how established it is (softens the loss of a leader) [0, 1]",
    "resources": "money and means [0, 1]",
    "foreign_access": "how reachable it is for foreign fighters [0, 1]",
    "commanders": "commanders below the emir [count]",
    "reserve": "fighters a state force can draw on to reinforce (default: its strength "
               "once over) [fighters]",
    "emir": "the emir's name (a label in events)",
    "dormant": "exists but does not act yet (a dissident faction before its split)",
    "dissident_of": "this organization is the dissident faction of the named affiliate",
    "description": "free text",
}

#: What each key of a scripted input means.
INPUT_DOCS = {
    "day": "the day it happens (0 = the start)",
    "kind": "what happens (docs/model.md, 6.1)",
    "actor": "the organization that acts",
    "target": "the organization it acts on",
    "magnitude": "how much (its meaning and range depend on the kind)",
    "region": "the region it acts in",
    "duration": f"days it lasts (offensive, air_support; default {F.DEFAULT_DURATION})",
    "note": "free text (the event log shows it)",
    "source": "the sentence it rests on",
}

#: What each key of an observation means.
OBS_DOCS = {
    "id": "identifier, unique in the file",
    "quantity": "what is measured",
    "window": "[first day, last day] it is measured over",
    "source": "the article's sentence it rests on",
    "org": "the organization measured",
    "partner": "the other side of a flow (killer, receiver, destination)",
    "flow": "which flow",
    "event": "which event kind",
    "actor": "events by this organization only",
    "target_org": "events against this organization only",
    "region": "the region measured",
    "stat": "end (default), min, max over the window, or day",
    "span": "days of the moving span (peak_flow, max_drop)",
    "at_least": "lower end of the target",
    "at_most": "upper end of the target",
    "tolerance": "widens the target on both sides (default 0)",
    "note": "free text",
    "anchor": "count the window's days from the first event of this kind",
    "anchor_actor": "the anchor event's actor",
    "anchor_target": "the anchor event's target",
    "min_fighters": "max_drop: spans starting with fewer fighters are ignored (default 5)",
}

_STR = {"type": "string"}
_NUM = {"type": "number"}
_SPAN = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2,
         "maxItems": 2}


def _org_field(f: F.OrgField) -> dict[str, Any]:
    if f.check == "unit":
        return {"type": "number", "minimum": 0, "maximum": 1}
    if f.check == "number":
        return {"type": "number", "minimum": f.lo, "maximum": f.hi}
    if f.check == "integer":
        return {"type": "integer", "minimum": f.lo, "maximum": f.hi}
    if f.check == "choice":
        return {"type": "string", "enum": list(f.choices)}
    if f.check == "bool":
        return {"type": "boolean"}
    return dict(_STR)


def _obj(props: dict[str, dict], required, docs: dict[str, str]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "required": [k for k in props if k in required],
            "properties": {k: {**v, "description": docs.get(k, "")} for k, v in props.items()}}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    layers = {k: {"type": "number", "minimum": 0,
                  **({"maximum": 1} if k in F.UNIT_LAYERS else {})} for k in F.LAYERS}
    org_props = {"name": {"type": "string", "pattern": r"^[^.]*\S[^.]*$"}, "camp": {"type": "string", "enum": list(CAMPS)},
                 "kind": {"type": "string", "enum": list(KINDS)},
                 "fighters": {"type": "number", "minimum": 0, "maximum": 1e7},
                 "region": _STR,
                 "regions": {"type": "object", "minProperties": 1,
                             "additionalProperties": {"type": "number", "minimum": 0}},
                 **{k: _org_field(f) for k, f in F.ORG_FIELDS.items()}}
    input_props = {"day": {"type": "integer", "minimum": 0},
                   "kind": {"type": "string", "enum": list(F.INPUT_KINDS)},
                   "actor": _STR, "target": _STR, "magnitude": _NUM, "region": _STR,
                   "duration": {"type": "integer", "minimum": 1, "maximum": 100_000},
                   "note": _STR, "source": _STR}
    obs_types = {"window": {"type": "array", "items": {"type": "integer"}, "minItems": 2,
                            "maxItems": 2},
                 "quantity": {"type": "string", "enum": list(O.QUANTITIES)},
                 "flow": {"type": "string", "enum": list(O.FLOWS)},
                 "event": {"type": "string", "enum": list(EVENT_KINDS)},
                 "anchor": {"type": "string", "enum": list(EVENT_KINDS)},
                 "stat": {"type": "string", "enum": list(O.STATS)},
                 "span": {"type": "integer", "minimum": 1},
                 "at_least": _NUM, "at_most": _NUM, "tolerance": {"type": "number",
                                                                   "minimum": 0},
                 "min_fighters": {"type": "number", "minimum": 0}}
    obs_props = {k: obs_types.get(k, _STR) for k in O.KEYS}
    estimate = {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2}
    props = {
        "name": _STR, "title": _STR, "description": _STR,
        "sources": {"type": "array", "items": _STR}, "start_date": _STR,
        "days": {"type": "integer", "minimum": 1, "maximum": 100_000},
        "grid": _obj({"height": {"type": "integer", "minimum": 1, "maximum": 4096},
                      "width": {"type": "integer", "minimum": 1, "maximum": 4096}},
                     ("height", "width"), {"height": "rows of cells",
                                           "width": "columns of cells"}),
        "cell_km": {"type": "number", "minimum": 0.01, "maximum": 10_000},
        "background": _obj(layers, (), LAYER_DOCS),
        "regions": {"type": "array", "minItems": 1, "items": _obj(
            {"name": _STR, "rows": _SPAN, "cols": _SPAN, "description": _STR, **layers},
            ("name", "rows", "cols"),
            {"name": "identifier, unique in the file", "rows": "[start, stop) rows",
             "cols": "[start, stop) columns", **LAYER_DOCS})},
        "organizations": {"type": "array", "minItems": 1, "items": _obj(
            org_props, ("name", "camp", "kind", "fighters"), ORG_DOCS)},
        "relations": {"type": "array", "items": _obj(
            {"a": _STR, "b": _STR, "kind": {"type": "string", "enum": list(F.RELATIONS)},
             "note": _STR}, ("a", "b", "kind"),
            {"a": "an organization", "b": "another (parent: a's parent is b; patron: b "
             "invests in a)", "kind": "the relation", "note": "free text"})},
        "inputs": {"type": "array", "items": _obj(input_props, ("day", "kind", "actor"),
                                                  INPUT_DOCS)},
        "observations": {"type": "array", "items": _obj(
            obs_props, [k for k, req in O.KEYS.items() if req], OBS_DOCS)},
        "estimates": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False,
            "properties": {f: estimate for f in F.ESTIMABLE}}},
    }
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://affiliate-sim/scenario.schema.json",
            "title": "affiliate_sim scenario file", **_obj(props, [k for k, req in F.TOP.items()
                                                                  if req], TOP_DOCS)}


def _row(key: str, spec: dict[str, Any], required: bool) -> str:
    t = spec.get("type", "")
    if "enum" in spec:
        t += ": " + ", ".join(f"`{v}`" for v in spec["enum"])
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if lo is None and hi is None:
        rng = ""
    else:
        rng = (f"[{lo:g}" if lo is not None else "(-inf") + ", " + \
              (f"{hi:g}]" if hi is not None else "inf)")
    return (f"| `{key}` | {'yes' if required else 'no'} | {t} | {rng} | "
            f"{spec.get('description', '')} |")


def _table(obj: dict[str, Any], defaults: dict[str, Any] | None = None) -> list[str]:
    head = "| key | required | type | range | meaning |"
    if defaults is not None:
        head = "| key | required | type | range | default | meaning |"
    lines = [head, "|---|---|---|---|---|" + ("---|" if defaults is not None else "")]
    for k, spec in obj["properties"].items():
        row = _row(k, spec, k in obj["required"])
        if defaults is not None:
            d = defaults.get(k, "")
            cells = row.split(" | ")
            cells.insert(4, f"`{d!r}`" if k in defaults else "")
            row = " | ".join(cells)
        lines.append(row)
    return lines


def reference_markdown() -> str:
    """The scenario reference (``docs/scenarios.md``)."""
    s = json_schema()
    p = s["properties"]
    org_defaults = {k: f.default for k, f in F.ORG_FIELDS.items() if k != "reserve"}
    parts = [
        "# Scenario files: reference",
        "",
        "Generated from the loader's tables by `affiliate-sim schema --markdown` "
        "(`src/affiliate_sim/scenario/schema.py`; a test keeps this file equal to it). "
        "`affiliate-sim schema` prints the same as a JSON Schema for editors "
        "(e.g. `# yaml-language-server: $schema=scenario.schema.json`). "
        "The loader checks more than the schema can say: that names refer to organizations "
        "and regions of the file, that days lie inside the run, that an estimate's range "
        "holds the file's value; `affiliate-sim validate FILE` runs every check. "
        "What each value does in the model: [model.md](model.md), sections 2 and 5-6.",
        "",
        "## Top level", "", *_table(s), "",
        "## `grid`", "", *_table(p["grid"]), "",
        "## `background` and a region's layers", "", *_table(p["background"]), "",
        "## `regions[]`", "", *_table(p["regions"]["items"]), "",
        "## `organizations[]`", "",
        "Give `region` or `regions`, not both.", "",
        *_table(p["organizations"]["items"], org_defaults), "",
        "## `relations[]`", "", *_table(p["relations"]["items"]), "",
        "## `inputs[]`", "",
        "Each kind's needs and the range of its `magnitude`:", "",
        "| kind | needs | magnitude | lasts |", "|---|---|---|---|",
        *[f"| `{k}` | {', '.join(f'`{n}`' for n in F.INPUT_NEEDS.get(k, ())) or '-'} | "
          f"[{F.MAGNITUDE[k][0]:g}, {F.MAGNITUDE[k][1]:g}] | "
          f"{'yes' if k in F.LASTING else 'no'} |" for k in F.INPUT_KINDS],
        "", *_table(p["inputs"]["items"]), "",
        "## `observations[]`", "",
        "Each quantity's needs: " + "; ".join(
            f"`{q}`: {', '.join(f'`{n}`' for n in O.NEEDS[q])}" for q in O.QUANTITIES) + ".",
        "", *_table(p["observations"]["items"]), "",
        "## `estimates`", "",
        "`{organization: {field: [low, high]}}`, for the fields " + ", ".join(
            f"`{f}`" for f in F.ESTIMABLE) + " (each range inside the field's range, "
        "holding the file's value).", "",
    ]
    return "\n".join(parts)


def main(args: list[str]) -> int:
    """``affiliate-sim schema [--markdown]``."""
    import sys

    if args not in ([], ["--markdown"]):
        print("affiliate-sim schema: error: the only option is --markdown", file=sys.stderr)
        return 2
    print(reference_markdown() if args else json.dumps(json_schema(), indent=2))
    return 0
