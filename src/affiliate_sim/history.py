"""The model's own history buffers: preallocated arrays filled in place, one row a day.

Mesa's DataCollector deep-copies non-scalar values on every collect; these buffers are
written by index instead and turned into tidy tables only at the end
(:mod:`affiliate_sim.output`).
"""

from __future__ import annotations

import numpy as np

#: Per-organization series (row 0 is the start, row d the end of day d).
STOCKS = ("fighters", "sympathizers", "cells_held", "cohesion", "grievance", "momentum")
#: Per-organization flows of each day (row d-1 is day d).
FLOWS = ("recruited_local", "recruited_foreign", "fled", "deserted")
#: Per-pair flows of each day, ``[day, organization, partner]``.
PAIR_FLOWS = ("killed", "detained", "surrendered", "defected")
#: Days between grid snapshots (fighters per organization per cell).
SNAPSHOT_EVERY = 7


class History:
    """Buffers for a run of ``days`` days over organizations ``names``."""

    def __init__(self, days: int, names: list[str]):
        O = len(names)
        self.days = days
        self.names = list(names)
        self.stocks = {k: np.zeros((days + 1, O)) for k in STOCKS}
        self.flows = {k: np.zeros((days, O)) for k in FLOWS}
        self.pairs = {k: np.zeros((days, O, O)) for k in PAIR_FLOWS}
        self.region_cells: np.ndarray | None = None  # (days + 1, O, regions) cells held
        self.region_fighters: np.ndarray | None = None  # (days + 1, O, regions) fighters
        self.region_names: list[str] = []
        self.snapshots: dict[int, np.ndarray] = {}

    def _record_stocks(self, model, row: int) -> None:
        self.stocks["fighters"][row] = model.totals
        self.stocks["sympathizers"][row] = model.sympathizer_totals
        self.stocks["cells_held"][row] = model.cells_held
        self.stocks["cohesion"][row] = model.cohesion
        self.stocks["grievance"][row] = model.grievance
        self.stocks["momentum"][row] = model.momentum
        self.region_cells[row] = model.region_holdings()
        self.region_fighters[row] = model.region_fighters()
        if row % SNAPSHOT_EVERY == 0 or row == self.days:
            self.snapshots[row] = model.fighters[0].astype(np.float32)

    def record_start(self, model) -> None:
        """Record the state before the first day."""
        self.region_names = list(model.case.regions)
        shape = (self.days + 1, len(self.names), len(self.region_names))
        self.region_cells = np.zeros(shape)
        self.region_fighters = np.zeros(shape)
        self._record_stocks(model, 0)

    def record_day(self, model, flows) -> None:
        """Record the end of ``model.day`` and its flows."""
        d = model.day
        self._record_stocks(model, d)
        self.flows["recruited_local"][d - 1] = flows.recruited_local[0]
        self.flows["recruited_foreign"][d - 1] = flows.recruited_foreign[0]
        self.flows["fled"][d - 1] = flows.fled[0]
        self.flows["deserted"][d - 1] = flows.deserted[0]
        for k in PAIR_FLOWS:
            self.pairs[k][d - 1] = getattr(flows, k)[0]
