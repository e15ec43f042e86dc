"""Interactive view: a solara app of one scenario (a Mesa model), day by day.

Start it with::

    .venv/bin/solara run src/affiliate_sim/viz/app.py --host 127.0.0.1 --port 8765

and open http://127.0.0.1:8765. The page shows

* the scenario's title and the day and date;
* a map of the grid: each cell shaded by the camp of the organization that holds it, and a
  marker per camp whose area is proportional to that camp's fighters in the cell;
* the fighters of each organization so far (from the model's own history buffers);
* the last events of the model's event log, and the slider parameters of the run;
* in the sidebar, the controls: Reset, play / pause (several days per frame: at least
  :data:`MIN_DAYS_PER_SECOND` days a second on a case grid), Step (one day), a day to run
  to with **Run to day** and **Run to end** (the model steps there in one go, the page is
  drawn once), the days per frame; then a scenario selector, the seed and sliders for six
  policy parameters, each labelled with its value. A new scenario, seed or value takes
  effect on **Reset**. Runs start from the calibrated parameters
  (``conf/params/calibrated.yaml``).

Each browser session has its own model. Offline (no public CDN), solara's front-end
packages must first be put into its cache from the npm registry:
``python -m affiliate_sim.viz.app --fetch-assets``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import fields
from html import escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.colors  # noqa: E402
import numpy as np  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from mesa.visualization import Slider  # noqa: E402
from mesa.visualization.utils import force_update, update_counter  # noqa: E402

from affiliate_sim.model import AffiliateModel  # noqa: E402
from affiliate_sim.paths import CALIBRATED  # noqa: E402
from affiliate_sim.scenario import available  # noqa: E402
from affiliate_sim.scenario.params import Params, load_params  # noqa: E402
from affiliate_sim.viz import plots  # noqa: E402
from affiliate_sim.viz.plots import CAMP_COLOURS  # noqa: E402
from affiliate_sim.vocabulary import CAMPS, IS_CORE  # noqa: E402

#: Scenario shown when the page opens.
DEFAULT_CASE = "derna_2014"
#: Parameters with a slider (policy levers and the IS brand); ranges from their metadata.
SLIDER_PARAMS: tuple[str, ...] = (
    "state_vigilance",
    "purge_capacity_scale",
    "counter_messaging",
    "momentum_gain",
    "is_broadcast",
    "central_investment",
)
#: Short slider labels (the sidebar is narrow; units and meaning are in the parameter table).
SLIDER_LABELS = {
    "state_vigilance": "State vigilance",
    "purge_capacity_scale": "Purge capacity ×",
    "counter_messaging": "Counter-messaging",
    "momentum_gain": "Momentum gain ×",
    "is_broadcast": "IS broadcast",
    "central_investment": "Central investment ×",
}
#: Events shown in the log.
LOG_LENGTH = 15
#: Days stepped per drawn frame while playing (the sidebar changes it; the figures take
#: most of a frame's time, so playing draws every few days).
DAYS_PER_FRAME = 30
#: Pause between frames while playing, in seconds (lets the browser take each frame).
FRAME_PAUSE = 0.02
#: Playback speed the view is built for, in days per second (benchmarks/view.py measures it).
MIN_DAYS_PER_SECOND = 20
#: Title of the page.
TITLE = "affiliate_sim: IS affiliates, AQ branches, states and militias"
#: Colour of cells nobody holds.
UNHELD = "#f2f2f2"
#: Marker offsets (in cells) of each camp inside a cell, so that camps do not hide each other.
_OFFSETS = {"IS": (-0.2, -0.2), "AQ": (0.2, -0.2), "state": (-0.2, 0.2),
            "independent": (0.2, 0.2)}
_STYLES = ("-", "--", ":", "-.")


@functools.cache
def _calibrated() -> Params:
    return load_params(CALIBRATED if CALIBRATED.is_file() else None)


def calibrated_params() -> Params:
    """A copy of the calibrated parameter set (defaults if the file is missing)."""
    base = _calibrated()
    return dataclasses.replace(base, mechanisms=dataclasses.replace(base.mechanisms))


def _meta(name: str) -> dict:
    return next(f.metadata for f in fields(Params) if f.name == name)


class ViewModel(AffiliateModel):
    """An :class:`AffiliateModel` built from keyword arguments, as SolaraViz needs.

    Args:
        case: scenario name (``scenarios/<case>.yaml``). Not called ``scenario``: Mesa's
            SolaraViz passes its own ``Scenario`` object under that name on Reset.
        seed: random seed.
        state_vigilance, purge_capacity_scale, counter_messaging, momentum_gain,
            is_broadcast, central_investment: the :data:`SLIDER_PARAMS`, replacing the
            calibrated values (``None``: the calibrated value).
    """

    def __init__(self, case: str = DEFAULT_CASE, seed: int = 0,
                 state_vigilance: float | None = None,
                 purge_capacity_scale: float | None = None,
                 counter_messaging: float | None = None,
                 momentum_gain: float | None = None,
                 is_broadcast: float | None = None,
                 central_investment: float | None = None):
        levers = {k: float(v) for k, v in {
            "state_vigilance": state_vigilance,
            "purge_capacity_scale": purge_capacity_scale,
            "counter_messaging": counter_messaging,
            "momentum_gain": momentum_gain,
            "is_broadcast": is_broadcast,
            "central_investment": central_investment,
        }.items() if v is not None}
        params = dataclasses.replace(calibrated_params(), **levers)
        super().__init__(case, params=params, rng=int(seed))
        self.case_name = case
        self.run_seed = int(seed)
        self.levers = levers

    def step(self) -> None:
        """One day; past the scenario's last day, nothing happens (the run has ended)."""
        if self.day >= self.days:
            self.running = False
            return
        super().step()


