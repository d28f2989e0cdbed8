"""Matplotlib figures shared by the CLI, the app and the notebooks.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so
they are safe to draw from a web server's threads and render offline.
"""

from __future__ import annotations

import colorsys
import re

import numpy as np
import pandas as pd
from matplotlib.collections import Collection, LineCollection, PolyCollection
from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from .record import STAGE_COLUMNS

# The journey's stages in order: grey for the dormant, then light tints of the Okabe-Ito colours, told
# apart by colour-blind readers too (no light green against pink, as before).
STAGE_COLOURS = ["#d9d9d9", "#f6ee8f", "#a6d8f5", "#0072B2", "#f2c66d", "#e3a6c9"]
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
    ax.set_xlabel("day")
    ax.set_title(title)
    legend_beside(ax)


def plot_funnel(ax, table: pd.DataFrame, include_dormant: bool = False) -> None:
    """Consumers in each journey stage, stacked, day by day."""
    stages = [(c, label, colour) for c, label, colour in zip(STAGE_COLUMNS, STAGE_LABELS, STAGE_COLOURS)
              if include_dormant or c != "stage_dormant"]
    ax.stackplot(table["step"], *[table[c] for c, _, _ in stages],
                 labels=[label for _, label, _ in stages], colors=[colour for _, _, colour in stages])
    ax.set_ylabel("consumers" + ("" if include_dormant else " on the journey (not dormant)"))
    ax.set_xlabel("day")
    ax.set_title("Journey funnel")
    legend_beside(ax, reverse=True)  # listed top to bottom as the bands are stacked


def sentiment_figure(table: pd.DataFrame, title: str = "") -> Figure:
    """Brand sentiment over time above the journey funnel: the CLI's ``sentiment.png``."""
    figure = Figure(figsize=(10, 7), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    plot_sentiment(top, table, f"Brand sentiment — {title}" if title else "Brand sentiment")
    top.set_xlabel("")  # the day is read off the funnel below (shared axis)
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
# The one palette: Okabe & Ito's eight, for series that are not brands (arms of a comparison, the
# points of a sweep, a fit against its data). Brands and stories take theirs from the same eight.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
# Attitude from -1 to 1: vermillion (bad) through yellow to bluish green (good), the stories' colours,
# so bad and good look the same on every chart; yellow in the middle keeps neutral apart from the
# grey of the unaware. Not red against green (RdYlGn), which a red-green colour-blind reader cannot tell.
ATTITUDE_CMAP = LinearSegmentedColormap.from_list("momentsim_attitude",
                                                  [NEGATIVE_COLOUR, "#F0E442", POSITIVE_COLOUR])


def brand_colour(index: int) -> str:
    """The colour of the brand at ``index`` in ``market.brands``, the same on every chart."""
    return BRAND_COLOURS[index % len(BRAND_COLOURS)]


def series_colour(index: int) -> str:
    """The colour of the ``index``-th series that is not a brand (an arm, a group of sweep points)."""
    return PALETTE[index % len(PALETTE)]


def percent_axis(ax, axis: str = "y", fraction: bool = True) -> None:
    """Show a share in percent: values stored as fractions (``fraction``) or already times 100."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0 if fraction else 100.0, decimals=None))


def label_axes(ax, x: str | None = None, y: str | None = None, title: str | None = None) -> None:
    """Label an axes: each label names what is shown and its unit, e.g. ``"cumulative profit (EUR)"``."""
    if x is not None:
        ax.set_xlabel(x)
    if y is not None:
        ax.set_ylabel(y)
    if title is not None:
        ax.set_title(title)


def legend_beside(ax, **options):
    """A legend to the right of the axes, outside the plotted area, so it never covers data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                     **{"fontsize": "small", "frameon": False, **options})


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
    percent_axis(ax)
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
                    ylabel: str = "difference in net sentiment (-2 to 2)") -> None:
    """``<column>_<brand>`` of a :meth:`sim.Comparison.difference` table: changed minus base."""
    for i, brand in enumerate(brands_in(difference)):
        ax.plot(difference["step"], difference[f"{column}_{brand}"], color=brand_colour(i),
                label=brand, linewidth=2)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("day")
    ax.set_title("Effect of the change (changed minus scenario, same seed)")
    legend_beside(ax)


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
                        cmap=ATTITUDE_CMAP, vmin=-1.0, vmax=1.0, zorder=3)
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
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncols=3, fontsize="small",
              frameon=False)  # below the consumers, never over them


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


