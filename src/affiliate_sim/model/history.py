"""The model's own history buffers: preallocated arrays filled in place, one row a day.

Mesa's DataCollector deep-copies non-scalar values on every collect; these buffers are
written by index instead and turned into tidy tables only at the end
(:mod:`affiliate_sim.experiments.output`). Every buffer has a replicate axis after the day
axis; :meth:`History.replicate` gives one replicate's history with the replicate axis
dropped (views, no copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from affiliate_sim.kernel import grid as kgrid

#: Per-organization series (row 0 is the start, row d the end of day d).
STOCKS = ("fighters", "sympathizers", "cells_held", "cohesion", "grievance", "momentum")
#: Per-organization flows of each day (row d-1 is day d).
FLOWS = ("recruited_local", "recruited_foreign", "fled", "deserted")
#: Per-pair flows of each day, ``[day, organization, partner]``.
PAIR_FLOWS = ("killed", "detained", "surrendered", "defected")
#: Days between grid snapshots (fighters per organization per cell).
SNAPSHOT_EVERY = 7


@dataclass
class RunHistory:
    """One replicate's history.

    Attributes:
        days: run length; names: organizations.
        stocks: ``{name: (days + 1, O)}``; flows: ``{name: (days, O)}``;
        pairs: ``{name: (days, O, O)}`` ``[day, organization, partner]``.
        region_names; region_cells, region_fighters: ``(days + 1, O, regions)`` cells held
            and fighters present per named region.
        snapshots: ``{day: (O, H, W) float32}`` every ``SNAPSHOT_EVERY`` days and the last
            day (empty when the run kept none).
    """

    days: int
    names: list[str]
    stocks: dict[str, np.ndarray]
    flows: dict[str, np.ndarray]
    pairs: dict[str, np.ndarray]
    region_names: list[str]
    region_cells: np.ndarray
    region_fighters: np.ndarray
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)


class History:
    """Buffers for R replicates of a run of ``days`` days over organizations ``names``."""

    def __init__(self, days: int, names: list[str], region_names: list[str], R: int,
                 snapshots: bool = True):
        O, N = len(names), len(region_names)
        self.days = days
        self.names = list(names)
        self.region_names = list(region_names)
        self.keep_snapshots = snapshots
        self.stocks = {k: np.zeros((days + 1, R, O)) for k in STOCKS}
        self.flows = {k: np.zeros((days, R, O)) for k in FLOWS}
        self.pairs = {k: np.zeros((days, R, O, O)) for k in PAIR_FLOWS}
        self.region_cells = np.zeros((days + 1, R, O, N))
        self.region_fighters = np.zeros((days + 1, R, O, N))
        self.snapshots: dict[int, np.ndarray] = {}

    def record(self, world, row: int, flows=None) -> None:
        """Record the world at the end of day ``row`` (0: the start) and the day's flows."""
        f, o = world.forces, world.orgs
        self.stocks["fighters"][row] = f.totals
        self.stocks["sympathizers"][row] = f.sympathizer_totals
        self.stocks["cells_held"][row] = f.cells_held
        self.stocks["cohesion"][row] = o.cohesion
        self.stocks["grievance"][row] = o.grievance
        self.stocks["momentum"][row] = o.momentum
        masks = world.grid.region_masks
        self.region_cells[row] = kgrid.masked_sums(f.held.astype(float), masks)
        self.region_fighters[row] = kgrid.masked_sums(f.fighters, masks)
        if self.keep_snapshots and (row % SNAPSHOT_EVERY == 0 or row == self.days):
            self.snapshots[row] = f.fighters.astype(np.float32)
        if flows is not None:
            for k in FLOWS:
                self.flows[k][row - 1] = getattr(flows, k)
            for k in PAIR_FLOWS:
                self.pairs[k][row - 1] = getattr(flows, k)

    def replicate(self, r: int) -> RunHistory:
        """Replicate ``r``'s history (views into the buffers)."""
        return RunHistory(
            days=self.days, names=self.names,
            stocks={k: v[:, r] for k, v in self.stocks.items()},
            flows={k: v[:, r] for k, v in self.flows.items()},
            pairs={k: v[:, r] for k, v in self.pairs.items()},
            region_names=self.region_names, region_cells=self.region_cells[:, r],
            region_fighters=self.region_fighters[:, r],
            snapshots={d: s[r] for d, s in self.snapshots.items()})
