"""Scripted inputs of a case: the start of the case and shocks from outside the fighting.

Inputs are data (a scenario's ``inputs``), the same in every replicate. A scripted pledge
does what any pledge does (:func:`affiliate_sim.mechanisms.pledge.join_is`), whether or not
the pledge mechanism is switched on; the processes that react to a pledge or an
assassination do so through their hooks.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms import leadership, pledge


def apply_inputs(world, inputs, p, log) -> None:
    """Apply the day's scripted inputs, in file order."""
    idx = {n: i for i, n in enumerate(world.names)}
    every = np.arange(world.R)
    o = world.orgs
    for x in inputs:
        a = idx[x.actor]
        t = idx[x.target] if x.target else -1
        if x.kind == "pledge":
            pledge.join_is(world, p, log, every, a, x.note or "scripted pledge")
        elif x.kind == "visibility_shock":
            o.visibility[:, a] = np.minimum(1.0, o.visibility[:, a] + x.magnitude)
            for r in every:
                log("spectacular_attack", r, a, t, x.magnitude, x.note)
        elif x.kind == "assassination":
            for r in every:
                log("leader_killed", r, a, t, 1.0, x.note)
            leadership.succession(world, p, every, t)
            world.emit("on_assassination", p, log, victim=t, killer=a)
        elif x.kind == "courting":
            o.courted[:, t] = min(1.0, x.magnitude)
            for r in every:
                log("courting", r, a, t, x.magnitude, x.note)
        else:  # unreachable after validation
            raise ValueError(f"unknown input kind {x.kind!r}")
