"""The strategist's page (Solara): pick a scenario, move a lever, see what changes.

Only drawing and wiring live here; the scenario, the runs, the validation and the charts
are :class:`sim.app.state.Session`'s. The simulation runs in the session's background
thread, which hands a :class:`~sim.app.state.Frame` (charts as PNG, KPI figures) to a
:class:`Hub` at the redraw cadence. Only the components that show a frame (the controls'
day counter and the dashboard) listen to the hub, so a frame redraws the charts and the
controls, never the sidebar.

Whether a run is going is the session's (``Session.running``), read at every render: the
Run/Pause button cannot disagree with the run.

Start it with ``momentsim ui [SCENARIO] [--library DIR]`` (``sim/app/serve.py``).
"""

from __future__ import annotations

import os
import threading
import typing
from typing import Any, Callable, Optional, cast

import solara
import solara.hooks as hooks
from solara.components.file_drop import FileDropZone
from solara.components.input import use_change
from ipyvuetify import VuetifyTemplate
import traitlets

from .. import kernels
from ..params import ScenarioError
from ..scenario import EVENT_LEVERS, shipped
from . import words
from .library import SCENARIO_ENV, Library
from .state import (BRAND_LEVERS, MARKET_LEVERS, REDRAW_INTERVAL, SETUP_KEYS, SPEEDS, Frame, Session, lever_key,
                    schema_of, show)

# The array engine's compiled loops, loaded (or, on a fresh install, compiled) once as the server starts
# rather than in a user's first array-engine run: their memory is the server's from the start.
kernels.warm()

MINE = "my library: "  # how the picker shows a library entry

CSS = """
.momentsim-kpi { min-width: 240px; }
.momentsim-kpi table { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
.momentsim-kpi td { padding: 1px 4px; }
.momentsim-kpi td.num { text-align: right; font-variant-numeric: tabular-nums; }
.momentsim-kpi td.delta { text-align: right; color: #666; font-size: 0.8rem; }
.momentsim-day { font-size: 1.3rem; font-weight: 600; margin: 0 12px; white-space: nowrap; }
.momentsim-chart img { width: 100%; height: auto; display: block; }
.momentsim-about p { margin-bottom: 6px; }
.momentsim-help { font-size: 0.75rem; color: #555; line-height: 1.25; margin: -4px 0 8px 0; }
.momentsim-field .v-messages__message { line-height: 1.25; }
.momentsim-pending .v-messages__message { color: #b26a00; font-weight: 600; }
.momentsim-events li { font-size: 0.85rem; margin-bottom: 2px; }
.momentsim-controls .v-btn { min-height: 40px; }
.momentsim-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 8px;
                  width: 100%; }
.momentsim-grid > * { min-width: 0; }
/* Phones: the sidebar opens over the page from the menu button, and fits the screen. */
@media (max-width: 600px) {
  .v-navigation-drawer { min-width: 0 !important; width: 90vw !important; max-width: 90vw !important; }
  .momentsim-grid { grid-template-columns: 1fr; }
  .momentsim-kpi { min-width: 0; width: 100%; }
  .v-toolbar__title { font-size: 1rem; }
}
"""


class Hub:
    """Hands each new frame (and each change of run state) to the components that show it.

    The run's thread only *posts* its frames here; they are handed to the page from the page's
    own thread, by :class:`Ticker` (a timer in the browser, every ``REDRAW_INTERVAL``) or by a
    handler. So the page is only ever redrawn from one thread: a redraw from the run's thread
    while a click was being handled could lose part of either.
    """

    def __init__(self):
        self.frame: Frame | None = None  # the frame shown
        self.latest: Frame | None = None  # the newest frame posted by the run
        self.listeners: dict[str, Callable[[Frame | None], None]] = {}
        self.lock = threading.Lock()
        self.ended = False  # a run ended since the last delivery
        self.tasks: list[Callable[[], None]] = []  # work posted from another thread, for the page's thread

    def call_soon(self, task: Callable[[], None]) -> None:
        """From another thread (an upload's): run ``task`` in the page's thread at the next tick.

        Redrawing the page from two threads at once loses state changes: a value typed while an
        upload's thread was redrawing the page was dropped, and so could a click be."""
        with self.lock:
            self.tasks.append(task)

    def post(self, frame: Frame) -> None:
        """From the run's thread: the newest frame, to be shown at the next tick."""
        with self.lock:
            shown = self.frame
            if shown is not None and frame.version == shown.version and frame.day < shown.day:
                return  # a stopped run's last frame, older than what a handler showed since
            self.latest = frame

    def post_end(self) -> None:
        with self.lock:
            self.ended = True

    def waiting(self) -> bool:
        return self.latest is not self.frame or self.ended

    def deliver(self) -> None:
        """From the page's thread: run posted tasks; show the newest frame, and a run's end."""
        with self.lock:
            tasks, self.tasks = self.tasks, []
        for task in tasks:
            task()
        with self.lock:
            news = self.latest is not self.frame or self.ended
            self.ended = False
        if news:
            self.publish(self.latest)

    def publish(self, frame: Frame | None) -> None:
        """From the page's thread: show ``frame`` (None: the same frame, the run state changed)."""
        with self.lock:
            if frame is not None:
                self.frame = self.latest = frame
            listeners = list(self.listeners.values())
        for listener in listeners:
            listener(frame)


