"""Mechanism 8: foreign fighters and central investment.

"The Islamic State now commands approximately 6,500 militants in Sirte and other hotspots in
Libya, which has become a destination for foreign fighters from across Africa. The Islamic
State's leadership has also dispatched several high-level figures, including Abu Ali
al-Anbari, to Sirte" (Gartenstein-Ross and Barr 2016).

The IS core invests where an affiliate has prospects: momentum, ground it holds unopposed,
and a place foreign fighters can reach. Its investment brings foreign fighters (in
proportion to the IS appeal) and cadres (cohesion) and money (resources).
"""

from __future__ import annotations

import numpy as np


def prospects(momentum, dominance, access, fighters) -> np.ndarray:
    """``(O,)`` how promising each affiliate looks to the core (>= 0).

    ``sqrt(fighters) * (1 + momentum) * dominance**2 * access``: the core favours ground an
    affiliate holds unopposed ("a contested space with no dominant rival", squared so that
    sharing ground with rivals weighs heavily), where foreign fighters can come.
    """
    size = np.sqrt(np.maximum(fighters, 0.0))
    return size * np.clip(1.0 + momentum, 0.0, None) * dominance ** 2 * access


#: Exponent of the core's selectivity: it concentrates on its best prospects.
SELECTIVITY = 2.0


def allocate(prospect: np.ndarray, p) -> np.ndarray:
    """``(O,)`` share of the core's means each affiliate receives.

    The core weighs each affiliate against its other uses (other wilayats, the heartland),
    concentrating on its best prospects: ``share = prospect**k / (sum of prospects**k here
    + investment_competition**k)`` with ``k = SELECTIVITY``.
    """
    k = SELECTIVITY
    total = (prospect ** k).sum() + p["investment_competition"] ** k
    return prospect ** k / total if total > 0 else np.zeros_like(prospect)


def reinforcement(initial, current, p) -> np.ndarray:
    """``(O,)`` fighters per day a state force receives from its hinterland."""
    return p["state_reinforcement"] * np.clip(initial - current, 0.0, None)


def inflow(share, appeal: float, p) -> np.ndarray:
    """``(O,)`` foreign fighters per day reaching each affiliate."""
    return p["foreign_fighter_rate"] * p["central_investment"] * share * appeal


def distribute(inflow_per_org: np.ndarray, fighters: np.ndarray) -> np.ndarray:
    """``(R, O, H, W)`` foreign arrivals, spread over the cells an organization holds."""
    total = fighters.sum(axis=(2, 3), keepdims=True)
    w = np.divide(fighters, total, out=np.zeros_like(fighters), where=total > 0)
    return inflow_per_org[:, :, None, None] * w