def run_to(model: AffiliateModel, day: int) -> int:
    """Step ``model`` to ``day`` (clipped to the run's days) in one go, without drawing
    anything; returns the days stepped (0 if it is already there or past it)."""
    target = max(0, min(int(day), model.days))
    start = model.day
    while model.day < target:
        model.step()
    if model.day >= model.days:
        model.running = False
    return model.day - start


def run_to_end(model: AffiliateModel) -> int:
    """Step ``model`` to its last day in one go; returns the days stepped."""
    return run_to(model, model.days)


# ---------------------------------------------------------------------- plain views
def date_of(model: AffiliateModel, day: int | None = None) -> str:
    """ISO date of ``day`` (default: today), or '' if the scenario has no start date."""
    day = model.day if day is None else day
    try:
        start = dt.date.fromisoformat(model.case.start_date)
    except ValueError:
        return ""
    return (start + dt.timedelta(days=day)).isoformat()


def day_label(model: AffiliateModel) -> str:
    """``Day d of D (date)``: the text the page shows (and the browser test reads)."""
    date = date_of(model)
    return f"Day {model.day} of {model.days}" + (f" ({date})" if date else "")


def shown_organizations(model: AffiliateModel) -> list[int]:
    """Organizations with a line in the time series: all but the IS core (off the map)."""
    return [i for i in range(len(model.names)) if model.world.orgs.kind[0, i] != IS_CORE]


def camp_fighters(model: AffiliateModel) -> np.ndarray:
    """``(camps, H, W)`` fighters of each camp in each cell (camps as in ``CAMPS``)."""
    F = model.world.forces.fighters[0]
    out = np.zeros((len(CAMPS),) + F.shape[1:])
    for i, c in enumerate(model.world.orgs.camp[0]):
        out[c] += F[i]
    return out


def control(model: AffiliateModel) -> np.ndarray:
    """``(H, W)`` camp code of the organization holding each cell, -1 where none does."""
    owner = plots.control(model.world.forces.fighters[0])
    return np.where(owner >= 0, model.world.orgs.camp[0][np.maximum(owner, 0)], -1)


