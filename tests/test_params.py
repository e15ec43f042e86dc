"""Parameters: declared once per process, validated, switched, broadcast per replicate."""

from __future__ import annotations

import numpy as np
import pytest

from affiliate_sim import mechanisms
from affiliate_sim.errors import InputError
from affiliate_sim.kernel.arrays import KERNEL_PARAMS, pack_params
from affiliate_sim.mechanisms import MECHANISMS, PROCESSES
from affiliate_sim.scenario.params import (
    PARAMETERS,
    Mechanisms,
    Params,
    case_arrays,
    param_arrays,
    parameter_table,
)


def test_defaults_within_ranges():
    Params().validate()
    for row in parameter_table():
        assert row["lo"] <= row["default"] <= row["hi"], row["name"]
        assert row["unit"] and row["source"] and row["doc"], row["name"]
        assert "issue" not in row["source"], row["name"]  # a source, not a ticket


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


def test_each_parameter_declared_once_by_the_process_that_owns_it():
    owners = {}
    for m in PROCESSES:
        for prm in getattr(m, "PARAMS", ()):
            assert prm.name not in owners, f"{prm.name} declared by {owners.get(prm.name)} too"
            owners[prm.name] = m.NAME
    assert owners == {name: process for name, (process, _) in PARAMETERS.items()}
    # the kernel reads parameters, or the per-cell values a process derives from them
    derived = case_arrays([Params()], 10.0)
    assert set(KERNEL_PARAMS) <= set(derived)
    assert set(KERNEL_PARAMS) - set(PARAMETERS) == {"move_rate", "adjacent_reach",
                                                     "sense_passes"}
    for row in parameter_table():
        assert row["mechanism"] == owners[row["name"]]


def test_the_ten_mechanisms_and_their_switches():
    assert MECHANISMS == ("pledge", "retaliation", "purge", "counterterrorism", "coalition",
                          "schism", "momentum", "investment", "retreat", "terrain")
    assert set(MECHANISMS) == set(Mechanisms.__dataclass_fields__)
    assert all(mechanisms.BY_NAME[m].SWITCHABLE for m in MECHANISMS)
    off = Params(mechanisms=Mechanisms(purge=False))
    assert not off.on("purge") and off.on("pledge")
    assert Params.from_dict(off.to_dict()) == off


def test_parameters_one_value_per_replicate():
    sets = [Params(combat_rate=0.1), Params(combat_rate=0.2), Params()]
    arrays = param_arrays(sets)
    np.testing.assert_array_equal(arrays["combat_rate"], [0.1, 0.2, Params().combat_rate])
    packed = pack_params(case_arrays(sets))
    assert packed.shape == (3, len(KERNEL_PARAMS))
    np.testing.assert_array_equal(packed[:, KERNEL_PARAMS.index("combat_rate")],
                                  [0.1, 0.2, Params().combat_rate])


def test_physical_parameters_follow_the_cell_size():
    """One parameter set means the same in every case: a 2.5 km cell passes most of its
    fighters on in a day, a 100 km cell few; reach covers a neighbour of a small cell and
    little of a large one; a large cell gives more room to hide; sensing reaches the same
    distance."""
    p = Params()
    small, large = case_arrays([p], 2.5), case_arrays([p], 100.0)
    assert small["move_rate"][0] > 0.9 > 0.2 > large["move_rate"][0] > 0.0
    assert small["adjacent_reach"][0] == 1.0 and large["adjacent_reach"][0] < 0.1
    assert large["conceal_guerrilla_cell"][0] == pytest.approx(
        small["conceal_guerrilla_cell"][0] * (100.0 / 2.5) ** 2)
    mid = case_arrays([p], 25.0)
    assert mid["sense_passes"][0] * 25.0 == pytest.approx(100.0)
    assert large["sense_passes"][0] == 1.0
    # the km/day speed: a cell of the speed's own size passes 1 - 1/e a day
    assert case_arrays([p], p.move_speed)["move_rate"][0] == pytest.approx(1 - np.exp(-1))
