"""Mechanism 7: momentum and propaganda.

The Islamic State "would like the world — and especially prospective recruits — to believe
it is 'remaining and expanding'"; its "winner's messaging" sustains "the perception of
momentum that it works hard to maintain"; its defeats "have gone largely unnoticed", and
"highlighting these defeats may be one of the most effective ... counter-messaging
strategies" (Gartenstein-Ross and Barr 2016).

Each organization's momentum is an exponential memory of its growth. The appeal of the IS
brand in a region is the core's broadcast, eroded by IS defeats in the proportion that
counter-messaging makes them visible, plus the local IS momentum. Appeal drives recruiting
and foreign arrivals, and turns fighters of the rival groups the core courts (a scripted
input) into latent IS sympathizers. Switched off, appeal no longer responds to wins and
losses (no momentum term, no counter-messaging); the broadcast remains.
"""

from __future__ import annotations

import numpy as np

#: Days over which IS defeats are remembered by the audience.
DEFEAT_MEMORY = 90.0
#: Monthly loss rate (share of the IS force) at which visible defeats erode the whole
#: broadcast appeal.
DEFEAT_SATURATION = 0.2


def update(momentum, start, end, p) -> np.ndarray:
    """New momentum: memory of the monthly growth rate, in [-1, 1]."""
    growth = np.where(start > 0, (end - start) / np.maximum(start, 1.0), 0.0) * 30.0
    m = momentum + (np.clip(growth, -1.0, 1.0) - momentum) / p["momentum_memory"]
    return np.clip(m, -1.0, 1.0)


def defeat_record(record, is_losses, is_fighters) -> float:
    """Memory of IS losses in the region (share of its force lost per month)."""
    rate = is_losses / max(is_fighters, 1.0) * 30.0
    return float(record + (min(rate, 1.0) - record) / DEFEAT_MEMORY)


def is_appeal(is_momentum: float, defeats: float, p) -> float:
    """Appeal of the IS brand in the region (>= 0)."""
    seen = min(defeats / DEFEAT_SATURATION, 1.0)
    broadcast = p["is_broadcast"] * (1.0 - p["counter_messaging"] * seen)
    return max(broadcast + p["momentum_gain"] * is_momentum, 0.0)


def recruit_appeal(roots, momentum, resources, camp_appeal, p) -> np.ndarray:
    """``(O,)`` local recruiting appeal: roots, means, the brand, momentum.

    ``roots * (0.5 + 0.5 * resources) * (1 + brand) * (1 + momentum_gain * momentum)``:
    local recruiting runs through local networks (a group "still building its network"
    recruits little whatever its brand); the brand and momentum amplify them; a group
    without means recruits half as well.
    """
    base = roots * (0.5 + 0.5 * resources) * (1.0 + camp_appeal)
    return np.clip(base * (1.0 + p["momentum_gain"] * momentum), 0.0, None)


def conversion(appeal: float, courted, p) -> np.ndarray:
    """``(O,)`` 1/day: loyal fighters of a courted rival group turning IS sympathizers."""
    return p["conversion_rate"] * appeal * courted