class Ticker(VuetifyTemplate):
    """A timer in the browser: while ``active``, it calls back every ``interval`` ms."""

    template = traitlets.Unicode("""
<template><span class="momentsim-ticker" :data-active="String(active)"></span></template>
<script>
module.exports = {
  mounted() {
    // Every interval while active; once every idle_every intervals when not (posted tasks).
    let n = 0;
    this.timer = setInterval(() => {
      n += 1;
      if (this.active || (this.idle_every > 0 && n % this.idle_every === 0)) { this.tick(); }
    }, this.interval);
  },
  destroyed() { clearInterval(this.timer); },
}
</script>
""").tag(sync=True)
    active = traitlets.Bool(False).tag(sync=True)
    interval = traitlets.Int(250).tag(sync=True)
    idle_every = traitlets.Int(0).tag(sync=True)  # 0: never when idle
    callback: Callable[[], None] | None = None

    def vue_tick(self, data=None):
        if self.callback is not None:
            self.callback()


@solara.component
def Clock(session: Session, hub: Hub):
    """Delivers the run's frames to the page while a run is going (or a frame is waiting)."""
    use_hub(hub, "clock")
    element = Ticker.element(active=session.busy or hub.waiting(), interval=int(REDRAW_INTERVAL * 1000),
                             idle_every=2)  # idle: twice a second, for tasks posted by other threads

    def attach():
        solara.get_widget(element).callback = hub.deliver

    solara.use_effect(attach, [])
    return element


def use_hub(hub: Hub, name: str) -> Frame | None:
    """The latest frame; the calling component is redrawn on every publish."""
    _, set_tick = solara.use_state(0)

    def listen():
        hub.listeners[name] = lambda _frame: set_tick(lambda t: t + 1)
        return lambda: hub.listeners.pop(name, None)

    solara.use_effect(listen, [])
    return hub.frame


def use_fresh_state(make: Callable[[], Any], generation: int):
    """Like ``use_state``, but back to ``make()`` whenever ``generation`` changes.

    (A component is started afresh through a prop, not a changed ``.key``: Reacton here does not
    always redraw a child whose key alone changed.)
    """
    stored, set_stored = solara.use_state(cast(Any, None))
    # The generation a setter stores is the one of the latest render, not of the render that made the
    # setter: a widget may still hold an older render's callback (after a file was dropped, say), and a
    # value typed there must not be stored under a stale generation and silently lost.
    latest = solara.use_ref(generation)
    latest.current = generation
    value = stored[1] if stored is not None and stored[0] == generation else make()
    return value, lambda new: set_stored((latest.current, new))


@solara.component
def Layout(children=[]):
    # sidebar_open=None: Vuetify decides, open on a wide screen and closed on a phone or a tablet
    # (below 960 px), where the menu button in the bar opens it over the page.
    return solara.AppLayout(children=children, sidebar_open=cast(bool, None))


@solara.component
def Page():
    session: Session = solara.use_memo(lambda: Session(os.environ.get(SCENARIO_ENV, "baseline")), [])
    library: Library = solara.use_memo(Library, [])
    hub: Hub = solara.use_memo(Hub, [])
    generation, set_generation = solara.use_state(0)  # fresh fields after a load or a clear
    revision, set_revision = solara.use_state(0)  # the sidebar's lists after a change
    load_error, set_load_error = solara.use_state("")
    saved, set_saved = solara.use_state("")  # what the last save to the library said
    if not hasattr(session, "picked"):
        session.picked = session.name if session.name in shipped() else ""  # the picker's label

    def draw(until: int | None = None) -> None:
        """(Re)start the background run to ``until`` (None: the last day), redrawing as it goes."""
        session.start(hub.post, until=until, on_done=hub.post_end)
        hub.publish(None)  # the controls show the run has started; the clock starts ticking

    def on_close():
        session.close()  # stop the run, let go of the models (the tab is closed)
        hub.listeners.clear()

    solara.use_effect(lambda: (draw(0), on_close)[1], [])  # day 0 on open

    def changed() -> None:
        """A lever or an intervention changed: rerun the what-if to where we were."""
        was_running = session.running
        # The day one was on: if the redraw after an earlier change is still on its way there (two
        # interventions added in quick succession), that day, not the day the redraw has reached.
        heading = session.redrawing_to
        day = heading if heading is not None else hub.frame.day if hub.frame is not None else 0
        draw(None if was_running else day)
        set_revision(lambda r: r + 1)

    def start_over(load_it: Callable[[], Any], label: str) -> bool:
        """Load a scenario with ``load_it``: a mistake is shown and the loaded scenario stays."""
        try:
            load_it()
        except ScenarioError as exc:
            set_load_error(str(exc))
            return False
        set_load_error("")
        session.picked = label
        set_generation(lambda g: g + 1)
        set_revision(lambda r: r + 1)
        draw(0)
        return True

    def pick(label: str) -> None:
        if label.startswith(MINE):
            start_over(lambda: session.load(library.load(label.removeprefix(MINE))), label)
        else:
            start_over(lambda: session.load(label), label)

    def on_upload(file: dict) -> None:
        name = file["name"]

        def load_and_keep():
            session.load_text(file["data"], name)
            try:
                library.add_file(name, file["data"].decode("utf-8"))
            except ScenarioError:
                pass  # shown, but not kept: the library folder cannot be written

        # In the page's thread (this runs in the upload's): one thread redraws the page.
        hub.call_soon(lambda: start_over(load_and_keep, MINE + os.path.splitext(os.path.basename(name))[0]))

    solara.Style(CSS)
    solara.Title("momentsim")
    with solara.AppBarTitle():
        solara.Text("momentsim — what-if studio")

    with solara.Sidebar():
        with solara.Column(style={"padding": "4px", "max-width": "560px"}):
            Picker(session, library, hub, pick)
            ScenarioDrop(on_file=on_upload)
            if load_error:
                solara.Error(load_error, classes=["momentsim-load-error"])
            SaveToLibrary(session, library, saved, set_saved,
                          lambda label: (setattr(session, "picked", label), set_revision(lambda r: r + 1),
                                         hub.publish(None)))
            with solara.Card("Market set-up (both runs)", margin=0):
                for key in SETUP_KEYS:
                    Field(session, key, changed, revision, generation).key(key)
            with solara.Card("What-if levers", subtitle="they change the what-if copy; the scenario runs as it is",
                             margin=0, style={"margin-top": "8px"}):
                for key in MARKET_LEVERS:
                    Field(session, key, changed, revision, generation).key(key)
                for brand in session.brands:
                    with solara.Details(f"Brand: {brand}", expand=brand == session.brands[0]):
                        for lever in BRAND_LEVERS:
                            Field(session, lever_key(brand, lever), changed, revision, generation).key(
                                lever_key(brand, lever))
                solara.Button("Back to the scenario (clear changes)", text=True, color="primary",
                              on_click=lambda: (session.clear_changes(), set_generation(lambda g: g + 1),
                                                changed()),
                              disabled=not session.comparing, classes=["momentsim-clear"])
            Events(session, hub, changed)
            Intervention(session, changed, generation)

    with solara.Column(style={"padding": "8px 12px"}):
        Clock(session, hub)
        Controls(session, hub, draw, lambda: set_revision(lambda r: r + 1))
        About(session, hub)
        Replicated(session, hub)
        BudgetPlanner(session, hub)
        Dashboard(session, hub, draw)


