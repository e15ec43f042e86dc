"""Observations: facts of a case the model must produce, and how a run is scored on them.

An observation names a quantity measured on a finished run, within a day window, and the
target the article gives for it, with a tolerance:

.. code-block:: yaml

    - id: emir_killed_within_4_months
      quantity: event_count        # see QUANTITIES
      event: emir_killed
      target_org: Jund_al_Khilafah
      window: [0, 120]
      at_least: 1
      source: "About a month after Jund al-Khilafah's inception, Algerian security forces
               killed the group's emir"

Quantities (each reads the model's history, never its inputs):

* ``fighters``: fighters of ``org`` at the end of the window (``stat: end``, default), or
  their ``min`` / ``max`` over it.
* ``flow``: total of a ``flow`` (killed, detained, surrendered, defected, fled, deserted,
  recruited_local, recruited_foreign, defected_in) of ``org`` within the window, optionally
  only with ``partner`` (the killer, detainer, receiver or destination).
* ``flow_share``: the same divided by ``org``'s fighters at the start of the window.
* ``peak_flow``: the largest total of a ``flow`` of ``org`` (optionally only with
  ``partner``) within any ``span`` days of the window; with ``stat: day``, the first day
  of that span instead.
* ``event_count``: events of kind ``event`` within the window, optionally filtered by
  ``actor`` and ``target_org``.
* ``event_total``: the sum of the same events' magnitudes (e.g. commanders killed).
* ``first_event_day``: day of the first such event (the window end + 1 if none).
* ``leaders_killed``: the leaders of ``target_org`` killed within the window, its emirs
  (each ``emir_killed`` event counts one) and its commanders (each ``commanders_killed``
  event its magnitude), optionally only by ``actor``.
* ``main_killer_share``: share of ``org``'s killed within the window killed by ``partner``.
* ``region_share``: share of ``region``'s cells held by ``org`` at the end of the window
  (``stat: end``), or its ``min`` / ``max`` over the window.
* ``max_drop``: the largest fall of ``org``'s fighters within any ``span`` days of the
  window, as a share of its fighters at the start of that span; spans that start with
  fewer than ``min_fighters`` (default 5) are ignored, so a remnant's last losses do not
  count as "most of the group"; with ``stat: day``, the first day of that span.
* ``region_presence``: share of ``org``'s fighters inside ``region`` at the window's end.

A window may be anchored on an event: with ``anchor: KIND`` (and optionally
``anchor_actor`` and ``anchor_target``), its days count from the first event of that kind;
if there is none the observation's value is ``nan`` and it is not met.

Targets: ``at_least``, ``at_most``, or both; ``tolerance`` widens them (default 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from affiliate_sim.errors import InputError

QUANTITIES = ("fighters", "flow", "flow_share", "peak_flow", "event_count", "event_total",
              "first_event_day", "main_killer_share", "region_share", "max_drop",
              "region_presence", "leaders_killed")
FLOWS = ("killed", "detained", "surrendered", "defected", "fled", "deserted",
         "recruited_local", "recruited_foreign", "defected_in")
STATS = ("end", "min", "max", "day")
#: The statistics each quantity accepts (``end`` is every quantity's default).
STAT_OF = {"fighters": ("end", "min", "max"), "region_share": ("end", "min", "max"),
           "max_drop": ("end", "day"), "peak_flow": ("end", "day")}

KEYS = {"id": True, "quantity": True, "window": True, "source": True, "org": False,
        "partner": False, "flow": False, "event": False, "actor": False, "target_org": False,
        "region": False, "stat": False, "span": False, "at_least": False, "at_most": False,
        "tolerance": False, "note": False, "anchor": False, "anchor_actor": False,
        "anchor_target": False,
        "min_fighters": False}
NEEDS = {"fighters": ("org",), "flow": ("org", "flow"), "flow_share": ("org", "flow"),
         "peak_flow": ("org", "flow", "span"), "event_count": ("event",),
         "event_total": ("event",), "first_event_day": ("event",),
         "main_killer_share": ("org", "partner"), "region_share": ("org", "region"),
         "max_drop": ("org", "span"), "region_presence": ("org", "region"),
         "leaders_killed": ("target_org",)}


@dataclass(frozen=True)
class Observation:
    """A validated observation (see the module docstring)."""

    id: str
    quantity: str
    window: tuple[int, int]
    source: str
    org: str = ""
    partner: str = ""
    flow: str = ""
    event: str = ""
    actor: str = ""
    target_org: str = ""
    region: str = ""
    stat: str = "end"
    span: int = 0
    at_least: float | None = None
    at_most: float | None = None
    tolerance: float = 0.0
    note: str = ""
    anchor: str = ""
    anchor_actor: str = ""
    anchor_target: str = ""
    min_fighters: float = 5.0

    def target_text(self) -> str:
        """The target as a short human-readable string."""
        if self.at_least is not None and self.at_most is not None:
            return f"{self.at_least:g} to {self.at_most:g}"
        if self.at_least is not None:
            return f">= {self.at_least:g}"
        return f"<= {self.at_most:g}"

    def met(self, value: float) -> bool:
        """Whether a measured value meets the target (with the tolerance)."""
        if value != value:  # nan: the anchor event never happened
            return False
        if self.at_least is not None and value < self.at_least - self.tolerance:
            return False
        if self.at_most is not None and value > self.at_most + self.tolerance:
            return False
        return True


def parse(items: Any, where: str, orgs: set[str], regions: set[str], days: int,
          event_kinds: tuple[str, ...]) -> list[Observation]:
    """Validate the ``observations`` list of a scenario file.

    Raises:
        InputError: naming the file, the key path and the problem.
    """
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(where, "observations", "must be a list")
    out: list[Observation] = []
    seen: set[str] = set()
    for i, o in enumerate(items):
        key = f"observations[{i}]"

        def fail(k, problem, key=key):
            raise InputError(where, f"{key}.{k}" if k else key, problem)

        if not isinstance(o, dict):
            fail("", "must be a mapping")
        for k in o:
            if k not in KEYS:
                fail(k, f"unknown key (allowed: {', '.join(KEYS)})")
        for k, req in KEYS.items():
            if req and k not in o:
                fail(k, "required key is missing")
        oid = o["id"]
        if not isinstance(oid, str) or not oid:
            fail("id", "must be a non-empty string")
        if oid in seen:
            fail("id", f"duplicate observation id {oid!r}")
        seen.add(oid)
        q = o["quantity"]
        if q not in QUANTITIES:
            fail("quantity", f"{q!r} is not one of: {', '.join(QUANTITIES)}")
        for k in NEEDS[q]:
            if k not in o:
                fail(k, f"a {q} observation needs {k}")
        w = o["window"]
        if (not isinstance(w, list) or len(w) != 2
                or any(isinstance(x, bool) or not isinstance(x, int) for x in w)):
            fail("window", f"must be [first_day, last_day] (whole numbers), got {w!r}")
        if not 0 <= w[0] <= w[1] <= days:
            fail("window", f"{w!r} is outside the run (days 0 to {days})")
        if "anchor" in o and o["anchor"] not in event_kinds:
            fail("anchor", f"{o['anchor']!r} is not an event kind")
        for k in ("anchor_actor", "anchor_target"):
            if k in o and "anchor" not in o:
                fail(k, "needs anchor")
        for k in ("org", "partner", "actor", "target_org", "anchor_actor", "anchor_target"):
            if k in o and o[k] not in orgs:
                fail(k, f"no organization named {o[k]!r}")
        if "region" in o and o["region"] not in regions:
            fail("region", f"no region named {o['region']!r}")
        if "flow" in o and o["flow"] not in FLOWS:
            fail("flow", f"{o['flow']!r} is not one of: {', '.join(FLOWS)}")
        if "event" in o and o["event"] not in event_kinds:
            fail("event", f"{o['event']!r} is not an event kind ({', '.join(event_kinds)})")
        if "stat" in o and o["stat"] not in STAT_OF.get(q, ("end",)):
            fail("stat", f"{o['stat']!r} is not one of: "
                         f"{', '.join(STAT_OF.get(q, ('end',)))} (for {q})")
        if "span" in o and (isinstance(o["span"], bool) or not isinstance(o["span"], int)
                            or o["span"] < 1):
            fail("span", "must be a whole number of days >= 1")
        for k in ("at_least", "at_most", "tolerance", "min_fighters"):
            if k in o and (isinstance(o[k], bool) or not isinstance(o[k], (int, float))):
                fail(k, f"must be a number, got {o[k]!r}")
        if "at_least" not in o and "at_most" not in o:
            fail("", "needs a target: at_least, at_most or both")
        if "at_least" in o and "at_most" in o and o["at_least"] > o["at_most"]:
            fail("at_most", "is below at_least")
        if o.get("tolerance", 0) < 0:
            fail("tolerance", "must be >= 0")
        if not isinstance(o["source"], str) or len(o["source"].strip()) < 10:
            fail("source", "must quote the article sentence the observation comes from")
        out.append(Observation(
            id=oid, quantity=q, window=(w[0], w[1]), source=o["source"].strip(),
            org=o.get("org", ""), partner=o.get("partner", ""), flow=o.get("flow", ""),
            event=o.get("event", ""), actor=o.get("actor", ""),
            target_org=o.get("target_org", ""), region=o.get("region", ""),
            stat=o.get("stat", "end"), span=int(o.get("span", 0)),
            at_least=None if "at_least" not in o else float(o["at_least"]),
            at_most=None if "at_most" not in o else float(o["at_most"]),
            tolerance=float(o.get("tolerance", 0.0)), note=str(o.get("note", "")),
            anchor=o.get("anchor", ""), anchor_actor=o.get("anchor_actor", ""),
            anchor_target=o.get("anchor_target", ""),
            min_fighters=float(o.get("min_fighters", 5.0))))
    return out


def measure(model, obs: Observation) -> float:
    """The value of an observation's quantity on a finished run."""
    h = model.history
    names = h.names
    a, b = obs.window
    if obs.anchor:
        t0 = [e["day"] for e in model.events if e["kind"] == obs.anchor
              and (not obs.anchor_actor or e["actor"] == obs.anchor_actor)
              and (not obs.anchor_target or e["target"] == obs.anchor_target)]
        if not t0:
            return float("nan")
        a, b = a + min(t0), b + min(t0)
    a, b = min(a, h.days), min(b, h.days)
    q = obs.quantity
    i = names.index(obs.org) if obs.org else -1
    if q == "fighters":
        series = h.stocks["fighters"][a:b + 1, i]
        return float({"end": series[-1], "min": series.min(), "max": series.max()}[obs.stat])
    if q in ("flow", "flow_share"):
        total = _flow(h, names, obs, i, a, b)
        if q == "flow":
            return total
        start = h.stocks["fighters"][a, i]
        return total / start if start > 0 else 0.0
    if q == "peak_flow":
        series = _flow_series(h, names, obs, i, a, b)
        s = min(obs.span, len(series))
        if s < 1:
            return float(a) if obs.stat == "day" else 0.0
        c = np.concatenate([[0.0], np.cumsum(series)])
        window = c[s:] - c[:-s]
        k = int(np.argmax(window))
        return float(a + k) if obs.stat == "day" else float(window[k])
    if q in ("event_count", "event_total", "first_event_day"):
        hits = [e for e in model.events if e["kind"] == obs.event and a <= e["day"] <= b
                and (not obs.actor or e["actor"] == obs.actor)
                and (not obs.target_org or e["target"] == obs.target_org)]
        if q == "event_count":
            return float(len(hits))
        if q == "event_total":
            return float(sum(e["magnitude"] for e in hits))
        return float(min(e["day"] for e in hits)) if hits else float(b + 1)
    if q == "leaders_killed":
        return float(sum(1.0 if e["kind"] == "emir_killed" else e["magnitude"]
                         for e in model.events
                         if e["kind"] in ("emir_killed", "commanders_killed")
                         and a <= e["day"] <= b and e["target"] == obs.target_org
                         and (not obs.actor or e["actor"] == obs.actor)))
    if q == "main_killer_share":
        killed = h.pairs["killed"][a:b, i].sum(0)
        total = killed.sum()
        return float(killed[names.index(obs.partner)] / total) if total > 0 else 0.0
    if q == "region_share":
        j = h.region_names.index(obs.region)
        cells = float(model.case.regions[obs.region].sum())
        series = h.region_cells[a:b + 1, i, j] / cells
        return float({"end": series[-1], "min": series.min(), "max": series.max()}[obs.stat])
    if q == "max_drop":
        f = h.stocks["fighters"][a:b + 1, i]
        s = obs.span
        if len(f) <= s:
            s = len(f) - 1
        if s < 1:
            return 0.0
        start = f[:-s]
        drop = np.where(start >= max(obs.min_fighters, 1e-9),
                        (start - f[s:]) / np.maximum(start, 1e-12), 0.0)
        return float(a + int(np.argmax(drop))) if obs.stat == "day" else float(drop.max())
    if q == "region_presence":
        j = h.region_names.index(obs.region)
        total = h.stocks["fighters"][b, i]
        return float(h.region_fighters[b, i, j] / total) if total > 0 else 0.0
    raise ValueError(q)  # unreachable after validation


def _flow_series(h, names, obs, i, a, b) -> np.ndarray:
    """The daily series of an observation's flow over days ``a .. b - 1``."""
    if obs.flow in ("killed", "detained", "surrendered", "defected", "defected_in"):
        m = h.pairs["defected" if obs.flow == "defected_in" else obs.flow][a:b]
        if obs.flow == "defected_in":
            m = m.transpose(0, 2, 1)
        sub = m[:, i, names.index(obs.partner)] if obs.partner else m[:, i, :].sum(axis=1)
        return np.asarray(sub, dtype=float)
    return np.asarray(h.flows[obs.flow][a:b, i], dtype=float)


def _flow(h, names, obs, i, a, b) -> float:
    return float(_flow_series(h, names, obs, i, a, b).sum())


def evaluate(model, observations: list[Observation]) -> dict[str, dict[str, Any]]:
    """``{id: {"value": float, "met": bool, "target": str}}`` for a finished run."""
    out = {}
    for obs in observations:
        v = measure(model, obs)
        out[obs.id] = {"value": v, "met": obs.met(v), "target": obs.target_text()}
    return out
