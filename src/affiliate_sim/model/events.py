"""The event log: what happened, on which day, in which replicate.

Each event is ``{"day", "kind", "actor", "target", "magnitude", "note"}`` with the kinds of
:data:`affiliate_sim.vocabulary.EVENT_KINDS`; events are kept per replicate.
"""

from __future__ import annotations

import math

from affiliate_sim.vocabulary import EVENT_KINDS


class EventLog:
    """Events of R replicates of a run over organizations ``names``.

    Attributes:
        day: the day events are logged on (the model sets it).
        by_replicate: one list of events per replicate.
    """

    def __init__(self, names: list[str], R: int):
        self.names = list(names)
        self.day = 0
        self.by_replicate: list[list[dict]] = [[] for _ in range(R)]

    def __call__(self, kind: str, r, actor, target=-1, magnitude=0.0, note: str = "") -> None:
        """Log an event of replicate ``r`` (actor and target: organization indices, -1 for
        none)."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        actor, target, m = int(actor), int(target), float(magnitude)
        self.by_replicate[int(r)].append({
            "day": self.day, "kind": kind,
            "actor": self.names[actor] if actor >= 0 else "",
            "target": self.names[target] if target >= 0 else "",
            "magnitude": m if math.isfinite(m) else 0.0,
            "note": note,
        })