# --- the sidebar ---------------------------------------------------------------------------------


@solara.component
def Picker(session: Session, library: Library, hub: Hub, on_pick: Callable[[str], None]):
    """The scenario picker: shipped scenarios, then the library's (redrawn through the hub, so that
    a saved or uploaded scenario is listed at once)."""
    use_hub(hub, "picker")
    names = list(shipped()) + [MINE + n for n in library.names()]
    solara.Select("Scenario", values=names, value=session.picked if session.picked in names else None,
                  on_value=on_pick, classes=["momentsim-scenario"])


@solara.component
def ScenarioDrop(on_file: Callable[[dict], None]):
    """A scenario file by drop, or by click (a file chooser): Solara's drop zone, clickable."""
    file_info, set_file_info = solara.use_state(None)
    wired, set_wired = solara.use_state(cast(Optional[typing.List[dict]], None))
    zone = ScenarioDropZone.element(label="Open a scenario file: click to choose, or drop a TOML file here",
                                    on_file_info=set_file_info, multiple=False)  # type: ignore

    def wire():
        if not file_info:
            return
        real = cast(ScenarioDropZone, solara.get_widget(zone))
        real.version += 1
        real.reset_stats()
        set_wired(cast(typing.List[dict], real.get_files()))

    solara.use_effect(wire, [file_info])

    def handle(cancel: threading.Event):
        if wired:
            file = dict(wired[0])
            file["data"] = file["file_obj"].read()  # here: the upload may still be arriving
            on_file(file)  # posts the load to the page's thread

    result: solara.Result = hooks.use_thread(handle, [wired])
    if result.error:
        raise result.error
    return zone


class ScenarioDropZone(FileDropZone):
    """Solara's drop zone with a file chooser on click (sim/app/scenario_drop.vue)."""
    template_file = (__file__, "scenario_drop.vue")


@solara.component
def SaveToLibrary(session: Session, library: Library, message: str, set_message: Callable[[str], None],
                  on_saved: Callable[[str], None]):
    """Save the current what-if under a name. ``message`` is the page's state (a prop, so that it is
    drawn in the same pass as the picker that lists the new entry)."""
    name, set_name = solara.use_state("")

    def save():
        try:
            path = session.save_to(library, name or session.about.get("title", session.name))
        except ScenarioError as exc:
            set_message(str(exc))
            return
        set_message(f"Saved as {path.stem} in {path.parent}")
        on_saved(MINE + path.stem)

    with solara.Details("Save this what-if to my library", expand=False):
        solara.InputText("Name", value=name, on_value=set_name, continuous_update=True,
                         classes=["momentsim-save-name"])
        solara.Button("Save", on_click=save, outlined=True, color="primary", classes=["momentsim-save"])
        if message:
            solara.Text(message, classes=["momentsim-saved"], style={"font-size": "0.85rem"})


