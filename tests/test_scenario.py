"""Scenario files: the shipped ones load; each kind of mistake gives one clear line."""

from __future__ import annotations

import pytest
import yaml

from affiliate_sim.errors import InputError
from affiliate_sim.paths import SCENARIO_DIR
from affiliate_sim.scenario import available, load_scenario


@pytest.mark.parametrize("name", available())
def test_shipped_scenarios_load(name):
    sc = load_scenario(name)
    assert sc.name == name
    assert sc.organizations and sc.regions


def test_config_group_matches_scenario_files():
    """The `scenario` config group is generated from the scenario files: one option each."""
    from affiliate_sim.cli import compose
    from affiliate_sim.cli.config import group_options

    files = {p.stem for p in SCENARIO_DIR.glob("*.yaml")}
    assert set(group_options("scenario")) == files
    for name in files:
        assert compose.config(f"scenario={name}").scenario.name == name


OBS = {"id": "small_at_end", "quantity": "fighters", "org": "IYSC", "window": [0, 450],
       "at_most": 100, "source": "IS militants ... requested safe passage out of the area"}


def base():
    return yaml.safe_load((SCENARIO_DIR / "derna_illustrative.yaml").read_text())


def broken(mutate):
    data = base()
    mutate(data)
    return data


def _set(path, value):
    def f(d):
        *head, last = path
        for k in head:
            d = d[k]
        d[last] = value
    return f


def _del(path):
    def f(d):
        *head, last = path
        for k in head:
            d = d[k]
        del d[last]
    return f


CATALOGUE = [
    ("unknown top key", _set(["colour"], "red"), "colour", "unknown key"),
    ("missing days", _del(["days"]), "days", "required key is missing"),
    ("days not int", _set(["days"], "long"), "days", "must be a whole number"),
    ("negative fighters", _set(["organizations", 1, "fighters"], -5),
     "organizations[1].fighters", "below the minimum"),
    ("fighters string", _set(["organizations", 1, "fighters"], "many"),
     "organizations[1].fighters", "must be a number"),
    ("unknown org key", _set(["organizations", 2, "strength"], 3),
     "organizations[2].strength", "unknown key"),
    ("bad camp", _set(["organizations", 1, "camp"], "ISIS"),
     "organizations[1].camp", "is not one of"),
    ("bad kind", _set(["organizations", 1, "kind"], "gang"),
     "organizations[1].kind", "is not one of"),
    ("unknown region", _set(["organizations", 1, "region"], "atlantis"),
     "organizations[1].region", "no region named 'atlantis'"),
    ("duplicate org", lambda d: d["organizations"].append(dict(d["organizations"][1])),
     "organizations[5].name", "duplicate organization name"),
    ("duplicate region", lambda d: d["regions"].append(dict(d["regions"][1])),
     "regions[5].name", "duplicate region name"),
    ("region out of grid", _set(["regions", 1, "rows"], [0, 11]),
     "regions[1].rows[1]", "above the maximum"),
    ("region empty span", _set(["regions", 1, "cols"], [5, 5]),
     "regions[1].cols", "must be greater than start"),
    ("share above one", _set(["organizations", 1, "cohesion"], 1.4),
     "organizations[1].cohesion", "above the maximum"),
    ("relation to nobody", lambda d: d["relations"].append(
        {"a": "IYSC", "b": "Ghosts", "kind": "hostile"}), "relations[3].b",
     "no organization named 'Ghosts'"),
    ("bad relation kind", _set(["relations", 0, "kind"], "friendly"),
     "relations[0].kind", "is not one of"),
    ("input day outside run", _set(["inputs", 1, "day"], 999),
     "inputs[1].day", "outside the run"),
    ("input unknown actor", _set(["inputs", 0, "actor"], "Nobody"),
     "inputs[0].actor", "no organization named"),
    ("assassination without target", _del(["inputs", 1, "target"]),
     "inputs[1].target", "needs a target"),
    ("bad input kind", _set(["inputs", 0, "kind"], "miracle"),
     "inputs[0].kind", "is not one of"),
    ("layer out of range", _set(["regions", 0, "terrain"], 3),
     "regions[0].terrain", "above the maximum"),
    ("grid not mapping", _set(["grid"], [10, 10]), "grid", "must be a mapping"),
    ("self relation", lambda d: d["relations"].append(
        {"a": "IYSC", "b": "IYSC", "kind": "allied"}), "relations[3]", "itself"),
    ("bool as number", _set(["organizations", 1, "fighters"], True),
     "organizations[1].fighters", "must be a number"),
    ("observation unknown quantity", lambda d: d.update(observations=[dict(
        OBS, quantity="vibes")]), "observations[0].quantity", "is not one of"),
    ("observation without target", lambda d: d.update(observations=[{
        k: v for k, v in OBS.items() if k != "at_most"}]), "observations[0]",
     "needs a target"),
    ("observation window outside run", lambda d: d.update(observations=[dict(
        OBS, window=[0, 999])]), "observations[0].window", "outside the run"),
    ("observation unknown organization", lambda d: d.update(observations=[dict(
        OBS, org="Nobody")]), "observations[0].org", "no organization named"),
    ("observation duplicate id", lambda d: d.update(observations=[OBS, OBS]),
     "observations[1].id", "duplicate observation id"),
    ("observation without source", lambda d: d.update(observations=[{
        k: v for k, v in OBS.items() if k != "source"}]), "observations[0].source",
     "required key is missing"),
    ("observation unknown event", lambda d: d.update(observations=[dict(
        OBS, quantity="event_count", event="miracle")]), "observations[0].event",
     "is not an event kind"),
    ("observation missing needed key", lambda d: d.update(observations=[{
        k: v for k, v in OBS.items() if k != "org"}]), "observations[0].org",
     "needs org"),
    ("observation anchor target without anchor", lambda d: d.update(observations=[dict(
        OBS, anchor_target="IYSC")]), "observations[0].anchor_target", "needs anchor"),
    ("observation unknown anchor target", lambda d: d.update(observations=[dict(
        OBS, anchor="pledge", anchor_target="Nobody")]), "observations[0].anchor_target",
     "no organization named"),
]


