"""What a run is given: scenario files (validated YAML data), the observations of the
historical cases, and the parameter set.

:data:`CASES` is the one list of the article's nine historical cases (in the article's
order); their files are ``affiliate_sim/scenarios/<case>.yaml``.
"""

from affiliate_sim.scenario.files import Scenario, available, load_scenario
from affiliate_sim.scenario.observations import Observation

#: The article's nine historical cases, in the article's order.
CASES: tuple[str, ...] = ("algeria_2014", "imu_2015", "murabitun_2015", "somalia_2015",
                          "derna_2014", "yemen_2015", "khorasan_2015", "sirte_2015",
                          "sinai_2015")

__all__ = ["CASES", "Observation", "Scenario", "available", "load_scenario"]
