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
from affiliate_sim.scenario.files import DEFAULT_CELL_KM, ESTIMABLE

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
        est = check_estimates(data.pop(ESTIMATES, None) or {}, where)
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
        params = cls(**kwargs, mechanisms=Mechanisms(**mkw), estimates=est)
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
        check_estimates(self.estimates, where)

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (parameters, mechanism switches and the cases' estimates)."""
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
    + [("mechanisms", Mechanisms, field(default_factory=Mechanisms)),
       ("estimates", dict, field(default_factory=dict))],
    bases=(_ParamsMethods,),
    namespace={"__doc__": "Every behavioural parameter of the model, with its default "
                          "(field metadata: ``lo``/``hi``, ``unit``, ``mechanism``: the "
                          "process that owns it, ``source``, ``doc``), the mechanism "
                          "switches, and values that replace a case's estimates "
                          "(``estimates``: ``{case: {organization: {field: value}}}``, "
                          "see :func:`check_estimates`)."},
    module=__name__)


#: The field of :class:`Params` holding values that replace the estimates of the cases.
ESTIMATES = "estimates"
#: Fields of :class:`Params` that are not parameters.
NOT_PARAMETERS = ("mechanisms", ESTIMATES)


def check_estimates(data: Any, where: str = "params") -> dict[str, dict[str, dict[str, float]]]:
    """Validate ``params.estimates``: ``{case: {organization: {field: value}}}``, values
    for the organization fields of :data:`~affiliate_sim.scenario.files.ESTIMABLE`, each
    within its range. In a run of case ``case`` they replace the scenario file's values,
    replicate by replicate (the organizations are checked against the case when it is
    built, :func:`case_estimates`); the entries of other cases play no part.

    Raises:
        InputError: naming the key and the problem.
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    if not isinstance(data, dict):
        raise InputError(where, f"params.{ESTIMATES}", "must be a mapping of case to "
                         "organization to field to value")
    for case, orgs in data.items():
        key = f"params.{ESTIMATES}.{case}"
        if not isinstance(case, str) or not case or "." in case:
            raise InputError(where, key, "a case's name (without dots)")
        if not isinstance(orgs, dict):
            raise InputError(where, key, "must be a mapping of organization to field to value")
        out[str(case)] = {}
        for org, values in orgs.items():
            k = f"{key}.{org}"
            if not isinstance(values, dict):
                raise InputError(where, k, "must be a mapping of field to value")
            out[str(case)][str(org)] = {}
            for f, v in values.items():
                if f not in ESTIMABLE:
                    raise InputError(where, f"{k}.{f}", "not a field a case's estimate can "
                                     f"replace (these can: {', '.join(ESTIMABLE)})")
                x = _as_float(v, where, f"{k}.{f}")
                lo, hi = ESTIMABLE[f]
                if not lo <= x <= hi:
                    raise InputError(where, f"{k}.{f}", f"{x!r} is out of range [{lo}, {hi}]")
                out[str(case)][str(org)][f] = x
    return out


def case_estimates(case, params: Sequence[Params],
                   where: str = "params") -> list[dict[str, dict[str, float]]]:
    """Each replicate's estimates for ``case`` (a :class:`~affiliate_sim.scenario.Scenario`),
    ``{organization: {field: value}}``.

    Raises:
        InputError: an organization the case does not have, or a strength for one that
            starts without fighters.
    """
    specs = {o.name: o for o in case.organizations}
    out = []
    for p in params:
        mine = (p.estimates or {}).get(case.name, {})
        for org, values in mine.items():
            key = f"params.{ESTIMATES}.{case.name}.{org}"
            if org not in specs:
                raise InputError(where, key, f"no organization named {org!r} in "
                                 f"{case.name} (it has: {', '.join(specs)})")
            if "fighters" in values and (specs[org].fighters <= 0 or values["fighters"] <= 0):
                raise InputError(where, f"{key}.fighters", "only a strength above 0 of an "
                                 "organization that starts with fighters can be replaced")
        out.append(mine)
    return out


def estimate_name(case: str, org: str, field_: str) -> str:
    """The flat name of a case's estimate (``estimates.CASE.ORG.FIELD``), as calibration
    tables and posterior particles name it."""
    return f"{ESTIMATES}.{case}.{org}.{field_}"


def split_estimate(name: str) -> tuple[str, str, str] | None:
    """``(case, organization, field)`` of a flat estimate name, else None."""
    if not name.startswith(ESTIMATES + "."):
        return None
    rest = name[len(ESTIMATES) + 1:]
    case, _, tail = rest.partition(".")
    org, _, f = tail.rpartition(".")
    return (case, org, f) if case and org and f else None


def with_values(params: Params, values: dict[str, float]) -> Params:
    """A copy of ``params`` with parameters and flat-named estimates replaced."""
    plain = {k: float(v) for k, v in values.items() if split_estimate(k) is None}
    est = {c: {o: dict(f) for o, f in orgs.items()} for c, orgs in params.estimates.items()}
    for k, v in values.items():
        parts = split_estimate(k)
        if parts is not None:
            c, o, f = parts
            est.setdefault(c, {}).setdefault(o, {})[f] = float(v)
    return dataclasses.replace(params, **plain, estimates=est)


def params_yaml(params: Params) -> str:
    """The body of a ``conf/params`` file for ``params``: each parameter that differs from
    its default, then the cases' estimates it replaces (empty if nothing differs)."""
    import yaml

    defaults = Params()
    body = "".join(f"{k}: {v!r}\n" for k, v in params.to_dict().items()
                   if k not in NOT_PARAMETERS and v != getattr(defaults, k))
    if params.estimates:
        body += yaml.safe_dump({ESTIMATES: params.estimates}, sort_keys=True)
    return body


def flat_estimates(params: Params) -> dict[str, float]:
    """A parameter set's estimates by flat name (:func:`estimate_name`)."""
    return {estimate_name(c, o, f): v for c, orgs in params.estimates.items()
            for o, fs in orgs.items() for f, v in fs.items()}


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
            for f in fields(Params) if f.name not in NOT_PARAMETERS]


def load_params(path) -> Params:
    """Parameters from a ``conf/params/*.yaml`` file (defaults if ``None``).

    Raises:
        InputError: naming the file and the bad key.
    """
    if path is None:
        return Params()
    from pathlib import Path

    from affiliate_sim.scenario.files import read_yaml

    text = Path(path).read_text(encoding="utf-8")
    return Params.from_dict(point_of(read_yaml(text, str(path)) or {}), where=str(path))


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
