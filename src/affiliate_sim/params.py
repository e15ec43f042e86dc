"""Model parameters: one validated dataclass, with unit, range and source for each field.

The parameter set is data (SALib style): every field carries metadata (unit, range, the
mechanism that uses it, the article passage or modelling convention it comes from). The
same metadata validates user input, documents the model (``docs/model.md`` is checked
against it) and bounds calibration.

Rates are hazards per day unless the unit says otherwise. Shares and propensities are in
[0, 1]. Fighters are real-valued head counts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

from affiliate_sim.errors import InputError

#: The article's ten mechanisms, each implemented in ``affiliate_sim.mechanisms.<name>``.
MECHANISMS: tuple[str, ...] = (
    "pledge",
    "retaliation",
    "purge",
    "counterterrorism",
    "coalition",
    "schism",
    "momentum",
    "investment",
    "retreat",
    "terrain",
)


def _p(default, lo, hi, unit, mechanism, source, doc):
    return field(
        default=default,
        metadata={
            "lo": lo,
            "hi": hi,
            "unit": unit,
            "mechanism": mechanism,
            "source": source,
            "doc": doc,
        },
    )


A = "article"  # short-hand in sources below


@dataclass
class Mechanisms:
    """On/off switch for each of the article's ten mechanisms (all on by default).

    Switching a mechanism off zeroes its rates and disables its decision rule, so a user can
    see what each contributes (``mechanisms.purge=false``).
    """

    pledge: bool = True
    retaliation: bool = True
    purge: bool = True
    counterterrorism: bool = True
    coalition: bool = True
    schism: bool = True
    momentum: bool = True
    investment: bool = True
    retreat: bool = True
    terrain: bool = True


@dataclass
class Params:
    """Every behavioural parameter of the model, with its default.

    Field metadata: ``lo``/``hi`` (closed range), ``unit``, ``mechanism`` (the module that
    uses it, or ``combat``/``population``/``leadership`` for the shared machinery),
    ``source`` (article passage or modelling convention) and ``doc``.
    """

    # --- combat (shared Lanchester machinery used by offensives, raids, retaliation) ---
    combat_rate: float = _p(
        0.04, 0.0, 2.0, "1/day per effective fighter", "combat",
        "modelling convention (Lanchester attrition); calibrated",
        "Kill rate of one effective attacker against an exposed, unconcealed defender.")
    adjacent_reach: float = _p(
        0.35, 0.0, 1.0, "share", "combat",
        "cases.md: attrition between forces 'in the same or adjacent cells'",
        "Share of a cell's force that also bears on each of its four neighbours.")
    conceal_guerrilla: float = _p(
        40.0, 0.0, 1e4, "fighters", "combat",
        "modelling convention (Deitchman guerrilla-vs-conventional asymmetry)",
        "Concealment of a guerrilla force: below this size losses scale with its size "
        "(area fire); above it, with the attacker's (aimed fire).")
    conceal_conventional: float = _p(
        4.0, 0.0, 1e4, "fighters", "combat",
        "modelling convention (Lanchester aimed fire)",
        "Concealment of a conventional (state) force.")
    conventional_search: float = _p(
        0.3, 0.0, 1.0, "share", "combat",
        A + ": 'What America and its agents could not do in 14 years, the Taliban did in 24 "
        "hours.'",
        "Effectiveness of a conventional force hunting guerrillas, relative to a guerrilla "
        "force that knows the ground (the attacker's side of the guerrilla-versus-"
        "conventional asymmetry).")
    offensive_power: float = _p(
        3.0, 1.0, 20.0, "multiplier", "combat",
        A + ": 'the Taliban did in 24 hours'; 'full-scale offensive' (Derna)",
        "Effectiveness multiplier of an organization on a full offensive.")
    fortune_sd: float = _p(
        0.25, 0.0, 2.0, "log-sd per day", "combat",
        "modelling convention (day-to-day fortune of war)",
        "Standard deviation of the daily lognormal noise on each organization's "
        "effectiveness.")
    offensive_threshold: float = _p(
        2.0, 0.0, 100.0, "force ratio", "combat",
        A + ": rivals 'often have a strong ground network ... an advantage'; "
        "'frequently outnumbered'",
        "Local force ratio (times 1 + grudge) at which an organization opens an offensive.")
    offensive_rate: float = _p(
        0.3, 0.0, 10.0, "1/day", "combat",
        "modelling convention",
        "Hazard of opening an offensive per unit of relative excess propensity "
        "(propensity / threshold - 1, capped at 50).")
    offensive_max_days: float = _p(
        21.0, 1.0, 365.0, "days", "combat",
        A + ": Derna 'within two weeks'",
        "Longest an offensive lasts before the attacker stands down to regroup.")
    hostility_engagement: float = _p(
        0.15, 0.0, 1.0, "share", "combat",
        "modelling convention (low-level clashes between hostile groups)",
        "Engagement intensity between hostile organizations outside an offensive.")

    # --- population: recruitment, desertion, sympathy ---
    local_recruit_rate: float = _p(
        0.004, 0.0, 1.0, "fighters/day per 1000 inhabitants", "population",
        "modelling convention; calibrated",
        "Daily local recruits per thousand inhabitants of a cell that an organization "
        "fully dominates, at appeal 1.")
    recruit_scale: float = _p(
        50.0, 1.0, 1e5, "fighters", "population",
        "modelling convention",
        "Presence at which an organization reaches half its recruiting potential in a cell.")
    desertion_rate: float = _p(
        0.0015, 0.0, 1.0, "1/day", "population",
        "modelling convention",
        "Desertion hazard, scaled by (1 - cohesion) * (1.5 - resources): a group without "
        "cohesion or means loses 1.5 times this rate.")
    conversion_rate: float = _p(
        0.01, 0.0, 1.0, "1/day", "population",
        A + ": IS 'appealing to al-Shabaab's foot soldiers and mid-level commanders'",
        "Rate at which loyal fighters of a group the IS core courts (a scripted input) turn "
        "latent IS sympathizers, per unit of IS appeal and courting intensity.")
    reversion_rate: float = _p(
        0.01, 0.0, 1.0, "1/day", "population",
        "modelling convention",
        "Rate at which latent sympathizers return to loyalty.")

    # --- 1 pledge (defection by pledge) ---
    defection_rate: float = _p(
        0.02, 0.0, 5.0, "1/day", "pledge",
        A + ": 'persuading rank-and-file militants and even occasionally entire jihadist "
        "groups to defect'",
        "Hazard that a latent sympathizer defects to an accessible organization he favours.")
    bandwagon_rate: float = _p(
        0.01, 0.0, 5.0, "1/day", "pledge",
        A + ": al-Murabitun 'loyalists came out on top'",
        "Hazard that a loyal fighter of a losing, incohesive organization changes side to "
        "a stronger one of his camp or his former parent.")
    defection_reach: float = _p(
        20.0, 0.1, 1e5, "fighters", "pledge",
        "modelling convention",
        "Presence of the receiving organization at which half of would-be defectors can "
        "reach it.")
    pledge_majority: float = _p(
        0.6, 0.0, 1.0, "share", "pledge",
        A + ": 'entire jihadist groups' (IMU) pledge as a whole",
        "Share of sympathizers at which a whole organization pledges to the rival camp.")

    # --- 2 retaliation against defectors ---
    betrayal_grudge: float = _p(
        3.0, 0.0, 100.0, "propensity", "retaliation",
        A + ": Taliban offensive 'shortly after' the IMU pledge; Belmokhtar 'went on the "
        "offensive'",
        "Grudge a parent or ally holds against an organization that pledges away.")
    grudge_decay: float = _p(
        0.01, 0.0, 1.0, "1/day", "retaliation",
        "modelling convention",
        "Decay rate of grudges.")

    # --- 3 purge by an intelligence wing ---
    purge_rate: float = _p(
        0.05, 0.0, 5.0, "1/day", "purge",
        A + ": amniyat 'arrest or kill Islamic State supporters'; 'as many as 30' detained",
        "Hazard that a latent sympathizer is caught by a purge at full capacity and effort.")
    purge_kill_share: float = _p(
        0.3, 0.0, 1.0, "share", "purge",
        A + ": 'arrest or kill'",
        "Share of purged sympathizers killed (the rest are detained).")
    purge_trigger: float = _p(
        0.02, 0.0, 1.0, "share", "purge",
        A + ": IS 'shifted to appealing to al-Shabaab's foot soldiers'",
        "Suspected sympathizer share at which an organization with an intelligence wing "
        "starts a purge.")
    purge_capacity_scale: float = _p(
        1.0, 0.0, 5.0, "multiplier", "purge",
        "policy lever (issue 4): purge capacity of AQ branches",
        "Multiplier on every organization's purge capacity.")
    flee_rate: float = _p(
        0.02, 0.0, 5.0, "1/day per unit fear", "purge",
        A + ": 'Other pro-Islamic State militants fled al-Shabaab-controlled territory'",
        "Hazard that a sympathizer flees the organization, per unit of purge fear.")
    surrender_rate: float = _p(
        0.005, 0.0, 5.0, "1/day per unit fear", "purge",
        A + ": 'preferred to fall into the enemy's hands'",
        "Hazard that a sympathizer surrenders to the state, per unit fear and state "
        "presence.")

    # --- 4 state counter-terrorism ---
    state_vigilance: float = _p(
        0.5, 0.0, 1.0, "share", "counterterrorism",
        "policy lever (issue 4); " + A + ": 'hyper-vigilant security forces'",
        "Baseline vigilance of state forces; each state's scenario vigilance multiplies it.")
    raid_rate: float = _p(
        0.01, 0.0, 10.0, "1/day", "counterterrorism",
        "modelling convention; calibrated",
        "Background raid hazard on a fully visible fighter under full state presence and "
        "vigilance.")
    raid_kill_share: float = _p(
        0.8, 0.0, 1.0, "share", "counterterrorism",
        A + ": 'killed at least 25 Islamic State militants in two days of raids'",
        "Share of fighters hit by a raid who are killed (the rest are detained).")
    intel_gain: float = _p(
        0.02, 0.0, 1.0, "1/day", "counterterrorism",
        A + ": the beheading 'placed themselves squarely in the crosshairs'",
        "Daily growth of a state's intelligence on a group, per unit visibility and "
        "vigilance.")
    intel_decay: float = _p(
        0.005, 0.0, 1.0, "1/day", "counterterrorism",
        "modelling convention",
        "Daily decay of intelligence.")
    raid_operation_rate: float = _p(
        0.1, 0.0, 10.0, "1/day", "counterterrorism",
        A + ": 'two days of raids in the mountains of northeastern Algeria'",
        "Hazard of launching a major raid operation per unit intelligence above the trigger.")
    raid_trigger: float = _p(
        0.5, 0.0, 1.0, "intelligence", "counterterrorism",
        "modelling convention",
        "Intelligence level above which a state can launch major raid operations on a group "
        "and open full offensives against it (it has found the group).")
    raid_operation_days: float = _p(
        2.0, 1.0, 60.0, "days", "counterterrorism",
        A + ": 'two days of raids'",
        "Length of a major raid operation.")
    raid_operation_intensity: float = _p(
        120.0, 0.0, 1e4, "multiplier", "counterterrorism",
        A + ": 'left five of Jund al-Khilafah's six commanders dead'",
        "Raid intensity during a major operation, relative to background raiding.")
    leader_hit_rate: float = _p(
        1.5, 0.0, 100.0, "multiplier", "counterterrorism",
        A + ": 'Algerian security forces killed the group's emir'",
        "Hazard of a leader being killed per unit of the raid hazard around him (in battle "
        "leaders face LEADER_COMBAT_EXPOSURE times their fighters' hazard).")
    state_reinforcement: float = _p(
        0.02, 0.0, 1.0, "1/day", "population",
        "modelling convention (a state draws on a national hinterland)",
        "Rate at which a state force is reinforced back towards its initial strength.")
    visibility_decay: float = _p(
        0.01, 0.0, 1.0, "1/day", "counterterrorism",
        "modelling convention",
        "Rate at which a visibility shock fades back to the organization's baseline.")

    # --- 5 coalition against an outsider ---
    coalition_roots: float = _p(
        0.6, 0.0, 1.0, "share", "coalition",
        A + ": Abu Salim Martyrs Brigade 'with deep roots in the city'",
        "Local roots at or above which an organization counts as local.")
    outsider_roots: float = _p(
        0.4, 0.0, 1.0, "share", "coalition",
        A + ": al-Battar 'redeployed from Syria'",
        "Local roots below which an organization counts as an outsider.")
    coalition_rate: float = _p(
        0.03, 0.0, 10.0, "1/day", "coalition",
        A + ": pledge in October 2014, the Council 'in December 2014'",
        "Hazard that locals facing an outsider form their coalition, per day.")
    provocation_grudge: float = _p(
        6.0, 0.0, 100.0, "propensity", "coalition",
        A + ": after IYSC killed Salim Derbi 'the Council launch[ed] a full-scale offensive'",
        "Grudge every member of a coalition holds against an outsider that assassinates "
        "one of its leaders (a scripted input).")

    # --- 6 internal schism ---
    grievance_gain: float = _p(
        0.01, 0.0, 1.0, "1/day", "schism",
        A + ": 'injustice against the weak'; 'failing to provide sufficient resources'",
        "Daily growth of grievance per unit of the wali's injustice, brutality and "
        "strategic disagreement.")
    grievance_decay: float = _p(
        0.005, 0.0, 1.0, "1/day", "schism",
        "modelling convention",
        "Daily decay of grievance.")
    disaffection_rate: float = _p(
        0.01, 0.0, 1.0, "1/day", "schism",
        A + ": 'This wave of defections and publicly aired grievances'",
        "Rate at which loyal fighters of an affiliate with a dissident faction become "
        "disaffected with the wali, per unit of grievance.")
    schism_threshold: float = _p(
        0.5, 0.0, 1.0, "grievance", "schism",
        A + ": 'Tensions ... exploded into public in December 2015'",
        "Grievance above which public defection statements can occur.")
    schism_statement_rate: float = _p(
        0.1, 0.0, 10.0, "1/day", "schism",
        A + ": 'This statement opened the floodgates'",
        "Hazard of a public defection statement at full grievance.")
    schism_wave_share: float = _p(
        0.35, 0.0, 1.0, "share", "schism",
        A + ": '70 members', then 'over 30', then 'another 24'",
        "Share of the disaffected who leave with one public statement.")
    schism_contagion: float = _p(
        2.0, 0.0, 100.0, "multiplier", "schism",
        A + ": 'each public statement encouraging the next' (cases.md)",
        "Increase of the statement hazard per recent statement.")
    core_backs_wali: float = _p(
        0.9, 0.0, 1.0, "probability", "schism",
        A + ": 'the central leadership stuck with its man'",
        "Probability that the IS core backs (rather than replaces) a contested wali at "
        "each review.")

    # --- 7 momentum and propaganda ---
    momentum_memory: float = _p(
        30.0, 1.0, 365.0, "days", "momentum",
        "modelling convention",
        "Time scale of the exponential memory of an organization's growth.")
    is_broadcast: float = _p(
        0.4, 0.0, 2.0, "appeal", "momentum",
        A + ": 'remaining and expanding' ... 'winner's messaging'",
        "Baseline appeal of the IS brand broadcast by the core.")
    counter_messaging: float = _p(
        0.0, 0.0, 1.0, "share", "momentum",
        A + ": 'highlighting these defeats may be one of the most effective ... "
        "counter-messaging strategies'",
        "Share of IS defeats made visible, eroding the IS appeal (policy lever).")
    momentum_gain: float = _p(
        1.0, 0.0, 10.0, "multiplier", "momentum",
        A + ": 'the perception of momentum that it works hard to maintain'",
        "Weight of local momentum in recruitment and appeal.")

    # --- 8 foreign fighters and central investment ---
    central_investment: float = _p(
        1.0, 0.0, 5.0, "multiplier", "investment",
        "policy lever (issue 4); " + A + ": 'dispatched several high-level figures'",
        "Scale of the IS core's investment of money, cadres and foreign fighters.")
    foreign_fighter_rate: float = _p(
        10.0, 0.0, 1e4, "fighters/day", "investment",
        A + ": Libya 'a destination for foreign fighters from across Africa'",
        "Foreign fighters per day reaching an affiliate that receives all of the core's "
        "investment at IS appeal 1.")
    investment_competition: float = _p(
        30.0, 0.0, 1e6, "prospect", "investment",
        A + ": wilayats 'in ten countries' compete for the core's means",
        "Prospect of the core's other uses of its means: an affiliate with this prospect "
        "receives half of what the core could give.")
    cadre_cohesion_gain: float = _p(
        0.005, 0.0, 1.0, "1/day", "investment",
        A + ": 'Abu Ali al-Anbari' sent to Sirte",
        "Daily cohesion gain of an affiliate from cadres at full investment share.")

    # --- 9 retreat, regrouping, safe passage ---
    move_rate: float = _p(
        0.3, 0.0, 1.0, "share/day", "retreat",
        A + ": 'left to regroup in the city's southern suburbs'",
        "Share of a cell's fighters who may move to a neighbouring cell in a day.")
    stay_bias: float = _p(
        3.0, 0.0, 100.0, "log-weight", "retreat",
        "modelling convention (fighters hold their ground unless a move is clearly better)",
        "Score a neighbouring cell must gain over the current one to draw as many movers "
        "as staying does.")
    danger_aversion: float = _p(
        30.0, 0.0, 1e4, "1/(hazard)", "retreat",
        "modelling convention",
        "Weight of expected daily hazard in the choice of a cell to move to.")
    attraction_weight: float = _p(
        2.0, 0.0, 100.0, "log-weight", "retreat",
        "modelling convention",
        "Weight of an offensive target's or a protector's presence in movement.")
    cover_weight: float = _p(
        1.5, 0.0, 100.0, "log-weight", "retreat",
        A + ": 'seek out a safe haven in Afghanistan's Zabul province'",
        "Weight of ruggedness and remoteness in the movement of a retreating force.")
    retreat_threshold: float = _p(
        0.6, 0.0, 100.0, "force ratio", "retreat",
        "modelling convention",
        "Local force ratio below which an organization retreats rather than holds.")
    safe_passage_share: float = _p(
        0.3, 0.0, 1.0, "share", "retreat",
        A + ": 'besieged ... requested safe passage out of the area'",
        "Fighters relative to peak below which a besieged organization asks for safe "
        "passage.")
    safe_passage_rate: float = _p(
        0.3, 0.0, 10.0, "1/day", "retreat",
        "modelling convention",
        "Evacuation hazard once safe passage is granted.")

    # --- 10 remoteness and terrain ---
    terrain_conceal: float = _p(
        3.0, 0.0, 100.0, "multiplier", "terrain",
        A + ": 'the mountains of northeastern Algeria'; Sinai",
        "Increase of concealment per unit of ruggedness.")
    population_conceal: float = _p(
        0.02, 0.0, 10.0, "1/thousand inhabitants", "terrain",
        "cases.md: Sinai 'embedded in terrain and population'",
        "Increase of concealment per thousand inhabitants of a cell (for every style; a "
        "conventional force's small base concealment gains little).")
    terrain_protection: float = _p(
        1.0, 0.0, 100.0, "multiplier", "terrain",
        "modelling convention",
        "Reduction of all combat hazards per unit of ruggedness.")
    remoteness_shield: float = _p(
        0.8, 0.0, 1.0, "share", "terrain",
        A + ": 'Puntland is geographically removed from al-Shabaab's largest strongholds'",
        "Share of raid and purge reach lost in a fully remote cell.")

    # --- leadership ---
    succession_shock: float = _p(
        0.35, 0.0, 1.0, "cohesion", "leadership",
        A + ": 'rarely crippling for well-established jihadist groups'",
        "Cohesion lost when a new organization's emir is killed (scaled by 1 - "
        "establishment).")
    cohesion_recovery: float = _p(
        0.02, 0.0, 1.0, "1/day", "leadership",
        "modelling convention",
        "Rate at which cohesion returns towards its target.")
    collapse_threshold: float = _p(
        10.0, 0.0, 1e5, "fighters", "leadership",
        "cases.md: 'collapse to under about 10 fighters'",
        "Fighters below which an organization counts as collapsed.")

    mechanisms: Mechanisms = field(default_factory=Mechanisms)

    # ------------------------------------------------------------------ API
    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, where: str = "params") -> Params:
        """Build and validate from a plain mapping (e.g. a Hydra config node).

        Raises:
            InputError: on an unknown key, a wrong type or a value out of range.
        """
        data = dict(data or {})
        mech = data.pop("mechanisms", None) or {}
        known = {f.name for f in fields(cls)} - {"mechanisms"}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
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
        for f in fields(self):
            if f.name == "mechanisms":
                continue
            value = getattr(self, f.name)
            value = _as_float(value, where, f"params.{f.name}")
            lo, hi = f.metadata["lo"], f.metadata["hi"]
            if not (lo <= value <= hi):
                raise InputError(where, f"params.{f.name}",
                                 f"{value!r} is out of range [{lo}, {hi}]")

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (parameters and mechanism switches)."""
        return dataclasses.asdict(self)

    def on(self, mechanism: str) -> bool:
        """Whether a mechanism is switched on."""
        return bool(getattr(self.mechanisms, mechanism))


def _as_float(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(where, key, f"must be a number, got {value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(where, key, "must be a finite number")
    return value


def parameter_table() -> list[dict[str, Any]]:
    """One row per parameter: name, default, unit, range, mechanism, source, doc."""
    rows = []
    for f in fields(Params):
        if f.name == "mechanisms":
            continue
        rows.append({"name": f.name, "default": f.default, **f.metadata})
    return rows
