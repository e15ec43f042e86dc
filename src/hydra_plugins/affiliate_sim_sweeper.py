"""Hydra sweeper of ``affiliate-sim``: jobs of one case run as ensembles, without Hydra's
per-job check.

Two changes to Hydra's basic sweeper:

* **No per-job composition check in the driver.** The basic sweeper composes every job's
  config before launching it, to catch composition errors early (about 0.2 s a job, while
  the workers wait). ``affiliate-sim`` has already checked every value of every sweeping
  key, the command line's and a preset's, before Hydra started
  (:func:`affiliate_sim.cli.main.sweep_variants`), so that check is redundant here.
* **Ensembles.** Jobs whose overrides differ only in ``seed`` and ``params.KEY`` values (the
  same scenario, run length, lever, parameter set and mechanisms) can share one model: they
  are launched as one Hydra job (the first member's overrides plus ``group=ID``) that runs
  them as one ensemble and writes each member's own job folder, exactly as separate jobs
  would (:func:`affiliate_sim.experiments.sweep.run_group`). Groups are cut into ensembles
  of at most ``ENSEMBLE`` members, and further when there are fewer groups than this
  machine has cores, so that every core gets a share
  (:func:`affiliate_sim.experiments.runs.split_groups`); a group's members are listed in
  ``SWEEP_DIR/.groups/ID.json``. Results do not depend on the
  grouping: a replicate of an ensemble is bit-identical to a run of its own.

``max_batch_size`` counts launched (grouped) jobs. The sweeper lives in the
``hydra_plugins`` namespace because Hydra instantiates sweepers only from there; select it
with ``hydra/sweeper=checked`` (the default of ``conf/affiliate_sim.yaml``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

#: Keys whose values a group's members may differ in (they only set a replicate's seed
#: and parameter values).
REPLICATE_KEYS = ("seed", "params.")


def structural(job: Sequence[str]) -> tuple[str, ...]:
    """What members of one ensemble must share: the job's overrides without the seed and
    the parameter values."""
    return tuple(o for o in job if not o.lstrip("+~").startswith(REPLICATE_KEYS))


def plan_groups(jobs: Sequence[Sequence[str]], cores: int, ensemble: int
                ) -> list[list[list[str]]]:
    """The jobs cut into groups that run as one ensemble each, in sweep order."""
    from affiliate_sim.experiments.runs import split_groups

    by_key: dict[tuple[str, ...], list[list[str]]] = {}
    for job in jobs:
        by_key.setdefault(structural(job), []).append(list(job))
    return split_groups(list(by_key.values()), cores, ensemble)


class CheckedSweeper(BasicSweeper):
    """:class:`BasicSweeper` whose jobs were validated before the sweep started, and whose
    jobs of one case run as ensembles."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Nothing to do: every value was validated before Hydra started."""
        return None

    def split_arguments(self, overrides, max_batch_size):  # type: ignore[override]
        """Every job (the product of the sweeping values), grouped into ensembles, in
        batches of ``max_batch_size`` launched jobs."""
        from affiliate_sim.cli import sweep_callback
        from affiliate_sim.experiments.runs import ENSEMBLE
        from affiliate_sim.experiments.sweep import job_dir, override_dirname, write_group

        [jobs] = BasicSweeper.split_arguments(overrides, None)
        sweep_callback.PLANNED[:] = [job_dir(override_dirname(job)) for job in jobs]
        sweep_dir = Path(self.config.hydra.sweep.dir)
        launched = []
        for members in plan_groups(jobs, os.cpu_count() or 1, ENSEMBLE):
            if len(members) == 1:
                launched.append(members[0])
                continue
            try:
                gid = write_group(sweep_dir, members)
            except OSError:  # the folder cannot be written: each job on its own, which
                launched.extend(members)  # then records its own failure
                continue
            launched.append([*members[0], f"group={gid}"])
        if max_batch_size is None:
            return [launched]
        return [list(b) for b in itertools.batched(launched, max_batch_size)]
