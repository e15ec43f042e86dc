"""Mechanism 5: coalition of local groups against an outsider.

"The Abu Salim Martyrs Brigade, a hardline Islamist militia with deep roots in the city,
immediately responded with a competing statement saying it would never pledge allegiance to
any power outside Libya"; "several militant factions ... announced the establishment of the
Derna Mujahedin Shura Council, which pointedly excluded the Islamic State"; after "IYSC
killed two leading members of the Council, including its leader, Salim Derbi ... the
Council [launched] a full-scale offensive" (Gartenstein-Ross and Barr 2016).

Local groups (deep roots, ``coalition_roots``) that share ground with an outsider pledged to
a foreign power (the IS camp, shallow roots, ``outsider_roots``) ally with each other and
turn hostile to it once their friction with it has built up (a stated alliance with the
outsider holds). Friction grows each day by ``coalition_rate`` times the threat the outsider
poses, its strength as a share of its own and that of the locals near it (collective action
against a rival grows with the threat it poses: Christia 2012, *Alliance Formation in Civil
Wars*); the coalition forms when it reaches 1, so that a strong outsider is confronted
within weeks and a weak one after months. The assassination of a leader (a scripted input,
:func:`on_assassination`) provokes a grudge in the victim and every ally of it against the
killer.
"""

from __future__ import annotations

import numpy as np

from affiliate_sim.mechanisms.base import ARTICLE as A
from affiliate_sim.mechanisms.base import Param
from affiliate_sim.vocabulary import IS, STATE

NAME = "coalition"
SWITCHABLE = True
NUMBER = 5

#: Fighters of one group near the other's (``near``) above which two groups share ground.
SHARED_GROUND = 0.5

PARAMS: tuple[Param, ...] = (
    Param("coalition_roots", 0.6, 0.0, 1.0, "share",
          A + ": Abu Salim Martyrs Brigade 'with deep roots in the city'",
          "Local roots at or above which an organization counts as local."),
    Param("outsider_roots", 0.4, 0.0, 1.0, "share",
          A + ": al-Battar 'redeployed from Syria'",
          "Local roots below which an organization counts as an outsider."),
    Param("coalition_rate", 0.03, 0.0, 10.0, "1/day",
          A + ": pledge in October 2014, the Council 'in December 2014'",
          "Daily growth of the locals' friction with an outsider, per unit of threat (its "
          "strength as a share of its own and the locals' near it); the coalition forms at "
          "friction 1."),
    Param("provocation_grudge", 6.0, 0.0, 100.0, "propensity",
          A + ": after IYSC killed Salim Derbi 'the Council launch[ed] a full-scale "
          "offensive'",
          "Grudge every member of a coalition holds against an outsider that assassinates "
          "one of its leaders (a scripted input)."),
)


def decide(world, plan, p, rng, log) -> None:
    """Locals facing an outsider may ally against it today."""
    o, f, rel, cd = world.orgs, world.forces, world.relations, world.conduct
    present = o.active & (f.totals > 0)
    roots = o.local_roots
    local = ((roots >= p["coalition_roots"][:, None]) & (o.camp != STATE) & present
             & (o.camp != IS))
    outsider = (roots < p["outsider_roots"][:, None]) & (o.camp == IS) & present
    members: dict[int, list[int]] = {}
    targets: dict[int, list[int]] = {}
    for out in range(world.O):
        facing = (local & ((f.near[:, :, out] > SHARED_GROUND)
                           | (f.near[:, out, :] > SHARED_GROUND)) & ~rel.allied[:, :, out])
        all_hostile = np.all(~facing | rel.hostile[:, :, out], axis=1)
        faced = outsider[:, out] & (facing.sum(axis=1) >= 2) & ~all_hostile
        theirs = f.power[:, out] * f.totals[:, out]
        ours = (np.where(facing, f.power * f.near[:, out, :], 0.0)).sum(axis=1)
        threat = theirs / np.maximum(theirs + ours, 1e-12)
        cd.friction[:, out] = np.where(
            faced, cd.friction[:, out] + p["coalition_rate"] * threat, cd.friction[:, out])
        ok = faced & (cd.friction[:, out] >= 1.0)
        for r in np.nonzero(ok)[0]:
            group = np.nonzero(facing[r])[0]
            new = False
            for a in group:
                if not rel.hostile[r, a, out]:
                    rel.hostile[r, a, out] = rel.hostile[r, out, a] = True
                    new = True
                for b in group:
                    if a != b and not rel.allied[r, a, b]:
                        rel.allied[r, a, b] = True
                        new = True
            if new:
                mine = members.setdefault(int(r), [])
                mine += [int(a) for a in group if a not in mine]
                targets.setdefault(int(r), []).append(out)
    for r, outs in targets.items():
        m = members[r]
        for out in outs:
            log("coalition_formed", r, m[0], out, len(m),
                "locals: " + ", ".join(world.names[a] for a in m))


def on_assassination(world, p, log, victim: int, killer: int) -> None:
    """A leader of ``victim`` was killed by ``killer``: it and its allies hold a grudge."""
    rel = world.relations
    for r in range(world.R):
        for m in [victim, *np.nonzero(rel.allied[r, victim])[0]]:
            if m == killer:
                continue
            rel.hostile[r, m, killer] = rel.hostile[r, killer, m] = True
            rel.grudge[r, m, killer] += p["provocation_grudge"][r]


HOOKS = {"on_assassination": on_assassination}
