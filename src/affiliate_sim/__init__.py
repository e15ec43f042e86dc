"""affiliate_sim: competition between jihadist organizations on a regional grid.

An agent-based model (Mesa) of Islamic State affiliates, al-Qaeda branches, state forces and
local militias, built from and calibrated to Gartenstein-Ross and Barr, "Neither Remaining Nor
Expanding: The Islamic State's Global Expansion Struggles" (2016). The per-day interaction
step is a vectorized numpy kernel (:mod:`affiliate_sim.kernel`); the command line
(:mod:`affiliate_sim.cli`) is a Hydra app.
"""

from affiliate_sim.errors import InputError
from affiliate_sim.params import Mechanisms, Params

__all__ = ["InputError", "Mechanisms", "Params", "AffiliateModel", "load_scenario"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: importing the package must not import Mesa (the kernel is Mesa-free).
    if name == "AffiliateModel":
        from affiliate_sim.model import AffiliateModel

        return AffiliateModel
    if name == "load_scenario":
        from affiliate_sim.scenario import load_scenario

        return load_scenario
    raise AttributeError(name)
