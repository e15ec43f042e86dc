"""The interactive view (affiliate_sim.viz.app), rendered and stepped in-process with solara.

The browser test (a real server and headless Chromium) is tests/test_browser.py.
"""

from __future__ import annotations

import itertools

import ipyvuetify as v
import ipywidgets
import matplotlib.colors
import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.image import AxesImage

solara = pytest.importorskip("solara")

from mesa.visualization.utils import force_update  # noqa: E402

from affiliate_sim.viz import app  # noqa: E402
from affiliate_sim.vocabulary import CAMPS  # noqa: E402

_pages: list = []


@pytest.fixture(autouse=True)
def _close_pages():
    """Close the pages a test rendered: every page listens to Mesa's one update counter,
    so a page left open would be drawn again by the next test's steps."""
    yield
    while _pages:
        _pages.pop().close()


def render(model):
    """The page around ``model`` (a reactive), in an AppLayout so the sidebar renders too."""
    _, rc = solara.render(solara.AppLayout(children=[app.AffiliateView(model)]),
                          handle_error=False)
    _pages.append(rc)
    return rc


def day_text(rc, model) -> str:
    """The day label the page shows (fails unless exactly one matches the model's day)."""
    return rc.find(v.Html, children=[app.day_label(model.value)]).widget.children[0]


def speed_text(rc) -> str:
    """The text under the controls (how many days were run, or the playback speed)."""
    w = rc.find(v.Html, class_="affiliate-speed").widget
    return w.children[0] if w.children else ""


def html_containing(rc, text: str) -> str:
    """The content of the one HTML element of the page that contains ``text``."""
    found = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
             if text in (w.unsafe_innerHTML or "")]
    assert len(found) == 1, f"{len(found)} HTML elements contain {text!r}"
    return found[0]


def test_starts_from_the_calibrated_parameters():
    model = app.ViewModel()
    calibrated = app.calibrated_params()
    assert model.case.name == app.DEFAULT_CASE
    assert model.params == calibrated
    assert model.params.state_vigilance != app.Params().state_vigilance  # really calibrated
    sliders = app.model_params()
    for name in app.SLIDER_PARAMS:
        meta = app._meta(name)
        s = sliders[name]
        assert (s.min, s.max) == (meta["lo"], meta["hi"])
        assert s.value == pytest.approx(getattr(calibrated, name), abs=1e-3)
    assert sliders["case"]["values"] == app.available()


def slider(rc, label: str):
    """The one slider whose label is ``label: value``."""
    found = [w for w in rc.find(v.Slider).widgets if (w.label or "").startswith(label + ": ")]
    assert len(found) == 1, f"{len(found)} sliders labelled {label!r}"
    return found[0]


def test_page_renders_steps_and_resets_to_another_scenario():
    model = solara.reactive(app.ViewModel())
    rc = render(model)
    # the page: two figures (map, time series), the day label, the event log, the inputs
    assert len(rc.find(ipywidgets.Image).widgets) == 2
    assert day_text(rc, model).startswith("Day 0 of 450 (2014-10-05)")
    for name, label in app.SLIDER_LABELS.items():  # each slider shows its value
        assert slider(rc, label).label == app.slider_label(name, app.model_params()[name].value)
    assert slider(rc, "State vigilance").label == "State vigilance: 0.506"
    assert slider(rc, "Seed").label == "Seed: 0"
    rc.find(v.Select, label="Scenario (applied on Reset)").assert_single()

    step = rc.find(v.Btn, children=["Step"])
    for k in range(1, 4):
        step.widget.click()
        assert model.value.day == k
        assert day_text(rc, model).startswith(f"Day {k} of 450")
    assert "day 0: pledge — IYSC" in html_containing(rc, "Event log")  # scripted on day 0
    table = html_containing(rc, "Parameters of this run")
    assert "State vigilance" in table and "0.506" in table

    # a new scenario, seed and slider value take effect on Reset; the labels follow
    first = model.value
    rc.find(v.Select, label="Scenario (applied on Reset)").widget.v_model = "algeria_2014"
    slider(rc, "State vigilance").v_model = 0.9
    slider(rc, "Seed").v_model = 7
    assert slider(rc, "State vigilance").label == "State vigilance: 0.9"
    assert slider(rc, "Seed").label == "Seed: 7"
    assert model.value is first and model.value.day == 3  # nothing applied yet
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert model.value is not first
    assert model.value.case.name == "algeria_2014"
    assert model.value.params.state_vigilance == pytest.approx(0.9)
    assert model.value.run_seed == 7
    assert "<td style='padding:2px 8px;vertical-align:top'>0.9</td>" in html_containing(
        rc, "Parameters of this run")
    assert model.value.day == 0
    assert day_text(rc, model).startswith("Day 0 of 500 (2014-09-13)")
    step.widget.click()
    assert model.value.day == 1


def test_run_to_a_day_and_to_the_end_draw_the_page_once(monkeypatch):
    drawn = []
    map_figure = app.map_figure
    monkeypatch.setattr(app, "map_figure", lambda m: drawn.append(m.day) or map_figure(m))
    model = solara.reactive(app.ViewModel())
    rc = render(model)
    day_input = rc.find(v.TextField, label="Day to run to")
    day_input.assert_single()
    assert day_input.widget.v_model == "450"  # the last day by default
    day_input.widget.v_model = "100"
    drawn.clear()
    rc.find(v.Btn, children=["Run to day"]).widget.click()
    assert model.value.day == 100
    assert day_text(rc, model).startswith("Day 100 of 450 (2015-01-13)")
    assert drawn == [100]  # stepped in one go: the map is drawn once, on day 100
    assert "ran 100 days" in speed_text(rc)

    day_input.widget.v_model = "50"  # a day already past: nothing happens
    rc.find(v.Btn, children=["Run to day"]).widget.click()
    assert model.value.day == 100

    drawn.clear()
    rc.find(v.Btn, children=["Run to end"]).widget.click()
    assert model.value.day == model.value.days == 450 and not model.value.running
    assert day_text(rc, model).startswith("Day 450 of 450 (2015-12-29)")
    assert drawn == [450]
    for label in ("Step", "Run to day", "Run to end", "▶"):  # nothing left to run
        assert rc.find(v.Btn, children=[label]).widget.disabled, label
    assert not rc.find(v.Btn, children=["Reset"]).widget.disabled


