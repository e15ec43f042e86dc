"""The one run path: validated run specs in, finished results out, as ensembles.

:func:`execute` serves every experiment (the command line, sweeps, notebooks, the replay,
calibration): it groups the specs that can share a model (same scenario, run length and
mechanisms) into ensembles of up to ``ensemble`` replicates, each replicate with its own
seed and parameter values, runs the ensembles serially or in worker processes, and returns
one result per spec, in the order given. A replicate's result does not depend on the
ensemble it ran in, nor on the number of workers: replicate r of an ensemble is
bit-identical to a single run with r's seed and parameters.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affiliate_sim.mechanisms import MECHANISMS
from affiliate_sim.scenario import Scenario
from affiliate_sim.scenario.observations import evaluate
from affiliate_sim.scenario.params import Params
from affiliate_sim.vocabulary import CAMPS

#: Replicates per model unless told otherwise.
ENSEMBLE = 64


@dataclass(frozen=True)
class RunSpec:
    """A validated run: a case, a parameter set, a seed and a length (days)."""

    scenario: Scenario
    params: Params
    seed: int
    days: int

    @classmethod
    def of(cls, scenario: Scenario, params: Params, seed: int,
           days: int | None = None) -> RunSpec:
        return cls(scenario, params, int(seed), int(days or scenario.days))

    def group(self) -> tuple:
        """What replicates of one ensemble must share: the case, the run length, the
        switched-on mechanisms."""
        m = self.params.mechanisms
        return (self.scenario.name, str(self.scenario.path), self.days,
                tuple(getattr(m, name) for name in MECHANISMS))


@dataclass
class CaseResult:
    """What one run of a case leaves behind for the replay and calibration (compact)."""

    scenario: str
    seed: int
    names: list[str]
    camps: list[str]  # camp of each organization at the end (after any pledge)
    fighters: np.ndarray  # (days + 1, O) float32
    values: dict[str, float]  # observation id -> measured value
    met: dict[str, bool]
    event_counts: dict[str, int]


def case_result(run) -> CaseResult:
    """The compact result of a finished run (a :class:`~affiliate_sim.model.Run`)."""
    ev = evaluate(run, run.case.observations)
    counts: dict[str, int] = {}
    for e in run.events:
        counts[e["kind"]] = counts.get(e["kind"], 0) + 1
    return CaseResult(
        scenario=run.case.name, seed=run.seed, names=list(run.names),
        camps=[CAMPS[c] for c in run.camp],
        fighters=run.history.stocks["fighters"].astype(np.float32),
        values={k: v["value"] for k, v in ev.items()},
        met={k: v["met"] for k, v in ev.items()}, event_counts=counts)


def finished_run(run):
    """The finished run itself (history, events), copied out of the ensemble's buffers."""
    import copy

    return copy.deepcopy(run)


def run_ensemble(specs: Sequence[RunSpec], collect: Callable[[Any], Any] = case_result,
                 snapshots: bool = False) -> list:
    """Run specs that share a group (:meth:`RunSpec.group`) as one ensemble."""
    from affiliate_sim.model import AffiliateModel

    first = specs[0]
    model = AffiliateModel(first.scenario, [s.params for s in specs],
                           seeds=[s.seed for s in specs], days=first.days,
                           snapshots=snapshots).run()
    return [collect(model.record(r)) for r in range(len(specs))]


def _task(args):
    specs, collect, snapshots = args
    _one_thread()
    return run_ensemble(specs, collect, snapshots)


def _one_thread() -> None:
    """One numba thread for the kernel calls of this thread on a Dask worker, whose
    parallelism is its threads (the setting is per thread, and holds although the worker
    started before any environment could be set). Our own worker processes are limited by
    the environment before numba starts (:func:`_limit_threads`); asking numba for its
    threads there would start its thread pool, and a kernel compiled afterwards (a fresh
    cache) would then fail on the changed ``NUMBA_NUM_THREADS``."""
    if os.environ.get("NUMBA_NUM_THREADS") == "1":
        return
    import numba

    if numba.get_num_threads() > 1:
        numba.set_num_threads(1)


