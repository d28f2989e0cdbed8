"""Stylized facts of real markets, measured on the model: ``momentsim validate facts``.

Each fact is a replicated experiment (paired seeds where two runs are compared) whose measure is set
against the range the literature reports (``../shared/MODEL.md``, "Evidence"; ``docs/validation.md``
explains each). Nothing here is typed into the model: the facts come out of its mechanisms, and a
fact that fails says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from tqdm.auto import tqdm

from . import api
from .scenario import load
from .validation import bass_closed_form

MULTIPLIERS = (1.0, 2.0, 4.0, 8.0)


@dataclass
class Fact:
    """One row of the facts table: what is measured, against what, with its spread over seeds."""
    name: str
    source: str
    target: str
    low: float
    high: float
    values: list[float] = field(default_factory=list)  # one measure per seed (or paired difference)

    def interval(self) -> tuple[float, float, float]:
        """Mean and 95 % t-interval over the replicates."""
        x = np.asarray(self.values, dtype=float)
        x = x[np.isfinite(x)]
        if len(x) == 0:
            return float("nan"), float("nan"), float("nan")
        mean = float(x.mean())
        if len(x) < 2:
            return mean, mean, mean
        half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
        return mean, mean - half, mean + half

    @property
    def passed(self) -> bool:
        mean = self.interval()[0]
        return bool(self.low <= mean <= self.high)

    def row(self) -> dict:
        mean, lo, hi = self.interval()
        return {"fact": self.name, "source": self.source, "target": self.target, "low": self.low,
                "high": self.high, "mean": mean, "ci_low": lo, "ci_high": hi, "replicates": len(self.values),
                "passed": self.passed}


class Runner:
    """Runs a scenario with overrides at a seed, the population and engine of the check, and keeps what a
    fact needs: the table, and per consumer the purchases of the recorded days."""

    def __init__(self, population: int, engine: str, steps: int | None = None):
        self.population, self.engine, self.steps = population, engine, steps

    def run(self, scenario: str, seed: int, overrides: dict | None = None, steps: int | None = None):
        changes = {"engine": self.engine, "population.size": self.population, **(overrides or {})}
        resolved = api.resolve(scenario, steps=steps or self.steps, seed=seed, overrides=changes)
        model = api.model_for(resolved)
        before = model.purchases.copy()
        for _ in range(resolved.params["steps"]):
            model.step()
        return model.table(), model.purchases - before, model


def _sum(table: pd.DataFrame, column: str) -> float:
    return float(table[column].iloc[1:].sum())


def _fit_bass(t_years: np.ndarray, adopted: np.ndarray) -> tuple[float, float]:
    """Least-squares Bass (1969) p and q a year for an adopted fraction over time."""
    def loss(x):
        p, q = np.exp(x)
        return bass_closed_form(t_years, p, q) - adopted
    best = optimize.least_squares(loss, x0=np.log([0.03, 0.4]), bounds=(np.log(1e-5), np.log(20.0)))
    p, q = np.exp(best.x)
    return float(p), float(q)


def half_times(series: np.ndarray, start: int, fix: int) -> tuple[float, float]:
    """Days from ``start`` until the series has made half its fall, and from ``fix`` until it has made
    half its recovery (from the lowest point toward the level before ``start``)."""
    before = float(series[max(0, start - 28):start].mean())
    low_at = start + int(np.argmin(series[start:]))
    low = float(series[low_at])
    fall = before - low
    if fall <= 0:
        return float("nan"), float("nan")
    half_fall = np.nonzero(series[start:] <= before - fall / 2)[0]
    half_up = np.nonzero(series[max(fix, low_at):] >= low + fall / 2)[0]
    down = float(half_fall[0]) if len(half_fall) else float("nan")
    up = float(half_up[0] + max(fix, low_at) - fix) if len(half_up) else float(len(series) - fix)
    return down, up


def measure(seeds: int = 10, population: int = 2000, engine: str = "array", progress: bool | None = None,
            first_seed: int = 1) -> tuple[list[Fact], dict]:
    """Run every experiment over ``seeds`` seeds; the facts and what the figures draw."""
    runner = Runner(population, engine)
    facts = {
        "wom": Fact("positive : negative word of mouth (baseline)", "East, Hammond & Wright (2007)",
                    "2 to 4", 2.0, 4.0),
        **{f"ratio_{m:g}": Fact(f"dissatisfied / satisfied share rate per experience, multiplier {m:g}",
                                "seed 000 (the 4x rule, as set)", f"{m:g} within 10 %", 0.9 * m, 1.1 * m)
           for m in MULTIPLIERS},
        "five_first": Fact("ratings J-shaped: share of 5 stars less the next most common", "Hu, Pavlou & Zhang "
                           "(2009)", "> 0", 0.0, np.inf),
        "one_over_two": Fact("ratings J-shaped: share of 1 star less share of 2 stars", "Hu, Pavlou & Zhang "
                             "(2009)", "> 0", 0.0, np.inf),
        "mean_rating": Fact("displayed rating of a decent brand (baseline 'ours', day 365)",
                            "Schoenmuller, Netzer & Stahl (2020)", "3.9 to 4.4", 3.9, 4.4),
        "prompting": Fact("review prompting (30 % asked): rise of the displayed rating", "Askalidis, Kim & "
                          "Malthouse (2017)", "+0.2 to +0.7 stars", 0.2, 0.7),
        "nbd": Fact("yearly category purchases per consumer: variance / mean", "Ehrenberg (NBD)", "> 1.5",
                    1.5, np.inf),
        "dj_buyers": Fact("double jeopardy: smaller brand's buyers / larger brand's", "Ehrenberg; Goodhardt, "
                          "Ehrenberg & Chatfield (1984)", "< 1", 0.0, 1.0),
        "dj_frequency": Fact("double jeopardy: smaller brand's purchases per buyer / larger brand's",
                             "Ehrenberg; Goodhardt, Ehrenberg & Chatfield (1984)", "< 1", 0.0, 1.0),
        "bass": Fact("new category: fitted Bass q / p", "Sultan, Farley & Lehmann (1990): 13 on average",
                     "4 to 40", 4.0, 40.0),
        "s_shape": Fact("new category: year of peak adoption (S-shaped: after the first)", "Bass (1969)",
                        "> 1 year", 1.0, np.inf),
        "price": Fact("price elasticity of a brand's unit sales (+-5 %, paired)", "Bijmolt, van Heerde & "
                      "Pieters (2005): -2.6", "-4 to -1.5", -4.0, -1.5),
        "ads": Fact("advertising elasticity of unit sales over a year (x0.5 to x2, paired)", "Sethuraman, Tellis & "
                    "Briesch (2011): 0.12", "0.03 to 0.25", 0.03, 0.25),
        "crisis": Fact("product-harm crisis: days to half the recovery less days to half the fall",
                       "Van Heerde, Helsen & Dekimpe (2007); Cleeren et al. (2008)", "> 0", 0.0, np.inf),
        "recovery": Fact("rebuy rate after a resolved complaint less after a never-failed experience",
                         "de Matos, Henrique & Rossi (2007)", "<= 0 (within 0.03)", -1.0, 0.03),
    }
    drawn: dict = {"stars": [], "crisis": [], "adoption": []}
    seed_list = list(range(first_seed, first_seed + seeds))
    bar = tqdm(total=seeds * 12, desc="facts", unit="run", disable=None if progress is None else not progress)
    for seed in seed_list:
        # The baseline at every multiplier (4 is the baseline itself).
        for m in MULTIPLIERS:
            table, bought, model = runner.run("baseline", seed, {"sharing.negative_multiplier": m})
            bar.update(1)
            rate_neg = _sum(table, "shares_negative") / max(_sum(table, "experiences_dissatisfied"), 1)
            rate_pos = _sum(table, "shares_positive") / max(_sum(table, "experiences_satisfied"), 1)
            facts[f"ratio_{m:g}"].values.append(rate_neg / rate_pos if rate_pos else np.nan)
            if m != 4.0:
                continue
            facts["wom"].values.append(_sum(table, "shares_positive") / max(_sum(table, "shares_negative"), 1))
            posted = np.array([_sum(table, f"stars_{s}_ours") + _sum(table, f"stars_{s}_theirs")
                               for s in range(1, 6)])
            share = posted / posted.sum()
            drawn["stars"].append(share)
            facts["five_first"].values.append(share[4] - share[:4].max())
            facts["one_over_two"].values.append(share[0] - share[1])
            baseline_rating = float(table["rating_ours"].iloc[-1])
            facts["mean_rating"].values.append(baseline_rating)
            yearly = bought.sum(axis=1)
            facts["nbd"].values.append(yearly.var() / yearly.mean())
            followed = model.rebuys_after
            recovered = followed[1, 1] / max(followed[1].sum(), 1)
            never_failed = followed[0, 1] / max(followed[0].sum(), 1)
            facts["recovery"].values.append(recovered - never_failed)
        # Double jeopardy: the baseline with a clearly weaker brand (theirs' quality 0.55).
        _, bought, _ = runner.run("baseline", seed, {"brands.theirs.quality": 0.55})
        bar.update(1)
        brands = bought.sum(axis=0)
        small, large = int(np.argmin(brands)), int(np.argmax(brands))
        buyers = (bought > 0).sum(axis=0)
        frequency = brands / np.maximum(buyers, 1)
        facts["dj_buyers"].values.append(buyers[small] / buyers[large])
        facts["dj_frequency"].values.append(frequency[small] / frequency[large])
        # Review prompting, paired.
        prompted, _, _ = runner.run("baseline", seed, {"brands.ours.review_prompting": 0.3})
        bar.update(1)
        facts["prompting"].values.append(float(prompted["rating_ours"].iloc[-1] - baseline_rating))
        # Price and advertising elasticities, paired seeds.
        sales = {}
        for name, lever, factor in (("price_up", "price", 1.05), ("price_down", "price", 0.95),
                                    ("ads_up", "ad_intensity", 2.0), ("ads_down", "ad_intensity", 0.5)):
            value = load("baseline").params.brand("ours")[lever] * factor
            table, _, _ = runner.run("baseline", seed, {f"brands.ours.{lever}": value})
            sales[name] = _sum(table, "purchases_ours")
            bar.update(1)
        facts["price"].values.append(np.log(sales["price_up"] / sales["price_down"]) / np.log(1.05 / 0.95))
        facts["ads"].values.append(np.log(sales["ads_up"] / sales["ads_down"]) / np.log(2.0 / 0.5))
        # The quality crisis: how fast net sentiment falls, and how fast it recovers after the fix.
        table, _, _ = runner.run("quality_crisis", seed, steps=540)
        bar.update(1)
        events = load("quality_crisis").params.events
        start, fix = events[0].day, events[1].day
        series = table["sentiment_ours"].to_numpy()
        drawn["crisis"].append(series)
        down, up = half_times(series, start, fix)
        facts["crisis"].values.append(up - down)
        # A new category: adoption over the years, and its Bass fit.
        table, _, _ = runner.run("new_category", seed)
        bar.update(1)
        adopted = table["adopters"].to_numpy() / population
        years = table["step"].to_numpy() / 365.0
        drawn["adoption"].append(adopted)
        p, q = _fit_bass(years[1:], adopted[1:])
        facts["bass"].values.append(q / p)
        yearly = np.diff(adopted[::365])
        facts["s_shape"].values.append(float(np.argmax(yearly) + 0.5))
    bar.close()
    drawn["years"] = years
    return list(facts.values()), drawn


def table(facts: list[Fact]) -> pd.DataFrame:
    return pd.DataFrame([f.row() for f in facts])


# What each fact's measure is, in its unit, on its figure (x100: a difference of shares drawn in points).
MEASURE_AXES = {
    "wom": ("positive : negative stories (ratio)", 1.0),
    **{f"ratio_{m:g}": ("dissatisfied / satisfied rate of sharing (ratio)", 1.0) for m in MULTIPLIERS},
    "five_first": ("5-star reviews less the next most common star (percentage points of reviews)", 100.0),
    "one_over_two": ("1-star reviews less 2-star reviews (percentage points of reviews)", 100.0),
    "mean_rating": ("displayed rating (stars, 1-5)", 1.0),
    "prompting": ("rise of the displayed rating (stars)", 1.0),
    "nbd": ("variance / mean of yearly purchases (ratio)", 1.0),
    "dj_buyers": ("smaller brand's buyers / larger brand's (ratio)", 1.0),
    "dj_frequency": ("smaller brand's purchases per buyer / larger brand's (ratio)", 1.0),
    "bass": ("fitted Bass q / p (ratio)", 1.0),
    "s_shape": ("year of peak adoption (years)", 1.0),
    "price": ("price elasticity (% change in sales per 1 % change in price)", 1.0),
    "ads": ("advertising elasticity (% change in sales per 1 % change in ads)", 1.0),
    "crisis": ("days to half the recovery less days to half the fall (days)", 1.0),
    "recovery": ("rebuy rate after a resolved complaint less after none (percentage points)", 100.0),
}


def figures(facts: list[Fact], drawn: dict) -> list[tuple[str, Any]]:
    """A figure per fact: the star distribution, the crisis, the adoption curve, and the measure against its
    target range for the rest (``sim.plots.check_figure_rules`` holds for each)."""
    from matplotlib.figure import Figure

    from . import plots

    made = []
    for key, fact in zip(_keys(facts), facts):
        fig = Figure(figsize=(6, 3.2), layout="constrained")
        ax = fig.subplots()
        if key == "five_first" and drawn["stars"]:
            share = np.mean(drawn["stars"], axis=0)
            ax.bar(range(1, 6), share * 100, color=plots.PALETTE[0])
            ax.set_xlabel("stars of the reviews posted")
            ax.set_ylabel("reviews posted (%)")
            ax.set_title("Public ratings are J-shaped")
        elif key == "crisis" and drawn["crisis"]:
            for series in drawn["crisis"]:
                ax.plot(series, color=plots.NEGATIVE_COLOUR, alpha=0.3, lw=0.8)
            ax.plot(np.mean(drawn["crisis"], axis=0), color=plots.NEGATIVE_COLOUR, lw=2, label="mean over seeds")
            ax.set_xlabel("day")
            ax.set_ylabel("net sentiment, last 28 days (-1 to 1)")
            ax.set_title("Quality crisis: fast fall, slower recovery")
            plots.legend_beside(ax)
        elif key == "bass" and drawn["adoption"]:
            years = drawn["years"]
            for adopted in drawn["adoption"]:
                ax.plot(years, np.asarray(adopted) * 100, color=plots.PALETTE[2], alpha=0.3, lw=0.8)
            ax.set_xlabel("years")
            ax.set_ylabel("adopted (% of consumers)")
            ax.set_title("A new category adopts in an S-curve")
        else:
            label, scale = MEASURE_AXES.get(key, (fact.name, 1.0))
            mean, lo, hi = (scale * v for v in fact.interval())
            low, high = scale * fact.low, scale * fact.high
            finite = [v for v in (low, high, lo, hi, mean) if np.isfinite(v)]
            span = (max(finite) - min(finite)) or 1.0
            ax.axvspan(low if np.isfinite(low) else min(finite) - span, high if np.isfinite(high)
                       else max(finite) + span, color=plots.PALETTE[2], alpha=0.15, label="target")
            ax.errorbar([mean], [0], xerr=[[mean - lo], [hi - mean]], fmt="o", color=plots.PALETTE[0],
                        capsize=4, label="measured, 95 % interval")
            ax.set_xlim(min(finite) - 0.3 * span, max(finite) + 0.3 * span)
            ax.set_yticks([])
            ax.set_xlabel(label, fontsize=8)
            ax.set_title(fact.name, fontsize=9)
            fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)  # below, off the data
        made.append((key, fig))
    return made


def write(facts: list[Fact], drawn: dict, out: Path) -> list[Path]:
    """facts.csv and a figure per fact (:func:`figures`), written atomically into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    frame = table(facts)
    tmp = out / "facts.csv.tmp"
    tmp.write_text(frame.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    tmp.replace(out / "facts.csv")
    written.append(out / "facts.csv")
    for key, fig in figures(facts, drawn):
        path = out / f"fact_{key}.png"
        fig.savefig(path.with_suffix(".tmp.png"), dpi=100, bbox_inches="tight")
        path.with_suffix(".tmp.png").replace(path)
        written.append(path)
    return written


def _keys(facts: list[Fact]) -> list[str]:
    names = ["wom", *[f"ratio_{m:g}" for m in MULTIPLIERS], "five_first", "one_over_two", "mean_rating",
             "prompting", "nbd", "dj_buyers", "dj_frequency", "bass", "s_shape", "price", "ads", "crisis",
             "recovery"]
    return names[:len(facts)]
