"""Experiments on the model: the one run path (:mod:`.runs`: validated run specs in,
results out, as ensembles), the replay of the nine cases (:mod:`.replay`), calibration
(:mod:`.calibrate`), sweep jobs and their tables (:mod:`.sweep`), comparisons over sweep
tables (:mod:`.compare`) and the tidy outputs of a run (:mod:`.output`). Nothing here
imports Hydra."""
