"""The command line (Hydra at the edge) and the compose API for notebooks.

* :mod:`.main`: the ``affiliate-sim``, ``affiliate-replay``, ``affiliate-calibrate`` and
  ``affiliate-aggregate`` commands;
* :mod:`.config`: config schemas and validation of a composed config;
* :mod:`.compose`: the same configs through Hydra's compose API (notebooks, scripts);
* :mod:`.sweep_callback`: progress and the sweep table of multiruns;
* :mod:`.errors`: composition errors as one line; :mod:`.summary`: print a run summary.
"""