def map_figure(model: AffiliateModel) -> Figure:
    """The grid: cells coloured by the controlling camp, markers sized by camp fighters.

    The axes hold one image (control) and one marker collection per camp, labelled with the
    camp's name.
    """
    H, W = model.case.height, model.case.width
    ctrl = control(model)
    rgb = np.zeros((H, W, 3))
    rgb[:] = matplotlib.colors.to_rgb(UNHELD)
    for c, camp in enumerate(CAMPS):
        light = 0.55 * np.array(matplotlib.colors.to_rgb(CAMP_COLOURS[camp])) + 0.45
        rgb[ctrl == c] = light
    fig = Figure(figsize=(6.4, 6.0), layout="constrained")
    ax = fig.subplots()
    ax.imshow(rgb, origin="upper", extent=(-0.5, W - 0.5, H - 0.5, -0.5),
              interpolation="nearest")
    cf = camp_fighters(model)
    ref = max(float(cf.max()), 1.0)
    handles = []
    for c, camp in enumerate(CAMPS):
        rows, cols = np.nonzero(cf[c] >= 1.0)
        dx, dy = _OFFSETS[camp]
        sizes = 260.0 * cf[c][rows, cols] / ref
        ax.scatter(cols + dx, rows + dy, s=np.maximum(sizes, 4.0),
                   color=CAMP_COLOURS[camp], edgecolors="white", linewidths=0.5,
                   label=camp, zorder=3)
        total = cf[c].sum()
        cells = int((ctrl == c).sum())
        handles.append(Line2D([], [], ls="", marker="o", ms=8, color=CAMP_COLOURS[camp],
                              markeredgecolor="white",
                              label=f"{camp}: {total:,.0f} fighters, holds {cells} cells"))
    handles.append(Patch(facecolor=UNHELD, edgecolor="#999999", label="cell held by nobody"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2,
              fontsize=8, frameon=False,
              title=f"cell shade: holder's camp; marker area: fighters in the cell "
                    f"(largest {ref:,.0f})", title_fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))  # few labels: a frame's
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))  # time is mostly text
    ax.tick_params(labelsize=7)
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_xlabel("column (cell)")
    ax.set_ylabel("row (cell; north at the top)")
    ax.set_title(f"{model.case.name}: {day_label(model)}\ncontrol and fighters per camp",
                 fontsize=10)
    return fig


def series_figure(model: AffiliateModel) -> Figure:
    """Fighters of each organization from day 0 to today: one line per organization."""
    d = model.day
    series = model.history.stocks["fighters"][: d + 1, 0]
    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax = fig.subplots()
    used: dict[str, int] = {}
    start = model.case.start_date
    days = plots.time_x(np.arange(d + 1), start)
    for i in shown_organizations(model):
        camp = CAMPS[model.world.orgs.camp[0, i]]
        k = used.get(camp, 0)
        used[camp] = k + 1
        ax.plot(days, series[:, i], color=CAMP_COLOURS[camp], ls=_STYLES[k % len(_STYLES)],
                lw=1.8, marker="o" if d == 0 else None, ms=4,
                label=f"{model.names[i]} ({camp})")
    ax.set_xlim(plots.time_x(0, start), plots.time_x(max(d, 1), start))
    ax.set_ylim(bottom=0)
    if not plots.date_axis(ax, start, days_on_top=False):  # the title says the days
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("fighters")
    ax.set_title(f"Fighters of each organization, days 0-{d} (colour: camp today)",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def recent_events(model: AffiliateModel, n: int = LOG_LENGTH) -> list[dict]:
    """The last ``n`` events, newest first."""
    return list(reversed(model.events[-n:]))


def event_line(e: dict) -> str:
    """One event as text: day, kind, actor -> target, note."""
    who = e["actor"] + (f" → {e['target']}" if e["target"] else "")
    note = f": {e['note']}" if e["note"] else ""
    return f"day {e['day']}: {e['kind']} — {who}{note}"


def model_params() -> dict:
    """The inputs of a new model: scenario, seed and the parameter sliders (calibrated
    defaults), as Mesa's input specifications (a ``Select`` dict and :class:`Slider`).

    They build a new model on **Reset** (Mesa's SolaraViz convention).
    """
    base = calibrated_params()
    out: dict = {
        "case": {"type": "Select", "value": DEFAULT_CASE, "values": available(),
                 "label": "Scenario (applied on Reset)"},
        "seed": Slider("Seed", 0, 0, 99, 1),
    }
    for name in SLIDER_PARAMS:
        m = _meta(name)
        lo, hi = float(m["lo"]), float(m["hi"])
        out[name] = Slider(SLIDER_LABELS[name], round(float(getattr(base, name)), 3), lo, hi,
                           round((hi - lo) / 100, 4))
    return out


# ---------------------------------------------------------------------- components
@solara.component
def MapView(model: AffiliateModel):
    """The grid map, redrawn on every step."""
    update_counter.get()
    return solara.FigureMatplotlib(map_figure(model), dependencies=[id(model), model.day],
                                   format="png", dpi=90)


@solara.component
def SeriesView(model: AffiliateModel):
    """Fighters of each organization so far."""
    update_counter.get()
    return solara.FigureMatplotlib(series_figure(model), dependencies=[id(model), model.day],
                                   format="png", dpi=90)


@solara.component
def EventLog(model: AffiliateModel):
    """The last events of the model's log, newest first."""
    update_counter.get()
    events = recent_events(model)
    items = "".join(f"<li>{escape(event_line(e))}</li>" for e in events)
    with solara.Column(gap="4px") as col:
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<b>Event log</b> (last {len(events)} of {len(model.events)}, newest first)"
            + (f"<ul>{items}</ul>" if events else "<p>no events yet</p>")),
            classes=["affiliate-events"])
    return col


