"""Tables for analysts: typed sweep tables, the long table, scenario and seed in the time
series, the data dictionary (docs/outputs.md) and ``affiliate-sim plot DIR``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from affiliate_sim.cli import compose
from affiliate_sim.experiments import tables
from affiliate_sim.experiments.sweep import aggregate, job_dir, override_dirname, run_group

BIN = Path(sys.executable).parent
CASES = ("derna_illustrative", "ben_guerdane_2016")
DAYS = 8
PNG = b"\x89PNG\r\n\x1a\n"


def _spec(members_failing: set[str]):
    def spec_of(overrides: list[str]):
        if any(o in members_failing for o in overrides):
            raise RuntimeError("failed on purpose")
        return compose.spec(*overrides)
    return spec_of


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """A small sweep recorded as `affiliate-sim -m` records its jobs (run_group per case),
    then aggregated: 2 cases x 2 levers x 2 seeds, and one job that fails."""
    out = tmp_path_factory.mktemp("sweep")
    for case in CASES:
        members = [[f"scenario={case}", f"seed={s}", f"days={DAYS}", f"lever={lv}"]
                   for lv in ("none", "state_vigilance_high") for s in (0, 1)]
        if case == CASES[0]:
            members.append([f"scenario={case}", "seed=7", f"days={DAYS}", "lever=none"])
        run_group(_spec({"seed=7"}), members,
                  lambda m: out / job_dir(override_dirname(m)), lambda m: "calibrated")
    aggregate(out)
    return out


def _read(sweep_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(sweep_dir / name)


def _summary(sweep_dir: Path, job: str) -> dict:
    return json.loads((sweep_dir / job / "summary.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- dtypes
def test_wide_table_has_proper_dtypes(sweep_dir):
    wide = _read(sweep_dir, "sweep.parquet")
    assert len(wide) == 9 and (wide.status == "failed").sum() == 1
    assert not [c for c, d in wide.dtypes.items() if pd.api.types.is_object_dtype(d)], "objects"
    # flags of organizations present in one case only: boolean with nulls, not True/None
    for col in ("IYSC.survived", "IS_Ben_Guerdane.survived",
                "obs:attackers_killed_first_two_days.met"):
        assert str(wide[col].dtype) == "boolean", col
    derna = wide[(wide.scenario == "derna_illustrative")]
    assert derna["IS_Ben_Guerdane.survived"].isna().all()
    assert derna[derna.status == "done"]["IYSC.survived"].notna().all()
    for col in ("seed", "days", "IYSC.day_of_collapse", "IYSC.cells_held_end",
                "camp:IS.organizations_surviving"):
        assert str(wide[col].dtype) == "Int64", col
    assert str(wide["IYSC.fighters_end"].dtype) == "float64"
    assert str(wide["lever"].dtype) == "str" and str(wide["error"].dtype) == "str"
    failed = wide[wide.status == "failed"]
    assert failed.seed.item() == 7 and "failed on purpose" in failed.error.item()
    assert pd.isna(failed["IYSC.survived"].item())


def test_typing_of_override_columns_follows_values():
    df = pd.DataFrame({"params.state_vigilance": [0, 1], "mechanisms.purge": [True, None],
                       "params.estimates.a.b.c": [3, 4], "seed": [1, None],
                       "IYSC.survived": [True, None], "other": [1, 2], "more": [1, 2.5],
                       "text": [1, "a"]})
    t = tables.typed("sweep.parquet", df)
    assert [str(d) for d in t.dtypes] == ["float64", "boolean", "float64", "Int64", "boolean",
                                          "Int64", "float64", "str"]
    assert t["text"].tolist() == ["1", "a"]
    assert tables.undocumented("sweep.parquet", t) == [
        "other: not described", "more: not described", "text: not described"]


# ---------------------------------------------------------------------------- long table
def test_long_table_holds_the_wide_tables_values(sweep_dir):
    wide = _read(sweep_dir, "sweep.parquet").set_index("job")
    long = _read(sweep_dir, "sweep_long.parquet")
    assert [c.name for c in tables.SWEEP_LONG] == list(long.columns)
    assert str(long.value.dtype) == "float64" and str(long.seed.dtype) == "Int64"
    checked = 0
    for job, rows in long.groupby("job"):
        w = wide.loc[job]
        if w.status != "done":
            assert len(rows) == 1 and rows.metric.isna().all()
            assert rows.status.item() == "failed" and rows.seed.item() == 7
            continue
        names = []
        for r in rows.itertuples(index=False):
            if isinstance(r.organization, str):
                col = f"{r.organization}.{r.metric}"
            elif isinstance(r.camp, str):
                col = f"camp:{r.camp}.{r.metric}"
            else:
                col = r.metric
            names.append(col)
            want = w[col]
            if pd.isna(want):
                assert math.isnan(r.value), (job, col)
            else:
                assert r.value == pytest.approx(float(want)), (job, col)
            checked += 1
        # every metric of the job's scenario once, and none of the other scenario's
        from affiliate_sim.experiments.sweep import summary_columns

        expected = [c for c in summary_columns(_summary(sweep_dir, job))
                    if c not in {p.name for p in tables.PROVENANCE}]
        assert names == expected
        assert set(rows.scenario) == {w.scenario} and set(rows.seed) == {w.seed}
        assert set(rows.lever) == {w.lever} and set(rows.overrides) == {f"days={DAYS}"}
        for p in tables.PROVENANCE:
            assert set(rows[p.name].dropna()) == ({w[p.name]} if pd.notna(w[p.name])
                                                  else set())
    assert checked > 100
    units = long.dropna(subset=["metric"]).groupby("metric").unit.unique()
    assert units["survived"].tolist() == ["flag"]
    assert units["fighters_end"].tolist() == ["fighters"]
    assert units["day_of_collapse"].tolist() == ["day"]
    org = long[long.organization == "IYSC"]
    assert set(org.camp) == {"IS"}  # an organization's camp is on its rows


# ---------------------------------------------------------------------------- time series
def test_timeseries_carries_scenario_and_seed(sweep_dir):
    wide = _read(sweep_dir, "sweep.parquet")
    job = wide[(wide.status == "done") & (wide.scenario == "ben_guerdane_2016")].job.iloc[0]
    run = pd.read_parquet(sweep_dir / job / "timeseries.parquet")
    assert list(run.columns[:4]) == ["scenario", "seed", "day", "organization"]
    assert str(run.scenario.dtype) == "str" and str(run.seed.dtype) == "Int64"
    s = _summary(sweep_dir, job)
    assert set(run.scenario) == {s["scenario"]} and set(run.seed) == {s["seed"]}
    long = _read(sweep_dir, "timeseries.parquet")
    assert list(long.columns[:4]) == ["job", "scenario", "seed", "day"]
    per_job = long.groupby("job")[["scenario", "seed"]].first()
    done = wide[wide.status == "done"].set_index("job")
    assert len(per_job) == len(done) == 8
    assert (per_job.scenario == done.scenario.loc[per_job.index]).all()
    assert (per_job.seed == done.seed.loc[per_job.index]).all()
    assert len(long) == sum((DAYS + 1) * len(_summary(sweep_dir, j)["organizations"])
                            for j in done.index)


# ---------------------------------------------------------------------------- dictionary
def test_dictionary_describes_every_written_column(sweep_dir):
    wide = _read(sweep_dir, "sweep.parquet")
    job = wide[wide.status == "done"].job.iloc[0]
    written = {
        "sweep.parquet": wide,
        "sweep_long.parquet": _read(sweep_dir, "sweep_long.parquet"),
        "timeseries.parquet": _read(sweep_dir, "timeseries.parquet"),
        "flows.parquet": pd.read_parquet(sweep_dir / job / "flows.parquet"),
    }
    for name, df in written.items():
        assert tables.undocumented(name, df) == [], name
    run_ts = pd.read_parquet(sweep_dir / job / "timeseries.parquet")
    assert tables.undocumented("timeseries.parquet", run_ts) == []
    for j in wide[wide.status == "done"].job:
        keys = tables.summary_keys(_summary(sweep_dir, j))
        assert [k for k in keys if tables.describe("summary.json", k) is None] == []
    # the check can fail: a new column, or a documented one in another dtype
    assert tables.undocumented("sweep.parquet", wide.assign(newcol=1.0)) == [
        "newcol: not described"]
    assert tables.undocumented("sweep.parquet", wide.assign(seed=wide.seed.astype(float))) \
        == ["seed: dtype float64, described as Int64"]
    assert tables.describe("summary.json", "organizations.X.new_metric") is None


def test_every_metric_is_in_the_long_tables_units():
    for m in tables.METRICS:
        name = m.name.replace("ID", "some_id")
        assert tables.metric_unit(name) == m.unit
    with pytest.raises(KeyError):
        tables.metric_unit("no_such_metric")


def test_docs_outputs_is_generated():
    doc = Path(__file__).resolve().parents[1] / "docs" / "outputs.md"
    assert doc.read_text(encoding="utf-8") == tables.reference_markdown() + "\n", \
        "docs/outputs.md is stale: affiliate-sim outputs --markdown > docs/outputs.md"
    text = doc.read_text(encoding="utf-8")
    for cols in tables.TABLES.values():
        for c in cols:
            assert f"`{c.name}`" in text


# ---------------------------------------------------------------------------- plot
def _plot(capsys, *args):
    from affiliate_sim.cli import main as cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["plot", *map(str, args)])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_plot_a_run_folder(sweep_dir, tmp_path, capsys):
    wide = _read(sweep_dir, "sweep.parquet")
    job = wide[(wide.status == "done") & (wide.scenario == "derna_illustrative")].job.iloc[0]
    code, out, err = _plot(capsys, sweep_dir / job, "--out", tmp_path / "figs")
    assert code == 0, err
    files = sorted((tmp_path / "figs").glob("*.png"))
    names = {f.name for f in files}
    assert "trajectories.png" in names and "flows_IYSC.png" in names
    assert len(out.strip().splitlines()) == len(files)
    assert all(f.read_bytes().startswith(PNG) and f.stat().st_size > 5000 for f in files)


def test_flows_rebuilt_from_files_equal_the_summary(sweep_dir):
    from affiliate_sim.experiments.figures import history_from_files

    wide = _read(sweep_dir, "sweep.parquet")
    job = wide[wide.status == "done"].job.iloc[0]
    h = history_from_files(pd.read_parquet(sweep_dir / job / "timeseries.parquet"),
                           pd.read_parquet(sweep_dir / job / "flows.parquet"))
    s = _summary(sweep_dir, job)
    assert h.days == DAYS
    for i, name in enumerate(h.names):
        o = s["organizations"][name]
        assert h.pairs["killed"][:, i, :].sum() == pytest.approx(o["flows"]["killed"])
        assert h.pairs["defected"][:, :, i].sum() == pytest.approx(o["flows"]["defected_in"])
        assert h.flows["deserted"][:, i].sum() == pytest.approx(o["flows"]["deserted"])
        assert h.stocks["fighters"][-1, i] == pytest.approx(o["fighters_end"])


def test_plot_a_sweep_folder(sweep_dir, capsys):
    code, out, err = _plot(capsys, sweep_dir)
    assert code == 0, err
    figs = sweep_dir / "figures"
    names = {f.name for f in figs.glob("*.png")}
    assert {f"trajectories_{c}.png" for c in CASES} <= names
    assert {"heatmap_is_fighters_end.png", "distributions_is_fighters_end.png"} <= names
    assert len(out.strip().splitlines()) == len(names)
    assert all(str(figs) in line for line in out.strip().splitlines())


@pytest.mark.parametrize("make", ["missing", "empty", "jobs only"])
def test_plot_a_bad_folder_says_so_in_one_line(tmp_path, capsys, make):
    folder = tmp_path / "d"
    if make != "missing":
        folder.mkdir()
    if make == "jobs only":
        (folder / "job").mkdir()
        (folder / "job" / "status.json").write_text("{}")
    code, out, err = _plot(capsys, folder)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and str(folder) in err
    assert "Traceback" not in err
    if make == "jobs only":
        assert "affiliate-aggregate" in err
    assert not (folder / "figures").exists()


def test_plot_an_unreadable_run_folder_says_so_in_one_line(tmp_path, capsys):
    (tmp_path / "summary.json").write_text("{not json")
    code, out, err = _plot(capsys, tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot be read" in err


def test_plot_into_an_unwritable_place_names_the_output(sweep_dir, tmp_path, capsys):
    """--out under a file: one line naming the output folder, not the sweep."""
    (tmp_path / "afile").write_text("")
    code, out, err = _plot(capsys, sweep_dir, "--out", tmp_path / "afile" / "figs")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"{tmp_path / 'afile' / 'figs'}: --out: cannot be written" in err


@pytest.mark.slow
def test_command_line_sweep_writes_typed_tables_and_plots(tmp_path):
    """`affiliate-sim -m` then `affiliate-sim plot`, as an analyst would."""
    sweep = tmp_path / "s"
    res = subprocess.run([str(BIN / "affiliate-sim"), "-m", f"scenario={','.join(CASES)}",
                          "seed=0,1", "days=6", "params.state_vigilance=0.2,0.8",
                          "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    wide = pd.read_parquet(sweep / "sweep.parquet")
    long = pd.read_parquet(sweep / "sweep_long.parquet")
    assert str(wide["params.state_vigilance"].dtype) == "float64"
    assert tables.undocumented("sweep.parquet", wide) == []
    assert tables.undocumented("sweep_long.parquet", long) == []
    assert set(long.overrides) == {"days=6,params.state_vigilance=0.2",
                                   "days=6,params.state_vigilance=0.8"}
    res = subprocess.run([str(BIN / "affiliate-sim"), "plot", str(sweep)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "heatmap_is_fighters_end.png" in res.stdout  # compared by state_vigilance


def test_a_sweep_is_compared_by_the_override_it_varies():
    from affiliate_sim.experiments.figures import _compared_key

    t = pd.DataFrame({"job": ["a", "b", "c", "d"], "scenario": ["x", "x", "y", "y"],
                      "seed": [0, 1, 0, 1], "days": [5] * 4, "status": ["done"] * 4,
                      "params.state_vigilance": [0.2, 0.8, 0.2, 0.8],
                      "IYSC.fighters_end": [1.0, 2.0, 3.0, 4.0], "params_digest": list("abcd")})
    assert _compared_key(t) == "params.state_vigilance"
    assert _compared_key(t.assign(lever=["n", "n", "v", "v"])) == "lever"
    assert _compared_key(t.drop(columns="params.state_vigilance")) is None
