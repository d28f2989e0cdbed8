"""Teaching helpers for the notebooks: the controls a student changes, paired runs, and the figures.

A notebook shows a :func:`panel`: sliders and drop-downs, a *Run* button, and the figures below them.
The panel runs once with its default values as soon as the cell runs (so *Run All* and the tests
produce every figure without anyone touching a control); the button runs it again with the values
the student chose. The code that draws lives here, so a notebook shows a story and its settings,
not a hundred lines of matplotlib; each notebook keeps a "For those who code" section.

Words, as everywhere in the teaching kit: a *source document* is one of the articles the model
is built from (``seeds/`` in the repository); a *random seed* is the number that fixes the
model's random draws. Two runs with the same random seed and different settings are a *pair*
(common random numbers); their difference is mostly the effect of the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import api
from .plots import BRAND_COLOURS, NEGATIVE_COLOUR, POSITIVE_COLOUR, brand_colour

# Colours: the Okabe-Ito palette of sim.plots (colour-blind safe), one colour per meaning. The brands keep
# their colours (ours blue, theirs orange); the other meanings take the palette's other colours, and
# neutral marks (ranges, reference lines, random seeds' means) are black or grey.
SEGMENT_COLOURS = {"18-24": BRAND_COLOURS[2], "25 and over": BRAND_COLOURS[3]}
NEUTRAL_COLOURS = ("black", "grey", "0.85", "0.9", "#999999")

# --- controls ---------------------------------------------------------------------------------

_STYLE = {"description_width": "16em"}
_LAYOUT = {"width": "36em"}


def slider(description: str, value: float, min: float, max: float, step: float | None = None):
    """A labelled slider: whole numbers if ``value`` and ``step`` are whole, else decimals."""
    import ipywidgets as widgets

    whole = isinstance(value, int) and (step is None or float(step).is_integer())
    kind = widgets.IntSlider if whole else widgets.FloatSlider
    options = {} if step is None else {"step": step}
    return kind(value=value, min=min, max=max, description=description, style=_STYLE, layout=_LAYOUT,
                continuous_update=False, **options)


def choice(description: str, options: Sequence[Any] | dict[str, Any], value: Any = None):
    """A labelled drop-down; ``options`` a list, or a dict of shown label -> value."""
    import ipywidgets as widgets

    pairs = list(options.items()) if isinstance(options, dict) else [(str(o), o) for o in options]
    value = pairs[0][1] if value is None else value
    return widgets.Dropdown(options=pairs, value=value, description=description, style=_STYLE,
                            layout=_LAYOUT)


class Panel:
    """Controls, a Run button and an output area; ``run(**values)`` draws into the area.

    ``result`` is what the last run returned (for the "For those who code" cells).
    """

    def __init__(self, run: Callable[..., Any], controls: dict[str, Any], title: str = ""):
        import ipywidgets as widgets

        self.run = run
        self.controls = controls
        self.title = title
        self.result: Any = None
        self.runs = 0
        self.button = widgets.Button(description="Run with these settings", button_style="primary",
                                     icon="play", layout={"width": "20em"})
        self.output = widgets.Output()
        self.button.on_click(lambda _: self._run_here(raise_errors=False))

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _run_here(self, raise_errors: bool) -> Any:
        """Run into the output area; the first run (cell execution) lets errors through, a click shows them."""
        error = None
        self.output.clear_output(wait=True)
        with self.output:
            try:
                self.result = self.run(**self.values)
                self.runs += 1
            except Exception as exc:  # noqa: BLE001 - a student's click must never leave a silent panel
                if raise_errors:
                    error = exc
                else:
                    print(f"This run could not be made: {exc}")
        if error is not None:
            raise error
        return self.result

    def widget(self):
        import ipywidgets as widgets

        parts = [widgets.HTML(f"<b>{self.title}</b>")] if self.title else []
        return widgets.VBox([*parts, *self.controls.values(), self.button, self.output])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())
        self._run_here(raise_errors=True)


def panel(run: Callable[..., Any], title: str = "", **controls) -> Panel:
    """A :class:`Panel`; shown by leaving it as the last line of a cell (it then runs once)."""
    return Panel(run, controls, title)


# --- paired runs and their spread ------------------------------------------------------------

def paired(scenario, changes: dict[str, Any], seeds: Iterable[int], steps: int | None = None) -> list:
    """One :class:`sim.api.Comparison` per random seed: the scenario and the changed copy, same seed."""
    return [api.compare(scenario, changes, steps=steps, seed=int(seed)) for seed in seeds]


def effect(base: Sequence[float], changed: Sequence[float]) -> dict[str, float]:
    """Mean of paired values, their mean difference, its standard error and the ratio of the two."""
    base, changed = np.asarray(base, float), np.asarray(changed, float)
    diff = changed - base
    n = len(diff)
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    mean = float(diff.mean())
    return {"base": float(base.mean()), "changed": float(changed.mean()), "difference": mean,
            "standard error": se, "difference / SE": mean / se if se and se > 0 else float("nan"), "n": n}


def effects(base: pd.DataFrame, changed: pd.DataFrame) -> pd.DataFrame:
    """:func:`effect` for every column of two tables with one row per random seed."""
    return pd.DataFrame({column: effect(base[column], changed[column]) for column in base.columns}).T


def days_to_reach(series: Sequence[float], level: float, start: int = 0) -> float:
    """First day (index) at or after ``start`` on which the series reaches ``level``; NaN if never.

    Reaching means crossing in the direction the series moves from its value on day ``start``.
    """
    values = np.asarray(series, float)
    rising = level >= values[start]
    hit = values[start:] >= level if rising else values[start:] <= level
    found = np.flatnonzero(hit)
    return float(start + found[0]) if len(found) else float("nan")


# --- figures -----------------------------------------------------------------------------------

def band(ax, tables: Sequence[pd.DataFrame], column: str, label: str, colour: str | None = None,
         linestyle: str = "-", scale: float = 1.0) -> None:
    """The mean of ``column`` over runs (one per random seed) as a line, their range shaded; values times
    ``scale`` (100 for a share drawn in percent)."""
    values = scale * np.vstack([t[column].to_numpy(float) for t in tables])
    step = tables[0]["step"].to_numpy()
    line, = ax.plot(step, values.mean(axis=0), linestyle, color=colour, linewidth=2,
                    label=f"{label} (mean of {len(tables)})" if len(tables) > 1 else label)
    if len(tables) > 1:
        ax.fill_between(step, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.18,
                        linewidth=0)


def mark_days(ax, days: dict[int, str]) -> None:
    """Dotted vertical lines at the given days, labelled at the top of the axes."""
    for day, text in days.items():
        ax.axvline(day, color="grey", linestyle=":", linewidth=1.2)
        ax.annotate(text, (day, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                    textcoords="offset points", fontsize="small", color="grey")


def dots(ax, values: dict[str, Sequence[float]], ylabel: str, title: str = "", colour: str = BRAND_COLOURS[0]) -> None:
    """One dot per random seed for each measure, with the mean and ± 2 standard errors beside it."""
    for x, (name, vals) in enumerate(values.items()):
        vals = np.asarray(vals, float)
        n = len(vals)
        ax.plot(x + np.linspace(-0.12, 0.12, n), vals, "o", color=colour, alpha=0.55,
                label="one random seed" if x == 0 else None)
        if n > 1:
            se = vals.std(ddof=1) / np.sqrt(n)
            ax.errorbar(x + 0.3, vals.mean(), yerr=2 * se, fmt="s", color="black", capsize=6,
                        label="mean ± 2 standard errors" if x == 0 else None)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(values)), list(values))
    ax.set_xlim(-0.5, len(values) - 0.3)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")


def brand_colours(brands: Sequence[str]) -> dict[str, str]:
    """The colours the app and the CLI give the brands, by name."""
    return {b: brand_colour(i) for i, b in enumerate(brands)}


# --- notebook 9: micro-moments -----------------------------------------------------------------

MOBILE = "mobile_micro_moments"


def phone_and_attention(young_share: float = 0.5, checks_per_day: float = 26.6, young_multiplier: float = 2.0,
                        population: int = 1000, seed: int = 1, scenario: str = MOBILE) -> pd.DataFrame:
    """One row a consumer of a freshly built market: 18-24 or not, phone checks a day, attention, and the
    daily chance of meeting one contact's story on social media (the model's own numbers)."""
    overrides = {"population.size": population, "population.young_share": young_share,
                 "population.checks_per_day": checks_per_day,
                 "population.young_checks_multiplier": young_multiplier, "market.burn_in_days": 0}
    model = api.build(scenario, seed=seed, overrides=overrides)
    young = np.asarray(model.young, bool)
    return pd.DataFrame({
        "segment": np.where(young, "18-24", "25 and over"),
        "phone checks a day": checks_per_day * np.where(young, young_multiplier, 1.0),
        "attention": np.asarray(model.attention, float),
        "chance a day of meeting a contact's story": np.asarray(model.meeting, float),
    })


def attention_summary(people: pd.DataFrame) -> pd.DataFrame:
    """Per segment: how many, phone checks, attention, the chance of meeting a story, days to wait for one."""
    chance = "chance a day of meeting a contact's story"
    out = people.groupby("segment").agg(**{
        "consumers": ("attention", "size"),
        "phone checks a day": ("phone checks a day", "mean"),
        "attention (1 = an average adult)": ("attention", "mean"),
        chance: (chance, "mean")})
    out["days until one contact's story is met (about)"] = 1 / out[chance]
    return out.round(2)


def attention_figure(people: pd.DataFrame):
    """Left: phone checks by segment; right: the daily chance of meeting a contact's story, by segment."""
    import matplotlib.pyplot as plt

    chance = "chance a day of meeting a contact's story"
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    summary = people.groupby("segment").mean(numeric_only=True)
    colours = SEGMENT_COLOURS
    left.bar(summary.index, summary["phone checks a day"], color=[colours[s] for s in summary.index])
    left.set_ylabel("phone checks a day (count)")
    left.set_title("Micro-moments: phone checks a day (source document 003)")
    bins = np.linspace(0, 1, 41)
    for segment, group in people.groupby("segment"):
        right.hist(group[chance], bins=bins, alpha=0.6, color=colours[segment],
                   label=f"{segment} ({len(group)} consumers)")
    right.set_xlabel("chance a day of meeting one contact's story (0-1)")
    right.set_ylabel("consumers (count)")
    right.set_title("How quickly a story reaches each consumer")
    right.legend(fontsize="small")
    plt.show()
    return fig


