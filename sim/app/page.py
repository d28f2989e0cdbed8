"""The strategist's page (Solara): pick a scenario, move a lever, see what changes.

Only drawing and wiring live here; the scenario, the runs, the validation and the charts
are :class:`sim.app.state.Session`'s. The simulation runs in the session's background
thread, which hands over a :class:`~sim.app.state.Frame` (charts as PNG, KPI figures) at
the redraw cadence, so the page stays responsive while the model runs.

Start it with ``momentsim ui [SCENARIO]`` (``sim/app/serve.py``).
"""

from __future__ import annotations

import os
from typing import Any, Callable

import solara

from ..params import ScenarioError
from ..scenario import EVENT_LEVERS, shipped
from .state import (BRAND_LEVERS, LABELS, MARKET_LEVERS, SETUP_KEYS, SPEEDS, STOP_WAIT, Frame, Session,
                    lever_key, schema_of, show)

SCENARIO_ENV = "MOMENTSIM_SCENARIO"  # set by `momentsim ui SCENARIO` (serve.py)

CSS = """
.momentsim-kpi { min-width: 250px; }
.momentsim-kpi .v-card__title { padding-bottom: 4px; }
.momentsim-kpi table { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
.momentsim-kpi td { padding: 1px 4px; }
.momentsim-kpi td.num { text-align: right; font-variant-numeric: tabular-nums; }
.momentsim-kpi td.delta { text-align: right; color: #666; font-size: 0.8rem; }
.momentsim-day { font-size: 1.3rem; font-weight: 600; margin: 0 12px; }
.momentsim-chart img { width: 100%; height: auto; }
.momentsim-about p { margin-bottom: 6px; }
"""


@solara.component
def Page():
    session: Session = solara.use_memo(lambda: Session(os.environ.get(SCENARIO_ENV, "baseline")), [])
    frame, set_frame = solara.use_state(None)
    running, set_running = solara.use_state(False)
    generation, set_generation = solara.use_state(0)  # bumped when the scenario changes: fresh fields
    load_error, set_load_error = solara.use_state("")

    def draw(until: int | None = None, keep_running: bool = False) -> None:
        """(Re)start the background run to ``until`` (None: the last day), redrawing as it goes."""
        stop = None

        def done():
            if session._stop is stop:
                set_running(False)

        set_running(keep_running)
        stop = session.start(set_frame, until=until, on_done=done)

    solara.use_effect(lambda: (draw(0), session.stop)[1], [])  # day 0 on open; stop on close

    def changed() -> None:
        """A lever or an intervention changed: rerun the what-if to where we were."""
        day, was_running = _day(frame), session.running
        draw(None if was_running else day, keep_running=was_running)

    def start_over(load_it: Callable[[], None]) -> None:
        """Load a scenario with ``load_it``: a mistake is shown and the loaded scenario stays."""
        try:
            load_it()
        except ScenarioError as exc:
            set_load_error(str(exc))
            return
        set_load_error("")
        set_generation(generation + 1)
        draw(0)

    def load(scenario: Any) -> None:
        start_over(lambda: session.load(scenario))

    def on_upload(file: dict) -> None:
        start_over(lambda: session.load_text(file["data"], file["name"]))

    solara.Style(CSS)
    solara.Title("momentsim")
    with solara.AppBarTitle():
        solara.Text("momentsim — what-if studio")

    with solara.Sidebar():
        with solara.Column(style={"padding": "4px"}):
            names = list(shipped())
            current = session.name if session.name in names else None
            solara.Select("Scenario", values=names, value=current, on_value=load, classes=["momentsim-scenario"])
            solara.FileDrop(label="…or drop a scenario TOML file here", on_file=on_upload, lazy=False)
            if load_error:
                solara.Error(load_error, classes=["momentsim-load-error"])
            with solara.Card("Market set-up (both runs)", margin=0):
                for key in SETUP_KEYS:
                    Field(session, key, changed).key(f"{generation}-{key}")
            with solara.Card("What-if levers", subtitle="change the copy; the scenario runs as it is",
                             margin=0, style={"margin-top": "8px"}):
                for key in MARKET_LEVERS:
                    Field(session, key, changed).key(f"{generation}-{key}")
                for brand in session.brands:
                    with solara.Details(f"brand: {brand}", expand=brand == session.brands[0]):
                        for lever in BRAND_LEVERS:
                            Field(session, lever_key(brand, lever), changed,
                                  label=LABELS[lever]).key(f"{generation}-{brand}-{lever}")
                Intervention(session, changed, len(session.interventions)).key(f"{generation}-intervention")
                solara.Button("Back to the scenario (clear changes)", text=True, color="primary",
                              on_click=lambda: (session.clear_changes(), set_generation(generation + 1),
                                                changed()),
                              disabled=not session.comparing)

    with solara.Column(style={"padding": "8px 16px"}):
        Controls(session, frame, running, draw, set_running, set_frame)
        About(session).key(f"about-{generation}")
        if frame is not None:
            Dashboard(session, frame, lambda brand: (setattr(session, "network_brand", brand),
                                                     None if session.running else draw(_day(frame))))


