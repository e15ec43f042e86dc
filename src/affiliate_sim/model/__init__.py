"""The Mesa model: the World of arrays, the organizations as agents, the day's loop over the
processes, random streams, history and the event log."""

from affiliate_sim.model.model import AffiliateModel, Run
from affiliate_sim.model.world import World

__all__ = ["AffiliateModel", "Run", "World"]