def launch_runs(young_shares: Sequence[float] = (0.2, 0.8), seeds: Iterable[int] = range(4), days: int = 180,
                population: int = 1000, checks_per_day: float = 26.6, young_multiplier: float = 2.0,
                scenario: str = MOBILE) -> dict[float, list]:
    """A brand launched with no advertising (ours: 2 % aware on day 0, no ads, no burn-in), in markets with
    different shares of 18-24 year olds; the same random seeds in every market (paired runs)."""
    seeds = list(seeds)
    base = api.load(scenario, {"population.size": population, "steps": days, "market.burn_in_days": 0,
                               "brands.ours.ad_intensity": 0.0, "brands.ours.initial_awareness": 0.02,
                               "population.checks_per_day": checks_per_day,
                               "population.young_checks_multiplier": young_multiplier})
    return {share: [api.run(base, seed=s, overrides={"population.young_share": share}) for s in seeds]
            for share in young_shares}


def launch_speed(runs: dict[float, list], level: float = 0.5) -> pd.DataFrame:
    """Days until ``level`` of the market knows ours, one row per random seed, one column per market."""
    return pd.DataFrame({f"{share:.0%} aged 18-24": [days_to_reach(r.table["aware_ours"], level) for r in results]
                         for share, results in runs.items()})


