"""The kernel: the day's interaction on every cell, for R replicates at once.

Pure functions over arrays with a leading replicate axis ``R`` (no Mesa, no Hydra, no
user-facing parameter class): :func:`interact` (:mod:`.step`) and the views over the grid
(:mod:`.grid`); the containers it reads and writes are in :mod:`.arrays`. The loops are
compiled with numba. The cell-by-cell reference implementation the tests compare it with is
``tests/reference.py``.
"""

import os

import numba

# Threads are used only for a lone replicate on a large grid (see ``step.PARALLEL_MIN``).
# numba's own work-queue layer, unless the user chose one: the OpenMP layer's spinning
# barriers collapse (100x) when another process holds the other cores, as ensembles in
# worker processes and shared machines do.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

from affiliate_sim.kernel.arrays import (  # noqa: E402
    KERNEL_PARAMS,
    CellFields,
    DayPlan,
    Flows,
    KernelState,
    Noise,
    pack_params,
)
from affiliate_sim.kernel.step import interact  # noqa: E402

__all__ = ["KERNEL_PARAMS", "CellFields", "DayPlan", "Flows", "KernelState", "Noise",
           "interact", "pack_params"]
