"""Each figure of the plotting module, on a small run: the axes and elements it must show."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402

import matplotlib.colors  # noqa: E402
import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402

from affiliate_sim.experiments import compare  # noqa: E402
from affiliate_sim.model import AffiliateModel  # noqa: E402
from affiliate_sim.paths import CALIBRATED  # noqa: E402
from affiliate_sim.scenario.params import load_params  # noqa: E402
from affiliate_sim.viz import plots  # noqa: E402
from affiliate_sim.vocabulary import CAMPS  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return AffiliateModel("derna_2014", load_params(CALIBRATED), rng=0, days=60).run()


@pytest.fixture(scope="module")
def run(model):
    return model.record(0)


@pytest.fixture(autouse=True)
def _close():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def camps_of(model):
    return [CAMPS[c] for c in model.camp]


def test_trajectory_bands_one_band_and_line_per_living_organization(run):
    series = np.stack([run.history.stocks["fighters"]] * 3)  # three identical "seeds"
    series[1] *= 0.8
    obs = [{"org": "IYSC", "window": (10, 50), "label": "x", "at_most": 500},
           {"org": "IYSC", "window": (0, 30), "label": "z", "at_least": 100},
           {"org": None, "window": (5, 20), "label": "y"}]
    fig = plots.trajectory_bands(series, run.names, "Derna", obs, run.case.start_date,
                                 camps_of(run))
    ax = fig.axes[0]
    living = [n for k, n in enumerate(run.names) if series[:, :, k].max() > 0]
    assert "IS_core" not in living
    legends = [c for c in ax.get_children() if isinstance(c, Legend)]
    labels = [t.get_text() for lg in legends for t in lg.get_texts()]
    for n in living:
        assert any(lab.startswith(n) for lab in labels)
    assert not any(lab.startswith("IS_core") for lab in labels)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) >= len(living)  # one band per organization (+ the window span)
    # the up and down markers are told apart in the legend
    assert any("at least" in lab and "(^;" in lab for lab in labels)
    assert any("at most" in lab and "(v;" in lab for lab in labels)
    assert any(lab.startswith("window of another observation") for lab in labels)
    assert ax.get_title() == "Derna" and "2014-10-05" in ax.get_xlabel()
    assert ax.get_ylabel() == "fighters"


def test_trajectory_bands_time_axis_shows_dates_when_the_start_is_known(run):
    series = np.stack([run.history.stocks["fighters"]] * 2)
    fig = plots.trajectory_bands(series, run.names, "Derna", start_date="2014-10-05")
    ax = fig.axes[0]
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    x = ax.lines[0].get_xdata()
    assert mdates.num2date(x[0]).date() == dt.date(2014, 10, 5)
    assert mdates.num2date(x[60]).date() == dt.date(2014, 12, 4)  # day 60
    fig.canvas.draw()
    ticks = " ".join(t.get_text() for t in ax.get_xticklabels())
    assert "Nov" in ticks or "Dec" in ticks, ticks
    # run days stay readable on the top axis
    [top] = [c for c in ax.get_children() if type(c).__name__ == "SecondaryAxis"]
    assert top.get_xlabel() == "day of the run"
    # no start date: the axis is in days
    plain = plots.trajectory_bands(series, run.names, "Derna").axes[0]
    assert plain.get_xlabel() == "day" and plain.lines[0].get_xdata()[7] == 7
    assert not isinstance(plain.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)


def test_trajectory_bands_draws_event_observations_and_explains_them(run):
    series = np.stack([run.history.stocks["fighters"]] * 2)
    obs = [{"org": "", "window": (10, 40), "label": "a", "event": "purge", "day": 25.0},
           {"org": "", "window": (0, 60), "label": "b", "event": "split", "day": None},
           {"org": "", "window": (5, 15), "label": "c", "event": "split", "day": 12.0},
           {"org": "", "window": (0, 20), "label": "d", "event": "offensive_started",
            "anchor": "split", "day": None}]
    fig = plots.trajectory_bands(series, run.names, "Derna", obs, "2014-10-05")
    ax = fig.axes[0]
    x0 = mdates.date2num(dt.date(2014, 10, 5))
    lines = {tuple(np.round(np.asarray(ln.get_xdata(), float) - x0, 6)): ln for ln in ax.lines
             if ln.get_transform() != ax.transData}  # the strip: x in data, y in axes
    assert set(lines) == {(10.0, 40.0), (25.0,), (0.0, 60.0), (5.0, 15.0), (12.0,)}
    assert lines[(25.0,)].get_marker() == plots.EVENT_MARKERS["purge"]
    assert lines[(12.0,)].get_marker() == plots.EVENT_MARKERS["split"]
    # one row per kind: both splits on the same row, the purge on another
    assert lines[(0.0, 60.0)].get_ydata()[0] == lines[(5.0, 15.0)].get_ydata()[0]
    assert lines[(0.0, 60.0)].get_ydata()[0] != lines[(10.0, 40.0)].get_ydata()[0]
    [key] = [lg for lg in ax.get_children() if isinstance(lg, Legend)
             and lg.get_title().get_text() == "markers"]
    labels = [t.get_text() for t in key.get_texts()]
    assert "purge (X): article's window (bar), model's median day (marker)" in labels
    assert "split (P): article's window (bar), model's median day (marker)" in labels
    # an anchored window is not drawn, and the legend says so
    assert any(lab.startswith("offensive started (>)") and "counted from the first split"
               in lab for lab in labels)
    assert len(labels) == 3


def test_control_is_the_models_holding_rule(model):
    owner = plots.control(model.world.forces.fighters[0])
    held = model.world.forces.held[0]
    for o in range(len(model.names)):
        assert np.array_equal(owner == o, held[o])
    assert np.array_equal(owner == -1, ~held.any(axis=0))


def test_control_map_panels_per_camp_and_legend_of_holders(run):
    day = 56
    snap = run.history.snapshots[day]
    camps = camps_of(run)
    fig = plots.control_map(snap, run.names, camps, day, "Derna", run.case.regions,
                            run.case.start_date)
    images = [ax for ax in fig.axes if any(isinstance(a, AxesImage) for a in ax.get_images())]
    present = {c for c in camps}
    titles = [ax.get_title() for ax in images]
    assert titles[0].startswith("who holds each cell")
    for c in present:  # one panel per camp, titled with its fighters on that day
        total = snap[[k == c for k in camps]].sum()
        assert f"{c} camp: {total:,.0f} fighters" in titles
    assert len(images) == 1 + len(present)
    holders = set(plots.control(snap)[plots.control(snap) >= 0].tolist())
    legend = [t.get_text() for t in images[0].get_legend().get_texts()]
    assert {run.names[o] for o in holders} == {t.split(" (")[0] for t in legend[:-1]}
    assert legend[-1] == "held by none"
    assert "day 56 (2014-11-30)" in fig._suptitle.get_text()
    # region names are written on the control panel
    texts = [t.get_text() for t in images[0].texts]
    assert set(run.case.regions) <= set(texts)


def test_control_strip_one_panel_per_day_and_rejects_missing_days(run):
    snaps = run.history.snapshots
    fig = plots.control_strip(snaps, run.names, camps_of(run), days=[0, 28, 56])
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in panels] == ["day 0", "day 28", "day 56"]
    assert plots.nearest_snapshots(snaps, 4)[0] == 0
    assert plots.nearest_snapshots(snaps, 4)[-1] == max(snaps)
    with pytest.raises(ValueError, match="no snapshot"):
        plots.control_strip(snaps, run.names, camps_of(run), days=[3])


def test_flow_components_add_up_to_the_change_in_fighters(run):
    h = run.history
    for i, name in enumerate(run.names):
        parts = plots.flow_components(h, name, bin_days=7)
        net = sum(v.sum() for v in parts.values())
        change = h.stocks["fighters"][-1, i] - h.stocks["fighters"][0, i]
        assert net == pytest.approx(change, abs=1e-6)
        for label, v in parts.items():
            gain = label.startswith(("recruited", "defectors"))
            assert (v >= 0).all() if gain else (v <= 0).all(), label
    # the killers are named
    iysc = plots.flow_components(h, "IYSC")
    killers = {k for k in iysc if k.startswith("killed by")}
    expected = {f"killed by {run.names[j]}" for j in range(len(run.names))
                if h.pairs["killed"][:, 1, j].sum() > 0}
    assert killers == expected and killers


def test_flows_stacked_bars_legend_and_fighters_axis(run):
    fig = plots.flows_stacked(run.history, "IYSC", bin_days=10, start_date="2014-10-05")
    ax, ax2 = fig.axes
    parts = plots.flow_components(run.history, "IYSC", bin_days=10)
    assert len(ax.patches) == len(parts) * 6  # 60 days / 10 per bar
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == list(parts) + ["fighters (right axis)"]
    assert "per 10 days" in ax.get_ylabel() and ax2.get_ylabel() == "fighters"
    # on dates: the first bar is centred on day 5, the fighters line starts on day 0
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    x0 = mdates.date2num(dt.date(2014, 10, 5))
    assert ax.patches[0].get_x() + ax.patches[0].get_width() / 2 == pytest.approx(x0 + 5)
    assert ax2.lines[0].get_xdata()[0] == pytest.approx(x0)
    assert np.allclose(ax2.lines[0].get_ydata(), run.history.stocks["fighters"][:, 1])


@pytest.fixture
def table():
    rows = []
    for case, base in (("a", 0.5), ("b", 0.2)):
        for lever, shift in (("none", 0.0), ("up", 0.3), ("down", -0.1)):
            for seed in range(4):
                rows.append({"scenario": case, "lever": lever, "seed": seed, "status": "done",
                             "camp:IS.fighters_start": 100.0,
                             "camp:IS.fighters_end": 100 * (base + shift + 0.01 * seed),
                             "obs:x.met": seed % 2 == 0})
    rows.append({"scenario": "a", "lever": "up", "seed": 9, "status": "failed"})
    return pd.DataFrame(rows)


def test_lever_heatmap_shows_differences_from_the_baseline(table):
    t = compare.add_outcomes(table)
    fig = plots.lever_heatmap(t, "is_share_left", baseline="none", label="IS share left")
    ax = fig.axes[0]
    data = ax.get_images()[0].get_array()
    assert [x.get_text() for x in ax.get_xticklabels()] == ["down", "up"]
    assert [y.get_text() for y in ax.get_yticklabels()] == ["a", "b"]
    assert np.allclose(data, [[-0.1, 0.3], [-0.1, 0.3]])
    assert "IS share left - none" in fig.axes[1].get_ylabel()
    with pytest.raises(ValueError, match="baseline"):
        plots.lever_heatmap(t, "is_share_left", baseline="nope")
    plain = plots.lever_heatmap(t, "is_share_left").axes[0].get_images()[0].get_array()
    assert plain.shape == (2, 3) and plain[0, 1] == pytest.approx(0.515)


def test_outcome_distributions_one_panel_per_case(table):
    t = compare.add_outcomes(table)
    fig = plots.outcome_distributions(t, "is_share_left", label="IS share left")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["a", "b"]
    for ax in visible:
        assert [x.get_text() for x in ax.get_xticklabels()] == ["down", "none", "up"]
        points = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
        assert len(points) == 12  # the failed job is left out


def test_observation_scores_and_knockout_matrix():
    table = {"c1": {"o1": {"share_met": 1.0}, "o2": {"share_met": 0.5}},
             "c2": {"o3": {"share_met": 0.9}}}
    fig = plots.observation_scores(table)
    ax = fig.axes[0]
    assert sorted(p.get_width() for p in ax.patches) == [0.5, 0.9, 1.0]
    assert "2 of 3" in ax.get_title()
    knock = {"c1": {"purge": {"o1": {"on": 1, "off": 0}}, "pledge": {}},
             "c2": {"purge": {}, "pledge": {"o3": {}, "o4": {}}}}
    fig = plots.knockout_matrix(knock)
    ax = fig.axes[0]
    data = ax.get_images()[0].get_array()
    assert np.array_equal(data, [[0, -1], [0, 0]])  # net direction; mechanisms sorted
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["0", "\u22121", "2?", "0"]  # o3, o4: changes of unknown direction


def test_knockout_matrix_shows_direction_and_intervals():
    w = {"on_interval": (0.7, 1.0), "off_interval": (0.0, 0.2)}
    knock = {"c1": {"purge": {"o1": {"on": 0.9, "off": 0.05, **w},
                              "o2": {"on": 0.1, "off": 0.8, "on_interval": (0.0, 0.3),
                                     "off_interval": (0.6, 0.9)}},
                    "pledge": {"o1": {"on": 0.9, "off": 0.1, **w}}},
             "c2": {"purge": {}, "pledge": {}}}
    fig = plots.knockout_matrix(knock)
    ax, ax2 = (a for a in fig.axes if a.get_label() != "<colorbar>")
    assert [t.get_text() for t in ax.texts] == ["\u22121", "\u22121 +1", "0", "0"]
    assert np.array_equal(ax.get_images()[0].get_array(), [[-1, 0], [0, 0]])
    # one row per change: point = off - on, a bar = its interval, red down, blue up
    rows = plots.knockout_effects(knock)
    assert [(r["mechanism"], r["observation"]) for r in rows] == [
        ("pledge", "o1"), ("purge", "o1"), ("purge", "o2")]
    points = [ln for ln in ax2.lines if ln.get_marker() == "o"]
    assert [round(float(p.get_xdata()[0]), 2) for p in points] == [-0.8, -0.85, 0.7]
    assert [matplotlib.colors.to_hex(p.get_color()) for p in points] == [
        "#b2182b", "#b2182b", "#2166ac"]
    for r in rows:
        lo, hi = r["interval"]
        assert lo < r["change"] < hi and -1 <= lo and hi <= 1
    assert "95% interval" in ax2.get_title() and "less often" in ax2.get_title()
    labels = [t.get_text() for t in ax2.get_yticklabels()]
    assert labels[0] == "c1: pledge off, o1"


def test_difference_interval_is_newcombes():
    # Newcombe (1998), method 10, example (a): 56/70 vs 48/80, with Wilson intervals
    from affiliate_sim.experiments.replay import wilson

    on, off = 48 / 80, 56 / 70
    lo, hi = plots.difference_interval(on, wilson(48, 80), off, wilson(56, 70))
    assert (lo, hi) == (pytest.approx(0.0524, abs=1e-3), pytest.approx(0.3339, abs=1e-3))


def test_lever_effects_paired_differences(table):
    t = compare.add_outcomes(table)
    eff = compare.lever_effects(t, "is_share_left")
    up = eff[(eff.case == "a") & (eff.lever == "up")].iloc[0]
    assert up["difference"] == pytest.approx(0.3) and up["se"] == pytest.approx(0.0, abs=1e-12)
    assert set(eff["lever"]) == {"up", "down"}
    top = compare.decisive_levers(eff, min_difference=0.2)
    assert set(top["lever"]) == {"up"}
    assert t["observations_met"].dropna().isin([0.0, 1.0]).all()


def test_lever_heatmap_robust_scale_and_no_negative_zero():
    rows = [{"scenario": f"c{k}", "lever": lv, "seed": 0, "status": "done",
             "v": (100.0 if (k == 0 and lv == "up") else 0.1 * k) if lv != "none" else 0.0}
            for k in range(6) for lv in ("none", "up", "down")]
    rows.append({"scenario": "c9", "lever": "none", "seed": 0, "status": "done", "v": 0.001})
    rows += [{"scenario": "c9", "lever": lv, "seed": 0, "status": "done", "v": 0.0}
             for lv in ("up", "down")]
    t = pd.DataFrame(rows)
    im = plots.lever_heatmap(t, "v", baseline="none").axes[0].get_images()[0]
    assert im.get_clim()[1] < 100  # the outlier does not set the scale
    full = plots.lever_heatmap(t, "v", baseline="none", robust=False).axes[0].get_images()[0]
    assert full.get_clim()[1] == pytest.approx(100.0)
    texts = [x.get_text() for x in plots.lever_heatmap(t, "v", baseline="none").axes[0].texts]
    assert "-0.00" not in texts and "100.00" in texts


def test_replay_case_figure_marks_event_observations_with_the_models_day(run):
    from affiliate_sim.experiments import replay
    from affiliate_sim.experiments.runs import case_result

    sc = run.case
    results = [case_result(run)] * 3
    marks = {m["label"]: m for m in replay.observation_marks(sc, results)}
    assert set(marks) == {o.id for o in sc.observations}
    by_id = {o.id: o for o in sc.observations}
    events = {k for k, o in by_id.items() if o.quantity in replay.EVENT_QUANTITIES}
    assert events and {k for k, m in marks.items() if "event" in m} == events
    for k in events:
        assert marks[k]["event"] == (by_id[k].event or "leaders_killed")
    # the coalition forms on day 70 in this run: a first_event_day observation's day
    coalition = [k for k in events if by_id[k].quantity == "first_event_day"
                 and by_id[k].event == "coalition_formed"]
    assert coalition
    day = results[0].values[coalition[0]]
    assert marks[coalition[0]]["day"] == (day if day <= 60 else None)  # a 60-day run
    assert replay.event_day(by_id[coalition[0]], results[:1]) == (day if day <= 60 else None)
    long = [dataclasses.replace(results[0], fighters=np.zeros((451, 1)),
                                values={coalition[0]: v}) for v in (70.0, 80.0, 451.0)]
    assert replay.event_day(by_id[coalition[0]], long) == 75.0  # the seeds where it came
    assert replay.event_day(by_id[coalition[0]], long[1:]) == 80.0  # half the seeds
    assert replay.event_day(by_id[coalition[0]], long[1:] + long[2:]) is None  # fewer
    assert all(marks[k]["day"] is None for k in events
               if by_id[k].quantity != "first_event_day")
    fighters = [k for k, o in by_id.items() if o.quantity == "fighters"]
    assert all("at_least" in marks[k] or "at_most" in marks[k] for k in fighters)
    fig = replay.case_figure(sc, results)
    [key] = [lg for lg in fig.axes[0].get_children() if isinstance(lg, Legend)
             and lg.get_title().get_text() == "markers"]
    labels = " | ".join(t.get_text() for t in key.get_texts())
    assert "coalition formed" in labels
