"""The processes of the model's day: the article's ten mechanisms and the core processes.

Each module owns its whole rule (decision, hazards, updates, parameters; see
:mod:`affiliate_sim.mechanisms.base` for the interface). :data:`PROCESSES` is the one list
of them, in the order in which the model runs them every day (decide phase, then apply
phase); :data:`MECHANISMS` names the article's ten, in the case book's numbering.

=================  ======  ===============================================================
module             number  process
=================  ======  ===============================================================
pledge             1       defection by pledge (bayat): individuals, factions, whole groups
retaliation        2       retaliation against defectors by the former ally or parent
purge              3       purge by an intelligence wing (amniyat)
counterterrorism   4       state raids, intelligence and decapitation
coalition          5       coalition of local groups against an outsider
schism             6       internal schism against a wali, in waves
momentum           7       momentum and propaganda ("remaining and expanding")
investment         8       foreign fighters and central investment
retreat            9       retreat, regrouping, safe passage
terrain            10      remoteness and terrain
combat             core    Lanchester attrition and the offensive rule
movement           core    movement of fighters between neighbouring cells
population         core    recruitment, desertion, reinforcement, latent sympathy, growth
surrender          core    surrender and flight as the choices of fighters in danger
leadership         core    leaders, succession, cohesion, collapse
=================  ======  ===============================================================
"""

from __future__ import annotations

from types import ModuleType

from affiliate_sim.mechanisms import (
    coalition,
    combat,
    counterterrorism,
    investment,
    leadership,
    momentum,
    movement,
    pledge,
    population,
    purge,
    retaliation,
    retreat,
    schism,
    surrender,
    terrain,
)
from affiliate_sim.mechanisms.base import Param

#: Every process, in the order of the day (see docs/model.md, section 3).
PROCESSES: tuple[ModuleType, ...] = (
    pledge,            # whole groups pledge; where defectors would go
    coalition,         # locals ally against an outsider
    retaliation,       # attackers turn on shelterers; grudges reach them
    combat,            # offensives: continue, end, open; engagement
    purge,             # purges
    surrender,         # who receives surrenders; surrender and flight weights
    schism,            # public statements; the core's review of walis; disaffection
    counterterrorism,  # raids and raid operations
    retreat,           # breaking, retreat, safe passage; how movers weigh danger and cover
    population,        # recruiting appeal, desertion, reinforcement, courting
    momentum,          # appeal responds to momentum
    investment,        # the core's investment and foreign fighters
    leadership,        # (apply) succession, cohesion, activation, collapse
    movement,          # (kernel) movement
    terrain,           # (setup) the kernel's cell fields; rooted groups keep to their people
)

#: The article's ten mechanisms, in the case book's numbering: the ones a user can switch
#: off.
MECHANISMS: tuple[str, ...] = tuple(
    m.NAME for m in sorted((m for m in PROCESSES if m.SWITCHABLE), key=lambda m: m.NUMBER))

#: Process modules by name.
BY_NAME: dict[str, ModuleType] = {m.NAME: m for m in PROCESSES}


def parameters() -> list[tuple[str, Param]]:
    """Every parameter with the name of the process that owns it: the core processes'
    first (in the order of the day), then the mechanisms' by number."""
    core = [m for m in PROCESSES if not m.SWITCHABLE]
    mechs = sorted((m for m in PROCESSES if m.SWITCHABLE), key=lambda m: m.NUMBER)
    return [(m.NAME, prm) for m in core + mechs for prm in getattr(m, "PARAMS", ())]


__all__ = ["BY_NAME", "MECHANISMS", "PROCESSES", "parameters"]