def launch_figure(runs: dict[float, list], level: float = 0.5):
    """Awareness of ours (word of mouth only) and of theirs (ads on mobile) in each market, over the random
    seeds; and the paired difference in days until ``level`` know ours."""
    import matplotlib.pyplot as plt

    from matplotlib.ticker import PercentFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5), width_ratios=[2, 1], layout="constrained")
    styles = ["--", "-", ":", "-."]   # one line style a market; the brand's colour
    for style, (share, results) in zip(styles, runs.items()):
        tables = [r.table for r in results]
        band(left, tables, "aware_ours", f"ours, {share:.0%} aged 18-24", brand_colour(0), style, scale=100)
        band(left, tables, "aware_theirs", f"theirs, {share:.0%} aged 18-24", brand_colour(1), style, scale=100)
    left.axhline(100 * level, color="grey", linewidth=0.8)
    left.set_ylim(0, 100)
    left.yaxis.set_major_formatter(PercentFormatter(xmax=100))
    left.set_xlabel("day")
    left.set_ylabel("consumers who know the brand (%)")
    left.set_title("Who knows the brand: ours (no ads: word of mouth and research), theirs (ads on mobile)")
    left.legend(fontsize="small", loc="lower right")
    speed = launch_speed(runs, level)
    first = speed.columns[0]
    dots(right, {f"{c}\nminus {first}": speed[c] - speed[first] for c in speed.columns[1:]},
         f"difference in days until {level:.0%} know ours", "Paired random seeds")
    plt.show()
    return fig


