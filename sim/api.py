"""The Python API: load a scenario, override it, run it, get the table.

The CLI, the app, the sweeps and the notebooks all go through these functions::

    import sim
    scenario = sim.load("baseline", {"sharing.negative_multiplier": 1})
    result = sim.run(scenario, steps=180)
    result.table.plot(x="step", y=["sentiment_ours", "sentiment_theirs"])
"""

from __future__ import annotations

import copy
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from . import economics, plots, provenance, rules
from .engine import ArrayMarketModel
from .model import Market, MarketModel
from .params import Event, ScenarioError
from .scenario import Scenario
from .scenario import load as _load_file
from .scenario import shipped

CSV_FLOAT_FORMAT = "%.10g"

# What one run on one machine can do. Refused before anything is allocated, with the limit named.
MAX_STEPS = 36_500                                       # a hundred years of days
MAX_POPULATION = {"agent": 2_000_000, "array": 20_000_000}  # ~2 KB a Mesa agent, ~0.5 KB an array consumer
MAX_CONTACTS = {"agent": 50_000_000, "array": 400_000_000}  # population x mean degree (networkx / NumPy)
# Rough cost of a consumer-day (BENCHMARKS.md), for the warning before a long run.
SECONDS_PER_CONSUMER_DAY = {"agent": 1.5e-6, "array": 4e-8}
SECONDS_PER_DAY = {"agent": 1e-4, "array": 5e-4}
WARN_SECONDS = 600
# summary.json's per-brand ``returns`` when not computed: a lever's return needs runs without it.
RETURNS_NOT_COMPUTED = {
    "computed": False,
    "note": "the return on each lever's spend needs the same market run with each lever off on paired seeds: "
            "momentsim run SCENARIO --returns N (N paired seeds, N x (1 + levers with spend) runs), "
            "or sim.returns(scenario, replicates=N)"}
# Durations in days: beyond MAX_STEPS nothing they govern happens in a run, and the samplers of
# absurd values (10^18 days) overflow or hang. (The schema's ranges may be narrower.)
DURATIONS = ("journey.purchase_cycle_days", "journey.research_days", "journey.experience_days",
             "market.share_window")


def load(name_or_path: str | Path | Scenario, overrides: dict[str, Any] | None = None) -> Scenario:
    """A shipped scenario by name, or a scenario file, with dotted-key overrides applied."""
    if isinstance(name_or_path, Scenario):
        return name_or_path.with_overrides(overrides) if overrides else name_or_path
    return _load_file(name_or_path, overrides)


def scenarios() -> dict[str, str]:
    """The shipped scenarios and their one-line summaries."""
    return {name: load(name).about.get("summary", "") for name in shipped()}