def _day(frame: Frame | None) -> int:
    return frame.day if frame is not None else 0


@solara.component
def Field(session: Session, key: str, on_change, label: str | None = None):
    """A lever's text field: a refused value shows the message and leaves the old one in force."""
    text, set_text = solara.use_state(show(session.value(key)))
    error, set_error = solara.use_state("")
    param = schema_of(key)

    def commit(value: str | None) -> None:
        set_text(value or "")
        message = session.set_value(key, value or "")
        if message:
            set_error(f"{message} (still {show(session.value(key))})")
            return
        set_error("")
        on_change()

    label = label or LABELS.get(key, key)
    if param.choices:
        choices = [c for c in param.choices if c != "file" or session.value(key) == "file"]
        solara.Select(label, values=choices, value=session.value(key), on_value=commit)
    else:
        solara.InputText(f"{label} ({param.expected().removeprefix('a number ').removeprefix('an integer ')})",
                         value=text, on_value=commit, error=bool(error), message=error or None,
                         classes=[f"lever-{key.replace('.', '-')}"])


@solara.component
def Intervention(session: Session, on_change, count: int):
    """Add a timed intervention to the what-if copy: on day D, brand B's lever L becomes V."""
    del count  # a prop only so that the list below is redrawn when an intervention is added
    brand, set_brand = solara.use_state(session.brands[0])
    lever, set_lever = solara.use_state("quality")
    day, set_day = solara.use_state("120")
    value, set_value = solara.use_state("0.35")
    error, set_error = solara.use_state("")

    def add() -> None:
        message = session.add_intervention(brand, lever, day, value)
        set_error(message or "")
        if not message:
            on_change()

    with solara.Details("Add a timed intervention", expand=False):
        with solara.Row():
            solara.Select("brand", values=session.brands, value=brand, on_value=set_brand, dense=True)
            solara.Select("lever", values=list(EVENT_LEVERS), value=lever, on_value=set_lever, dense=True)
        with solara.Row():
            solara.InputText("on day", value=day, on_value=set_day, dense=True, continuous_update=True)
            solara.InputText("set to", value=value, on_value=set_value, dense=True, continuous_update=True)
        solara.Button("Add intervention", on_click=add, outlined=True, color="primary",
                      classes=["momentsim-add-intervention"])
        if error:
            solara.Error(error, dense=True)
    for event in session.interventions:
        solara.Text(f"day {event['day']}: {event['brand']}.{event['lever']} = {event['value']}",
                    style={"font-size": "0.85rem"})


@solara.component
def Controls(session: Session, frame: Frame | None, running: bool, draw, set_running, set_frame):
    def run() -> None:
        draw(None, keep_running=True)

    def pause() -> None:
        session.stop(wait=STOP_WAIT)
        set_frame(session.frame())  # the day the run stopped on, not the last redraw's
        set_running(False)

    def step() -> None:
        session.stop()
        draw(min(session.day + 1, session.steps))

    def reset() -> None:
        session.stop()
        session.reset()
        draw(0)

    def speed(label: str) -> None:
        session.speed = SPEEDS[label]

    speed_label = next(k for k, v in SPEEDS.items() if v == session.speed)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        if running:
            solara.Button("Pause", icon_name="mdi-pause", on_click=pause, color="primary",
                          classes=["momentsim-pause"])
        else:
            solara.Button("Run", icon_name="mdi-play", on_click=run, color="primary",
                          disabled=session.finished, classes=["momentsim-run"])
        solara.Button("Step", icon_name="mdi-step-forward", on_click=step, outlined=True,
                      disabled=running or session.finished, classes=["momentsim-step"])
        solara.Button("Reset", icon_name="mdi-restore", on_click=reset, outlined=True,
                      classes=["momentsim-reset"])
        with solara.Div(style={"width": "140px"}):
            solara.Select("Speed", values=list(SPEEDS), value=speed_label, on_value=speed, dense=True,
                          classes=["momentsim-speed"])
        day = _day(frame)
        solara.HTML(tag="span", unsafe_innerHTML=f"Day {day} / {session.steps}",
                    classes=["momentsim-day"], attributes={"data-day": str(day)})
        if frame is not None and frame.comparing:
            solara.Text("comparing: scenario (dashed) vs what-if (solid), same seed",
                        classes=["momentsim-comparing"], style={"color": "#555"})