# --- notebook 10: the quality crisis ------------------------------------------------------------

CRISIS = "quality_crisis"


def crisis_scenario(population: int = 1000, crisis_quality: float = 0.35, start: int = 120, fix: int = 240,
                    scenario: str = CRISIS, changes: dict[str, Any] | None = None):
    """The quality crisis of ``ours``: quality falls to ``crisis_quality`` on day ``start`` and is back to
    its usual level on day ``fix`` (no crisis at all if ``crisis_quality`` is the usual quality)."""
    import copy

    from .params import Event

    loaded = api.load(scenario, {"population.size": population, **(changes or {})})
    usual = loaded.params.brand("ours")["quality"]
    crisis = copy.deepcopy(loaded)
    kept = [e for e in loaded.params.events if not (e.brand == "ours" and e.lever == "quality")]
    new = [Event(int(start), "ours", "quality", float(crisis_quality)), Event(int(fix), "ours", "quality", usual)]
    crisis.params.events = sorted(kept + (new if crisis_quality != usual else []), key=lambda e: e.day)
    return crisis


def crisis_measures(table: pd.DataFrame, start: int = 120, fix: int = 240) -> dict[str, float]:
    """What a brand manager would read off the crisis, from one run's table."""
    share = table["market_share_ours"].to_numpy(float)
    sentiment = table["sentiment_ours"].to_numpy(float)
    before = share[start - 10:start].mean()
    low_day = start + int(np.argmin(share[start:]))
    low, end = share[low_day], share[-28:].mean()
    return {
        "share before the crisis": before,
        "lowest share": low,
        "day of the lowest share": float(low_day),
        "days until net sentiment turns negative": days_to_reach(sentiment, 0.0, start) - start,
        "days until share has lost half its fall": days_to_reach(share, before - (before - low) / 2, start) - start,
        "share in the last 28 days": end,
        "share of the fall made up by the end": (end - low) / (before - low) if before > low else float("nan"),
        "rating on the day of the fix": float(table["rating_ours"].iloc[fix]),
        "rating at the end": float(table["rating_ours"].iloc[-1]),
        "purchases of ours from the crisis on": float(table["purchases_ours"].iloc[start + 1:].sum()),
    }


def crisis_runs(seeds: Iterable[int] = range(4), arms: dict[str, dict[str, Any]] | None = None, calm: bool = True,
                **crisis) -> dict:
    """Paired runs per random seed: the market without a crisis (if ``calm``), with it, and one arm per entry of
    ``arms`` (name -> brand levers changed from day 0 in the same settled market, :func:`sim.api.what_if`)."""
    seeds = list(seeds)
    usual = api.load(crisis.get("scenario", CRISIS)).params.brand("ours")["quality"]
    quiet = crisis_scenario(**{**crisis, "crisis_quality": usual})
    hit = crisis_scenario(**crisis)
    scenarios = {"no crisis": quiet, "crisis": hit} if calm else {"crisis": hit}
    scenarios.update({name: api.what_if(hit, changes) for name, changes in (arms or {}).items()})
    return {name: [api.run(s, seed=int(seed)) for seed in seeds] for name, s in scenarios.items()}


