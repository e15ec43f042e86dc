"""Scripted inputs of a case: the start of the case and decisions from outside the fighting.

Inputs are data (a scenario's ``inputs``), the same in every replicate. They are causes the
model does not produce: a pledge, a spectacular act, an assassination that provokes, the IS
core's courting, and the decisions of governments and of the IS core (docs/model.md, 7.3):

``pledge``
    does what any pledge does (:func:`affiliate_sim.mechanisms.pledge.join_is`), whether or
    not the pledge mechanism is switched on;
``visibility_shock``, ``assassination``, ``courting``
    a spectacular act; a killing that provokes (the processes react through their hooks);
    the core's appeal to a group's fighters;
``offensive``
    a government or coalition orders ``actor`` to attack ``target`` for ``duration`` days
    at intensity ``magnitude`` (the share of its effort the offensive adds, as the
    offensive rule's own offensives do): it runs whatever the odds, and ends early only if
    the target is gone from reach. Ordered against a ``region`` without a target, it is
    against the group that holds most of the region that day (:func:`holders`; nothing
    happens if nobody is there); the fighting then follows that group wherever it goes;
``air_support``
    air power multiplies the attrition ``actor`` inflicts (on ``target`` only, if given;
    on the groups in ``region`` that day, if a region is given) by ``magnitude`` for
    ``duration`` days; the kills are booked to ``actor``;
``recognition``
    the IS core (``actor``) recognizes ``target`` as its province: the target joins the IS
    camp if it is not in it, the core becomes its patron, and the core weighs it
    ``RECOGNITION_WEIGHT`` times in its investment;
``decapitation``
    a state (``actor``) kills ``target``'s emir in a strike that provokes nobody: a
    commander succeeds him, at the usual cost in cohesion;
``withdrawal``
    ``actor`` leaves ``region`` and stays out (a standing order, enforced every day); a
    state's presence there falls by ``magnitude``;
``intelligence``
    a state (``actor``) starts with intelligence ``magnitude`` on ``target``;
``core_fortunes``
    the IS core's fortunes across theatres (its territory and means in Syria and Iraq,
    outside the case) change: from this day its means (investment, cadres, foreign
    fighters) and its broadcast are ``magnitude`` times what they were at the start;
``deployment``
    ``magnitude`` fighters of ``actor`` arrive in ``region`` (spread over its cells), sent
    from outside the area (a state's strength to be kept up rises with them);
``atrocity``
    ``actor``'s leadership commits a public atrocity against civilians: its brutality (what
    its own fighters hold against it, :mod:`affiliate_sim.mechanisms.schism`) rises to
    ``magnitude`` and fades back to its usual level over months (``ATROCITY_MEMORY``, with
    the schism mechanism on: it is the only reader of brutality), and
    the act is seen (a visibility shock of half as much).
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms import leadership, pledge
from affiliate_sim.vocabulary import STATE


def holders(world, actor: int, region: str) -> np.ndarray:
    """``(R, O)`` fighters each possible enemy of ``actor`` has in ``region`` today: every
    organization but the actor, its camp and its allies (0 for those)."""
    mask = world.grid.region_masks[world.grid.region_names.index(region)]
    there = (world.forces.fighters * mask[None, None]).sum((2, 3))
    o = world.orgs
    enemy = ((np.arange(world.O) != actor)[None, :] & (o.camp != o.camp[:, actor:actor + 1])
             & ~world.relations.allied[:, actor, :])
    return np.where(enemy, there, 0.0)


def apply_inputs(world, inputs, p, log) -> None:
    """Apply the day's scripted inputs, in file order."""
    idx = {n: i for i, n in enumerate(world.names)}
    every = np.arange(world.R)
    o, cd = world.orgs, world.conduct
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
            # the leader in place dies (none between an emir's death and his successor)
            alive = world.leadership.emir_alive[:, t]
            leadership.succession(world, p, every[alive], t, morning=True)
            world.emit("on_assassination", p, log, victim=t, killer=a)
        elif x.kind == "courting":
            o.courted[:, t] = min(1.0, x.magnitude)
            for r in every:
                log("courting", r, a, t, x.magnitude, x.note)
        elif x.kind == "offensive":
            present = holders(world, a, x.region) if x.region else None
            for r in every:
                tr = t if t >= 0 or present is None else int(np.argmax(present[r]))
                if tr < 0 or (t < 0 and present[r, tr] <= 0.0):
                    log("offensive_ordered", r, a, -1, x.magnitude,
                        f"nobody holds {x.region}: no offensive")
                    continue
                world.relations.hostile[r, a, tr] = world.relations.hostile[r, tr, a] = True
                cd.offensive_target[r, a] = tr
                cd.offensive_days[r, a] = 0
                cd.ordered_until[r, a] = world.day + x.duration
                cd.ordered_intensity[r, a] = x.magnitude
                log("offensive_ordered", r, a, tr, x.magnitude, x.note or x.region)
        elif x.kind == "air_support":
            hit = np.zeros((world.R, world.O), dtype=bool)
            if t >= 0:
                hit[:, t] = True
            else:
                hit[:] = np.arange(world.O) != a
            if x.region:
                hit &= holders(world, a, x.region) > 0.0
            cd.air[:, a, :] = np.where(hit, x.magnitude, cd.air[:, a, :])
            cd.air_until[:, a, :] = np.where(hit, world.day + x.duration,
                                             cd.air_until[:, a, :])
            for r in every:
                log("air_support", r, a, t, x.magnitude, x.note or x.region)
        elif x.kind == "recognition":
            pledge.join_is(world, p, log, every, t, x.note or "recognized by the core")
            world.relations.patron[:, t] = a
            o.recognized[:, t] = True
            for r in every:
                log("recognized", r, a, t, 1.0, x.note)
        elif x.kind == "decapitation":
            alive = world.leadership.emir_alive[:, t]
            for r in every[alive]:
                log("decapitation", r, a, t, 1.0, x.note or world.leadership.emir_label(r, t))
            leadership.succession(world, p, every[alive], t, morning=True)
        elif x.kind == "withdrawal":
            n = world.grid.region_names.index(x.region)
            cd.withdrawn[:, a, n] = True
            if (o.camp[:, a] == STATE).all():
                mask = world.grid.region_masks[n]
                world.grid.state_presence = np.where(
                    mask, world.grid.state_presence * (1.0 - x.magnitude),
                    world.grid.state_presence)
            for r in every:
                log("withdrawal", r, a, -1, x.magnitude, x.note or x.region)
        elif x.kind == "intelligence":
            world.intel.intel[:, a, t] = x.magnitude
        elif x.kind == "core_fortunes":
            reg = world.region
            old = reg.core_fortunes
            reg.is_appeal = np.where(old > 0, reg.is_appeal * x.magnitude
                                     / np.where(old > 0, old, 1.0),
                                     p["is_broadcast"] * x.magnitude)
            reg.core_fortunes = np.full(world.R, x.magnitude)
            for r in every:
                log("core_fortunes", r, a, -1, x.magnitude, x.note)
        elif x.kind == "deployment":
            mask = world.grid.region_masks[world.grid.region_names.index(x.region)]
            world.forces.fighters[:, a][:, mask] += x.magnitude / mask.sum()
            if (o.camp[:, a] == STATE).all():
                world.forces.initial[:, a] += x.magnitude
            o.active[:, a] = True
            world.leadership.emir_alive[:, a] |= True
            world.refresh()
            for r in every:
                log("deployment", r, a, -1, x.magnitude, x.note or x.region)
        elif x.kind == "atrocity":
            o.brutality[:, a] = np.maximum(o.brutality[:, a], x.magnitude)
            o.visibility[:, a] = np.minimum(1.0, o.visibility[:, a] + 0.5 * x.magnitude)
            for r in every:
                log("atrocity", r, a, t, x.magnitude, x.note)
        else:  # unreachable after validation
            raise ValueError(f"unknown input kind {x.kind!r}")


def enforce(world) -> None:
    """Standing orders: an organization that withdrew from a region keeps out of it (its
    fighters there go back to the cells next to the region, or, if there are none outside,
    it leaves the area). Runs at the start of every day."""
    cd = world.conduct
    if not cd.withdrawn.any():
        return
    F, S = world.forces.fighters, world.forces.sympathizers
    masks = world.grid.region_masks
    for r, k, n in zip(*np.nonzero(cd.withdrawn), strict=True):
        inside = masks[n]
        there = F[r, k][inside].sum()
        if there <= 0:
            continue
        ring = _border(inside)
        dest = np.where(ring, 1.0, 0.0)
        if dest.sum() == 0:
            dest = np.where(~inside, 1.0, 0.0)
        for X in (F, S):
            moved = X[r, k][inside].sum()
            X[r, k][inside] = 0.0
            if dest.sum() > 0:
                X[r, k] += moved * dest / dest.sum()
    world.refresh()


def _border(mask: np.ndarray) -> np.ndarray:
    """Cells outside ``mask`` next to it (four neighbours)."""
    out = np.zeros_like(mask)
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out & ~mask