def parameter_rows(model: AffiliateModel) -> list[tuple[str, str, str, str, str]]:
    """Slider parameters of this run: label, value, calibrated value, range and unit, doc."""
    base = calibrated_params()
    rows = []
    for name in SLIDER_PARAMS:
        m = _meta(name)
        rows.append((SLIDER_LABELS[name], f"{getattr(model.params, name):.3g}",
                     f"{getattr(base, name):.3g}", f"[{m['lo']:g}, {m['hi']:g}] {m['unit']}",
                     m["doc"]))
    return rows


@solara.component
def ParameterTable(model: ViewModel):
    """The slider parameters of the run shown (the sliders apply on Reset)."""
    update_counter.get()
    cells = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 8px;vertical-align:top'>{escape(x)}</td>"
                         for x in row) + "</tr>" for row in parameter_rows(model))
    head = "".join(f"<th style='padding:2px 8px;text-align:left'>{h}</th>" for h in
                   ("parameter", "this run", "calibrated", "range, unit", "meaning"))
    return solara.HTML(tag="div", unsafe_innerHTML=(
        f"<b>Parameters of this run</b> (seed {model.run_seed}; the sliders apply on Reset)"
        f"<table style='font-size:0.85em;border-collapse:collapse'><tr>{head}</tr>{cells}"
        "</table>"))


@solara.component
def Panels(model: AffiliateModel):
    """Title, day and date, the map and the time series side by side, the event log."""
    update_counter.get()
    with solara.Column() as col:
        solara.HTML(tag="h3", unsafe_innerHTML=escape(model.case.title))
        solara.Text(day_label(model), style={"font-size": "1.2em", "font-weight": "bold"},
                    classes=["affiliate-day"])
        with solara.Columns([1, 1]):
            MapView(model)
            SeriesView(model)
        EventLog(model)
        ParameterTable(model)
    return col


def slider_label(name: str, value: float) -> str:
    """A slider's label with its value (``name`` a key of :func:`model_params`)."""
    if name == "seed":
        return f"Seed: {int(value)}"
    return f"{SLIDER_LABELS[name]}: {float(value):.3g}"


def input_values(inputs: dict) -> dict:
    """The starting values of :func:`model_params`' inputs: ``{name: value}``."""
    return {k: (v.value if isinstance(v, Slider) else v["value"]) for k, v in inputs.items()}


@solara.component
def ModelInputs(inputs: dict, values: solara.Reactive):
    """Scenario, seed and parameter sliders, each labelled with its value; they set
    ``values`` (applied on Reset)."""
    for name, spec in inputs.items():
        def set_value(x, name=name):
            values.set({**values.value, name: x})

        if isinstance(spec, Slider):
            cls = solara.SliderFloat if spec.is_float_slider else solara.SliderInt
            cls(slider_label(name, values.value[name]), value=values.value[name],
                on_value=set_value, min=spec.min, max=spec.max, step=spec.step,
                thumb_label=True)
        else:
            solara.Select(spec["label"], value=values.value[name], values=spec["values"],
                          on_value=set_value)


