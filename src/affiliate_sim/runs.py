"""Running many replicates of cases, serially or in worker processes, deterministically.

A job is ``(scenario name, Params, seed)``; its result is compact (trajectories, observation
values, event counts) so that thousands of them fit in memory. Each job seeds its own model,
so results are identical whatever the number of workers or their order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from affiliate_sim.kernel.arrays import CAMPS
from affiliate_sim.params import Params


@dataclass
class CaseResult:
    """What one run of a case leaves behind."""

    scenario: str
    seed: int
    names: list[str]
    camps: list[str]  # camp of each organization at the end (after any pledge)
    fighters: np.ndarray  # (days + 1, O) float32
    values: dict[str, float]  # observation id -> measured value
    met: dict[str, bool]
    event_counts: dict[str, int]


def run_case(scenario: str, params: Params, seed: int, days: int | None = None) -> CaseResult:
    """Run one case to its end and measure its observations."""
    from affiliate_sim.model import AffiliateModel
    from affiliate_sim.observations import evaluate

    model = AffiliateModel(scenario, params, rng=seed, days=days).run()
    ev = evaluate(model, model.case.observations)
    counts: dict[str, int] = {}
    for e in model.events:
        counts[e["kind"]] = counts.get(e["kind"], 0) + 1
    return CaseResult(
        scenario=model.case.name, seed=seed, names=list(model.names),
        camps=[CAMPS[c] for c in model.camp],
        fighters=model.history.stocks["fighters"].astype(np.float32),
        values={k: v["value"] for k, v in ev.items()},
        met={k: v["met"] for k, v in ev.items()}, event_counts=counts)


def _job(args):
    scenario, params_dict, seed, days = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return run_case(scenario, Params.from_dict(params_dict), seed, days)


def run_many(jobs: Iterable[tuple[str, Params, int]], workers: int = 1,
             progress: Callable[[int, int, CaseResult], Any] | None = None,
             days: int | None = None, job: Callable[[tuple], Any] | None = None) -> list:
    """Run jobs, in order of submission in the result, with ``workers`` processes.

    Args:
        jobs: ``(scenario, params, seed)`` triples.
        workers: processes (1: run here, serially).
        progress: called after each finished job with (done, total, result).
        days: override every run's length (for quick runs).
        job: a module-level function of ``(scenario, params dict, seed, days)`` returning a
            job's result (default: :func:`run_case`, giving a :class:`CaseResult`).
    """
    job = job or _job
    jobs = list(jobs)
    payload = [(s, p.to_dict(), seed, days) for s, p, seed in jobs]
    results: list[CaseResult | None] = [None] * len(jobs)
    if workers <= 1:
        for k, args in enumerate(payload):
            results[k] = job(args)
            if progress:
                progress(k + 1, len(jobs), results[k])
        return results  # type: ignore[return-value]
    # forkserver: never fork a process that may hold threads (pytest, BLAS, Hydra)
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, initializer=_limit_threads,
                             mp_context=ctx) as pool:
        futures = {pool.submit(job, args): k for k, args in enumerate(payload)}
        done = 0
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            k = futures[fut]
            results[k] = fut.result()
            done += 1
            if progress:
                progress(done, len(jobs), results[k])
    return results  # type: ignore[return-value]


def _limit_threads() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def default_workers() -> int:
    """One worker per core."""
    return max(1, os.cpu_count() or 1)
