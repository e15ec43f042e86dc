"""Each figure of the plotting module, on a small run: the axes and elements it must show."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

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
           {"org": None, "window": (5, 20), "label": "y"}]
    fig = plots.trajectory_bands(series, run.names, "Derna", obs, run.case.start_date,
                                 camps_of(run))
    ax = fig.axes[0]
    living = [n for k, n in enumerate(run.names) if series[:, :, k].max() > 0]
    assert "IS_core" not in living
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for n in living:
        assert any(lab.startswith(n) for lab in labels)
    assert not any(lab.startswith("IS_core") for lab in labels)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) >= len(living)  # one band per organization (+ the window span)
    assert "article observation (fighters, over its window)" in labels and "observation window" in labels
    assert ax.get_title() == "Derna" and "2014-10-05" in ax.get_xlabel()
    assert ax.get_ylabel() == "fighters"


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
    data = fig.axes[0].get_images()[0].get_array()
    assert np.array_equal(data, [[0, 1], [2, 0]])  # mechanisms sorted: pledge, purge


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
