"""Figures (:mod:`.plots`) shared by the replay report, the notebooks and the view, and the
interactive view itself (:mod:`.app`, a Mesa SolaraViz page)."""