def _limit_threads() -> None:
    """One thread per worker process (the processes are the parallelism)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"


def default_workers() -> int:
    """One worker per core."""
    return max(1, os.cpu_count() or 1)


def split_groups(groups: Sequence[list], workers: int, ensemble: int) -> list[list]:
    """Cut groups (of runs that can share a model) into ensembles of at most ``ensemble``
    members, in near-equal chunks; when there are fewer groups than workers, each group is
    cut further so that every worker gets a share."""
    parts = max(1, math.ceil(max(workers, 1) / max(len(groups), 1)))
    out = []
    for members in groups:
        n = max(math.ceil(len(members) / max(ensemble, 1)), min(parts, len(members)), 1)
        size = math.ceil(len(members) / n)
        out += [list(members[k:k + size]) for k in range(0, len(members), size)]
    return out


def plan_tasks(specs: Sequence[RunSpec], ensemble: int, workers: int) -> list[list[int]]:
    """Indices of the specs of each ensemble to run (:func:`split_groups` of the groups of
    :meth:`RunSpec.group`), longest first so that workers finish together."""
    groups: dict[tuple, list[int]] = {}
    for k, s in enumerate(specs):
        groups.setdefault(s.group(), []).append(k)
    tasks = split_groups(list(groups.values()), workers, ensemble)
    tasks.sort(key=lambda t: -len(t) * specs[t[0]].days)
    return tasks


class TaskStore:
    """Finished ensembles of one :func:`execute` call on disk, so that a killed call made
    again with the same specs skips them: a folder holding the call's key (a digest of
    every spec, the grouping and what is collected) and one pickle per finished ensemble,
    each written atomically. A folder of another call is emptied first."""

    def __init__(self, folder: Path, specs: Sequence[RunSpec], tasks: list[list[int]],
                 collect, snapshots: bool):
        import hashlib
        import json

        self.folder = Path(folder)
        h = hashlib.sha256()
        for sp in specs:
            h.update(json.dumps([sp.scenario.name, str(sp.scenario.path), sp.seed, sp.days,
                                 sp.params.to_dict()], sort_keys=True, default=str).encode())
        h.update(json.dumps([tasks, getattr(collect, "__qualname__", str(collect)),
                             snapshots]).encode())
        self.key = h.hexdigest()
        keyfile = self.folder / "key"
        if not (keyfile.exists() and keyfile.read_text(encoding="utf-8") == self.key):
            if self.folder.exists():
                for f in self.folder.glob("task-*.pkl"):
                    f.unlink()
            self.folder.mkdir(parents=True, exist_ok=True)
            keyfile.write_text(self.key, encoding="utf-8")

    def _path(self, i: int) -> Path:
        return self.folder / f"task-{i}.pkl"

    def get(self, i: int):
        """The results of ensemble ``i`` if on record, else None."""
        import pickle

        try:
            with open(self._path(i), "rb") as fh:
                return pickle.load(fh)  # noqa: S301 (our own checkpoint, written below)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None

    def put(self, i: int, results: list) -> None:
        import pickle

        from affiliate_sim.experiments.output import atomic_write

        def write(tmp):
            with open(tmp, "wb") as fh:
                pickle.dump(results, fh, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(self._path(i), write)

    def remove(self) -> None:
        """The call finished: nothing to resume."""
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


#: Seconds to wait for a cluster's scheduler before giving up.
CONNECT_TIMEOUT = 10


class Pool:
    """Workers kept across :func:`execute` calls: ``workers`` local processes (started on
    first use), or the workers of an existing Dask cluster (``cluster``: its scheduler's
    address, ``tcp://HOST:PORT``). Either gives the same results as any other way of
    running the same specs. Close it (or use it as a context manager) when done."""

    def __init__(self, workers: int = 1, cluster: str | None = None):
        self.workers = max(1, int(workers))
        self.cluster = cluster
        self._executor = None
        self._client = None

    @property
    def cores(self) -> int:
        """Processes (or cluster threads) that run ensembles at once."""
        if self.cluster is None:
            return self.workers
        return max(1, sum(self._connect().nthreads().values()))

    def _connect(self):
        if self._client is None:
            from distributed import Client

            self._client = Client(self.cluster, set_as_default=False, timeout=CONNECT_TIMEOUT)
        return self._client

    def executor(self):
        """A :class:`concurrent.futures.Executor` over the workers."""
        if self._executor is None:
            if self.cluster is not None:
                self._executor = self._connect().get_executor()
            else:
                ctx = multiprocessing.get_context("forkserver")
                self._executor = ProcessPoolExecutor(max_workers=self.workers,
                                                     initializer=_limit_threads,
                                                     mp_context=ctx)
        return self._executor

    def close(self) -> None:
        if self._executor is not None and self.cluster is None:
            self._executor.shutdown()
        self._executor = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def execute(specs: Sequence[RunSpec], workers: int | Pool = 1, ensemble: int = ENSEMBLE,
            collect: Callable[[Any], Any] = case_result, snapshots: bool = False,
            progress: Callable[[int, int], Any] | None = None,
            checkpoint: Path | None = None) -> list:
    """Run every spec; one result per spec, in order.

    Args:
        specs: validated runs.
        workers: processes (1: here, serially), or a :class:`Pool` (local processes kept
            between calls, or a Dask cluster).
        ensemble: most replicates per model.
        collect: a module-level function of a finished :class:`~affiliate_sim.model.Run`
            giving the result kept (default: :func:`case_result`; :func:`finished_run`
            keeps the whole run). It runs where the ensemble ran.
        snapshots: keep weekly grid snapshots (maps, the view).
        progress: called with (runs done, runs in all) after each ensemble.
        checkpoint: a folder where finished ensembles are kept (:class:`TaskStore`): a
            killed call made again with the same specs runs only the ensembles it had not
            finished, with the same results. The caller removes it when done
            (``TaskStore.remove``, or delete the folder).
    """
    specs = list(specs)
    pool = workers if isinstance(workers, Pool) else None
    cores = pool.cores if pool is not None else int(workers)
    tasks = plan_tasks(specs, max(1, int(ensemble)), cores)
    results: list[Any] = [None] * len(specs)
    done = 0
    store = (TaskStore(checkpoint, specs, tasks, collect, snapshots)
             if checkpoint is not None else None)
    todo = []
    for i, t in enumerate(tasks):
        kept = store.get(i) if store is not None else None
        if kept is None or len(kept) != len(t):
            todo.append(i)
            continue
        for k, res in zip(t, kept, strict=True):
            results[k] = res
        done += len(t)
    if done and progress:
        progress(done, len(specs))

    def finished(i: int, res: list) -> None:
        nonlocal done
        for k, r in zip(tasks[i], res, strict=True):
            results[k] = r
        if store is not None:
            store.put(i, res)
        done += len(tasks[i])
        if progress:
            progress(done, len(specs))

    if (pool is None or pool.cluster is None) and (cores <= 1 or len(todo) <= 1):
        for i in todo:
            finished(i, run_ensemble([specs[k] for k in tasks[i]], collect, snapshots))
        return results
    if pool is not None:
        _submit_all(pool.executor(), todo, tasks, specs, collect, snapshots, finished)
        return results
    # forkserver: never fork a process that may hold threads (pytest, BLAS, Hydra)
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=cores, initializer=_limit_threads,
                             mp_context=ctx) as executor:
        _submit_all(executor, todo, tasks, specs, collect, snapshots, finished)
    return results


def _submit_all(executor, todo, tasks, specs, collect, snapshots, finished) -> None:
    """Run the ensembles ``todo`` on an executor, each handed to ``finished`` when done."""
    futures = {executor.submit(_task, ([specs[k] for k in tasks[i]], collect, snapshots)): i
               for i in todo}
    for fut in as_completed(futures):
        finished(futures[fut], fut.result())
