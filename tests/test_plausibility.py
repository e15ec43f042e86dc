"""Four-year continuations of the nine cases, as tests of plausibility.

Each case runs for four years (1460 days, well past the article's window) with the
calibrated parameters, four seeds. Whatever happens, the world must stay plausible:

* no armed group above what the population of the grid can carry for its roots, plus the
  foreign fighters it received (recruitment has a carrying capacity);
* no endless cascade: a schism's statements are bounded and stop;
* states stay finite: a state force never exceeds its starting strength plus what was
  deployed, and never draws more reinforcements than its reserve;
* every stock stays finite and non-negative.
"""

from __future__ import annotations

import numpy as np
import pytest

from affiliate_sim.model import AffiliateModel
from affiliate_sim.paths import CALIBRATED
from affiliate_sim.scenario import CASES, load_scenario
from affiliate_sim.scenario.params import load_params
from affiliate_sim.vocabulary import IS_CORE, STATE

DAYS = 4 * 365
SEEDS = (0, 1, 2, 3)
#: Statements (first split and later ones) of one affiliate over four years, at most.
MAX_STATEMENTS = 40


@pytest.fixture(scope="module")
def params():
    return load_params(CALIBRATED)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_four_years_stay_plausible(case, params):
    sc = load_scenario(case)
    m = AffiliateModel(sc, params, days=DAYS, seeds=SEEDS, snapshots=False).run()
    w = m.world
    pop = w.grid.population.sum()
    deployed = {x.actor: 0.0 for x in sc.inputs}
    for x in sc.inputs:
        if x.kind == "deployment":
            deployed[x.actor] += x.magnitude
    for r in range(m.R):
        run = m.record(r)
        h = run.history
        F = h.stocks["fighters"]
        assert np.all(np.isfinite(F)) and F.min() >= 0.0
        for v, name in enumerate(m.names):
            camp, kind = w.orgs.camp[r, v], w.orgs.kind[r, v]
            if kind == IS_CORE:
                continue
            if camp == STATE:
                spec = sc.organizations[v]
                ceiling = spec.fighters + deployed.get(name, 0.0)
                assert F[:, v].max() <= ceiling * (1 + 1e-9), (
                    f"{case} seed {r}: state {name} grew to {F[:, v].max():.0f} "
                    f"(start plus deployments {ceiling:.0f})")
                reserve = spec.reserve
                drawn = h.flows["recruited_foreign"][:, v].sum()
                assert drawn <= reserve * (1 + 1e-9) + deployed.get(name, 0.0), (
                    f"{case} seed {r}: state {name} drew {drawn:.0f} reinforcements from a "
                    f"reserve of {reserve:.0f}")
                continue
            roots = w.orgs.local_roots[r, v]
            carry = (params.mobilization_ceiling * (0.5 + roots) * pop * 1.1
                     + h.flows["recruited_foreign"][:, v].sum()
                     + h.pairs["defected"][:, :, v].sum())
            cap = max(carry, sc.organizations[v].fighters)
            assert F[-365:, v].max() <= cap, (
                f"{case} seed {r}: {name} has {F[-365:, v].max():.0f} fighters in the fourth "
                f"year, more than the {cap:.0f} its population, roots, foreign recruits and "
                f"defectors can account for")
        said = {}
        for e in run.events:
            if e["kind"] in ("split", "defection_statement"):
                said.setdefault(e["actor"], []).append(e["day"])
        for name, days in said.items():
            assert len(days) <= MAX_STATEMENTS, (
                f"{case} seed {r}: {len(days)} statements by {name}'s dissidents in four "
                "years: an endless cascade")
            assert max(days) < DAYS - 365, (
                f"{case} seed {r}: {name}'s schism is still going in the fourth year")