@solara.component
def Controls(model: solara.Reactive, values: solara.Reactive):
    """Reset, play / pause, Step (one day), run to a day or to the end, days per frame.

    Running to a day steps the model there in one go and draws the page once; playing
    steps :data:`DAYS_PER_FRAME` days (the slider) per drawn frame and shows the speed.
    """
    playing = solara.use_reactive(False)
    per_frame = solara.use_reactive(DAYS_PER_FRAME)
    target = solara.use_reactive(model.value.days)
    speed = solara.use_reactive("")
    m = model.value
    done = m.day >= m.days

    def play():
        t0, d0 = time.perf_counter(), model.value.day
        while playing.value and model.value.day < model.value.days:
            run_to(model.value, model.value.day + per_frame.value)
            force_update()
            elapsed = time.perf_counter() - t0
            speed.set(f"playing at {(model.value.day - d0) / max(elapsed, 1e-9):.0f} "
                      "days per second")
            time.sleep(FRAME_PAUSE)
        playing.set(False)

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def go(day: int) -> None:
        t0 = time.perf_counter()
        n = run_to(model.value, day)
        force_update()
        speed.set(f"ran {n} days in {time.perf_counter() - t0:.1f} s")

    def reset() -> None:
        playing.set(False)
        model.set(ViewModel(**values.value))
        target.set(model.value.days)
        speed.set("")
        force_update()

    with solara.Column(gap="6px") as col:
        with solara.Row(justify="space-between"):
            solara.Button("Reset", color="primary", on_click=reset)
            solara.Button("❚❚" if playing.value else "▶", color="primary",
                          on_click=lambda: playing.set(not playing.value), disabled=done)
            solara.Button("Step", color="primary", on_click=lambda: go(model.value.day + 1),
                          disabled=done or playing.value)
        solara.InputInt("Day to run to", value=target, continuous_update=True)
        with solara.Row(justify="space-between"):
            solara.Button("Run to day", color="primary", on_click=lambda: go(target.value),
                          disabled=done or playing.value)
            solara.Button("Run to end", color="primary", on_click=lambda: go(model.value.days),
                          disabled=done or playing.value)
        solara.SliderInt(f"Days per frame when playing: {per_frame.value}", value=per_frame,
                         min=1, max=100)
        solara.Text(speed.value, classes=["affiliate-speed"])
    return col


@solara.component
def AffiliateView(model: solara.Reactive):
    """The sidebar (controls, then the inputs of a new model) and the panels of the model.

    Mesa's SolaraViz sidebar is not used: its sliders do not show their values and its
    Step steps as many days as a played frame. The page re-renders on Mesa's
    ``update_counter``, as SolaraViz's components do.
    """
    inputs = solara.use_memo(model_params, [])
    values = solara.use_reactive(input_values(inputs))
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            Controls(model, values)
        with solara.Card("New model (applied on Reset)"):
            ModelInputs(inputs, values)
    Panels(model.value)


@solara.component
def Page():
    """The app: one model per browser session, starting with :data:`DEFAULT_CASE`."""
    first = solara.use_memo(ViewModel, [])
    model = solara.use_reactive(first)
    AffiliateView(model)


page = Page


# ---------------------------------------------------------------------- offline assets
def frontend_packages() -> list[str]:
    """npm packages (``name@version``) the page loads through solara's CDN proxy."""
    import ipyvue
    import solara.server.settings as server_settings

    template = (Path(solara.server.__file__).parent / "templates" / "solara.html.j2")
    specs = set(re.findall(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@[\w.+-]+)/",
                           template.read_text(encoding="utf-8")))
    vue3 = ipyvue.__version__.startswith("3")
    specs = {s for s in specs
             if not (vue3 and "/solara-vuetify-app@" in s)
             and not (not vue3 and "/solara-vuetify3-app@" in s)}
    fontawesome = server_settings.assets.fontawesome_path.strip("/").split("/")[0]
    if server_settings.assets.fontawesome_enabled and "@" in fontawesome:
        specs.add(fontawesome)
    return sorted(specs)


def asset_cache() -> Path:
    """Solara's CDN proxy cache (``SOLARA_ASSETS_PROXY_CACHE_DIR``)."""
    import solara.server.settings as server_settings

    return Path(server_settings.assets.proxy_cache_dir)


def missing_frontend_packages() -> list[str]:
    """The :func:`frontend_packages` not yet in solara's proxy cache."""
    return [s for s in frontend_packages() if not (asset_cache() / s / "package.json").is_file()]


def fetch_frontend_packages(npm: str = "npm") -> list[str]:
    """Put the missing front-end packages into solara's proxy cache, from the npm registry.

    Solara normally fetches them from a public CDN on first use; on a machine that reaches
    only the package registries (CI, this project's sandboxes) the page stays blank without
    them. Idempotent; returns the packages fetched.
    """
    missing = missing_frontend_packages()
    cache = asset_cache()
    for spec in missing:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", tmp],
                                 check=True, capture_output=True, text=True)
            tgz = Path(tmp) / out.stdout.strip().splitlines()[-1]
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tgz) as tar:
                tar.extractall(unpacked, filter="data")
            target = cache / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(unpacked / "package"), target)
    return missing


# `python -m affiliate_sim.viz.app --fetch-assets`. (`solara run` executes this file as
# __main__ too, with its own arguments: then this does nothing.)
if __name__ == "__main__" and sys.argv[1:] == ["--fetch-assets"]:
    got = fetch_frontend_packages()
    print(f"solara front-end packages in {asset_cache()}: "
          + (f"fetched {', '.join(got)}" if got else "all present"))