# --- the figure rules, checked -----------------------------------------------------------------------
# Issue 11: every axis labelled with its unit, legends that do not cover data, one palette, no red
# against green as the only cue, shares in percent. ``check_figure_rules`` is what tests/test_figures.py
# runs on every figure the project makes; other tests (the app's, the notebooks') may call it too.

UNIT_WORDS = ("day", "days", "week", "weeks", "month", "months", "year", "years", "round", "trial",
              "stars", "consumers", "count")
_GREY_TOLERANCE = 0.04


def _is_grey(rgb) -> bool:
    return max(rgb) - min(rgb) <= _GREY_TOLERANCE


def allowed_colours() -> set[str]:
    """The colours a figure may draw data in (besides greys): the palette, the stages, the attitude scale."""
    stops = [to_hex(ATTITUDE_CMAP(x)) for x in np.linspace(0.0, 1.0, 256)]
    return {c.lower() for c in (*PALETTE, *BRAND_COLOURS, POSITIVE_COLOUR, NEGATIVE_COLOUR, *STAGE_COLOURS,
                                *stops)}


def _hue_class(colour) -> str:
    """"red", "green" or "" for a colour: saturated enough to be read by its hue alone."""
    h, s, v = colorsys.rgb_to_hsv(*to_rgb(colour))
    if s < 0.4 or v < 0.3:
        return ""
    degrees = h * 360
    if degrees < 15 or degrees >= 340:
        return "red"
    if 80 <= degrees <= 160:
        return "green"
    return ""


def _name(ax) -> str:
    title = ax.get_title() or (ax.figure._suptitle.get_text() if getattr(ax.figure, "_suptitle", None) else "")
    return repr((title or ax.get_label() or "untitled").split("\n")[0][:50])


def _has_unit(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower())
    return "(" in text or "%" in text or any(w in UNIT_WORDS for w in words)


def _numeric_ticks(labels) -> bool:
    texts = [t.get_text().replace("\u2212", "-").replace("%", "").replace(",", "").strip() for t in labels]
    try:
        [float(t) for t in texts if t]
    except ValueError:
        return False
    return any(texts)


def _shown_ticks(axis) -> list:
    return [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]


def _percent_problem(axis, label: str, limits: tuple[float, float]) -> str:
    percent_formatter = isinstance(axis.get_major_formatter(), PercentFormatter)
    if percent_formatter:
        return ""
    words = label.lower()
    if "%" in words or "percent" in words:
        if 0.0 <= min(limits) and max(limits) <= 1.0 + 1e-9:
            return f"labelled in % but its range is {min(limits):g} to {max(limits):g} (a fraction?)"
        return ""
    if re.search(r"\bshares?\b", words):
        return "is a share but not in percent (a PercentFormatter or values x 100 with '%' in the label)"
    return ""


def _data_artists(ax) -> list:
    """What an axes plots: lines in data coordinates, collections, bars and images (not reference lines)."""
    artists = [a for a in ax.lines if a.get_visible() and a.get_transform().contains_branch(ax.transData)
               and len(a.get_xydata())]
    artists += [c for c in ax.collections if c.get_visible()]
    artists += [p for p in ax.patches if p.get_visible()]
    artists += [i for i in ax.images if i.get_visible()]
    return artists


def _display_points(artist, ax) -> np.ndarray:
    """Points of an artist in display coordinates, lines densified so a segment through a box is seen."""
    def dense(xy: np.ndarray) -> np.ndarray:
        if len(xy) < 2:
            return xy
        t = np.linspace(0.0, 1.0, 12)[:-1, None, None]
        seg = xy[:-1][None] + t * (xy[1:] - xy[:-1])[None]
        return np.vstack([seg.reshape(-1, 2), xy[-1:]])

    if isinstance(artist, Line2D):
        xy = artist.get_transform().transform(artist.get_xydata())
        if artist.get_linestyle() in ("None", "none", "", " "):
            return xy
        return dense(xy[np.isfinite(xy).all(axis=1)])
    if isinstance(artist, LineCollection):
        parts = [dense(artist.get_transform().transform(np.asarray(s))) for s in artist.get_segments() if len(s)]
        return np.vstack(parts) if parts else np.empty((0, 2))
    if isinstance(artist, Collection) and not isinstance(artist, PolyCollection):
        offsets = np.asarray(artist.get_offsets())
        return artist.get_offset_transform().transform(offsets) if len(offsets) else np.empty((0, 2))
    return np.empty((0, 2))


