"""The app's session: a scenario, its levers, two models in lockstep, and the charts.

Plain Python, no Solara: the page (``page.py``) drives it, and so do the tests and
``benchmarks/bench_app.py``. Data flows one way: scenario -> validated parameters ->
models (:func:`sim.build`) -> recorded tables -> charts and exports.

Two runs with the same seed (common random numbers): the scenario as it is ("doing
nothing") and, once a lever is changed or an intervention added, a changed copy
("what-if"). Market set-up (population, network, seed, days) applies to both; levers and
interventions apply to the what-if copy only, so the difference between the runs is the
effect of the change, not noise.
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import tomli_w

from .. import api, economics
from ..agents import Stage
from ..params import BRAND_SCHEMA, SCHEMA, ScenarioError
from ..scenario import EVENT_LEVERS, Scenario, loads, parse_override, to_document
from . import charts, decide, words
from .live import LiveCharts

# Set-up: the market both runs share.
SETUP_KEYS = ("population.size", "network.kind", "engine", "seed", "steps")
# Levers of the what-if copy: for the market, then for each brand.
MARKET_LEVERS = ("sharing.base_propensity", "sharing.negative_multiplier")
BRAND_LEVERS = ("quality", "price", "ad_intensity", "review_prompting", "service_recovery")
# The app draws every consumer; beyond this a run belongs on the command line.
# Consumers the app runs per engine: the page must stay lively with two runs side by side.
MAX_POPULATION = {"agent": 20_000, "array": 1_000_000}
# Redraw the charts at most this often while running (seconds between frames).
REDRAW_INTERVAL = 0.25
# The network view (thousands of points, slow to compress) is redrawn at most this often while
# running, and always on the day a run stops.
NETWORK_INTERVAL = 1.0
# Speeds offered, in simulated days a second (None: as fast as the machine goes).
STOP_WAIT = 30.0  # seconds to wait for a run to finish the day (and the frame) it is on
SPEEDS = {"1 day/s": 1.0, "5 days/s": 5.0, "20 days/s": 20.0, "max": None}

LABELS = {
    "population.size": "Consumers",
    "network.kind": "Network",
    "engine": "Engine",
    "seed": "Seed",
    "steps": "Days to simulate",
    "sharing.base_propensity": "Sharing propensity",
    "sharing.negative_multiplier": "Negative multiplier",
    "quality": "Quality",
    "price": "Price",
    "ad_intensity": "Ad intensity",
    "review_prompting": "Review prompting",
    "service_recovery": "Service recovery",
}


def lever_key(brand: str, lever: str) -> str:
    return f"brands.{brand}.{lever}"


def schema_of(key: str):
    """The :class:`sim.params.Param` of a dotted key (brand levers included)."""
    if key.startswith("brands."):
        return BRAND_SCHEMA[key.split(".", 2)[2]]
    return SCHEMA[key]


def value_of(scenario: Scenario, key: str) -> Any:
    if key.startswith("brands."):
        _, brand, lever = key.split(".", 2)
        return scenario.params.brand(brand)[lever]
    return scenario.params[key]


def show(value: Any) -> str:
    """A value as a person types it in a field."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass
class Frame:
    """What the page shows at one moment: the day, the charts as PNG, the KPI figures."""
    day: int
    steps: int
    comparing: bool
    images: dict[str, bytes]
    kpis: list[dict[str, Any]]
    network_note: str = ""
    made_in: float = 0.0  # seconds spent drawing it
    version: int = 0  # the session's runs it shows (bumped when they are rebuilt)


@dataclass
class _Cache:
    day: int = -1
    tables: tuple = ()
    layout: tuple | None = None
    layout_key: tuple = ()
    money_day: int = -1
    money: tuple = ()