def crisis_figure(runs: dict, start: int = 120, fix: int = 240):
    """Share, net sentiment, attitude and displayed rating of ours, each arm's mean and range over the seeds."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 7.5), sharex=True, layout="constrained")
    from matplotlib.ticker import PercentFormatter

    panels = [("market_share_ours", "market share of ours (last 28 days)", "market share (%)"),
              ("sentiment_ours", "net sentiment about ours (last 28 days)", "net sentiment (-1 to 1)"),
              ("attitude_ours", "what people think of ours (mean attitude)", "mean attitude (-1 to 1)"),
              ("rating_ours", "displayed rating of ours (stars)", "stars (1-5)")]
    others = iter([POSITIVE_COLOUR, BRAND_COLOURS[2], BRAND_COLOURS[3], BRAND_COLOURS[4]] * 3)
    styles = {name: ("grey", "--") if name == "no crisis" else (NEGATIVE_COLOUR, "-") if name == "crisis"
              else (next(others), "-") for name in runs}
    for ax, (column, title, unit) in zip(axes.flat, panels):
        scale = 100 if column.startswith("market_share") else 1
        for name, results in runs.items():
            colour, line = styles[name]
            band(ax, [r.table for r in results], column, name, colour, line, scale=scale)
        mark_days(ax, {start: "crisis", fix: "fix"})
        ax.set_title(title)
        ax.set_ylabel(unit)
        if scale == 100:
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=100))
    axes[0, 1].axhline(0, color="grey", linewidth=0.8)
    axes[0, 0].legend(fontsize="small", loc="lower left")
    for ax in axes[1]:
        ax.set_xlabel("day")
    plt.show()
    return fig


def crisis_table(runs: dict, start: int = 120, fix: int = 240) -> pd.DataFrame:
    """:func:`crisis_measures` for each arm under the crisis: mean and range over the random seeds; and the
    purchases the crisis cost, against the same random seed without it."""
    def text(values: pd.Series) -> str:
        form = ".0f" if values.abs().max() >= 100 else ".3g"
        return f"{values.mean():{form}}  ({values.min():{form}} to {values.max():{form}})"

    calm = np.array([r.table["purchases_ours"].iloc[start + 1:].sum() for r in runs.get("no crisis", [])], float)
    rows = {}
    for name, results in runs.items():
        if name == "no crisis":
            continue
        values = pd.DataFrame([crisis_measures(r.table, start, fix) for r in results])
        if len(calm):
            values["purchases lost to the crisis (against no crisis)"] = calm - values[
                "purchases of ours from the crisis on"]
        rows[name] = {column: text(values[column]) for column in values.columns}
    return pd.DataFrame(rows)


def lever_effects(runs: dict, arm: str, start: int = 120, fix: int = 240) -> pd.DataFrame:
    """Paired effect of an arm's levers under the crisis: mean difference from "crisis", its standard error."""
    def measures(name: str) -> pd.DataFrame:
        return pd.DataFrame([crisis_measures(r.table, start, fix) for r in runs[name]])
    return effects(measures("crisis"), measures(arm))


def lever_figure(runs: dict, start: int = 120, fix: int = 240):
    """Per arm, the paired change (against "crisis", same random seed) in purchases of ours from the crisis on
    (%) and in the share of the fall made up by the end (percentage points)."""
    import matplotlib.pyplot as plt

    arms = [name for name in runs if name not in ("no crisis", "crisis")]
    base = pd.DataFrame([crisis_measures(r.table, start, fix) for r in runs["crisis"]])
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
    sales, made_up = {}, {}
    for arm in arms:
        changed = pd.DataFrame([crisis_measures(r.table, start, fix) for r in runs[arm]])
        key = "purchases of ours from the crisis on"
        sales[arm] = 100 * (changed[key] - base[key]) / base[key]
        made_up[arm] = 100 * (changed["share of the fall made up by the end"]
                              - base["share of the fall made up by the end"])
    dots(left, sales, "change in purchases of ours (%)", "Sales from the crisis on, against the crisis alone")
    dots(right, made_up, "change in the fall made up (percentage points)", "Share of the fall made up by the end")
    plt.show()
    return fig


# --- notebook 2: the four-times rule -------------------------------------------------------------

def negative_share(dissatisfied: float, multiplier: float) -> float:
    """Share of the conversation that is negative when a fraction ``dissatisfied`` of customers is unhappy
    and they share ``multiplier`` times as often: m d / (m d + 1 - d)."""
    talk = multiplier * dissatisfied
    return talk / (talk + 1.0 - dissatisfied) if talk + 1.0 - dissatisfied > 0 else float("nan")


_M_COLOURS = {1.0: BRAND_COLOURS[3], 2.0: BRAND_COLOURS[2], 4.0: BRAND_COLOURS[0], 8.0: BRAND_COLOURS[4]}


def m_colour(m: float) -> str:
    """Notebook 2's colour for the four-times rule's multiplier m (grey for a value off the list)."""
    return _M_COLOURS.get(float(m), "grey")