@solara.component
def Field(session: Session, key: str, on_change, revision: int = 0, generation: int = 0):
    """A lever: its label, its value, and a help line (meaning, unit, source).

    A typed value is applied on Enter or on leaving the field (Run and Step apply it too); until
    then the field says it is pending. A refused value shows the message, the old one stays.
    ``revision``: a prop so that the field is redrawn after Run or Step applied typed values;
    ``generation``: the field starts afresh when it changes (a scenario loaded, changes cleared).
    """
    del revision
    text, set_text = use_fresh_state(lambda: session.pending.get(key, show(session.value(key))), generation)
    _, set_tick = solara.use_state(0)
    param = schema_of(key)
    label = words.label(key)
    help_line = words.help_text(key)
    error = session.errors.get(key, "")

    def typed(value) -> None:
        value = value or ""
        set_text(value)
        session.note_typed(key, value)
        set_tick(lambda t: t + 1)

    def commit(value: str | None) -> None:
        value = value if value is not None else ""
        set_text(value)
        version = session.version
        session.set_value(key, value)
        set_tick(lambda t: t + 1)
        if session.version != version:  # taken, and it changed something: rerun
            on_change()

    css = f"lever-{key.replace('.', '-')}"
    if param.choices:
        choices = [c for c in param.choices if c != "file" or session.value(key) == "file"]
        solara.Select(label, values=choices, value=session.value(key), on_value=commit,
                      classes=[css, "momentsim-field"])
        solara.Text(error or help_line, classes=["momentsim-help"])
        return
    pending = key in session.pending
    messages = [error] if error and not pending else \
        ["typed, not applied yet: press Enter (Run and Step apply it)"] if pending else [help_line]
    field = solara.v.TextField(v_model=text, on_v_model=typed, label=label, error=bool(error) and not pending,
                               messages=messages,
                               class_=" ".join([css, "momentsim-field"] + (["momentsim-pending"] if pending else [])))
    use_change(field, commit)  # noqa: SH101 (a field is a choice or a text for good: same hooks)


@solara.component
def Events(session: Session, hub: Hub, on_change):
    """Everything scheduled, numbered as the charts mark it; an added intervention can be removed.
    Redrawn whenever the hub hands over (every change, load and run ends there)."""
    use_hub(hub, "events")
    events = session.events()
    lines = "".join(f"<li class='momentsim-event{' momentsim-event-added' if e['added'] else ''}'>"
                    f"{_escape(e['text'])}</li>" for e in events)
    added = {f"{number}. {e['text']}": e["index"] for number, e in enumerate(events, start=1) if e["added"]}
    chosen, set_chosen = solara.use_state(cast(Optional[str], None))
    with solara.Card("Scheduled events", margin=0, style={"margin-top": "8px"}, classes=["momentsim-events"]):
        # One HTML list and one chooser (their contents change, the widgets stay): robust to redraws.
        solara.HTML(tag="div", unsafe_innerHTML=(f"<ol style='padding-left: 20px'>{lines}</ol>" if events else
                                                 "Nothing is scheduled: add an intervention below."),
                    style={"font-size": "0.85rem"})
        with solara.Row(style={"align-items": "center"}):
            solara.Select("Remove an added intervention", values=list(added),
                          value=chosen if chosen in added else None, on_value=set_chosen, dense=True,
                          disabled=not added, classes=["momentsim-remove-choice"])
            solara.Button("Remove", icon_name="mdi-close", outlined=True, small=True,
                          disabled=chosen not in added, classes=["momentsim-remove-event"],
                          on_click=lambda: (session.remove_intervention(added[chosen]), set_chosen(None),
                                            on_change()) if chosen in added else None)
        solara.HTML(tag="div", unsafe_innerHTML="Marked on every time chart by its number: grey for the "
                    "scenario's own events (both runs), purple for those added here (the what-if only).",
                    classes=["momentsim-help"], style={"margin-top": "6px"})


@solara.component
def Intervention(session: Session, on_change, generation: int):
    """Add a timed intervention to the what-if copy: on day D, brand B's lever L becomes V.
    The form starts afresh when ``generation`` changes (another scenario)."""
    brand, set_brand = use_fresh_state(lambda: session.brands[0], generation)
    lever, set_lever = use_fresh_state(lambda: "quality", generation)
    day, set_day = use_fresh_state(lambda: str(min(120, max(session.steps - 1, 0))), generation)
    value, set_value = use_fresh_state(lambda: session.intervention_default(session.brands[0], "quality"),
                                       generation)
    error, set_error = use_fresh_state(lambda: "", generation)
    lever_names = {words.label(lever_key("x", name)): name for name in EVENT_LEVERS}

    def choose(new_brand: str, new_lever: str) -> None:
        """The value follows the chosen lever: its value in force for that brand."""
        set_brand(new_brand)
        set_lever(new_lever)
        set_value(session.intervention_default(new_brand, new_lever))

    def add() -> None:
        message = session.add_intervention(brand, lever, day, value)
        set_error(message or "")
        if not message:
            on_change()

    with solara.Details("Add a timed intervention", expand=False):
        solara.Select("brand", values=session.brands, value=brand, on_value=lambda b: choose(b, lever), dense=True,
                      classes=["momentsim-event-brand"])
        solara.Select("lever", values=list(lever_names), value=words.label(lever_key("x", lever)),
                      on_value=lambda name: choose(brand, lever_names[name]), dense=True,
                      classes=["momentsim-event-lever"])
        solara.Text(words.help_text(lever_key(brand, lever)), classes=["momentsim-help"])
        with solara.Row():
            solara.InputText("on day", value=day, on_value=set_day, dense=True, continuous_update=True,
                             classes=["momentsim-event-day"])
            solara.InputText("becomes", value=value, on_value=set_value, dense=True, continuous_update=True,
                             classes=["momentsim-event-value"])
        solara.Button("Add intervention", on_click=add, outlined=True, color="primary",
                      classes=["momentsim-add-intervention"])
        if error:
            solara.Error(error, dense=True)


# --- the main column -----------------------------------------------------------------------------


