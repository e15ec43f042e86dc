"""Hydra sweeper of ``affiliate-sim``: the basic sweeper without its per-job check.

Hydra's basic sweeper composes every job's config in the driver before launching it, to
catch composition errors early (about 0.2 s a job, while the workers wait). ``affiliate-sim``
has already checked every value of every sweeping key, the command line's and a preset's,
before Hydra started (:func:`affiliate_sim.cli.sweep_variants`), so that check is redundant
here; each job still composes its own config in its worker.

It lives in the ``hydra_plugins`` namespace because Hydra instantiates sweepers only from
there; select it with ``hydra/sweeper=checked`` (the default of ``conf/affiliate_sim.yaml``).
"""

from __future__ import annotations

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class CheckedSweeper(BasicSweeper):
    """:class:`BasicSweeper` whose jobs were validated before the sweep started."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Nothing to do: every value was validated before Hydra started."""
        return None
