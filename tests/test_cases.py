"""The nine historical cases: inputs are not outcomes.

With the calibrated parameters, switching off the mechanism responsible for an observation
makes it fail, in most seeds: the outcome is produced by that mechanism, not scripted.
"""

from __future__ import annotations

import pytest

from affiliate_sim.experiments.runs import RunSpec, execute
from affiliate_sim.mechanisms import MECHANISMS
from affiliate_sim.paths import CALIBRATED
from affiliate_sim.scenario import CASES, load_scenario
from affiliate_sim.scenario.params import load_params, without

SEEDS = 8

#: (case, observation, mechanism responsible for it)
RESPONSIBLE = [
    ("somalia_2015", "about_30_detained_by_october", "purge"),
    ("derna_2014", "full_offensive_after_assassination", "coalition"),
    ("derna_2014", "clashes_in_early_2015", "coalition"),
    ("imu_2015", "taliban_offensive_soon", "retaliation"),
    ("murabitun_2015", "belmokhtar_offensive", "retaliation"),
    ("somalia_2015", "mumin_pledges_in_october", "pledge"),
    ("khorasan_2015", "dissidents_have_followers", "schism"),
    ("sirte_2015", "foreign_fighters_arrive", "investment"),
    ("sirte_2015", "about_6500_by_early_2016", "momentum"),
    ("imu_2015", "imu_flees_to_zabul", "retreat"),
    ("sinai_2015", "survives", "terrain"),
    ("algeria_2014", "remnant_by_early_2016", "counterterrorism"),
]
#: Mechanisms no met observation of the nine cases depends on with the current calibrated
#: set (none: Algeria's remnant of six or seven needs the state's raids and operations;
#: docs/calibration.md).
UNOBSERVED: set[str] = set()


def share_met(case, obs_id, params):
    sc = load_scenario(case)
    res = execute([RunSpec.of(sc, params, 2000 + s) for s in range(SEEDS)])
    return sum(r.met[obs_id] for r in res) / len(res)


@pytest.mark.parametrize("case", CASES)
def test_every_case_loads_with_observations(case):
    sc = load_scenario(case)
    assert len(sc.observations) >= 2
    for o in sc.observations:
        assert len(o.source) > 20


@pytest.mark.slow
@pytest.mark.parametrize("case,obs_id,mechanism", RESPONSIBLE,
                         ids=[f"{c}-{m}" for c, _, m in RESPONSIBLE])
def test_mechanism_off_fails_its_observation(case, obs_id, mechanism):
    params = load_params(CALIBRATED)
    on = share_met(case, obs_id, params)
    off = share_met(case, obs_id, without(params, mechanism))
    assert on >= 0.5, f"{obs_id} should be met with every mechanism on ({on:.2f})"
    assert off <= 1 / SEEDS, f"{obs_id} still met with {mechanism} off ({off:.2f})"


def test_every_mechanism_but_the_unobserved_has_an_observation_it_is_responsible_for():
    assert {m for _, _, m in RESPONSIBLE} == set(MECHANISMS) - UNOBSERVED