@solara.component
def Controls(session: Session, hub: Hub, draw, on_applied: Callable[[], None]):
    frame = use_hub(hub, "controls")
    running = session.running

    def apply_typed() -> None:
        """Values typed but not confirmed are applied now (their fields show any refusal)."""
        if session.pending:
            session.apply_pending()
            on_applied()  # the fields show what was taken or refused

    def run() -> None:
        apply_typed()
        draw(None)

    def pause() -> None:
        session.stop()
        with session.lock:  # the run steps no further: this is the day it stopped on
            frame = session.frame(network=False)  # at once; the network view follows on Step or Run
        hub.publish(frame)

    def step() -> None:
        session.stop()
        apply_typed()
        with session.lock:
            session.step(1)
            frame = session.frame()
        hub.publish(frame)

    def reset() -> None:
        session.stop()
        with session.lock:
            session.reset()
            frame = session.frame()
        hub.publish(frame)

    def speed(label: str) -> None:
        session.speed = SPEEDS[label]

    speed_label = next(k for k, v in SPEEDS.items() if v == session.speed)
    day = frame.day if frame is not None else 0
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "4px"},
                    classes=["momentsim-controls"]):
        # One button, Run or Pause as the run is now; a click acts on the run as it is then.
        solara.Button("Pause" if running else "Run", icon_name="mdi-pause" if running else "mdi-play",
                      on_click=lambda: pause() if session.running else run(), color="primary",
                      disabled=session.finished and not running,
                      classes=["momentsim-pause" if running else "momentsim-run", "momentsim-toggle"])
        solara.Button("Step", icon_name="mdi-step-forward", on_click=step, outlined=True,
                      disabled=running or (session.finished and not session.busy), classes=["momentsim-step"])
        solara.Button("Reset", icon_name="mdi-restore", on_click=reset, outlined=True,
                      classes=["momentsim-reset"])
        with solara.Div(style={"width": "130px"}):
            solara.Select("Speed", values=list(SPEEDS), value=speed_label, on_value=speed, dense=True,
                          classes=["momentsim-speed"])
        solara.HTML(tag="span", unsafe_innerHTML=f"Day {day} / {session.steps}",
                    classes=["momentsim-day"], attributes={"data-day": str(day),
                                                           "data-running": str(running).lower()})
    # Always there (empty when not comparing): the component keeps one shape. Were this line only
    # drawn while comparing, the first what-if frame would rebuild the row above, and a Run click
    # landing on the old button then (just after adding an intervention, say) was lost (issue 13).
    comparing = frame is not None and frame.comparing
    solara.Text("Comparing: the scenario as it is (dashed) and your what-if (solid), same chance events"
                if comparing else "", classes=["momentsim-comparing"] if comparing else ["momentsim-single"],
                style={"color": "#555", "font-size": "0.9rem"})


def use_polling(active: bool, interval_ms: int = 500):
    """Redraw the calling component every ``interval_ms`` while ``active`` (a background job's
    progress), from the page's own thread (a timer in the browser)."""
    _, set_tick = solara.use_state(0)
    element = Ticker.element(active=active, interval=interval_ms)

    def attach():
        solara.get_widget(element).callback = lambda: set_tick(lambda t: t + 1)

    solara.use_effect(attach, [])
    return element


def _png(figure) -> bytes:
    from .charts import png
    return png(figure, dpi=80)


@solara.component
def Replicated(session: Session, hub: Hub):
    """Replicated what-ifs: the scenario and up to four variants on N paired seeds in worker processes;
    per variant its effect on profit, share and sentiment with a 95 % interval and how sure it is; the
    mean of each arm with the band of the middle 90 % of runs; the report."""
    use_hub(hub, "replicated")  # a lever change shows at once in the variants' list
    replicates, set_replicates = solara.use_state(str(session.replicates))
    name, set_name = solara.use_state("")
    message, set_message = solara.use_state("")
    job = session.compare_job
    running = job is not None and job.running
    use_polling(running)
    arms = session.arms(build=False)  # cheap: redrawn at every frame

    def keep():
        error = session.keep_variant(name)
        set_message(error or "")
        if not error:
            set_name("")
        hub.publish(None)

    def compare():
        try:
            session.compare_replicated(replicates)
        except ScenarioError as exc:
            set_message(str(exc))
            return
        set_message("")
        hub.publish(None)

    def remove(variant: str):
        session.remove_variant(variant)
        hub.publish(None)

    def cancel(job) -> None:
        job.cancel()
        hub.publish(None)

    posterior_path, set_posterior_path = solara.use_state("")

    def use_posterior():
        set_message(session.load_posterior(posterior_path) or "")
        hub.publish(None)

    with solara.Card("How sure is the effect? Replicated what-if", margin=0,
                     classes=["momentsim-replicated"], style={"margin": "8px 0"}):
        solara.HTML(tag="div", unsafe_innerHTML=(
            "The charts below are <b>one</b> possible history (one seed). Here each variant and the scenario "
            "run on the same N seeds (replicate i of every arm shares its chance events), in worker processes; "
            "the page stays live. The effect is the mean of the paired differences, with its 95 % interval."),
            classes=["momentsim-help"], style={"margin": "0 0 8px 0"})
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "6px"}):
            with solara.Div(style={"width": "110px"}):
                solara.InputText("Replicates", value=replicates, on_value=set_replicates, continuous_update=True,
                                 classes=["momentsim-replicates"])
            with solara.Div(style={"width": "200px"}):
                solara.InputText("Variant name", value=name, on_value=set_name, continuous_update=True,
                                 classes=["momentsim-variant-name"])
            solara.Button("Keep this what-if as a variant", on_click=keep, outlined=True, color="primary",
                          disabled=not session.comparing or len(session.variants) >= 4,
                          classes=["momentsim-keep-variant"])
            solara.Button(f"Compare {len(arms)} variant{'s' * (len(arms) != 1)} with replicates",
                          icon_name="mdi-chart-bell-curve", on_click=compare, color="primary",
                          disabled=running or not arms, classes=["momentsim-compare"])
        if arms:
            lines = "".join(f"<li class='momentsim-variant'>{_escape(v.name)}: {_escape(_changes(v.described()))}"
                            f"</li>" for v in arms)
            solara.HTML(tag="div", unsafe_innerHTML=f"<b>Side by side with the scenario</b> (up to 4):<ol>{lines}</ol>",
                        style={"font-size": "0.85rem"})
            if session.variants:
                with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
                    for v in session.variants:
                        solara.Button(f"remove {v.name}", icon_name="mdi-close", small=True, text=True,
                                      on_click=lambda n=v.name: remove(n), classes=["momentsim-remove-variant"])
        with solara.Details("Draw parameters from a calibration posterior", expand=bool(session.posterior_name)):
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "6px"}):
                with solara.Div(style={"min-width": "320px", "flex": "1"}):
                    solara.InputText("posterior.parquet (path on the server, from momentsim calibrate)",
                                     value=posterior_path, on_value=set_posterior_path, continuous_update=True,
                                     classes=["momentsim-posterior-path"])
                solara.Button("Use it", on_click=use_posterior, outlined=True, color="primary",
                              classes=["momentsim-posterior-use"])
                solara.Button("Stop using it", on_click=lambda: (session.clear_posterior(), hub.publish(None)),
                              text=True, disabled=not session.posterior_name, classes=["momentsim-posterior-clear"])
            if session.posterior_name:
                keys = [c for c in session.posterior.columns if c != "weight"]
                solara.Text(f"Each replicate runs at a draw from {session.posterior_name} ({len(session.posterior)} "
                            f"rows; {', '.join(keys)}), the same draw in every arm: the intervals carry the "
                            f"parameters' uncertainty too.", classes=["momentsim-posterior-note"],
                            style={"font-size": "0.85rem"})
        if job_shown(job, message, running, "compare",
                     lambda: f"Running {job.done} of {job.total} runs in worker processes",
                     "The replicated what-if failed", lambda: cancel(job)):
            EffectCards(job.result, job.seconds)


