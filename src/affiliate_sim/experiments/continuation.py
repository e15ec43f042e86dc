"""Four-year continuations: does the world stay plausible past the article's window?

The article's observations are about each case's subjects (the affiliate, its rivals in the
story); what happens to the other actors of a theatre, and to anyone after the window, no
observation says. A model tuned to the window alone can drain or inflate them without any
observation noticing. Two stylised facts bound them instead:

* established armed groups persist: military force rarely ends an armed group (Jones and
  Libicki 2008, *How Terrorist Groups End*, RAND: of the 268 groups of 1968-2006 that
  ended, military force ended 7%; large groups more often won than were defeated), and a
  group's strength does not swing by an order of magnitude in a few years without a cause
  the model would have to produce (a defeat, a merger);
* states keep their forces in the field: none of the nine theatres' states was driven out in
  those years.

A *bystander* of a case is an organization no observation of the case follows (it is
neither an observation's ``org`` nor its ``target_org``), with at least
:data:`MIN_FIGHTERS` fighters at the start, that is a state force or an armed group at
least :data:`ESTABLISHED` established. Over a continuation of :data:`YEARS` years it must
end between :data:`BAND` ``[0]`` and ``[1]`` times its starting strength. The calibration
counts each bystander as one more observation (:mod:`affiliate_sim.experiments.calibrate`);
the replay reports them (``continuation.json``), outside its headline, which counts the
article's observations only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from affiliate_sim.scenario import Scenario
from affiliate_sim.vocabulary import CAMPS, IS_CORE, KINDS, STATE

#: Length of a continuation.
YEARS = 4
DAYS = YEARS * 365
#: Strength at the end of a continuation, as a share of the start, a bystander keeps within.
BAND = (1.0 / 3.0, 3.0)
#: Least ``established`` of an armed group held to the band (states always are).
ESTABLISHED = 0.8
#: Least starting strength of a bystander.
MIN_FIGHTERS = 100.0


def bystanders(sc: Scenario) -> list[str]:
    """The organizations of a case no observation follows, held to the band."""
    followed = {getattr(o, a) for o in sc.observations for a in ("org", "target_org")}
    return [o.name for o in sc.organizations
            if o.name not in followed and o.kind != KINDS[IS_CORE]
            and o.fighters >= MIN_FIGHTERS and not o.dormant
            and (o.camp == CAMPS[STATE] or o.established >= ESTABLISHED)]


def ratio(fighters: np.ndarray, v: int) -> float:
    """End strength over start strength of organization v (a ``(days + 1, O)`` history)."""
    start = float(fighters[0, v])
    return float(fighters[-1, v]) / start if start > 0 else math.nan


def within(r: float) -> bool:
    """Whether a ratio is within the band."""
    return bool(BAND[0] <= r <= BAND[1])


def gap(r: float) -> float:
    """Normalised distance of a ratio outside the band, in log terms (0 inside, 1 at a
    factor of the band's width beyond it, at most 1)."""
    if r != r or r <= 0:
        return 1.0
    x = math.log(r)
    lo, hi = math.log(BAND[0]), math.log(BAND[1])
    return min(max(lo - x, x - hi, 0.0) / (hi - lo), 1.0)


def ratios(results, name: str) -> list[float]:
    """End/start ratios of one organization over a case's continuations (their
    :class:`~affiliate_sim.experiments.runs.CaseResult`)."""
    return [ratio(r.fighters, r.names.index(name)) for r in results]


def summarize(results, sc: Scenario) -> dict[str, Any]:
    """Per bystander: the median end/start ratio over a case's continuations, the share
    within the band, and the band."""
    out = {}
    for name in bystanders(sc):
        rs = ratios(results, name)
        out[name] = {"median_ratio": float(np.median(rs)),
                     "share_within": float(np.mean([within(x) for x in rs])),
                     "band": list(BAND), "years": YEARS}
    return out
