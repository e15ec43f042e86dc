"""Mechanism 6: internal schism against a wali, in waves.

In Yemen "70 Islamic State members and several senior leaders released a statement ...
announcing that they were defecting from the group's local governor (wali)", accusing him of
"injustice against the weak", of dismissing fighters and of "failing to provide sufficient
resources"; "This statement opened the floodgates"; "over 30", then "another 24"; "Rather
than replacing the controversial wali ... the Islamic State's central leadership stuck with
its man". In Khorasan, Muslim Dost would "no longer obey" the wali over his "brutality
against civilian populations" and strategic disagreement, while remaining "loyal to the
Islamic State" (Gartenstein-Ross and Barr 2016).

Grievance grows with the wali's injustice, his brutality against civilians and strategic
disagreement. It turns loyal fighters into disaffected ones (latent sympathizers of a
dissident faction, loyal to the caliph). Above a threshold, public defection statements
occur at random, each taking a share of the disaffected to the dissident faction and raising
the odds of the next (contagion). The IS core reviews contested walis and backs or replaces
them.
"""

from __future__ import annotations

import math

import numpy as np

#: Daily retention of the memory of recent statements (about ten days).
STATEMENT_MEMORY = 0.9


def grievance_step(grievance, injustice, brutality, disagreement, p) -> np.ndarray:
    """New grievance after one day (logistic growth towards 1, linear decay)."""
    drive = p["grievance_gain"] * (injustice + brutality + disagreement)
    g = grievance + drive * (1.0 - grievance) - p["grievance_decay"] * grievance
    return np.clip(g, 0.0, 1.0)


def conversion(grievance, p) -> np.ndarray:
    """``(O,)`` 1/day: loyal fighters turning disaffected with the wali."""
    return p["disaffection_rate"] * grievance


def statement_hazard(grievance, recent, p) -> np.ndarray:
    """``(O,)`` 1/day hazard of a public defection statement."""
    thr = p["schism_threshold"]
    excess = np.clip((grievance - thr) / max(1.0 - thr, 1e-9), 0.0, None)
    return p["schism_statement_rate"] * excess * (1.0 + p["schism_contagion"] * recent)


def wave_hazard(p) -> float:
    """Hazard (1/day) that makes a share ``schism_wave_share`` of the disaffected leave."""
    share = min(p["schism_wave_share"], 1.0 - 1e-12)
    return -math.log1p(-share)