@dataclass
class Result:
    """A finished run: the resolved scenario and its recorded table."""
    scenario: Scenario
    table: pd.DataFrame

    @property
    def brands(self) -> list[str]:
        return self.scenario.params.brand_names

    def money(self) -> pd.DataFrame:
        """The table with the P&L columns (spend by lever, gross margin, profit) of :func:`sim.economics.pnl`."""
        return economics.pnl(self.table, self.scenario)

    def summary(self, skip: int = 0) -> dict[str, Any]:
        """End-of-run figures: per brand and for the conversation as a whole.

        Totals are over the days after the first ``skip`` (days run but not counted);
        sentiment, rating, awareness and reviews are the last day's."""
        t, last = self.table, self.table.iloc[-1]
        days = t.iloc[1 + skip:]  # day 0 is the initial state
        experiences = days["experiences_satisfied"].sum() + days["experiences_dissatisfied"].sum()
        shares = days["shares_positive"].sum() + days["shares_negative"].sum()
        total_purchases = days["purchases"].sum()
        brands = {}
        for b in self.brands:
            bought = int(days[f"purchases_{b}"].sum())
            brands[b] = {
                "sentiment": round(float(last[f"sentiment_{b}"]), 4),
                "rating": round(float(last[f"rating_{b}"]), 3),
                "aware": round(float(last[f"aware_{b}"]), 4),
                "purchases": bought,
                "market_share": round(bought / total_purchases, 4) if total_purchases else 0.0,
                "revenue": round(float(days[f"revenue_{b}"].sum()), 2),
                "acquisitions": int(days[f"acquisitions_{b}"].sum()),
                "retentions": int(days[f"retentions_{b}"].sum()),
                "acquisition_cost": round(float(days[f"acquisition_cost_{b}"].sum()), 2),
                "retention_cost": round(float(days[f"retention_cost_{b}"].sum()), 2),
                "shares_positive": int(days[f"shares_positive_{b}"].sum()),
                "shares_negative": int(days[f"shares_negative_{b}"].sum()),
                "reviews": int(last[f"reviews_{b}"]),
                "attitude": round(float(last[f"attitude_{b}"]), 4),
                # Net sentiment of everything said over the run (the 28-day figure is the last day's).
                "net_sentiment": round(float(rules.net_sentiment(int(days[f"shares_positive_{b}"].sum()),
                                                                 int(days[f"shares_negative_{b}"].sum()))), 4),
                "complaints": int(days[f"complaints_{b}"].sum()),
                "recoveries": int(days[f"recoveries_{b}"].sum()),
            }
        for b, figures in economics.summary(self.table, self.scenario).items():
            brands[b].update(figures)
        return {
            "scenario": self.scenario.name,
            "currency": economics.currency(self.scenario.params),
            "days": int(last["step"]),
            "seed": self.scenario.params["seed"],
            "population": int(sum(last[c] for c in t.columns if c.startswith("stage_"))),
            "adopters": int(last["adopters"]),
            "purchases": int(total_purchases),
            "experiences": int(experiences),
            "dissatisfied_share_of_experiences": round(
                float(days["experiences_dissatisfied"].sum() / experiences), 4) if experiences else 0.0,
            "shared_share_of_experiences": round(float(shares / experiences), 4) if experiences else 0.0,
            "negative_share_of_conversation": round(
                float(days["shares_negative"].sum() / shares), 4) if shares else 0.0,
            "brands": brands,
        }

    def csv(self) -> str:
        """The table with its P&L columns as CSV text, the same bytes for the same scenario and seed."""
        return self.money().to_csv(index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")

    def figure(self):
        return plots.sentiment_figure(self.table, self.scenario.name)

    def write(self, out: str | Path, provenance_record: dict[str, Any] | None = None,
              returns: dict[str, dict[str, Any]] | None = None) -> dict[str, Path]:
        """Write timeseries.csv, summary.json, scenario.toml and sentiment.png into ``out``.

        Every file is made in memory first, then each is written to a temporary name and renamed:
        a failure leaves no half-written file. ``summary.json`` is strict JSON (no NaN) and carries
        ``provenance`` (:func:`sim.provenance.record`, or the record given) and, per brand, ``returns``:
        the blocks of :meth:`sim.decide.returns.Returns.blocks` when given, else a note saying how to get them."""
        summary = self.summary()
        for brand, figures in summary["brands"].items():  # the return on each lever's spend (issue 14)
            figures["returns"] = (returns or {}).get(brand, dict(RETURNS_NOT_COMPUTED))
        summary["provenance"] = provenance_record or provenance.record()
        png = io.BytesIO()
        self.figure().savefig(png, format="png", dpi=110)
        contents = {"timeseries.csv": self.csv().encode(),
                    "summary.json": provenance.dumps(summary).encode(),
                    "scenario.toml": (provenance.header() + self.scenario.to_toml()).encode(),
                    "sentiment.png": png.getvalue()}
        return write_files(Path(out), contents)


def write_files(out: Path, contents: dict[str, bytes]) -> dict[str, Path]:
    """Write each file into ``out`` atomically; an OSError becomes a ScenarioError naming the place.

    All are first written to temporary names, then renamed one after the other: on a failure the
    temporary files are removed and no file of this call is left half-written."""
    check_writable(out, "--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot create the folder: {_reason(exc)}") from None
    files = {name: out / name for name in contents}
    temps: list[Path] = []
    try:
        for name, data in contents.items():
            tmp = files[name].with_name(name + ".tmp")
            temps.append(tmp)
            tmp.write_bytes(data)
        for name, tmp in zip(contents, temps):
            os.replace(tmp, files[name])
    except OSError as exc:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise ScenarioError(f"--out {out}: cannot write {exc.filename or out}: {_reason(exc)}") from None
    return files


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_writable(out: str | Path, flag: str = "--out") -> None:
    """Refuse an output folder that cannot be written, before any work is done.

    The folder, or its nearest existing parent, must be a folder in which a file can be created
    (tried with a temporary file, removed at once): a path under a regular file, a dangling
    symbolic link, a name too long, a read-only place or /proc are refused with the reason."""
    import tempfile

    out = Path(out)
    for part in out.parts:
        if len(os.fsencode(part)) > 255:
            raise ScenarioError(f"{flag} {str(out)[:80]}...: a name in the path is longer than "
                                f"255 bytes, the limit of most file systems")
    probe = out
    try:
        if out.is_symlink() and not out.exists():
            raise ScenarioError(f"{flag} {out}: expected a folder, found a symbolic link to nothing "
                                f"({os.readlink(out)})")
        while not probe.exists():
            if probe.is_symlink():
                raise ScenarioError(f"{flag} {out}: {probe} is a symbolic link to nothing")
            if probe.parent == probe:
                break
            probe = probe.parent
        if not probe.is_dir():
            raise ScenarioError(f"{flag} {out}: expected a folder, found a file"
                                + ("" if probe == out else f" ({probe}) on the way"))
        if not os.access(probe, os.W_OK | os.X_OK):
            raise ScenarioError(f"{flag} {out}: cannot write into {probe}: permission denied")
        fd, name = tempfile.mkstemp(prefix=".momentsim-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise ScenarioError(f"{flag} {str(out)[:200]}: cannot write there: {_reason(exc)}") from None


def resolve(scenario: str | Path | Scenario, steps: int | None = None, seed: int | None = None,
            overrides: dict[str, Any] | None = None) -> Scenario:
    """The scenario with steps, seed and overrides applied: what a run will use."""
    extra = dict(overrides or {})
    if steps is not None:
        extra["steps"] = steps
    if seed is not None:
        extra["seed"] = seed
    return load(scenario, extra or None)


ENGINES = {"agent": MarketModel, "array": ArrayMarketModel}


def check_size(scenario: Scenario) -> float:
    """Refuse a run that cannot run here (before anything is allocated); the estimated seconds.

    Limits: MAX_STEPS days, MAX_POPULATION consumers and MAX_CONTACTS (population x mean degree)
    for the scenario's engine. A run estimated to take longer than ten minutes gets a warning."""
    p = scenario.params
    engine, steps, size = p["engine"], p["steps"], p["population.size"]
    where = scenario.path or scenario.name
    if steps > MAX_STEPS:
        raise ScenarioError(f"{where}: steps: expected at most {MAX_STEPS:,} days (a hundred years), "
                            f"found {steps:,}")
    for key in DURATIONS:
        if key in p.values and p[key] > MAX_STEPS:
            raise ScenarioError(f"{where}: {key}: expected at most {MAX_STEPS:,} days (a hundred years: "
                                f"longer never happens in a run), found {p[key]:g}")
    if size > MAX_POPULATION[engine]:
        hint = "; the array engine takes up to 20,000,000 (--engine array)" if engine == "agent" else ""
        raise ScenarioError(f"{where}: population.size: expected at most {MAX_POPULATION[engine]:,} "
                            f"consumers on the {engine} engine (memory), found {size:,}{hint}")
    if p["network.kind"] not in ("complete", "file"):
        contacts = size * p["network.mean_degree"]
        if contacts > MAX_CONTACTS[engine]:
            raise ScenarioError(
                f"{where}: network.mean_degree: expected population.size x mean_degree at most "
                f"{MAX_CONTACTS[engine]:,} contacts on the {engine} engine (memory), found {size:,} x "
                f"{p['network.mean_degree']:g} = {contacts:,.0f}")
    seconds = steps * (SECONDS_PER_DAY[engine] + size * SECONDS_PER_CONSUMER_DAY[engine])
    if seconds > WARN_SECONDS:
        faster = " (the array engine is about 40x faster: --engine array)" if engine == "agent" else ""
        provenance.warn(f"{where}: {size:,} consumers x {steps:,} days on the {engine} engine: expect "
                        f"about {_duration(seconds)}{faster}")
    last = steps
    for i, event in enumerate(p.events):
        if event.day > last:
            provenance.warn(f"{where}: events[{i}] on day {event.day} is after the last day ({last}): "
                            f"it never happens")
    return seconds


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:,.0f} days"


def model_for(scenario: Scenario) -> Market:
    """The model of a resolved scenario, by its ``engine``: MarketModel or ArrayMarketModel."""
    check_size(scenario)
    return ENGINES[scenario.params["engine"]](economics.engine_scenario(scenario))


def build(scenario: str | Path | Scenario, **kwargs) -> Market:
    """A model at day 0, for stepping by hand (a notebook, the app); the scenario's engine."""
    return model_for(resolve(scenario, **kwargs))


def run(scenario: str | Path | Scenario, steps: int | None = None, seed: int | None = None,
        overrides: dict[str, Any] | None = None, progress: bool | None = False) -> Result:
    """Run a scenario to the end; ``progress=None`` shows a bar only on a terminal."""
    resolved = resolve(scenario, steps, seed, overrides)
    model = model_for(resolved)
    # tqdm: disable=None shows the bar only when stderr is a terminal.
    with tqdm(total=resolved.params["steps"], desc=resolved.name, unit="day", leave=False,
              disable=None if progress is None else not progress) as bar:
        for _ in range(resolved.params["steps"]):
            model.step()
            bar.update(1)
    return Result(resolved, model.table())


@dataclass
class Comparison:
    """Two runs with the same seed (common random numbers) and their difference."""
    base: Result
    changed: Result

    def difference(self) -> pd.DataFrame:
        """changed - base, column by column (``step`` kept as it is)."""
        numeric = self.base.table.columns.drop("step")
        diff = self.changed.table[numeric] - self.base.table[numeric]
        diff.insert(0, "step", self.base.table["step"])
        return diff


def what_if(scenario: Scenario, changes: dict[str, Any], source: str = "what-if") -> Scenario:
    """The scenario with ``changes`` made from day 0 in the same settled market.

    A brand lever (``brands.<b>.<lever>``) is changed by an intervention on day 0, after the burn-in:
    both runs share the same market up to day 0, and the difference is the effect of the change. Any
    other parameter (the sharing multiplier, the population, ...) shapes the market itself, so the
    changed market settles under it (its day 0 differs too).
    """
    brands = scenario.params.brand_names
    levers = {key: value for key, value in changes.items()
              if key.startswith("brands.") and key.count(".") == 2 and key.split(".")[1] in brands}
    others = {key: value for key, value in changes.items() if key not in levers}
    changed = scenario.with_overrides({**others, **levers}, source=source)  # validates every value
    if not levers:
        return changed
    market = scenario.with_overrides(others, source=source) if others else scenario
    events = [Event(0, key.split(".")[1], key.split(".")[2], changed.params.brand(key.split(".")[1])[
        key.split(".")[2]]) for key in levers]
    settled = copy.deepcopy(market)
    settled.params.events = sorted([e for e in market.params.events if e.day == 0] + events,
                                   key=lambda e: e.day) + [e for e in market.params.events if e.day > 0]
    return settled


def compare(scenario: str | Path | Scenario, changes: dict[str, Any] | None = None, steps: int | None = None,
            seed: int | None = None, *, replicates: int | None = None,
            variants: dict[str, dict[str, Any]] | None = None, **options):
    """What-if: the scenario and a changed copy (:func:`what_if`), same seed, side by side (a :class:`Comparison`).

    With ``replicates=N`` (or ``variants={name: changes}``, up to four) it runs every arm on N paired
    seeds in parallel and returns a :class:`sim.decide.WhatIf` with effects and 95 % intervals;
    ``changes`` is then the variant named "variant", and ``options`` go to
    :func:`sim.decide.compare_replicated` (brand, overrides, executor, scheduler, workers).
    """
    if replicates is None and variants is None:
        if changes is None:
            raise TypeError("compare() needs changes (or replicates=N and variants)")
        base = resolve(scenario, steps, seed)
        return Comparison(run(base), run(what_if(base, changes)))
    from .decide.compare import compare_replicated

    arms = dict(variants or {})
    if changes:
        arms = {"variant": dict(changes), **arms}
    return compare_replicated(scenario, arms, replicates=replicates or 8, seed=seed, steps=steps, **options)
