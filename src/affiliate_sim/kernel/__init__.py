"""The vectorized numpy kernel of the daily interaction step (no Mesa, no Hydra).

Every array has a leading replicate axis ``R`` and every parameter is an ``(R,)`` array, so
that many replicates or parameter sets advance in one call. See :mod:`.step` for the order
of the computation and :mod:`affiliate_sim.reference` for the cell-by-cell reference
implementation the tests compare it with.
"""

from affiliate_sim.kernel.arrays import (
    DayPlan,
    Flows,
    GridLayers,
    KernelParams,
    KernelState,
    Noise,
)
from affiliate_sim.kernel.step import interact

__all__ = ["DayPlan", "Flows", "GridLayers", "KernelParams", "KernelState", "Noise",
           "interact"]