def job_shown(job, message: str, running: bool, kind: str, progress: Callable[[], str], failed: str,
              on_cancel: Callable[[], None]) -> bool:
    """A background job's state under its panel: the form's message, its progress while it runs (with
    a Cancel button), that it was cancelled, its error; True when its result is ready to show."""
    if message:
        solara.Error(message, dense=True, classes=[f"momentsim-{kind}-error"])
    if job is None:
        return False
    if running:
        with solara.Row(style={"align-items": "center", "gap": "8px"}):
            solara.Text(f"{progress()} ({time_since(job)} s)… the page stays live.",
                        classes=[f"momentsim-{kind}-progress"])
            solara.Button("Cancel", icon_name="mdi-close-circle-outline", on_click=on_cancel, outlined=True,
                          small=True, color="error", classes=[f"momentsim-{kind}-cancel"])
        return False
    if job.cancelled:
        solara.Info(f"Cancelled after {job.seconds:.0f} s: its work was dropped and nothing it had found is "
                    f"shown. You can start again.", dense=True, classes=[f"momentsim-{kind}-cancelled"])
        return False
    if job.error:
        solara.Error(f"{failed}: {job.error}", classes=[f"momentsim-{kind}-error"])
        return False
    return True


def time_since(job) -> int:
    import time
    return int(time.perf_counter() - job.started)


def _changes(changes: dict[str, Any]) -> str:
    """A variant's changes in words: 'Price of ours on day 60 → 9, ...'."""
    parts = []
    for key, value in changes.items():
        day, _, dotted = key.rpartition(": ")
        where = f" of {dotted.split('.')[1]}" if dotted.startswith("brands.") else ""
        parts.append(f"{words.label(dotted)}{where}" + (f" on {day}" if day else "") + f" → {show(value)}")
    return ", ".join(parts)


@solara.component
def EffectCards(what_if, seconds: float):
    """The headline of a replicated what-if: the band chart, a card per variant, the details, the report."""
    from . import charts, decide

    cards = solara.use_memo(lambda: decide.headline(what_if), [what_if])
    image = solara.use_memo(lambda: _png(what_if.figure()), [what_if])
    bands = solara.use_memo(lambda: _png(charts.headline_bands(what_if, what_if.scenario.name)), [what_if])
    n = len(what_if.seeds)
    p = what_if.scenario.params
    # The headline: what to decide on is the mean over the seeds and its band, not one history.
    with solara.Div(classes=["momentsim-chart", "momentsim-chart-headline-bands"]):
        solara.Image(bands, format="png")
    solara.Text(f"Headline: mean of {n} random seeds, 90 % band (the middle 90 % of runs) for each arm. "
                "The live charts below are one seed: a demonstration of one possible history.",
                classes=["momentsim-bands-caption"], style={"font-size": "0.85rem", "color": "#555"})
    solara.Text(f"{what_if.scenario.name}: {n} paired replicates a variant, {p['steps']} days, "
                f"{p['population.size']:,} consumers, brand {what_if.brand}, money in {what_if.currency}; "
                f"{len(what_if.values)} runs in {seconds:.1f} s.", classes=["momentsim-compare-done"],
                style={"font-size": "0.85rem", "color": "#555"})
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for card in cards:
            lines = "".join(f"<li class='momentsim-effect momentsim-effect-{line['kpi']}'>{_escape(line['text'])}"
                            f"<br><span class='momentsim-sure {'sure' if line['sure'].startswith('clear') else 'unsure'}'>"
                            f"{_escape(line['sure'])}</span></li>"
                            for line in card["lines"])
            with solara.Card(margin=0, classes=["momentsim-effect-card"], style={"flex": "1", "min-width": "300px"}):
                solara.HTML(tag="div", unsafe_innerHTML=(
                    f"<div style='font-weight:600'>{_escape(card['variant'])}</div>"
                    f"<div class='momentsim-help'>{_escape(_changes(card['changes']))}</div>"
                    f"<ul style='padding-left:18px;font-size:0.9rem'>{lines}</ul>"
                    "<style>.momentsim-effect .sure{color:#1a7f37}.momentsim-effect .unsure{color:#9a6700}</style>"))
    with solara.Div(classes=["momentsim-chart", "momentsim-chart-bands"]):
        solara.Image(image, format="png")
    solara.Text(f"Each arm's mean over the {n} paired runs; the band holds the middle 90 % of runs.",
                style={"font-size": "0.85rem", "color": "#555"})
    with solara.Div(classes=["momentsim-report"]):
        solara.FileDownload(lambda: decide.report_html(what_if),
                            filename=f"{what_if.scenario.name}-what-if-report.html",
                            label="Download the report (HTML, self-contained)", mime_type="text/html")


