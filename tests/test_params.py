"""Parameters: validation, switches, per-replicate broadcasting."""

from __future__ import annotations

import numpy as np
import pytest

from affiliate_sim.errors import InputError
from affiliate_sim.kernel.arrays import SWITCHED_RATES, KernelParams
from affiliate_sim.params import MECHANISMS, Mechanisms, Params, parameter_table


def test_defaults_within_ranges():
    Params().validate()
    for row in parameter_table():
        assert row["lo"] <= row["default"] <= row["hi"], row["name"]
        assert row["unit"] and row["source"] and row["doc"], row["name"]


@pytest.mark.parametrize("data,key", [
    ({"no_such": 1}, "params.no_such"),
    ({"combat_rate": "x"}, "params.combat_rate"),
    ({"combat_rate": True}, "params.combat_rate"),
    ({"purge_rate": -0.1}, "params.purge_rate"),
    ({"raid_kill_share": 1.5}, "params.raid_kill_share"),
    ({"fortune_sd": float("nan")}, "params.fortune_sd"),
    ({"mechanisms": {"purge": "no"}}, "mechanisms.purge"),
    ({"mechanisms": {"nope": False}}, "mechanisms.nope"),
])
def test_bad_params(data, key):
    with pytest.raises(InputError) as err:
        Params.from_dict(data, where="x.yaml")
    assert str(err.value).startswith(f"x.yaml: {key}: ")
    assert "\n" not in str(err.value)


def test_every_mechanism_has_a_switch_and_zeroes_its_rates():
    assert set(MECHANISMS) == {f for f in Mechanisms.__dataclass_fields__}
    assert set(SWITCHED_RATES) == set(MECHANISMS)
    for mech, rates in SWITCHED_RATES.items():
        on = KernelParams.from_params(Params())
        off = KernelParams.from_params(Params(mechanisms=Mechanisms(**{mech: False})))
        for r in rates:
            assert off[r][0] == 0.0, (mech, r)
            assert on[r][0] == getattr(Params(), r)


def test_kernel_params_one_value_per_replicate():
    kp = KernelParams.from_params([Params(combat_rate=0.1), Params(combat_rate=0.2),
                                   Params(mechanisms=Mechanisms(purge=False))])
    assert kp.R == 3
    np.testing.assert_array_equal(kp["combat_rate"], [0.1, 0.2, Params().combat_rate])
    np.testing.assert_array_equal(kp["purge_rate"], [Params().purge_rate] * 2 + [0.0])
