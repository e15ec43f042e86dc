"""A catalogue of bad inputs: scenario files and command lines of every command.

Each must give one line naming the file or key and the problem, a non-zero exit status, no
traceback, and leave earlier results as they were (a finished run folder, created once,
is byte-identical after every bad command aimed at it). The commands run in-process (they
fail before any simulation); the one case that needs a real process is marked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from affiliate_sim.cli import main as cli
from affiliate_sim.cli.tools import TEMPLATE

BIN = Path(sys.executable).parent
PROGS = {"sim": cli.main, "replay": cli.replay_main, "calibrate": cli.calibrate_main,
         "sensitivity": cli.sensitivity_main, "discover": cli.discover_main,
         "aggregate": cli.aggregate_main}
#: Commands that take Hydra overrides (they are aimed at the finished run's folder).
HYDRA = ("sim", "replay", "calibrate", "sensitivity", "discover")
TOOLS = ("validate", "list", "new-scenario", "schema")


@pytest.fixture(autouse=True)
def elsewhere(tmp_path_factory, monkeypatch):
    """Every command starts in a folder of its own: what a command that should have been
    refused writes where it was started cannot land in the repository."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A finished run (its folder and every file's bytes), made once by the real command."""
    out = tmp_path_factory.mktemp("finished")
    res = subprocess.run([str(BIN / "affiliate-sim"), "scenario=derna_illustrative", "days=5",
                          f"hydra.run.dir={out}"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    return out, snapshot(out)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def invoke(prog: str, args: list[str], capsys) -> tuple[int, str]:
    """Run a command in-process: its exit status and everything it printed."""
    capsys.readouterr()
    try:
        code = PROGS[prog](list(args))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def one_line(code, text: str, *expected: str) -> str:
    """Assert the shape of an answer to bad input; return its line."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert code not in (0, None), text
    assert "Traceback" not in text, text
    assert len(lines) == 1, text
    for e in expected:
        assert e in lines[0], (e, lines[0])
    return lines[0]


# --------------------------------------------------------------------------- scenario files
def swap(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


NESTED = "x: " + "[" * 200 + "]" * 200 + "\n"
BOMB = ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
                  for p, c in zip("abcdefgh", "bcdefghi", strict=True)))

SCENARIO_CASES = {
    # id: (edit of the template's text, or a whole text; substrings of the line)
    "negative_fighters": (swap("fighters: 300 ", "fighters: -300 "),
                          ["organizations[1].fighters"]),
    "fighters_not_a_number": (swap("fighters: 300 ", "fighters: many "),
                              ["organizations[1].fighters"]),
    "vigilance_out_of_range": (swap("vigilance: 1.0 ", "vigilance: 7 "),
                               ["organizations[3].vigilance"]),
    "cohesion_out_of_range": (swap("cohesion: 0.7 ", "cohesion: 1.5 "),
                              ["organizations[1].cohesion"]),
    "local_roots_text": (swap("local_roots: 0.3 ", "local_roots: deep "),
                         ["organizations[1].local_roots"]),
    "unknown_kind": (swap("kind: militia", "kind: militiaa"), ["organizations[1].kind"]),
    "unknown_camp": (swap("camp: AQ\n", "camp: ISIS\n"), ["organizations[2].camp"]),
    "unknown_org_key": (swap("cohesion: 0.7 ", "cohesion: 0.7\n    colour: red "),
                        ["organizations[1]", "colour"]),
    "unknown_top_key": (lambda t: t + "colour: red\n", ["colour"]),
    "missing_days": (swap("days: 365 ", "# "), ["days"]),
    "missing_grid": (swap("grid: {height: 10, width: 10}", ""), ["grid"]),
    "missing_organizations": (lambda t: t.split("organizations:")[0], ["organizations"]),
    "days_zero": (swap("days: 365 ", "days: 0 "), ["days"]),
    "days_text": (swap("days: 365 ", "days: a_year "), ["days"]),
    "days_too_many": (swap("days: 365 ", "days: 100001 "), ["days"]),
    "grid_zero": (swap("height: 10,", "height: 0,"), ["grid.height"]),
    "grid_too_large": (swap("height: 10,", "height: 5000,"), ["grid.height"]),
    "grid_not_a_mapping": (swap("grid: {height: 10, width: 10}", "grid: 10"), ["grid"]),
    "cell_km_zero": (swap("cell_km: 20 ", "cell_km: 0 "), ["cell_km"]),
    "bad_start_date": (swap('"2016-01-01"', '"2016-13-45"'), ["start_date"]),
    "start_date_words": (swap('"2016-01-01"', '"yesterday"'), ["start_date"]),
    "relation_unknown_org": (swap("b: AQ_branch, kind: hostile", "b: Nobody, kind: hostile"),
                             ["relations[0]", "Nobody"]),
    "relation_bad_kind": (swap("b: AQ_branch, kind: hostile", "b: AQ_branch, kind: friendly"),
                          ["relations[0].kind"]),
    "input_unknown_kind": (swap("kind: pledge\n", "kind: pledgee\n"), ["inputs[0].kind"]),
    "input_unknown_actor": (swap("actor: IS_affiliate", "actor: Nobody"),
                            ["inputs[0]", "Nobody"]),
    "input_negative_day": (swap("  - day: 0\n", "  - day: -3\n"), ["inputs[0].day"]),
    "region_outside_grid": (swap("rows: [7, 10]", "rows: [7, 20]"), ["regions[2]"]),
    "unknown_region": (swap("region: towns", "region: harbour"),
                       ["organizations[3]", "harbour"]),
    "region_share_negative": (swap("{countryside: 0.7, mountains: 0.3}",
                                   "{countryside: -0.7, mountains: 0.3}"),
                              ["organizations[1].regions"]),
    "org_name_with_a_dot": (swap("name: AQ_branch", "name: AQ.branch"),
                            ["organizations[2].name", "'AQ.branch'", "no dot"]),
    "duplicate_org_name": (swap("name: AQ_branch", "name: IS_affiliate"),
                           ["organizations", "IS_affiliate"]),
    "observation_unknown_org": (swap("org: IS_affiliate", "org: Nobody"),
                                ["observations[0]", "Nobody"]),
    "observation_bad_window": (swap("window: [0, 365]", "window: [300, 10]"),
                               ["observations[0].window"]),
    "observation_bad_quantity": (swap("quantity: fighters", "quantity: happiness"),
                                 ["observations[0].quantity"]),
    "estimate_unknown_org": (lambda t: t + "  Nobody: {fighters: [1, 2]}\n",
                             ["estimates", "Nobody"]),
    "duplicate_key": (lambda t: t + "days: 30\n", ["yaml", "duplicate key 'days'"]),
    "malformed_yaml": (lambda t: t + "grid: {height: 10\n", ["yaml", "malformed YAML"]),
    "alias_bomb": (lambda t: BOMB, ["yaml"]),
    "deep_nesting": (lambda t: NESTED, ["yaml", "nested deeper"]),
    "python_object": (lambda t: t + "x: !!python/object/apply:os.system ['true']\n",
                      ["yaml"]),
    "empty_file": (lambda t: "", []),
    "only_a_comment": (lambda t: "# nothing here\n", []),
    "a_list": (lambda t: "- 1\n- 2\n", []),
    "huge_file": (lambda t: t + "#" * (17 * 2**20) + "\n", ["file", "larger than"]),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_a_bad_scenario_file_is_one_line(case, finished, tmp_path, capsys):
    edit, expected = SCENARIO_CASES[case]
    path = tmp_path / "mine.yaml"
    path.write_text(edit(TEMPLATE.format(name="mine", file="mine.yaml")), encoding="utf-8")
    out, before = finished
    code, text = invoke("sim", [f"scenario={path}", f"hydra.run.dir={out}"], capsys)
    line = one_line(code, text, "affiliate-sim: error: ", str(path), *expected)
    assert code == 2, line
    assert snapshot(out) == before


def test_a_scenario_file_that_is_not_one(finished, tmp_path, capsys):
    """Binary, a folder, missing: one line each, naming the file."""
    out, before = finished
    binary = tmp_path / "blob.yaml"
    binary.write_bytes(bytes(range(256)) * 8)
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    for path, problem in ((binary, "cannot be read"), (folder, "no such scenario file"),
                          (tmp_path / "nothing.yaml", "no such scenario file")):
        code, text = invoke("sim", [f"scenario={path}", f"hydra.run.dir={out}"], capsys)
        one_line(code, text, str(path), problem)
    assert snapshot(out) == before


def test_1e3_is_a_number(tmp_path, capsys):
    """Positive control: what the catalogue refuses is not everything (YAML 1.1 reads
    1e3 as a string; the scenario reader reads it as 1000)."""
    from affiliate_sim.scenario import load_scenario

    path = tmp_path / "mine.yaml"
    path.write_text(TEMPLATE.format(name="mine", file="mine.yaml").replace(
        "fighters: 800 ", "fighters: 1e3 "), encoding="utf-8")
    code, text = invoke("sim", ["validate", str(path)], capsys)
    assert code == 0, text
    assert ": ok: mine" in text
    assert load_scenario(str(path)).organizations[2].fighters == 1000


# --------------------------------------------------------------------------- command lines
COMMAND_CASES = [
    # (command, arguments, substrings of the line)
    ("sim", ["scenario=nope"], ["scenario", "no scenario named 'nope'"]),
    ("sim", ["seed=abc"], ["seed", "could not be converted"]),
    ("sim", ["seed=-1"], ["seed", ">= 0"]),
    ("sim", ["params.no_such=1"], ["params.no_such", "unknown key"]),
    ("sim", ["params.combat_rate=9"], ["params.combat_rate", "out of range"]),
    ("sim", ["params.purge_rate=abc"], ["params.purge_rate", "could not be converted"]),
    ("sim", ["mechanisms.purge=maybe"], ["mechanisms.purge", "not a valid bool"]),
    ("sim", ["mechanisms=without_nothing"], ["mechanisms", "no mechanisms named"]),
    ("sim", ["lever=nope"], ["lever", "no lever named 'nope'"]),
    ("sim", ["params=nope"], ["params", "no params named 'nope'"]),
    ("sim", ["days=0"], ["days", ">= 1"]),
    ("sim", ["days=100001"], ["days", "at most 100000"]),
    ("sim", ["days=1.5"], ["days"]),
    ("sim", ["nonsense"], ["nonsense", "cannot parse"]),
    ("sim", ["+foo=1"], ["foo", "unknown key"]),
    ("sim", ["force=maybe"], ["force", "not a valid bool"]),
    ("sim", ["--bogus"], ["--bogus", "unknown flag"]),
    ("sim", ["-m", "--cfg", "job"], ["--multirun --cfg", "only one"]),
    ("sim", ["hydra/launcher=bogus"], ["hydra/launcher", "no hydra/launcher named 'bogus'"]),
    ("sim", ["hydra/sweeper=bogus"], ["hydra/sweeper", "no hydra/sweeper named 'bogus'"]),
    ("sim", ["hydra.bogus=1"], ["hydra.bogus", "unknown key"]),
    ("sim", ["hydra.run.dir=/proc/affiliate"], ["hydra.run.dir", "under /proc"]),
    ("sim", ["hydra.run.dir=/sys/affiliate"], ["hydra.run.dir", "under /sys"]),
    ("sim", ["hydra.run.dir={file}"], ["hydra.run.dir", "is a file, not a folder"]),
    ("sim", ["hydra.run.dir={file}/sub"], ["hydra.run.dir", "a file, not a folder"]),
    ("sim", ["hydra.run.dir="], ["hydra.run.dir", "is empty"]),
    ("sim", ["-m", "seed=1,2", "hydra.sweep.dir=/proc/sweep"], ["hydra.sweep.dir", "/proc"]),
    ("sim", ["-m", "seed=1,2", "hydra.sweep.dir={file}"], ["hydra.sweep.dir", "a file"]),
    ("sim", ["-m", "seed=range(0,100000000)"],
     ["seed", "100000000 jobs, more than 100000", "force=true"]),
    ("sim", ["-m", "seed=range(0,1000)", "params.combat_rate=0.1,0.2,0.3",
             "lever=glob(*)", "scenario=glob(*)"], ["more than 100000"]),
    ("sim", ["-m", "seed=1,2", "hydra.sweeper.max_batch_size=0"],
     ["hydra.sweeper.max_batch_size", ">= 1"]),
    ("sim", ["-m", "seed=0,1,abc"], ["seed", "could not be converted"]),
    ("sim", ["-m", "seed=range(-3,5)"], ["seed", ">= 0"]),
    ("sim", ["-m", "params.combat_rate=0.1,9"], ["params.combat_rate", "out of range"]),
    ("sim", ["-m", "scenario=derna_2014,nope"], ["scenario", "no scenario named 'nope'"]),
    ("sim", ["-m", "+sweep=nope"], ["sweep", "no sweep named 'nope'"]),
    ("sim", ["seed=range(0,3)"], ["seed", "--multirun"]),
    ("sim", ["validate"], ["validate", "give one or more"]),
    ("sim", ["list", "bogus"], ["list", "bogus"]),
    ("sim", ["new-scenario"], ["new-scenario", "give one name"]),
    ("sim", ["new-scenario", "9lives"], ["new-scenario", "a name is a letter"]),
    ("replay", ["seeds=0"], ["seeds", ">= 1"]),
    ("replay", ["days=100001"], ["days", "at most 100000"]),
    ("replay", ["force=maybe"], ["force", "not a valid bool"]),
    ("replay", ["cases=[nope]"], ["nope"]),
    ("replay", ["workers=0"], ["workers", ">= 1"]),
    ("replay", ["params.combat_rate=9"], ["params.combat_rate", "out of range"]),
    ("replay", ["+foo=1"], ["foo", "unknown key"]),
    ("replay", ["--bogus"], ["--bogus", "unknown flag"]),
    ("replay", ["hydra.run.dir=/proc/x"], ["hydra.run.dir", "under /proc"]),
    ("replay", ["hydra/launcher=bogus"], ["hydra/launcher", "bogus"]),
    ("replay", ["out=/proc/replay"], ["out", "under /proc"]),
    ("replay", ["out={file}"], ["out", "is a file, not a folder"]),
    ("calibrate", ["out=/proc/x/params.yaml"], ["out", "under /proc"]),
    ("calibrate", ["out={file}/params.yaml"], ["out", "a file, not a folder"]),
    ("sensitivity", ["out="], ["out", "is empty"]),
    ("discover", ["out={file}/boxes"], ["out", "a file, not a folder"]),
    ("calibrate", ["method=bogus"], ["method", "must be one of"]),
    ("calibrate", ["+free.no_such=[0,1]"], ["free.no_such", "unknown parameter"]),
    ("calibrate", ["+free.combat_rate=[0.5,0.1]"], ["free.combat_rate", "low < high"]),
    ("calibrate", ["sigma=0.9"], ["sigma", "(0, 0.5]"]),
    ("calibrate", ["popsize=5"], ["popsize", "cmaes"]),
    ("calibrate", ["quantile=1.5"], ["quantile", "(0, 1)"]),
    ("calibrate", ["seeds=0"], ["seeds", ">= 1"]),
    ("sensitivity", ["method=bogus"], ["method", "must be one of"]),
    ("sensitivity", ["levels=3"], ["levels", "even"]),
    ("sensitivity", ["sobol_n=100"], ["sobol_n", "power of 2"]),
    ("sensitivity", ["spread=0.5"], ["spread", "above 1"]),
    ("discover", ["n=1"], ["n", ">= 2"]),
    ("discover", ["survive_share=2"], ["survive_share", "(0, 1]"]),
    ("aggregate", [], ["usage: affiliate-aggregate"]),
    ("aggregate", ["a", "b"], ["usage: affiliate-aggregate"]),
    ("aggregate", ["--bogus"], ["usage: affiliate-aggregate"]),
    ("aggregate", ["{missing}"], ["no such folder"]),
    ("aggregate", ["{file}"], ["no such folder"]),
]


@pytest.mark.parametrize(("prog", "args", "expected"), COMMAND_CASES,
                         ids=[f"{p}:{' '.join(a) or 'nothing'}" for p, a, _ in COMMAND_CASES])
def test_a_bad_command_line_is_one_line(prog, args, expected, finished, tmp_path, capsys):
    out, before = finished
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder\n")
    args = [a.format(file=a_file, missing=tmp_path / "missing") for a in args]
    if prog in HYDRA and args[0] not in TOOLS and not any(
            a.startswith(("hydra.run.dir", "hydra.sweep.dir")) for a in args):
        args.append(f"hydra.run.dir={out}")
    code, text = invoke(prog, args, capsys)
    one_line(code, text, *expected)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # nothing made


def test_a_grid_too_large_for_memory_is_refused_in_one_line(finished, tmp_path, capsys,
                                                            monkeypatch):
    """A 4096 x 4096 grid (the schema allows it) is refused before it starts, with its
    estimate, instead of dying of MemoryError (the memory available is set, so that the
    test does not depend on the machine); force=true would run it."""
    from affiliate_sim.experiments import budget

    monkeypatch.setenv(budget.MEMORY_ENV, str(16 * 2**30))
    path = tmp_path / "huge.yaml"
    text = TEMPLATE.format(name="huge", file="huge.yaml")
    for old, new in (("height: 10, width: 10", "height: 4096, width: 4096"),
                     ("rows: [0, 3]", "rows: [0, 1000]"),
                     ("rows: [3, 7]", "rows: [1000, 3000]"),
                     ("rows: [7, 10]", "rows: [3000, 4096]"),
                     ("cols: [0, 10]", "cols: [0, 4096]")):
        text = text.replace(old, new)
    path.write_text(text)
    out, before = finished
    code, said = invoke("sim", [f"scenario={path}", f"hydra.run.dir={out}"], capsys)
    one_line(code, said, "scenario", "huge (4096x4096 cells", "GB of memory",
             "16.0 GB available", "force=true")
    assert snapshot(out) == before