def _covers(legend_box, artist, ax) -> bool:
    """Whether the legend's box covers part of what ``artist`` draws inside the axes."""
    inner = legend_box.padded(-2.0)
    axes_box = ax.bbox
    if isinstance(artist, Rectangle):
        box = artist.get_window_extent()
        return box.width > 0 and box.height > 0 and inner.overlaps(box)
    if isinstance(artist, PolyCollection):
        xs = np.linspace(inner.x0, inner.x1, max(2, int(inner.width / 3)))  # a point every 3 pixels
        ys = np.linspace(inner.y0, inner.y1, max(2, int(inner.height / 3)))
        grid = np.array([(x, y) for x in xs for y in ys])
        grid = grid[(grid[:, 0] >= axes_box.x0) & (grid[:, 0] <= axes_box.x1)
                    & (grid[:, 1] >= axes_box.y0) & (grid[:, 1] <= axes_box.y1)]
        if not len(grid):
            return False
        for path in artist.get_paths():
            if path.transformed(artist.get_transform()).contains_points(grid).any():
                return True
        return False
    if hasattr(artist, "get_array") and not isinstance(artist, Collection):  # an image fills its extent
        return inner.overlaps(artist.get_window_extent())
    points = _display_points(artist, ax)
    if not len(points):
        return False
    points = points[np.isfinite(points).all(axis=1)]
    inside_axes = ((points[:, 0] >= axes_box.x0) & (points[:, 0] <= axes_box.x1)
                   & (points[:, 1] >= axes_box.y0) & (points[:, 1] <= axes_box.y1))
    inside = ((points[:, 0] > inner.x0) & (points[:, 0] < inner.x1)
              & (points[:, 1] > inner.y0) & (points[:, 1] < inner.y1))
    return bool((inside & inside_axes).any())


def _colours_of(artist) -> list:
    if isinstance(artist, Line2D):
        return [artist.get_color(), artist.get_markerfacecolor(), artist.get_markeredgecolor()]
    if isinstance(artist, Collection):
        if artist.get_array() is not None:
            return []  # coloured by a colour map: checked as the map
        return [*artist.get_facecolors(), *artist.get_edgecolors()]
    if isinstance(artist, Rectangle):
        return [artist.get_facecolor()]
    return []


def _series(ax) -> list[tuple[str, str, tuple]]:
    """Labelled series of an axes: (label, colour, what else tells them apart)."""
    found = []
    for a in [*ax.lines, *ax.collections, *ax.patches]:
        label = a.get_label()
        if not label or label.startswith("_"):
            continue
        colours = [c for c in _colours_of(a) if to_rgb(c) != (1.0, 1.0, 1.0) and len(np.atleast_1d(c))]
        if not colours:
            continue
        style = (type(a).__name__, a.get_linestyle() if isinstance(a, Line2D) else "",
                 a.get_marker() if isinstance(a, Line2D) else "", getattr(a, "get_hatch", lambda: "")() or "")
        found.append((label, colours[0], style))
    return found


