"""Model parameters: one validated dataclass assembled from the processes' declarations.

Every parameter is declared once, with its unit, range, source and meaning, in the module
of the process that owns it (``PARAMS`` of each module of :mod:`affiliate_sim.mechanisms`).
This module assembles them into the user-facing :class:`Params` (SALib style: the
parameter set is data), which validates user input, documents the model (``docs/model.md``
is checked against it) and bounds calibration, and :class:`Mechanisms`, the on/off switch of
each of the article's ten mechanisms.

Rates are hazards per day unless the unit says otherwise. Shares and propensities are in
[0, 1]. Fighters are real-valued head counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import field, fields, make_dataclass
from typing import Any

import numpy as np

from affiliate_sim.errors import InputError
from affiliate_sim.mechanisms import MECHANISMS, PROCESSES, parameters
from affiliate_sim.scenario.files import DEFAULT_CELL_KM

#: ``{name: (process, Param)}`` for every parameter, in table order.
PARAMETERS = {prm.name: (process, prm) for process, prm in parameters()}

Mechanisms = make_dataclass(
    "Mechanisms", [(m, bool, field(default=True)) for m in MECHANISMS],
    namespace={"__doc__": "On/off switch for each of the article's ten mechanisms (all on by "
                          "default). A switched-off mechanism is not run at all "
                          "(``mechanisms.purge=false``)."},
    module=__name__)


class _ParamsMethods:
    """Methods of :class:`Params`."""

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, where: str = "params"):
        """Build and validate from a plain mapping (e.g. a Hydra config node).

        Raises:
            InputError: on an unknown key, a wrong type or a value out of range.
        """
        data = dict(data or {})
        mech = data.pop("mechanisms", None) or {}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in PARAMETERS:
                raise InputError(where, f"params.{key}", "unknown parameter")
            kwargs[key] = _as_float(value, where, f"params.{key}")
        mkw: dict[str, bool] = {}
        for key, value in dict(mech).items():
            if key not in MECHANISMS:
                raise InputError(where, f"mechanisms.{key}", "unknown mechanism "
                                 f"(known: {', '.join(MECHANISMS)})")
            if not isinstance(value, bool):
                raise InputError(where, f"mechanisms.{key}", f"must be true or false, "
                                 f"got {value!r}")
            mkw[key] = value
        params = cls(**kwargs, mechanisms=Mechanisms(**mkw))
        params.validate(where)
        return params

    def validate(self, where: str = "params") -> None:
        """Check every value against its range.

        Raises:
            InputError: naming the first parameter out of range.
        """
        for name, (_, prm) in PARAMETERS.items():
            value = _as_float(getattr(self, name), where, f"params.{name}")
            if not (prm.lo <= value <= prm.hi):
                raise InputError(where, f"params.{name}",
                                 f"{value!r} is out of range [{prm.lo}, {prm.hi}]")

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (parameters and mechanism switches)."""
        return dataclasses.asdict(self)

    def on(self, mechanism: str) -> bool:
        """Whether a mechanism is switched on."""
        return bool(getattr(self.mechanisms, mechanism))


Params = make_dataclass(
    "Params",
    [(name, float, field(default=prm.default, metadata={
        "lo": prm.lo, "hi": prm.hi, "unit": prm.unit, "mechanism": process,
        "source": prm.source, "doc": prm.doc}))
     for name, (process, prm) in PARAMETERS.items()]
    + [("mechanisms", Mechanisms, field(default_factory=Mechanisms))],
    bases=(_ParamsMethods,),
    namespace={"__doc__": "Every behavioural parameter of the model, with its default "
                          "(field metadata: ``lo``/``hi``, ``unit``, ``mechanism``: the "
                          "process that owns it, ``source``, ``doc``), and the mechanism "
                          "switches."},
    module=__name__)


def _as_float(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                         np.integer)):
        raise InputError(where, key, f"must be a number, got {value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(where, key, "must be a finite number")
    return value


def param_arrays(params: Sequence[Params]) -> dict[str, np.ndarray]:
    """``{name: (R,) float array}``, replicate r's value from ``params[r]``."""
    return {name: np.array([float(getattr(p, name)) for p in params])
            for name in PARAMETERS}


def case_arrays(params: Sequence[Params],
                cell_km: float = DEFAULT_CELL_KM) -> dict[str, np.ndarray]:
    """:func:`param_arrays`, plus the per-cell values the processes derive from the
    physical parameters for cells of ``cell_km`` km (each process's ``per_cell``: the
    share of a cell's fighters who move in a day, the share of a force bearing on each
    neighbour, the sensing passes, the concealment in a cell; docs/model.md, 2.1)."""
    arrays = param_arrays(params)
    for m in PROCESSES:
        if hasattr(m, "per_cell"):
            arrays.update(m.per_cell(arrays, cell_km))
    return arrays


def parameter_table() -> list[dict[str, Any]]:
    """One row per parameter: name, default, unit, range, mechanism, source, doc."""
    return [{"name": f.name, "default": f.default, **f.metadata}
            for f in fields(Params) if f.name != "mechanisms"]


def load_params(path) -> Params:
    """Parameters from a ``conf/params/*.yaml`` file (defaults if ``None``).

    Raises:
        InputError: naming the file and the bad key.
    """
    if path is None:
        return Params()
    from pathlib import Path

    import yaml

    text = Path(path).read_text(encoding="utf-8")
    return Params.from_dict(point_of(yaml.safe_load(text) or {}), where=str(path))


#: The key of a ``conf/params`` file naming a posterior's table of particles (its values
#: are then the posterior's point set).
POSTERIOR_KEY = "posterior"


def point_of(data):
    """A parameter file's data without its posterior table's name (the point set)."""
    if isinstance(data, dict) and POSTERIOR_KEY in data:
        data = {k: v for k, v in data.items() if k != POSTERIOR_KEY}
    return data


def without(params: Params, *mechanisms: str) -> Params:
    """A copy of ``params`` with the given mechanisms switched off."""
    mech = dataclasses.replace(params.mechanisms, **{m: False for m in mechanisms})
    return dataclasses.replace(params, mechanisms=mech)