def loud_minority_figure(dissatisfied: float = 0.2, multiplier: float = 4.0):
    """The formula's curves for m = 1, 2, 4, 8, with the chosen point marked."""
    import matplotlib.pyplot as plt

    d = np.linspace(0, 1, 101)
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for m in sorted({1.0, 2.0, 4.0, 8.0, float(multiplier)}):
        style = "-" if m in _M_COLOURS else "--"
        ax.plot(100 * d, [100 * negative_share(x, m) for x in d], style, linewidth=2, color=m_colour(m),
                label=f"m = {m:g}")
    share = negative_share(dissatisfied, multiplier)
    ax.plot(100 * dissatisfied, 100 * share, "ko")
    ax.annotate(f"{share:.0%} of the talk", (100 * dissatisfied, 100 * share), xytext=(8, -14),
                textcoords="offset points")
    ax.axvline(8, color="grey", linestyle=":")  # about the baseline's share of disappointments
    ax.set_xlabel("dissatisfied customers (% of experiences)")
    ax.set_ylabel("negative stories (% of the conversation)")
    ax.set_title("The loud minority: share of the conversation that is negative")
    ax.legend(title="unhappy share m times as often", loc="lower right")
    plt.show()
    return fig


def conversation(multiplier_off: float = 1.0, multiplier_on: float = 4.0, population: int = 1000, seed: int = 1):
    """The baseline market with the rule off and on (same random seed): experiences and the conversation."""
    import matplotlib.pyplot as plt

    base = api.load("baseline", {"population.size": population, "sharing.negative_multiplier": multiplier_off})
    pair = api.compare(base, {"sharing.negative_multiplier": multiplier_on}, seed=seed)
    rows = {}
    for label, result in ((f"m = {multiplier_off:g}", pair.base), (f"m = {multiplier_on:g}", pair.changed)):
        s = result.summary()
        rows[label] = {"dissatisfied (% of experiences)": 100 * s["dissatisfied_share_of_experiences"],
                       "shared (% of experiences)": 100 * s["shared_share_of_experiences"],
                       "negative (% of the conversation)": 100 * s["negative_share_of_conversation"]}
    rows = pd.DataFrame(rows).T
    ax = rows.plot.bar(figsize=(8, 4), rot=0, color=[BRAND_COLOURS[2], BRAND_COLOURS[3], NEGATIVE_COLOUR])
    ax.set_ylabel("share (%)")
    ax.set_xlabel("the rule's multiplier m (x)")
    ax.set_title("Few unhappy customers, much of the conversation")
    ax.legend(loc="upper left", fontsize="small")
    plt.show()
    return rows.round(1)


def weak_market(quality: float = 0.5, population: int = 1000, multiplier: float = 1.0,
                loyal_skip_research: float = 0.5):
    """Notebook 2's weak brand: ours makes a weaker product than theirs (0.68), both known to everyone;
    ``loyal_skip_research`` is the loyalty loop (the chance a satisfied customer skips research)."""
    return api.load("baseline", {"population.size": population, "brands.ours.quality": quality,
                                 "brands.theirs.quality": 0.68, "brands.ours.initial_awareness": 1.0,
                                 "brands.theirs.initial_awareness": 1.0,
                                 "sharing.negative_multiplier": multiplier,
                                 "journey.loyal_skip_research": loyal_skip_research})


def weak_brand_totals(table: pd.DataFrame) -> dict[str, float]:
    """The year's totals of ours that notebook 2 compares."""
    days = table.iloc[1:]  # day 0 is the initial state
    positive, negative = days.shares_positive_ours.sum(), days.shares_negative_ours.sum()
    return {"customers won (acquisitions)": float(days.acquisitions_ours.sum()),
            "customers kept (retentions)": float(days.retentions_ours.sum()),
            "total sales (purchases)": float(days.purchases_ours.sum()),
            "negative share of the talk about ours": negative / (positive + negative) if positive + negative else 0.0,
            "net sentiment over the year": ((positive - negative) / (positive + negative)
                                            if positive + negative else 0.0),
            "final attitude (what people think)": float(table.attitude_ours.iloc[-1]),
            "final displayed rating": float(table.rating_ours.iloc[-1])}


