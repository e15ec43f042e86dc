"""affiliate_sim: competition between jihadist organizations on a regional grid.

An agent-based model (Mesa) of Islamic State affiliates, al-Qaeda branches, state forces and
local militias, built from and calibrated to Gartenstein-Ross and Barr, "Neither Remaining Nor
Expanding: The Islamic State's Global Expansion Struggles" (2016).

Sub-packages, from the inside out:

* :mod:`~affiliate_sim.kernel`: the day's interaction on every cell, pure compiled
  functions over arrays with a leading replicate axis;
* :mod:`~affiliate_sim.mechanisms`: the article's ten mechanisms and the core processes,
  one module each, owning its whole rule;
* :mod:`~affiliate_sim.scenario`: scenario files, observations, parameters;
* :mod:`~affiliate_sim.model`: the Mesa model (agents, the World of arrays, the day);
* :mod:`~affiliate_sim.experiments`: runs and ensembles, replay, calibration, sweeps;
* :mod:`~affiliate_sim.cli`: the Hydra command line and the compose API for notebooks;
* :mod:`~affiliate_sim.viz`: figures and the interactive view.
"""

from affiliate_sim.errors import InputError

__all__ = ["InputError", "AffiliateModel", "Mechanisms", "Params", "load_scenario"]
__version__ = "0.2.0"


def __getattr__(name: str):
    # Lazy, so that importing the package imports neither Mesa nor numba.
    if name == "AffiliateModel":
        from affiliate_sim.model import AffiliateModel

        return AffiliateModel
    if name in ("Params", "Mechanisms"):
        from affiliate_sim.scenario import params

        return getattr(params, name)
    if name == "load_scenario":
        from affiliate_sim.scenario import load_scenario

        return load_scenario
    raise AttributeError(name)
