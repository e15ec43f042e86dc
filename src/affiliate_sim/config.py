"""Config schemas (Hydra ConfigStore) and validation of a composed config.

The schemas type-check every value Hydra composes; :func:`validate` then checks ranges,
the scenario file and the run length, raising :class:`~affiliate_sim.errors.InputError`.
Schemas are stored under names outside the selectable config groups, so ``glob(*)`` over a
group never picks one up.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from affiliate_sim.errors import InputError
from affiliate_sim.params import Mechanisms, Params
from affiliate_sim.scenario import Scenario, load_scenario

#: The repository's config folder.
CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
PRIMARY = "affiliate_sim"

#: Schema of the ``params`` group: every field of :class:`Params` as a float.
ParamsSchema = dataclasses.make_dataclass(
    "ParamsSchema",
    [(f.name, float, field(default=f.default)) for f in dataclasses.fields(Params)
     if f.name != "mechanisms"],
)


@dataclass
class ScenarioRef:
    """The ``scenario`` group: the name of a file in ``scenarios/``."""

    name: str = MISSING


@dataclass
class AppSchema:
    """Schema of the primary config of ``affiliate-sim``."""

    scenario: ScenarioRef = field(default_factory=ScenarioRef)
    params: Any = field(default_factory=ParamsSchema)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)
    seed: int = 0
    days: int | None = None


def register() -> None:
    """Store the schemas in Hydra's ConfigStore (idempotent)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="affiliate_sim_schema", node=AppSchema)


@dataclass
class RunSpec:
    """A validated run: what :func:`affiliate_sim.model.AffiliateModel` needs."""

    scenario: Scenario
    params: Params
    seed: int
    days: int


def validate(cfg: DictConfig | dict, where: str = "override") -> RunSpec:
    """Check a composed config: parameter ranges, the scenario file, the run length.

    Raises:
        InputError: naming the key and the problem.
    """
    data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    pdata = dict(data.get("params") or {})
    pdata["mechanisms"] = dict(data.get("mechanisms") or {})
    params = Params.from_dict(pdata, where=where)
    name = (data.get("scenario") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise InputError(where, "scenario", "no scenario given (scenario=NAME)")
    scenario = load_scenario(name)
    seed = data.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(where, "seed", f"must be a whole number >= 0, got {seed!r}")
    days = data.get("days")
    if days is None:
        days = scenario.days
    elif isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InputError(where, "days", f"must be a whole number >= 1, got {days!r}")
    return RunSpec(scenario=scenario, params=params, seed=seed, days=days)