def weak_brand_figure(quality: float = 0.5, multiplier: float = 4.0, population: int = 1000, seed: int = 1):
    """One pair of runs of the weak market, the rule off (m = 1) and on: attitude, customers won and kept."""
    import matplotlib.pyplot as plt

    pair = api.compare(weak_market(quality, population), {"sharing.negative_multiplier": multiplier}, seed=seed)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    for label, result, style, colour in (("m = 1", pair.base, "--", m_colour(1)),
                                         (f"m = {multiplier:g}", pair.changed, "-", m_colour(multiplier))):
        t = result.table
        axes[0].plot(t.step, t.attitude_ours, style, label=label, linewidth=2, color=colour)
        axes[1].plot(t.step, t.acquisitions_ours.cumsum(), style, label=label, linewidth=2, color=colour)
        axes[2].plot(t.step, t.retentions_ours.cumsum(), style, label=label, linewidth=2, color=colour)
    axes[0].set_title("What people think of ours (mean attitude of the aware)")
    axes[0].axhline(0, color="grey", linewidth=0.8)
    axes[1].set_title("Customers won by ours (cumulative acquisitions)")
    axes[2].set_title("Customers kept by ours (cumulative retentions)")
    axes[0].set_ylabel("mean attitude (-1 to 1)")
    axes[1].set_ylabel("acquisitions (count)")
    axes[2].set_ylabel("retentions (count)")
    for ax in axes:
        ax.set_xlabel("day")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2)
    plt.show()
    return pd.DataFrame({"m = 1": weak_brand_totals(pair.base.table),
                         f"m = {multiplier:g}": weak_brand_totals(pair.changed.table)}).round(3)


def weak_brand_seeds(quality: float = 0.5, multiplier: float = 4.0, seeds: Iterable[int] = range(8),
                     population: int = 1000, loyal_skip_research: float = 0.5):
    """The weak-brand comparison over paired random seeds: the effect table and the dots figure."""
    import matplotlib.pyplot as plt

    pairs = paired(weak_market(quality, population, loyal_skip_research=loyal_skip_research),
                   {"sharing.negative_multiplier": multiplier}, seeds)
    base = pd.DataFrame([weak_brand_totals(c.base.table) for c in pairs])
    changed = pd.DataFrame([weak_brand_totals(c.changed.table) for c in pairs])
    report = effects(base, changed)
    report["difference in %"] = 100 * report["difference"] / report["base"].abs()
    counts = ["customers won (acquisitions)", "customers kept (retentions)", "total sales (purchases)"]
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    dots(ax, {k: 100 * (changed[k] - base[k]) / base[k] for k in counts},
         f"change from m = 1 to m = {multiplier:g} (%)",
         f"The weak brand under the rule: {len(pairs)} paired random seeds")
    plt.show()
    return report[["base", "changed", "difference", "standard error", "difference / SE", "difference in %"]].round(3)


# --- notebook 8: calibration ----------------------------------------------------------------------

CALIBRATION_SERIES = ("purchases", "reviews", "rating", "net_sentiment")


def calibration_data(quality: float = 0.75, propensity: float = 0.12) -> pd.DataFrame:
    """Notebook 8's synthetic data: the baseline market at a known ``quality`` of ours and sharing
    ``propensity``, 300 simulated consumers standing for 30,000, 12 weekly periods (random seed 8)."""
    from .calibrate.synthetic import make_tidy

    truth = {"brands.ours.quality": quality, "sharing.base_propensity": propensity}
    return make_tidy("baseline", truth, list(CALIBRATION_SERIES), n_periods=12, period="week", population=300,
                     market_size=30_000, seed=8)


def calibration_spec(particles: int = 30, generations: int = 3, simulations: int = 300,
                     fit_persuasion: bool = False, rating_and_reviews: bool = True) -> str:
    """Notebook 8's calibration spec (TOML), for ``data.csv`` beside it: two free parameters (three with
    ``fit_persuasion``), the four series (two without ``rating_and_reviews``), a 3-week hold-out."""
    third = ('\n[parameters."ads.persuasion"]\nprior = "uniform"\nlow = 0.0\nhigh = 0.1\n'
             if fit_persuasion else "")
    series = CALIBRATION_SERIES if rating_and_reviews else ("purchases", "net_sentiment")
    return f'''title = "notebook 08: recover known parameters"
scenario = "baseline"
data = "data.csv"
period = "week"
population = 300
market_size = 30_000
holdout = 3
seed = 8   # the random seed

[parameters."brands.ours.quality"]
prior = "uniform"
low = 0.4
high = 0.95

[parameters."sharing.base_propensity"]
prior = "uniform"
low = 0.02
high = 0.2
{third}
{chr(10).join(f"[series.{s}]" for s in series)}

[budget]
population = {int(particles)}
max_population = {int(particles) + 10}
generations = {int(generations)}
simulations = {int(simulations)}
predictive = 12
'''


