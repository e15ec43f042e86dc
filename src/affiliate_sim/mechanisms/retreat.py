"""Mechanism 9: retreat, regrouping and safe passage.

IS in Derna was "driven from Derna, and the remaining pro-Islamic State fighters were left to
regroup in the city's southern suburbs"; "in December 2015, Islamic State militants besieged
by Derna Mujahedin Shura Council forces requested safe passage out of the area"; IMU members
"decided to seek out a safe haven in Afghanistan's Zabul province" under an ally's
protection (Gartenstein-Ross and Barr 2016).

Kernel side: each day a share of every cell's fighters moves to the best of the cell and its
four neighbours, scoring each by the danger it holds for them, the presence of what they
seek (an offensive's target, a protector) and, when retreating, cover. Movement conserves
fighters exactly. Decide side: when to retreat, and when a besieged group asks for safe
passage, and whether its besieger grants it.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.kernel.grid import DIRECTIONS, neighbour_view, send, spread
from affiliate_sim.mechanisms import terrain


#: Passes of the stencil by which movers sense what they seek: a force is felt up to this
#: many cells away, more faintly with distance (along a line the weights run about 9.3,
#: 6.5, 2.5, 0.5, 0.06 for 0 to 4 cells; only the log of the sensed presence is used).
SENSE_PASSES = 4
#: Share of a cell's sensed presence passed to each neighbour at each pass.
SENSE_SHARE = 0.5


def sensed(fighters: np.ndarray) -> np.ndarray:
    """``(R, O, H, W)`` presence of each organization as sensed from afar.

    ``SENSE_PASSES`` applications of ``x + SENSE_SHARE * (sum of the four neighbours)``:
    a force is felt up to ``SENSE_PASSES`` cells away, more faintly with distance, so a
    group can head for a protector or a target it cannot yet reach.
    """
    x = fighters
    for _ in range(SENSE_PASSES):
        x = spread(x, SENSE_SHARE)
    return x


def movement_score(danger, offensive, attract, fighters, cover_w, layers, p) -> np.ndarray:
    """``(R, O, H, W)`` how much each organization's movers like each cell.

    ``-danger_aversion * (1 - offensive) * danger + attraction_weight * log1p(sought
    presence, sensed from afar) + cover_weight * cover * retreat``.
    """
    R, O, H, W = fighters.shape
    far = sensed(fighters)
    sought = np.matmul(attract, far.reshape(R, O, H * W)).reshape(R, O, H, W)
    aversion = p["danger_aversion"][:, None] * (1.0 - offensive)
    score = -aversion[:, :, None, None] * danger
    score += p["attraction_weight"][:, None, None, None] * np.log1p(sought)
    cw = p["cover_weight"][:, None] * cover_w
    score += cw[:, :, None, None] * terrain.cover(layers)[:, None]
    return score


def move(fighters, sympathizers, score, p):
    """Move a share of each cell's fighters to the best-scoring of the cell and neighbours.

    Destination weights are a softmax over the cell itself and its (up to) four
    neighbours, each neighbour's score lowered by ``stay_bias`` (moving has a cost);
    sympathizers move with their comrades. Totals are conserved.

    Returns:
        fighters, sympathizers after movement (new arrays).
    """
    bias = p["stay_bias"][:, None, None, None]
    options = [score] + [neighbour_view(score, d, -np.inf) - bias for d in DIRECTIONS]
    top = np.maximum.reduce(options)
    weights = [np.exp(o - top) for o in options]
    norm = np.add.reduce(weights)
    rate = p["move_rate"][:, None, None, None]
    out = []
    for stock in (fighters, sympathizers):
        movers = stock * rate
        new = stock - movers + movers * (weights[0] / norm)
        for d, w in zip(DIRECTIONS, weights[1:], strict=True):
            new += send(movers * (w / norm), d)
        out.append(new)
    return out[0], out[1]


def should_retreat(ratio: float, offensive: bool, retreating: bool, p) -> bool:
    """Retreat when the local force ratio falls below the threshold (and not attacking);
    a retreating force stops only once the ratio is half as much again above it."""
    if offensive:
        return False
    limit = p["retreat_threshold"] * (1.5 if retreating else 1.0)
    return ratio < limit


#: Own-to-enemy strength ratio below which a reduced group counts as besieged.
BESIEGED_RATIO = 0.5


def besieged(fighters: float, peak: float, own_ratio: float, p) -> bool:
    """A group reduced below a share of its peak and heavily outnumbered is besieged.

    A besieged group asks its main enemy for safe passage; the besieger grants it unless it
    is a state force (states do not let armed groups leave) or is on an offensive against
    the group (then the group fights on and asks again later).
    """
    return peak > 0 and fighters < p["safe_passage_share"] * peak and own_ratio < BESIEGED_RATIO