def release_memory() -> None:
    """Collect what was let go and hand freed memory back to the system: glibc keeps freed blocks of the
    models' arrays in its heap otherwise, and a server that ran a large market would keep its size."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): the allocator decides
        pass


class Session:
    """One user's scenario, levers, runs and charts. Thread-safe: a lock guards the models."""

    def __init__(self, scenario: str | Path | Scenario = "baseline"):
        self.lock = threading.RLock()
        self.speed: float | None = None
        self.network_brand: str | None = None
        self._runner: threading.Thread | None = None
        self._stop = threading.Event()
        # Guards the run state below: a run's end and the next start() never interleave (a run ending
        # as Run was clicked must not mark the new run as over: the click would look dropped).
        self._state = threading.Lock()
        self._active = False  # True from start() until the run's last frame is handed over
        self._until: int | None = None  # the day that run goes to; None: the last day (Run, playing)
        self.live = LiveCharts()
        self.pending: dict[str, str] = {}  # typed in a field, not yet confirmed (Enter or leaving it)
        self.errors: dict[str, str] = {}  # the last refusal of each field, until a value is taken
        self.version = 0  # bumped whenever the runs are rebuilt
        self.replicates = decide.DEFAULT_REPLICATES  # paired seeds of a replicated what-if
        self.compare_job: decide.Job | None = None
        self.posterior: pd.DataFrame | None = None  # a calibration posterior the replicates draw from
        self.posterior_name = ""
        self.plan_job: decide.Job | None = None
        self._frame: Frame | None = None
        self._network_image: bytes | None = None
        self._network_version = -1
        self.load(scenario)

    # --- the scenario --------------------------------------------------------------------

    def load(self, scenario: str | Path | Scenario) -> None:
        """Start over from a shipped scenario's name, a file, or a Scenario; raises ScenarioError."""
        loaded = api.load(scenario)
        self.stop()
        self.cancel_jobs()  # a what-if or a plan of the scenario left behind is no longer wanted
        with self.lock:
            self.scenario = loaded
            self.setup: dict[str, Any] = {}
            self.changes: dict[str, Any] = {}
            self.interventions: list[dict[str, Any]] = []
            self.pending, self.errors = {}, {}
            self.variants: list[decide.Variant] = []
            self.posterior, self.posterior_name = None, ""  # a posterior belongs to its scenario
            self.compare_job = self.plan_job = None  # results of the scenario left behind
            self.network_brand = loaded.params.brand_names[0]
            self.reset()

    def load_text(self, text: str | bytes, filename: str = "uploaded.toml") -> None:
        """Load scenario TOML text or an upload's bytes; raises ScenarioError naming the file."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ScenarioError(f"{filename}: cannot read the scenario file: not UTF-8 text") from None
        self.load(loads(text, path=Path(filename)))

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def about(self) -> dict[str, Any]:
        return self.scenario.about

    @property
    def brands(self) -> list[str]:
        return self.scenario.params.brand_names

    @property
    def base_scenario(self) -> Scenario:
        """The scenario with the market set-up applied: the run of doing nothing."""
        return self.scenario.with_overrides(self.setup, source=self.name) if self.setup else self.scenario

    @property
    def changed_scenario(self) -> Scenario | None:
        """The what-if copy, or None while nothing is changed."""
        if not self.changes and not self.interventions:
            return None
        # Brand levers change on day 0 of the same settled market (sim.what_if): both runs share the burn-in.
        return _with_events(api.what_if(self.base_scenario, self.changes, source=self.name),
                            self.interventions, self.name)

    @property
    def comparing(self) -> bool:
        return self.changed is not None

    def value(self, key: str) -> Any:
        """The value in force for a control: the what-if copy's if there is one."""
        if key in SETUP_KEYS or not self.changes:
            return value_of(self.base_scenario, key)
        return value_of(self.base_scenario.with_overrides(self.changes, source=self.name), key)

    def set_value(self, key: str, text: str) -> str | None:
        """Set a control from what the person typed; the error message, or None if it is taken.

        A refused value leaves the previous one in force. The message is the one the CLI gives
        for the same mistake (``--set key=value``), from :func:`sim.params.check_value`.
        """
        self.pending.pop(key, None)
        _, value = parse_override(f"{key}={text}")
        setup, changes = dict(self.setup), dict(self.changes)
        target = setup if key in SETUP_KEYS else changes
        target[key] = value
        try:
            base = self.scenario.with_overrides(setup, source=self.name) if setup else self.scenario
            engine, size = base.params["engine"], base.params["population.size"]
            if key in ("population.size", "engine") and size > MAX_POPULATION[engine]:
                raise ScenarioError(
                    f"{self.name}: {key}: the app runs the {engine} engine up to "
                    f"{MAX_POPULATION[engine]:,} consumers, found {size:,}; "
                    + ("choose the array engine, or " if engine == "agent" else "")
                    + "run larger markets with momentsim run")
            changed = base.with_overrides(changes, source=self.name)
            _with_events(changed, self.interventions, self.name)
        except ScenarioError as exc:
            self.errors[key] = f"{exc} (still {show(self.value(key))})"
            return str(exc)
        self.errors.pop(key, None)
        if key not in SETUP_KEYS and value_of(changed, key) == value_of(base, key):
            changes.pop(key)  # back to the scenario's value: no longer a change
        if (setup, changes) != (self.setup, self.changes):
            with self.lock:
                self.setup, self.changes = setup, changes
                self.reset()
        return None

    def add_intervention(self, brand: str, lever: str, day: str, value: str) -> str | None:
        """A timed intervention in the what-if copy: on ``day``, ``brand``'s ``lever`` becomes ``value``."""
        event = {"day": parse_override(f"day={day}")[1], "brand": brand, "lever": lever,
                 "value": parse_override(f"value={value}")[1]}
        try:
            if lever not in EVENT_LEVERS:
                raise ScenarioError(f"{self.name}: events: lever: expected one of {', '.join(EVENT_LEVERS)}, "
                                    f"found {lever!r}")
            _with_events(self.base_scenario.with_overrides(self.changes, source=self.name),
                         self.interventions + [event], self.name)
        except ScenarioError as exc:
            return str(exc)
        with self.lock:
            self.interventions.append(event)
            self.reset()
        return None

    def remove_intervention(self, index: int) -> None:
        """Take one added intervention out of the what-if copy (the others stay)."""
        with self.lock:
            if 0 <= index < len(self.interventions):
                del self.interventions[index]
                self.reset()

    def events(self) -> list[dict[str, Any]]:
        """Everything scheduled, by day: the scenario's own events (both runs) and the
        interventions added here (the what-if copy only, ``added`` True, ``index`` into
        :attr:`interventions`). Each with ``text``: what happens, in words."""
        listed = [{"day": e.day, "brand": e.brand, "lever": e.lever, "value": e.value, "added": False}
                  for e in self.base_scenario.params.events]
        listed += [{**e, "added": True, "index": i} for i, e in enumerate(self.interventions)]
        listed.sort(key=lambda e: (e["day"], e["added"]))
        for e in listed:
            e["text"] = f"day {e['day']}: {words.event_text(e['lever'], e['value'], e['brand'])}" + (
                " (what-if only)" if e["added"] else " (scenario, both runs)")
        return listed

    def intervention_default(self, brand: str, lever: str) -> str:
        """The intervention form's starting value: the lever's value in force for that brand."""
        return show(self.value(lever_key(brand, lever)))

    # --- values typed but not yet confirmed ------------------------------------------------------

    def note_typed(self, key: str, text: str) -> None:
        """A field's text as typed; pending until confirmed (Enter, leaving the field, Run, Step)."""
        if text == show(self.value(key)):
            self.pending.pop(key, None)
        else:
            self.pending[key] = text

    def apply_pending(self) -> dict[str, str]:
        """Confirm every typed value (Run and Step do): the refused ones' messages by key."""
        errors = {}
        for key, text in list(self.pending.items()):
            message = self.set_value(key, text)
            if message:
                errors[key] = message
        self.pending = {}
        return errors

    def change_summary(self) -> str:
        """The what-if's changes in words (the set-up too), for a saved scenario's guide."""
        parts = []
        for key, value in {**self.setup, **self.changes}.items():
            where = f" of {key.split('.')[1]}" if key.startswith("brands.") else ""
            before = value_of(self.scenario, key)
            parts.append(f"{words.label(key)}{where}: {show(before)} → {show(value)}")
        parts += [f"{e['text'].removesuffix(' (what-if only)')}" for e in self.events() if e["added"]]
        return "; ".join(parts)

    def save_to(self, library, name: str) -> Path:
        """Save the current what-if (or the scenario with its set-up, if nothing is changed) as
        ``name`` in ``library`` (:class:`sim.app.library.Library`); raises ScenarioError."""
        title = self.about.get("title", self.name)
        changes = self.change_summary()
        summary = f"Saved from “{title}”" + (f", with these changes: {changes}." if changes else ".")
        # Saved as a scenario of its own: the changed levers as its values (it settles with them when reopened).
        saved = (_with_events(self.base_scenario.with_overrides(self.changes, source=self.name), self.interventions,
                              self.name) if self.changed_scenario is not None else self.base_scenario)
        return library.save(name, saved, summary)

    # --- variants and decisions (sim/app/decide.py) -------------------------------------------------

    def keep_variant(self, name: str = "") -> str | None:
        """Keep the current what-if as a named variant (up to four); the error message, or None."""
        name = " ".join(name.split()) or f"variant {len(self.variants) + 1}"
        if not self.comparing:
            return "Nothing to keep: change a lever or add an intervention first"
        if len(self.variants) >= decide.MAX_VARIANTS:
            return f"Up to {decide.MAX_VARIANTS} variants: remove one first"
        if name == decide.BASE_ARM or any(v.name == name for v in self.variants):
            return f"The name {name!r} is taken: pick another"
        if any(v.changes == self.changes and v.interventions == self.interventions for v in self.variants):
            return "This what-if is kept already"
        self.variants.append(decide.Variant(name, dict(self.changes), [dict(e) for e in self.interventions]))
        return None

    def remove_variant(self, name: str) -> None:
        self.variants = [v for v in self.variants if v.name != name]

    def arms(self, build: bool = True) -> list[decide.Variant]:
        """The variants a replicated what-if compares with the scenario: those kept, and the current
        what-if if it is not one of them (named "what-if"), each on the current set-up (``build``
        False: names and changes only, for the page to list them at every frame)."""
        arms = [decide.Variant(v.name, v.changes, v.interventions) for v in self.variants]
        if self.comparing and not any(v.changes == self.changes and v.interventions == self.interventions
                                      for v in arms):
            taken = {v.name for v in arms}
            name = next(n for n in ("what-if", *(f"what-if {i}" for i in range(2, 9))) if n not in taken)
            arms.append(decide.Variant(name, dict(self.changes), [dict(e) for e in self.interventions]))
        if not build:
            return arms
        base = self.base_scenario
        for v in arms:
            v.scenario = _with_events(api.what_if(base, v.changes, source=self.name), v.interventions, self.name)
        return arms

    def compare_replicated(self, replicates: int | str | None = None,
                           on_done: Callable[[Any], None] | None = None, executor: Any = None):
        """Start the replicated what-if of :meth:`arms` (``replicates`` paired seeds, default
        :attr:`replicates`) in the background; the :class:`sim.app.decide.Job`, also kept as
        :attr:`compare_job`. Raises ScenarioError for a mistake (too many variants, bad replicates)."""
        if replicates is None:
            replicates = self.replicates
        if isinstance(replicates, str):
            text = replicates.strip()
            if not text.isdigit():
                raise ScenarioError(f"{self.name}: replicates: expected an integer from 1 to "
                                    f"{decide.MAX_REPLICATES}, found {replicates!r}")
            replicates = int(text)
        arms = self.arms()
        if not arms:
            raise ScenarioError(f"{self.name}: nothing to compare: change a lever or add an intervention, "
                                f"then compare (or keep it as a variant)")
        if len(arms) > decide.MAX_VARIANTS:
            raise ScenarioError(f"{self.name}: variants: up to {decide.MAX_VARIANTS} side by side, found "
                                f"{len(arms)} (the {len(self.variants)} kept and the current what-if); "
                                f"remove one or keep the current what-if in place of one")
        if not 1 <= replicates <= decide.MAX_REPLICATES:
            raise ScenarioError(f"{self.name}: replicates: expected an integer from 1 to "
                                f"{decide.MAX_REPLICATES}, found {replicates}")
        self.replicates = replicates
        self.compare_job = decide.start_compare(self.base_scenario, arms, replicates, on_done, executor,
                                                self.posterior, self.posterior_name)
        return self.compare_job

    def load_posterior(self, path: str | Path) -> str | None:
        """A calibration posterior (``posterior.parquet`` of ``momentsim calibrate``): replicated what-ifs
        then run replicate i of every arm at posterior draw i. The error message, or None."""
        from ..calibrate.forecast import read_posterior

        text = str(path).strip()
        if not text:
            return "posterior: expected the path of a posterior.parquet written by momentsim calibrate"
        try:
            frame = read_posterior(Path(text).expanduser(), self.base_scenario)
        except ScenarioError as exc:
            return str(exc).replace("--posterior ", "posterior: ", 1)
        self.posterior, self.posterior_name = frame, Path(text).name
        return None

    def clear_posterior(self) -> None:
        self.posterior, self.posterior_name = None, ""

    def plan_budget(self, request: "decide.PlanRequest", on_done: Callable[[Any], None] | None = None):
        """Start a small budget optimisation of the current set-up (the scenario run) in the background."""
        self.plan_job = decide.start_plan(self.base_scenario, request, on_done)
        return self.plan_job

    def cancel_jobs(self) -> None:
        """Cancel the replicated what-if and the budget plan if they are running."""
        for job in (getattr(self, "compare_job", None), getattr(self, "plan_job", None)):
            if job is not None:
                job.cancel()

    def clear_changes(self) -> None:
        """Back to the scenario: no lever changed, no intervention added (the set-up stays)."""
        with self.lock:
            self.changes, self.interventions = {}, []
            self.reset()

    # --- running ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Both runs back to day 0 with the current set-up and changes."""
        with self.lock:
            old = getattr(self, "_cache", _Cache())
            # Let go of the finished runs first: two large markets never live next to two more.
            self.base = self.changed = None
            self._cache = _Cache()
            self._frame = None
            gc.collect()
            base = self.base_scenario
            self.base = api.build(base)
            changed = self.changed_scenario
            self.changed = api.build(changed) if changed is not None else None
            self._built = (base, changed)  # the scenarios the runs were built from (their P&L reads them)
            self._cache = _Cache(layout=old.layout, layout_key=old.layout_key)
            self.version += 1

    @property
    def day(self) -> int:
        return self.base.steps if self.base is not None else 0

    @property
    def steps(self) -> int:
        return self.base_scenario.params["steps"]

    @property
    def finished(self) -> bool:
        return self.day >= self.steps

    def step(self, days: int = 1) -> None:
        """Simulate ``days`` more days in both runs, in lockstep (not past the last day)."""
        with self.lock:
            for _ in range(max(0, min(days, self.steps - self.day))):
                self.base.step()
                if self.changed is not None:
                    self.changed.step()

    @property
    def running(self) -> bool:
        """True from Run until that run stops (Pause, the last day, or another start): what the
        Run/Pause button shows. A run that only redraws to the day one was on after a change
        (``start(until=day)``) is :attr:`busy`, not running."""
        with self._state:
            return self._active and self._until is None and not self._stop.is_set()

    @property
    def redrawing_to(self) -> int | None:
        """The day a redraw after a change (``start(until=day)``) is heading for while it runs; None
        otherwise. A further change made meanwhile must redraw to that day, not to the day the redraw
        has reached."""
        with self._state:
            return self._until if self._active and not self._stop.is_set() else None

    @property
    def busy(self) -> bool:
        """A background run of any kind is stepping or drawing."""
        with self._state:
            return self._active and not self._stop.is_set()

    def start(self, on_frame: Callable[[Frame], None], until: int | None = None,
              on_done: Callable[[], None] | None = None) -> threading.Event:
        """Run in a background thread to day ``until`` (default: the last day), calling
        ``on_frame`` at the redraw cadence and once at the end, then ``on_done``. Returns the
        run's stop event.

        The previous run is told to stop, not waited for: it steps only under :attr:`lock` after
        checking its stop event, so from here on it cannot touch a model again. (Waiting would
        deadlock a page whose handler holds the render lock while the old run hands it a frame.)
        """
        with self._state:
            self._stop.set()
            stop = self._stop = threading.Event()
            self._active, self._until = True, until
            self._runner = threading.Thread(target=self.run, args=(stop, on_frame, until, on_done),
                                            name="momentsim-run", daemon=True)
        self._runner.start()
        return stop

    def stop(self, wait: float = 0.0) -> None:
        """Pause: tell the background run to stop (it steps no further day once this returns and
        :attr:`lock` is taken). ``wait``: seconds to wait for its thread to end (tests, benchmarks)."""
        self._stop.set()
        runner = self._runner
        if wait and runner is not None and runner is not threading.current_thread():
            runner.join(wait)

    def run(self, stop: threading.Event, on_frame: Callable[[Frame], None], until: int | None = None,
            on_done: Callable[[], None] | None = None, interval: float = REDRAW_INTERVAL) -> int:
        """Step to day ``until`` or until ``stop``, a frame at most every ``interval`` s (or the time
        the last frame took, so that drawing never takes more than half the time); a last frame
        at the end. At a chosen speed, days are paced from the moment the speed was set (a speed
        changed mid-run holds from then on). Frames are handed over outside :attr:`lock`. Returns
        the days simulated."""
        first_day = self.day
        start_day, started, speed = self.day, time.perf_counter(), self.speed
        last, spent = started - interval, 0.0  # the first day is drawn at once
        last_network = last
        try:
            while True:
                with self.lock:
                    limit = self.steps if until is None else min(self.steps, until)
                    if stop.is_set() or self.base is None or self.day >= limit:
                        break
                    if self.speed != speed:  # the speed was changed: pace from here
                        start_day, started, speed = self.day, time.perf_counter(), self.speed
                    self.step(1)
                    day = self.day
                now = time.perf_counter()
                if speed:  # pace to the chosen speed
                    wait = (day - start_day) / speed - (now - started)
                    if wait > 0 and stop.wait(wait):
                        break
                    now = time.perf_counter()
                if now - last >= max(interval, spent):
                    network = now - last_network >= NETWORK_INTERVAL
                    with self.lock:
                        if stop.is_set():
                            break
                        frame = self.frame(network=network)
                    on_frame(frame)
                    if network:
                        last_network = now
                    last = now  # the cadence counts from each frame's start
                    # Drawing may take up to half the time. A frame that built the figures (after
                    # a change) or redrew the network view (once a second) is a one-off: it does
                    # not slow the next ones.
                    spent = min(frame.made_in, interval) if network else min(frame.made_in, 4 * interval)
            frame = None
            with self.lock:
                if not stop.is_set() and self.base is not None:
                    frame = self.frame()
            if frame is not None:
                on_frame(frame)
        finally:
            with self._state:  # atomic with start(): only this run's own end clears the state
                if stop is self._stop:
                    self._active = False
            if on_done is not None:
                on_done()
        return self.day - first_day if self.base is not None else 0

    def close(self) -> None:
        """The tab was closed: stop the run and its background jobs, let go of the models and the charts."""
        self.stop()
        self.cancel_jobs()
        with self.lock:
            self.base = self.changed = None
            self._cache = _Cache()
            self.live = LiveCharts()
            self._frame = self._network_image = None
        release_memory()

    # --- what the page shows -------------------------------------------------------------

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The recorded tables of both runs (rebuilt once a day at most: not per step)."""
        with self.lock:
            if self._cache.day != self.day:
                base = self.base.table()
                changed = self.changed.table() if self.changed is not None else None
                self._cache.day, self._cache.tables = self.day, (base, changed)
            return self._cache.tables

    def money(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Both runs' tables with their P&L columns (:func:`sim.economics.pnl`, as every front end
        reads profit), once a day at most."""
        with self.lock:
            if self._cache.money_day != self.day:
                base, changed = self.tables()
                scenario, what_if = self._built
                self._cache.money = (economics.pnl(base, scenario),
                                     economics.pnl(changed, what_if) if changed is not None else None)
                self._cache.money_day = self.day
            return self._cache.money

    @property
    def currency(self) -> str:
        return economics.currency(self.base_scenario.params)

    def kpis(self) -> list[dict[str, Any]]:
        """Per brand: today's sentiment, share and rating; revenue, profit, spend, customers won and
        kept so far."""
        base, changed = self.money()
        shown = changed if changed is not None else base
        return [charts.brand_kpis(shown, brand, base if changed is not None else None, self.currency)
                for brand in self.brands]

    def network(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
        """The network view's layout for the shown run (computed once per market set-up)."""
        model = self.changed or self.base
        params = self.base_scenario.params
        key = (params["network.kind"], params["population.size"], params["network.mean_degree"],
               params["seed"], params["network.file"])
        if self._cache.layout_key != key:
            self._cache.layout = charts.network_layout(model.contacts, params["network.kind"])
            self._cache.layout_key = key
        nodes, positions, edges = self._cache.layout
        note = ""
        if len(nodes) < model.contacts.size:
            note = f"a random sample of {len(nodes):,} of {model.contacts.size:,} consumers"
        elif model.contacts.mixed:
            note = "fully mixed market: no network edges to draw"
        return nodes, positions, edges, note

    def frame(self, network: bool = True) -> Frame:
        """Every chart for the current day (the same frame again if nothing moved since)."""
        started = time.perf_counter()
        with self.lock:
            brand = self.network_brand if self.network_brand in self.brands else self.brands[0]
            key = (self.version, self.day, brand)
            if self._frame is not None and self._frame_key[:3] == key and (self._frame_key[3] or not network):
                return self._frame  # nothing moved (a frame with the network view serves either)
            key = key + (network,)
            base, changed = self.tables()
            model = self.changed or self.base
            day = self.day
            images = self.live.images(base, changed, self.name, self.steps, self.events())
            note = self._frame.network_note if self._frame is not None else ""
            if not network and self._network_image is not None and self._network_version == self.version:
                images["network"] = self._network_image  # the last picture: it changes slowly
            else:
                nodes, positions, edges, note = self.network()
                b = self.brands.index(brand)
                stage, satisfied = model.stages(), model.satisfied_flags()  # either engine
                images["network"] = self.live.network_image(
                    (self._cache.layout_key, brand, note), positions, edges, brand, note,
                    model.attitude[nodes, b], model.aware[nodes, b], stage[nodes] == Stage.UMOT, satisfied[nodes])
                self._network_image, self._network_version = images["network"], self.version
            kpis = self.kpis()
            frame = Frame(day, self.steps, changed is not None, images, kpis, note,
                          time.perf_counter() - started, self.version)
            self._frame, self._frame_key = frame, key
            return frame

    # --- exports -------------------------------------------------------------------------

    def result(self, which: str = "shown") -> api.Result:
        """A run as an :class:`sim.Result`: the table so far, the scenario with ``steps`` = today.

        ``which`` is "base", "changed" or "shown" (the what-if copy if there is one). Its CSV is
        the bytes ``momentsim run`` writes for the same scenario, seed and days, and its
        ``scenario.to_toml()`` reruns it exactly.
        """
        with self.lock:
            base, changed = self.tables()
            if which == "changed" or (which == "shown" and changed is not None):
                if changed is None:
                    raise ValueError("no what-if run: nothing is changed")
                scenario, table = self.changed_scenario, changed
            else:
                scenario, table = self.base_scenario, base
            return api.Result(scenario.with_overrides({"steps": max(self.day, 1)}, source=self.name), table)

    def charts_png(self) -> bytes:
        """Every chart of the current day on one page, as PNG."""
        base, changed = self.tables()
        return charts.png(charts.dashboard_figure(base, changed, self.name), dpi=100)


def _with_events(scenario: Scenario, events: list[dict[str, Any]], source: str) -> Scenario:
    """``scenario`` with timed interventions added, validated like a scenario file's [[events]]."""
    if not events:
        return scenario
    doc = to_document(scenario)
    doc["events"] = doc.get("events", []) + [dict(e) for e in events]
    return loads(tomli_w.dumps(doc), path=scenario.path, name=scenario.name)