@solara.component
def BudgetPlanner(session: Session, hub: Hub):
    """A small optimisation of the brand's budget split (sim.decide.optimise) in the background: the
    best split with its interval against the current plan on the same seeds."""
    from . import decide

    use_hub(hub, "planner")  # redrawn when a plan starts (and on a new scenario's brands)
    brand, set_brand = solara.use_state(session.brands[0])
    budget, set_budget = solara.use_state("900")
    trials, set_trials = solara.use_state("8")
    replicates, set_replicates = solara.use_state("2")
    objective, set_objective = solara.use_state(OBJECTIVES[0])
    floor, set_floor = solara.use_state("0")
    message, set_message = solara.use_state("")
    job = session.plan_job
    running = job is not None and job.running
    use_polling(running)

    def plan():
        try:
            request = decide.PlanRequest(brand if brand in session.brands else session.brands[0],
                                         budget=_number(budget, "budget", float),
                                         trials=_number(trials, "trials", int),
                                         replicates=_number(replicates, "replicates", int),
                                         objective=OBJECTIVE_KEYS.get(objective, objective),
                                         profit_floor=_typed(floor))
            session.plan_budget(request)
        except ScenarioError as exc:
            set_message(str(exc))
            return
        set_message("")
        hub.publish(None)

    def cancel(job) -> None:
        job.cancel()
        hub.publish(None)

    with solara.Details("Budget planner: split a budget across ads, review prompts and service", expand=False):
        with solara.Column(classes=["momentsim-planner"]):
            solara.HTML(tag="div", unsafe_innerHTML=(
                "Optuna tries splits of the budget (each on the same paired seeds) over the scenario as set up "
                "(both runs' market, the scenario's levers); the best split is shown beside the current plan. "
                "A small study here; <code>momentsim optimise</code> runs large ones."),
                classes=["momentsim-help"])
            with solara.Row(style={"flex-wrap": "wrap", "gap": "6px", "align-items": "center"}):
                with solara.Div(style={"width": "120px"}):
                    solara.Select("brand", values=session.brands, value=brand if brand in session.brands else
                                  session.brands[0], on_value=set_brand, dense=True, classes=["momentsim-plan-brand"])
                with solara.Div(style={"width": "170px"}):
                    solara.InputText(f"budget per 30 days ({session.currency})", value=budget, on_value=set_budget,
                                     continuous_update=True, classes=["momentsim-plan-budget"])
                with solara.Div(style={"width": "80px"}):
                    solara.InputText("trials", value=trials, on_value=set_trials, continuous_update=True,
                                     classes=["momentsim-plan-trials"])
                with solara.Div(style={"width": "100px"}):
                    solara.InputText("replicates", value=replicates, on_value=set_replicates,
                                     continuous_update=True, classes=["momentsim-plan-replicates"])
                with solara.Div(style={"width": "300px"}):
                    solara.Select("objective: maximise", values=list(OBJECTIVES), value=objective,
                                  on_value=set_objective, dense=True, classes=["momentsim-plan-objective"])
                if OBJECTIVE_KEYS.get(objective) == "sentiment":
                    with solara.Div(style={"width": "190px"}):
                        solara.InputText(f"profit floor ({session.currency})", value=floor, on_value=set_floor,
                                         continuous_update=True, classes=["momentsim-plan-floor"])
                solara.Button("Plan the budget", on_click=plan, color="primary", disabled=running,
                              classes=["momentsim-plan"])
            if job_shown(job, message, running, "plan",
                         lambda: f"Optimising {job.label or 'the plan'}: {job.done} of {job.total} trials done "
                                 f"in worker processes",
                         "The budget plan failed", lambda: cancel(job)):
                PlanResult(job.result, job.seconds)


# The planner's objectives (those of momentsim optimise), as the panel lists them.
OBJECTIVES = ("profit", "NPV (discounted profit)", "market share", "net sentiment, with a profit floor")
OBJECTIVE_KEYS = dict(zip(OBJECTIVES, ("profit", "npv", "share", "sentiment")))


def _typed(text: str):
    """A typed figure as the spec file would hold it (a number, else the text: the spec's check names it)."""
    for kind in (int, float):
        try:
            return kind(text.strip())
        except ValueError:
            pass
    return text