SHIPPED_CALIBRATION = "notebook08"   # scenarios/calibrations/notebook08/, made by make_notebook08.py


def load_calibration(folder) -> Any:
    """A finished calibration read back from its folder (``posterior_particles.csv`` or
    ``posterior.parquet``, ``posterior.csv``, ``fit.csv``, ``provenance.json``), as
    :class:`sim.calibrate.run.Calibration`: what :func:`sim.calibrate.calibrate` returned when it ran."""
    import json
    from pathlib import Path

    from .calibrate.run import Calibration

    folder = Path(folder)
    particles = folder / "posterior_particles.csv"
    posterior = pd.read_csv(particles) if particles.is_file() else pd.read_parquet(folder / "posterior.parquet")
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    return Calibration(folder, posterior, pd.read_csv(folder / "posterior.csv"), pd.read_csv(folder / "fit.csv"),
                       provenance.get("holdout_coverage_90"), int(provenance["generations"]),
                       int(provenance["simulations"]), float(provenance["seconds"]))


def posterior_figure(posterior: pd.DataFrame, priors: dict[str, tuple[float, float]],
                     truth: dict[str, float] | None = None):
    """One panel a free parameter: its uniform prior (grey), the weighted posterior, the truth if known."""
    import matplotlib.pyplot as plt

    from .plots import parameter_label

    fig, axes = plt.subplots(1, len(priors), figsize=(5 * len(priors), 3.4), layout="constrained", squeeze=False)
    for ax, (key, (lo, hi)) in zip(axes[0], priors.items()):
        ax.axhspan(0, 1 / (hi - lo), color="0.85", label="prior")
        ax.hist(posterior[key], weights=posterior["weight"], bins=15, range=(lo, hi), density=True,
                color=brand_colour(0), alpha=0.75, label="posterior")
        if truth and key in truth:
            ax.axvline(truth[key], color="black", linestyle="--", label="truth")
        ax.set_xlabel(parameter_label(key))
        ax.set_ylabel("probability density (1 / unit)")
        ax.set_xlim(lo, hi)
    axes[0][0].legend(fontsize="small", loc="upper left")
    plt.show()
    return fig


# The y label of each series a calibration observes (sim.calibrate.observe.OBSERVABLES; weekly data).
_SERIES_UNITS = {"purchases": "units sold a week (market)", "reviews": "new reviews a week (market)",
                 "rating": "displayed rating (stars, 1-5)", "net_sentiment": "net sentiment (-1 to 1)",
                 "revenue": "revenue a week (currency units)", "share": "market share (%)",
                 **{f"stars_{k}": f"{k}-star reviews a week (count)" for k in range(1, 6)}}


def fit_figure(fit: pd.DataFrame):
    """Each observed series against the posterior predictive median and its 50 % and 90 % bands; the
    hold-out shaded. ``fit`` is a calibration's ``fit.csv``."""
    import math

    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    panels = list(fit.groupby(["series", "brand"], sort=False))
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.0 * rows), layout="constrained", squeeze=False)
    brands = list(dict.fromkeys(fit["brand"]))
    for ax, ((name, brand), f) in zip(axes.flat, panels):
        colour = brand_colour(brands.index(brand))
        scale = 100 if name == "share" else 1  # shares in percent
        x = f["period"]
        hold = f[f["window"] == "holdout"]
        if not hold.empty:
            ax.axvspan(hold["period"].min() - 0.5, hold["period"].max() + 0.5, color="0.9",
                       label="hold-out (not fitted)")
        ax.fill_between(x, scale * f["q05"], scale * f["q95"], color=colour, alpha=0.18, label="90 % band")
        ax.fill_between(x, scale * f["q25"], scale * f["q75"], color=colour, alpha=0.35, label="50 % band")
        ax.plot(x, scale * f["median"], color=colour, linewidth=1.6, label="posterior predictive median")
        ax.plot(x, scale * f["observed"], "o", color="black", markersize=3, label="observed")
        if scale == 100:
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=100))
        ax.set_title(f"{name.replace('_', ' ')}: {brand}", fontsize="medium")
        ax.set_xlabel("period (week)")
        ax.set_ylabel(_SERIES_UNITS.get(name, name))
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize="small")
    plt.show()
    return fig
