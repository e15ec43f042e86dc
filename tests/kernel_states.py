"""Random but realistic inputs for the kernel, for the kernel tests.

:func:`random_state` draws a full set of kernel inputs (state, plan, parameters, noise)
with a leading replicate axis whose replicates differ in their stocks, plans *and*
parameters, so that per-replicate broadcasting is exercised. Helpers slice one replicate
out of a batch and deep-copy inputs.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from affiliate_sim.kernel.arrays import (
    COLUMN,
    CellFields,
    DayPlan,
    Flows,
    KernelState,
    Noise,
    pack_params,
)
from affiliate_sim.scenario.params import Params, param_arrays

#: Names of every field of :class:`Flows`.
FLOW_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Flows))


def param(P: np.ndarray, name: str) -> np.ndarray:
    """``(R,)`` values of a kernel parameter in a packed parameter array."""
    return P[:, COLUMN[name]]


def _sparse(rng: np.random.Generator, shape, density: float, lo: float, hi: float):
    """Uniform values in [lo, hi) on a random share ``density`` of entries, zero elsewhere."""
    return rng.uniform(lo, hi, shape) * (rng.random(shape) < density)


def _sub_stochastic(rng: np.random.Generator, R: int, O: int, density: float) -> np.ndarray:
    """``(R, O, O)`` non-negative, zero diagonal, each row summing to at most 1."""
    m = _sparse(rng, (R, O, O), density, 0.05, 1.0)
    m[:, np.arange(O), np.arange(O)] = 0.0
    total = m.sum(axis=2, keepdims=True)
    scale = rng.uniform(0.0, 1.0, (R, O, 1))  # each row sums to a random total in [0, 1)
    return np.divide(m, total, out=np.zeros_like(m), where=total > 0) * scale


def random_params(rng: np.random.Generator) -> Params:
    """One parameter set with many values drawn away from the defaults.

    Rates are larger than the defaults so that every cause produces visible flows in a
    single day.
    """
    u = rng.uniform
    p = Params(
        combat_rate=u(0.02, 0.3),
        offensive_power=u(1.0, 5.0),
        fortune_sd=u(0.0, 0.6),
        local_recruit_rate=u(0.001, 0.03),
        recruit_scale=u(10.0, 100.0),
        reversion_rate=u(0.0, 0.05),
        defection_rate=u(0.0, 0.4),
        bandwagon_rate=u(0.0, 0.2),
        defection_reach=u(5.0, 60.0),
        purge_rate=u(0.02, 0.6),
        purge_kill_share=u(0.0, 1.0),
        purge_capacity_scale=u(0.5, 2.0),
        flee_rate=u(0.0, 0.3),
        surrender_rate=u(0.0, 0.3),
        raid_rate=u(0.005, 0.06),
        raid_kill_share=u(0.0, 1.0),
        leader_hit_rate=u(0.5, 6.0),
        stay_bias=u(0.0, 5.0),
        danger_aversion=u(0.0, 50.0),
        attraction_weight=u(0.0, 3.0),
        cover_weight=u(0.0, 3.0),
        terrain_conceal=u(0.0, 5.0),
        population_conceal=u(0.0, 0.05),
        conventional_search=u(0.1, 1.0),
        terrain_protection=u(0.0, 2.0),
        remoteness_shield=u(0.0, 1.0),
        leader_exposure=u(0.2, 2.0),
        interference=u(0.0, 0.5),
    )
    p.validate("random_params")
    return p


def random_state(rng: np.random.Generator, R: int, O: int, H: int, W: int,
                 max_commanders: int = 6
                 ) -> tuple[KernelState, CellFields, DayPlan, np.ndarray, Noise]:
    """Draw realistic random kernel inputs.

    Fighters are absent from some cells and some organizations are absent altogether;
    sympathizers never exceed fighters; engagement and pull matrices have zero diagonals
    and rows summing to at most 1; only 'state' organizations raid; purge efforts are 0 or
    1; splits are sparse; surrender receivers are -1 or a state organization; some
    replicates have neutral cell fields (terrain switched off) or no movement weights
    (retreat switched off). Every replicate has its own stocks, plan, cell fields and
    parameter set.

    Args:
        rng: the random generator.
        R: replicates.
        O: organizations.
        H: grid rows.
        W: grid columns.
        max_commanders: commanders columns of the leader noise (commanders drawn in
            ``0..max_commanders``).

    Returns:
        ``(state, fields, plan, params, noise)``, the arguments of ``interact``.
    """
    u = rng.uniform
    eye = np.eye(O, dtype=bool)[None]

    # which organizations are state forces (the same in every replicate)
    is_state = rng.random(O) < 0.35
    if O >= 2 and not is_state.any():
        is_state[rng.integers(O)] = True
    if O >= 2 and is_state.all():
        is_state[rng.integers(O)] = False
    state_idx = np.flatnonzero(is_state)

    present = rng.random((R, O)) < 0.8
    present[np.arange(R), rng.integers(O, size=R)] = True  # at least one per replicate
    fighters = rng.gamma(1.5, 60.0, (R, O, H, W)) * (rng.random((R, O, H, W)) < 0.65)
    fighters *= present[:, :, None, None]
    sym_share = u(0.0, 1.0, (R, O, H, W)) * (rng.random((R, O, H, W)) < 0.6)
    sym_share *= u(0.0, 1.0, (R, O))[:, :, None, None]
    sym_share[:, is_state] *= 0.1
    sympathizers = fighters * sym_share

    conceal = np.where(is_state, 4.0, 40.0)[None] * u(0.5, 1.5, (R, O))
    state = KernelState(
        fighters=fighters,
        sympathizers=sympathizers,
        cohesion=u(0.0, 1.0, (R, O)),
        visibility=u(0.0, 1.0, (R, O)),
        purge_capacity=np.where(rng.random((R, O)) < 0.5, u(0.0, 1.0, (R, O)), 0.0),
        quality=u(0.5, 2.0, (R, O)),
        conceal=conceal,
        conceal_against=np.ones((R, O, O)),
        conventional=np.broadcast_to(is_state, (R, O)).copy(),
        emir_alive=rng.random((R, O)) < 0.8,
        commanders=rng.integers(0, max_commanders + 1, (R, O)),
        population=np.exp(rng.normal(1.5, 1.0, (H, W))),
        state_presence=u(0.0, 1.0, (H, W)),
        cover=u(0.0, 2.0, (H, W)),
        people=np.zeros((H, W)),
    )
    neutral = rng.random(R) < 0.2  # terrain off in these replicates
    fields = CellFields(
        conceal_factor=np.where(neutral[:, None, None], 1.0, u(1.0, 5.0, (R, H, W))),
        protection=np.where(neutral[:, None, None], 1.0, u(0.3, 1.0, (R, H, W))),
        raid_shield=np.where(neutral[:, None, None], 1.0, u(0.0, 1.0, (R, H, W))),
        purge_reach=np.where(neutral[:, None, None], 1.0, u(0.0, 1.0, (R, H, W))),
    )

    # plan
    engage = _sub_stochastic(rng, R, O, 0.6)
    raid = np.zeros((R, O, O))
    for s in state_idx:
        targets = ~is_state & (rng.random((R, O)) < 0.7)
        intensity = rng.lognormal(0.0, 0.7, (R, O))
        operation = rng.random((R, O)) < 0.15  # a major raid operation
        raid[:, s] = np.where(targets, intensity * np.where(operation, 60.0, 1.0), 0.0)
    raid[:, eye[0]] = 0.0

    surrender_to = np.full((R, O), -1, dtype=np.int64)
    if state_idx.size:
        pick = state_idx[rng.integers(state_idx.size, size=(R, O))]
        use = (rng.random((R, O)) < 0.6) & (pick != np.arange(O)[None])
        surrender_to = np.where(use, pick, -1).astype(np.int64)

    split = _sparse(rng, (R, O, O), 0.15, 0.0, 0.3)
    split[:, eye[0]] = 0.0
    attract = _sparse(rng, (R, O, O), 0.4, 0.0, 1.0)
    attract[:, eye[0]] = 0.0
    offensive = np.where(rng.random((R, O)) < 0.3, 1.0,
                         u(0.0, 1.0, (R, O)) * (rng.random((R, O)) < 0.3))
    no_retreat = (rng.random(R) < 0.2)[:, None]

    plan = DayPlan(
        engage=engage,
        offensive=offensive,
        raid=raid,
        raid_reach=np.ones((R, O, H, W)),
        purge=(rng.random((R, O)) < 0.5).astype(float),
        pull_sympathizers=_sub_stochastic(rng, R, O, 0.5),
        pull_loyal=_sub_stochastic(rng, R, O, 0.3),
        split=split,
        surrender_to=surrender_to,
        leniency=np.where(surrender_to >= 0, u(0.1, 1.0, (R, O)), 0.0),
        yield_sympathizers=np.where(surrender_to >= 0, u(0.0, 0.5, (R, O)), 0.0),
        yield_loyal=np.where(surrender_to >= 0, u(0.0, 0.2, (R, O)), 0.0),
        flight=_sparse(rng, (R, O), 0.5, 0.0, 0.3),
        recruit_appeal=u(0.0, 2.0, (R, O)),
        recruit_ceiling=np.where(rng.random((R, O)) < 0.2, 1e12, u(0.5, 40.0, (R, O))),
        foreign_inflow=_sparse(rng, (R, O), 0.5, 0.0, 25.0),
        conversion=u(0.0, 0.08, (R, O)),
        attract=attract,
        cover=np.where(no_retreat, 0.0, _sparse(rng, (R, O), 0.5, 0.0, 3.0)),
        home=np.zeros((R, O)),
        danger_weight=np.where(no_retreat, 0.0, u(0.0, 50.0, (R, 1)) * (1.0 - offensive)),
        evacuate=_sparse(rng, (R, O), 0.25, 0.0, 0.5),
        desertion=u(0.0, 0.02, (R, O)),
        grudge=np.zeros((R, O, O)),
    )

    arrays = param_arrays([random_params(rng) for _ in range(R)])
    # the per-cell values the processes derive from the physical parameters
    arrays.update(adjacent_reach=u(0.0, 0.6, R), move_rate=u(0.05, 0.95, R),
                  sense_passes=np.full(R, float(rng.integers(1, 7))))  # one cell size
    params = pack_params(arrays)
    noise = Noise(fortune=rng.standard_normal((R, O)),
                  leader=rng.random((R, O, 1 + max_commanders)))
    # popular cover by attacker (drawn last, so the draws above do not move): guerrilla
    # targets are hidden more from some attackers than from others
    deeper = u(1.0, 8.0, (R, O, O)) * (rng.random((R, O, O)) < 0.5)
    state.conceal_against = np.where(neutral[:, None, None] | is_state[None, None, :], 1.0,
                                     np.maximum(deeper, 1.0))
    # rooted groups keep to their people (terrain): a density layer and per-group weights
    state.people = u(0.0, 0.95, (H, W))
    plan.home = np.where(neutral[:, None] | is_state[None, :], 0.0,
                         u(0.0, 3.0, (R, O)) * (1.0 - plan.offensive))
    # raids reach where the raiding state's forces are (counter-terrorism): a share per
    # state and cell, nowhere in some cells, everywhere in neutral replicates
    reach = u(0.0, 1.0, (R, O, H, W)) * (rng.random((R, O, H, W)) < 0.8)
    plan.raid_reach = np.where(neutral[:, None, None, None], 1.0, reach)
    return state, fields, plan, params, noise


def slice_replicate(state: KernelState, fields: CellFields, plan: DayPlan, P: np.ndarray,
                    noise: Noise, r: int):
    """Replicate ``r`` of batched inputs, as inputs with ``R = 1`` (copies)."""
    sl = slice(r, r + 1)
    st = dataclasses.replace(state, **{
        f.name: getattr(state, f.name)[sl].copy() for f in dataclasses.fields(KernelState)
        if f.name not in ("population", "state_presence", "cover", "people")})
    cf = CellFields(**{f.name: getattr(fields, f.name)[sl].copy()
                       for f in dataclasses.fields(CellFields)})
    pl = DayPlan(**{f.name: getattr(plan, f.name)[sl].copy()
                    for f in dataclasses.fields(DayPlan)})
    nz = Noise(fortune=noise.fortune[sl].copy(), leader=noise.leader[sl].copy())
    return st, cf, pl, P[sl].copy(), nz


def deep_copy(*objs):
    """Deep copies of the arguments (to check that a call mutates nothing)."""
    return copy.deepcopy(objs)