def check_figure_rules(fig, brands: list[str] | None = None) -> list[str]:
    """The ways ``fig`` breaks the project's figure rules, one sentence each (empty: it obeys them).

    Checked on the laid-out figure: every axes with data has x and y labels where it shows tick labels,
    with a unit on a numeric axis (a parenthesis, a '%', or a unit word such as "day"); a colour bar has
    a label; a share axis is in percent; a legend covers no plotted point, line, band or bar; data colours
    come from :data:`PALETTE` (or the stage and attitude colours, or greys); brand ``brands[i]`` is drawn
    in ``brand_colour(i)``; no two series differ only by red against green (nor a colour map running
    from red to green); titles fit inside the figure.
    """
    problems: list[str] = []
    fig.draw_without_rendering()
    allowed = allowed_colours()
    figure_box = fig.bbox.padded(2.0)
    titles = [t for t in (getattr(fig, "_suptitle", None),) if t is not None and t.get_text()]
    legends = [(legend, None) for legend in fig.legends]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        colourbar = getattr(ax, "_colorbar", None)
        if colourbar is not None:
            long = ax.yaxis if colourbar.orientation == "vertical" else ax.xaxis
            label = long.get_label().get_text()
            if not label:
                problems.append(f"colour bar of {_name(colourbar.mappable.axes)}: no label")
            else:
                problem = _percent_problem(long, label, tuple(long.get_view_interval()))
                if problem:
                    problems.append(f"colour bar {label!r}: {problem}")
            continue
        for title in (ax.title, ax._left_title, ax._right_title):
            if title.get_text():
                titles.append(title)
        if ax.get_legend() is not None:
            legends.append((ax.get_legend(), ax))
        data = _data_artists(ax)
        if not data or not ax.axison:
            continue
        for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            label = axis.get_label().get_text()
            shown = _shown_ticks(axis)
            if shown and not label:
                problems.append(f"axes {_name(ax)}: the {which} axis has no label")
            elif (shown and _numeric_ticks(shown) and not _has_unit(label)
                  and not isinstance(axis.get_major_formatter(), PercentFormatter)):
                problems.append(f"axes {_name(ax)}: the {which} label {label!r} names no unit")
            if label:
                problem = _percent_problem(axis, label, tuple(axis.get_view_interval()))
                if problem:
                    problems.append(f"axes {_name(ax)}: the {which} axis {label!r} {problem}")
        off_palette: dict[str, list[str]] = {}
        for artist in data:
            for colour in _colours_of(artist):
                try:
                    rgb = to_rgb(colour)
                except (ValueError, TypeError):
                    continue
                if len(np.atleast_1d(colour)) == 4 and np.atleast_1d(colour)[3] == 0:
                    continue  # transparent
                if not _is_grey(rgb) and to_hex(rgb).lower() not in allowed:
                    off_palette.setdefault(to_hex(rgb), []).append(str(artist.get_label()))
        if off_palette:
            shown = ", ".join(f"{c} ({labels[0]!r})" for c, labels in list(off_palette.items())[:4])
            problems.append(f"axes {_name(ax)}: drawn in {shown}, not colours of sim.plots.PALETTE")
        for artist in data:
            if isinstance(artist, Collection) and artist.get_array() is None and len(artist.get_facecolors()) > 1:
                hues = {_hue_class(c) for c in artist.get_facecolors() if c[3] > 0}
                if {"red", "green"} <= hues:
                    problems.append(f"axes {_name(ax)}: points coloured red and green (a colour map such as "
                                    "RdYlGn?): use sim.plots.ATTITUDE_CMAP")
            cmap = artist.get_cmap() if hasattr(artist, "get_cmap") and getattr(artist, "get_array",
                                                                                 lambda: None)() is not None else None
            if cmap is not None:
                ends = {_hue_class(cmap(0.0)), _hue_class(cmap(1.0))}
                if ends == {"red", "green"}:
                    problems.append(f"axes {_name(ax)}: colour map {cmap.name!r} runs from red to green")
        series = _series(ax)
        for i, (label_a, colour_a, style_a) in enumerate(series):
            for label_b, colour_b, style_b in series[i + 1:]:
                if label_a != label_b and style_a == style_b and {_hue_class(colour_a), _hue_class(colour_b)} == {
                        "red", "green"}:
                    problems.append(f"axes {_name(ax)}: {label_a!r} and {label_b!r} differ only by red "
                                    "against green")
        for brand_index, brand in enumerate(brands or []):
            pattern = re.compile(rf"^{re.escape(brand)}( \(.*\))?$")
            for line in ax.lines:
                if pattern.match(line.get_label()) and to_hex(line.get_color()).lower() != brand_colour(
                        brand_index).lower():
                    problems.append(f"axes {_name(ax)}: brand {brand!r} drawn in {to_hex(line.get_color())}, "
                                    f"not its colour {brand_colour(brand_index)}")
    for legend, owner in legends:
        if not legend.get_visible():
            continue
        box = legend.get_window_extent()
        for ax in ([owner] if owner is not None else [a for a in fig.axes if getattr(a, "_colorbar", None) is None]):
            covered = [a for a in _data_artists(ax) if _covers(box, a, ax)]
            if covered:
                names = sorted({str(a.get_label()) for a in covered})[:3]
                problems.append(f"axes {_name(ax)}: the legend covers plotted data ({', '.join(names)})")
    for title in titles:
        box = title.get_window_extent()
        if not (figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1 and box.y1 <= figure_box.y1):
            problems.append(f"title {title.get_text()[:40]!r} does not fit inside the figure")
    return problems
