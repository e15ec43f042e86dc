"""Accounting of the kernel's day: every fighter is booked to exactly one flow.

Property-based (Hypothesis) over random ensembles (R replicates, each with its own stocks,
plan, cell fields and parameters): per organization and replicate, the end stock equals the
start plus every inflow minus every outflow; stocks stay non-negative with sympathizers
within fighters; flows are non-negative; movement conserves totals; the identity holds day
after day. Plus: a cause with zero hazard yields zero flow.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_states import FLOW_FIELDS, param, random_params, random_state

from affiliate_sim.kernel import interact
from affiliate_sim.kernel.arrays import (
    COLUMN,
    CellFields,
    DayPlan,
    KernelState,
    Noise,
    pack_params,
)
from affiliate_sim.scenario.params import case_arrays

RTOL = 1e-9
ATOL = 1e-7

seeds = st.integers(min_value=0, max_value=2**32 - 1)
reps = st.integers(min_value=1, max_value=4)
orgs = st.integers(min_value=1, max_value=5)
sides = st.integers(min_value=1, max_value=5)


def assert_identity(start_fighters: np.ndarray, flows) -> None:
    """Per (replicate, organization): start + inflows - outflows == end."""
    start = start_fighters.sum(axis=(2, 3))
    inflow = flows.recruited_local + flows.recruited_foreign + flows.defected.sum(axis=1)
    outflow = (flows.killed.sum(axis=2) + flows.detained.sum(axis=2)
               + flows.surrendered.sum(axis=2) + flows.defected.sum(axis=2)
               + flows.fled + flows.deserted)
    end = flows.fighters.sum(axis=(2, 3))
    np.testing.assert_allclose(end, start + inflow - outflow, rtol=RTOL, atol=ATOL)
    # the convenience methods of Flows say the same
    np.testing.assert_allclose(flows.inflow(), inflow, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(flows.outflow(), outflow, rtol=RTOL, atol=ATOL)


def assert_stocks_valid(flows) -> None:
    """Stocks non-negative and finite; sympathizers within fighters."""
    F, S = flows.fighters, flows.sympathizers
    assert np.all(np.isfinite(F)) and np.all(np.isfinite(S))
    assert F.min() >= 0.0
    assert S.min() >= 0.0
    assert np.all(S <= F)


def assert_flows_non_negative(flows) -> None:
    """Every flow (and hazard) is non-negative and finite."""
    for name in FLOW_FIELDS:
        a = np.asarray(getattr(flows, name))
        if a.dtype.kind == "b":
            continue
        assert np.all(np.isfinite(a)), name
        assert a.min(initial=0.0) >= 0.0, f"{name} has a negative entry {a.min()}"


@settings(max_examples=60, deadline=None)
@given(seed=seeds, R=reps, O=orgs, H=sides, W=sides)
def test_day_books_every_fighter(seed, R, O, H, W):
    state, fields, plan, p, noise = random_state(np.random.default_rng(seed), R, O, H, W)
    flows = interact(state, fields, plan, p, noise)
    assert_identity(state.fighters, flows)
    assert_stocks_valid(flows)
    assert_flows_non_negative(flows)
    # leaders: no more commanders killed than alive, no dead emir killed again
    assert np.all(flows.commanders_killed <= state.commanders)
    assert not np.any(flows.emir_killed & ~state.emir_alive)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, R=reps, O=orgs, H=sides, W=sides, days=st.integers(2, 6))
def test_identity_holds_day_after_day(seed, R, O, H, W, days):
    rng = np.random.default_rng(seed)
    state, fields, plan, p, noise = random_state(rng, R, O, H, W)
    for _ in range(days):
        flows = interact(state, fields, plan, p, noise)
        assert_identity(state.fighters, flows)
        assert_stocks_valid(flows)
        assert_flows_non_negative(flows)
        state.fighters = flows.fighters
        state.sympathizers = flows.sympathizers
        state.emir_alive = state.emir_alive & ~flows.emir_killed
        state.commanders = state.commanders - flows.commanders_killed
        noise = Noise(fortune=rng.standard_normal(noise.fortune.shape),
                      leader=rng.random(noise.leader.shape))


def _movement_only(rng, R, O, H, W, scale):
    """Inputs of a day on which nothing happens but movement (towards what the movers
    seek and towards cover, at random rates), on random stocks."""
    state, fields, _, _, noise = random_state(rng, R, O, H, W)
    plan = DayPlan.empty(R, O)
    plan.attract = rng.random((R, O, O)) * (rng.random((R, O, O)) < 0.5)
    plan.cover = scale * rng.random((R, O))
    p = pack_params(case_arrays([random_params(rng) for _ in range(R)]))
    return state, fields, plan, p, noise


@settings(max_examples=60, deadline=None)
@given(seed=seeds, R=reps, O=orgs, H=sides, W=sides,
       scale=st.sampled_from([0.1, 1.0, 10.0, 1e3]))
def test_movement_conserves_totals(seed, R, O, H, W, scale):
    state, fields, plan, p, noise = _movement_only(np.random.default_rng(seed), R, O, H, W,
                                                   scale)
    F, S = state.fighters, np.minimum(state.sympathizers, state.fighters)
    flows = interact(state, fields, plan, p, noise)
    F2, S2 = flows.fighters, flows.sympathizers
    np.testing.assert_allclose(F2.sum(axis=(2, 3)), F.sum(axis=(2, 3)), rtol=RTOL, atol=ATOL)
    # sympathizers only revert on a quiet day, and move with their comrades
    rev = param(p, "reversion_rate")[:, None]
    np.testing.assert_allclose(S2.sum(axis=(2, 3)), S.sum(axis=(2, 3)) * np.exp(-rev),
                               rtol=1e-9, atol=ATOL)
    assert F2.min() >= 0.0 and S2.min() >= 0.0
    assert np.all(S2 <= F2 * (1 + 1e-12) + 1e-12)
    # nobody moves further than a neighbour: an empty cell whose neighbours are all empty
    # stays empty
    occupied = F > 0
    near = occupied.copy()
    near[..., 1:, :] |= occupied[..., :-1, :]
    near[..., :-1, :] |= occupied[..., 1:, :]
    near[..., :, 1:] |= occupied[..., :, :-1]
    near[..., :, :-1] |= occupied[..., :, 1:]
    assert np.all(F2[~near] == 0.0)


def test_movement_moves_someone():
    """Not a tautology: with a positive move rate and a better neighbour, fighters move."""
    F = np.zeros((1, 1, 1, 3))
    F[0, 0, 0, 0] = 100.0
    state = KernelState(
        fighters=F, sympathizers=np.zeros_like(F), cohesion=np.ones((1, 1)),
        visibility=np.zeros((1, 1)), purge_capacity=np.zeros((1, 1)),
        quality=np.ones((1, 1)), conceal=np.ones((1, 1)), conceal_against=np.ones((1, 1, 1)),
        conventional=np.zeros((1, 1), bool), emir_alive=np.ones((1, 1), bool),
        commanders=np.zeros((1, 1), np.int64), population=np.zeros((1, 3)),
        state_presence=np.zeros((1, 3)), cover=np.array([[0.0, 50.0, 0.0]]),
        people=np.zeros((1, 3)))
    plan = DayPlan.empty(1, 1)
    plan.cover[:] = 1.0  # a retreating force: the middle cell is all cover
    p = pack_params(case_arrays([random_params(np.random.default_rng(0))]))
    p[:, COLUMN["move_rate"]] = 0.5
    flows = interact(state, CellFields.neutral(1, 1, 3), plan, p,
                     Noise(fortune=np.zeros((1, 1)), leader=np.ones((1, 1, 1))))
    assert flows.fighters[0, 0, 0, 1] > 40.0
    assert flows.fighters.sum() == pytest.approx(100.0)


# ------------------------------------------------------------------ zero hazard, zero flow
def _inputs(seed, R=3, O=5, H=4, W=4):
    return random_state(np.random.default_rng(seed), R, O, H, W)





def _off_diagonal(a: np.ndarray) -> np.ndarray:
    O = a.shape[-1]
    return a[:, ~np.eye(O, dtype=bool)]


def _diagonal(a: np.ndarray) -> np.ndarray:
    return np.diagonal(a, axis1=1, axis2=2)


@pytest.mark.parametrize("seed", range(4))
def test_no_raid_no_detention_except_purge(seed):
    state, fields, plan, p, noise = _inputs(seed)
    with_raids = interact(state, fields, plan, p, noise)
    assert _off_diagonal(with_raids.detained).sum() > 0  # raids do detain
    plan.raid[:] = 0.0
    flows = interact(state, fields, plan, p, noise)
    assert np.all(_off_diagonal(flows.detained) == 0.0)
    # what remains on the diagonal is the purge's share of detentions
    purged = _diagonal(flows.killed) + _diagonal(flows.detained)
    pk = param(p, "purge_kill_share")[:, None]
    np.testing.assert_allclose(_diagonal(flows.detained), (1 - pk) * purged, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_no_purge_no_purge_losses(seed):
    state, fields, plan, p, noise = _inputs(seed)
    plan.purge[:] = 1.0
    purging = interact(state, fields, plan, p, noise)
    assert _diagonal(purging.killed).sum() + _diagonal(purging.detained).sum() > 0
    plan.purge[:] = 0.0
    flows = interact(state, fields, plan, p, noise)
    assert np.all(_diagonal(flows.killed) == 0.0)
    assert np.all(_diagonal(flows.detained) == 0.0)
    # fighters in danger still surrender (surrender as a choice, no purge needed) ...
    assert flows.surrendered.sum() > 0
    plan.yield_sympathizers[:] = 0.0
    plan.yield_loyal[:] = 0.0
    flows = interact(state, fields, plan, p, noise)
    assert np.all(flows.surrendered == 0.0)  # ... and otherwise only out of fear of a purge
    # flight is then only evacuation
    plan.flight[:] = 0.0
    plan.evacuate[:] = 0.0
    assert np.all(interact(state, fields, plan, p, noise).fled == 0.0)


@pytest.mark.parametrize("seed", range(4))
def test_surrender_grows_with_danger_and_leniency(seed):
    """Surrender as a choice: without any purge, more danger (combat) or a more lenient
    receiver means more surrenders; a group without cohesion yields more than its
    sympathizers alone would."""
    state, fields, plan, p, noise = _inputs(seed)
    plan.purge[:] = 0.0
    plan.surrender_to[:] = -1
    states = np.nonzero(state.conventional[0])[0]
    if states.size == 0:
        pytest.skip("no state in this random world")
    plan.surrender_to[:] = np.where(np.arange(plan.surrender_to.shape[1]) == states[0], -1,
                                    states[0])[None]
    plan.yield_sympathizers[:] = 0.3
    plan.yield_loyal[:] = 0.1
    base = interact(state, fields, plan, p, noise).surrendered.sum()
    assert base > 0
    plan.engage = plan.engage * 2.0
    assert interact(state, fields, plan, p, noise).surrendered.sum() > base
    plan.engage = plan.engage / 2.0
    plan.yield_loyal[:] = 0.2
    assert interact(state, fields, plan, p, noise).surrendered.sum() > base


@pytest.mark.parametrize("seed", range(4))
def test_each_cause_off_gives_zero_flow(seed):
    state, fields, plan, p, noise = _inputs(seed)
    base = interact(state, fields, plan, p, noise)
    assert base.deserted.sum() > 0 and base.defected.sum() > 0
    assert base.recruited_local.sum() > 0 and base.killed.sum() > 0

    plan.desertion[:] = 0.0
    assert np.all(interact(state, fields, plan, p, noise).deserted == 0.0)

    plan.surrender_to[:] = -1
    assert np.all(interact(state, fields, plan, p, noise).surrendered == 0.0)

    plan.pull_sympathizers[:] = 0.0
    plan.pull_loyal[:] = 0.0
    plan.split[:] = 0.0
    assert np.all(interact(state, fields, plan, p, noise).defected == 0.0)

    plan.recruit_appeal[:] = 0.0
    plan.foreign_inflow[:] = 0.0
    flows = interact(state, fields, plan, p, noise)
    assert np.all(flows.recruited_local == 0.0)
    assert np.all(flows.recruited_foreign == 0.0)

    # no combat, no raids, no purge: nobody is killed, no danger, leaders safe
    plan.engage[:] = 0.0
    plan.raid[:] = 0.0
    plan.purge[:] = 0.0
    flows = interact(state, fields, plan, p, noise)
    assert np.all(flows.killed == 0.0)
    assert np.all(flows.detained == 0.0)
    assert np.all(flows.leader_hazard == 0.0)
    assert not flows.emir_killed.any() and not flows.commanders_killed.any()


def test_quiet_day_changes_only_by_sympathy_and_movement():
    """Nobody does anything: totals per organization are unchanged."""
    state, fields, _, p, noise = _inputs(9)
    R, O = state.cohesion.shape
    flows = interact(state, fields, DayPlan.empty(R, O), p, noise)
    np.testing.assert_allclose(flows.fighters.sum(axis=(2, 3)),
                               state.fighters.sum(axis=(2, 3)), rtol=RTOL, atol=ATOL)
    for name in ("killed", "detained", "surrendered", "defected", "fled", "deserted",
                 "recruited_local", "recruited_foreign"):
        assert np.all(getattr(flows, name) == 0.0), name