def test_playing_draws_every_few_days():
    """The headless path of playback: DAYS_PER_FRAME days stepped, then the whole page
    (both figures) drawn, frame after frame, to the end of a case. (Its speed is measured
    by benchmarks/view.py, not here.)"""
    model = solara.reactive(app.ViewModel())
    rc = render(model)
    image = rc.find(ipywidgets.Image).widgets[0]
    frames = 0
    while model.value.day < model.value.days:
        before = image.value
        app.run_to(model.value, model.value.day + app.DAYS_PER_FRAME)
        force_update()
        frames += 1
        assert image.value != before  # the frame is really drawn
        assert day_text(rc, model).startswith(f"Day {model.value.day} of 450")
    assert frames == -(-450 // app.DAYS_PER_FRAME)


def test_run_to_clips_to_the_runs_days():
    model = app.ViewModel(case="yemen_2015")
    assert app.run_to(model, 10) == 10 and model.day == 10 and model.running
    assert app.run_to(model, 5) == 0 and model.day == 10
    assert app.run_to(model, 10_000) == 170 and model.day == model.days == 180
    assert not model.running
    assert app.run_to_end(model) == 0


def test_camps_have_distinct_colours_and_is_is_not_grey():
    rgb = {c: matplotlib.colors.to_rgb(app.CAMP_COLOURS[c]) for c in CAMPS}
    for c, (r, g, b) in rgb.items():
        assert max(r, g, b) - min(r, g, b) > 0.3, f"{c} looks grey"
    for c1, c2 in itertools.combinations(CAMPS, 2):
        assert np.abs(np.subtract(rgb[c1], rgb[c2])).sum() > 0.5, (c1, c2)
    # on the map, a cell the IS camp holds is shaded in its colour, not grey
    model = app.ViewModel()
    app.run_to(model, 30)
    ctrl = app.control(model)
    assert (ctrl == CAMPS.index("IS")).any()
    shade = app.map_figure(model).axes[0].get_images()[0].get_array()
    r, g, b = shade[ctrl == CAMPS.index("IS")][0]
    assert r - max(g, b) > 0.2


def test_map_has_the_control_image_and_one_marker_set_per_camp():
    model = app.ViewModel()
    for _ in range(5):
        model.step()
    fig = app.map_figure(model)
    [ax] = fig.axes
    images = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert len(images) == 1
    assert images[0].get_array().shape[:2] == (model.case.height, model.case.width)
    markers = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [c.get_label() for c in markers] == list(CAMPS)
    # marker counts: cells where the camp has at least one fighter
    cf = app.camp_fighters(model)
    assert [len(c.get_offsets()) for c in markers] == [int((cf[k] >= 1).sum())
                                                      for k in range(len(CAMPS))]
    assert "Day 5 of 450" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("IS: ") and "fighters" in t for t in legend)
    assert ax.get_xlabel() and ax.get_ylabel()


def test_control_is_the_camp_of_the_holder():
    model = app.ViewModel()
    ctrl = app.control(model)
    held = model.world.forces.held[0]
    camp = model.world.orgs.camp[0]
    for r, c in zip(*np.nonzero(held.any(axis=0)), strict=True):
        assert ctrl[r, c] in camp[held[:, r, c]]
    assert (ctrl[~held.any(axis=0)] == -1).all()


def test_series_has_one_line_per_organization_up_to_today():
    model = app.ViewModel()
    for _ in range(7):
        model.step()
    fig = app.series_figure(model)
    [ax] = fig.axes
    shown = app.shown_organizations(model)
    assert len(ax.lines) == len(shown) == len(model.names) - 1  # all but the IS core
    assert [ln.get_label().split(" (")[0] for ln in ax.lines] == [model.names[i]
                                                                  for i in shown]
    for ln, i in zip(ax.lines, shown, strict=True):
        assert len(ln.get_xdata()) == 8  # days 0..7
        assert ln.get_ydata()[-1] == pytest.approx(model.world.forces.totals[0, i])
    assert ax.get_ylabel() == "fighters"
    assert "2014-10-05" in ax.get_xlabel()  # a date axis: day 0 is the start date
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    x = ax.lines[0].get_xdata()
    assert [mdates.num2date(x[k]).date().isoformat() for k in (0, 7)] == ["2014-10-05",
                                                                          "2014-10-12"]


def test_stepping_past_the_last_day_does_not_crash():
    model = app.ViewModel(case="yemen_2015", seed=3)
    model.run()
    assert model.day == model.days == 180
    model.step()  # the Step button is disabled by then; the model still stays put
    model.step()
    assert model.day == 180 and not model.running
    app.map_figure(model)
    app.series_figure(model)


def test_event_lines_read_as_text():
    e = {"day": 3, "kind": "pledge", "actor": "A", "target": "B", "magnitude": 1.0,
         "note": "n"}
    assert app.event_line(e) == "day 3: pledge — A → B: n"
    assert app.event_line({**e, "target": "", "note": ""}) == "day 3: pledge — A"
