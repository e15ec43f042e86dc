"""What a run or a sweep will cost before it starts: time and memory, against this machine.

The estimate is linear in the sizes that matter (measured on the engine; see the constants):

* **memory** of one model of ``R`` replicates: every cell's fields (landscape, masks,
  distances: :data:`BYTES_PER_CELL`), every organization's fighters, sympathizers and
  working arrays per cell and replicate (:data:`BYTES_PER_ORG_CELL`), and the history one
  row a day (:func:`history_bytes`: stocks, flows, partner flows ``O x O`` and region
  series), kept :data:`HISTORY_COPIES` times (the ensemble's buffers, the finished run's
  copy, the tables written from it);
* **time**: the setup of every cell once per model (:data:`SETUP_SECONDS_PER_CELL`), then
  per day :data:`SECONDS_PER_MODEL_DAY`, and per replicate :data:`SECONDS_PER_REPLICATE_DAY`
  plus :data:`SECONDS_PER_ORG_CELL_DAY` per organization and cell.

A sweep runs ``min(jobs, cores)`` models at once, each of up to ``ENSEMBLE`` replicates.
The estimate is deliberately on the high side; it is a guard against what cannot fit
(a 4096 x 4096 grid), not a promise.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

#: Bytes per grid cell of a model, whatever the organizations (measured: about 1 040).
BYTES_PER_CELL = 1400
#: Bytes per organization, cell and replicate of a model (measured: about 70).
BYTES_PER_ORG_CELL = 100
#: Copies of the daily history alive at the end of a run.
HISTORY_COPIES = 3
#: Bytes of a process before any model (the interpreter, numpy, numba, pandas, Mesa).
BASE_BYTES = 400 * 2**20
#: Seconds of a model's setup per cell (measured: about 15 microseconds).
SETUP_SECONDS_PER_CELL = 20e-6
#: Seconds per organization, cell, day and replicate (measured: 170 to 700 ns, the most on
#: a loaded machine).
SECONDS_PER_ORG_CELL_DAY = 600e-9
#: Seconds per model and day whatever the size (the mechanisms' Python side; measured:
#: about 1.8 ms).
SECONDS_PER_MODEL_DAY = 2e-3
#: Seconds per replicate and day whatever the size (measured: about 0.1 ms).
SECONDS_PER_REPLICATE_DAY = 1e-4

#: Testing aid: this many bytes taken as the memory available (instead of the machine's).
MEMORY_ENV = "AFFILIATE_SIM_MEMORY_AVAILABLE"


@dataclass(frozen=True)
class Estimate:
    """What a run or a sweep is expected to take.

    Attributes:
        jobs: runs; processes: models run at once; seconds: wall time; bytes: peak memory
        of the processes together.
    """

    jobs: int
    processes: int
    seconds: float
    bytes: int

    def describe(self, available: int | None) -> str:
        """One line: jobs, time and memory (and the memory available, when known)."""
        avail = f" of {gigabytes(available)} available" if available else ""
        jobs = f"{self.jobs} jobs on {self.processes} processes, " if self.jobs > 1 else ""
        return (f"{jobs}about {duration(self.seconds)} and {gigabytes(self.bytes)} of "
                f"memory{avail}")


def history_bytes(days: int, orgs: int, regions: int) -> int:
    """Bytes of one replicate's daily history
    (:class:`affiliate_sim.model.history.History`)."""
    from affiliate_sim.model.history import FLOWS, PAIR_FLOWS, STOCKS

    per_day = (len(STOCKS) + len(FLOWS)) * orgs + len(PAIR_FLOWS) * orgs * orgs \
        + 2 * orgs * regions
    return 8 * per_day * (days + 1)


def model_bytes(cells: int, orgs: int, regions: int, days: int, replicates: int) -> int:
    """Peak bytes of one model of ``replicates`` replicates."""
    return int(cells * BYTES_PER_CELL + cells * orgs * replicates * BYTES_PER_ORG_CELL
               + HISTORY_COPIES * replicates * history_bytes(days, orgs, regions))


def model_seconds(cells: int, orgs: int, days: int, replicates: int) -> float:
    """Seconds of one model of ``replicates`` replicates."""
    return (cells * SETUP_SECONDS_PER_CELL
            + days * (SECONDS_PER_MODEL_DAY + replicates * (
                SECONDS_PER_REPLICATE_DAY + orgs * cells * SECONDS_PER_ORG_CELL_DAY)))


def estimate(spec, jobs: int = 1, cores: int | None = None, ensemble: int | None = None
             ) -> Estimate:
    """The estimate of ``jobs`` runs the size of ``spec`` (a validated
    :class:`~affiliate_sim.experiments.runs.RunSpec`; a sweep's largest job), run as
    ensembles on ``cores`` processes (default: this machine's cores)."""
    from affiliate_sim.experiments.runs import ENSEMBLE

    sc = spec.scenario
    cells, orgs, regions = sc.height * sc.width, len(sc.organizations), len(sc.regions)
    processes = max(1, min(jobs, cores or os.cpu_count() or 1))
    replicates = min(ensemble or ENSEMBLE, math.ceil(jobs / processes))
    models = math.ceil(jobs / replicates)  # ensembles, shared among the processes
    seconds = math.ceil(models / processes) * model_seconds(cells, orgs, spec.days,
                                                            replicates)
    peak = processes * (BASE_BYTES + model_bytes(cells, orgs, regions, spec.days,
                                                  replicates))
    return Estimate(jobs=jobs, processes=processes, seconds=seconds, bytes=int(peak))


def available_memory() -> int | None:
    """Bytes of memory available to a new process: ``MemAvailable`` of ``/proc/meminfo``,
    else the free physical pages; None when neither can be read (nothing is refused)."""
    forced = os.environ.get(MEMORY_ENV)
    if forced:
        try:
            return int(float(forced))
        except ValueError:
            pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def gigabytes(n: int | None) -> str:
    """Bytes for people: ``3.2 GB``, ``120 MB``."""
    if n is None:
        return "?"
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def duration(seconds: float) -> str:
    """Seconds for people: ``40 s``, ``12 min``, ``3.5 h``, ``2.0 days``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
