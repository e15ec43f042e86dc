"""The compiled kernel against the cell-by-cell reference implementation.

``tests/reference.py`` recomputes the day with plain Python loops and no code shared with
the kernel; on many random states, with R > 1 replicates that each have their own stocks,
plan, cell fields and parameters, both must agree on every field of
:class:`~affiliate_sim.kernel.Flows` to 1e-9. Also: a batched call equals per-replicate
calls bit for bit, and a kernel call mutates none of its inputs.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from kernel_states import FLOW_FIELDS, deep_copy, random_state, slice_replicate
from reference import interact_reference

from affiliate_sim.kernel import interact
from affiliate_sim.kernel.arrays import CellFields, DayPlan, KernelState, Noise

RTOL = 1e-9
ATOL = 1e-9

SHAPES = [(R, O, H, W) for R, O, (H, W) in
          itertools.product((1, 3), (2, 5), ((1, 1), (3, 4), (6, 5)))]
SEEDS = (0, 1, 2)


def _cases():
    for (R, O, H, W), seed in itertools.product(SHAPES, SEEDS):
        yield pytest.param(seed, R, O, H, W, id=f"s{seed}-R{R}-O{O}-{H}x{W}")


def assert_flows_equal(got, want, rtol=RTOL, atol=ATOL, where=""):
    """Every field of two Flows equal: same shape and dtype, values within tolerance."""
    for name in FLOW_FIELDS:
        a, b = np.asarray(getattr(got, name)), np.asarray(getattr(want, name))
        assert a.shape == b.shape, f"{where}{name}: shape {a.shape} != {b.shape}"
        assert a.dtype.kind == b.dtype.kind, f"{where}{name}: dtype {a.dtype} != {b.dtype}"
        if a.dtype.kind in "bi":
            np.testing.assert_array_equal(a, b, err_msg=f"{where}{name}")
        else:
            assert np.all(np.isfinite(a)), f"{where}{name}: non-finite values"
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{where}{name}")


@pytest.mark.parametrize("seed,R,O,H,W", list(_cases()))
def test_kernel_matches_reference(seed, R, O, H, W):
    rng = np.random.default_rng(1000 * seed + 100 * R + 10 * O + H * W)
    inputs = random_state(rng, R, O, H, W)
    assert_flows_equal(interact(*inputs), interact_reference(*inputs))


def test_random_states_exercise_every_flow():
    """The comparison is not vacuous: over the random states, every flow is non-zero."""
    seen = dict.fromkeys(FLOW_FIELDS, False)
    for seed in range(12):
        rng = np.random.default_rng(seed)
        flows = interact(*random_state(rng, 3, 5, 6, 5))
        for name in FLOW_FIELDS:
            seen[name] |= bool(np.any(np.asarray(getattr(flows, name)) != 0))
    assert all(seen.values()), [n for n, s in seen.items() if not s]


def test_reference_detects_a_perturbed_input():
    """Sanity check of the cross-check: a small change of one input is not within tolerance."""
    rng = np.random.default_rng(7)
    state, fields, plan, p, noise = random_state(rng, 1, 5, 3, 4)
    plan.engage = np.where(plan.engage > 0, plan.engage * 1.001, 0.0)
    perturbed = interact(state, fields, plan, p, noise)
    plan.engage = np.where(plan.engage > 0, plan.engage / 1.001, 0.0)
    with pytest.raises(AssertionError):
        assert_flows_equal(perturbed, interact_reference(state, fields, plan, p, noise))


@pytest.mark.parametrize("seed", (0, 1, 2, 3))
def test_batched_call_equals_per_replicate_calls(seed):
    rng = np.random.default_rng(seed)
    R = 3
    inputs = random_state(rng, R, 5, 4, 3)
    # the replicates really run different parameter sets
    p = inputs[3]
    assert (np.ptp(p, axis=0) > 0).sum() >= 10
    batched = interact(*inputs)
    for r in range(R):
        single = interact(*slice_replicate(*inputs, r))
        for n in FLOW_FIELDS:  # bit for bit: a replicate never depends on the others
            np.testing.assert_array_equal(getattr(batched, n)[r:r + 1], getattr(single, n),
                                          err_msg=f"r={r}: {n}")


def _tile_replicate(state: KernelState, fields: CellFields, plan: DayPlan, noise: Noise,
                    R: int):
    """Replicate 0 of the inputs repeated R times (the same world in every replicate)."""
    rep = lambda a: np.repeat(a[:1], R, axis=0)  # noqa: E731
    st = dataclasses.replace(state, **{
        f.name: rep(getattr(state, f.name)) for f in dataclasses.fields(KernelState)
        if f.name not in ("population", "state_presence", "cover", "people")})
    cf = CellFields(**{f.name: rep(getattr(fields, f.name))
                       for f in dataclasses.fields(CellFields)})
    pl = DayPlan(**{f.name: rep(getattr(plan, f.name)) for f in dataclasses.fields(DayPlan)})
    return st, cf, pl, Noise(fortune=rep(noise.fortune), leader=rep(noise.leader))


def test_parameters_broadcast_per_replicate():
    """The same world under R parameter sets: each replicate follows its own parameters."""
    rng = np.random.default_rng(11)
    R = 3
    state, fields, plan, p, noise = random_state(rng, R, 5, 4, 4)
    state, fields, plan, noise = _tile_replicate(state, fields, plan, noise, R)
    batched = interact(state, fields, plan, p, noise)
    # different parameters give different days...
    assert not np.allclose(batched.fighters[0], batched.fighters[1])
    assert not np.allclose(batched.killed[1], batched.killed[2])
    # ...and each replicate is what its own parameter set gives alone
    for r in range(R):
        single = interact(*slice_replicate(state, fields, plan, p, noise, r))
        part = type(batched)(**{n: getattr(batched, n)[r:r + 1] for n in FLOW_FIELDS})
        assert_flows_equal(part, single, rtol=0, atol=0, where=f"r={r}: ")
    assert_flows_equal(batched, interact_reference(state, fields, plan, p, noise))


def _assert_same(a, b, path="") -> None:
    """Recursive exact equality of dataclasses, dicts and arrays (values and dtypes)."""
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            _assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype, f"{path}: dtype changed"
        np.testing.assert_array_equal(a, b, err_msg=f"{path} was mutated")


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_kernel_is_pure(seed):
    rng = np.random.default_rng(seed)
    inputs = random_state(rng, 3, 5, 4, 5)
    state = inputs[0]
    before = deep_copy(*inputs)
    first = interact(*inputs)
    _assert_same(inputs, before)
    # the outputs own their memory: changing them later cannot change the inputs
    for name in FLOW_FIELDS:
        out = getattr(first, name)
        for inp in (state.fighters, state.sympathizers):
            assert not np.shares_memory(out, inp), name
    # and the same inputs give the same day again
    _assert_same(interact(*inputs), first)


def test_threaded_kernel_gives_the_same_bits():
    """A lone replicate of a large grid runs on numba's threads, in fixed bands of rows:
    the same bits as on one thread, and the reference's values."""
    rng = np.random.default_rng(21)
    inputs = random_state(rng, 1, 4, 40, 9)
    one = interact(*inputs, parallel=False)
    threads = interact(*inputs, parallel=True)
    for name in FLOW_FIELDS:
        np.testing.assert_array_equal(getattr(one, name), getattr(threads, name),
                                      err_msg=name)
    small = random_state(rng, 2, 3, 11, 6)
    assert_flows_equal(interact(*small, parallel=True), interact_reference(*small))


def test_compiled_cache_follows_every_kernel_and_mechanism_source(tmp_path, monkeypatch):
    """The compiled kernel inlines the mechanisms' functions: its cache stamp changes with
    any of their sources, not only with the kernel's own file."""
    import shutil

    from affiliate_sim.kernel import cache

    package = tmp_path / "affiliate_sim"
    for folder in cache.SOURCES:
        shutil.copytree(cache._PACKAGE / folder, package / folder)
    monkeypatch.setattr(cache, "_PACKAGE", package)
    before = cache.fingerprint()
    assert before == cache.fingerprint()
    purge = package / "mechanisms" / "purge.py"
    purge.write_text(purge.read_text() + "\n# a change to a mechanism\n")
    assert cache.fingerprint() != before
    from affiliate_sim.kernel.step import _day_serial

    stamp = _day_serial._cache._cache_file._source_stamp  # the guard is in place
    assert stamp[0] == "affiliate_sim" and len(stamp[1]) == 64
