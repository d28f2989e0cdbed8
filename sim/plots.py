"""Matplotlib figures shared by the CLI, the app and the notebooks.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so
they are safe to draw from a web server's threads and render offline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .record import STAGE_COLUMNS

STAGE_COLOURS = ["#d9d9d9", "#fdd0a2", "#9ecae1", "#3182bd", "#a1d99b", "#fc9272"]
STAGE_LABELS = ["dormant", "stimulus", "ZMOT", "FMOT", "SMOT", "UMOT"]
CONVERSATION_WINDOW = 7  # days in the mean of the word-of-mouth chart


def brands_in(table: pd.DataFrame) -> list[str]:
    """The brand names of a recorded table, from its ``sentiment_<brand>`` columns."""
    return [c.removeprefix("sentiment_") for c in table.columns if c.startswith("sentiment_")]


def plot_sentiment(ax, table: pd.DataFrame, title: str = "Brand sentiment") -> None:
    for i, brand in enumerate(brands_in(table)):
        ax.plot(table["step"], table[f"sentiment_{brand}"], label=brand, linewidth=2, color=brand_colour(i))
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_ylim(-1.0, 1.0)
    ax.set_ylabel("net sentiment, last 28 days (-1 to 1)")
    ax.set_title(title)
    ax.legend(loc="upper left")


def plot_funnel(ax, table: pd.DataFrame, include_dormant: bool = False) -> None:
    """Consumers in each journey stage, stacked, day by day."""
    stages = [(c, label, colour) for c, label, colour in zip(STAGE_COLUMNS, STAGE_LABELS, STAGE_COLOURS)
              if include_dormant or c != "stage_dormant"]
    ax.stackplot(table["step"], *[table[c] for c, _, _ in stages],
                 labels=[label for _, label, _ in stages], colors=[colour for _, _, colour in stages])
    ax.set_ylabel("consumers" + ("" if include_dormant else " on the journey (not dormant)"))
    ax.set_xlabel("day")
    ax.set_title("Journey funnel")
    ax.legend(loc="upper left", ncol=len(stages), fontsize="small")


def sentiment_figure(table: pd.DataFrame, title: str = "") -> Figure:
    """Brand sentiment over time above the journey funnel: the CLI's ``sentiment.png``."""
    figure = Figure(figsize=(10, 7), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    plot_sentiment(top, table, f"Brand sentiment — {title}" if title else "Brand sentiment")
    plot_funnel(bottom, table)
    return figure




# --- more charts: the app's, also usable from notebooks -------------------------------------------
# Brand i is drawn in BRAND_COLOURS[i] everywhere, so a brand has one colour on every chart. The
# colours are Okabe & Ito's (2008), distinguishable with every common colour-vision deficiency;
# positive and negative stories are bluish green and vermillion (never red against green), and
# neither is a brand's colour.

BRAND_COLOURS = ["#0072B2", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
POSITIVE_COLOUR = "#009E73"
NEGATIVE_COLOUR = "#D55E00"


def brand_colour(index: int) -> str:
    """The colour of the brand at ``index`` in ``market.brands``, the same on every chart."""
    return BRAND_COLOURS[index % len(BRAND_COLOURS)]


def plot_brand_lines(ax, table: pd.DataFrame, column: str, label: str = "{brand}",
                     linestyle: str = "-", linewidth: float = 2.0, alpha: float = 1.0) -> None:
    """One line per brand of ``<column>_<brand>`` against the day, in the brand's colour."""
    for i, brand in enumerate(brands_in(table)):
        ax.plot(table["step"], table[f"{column}_{brand}"], color=brand_colour(i),
                label=label.format(brand=brand), linestyle=linestyle, linewidth=linewidth, alpha=alpha)


def plot_market_share(ax, table: pd.DataFrame, **style) -> None:
    """Each brand's share of purchases over the share window (``market_share_<brand>``)."""
    plot_brand_lines(ax, table, "market_share", **style)
    ax.set_ylim(0.0, 1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_ylabel("share of purchases, last 28 days")
    ax.set_xlabel("day")
    ax.set_title("Market share")


def plot_rating(ax, table: pd.DataFrame, **style) -> None:
    """Each brand's displayed rating, 1 to 5 stars (none drawn before the first review)."""
    rated = table.copy()
    for brand in brands_in(table):
        if f"reviews_{brand}" in table.columns:
            rated[f"rating_{brand}"] = table[f"rating_{brand}"].where(table[f"reviews_{brand}"] > 0)
    plot_brand_lines(ax, rated, "rating", **style)
    ax.set_ylim(1.0, 5.0)
    ax.axhline(4.2, color="grey", linewidth=0.8)  # what readers take as an ordinary rating
    ax.set_ylabel("stars (1-5)")
    ax.set_xlabel("day")
    ax.set_title("Public rating")


def plot_conversation(ax, table: pd.DataFrame, label: str = "{kind}", linestyle: str = "-",
                      linewidth: float = 1.5, alpha: float = 1.0) -> None:
    """Experiences shared each day, positive and negative (all brands), as a 7-day mean.

    Daily counts are a handful at a few thousand consumers; the weekly mean shows the trend.
    Called once per run on the same axes: the y range grows to hold every run drawn.
    """
    for column, kind, colour in (("shares_positive", "positive", POSITIVE_COLOUR),
                                 ("shares_negative", "negative", NEGATIVE_COLOUR)):
        weekly = table[column].rolling(CONVERSATION_WINDOW, min_periods=1).mean()
        ax.plot(table["step"], weekly, color=colour, label=label.format(kind=kind),
                linestyle=linestyle, linewidth=linewidth, alpha=alpha)
    top = max((float(np.nanmax(line.get_ydata())) for line in ax.get_lines() if len(line.get_ydata())),
              default=0.0)
    ax.set_ylim(0.0, max(1.0, 1.08 * top))
    ax.set_ylabel(f"experiences shared per day ({CONVERSATION_WINDOW}-day mean)")
    ax.set_xlabel("day")
    ax.set_title("Word of mouth: positive and negative shares")


def plot_difference(ax, difference: pd.DataFrame, column: str = "sentiment",
                    ylabel: str = "difference in sentiment") -> None:
    """``<column>_<brand>`` of a :meth:`sim.Comparison.difference` table: changed minus base."""
    for i, brand in enumerate(brands_in(difference)):
        ax.plot(difference["step"], difference[f"{column}_{brand}"], color=brand_colour(i),
                label=brand, linewidth=2)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("day")
    ax.set_title("Effect of the change (changed minus scenario, same seed)")
    ax.legend(loc="upper left")


def plot_network(ax, positions, edges, attitude, aware, sharing, satisfied, brand: str,
                 note: str = "") -> None:
    """Consumers at ``positions`` coloured by attitude toward ``brand`` (grey: unaware).

    ``edges`` is an (m, 2) array of indices into ``positions`` (may be empty); ``sharing`` marks
    those sharing an experience today, ringed green (satisfied) or red (dissatisfied).
    """
    if len(edges):
        ax.add_collection(LineCollection(positions[edges], colors="#bbbbbb", linewidths=0.3,
                                         alpha=0.35, zorder=1))
    ax.scatter(positions[~aware, 0], positions[~aware, 1], s=9, color="#e0e0e0", zorder=2,
               label="unaware")
    points = ax.scatter(positions[aware, 0], positions[aware, 1], s=9, c=attitude[aware],
                        cmap="RdYlGn", vmin=-1.0, vmax=1.0, zorder=3)
    for mask, colour, label in ((sharing & satisfied, POSITIVE_COLOUR, "sharing a good experience"),
                                (sharing & ~satisfied, NEGATIVE_COLOUR, "sharing a bad experience")):
        ax.scatter(positions[mask, 0], positions[mask, 1], s=46, facecolors="none",
                   edgecolors=colour, linewidths=1.4, zorder=4, label=label)
    ax.figure.colorbar(points, ax=ax, shrink=0.7, label=f"attitude toward {brand} (-1 to 1)")
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"Consumers by attitude toward {brand}" + (f"\n{note}" if note else ""),
                 fontsize="medium")
    ax.legend(loc="lower left", fontsize="small", framealpha=0.9)


def network_layout(contacts, kind: str, limit: int = 2500, seed: int = 0):
    """Where to draw each consumer: (nodes shown, their positions, edges among them).

    Cheap layouts that say something true of the network, computed once per model (a spring
    layout of thousands of nodes takes seconds): the small world on its ring (rewired
    contacts cut across), scale-free hubs in the centre, a random or fully mixed market as a
    disc. Above ``limit`` consumers a random sample of ``limit`` is shown.
    """
    n = contacts.size
    rng = np.random.default_rng(seed)
    nodes = np.sort(rng.choice(n, size=limit, replace=False)) if n > limit else np.arange(n)
    m = len(nodes)
    degrees = contacts.degrees()[nodes].astype(float)
    if kind == "small_world":
        angle = 2 * np.pi * nodes / max(n, 1)
        radius = 1.0 + 0.04 * rng.standard_normal(m)
    elif kind == "scale_free":
        # Hubs in the middle: radius grows as the degree's rank falls.
        rank = np.argsort(np.argsort(-degrees)) / max(m - 1, 1)
        angle = rng.uniform(0, 2 * np.pi, m)
        radius = np.sqrt(rank) + 0.03 * rng.standard_normal(m)
    else:
        angle = rng.uniform(0, 2 * np.pi, m)
        radius = np.sqrt(rng.uniform(0, 1, m))
    positions = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    if contacts.mixed:
        return nodes, positions, np.empty((0, 2), dtype=np.int64)
    where = np.full(n, -1)
    where[nodes] = np.arange(m)
    source = np.repeat(np.arange(n), np.diff(contacts.indptr))
    target = contacts.indices
    keep = (source < target) & (where[source] >= 0) & (where[target] >= 0)
    edges = np.column_stack([where[source[keep]], where[target[keep]]])
    return nodes, positions, edges


# --- labels with units, for sweep reports and exports -------------------------------------------------

_TOTAL_LABELS = {
    "population": "consumers (count)",
    "adopters": "adopters (consumers who ever bought)",
    "purchases": "purchases (count, all brands)",
    "experiences": "experiences judged (count)",
    "dissatisfied_share_of_experiences": "dissatisfied experiences (% of experiences)",
    "shared_share_of_experiences": "experiences shared (% of experiences)",
    "negative_share_of_conversation": "negative stories (% of the conversation)",
}
_BRAND_LABELS = {
    "sentiment": "sentiment of {brand} (-1 to +1)",
    "rating": "public rating of {brand} (stars, 1-5)",
    "aware": "aware of {brand} (% of consumers)",
    "purchases": "purchases of {brand} (count)",
    "market_share": "market share of {brand} (% of purchases)",
    "revenue": "revenue of {brand} (currency units)",
    "acquisitions": "customers acquired by {brand} (count)",
    "retentions": "customers retained by {brand} (count)",
    "acquisition_cost": "acquisition cost of {brand} (currency units)",
    "retention_cost": "retention cost of {brand} (currency units)",
    "shares_positive": "positive stories about {brand} (count)",
    "shares_negative": "negative stories about {brand} (count)",
    "reviews": "reviews of {brand} (count)",
}
PERCENT_METRICS = ("dissatisfied_share_of_experiences", "shared_share_of_experiences",
                   "negative_share_of_conversation", "market_share_", "aware_")


def is_percent(metric: str) -> bool:
    """A share, shown in percent on every figure (stored as a fraction in the tables)."""
    return any(metric == p or (p.endswith("_") and metric.startswith(p)) for p in PERCENT_METRICS)


def metric_label(metric: str) -> str:
    """A human label with its unit for an end-of-run metric (the name itself for other outputs)."""
    if metric in _TOTAL_LABELS:
        return _TOTAL_LABELS[metric]
    for name in sorted(_BRAND_LABELS, key=len, reverse=True):
        if metric.startswith(name + "_"):
            return _BRAND_LABELS[name].format(brand=metric[len(name) + 1:])
    return metric


def parameter_label(key: str) -> str:
    """A human label with its unit for a dotted parameter key, from the schema."""
    from .params import BRAND_SCHEMA, SCHEMA

    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "brands" and parts[2] in BRAND_SCHEMA:
        param, words, brand = BRAND_SCHEMA[parts[2]], parts[2].replace("_", " "), parts[1]
        words = f"{words} of {brand}"
    elif key in SCHEMA:
        param, words = SCHEMA[key], parts[-1].replace("_", " ")
        if len(parts) > 1 and parts[0] not in ("population", "journey"):
            words = f"{parts[0]} {words}"
    else:
        return key
    if param.low == 0.0 and param.high == 1.0:
        unit = " (0-1)"
    elif key.endswith("_days"):
        unit = " (days)"
    elif parts[-1] in ("price", "acquisition_cost", "retention_cost", "reference_price"):
        unit = " (currency units)"
    elif parts[-1] == "recovered_rating":
        unit = " (stars, 1-5)"
    elif parts[-1] in ("negative_multiplier", "young_checks_multiplier"):
        unit = " (x)"
    elif param.kind is int:
        unit = " (count)"
    else:
        unit = ""
    return words[:1].upper() + words[1:] + unit