@pytest.mark.parametrize("label,mutate,key,problem", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_broken_scenarios(tmp_path, label, mutate, key, problem):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(broken(mutate)))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: {key}: "), msg
    assert problem in msg
    assert "\n" not in msg


@pytest.mark.parametrize("text,problem", [
    ("name: x\ndays: [1, 2\n", "malformed YAML at line"),
    ("", "the file is empty"),
    ("- just\n- a list\n", "must be a mapping"),
    ("name: !!python/object/apply:os.system ['echo hacked']\n", "malformed YAML"),
    ("name: x\ndays: 5\nname: y\n", "at line 3, column 1: duplicate key 'name'"),
    ("name: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested deeper than 64 levels"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n" for p, k in zip("abcdefg", "bcdefgh")),
     "aliases expand to more than 1000000 values"),
    ("x" * (16 * 2**20 + 1), "larger than 16 MiB"),
])
def test_malformed_files(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=problem):
        load_scenario(path)


def test_missing_file_names_the_shipped_ones(tmp_path):
    with pytest.raises(InputError, match="no such scenario file.*derna_illustrative"):
        load_scenario(tmp_path / "nope.yaml")


@pytest.mark.slow
def test_an_installed_package_carries_its_configs_and_scenarios(tmp_path):
    """`pip install .` gets conf/ and scenarios/ as package data (found through
    importlib.resources, not beside a source tree)."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, timeout=600)
    [wheel] = tmp_path.glob("affiliate_sim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for scenario in available():
        assert f"affiliate_sim/scenarios/{scenario}.yaml" in names
    for conf in ("affiliate_sim.yaml", "replay.yaml", "calibrate.yaml", "params/calibrated.yaml",
                 "lever/none.yaml", "sweep/policy_levers.yaml", "hydra/sweeper/checked.yaml"):
        assert f"affiliate_sim/conf/{conf}" in names, conf
    assert "hydra_plugins/affiliate_sim_sweeper.py" in names


@pytest.mark.parametrize("name", available())
def test_every_shipped_scenario_declares_its_cell_size(name):
    """Physical scale: each shipped scenario says how many km a cell is (the default is
    for ad-hoc files only), and the file's text says the same."""
    import yaml

    from affiliate_sim.scenario.files import resolve

    data = yaml.safe_load(resolve(name).read_text(encoding="utf-8"))
    assert "cell_km" in data
    assert load_scenario(name).cell_km == float(data["cell_km"]) > 0


def test_numbers_in_exponent_form_are_numbers(tmp_path):
    """``1e3`` is a number (YAML 1.2), as an analyst writes a strength."""
    data = base()
    data["organizations"][1]["fighters"] = "1e3"
    text = yaml.safe_dump(data).replace("'1e3'", "1e3")
    path = tmp_path / "e.yaml"
    path.write_text(text)
    sc = load_scenario(path)
    assert sc.organizations[1].fighters == 1000.0


def test_every_problem_of_a_file_is_listed(tmp_path):
    """check_scenario goes on after an organization's, a relation's or an input's problem
    and reports each; the first problem alone is what loading raises."""
    from affiliate_sim.scenario.files import check_scenario

    data = base()
    data["organizations"][1]["fighters"] = -5
    data["organizations"][2]["cohesion"] = 3
    data["inputs"] = [{"day": 0, "kind": "pledgee", "actor": data["organizations"][1]["name"]},
                      {"day": 99999, "kind": "pledge", "actor": data["organizations"][1]["name"]}]
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(data))
    problems = check_scenario(path)
    assert [p.key for p in problems] == ["organizations[1].fighters",
                                         "organizations[2].cohesion", "inputs[0].kind",
                                         "inputs[1].day"]
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.key == "organizations[1].fighters"
    assert check_scenario("sinai_2015") == []


def test_the_reference_and_the_json_schema_follow_the_loader():
    """docs/scenarios.md is what the schema module generates; the JSON Schema is valid,
    every shipped scenario meets it, and it refuses what the loader refuses for a key or a
    range; every organization field has a meaning."""
    from pathlib import Path

    import jsonschema

    from affiliate_sim.scenario import files, schema

    docs = Path(__file__).resolve().parents[1] / "docs" / "scenarios.md"
    assert docs.read_text(encoding="utf-8") == schema.reference_markdown() + "\n", \
        "docs/scenarios.md is stale: affiliate-sim schema --markdown > docs/scenarios.md"
    s = schema.json_schema()
    jsonschema.Draft202012Validator.check_schema(s)
    check = jsonschema.Draft202012Validator(s)
    for name in available():
        data = yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text())
        assert not list(check.iter_errors(data)), name
    assert set(files.ORG_FIELDS) <= set(schema.ORG_DOCS)
    for mutate in (lambda d: d.update(colour="red"),
                   lambda d: d["organizations"][1].update(cohesion=2),
                   lambda d: d["inputs"].append({"day": 0, "kind": "pledgee", "actor": "x"})):
        data = base()
        mutate(data)
        assert list(check.iter_errors(data))