@solara.component
def About(session: Session):
    """The scenario's own guide: what it shows, things to notice, things to try."""
    about = session.about
    title = about.get("title", session.name)
    with solara.Details(f"About this scenario: {title}", expand=False):
        with solara.Column(classes=["momentsim-about"]):
            if about.get("summary"):
                solara.Text(about["summary"], style={"font-weight": "600"})
            for heading, key in (("What it shows", "what_it_shows"), ("Things to notice", "things_to_notice"),
                                 ("Things to try", "things_to_try")):
                value = about.get(key)
                if not value:
                    continue
                items = value if isinstance(value, list) else [" ".join(value.split())]
                solara.HTML(tag="div", unsafe_innerHTML=f"<b>{heading}</b>" + (
                    "<ul>" + "".join(f"<li>{_escape(i)}</li>" for i in items) + "</ul>"
                    if isinstance(value, list) else f"<p>{_escape(items[0])}</p>"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@solara.component
def Dashboard(session: Session, frame: Frame, on_network_brand):
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for kpi in frame.kpis:
            KpiCard(kpi)
    Chart(frame, "sentiment", "headline")
    with solara.Columns([1, 1]):
        Chart(frame, "funnel")
        Chart(frame, "share")
    with solara.Columns([1, 1]):
        Chart(frame, "conversation")
        Chart(frame, "rating")
    with solara.Columns([1, 1]):
        with solara.Column():
            solara.Select("Network view: attitude toward", values=session.brands,
                          value=session.network_brand, on_value=on_network_brand, dense=True)
            if frame.network_note:
                solara.Text(f"Shown: {frame.network_note}.", classes=["momentsim-network-note"])
            Chart(frame, "network")
        Exports(session, frame.day, frame.comparing)


@solara.component
def Chart(frame: Frame, name: str, extra: str = ""):
    if name in frame.images:
        with solara.Div(classes=["momentsim-chart", f"momentsim-chart-{name}", extra]):
            solara.Image(frame.images[name], format="png")


def _money(value: float) -> str:
    return f"{value:,.0f}"


@solara.component
def KpiCard(kpi: dict[str, Any]):
    """A brand's figures today; with a what-if, the change against the scenario run."""
    base = kpi.get("scenario")
    rows = [("sentiment", "sentiment (−1 to 1)", lambda v: f"{v:+.3f}"),
            ("market_share", "market share (28 days)", lambda v: f"{v:.1%}"),
            ("rating", "public rating", lambda v: f"{v:.2f} ★"),
            ("revenue", "revenue so far", _money),
            ("acquisitions", "customers won", lambda v: f"{v:,}"),
            ("acquisition_cost", "…their cost", _money),
            ("retentions", "customers kept", lambda v: f"{v:,}"),
            ("retention_cost", "…their cost", _money)]
    html = ["<table>"]
    for key, label, fmt in rows:
        delta = ""
        if base is not None:
            d = kpi[key] - base[key]
            delta = ("+" if d > 0 else "") + (f"{d:.1%}" if key == "market_share" else
                                               f"{d:.3f}" if key == "sentiment" else
                                               f"{d:.2f}" if key == "rating" else f"{d:,.0f}")
        html.append(f"<tr><td>{label}</td><td class='num'>{fmt(kpi[key])}</td>"
                    f"<td class='delta'>{delta}</td></tr>")
    html.append("</table>")
    title = kpi["brand"] + (" (what-if; change vs scenario)" if base is not None else "")
    with solara.Card(classes=["momentsim-kpi"], margin=0,
                     style={"border-top": f"4px solid {kpi['colour']}", "flex": "1"}):
        solara.HTML(tag="div", unsafe_innerHTML=f"<div style='font-weight:600;color:{kpi['colour']}'>"
                                                f"{_escape(title)}</div>" + "".join(html))


@solara.component
def Exports(session: Session, day: int, comparing: bool):
    """The current run: its table (CSV), its resolved scenario (TOML, reruns exactly), the charts (PNG)."""
    def name(suffix: str) -> str:
        return f"{session.name}-day{day}{suffix}"

    with solara.Card("Export the current run", margin=0):
        solara.Text("The CSV has one row a day, day 0 included; the TOML reruns it exactly with "
                    "momentsim run.", style={"font-size": "0.85rem"})
        runs = [("base", "scenario")] + ([("changed", "what-if")] if comparing else [])
        for which, label in runs:
            with solara.Row(style={"flex-wrap": "wrap"}):
                solara.FileDownload(lambda which=which: session.result(which).csv(),
                                    filename=name(f"-{label}-timeseries.csv"),
                                    label=f"{label}: timeseries CSV", mime_type="text/csv")
                solara.FileDownload(lambda which=which: session.result(which).scenario.to_toml(),
                                    filename=name(f"-{label}-scenario.toml"),
                                    label=f"{label}: scenario TOML", mime_type="application/toml")
        solara.FileDownload(session.charts_png, filename=name("-charts.png"), label="charts: PNG",
                            mime_type="image/png")


__all__ = ["Page"]