def _number(text: str, key: str, kind):
    try:
        value = kind(text.strip())
    except ValueError:
        raise ScenarioError(f"budget planner: {key}: expected {'an integer' if kind is int else 'a number'}, "
                            f"found {text!r}") from None
    if value <= 0 or value != value:
        raise ScenarioError(f"budget planner: {key}: expected a number > 0, found {text!r}")
    return value


@solara.component
def PlanResult(result, seconds: float):
    from . import decide

    summary = solara.use_memo(lambda: decide.plan_summary(result), [result])
    image = solara.use_memo(lambda: _png(result.response_figure()), [result])
    solara.HTML(tag="div", classes=["momentsim-plan-result"], unsafe_innerHTML=(
        f"<p>Budget {_escape(summary['budget'])}; objective: {_escape(summary['objective'])}; "
        f"{len(result.trials)} trials in {seconds:.0f} s.</p>"
        f"<p><b>Best split: {_escape(summary['split'])}</b>: {_escape(summary['best'])}.</p>"
        f"<p>Current plan, same seeds: {_escape(summary['plan'])}.</p>"
        f"<p>Best minus current plan: <b>{_escape(summary['gain'])}</b>: {_escape(summary['sure'])}. "
        f"The best of many trials flatters itself a little: check it with a replicated what-if.</p>"))
    with solara.Div(classes=["momentsim-chart", "momentsim-chart-response"]):
        solara.Image(image, format="png")


@solara.component
def About(session: Session, hub: Hub):
    """The scenario's own guide: what it shows, things to notice, things to try (keys in words).
    Redrawn through the hub, so that a newly loaded scenario's guide is the one shown."""
    use_hub(hub, "about")
    about = session.about
    title = about.get("title", session.name)
    with solara.Details(f"About this scenario: {title}", expand=False):
        with solara.Column(classes=["momentsim-about"]):
            if about.get("summary"):
                solara.Text(words.plain(about["summary"]), style={"font-weight": "600"})
            for heading, key in (("What it shows", "what_it_shows"), ("Things to notice", "things_to_notice"),
                                 ("Things to try", "things_to_try")):
                value = about.get(key)
                if not value:
                    continue
                items = value if isinstance(value, list) else [" ".join(value.split())]
                items = [_sources(words.plain(i)) for i in items]
                solara.HTML(tag="div", unsafe_innerHTML=f"<b>{heading}</b>" + (
                    "<ul>" + "".join(f"<li>{_escape(i)}</li>" for i in items) + "</ul>"
                    if isinstance(value, list) else f"<p>{_escape(items[0])}</p>"))


def _sources(text: str) -> str:
    """'(seed 001)' -> '(source document 001)': a seed article is a source document to a reader."""
    import re
    return re.sub(r"\bseeds? (\d{3})", lambda m: f"source document {m.group(1)}", text)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@solara.component
def Dashboard(session: Session, hub: Hub, draw):
    frame = use_hub(hub, "dashboard")
    if frame is None:
        return

    def network_brand(brand: str) -> None:
        session.network_brand = brand
        if not session.running:
            hub.publish(session.frame())

    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for kpi in frame.kpis:
            KpiCard(kpi)
    solara.Text("One seed: a demonstration of one possible history. To decide, compare with replicates "
                "above (mean of N random seeds, 90 % band).", classes=["momentsim-one-seed"],
                style={"font-size": "0.85rem", "color": "#555"})
    Chart(frame, "sentiment", "headline")
    with solara.Div(classes=["momentsim-grid"]):
        Chart(frame, "funnel")
        Chart(frame, "share")
        Chart(frame, "conversation")
        Chart(frame, "rating")
        with solara.Column():
            solara.Select("Network view: attitude toward", values=session.brands,
                          value=session.network_brand, on_value=network_brand, dense=True)
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


def kpi_delta(key: str, d: float) -> str:
    """A change against the scenario run: shares in percentage points, money and counts whole."""
    sign = "+" if d > 0 else ""
    if key == "market_share":
        return f"{sign}{d * 100:.1f} pp"
    if key == "sentiment":
        return f"{sign}{d:.3f}"
    if key == "rating":
        return f"{sign}{d:.2f}"
    return f"{sign}{d:,.0f}"


@solara.component
def KpiCard(kpi: dict[str, Any]):
    """A brand's figures today; with a what-if, the change against the scenario run (share in
    percentage points, money in the scenario's currency)."""
    base = kpi.get("scenario")
    cur = kpi.get("currency", "units")
    rows = [("sentiment", "net sentiment (28 days)", lambda v: f"{v:+.3f}"),
            ("market_share", "market share (28 days)", lambda v: f"{v:.1%}"),
            ("rating", "public rating", lambda v: f"{v:.2f} ★"),
            ("revenue", f"revenue so far ({cur})", _money),
            ("profit", f"profit so far ({cur})", _money),
            ("spend", "…spent on ads, prompts, service", _money),
            ("acquisitions", "customers won", lambda v: f"{v:,}"),
            ("acquisition_cost", "…their cost", _money),
            ("retentions", "customers kept", lambda v: f"{v:,}"),
            ("retention_cost", "…their cost", _money)]
    html = ["<table>"]
    for key, label, fmt in rows:
        if key not in kpi:
            continue
        delta = kpi_delta(key, kpi[key] - base[key]) if base is not None else ""
        title = f" title='{words.KPI_HELP}'" if key == "sentiment" else ""
        html.append(f"<tr{title} class='momentsim-kpi-{key}'><td>{label}</td><td class='num'>{fmt(kpi[key])}</td>"
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


__all__ = ["Page", "Layout"]
