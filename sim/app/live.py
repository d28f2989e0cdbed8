"""Live charts: figures built once, their lines' data updated frame by frame.

A running year needs a fresh picture several times a second. Rebuilding six matplotlib
figures, laying them out and re-encoding them took over a second a frame at 2,000 consumers;
here each chart is built once per run set-up (brands, what-if or not, days, scheduled
events). Its static parts (axes, ticks, labels, legend, event markers) are drawn once and
kept as a background; a frame restores that background, sets the lines' data, draws the
lines alone (matplotlib's "blitting") and encodes the picture with fast PNG compression.
The background is redrawn only when a y range must grow, and y ranges move in round steps
so that this is rare.

The same chart functions' meaning as :mod:`sim.app.charts` (which draws the PNG export):
the scenario run dashed, the what-if run solid, each brand in its colour on every chart.
"""

from __future__ import annotations

import io
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter
from PIL import Image

from .. import plots
from ..plots import (CONVERSATION_WINDOW, NEGATIVE_COLOUR, POSITIVE_COLOUR, STAGE_COLOURS, STAGE_LABELS,
                     brand_colour)
from ..record import STAGE_COLUMNS
from .charts import BASE_STYLE, CHANGED_STYLE, DPI

SENTIMENT_LABEL = "net sentiment of what people say\n(28 days, −1 to 1)"
EVENT_COLOUR = "#7f7f7f"
INTERVENTION_COLOUR = "#9467bd"


def encode(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as PNG, compressed fast (a frame is shown for a fraction of a second); RGB, as
    the figures are opaque: a quarter less to compress than RGBA."""
    width, height = canvas.get_width_height(physical=True)
    buffer = io.BytesIO()
    Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB").save(
        buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _step_up(value: float, step: float) -> float:
    return step * math.ceil(value / step - 1e-9)


def _round_limit(value: float) -> float:
    """A round upper limit at or above ``value``: 1, 2, 5, 10, 20, 50, ..."""
    if value <= 1.0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if value <= m * power + 1e-9:
            return m * power
    return 10 * power


class LiveChart:
    """A figure whose line data change while its axes stay: built once, blitted each frame."""

    size = (6.4, 3.6)

    def __init__(self, brands: Sequence[str], comparing: bool, steps: int, events: Sequence[dict],
                 title: str = ""):
        self.brands, self.comparing, self.steps, self.title = list(brands), comparing, steps, title
        self.events = list(events)
        self.figure = Figure(figsize=self.figsize(), dpi=DPI, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.limits: dict[Any, tuple[float, float]] = {}
        self.animated: list = []
        self.background = None
        self.build()

    def figsize(self) -> tuple[float, float]:
        return self.size

    # --- set-up ---------------------------------------------------------------------------------

    def build(self) -> None:  # pragma: no cover - each chart builds its own
        raise NotImplementedError

    def axes_for_days(self, ax) -> None:
        ax.set_xlim(0, max(self.steps, 1))
        ax.set_xlabel("day")
        ax.grid(True, alpha=0.25)
        self.mark_events(ax)

    def mark_events(self, ax) -> None:
        """A vertical line on each scheduled day, numbered as the sidebar lists them."""
        for number, event in enumerate(self.events, start=1):
            if event["day"] > self.steps:
                continue  # after the last day simulated
            colour = INTERVENTION_COLOUR if event.get("added") else EVENT_COLOUR
            ax.axvline(event["day"], color=colour, linestyle=":", linewidth=1.3, zorder=0.5)
            label = ax.annotate(str(number), xy=(event["day"], 1.0), xycoords=("data", "axes fraction"),
                                xytext=(2, -2), textcoords="offset points", ha="left", va="top", fontsize=8,
                                color=colour, fontweight="bold")
            label.set_in_layout(False)

    def line(self, ax, colour, label=None, **style):
        (artist,) = ax.plot([], [], color=colour, label=label, animated=True, **style)
        self.animated.append(artist)
        return artist

    def brand_lines(self, ax, label: str = "{brand}") -> dict[tuple[str, str], Any]:
        """One line a brand and run: ('base'|'changed', brand) -> Line2D."""
        lines = {}
        for i, brand in enumerate(self.brands):
            if self.comparing:
                lines["base", brand] = self.line(ax, brand_colour(i), label.format(brand=brand) + " (scenario)",
                                                 **BASE_STYLE)
                lines["changed", brand] = self.line(ax, brand_colour(i), label.format(brand=brand) + " (what-if)",
                                                    **CHANGED_STYLE)
            else:
                lines["base", brand] = self.line(ax, brand_colour(i), label.format(brand=brand), linewidth=2.0)
        return lines

    def legend(self, ax, **kwargs):
        """The key, beside the plot: drawn once with the background, never crossed by a line."""
        kwargs.pop("loc", None)
        kwargs.setdefault("fontsize", "small")
        kwargs.pop("ncol", None)
        return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)

    # --- drawing --------------------------------------------------------------------------------

    def set_limit(self, ax, low: float, high: float) -> None:
        if self.limits.get(id(ax)) != (low, high):
            ax.set_ylim(low, high)
            self.limits[id(ax)] = (low, high)
            self.background = None

    def update(self, base: pd.DataFrame, changed: pd.DataFrame | None) -> None:  # pragma: no cover
        raise NotImplementedError

    def draw(self, base: pd.DataFrame, changed: pd.DataFrame | None) -> bytes:
        """The chart for these tables, as PNG bytes."""
        self.update(base, changed)
        if self.background is None:
            self.canvas.draw()  # the static parts, laid out (animated artists are left out)
            self.figure.set_layout_engine("none")  # keep that layout: frames must not move
            self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self.background)
        for artist in self.animated:
            self.figure.draw_artist(artist)
        return encode(self.canvas)

    def relayout(self) -> None:
        """Lay the figure out again at the next frame (after a y range changed its tick labels)."""
        self.figure.set_layout_engine("constrained")
        self.background = None


def _xy(table: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    return table["step"].to_numpy(), table[column].to_numpy(dtype=float)


class SentimentChart(LiveChart):
    """The headline: net sentiment per brand; with a what-if, both runs and their difference."""

    def figsize(self):
        return (11, 5.6 if self.comparing else 4.4)

    def build(self):
        if self.comparing:
            self.top, self.bottom = self.figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        else:
            self.top, self.bottom = self.figure.subplots(), None
        self.lines = self.brand_lines(self.top)
        self.top.axhline(0.0, color="grey", linewidth=0.8)
        self.top.set_ylabel(SENTIMENT_LABEL)
        self.top.set_title(f"Brand sentiment — {self.title}" if self.title else "Brand sentiment",
                           fontweight="bold")
        self.axes_for_days(self.top)
        self.legend(self.top, loc="lower left", ncol=2, fontsize="small")
        self.set_limit(self.top, -0.5, 0.5)
        if self.bottom is not None:
            self.top.set_xlabel("")
            self.difference = {b: self.line(self.bottom, brand_colour(i), b, linewidth=2.0)
                               for i, b in enumerate(self.brands)}
            self.bottom.axhline(0.0, color="grey", linewidth=0.8)
            self.bottom.set_ylabel("difference in\nnet sentiment (-2 to 2)")
            self.bottom.set_title("Effect of the change (what-if minus scenario, same seed)")
            self.axes_for_days(self.bottom)
            self.legend(self.bottom, loc="upper left", fontsize="small", ncol=len(self.brands))
            self.set_limit(self.bottom, -0.1, 0.1)

    def update(self, base, changed):
        values = []
        for (run, brand), line in self.lines.items():
            table = changed if run == "changed" else base
            x, y = _xy(table, f"sentiment_{brand}")
            line.set_data(x, y)
            values.append(y)
        data = np.concatenate(values)
        low = min(0.0, float(np.nanmin(data))) if data.size else 0.0
        high = max(0.0, float(np.nanmax(data))) if data.size else 0.0
        # Round steps of 0.25 with a margin, within -1 to 1: the range moves seldom.
        self.set_limit(self.top, max(-1.0, -_step_up(-low + 0.05, 0.25)), min(1.0, _step_up(high + 0.05, 0.25)))
        if self.bottom is not None:
            spread = 0.0
            for brand, line in self.difference.items():
                x, y = _xy(changed, f"sentiment_{brand}")
                y = y - base[f"sentiment_{brand}"].to_numpy(dtype=float)
                line.set_data(x, y)
                if y.size:
                    spread = max(spread, float(np.nanmax(np.abs(y))))
            bound = _step_up(max(spread * 1.1, 0.1), 0.1) if spread <= 1 else _step_up(spread * 1.1, 0.5)
            if self.limits.get(id(self.bottom)) != (-bound, bound):
                self.set_limit(self.bottom, -bound, bound)


class FunnelChart(LiveChart):
    """Consumers in each journey stage (not dormant), stacked, for the shown run."""

    stages = [(c, label, colour) for c, label, colour in zip(STAGE_COLUMNS, STAGE_LABELS, STAGE_COLOURS)
              if c != "stage_dormant"]

    def build(self):
        self.ax = self.figure.subplots()
        self.ax.set_ylabel("consumers on the journey\n(not dormant)")
        self.ax.set_title("Journey funnel" + (" (what-if run)" if self.comparing else ""))
        self.axes_for_days(self.ax)
        # Latest stage on top, as the layers are stacked.
        self.ax.legend(handles=[Patch(color=colour, label=label) for _, label, colour in self.stages][::-1],
                       loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize="small")
        self.layers = PolyCollection([], facecolors=[c for _, _, c in self.stages], animated=True)
        self.ax.add_collection(self.layers, autolim=False)
        self.animated.append(self.layers)
        self.set_limit(self.ax, 0.0, 1.0)

    def update(self, base, changed):
        table = changed if changed is not None else base
        x = table["step"].to_numpy(dtype=float)
        layers = np.cumsum([np.zeros(len(x))] + [table[c].to_numpy(dtype=float) for c, _, _ in self.stages], axis=0)
        self.layers.set_verts([np.column_stack([np.concatenate([x, x[::-1]]),
                                                np.concatenate([layers[i + 1], layers[i][::-1]])])
                               for i in range(len(self.stages))] if len(x) else [])
        top = float(layers[-1].max()) if len(x) else 0.0
        limit = _round_limit(top * 1.05)
        if self.limits.get(id(self.ax)) != (0.0, limit):
            self.set_limit(self.ax, 0.0, limit)
            self.relayout()


class BrandLinesChart(LiveChart):
    """One line a brand and run of ``<column>_<brand>``, on a fixed y range."""

    column, title_text, ylabel, ylim = "", "", "", (0.0, 1.0)

    def build(self):
        self.ax = self.figure.subplots()
        self.lines = self.brand_lines(self.ax)
        self.ax.set_title(self.title_text)
        self.ax.set_ylabel(self.ylabel)
        self.decorate(self.ax)
        self.axes_for_days(self.ax)
        self.legend(self.ax, loc="upper left", fontsize="x-small", ncol=2)
        self.set_limit(self.ax, *self.ylim)

    def decorate(self, ax) -> None:
        pass

    def update(self, base, changed):
        for (run, brand), line in self.lines.items():
            line.set_data(*_xy(changed if run == "changed" else base, f"{self.column}_{brand}"))


class ShareChart(BrandLinesChart):
    column, title_text, ylabel, ylim = "market_share", "Market share", "share of purchases, last 28 days", (0.0, 1.0)

    def decorate(self, ax):
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))


class RatingChart(BrandLinesChart):
    column, title_text, ylabel, ylim = "rating", "Public rating", "stars (1-5)", (1.0, 5.0)

    def decorate(self, ax):
        ax.axhline(3.0, color="grey", linewidth=0.8)


class ConversationChart(LiveChart):
    """Experiences shared a day, positive and negative (all brands), as a 7-day mean."""

    def build(self):
        self.ax = self.figure.subplots()
        self.lines = {}
        for column, kind, colour in (("shares_positive", "positive", POSITIVE_COLOUR),
                                     ("shares_negative", "negative", NEGATIVE_COLOUR)):
            if self.comparing:
                self.lines["base", column] = self.line(self.ax, colour, f"{kind} (scenario)", linewidth=1.4,
                                                       linestyle="--", alpha=0.75)
                self.lines["changed", column] = self.line(self.ax, colour, f"{kind} (what-if)", linewidth=2.2)
            else:
                self.lines["base", column] = self.line(self.ax, colour, kind, linewidth=1.5)
        self.ax.set_ylabel(f"experiences shared a day\n({CONVERSATION_WINDOW}-day mean)")
        self.ax.set_title("Word of mouth: positive and negative")
        self.axes_for_days(self.ax)
        self.legend(self.ax, loc="upper left", fontsize="x-small", ncol=2)
        self.set_limit(self.ax, 0.0, 1.0)

    def update(self, base, changed):
        top = 0.0
        for (run, column), line in self.lines.items():
            table = changed if run == "changed" else base
            weekly = table[column].rolling(CONVERSATION_WINDOW, min_periods=1).mean().to_numpy(dtype=float)
            line.set_data(table["step"].to_numpy(), weekly)
            if weekly.size:
                top = max(top, float(np.nanmax(weekly)))
        limit = _round_limit(top * 1.08)
        if self.limits.get(id(self.ax)) != (0.0, limit):
            self.set_limit(self.ax, 0.0, limit)
            self.relayout()


class NetworkChart:
    """Consumers coloured by attitude toward a brand; the edges and the key drawn once."""

    def __init__(self, positions: np.ndarray, edges: np.ndarray, brand: str, note: str = ""):
        self.figure = Figure(figsize=(6.4, 5.2), dpi=DPI, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.figure.subplots()
        m = len(positions)
        nothing = np.zeros(m, dtype=bool)
        # The static picture with stand-in colours: it lays out the colour bar and the key.
        plots.plot_network(ax, positions, edges, np.zeros(m), nothing, nothing, nothing, brand, note)
        for collection in list(ax.collections)[1 if len(edges) else 0:]:
            collection.set_visible(False)  # the points come back each frame, in today's colours
        self.points = ax.scatter(positions[:, 0], positions[:, 1], s=9, zorder=3, animated=True)
        self.rings = ax.scatter(positions[:, 0], positions[:, 1], s=46, facecolors="none", linewidths=1.4,
                                zorder=4, animated=True)
        self.cmap = plots.ATTITUDE_CMAP  # the colour bar plots.plot_network draws: colour-blind safe
        self.ax = ax
        self.background = None
        self.unaware = np.array(to_rgba("#e0e0e0"))
        self.positive, self.negative = np.array(to_rgba(POSITIVE_COLOUR)), np.array(to_rgba(NEGATIVE_COLOUR))

    def draw(self, attitude: np.ndarray, aware: np.ndarray, sharing: np.ndarray, satisfied: np.ndarray) -> bytes:
        colours = self.cmap((np.clip(attitude, -1.0, 1.0) + 1.0) / 2.0)
        colours[~aware] = self.unaware
        self.points.set_facecolors(colours)
        self.points.set_edgecolors("none")
        rings = np.zeros((len(aware), 4))
        rings[sharing & satisfied] = self.positive
        rings[sharing & ~satisfied] = self.negative
        self.rings.set_edgecolors(rings)
        if self.background is None:
            self.canvas.draw()
            self.figure.set_layout_engine("none")
            self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self.background)
        self.figure.draw_artist(self.points)
        self.figure.draw_artist(self.rings)
        return encode(self.canvas)


TIME_CHARTS = {"sentiment": SentimentChart, "funnel": FunnelChart, "share": ShareChart,
               "conversation": ConversationChart, "rating": RatingChart}


class LiveCharts:
    """Every time chart of the page, rebuilt only when what they show is set up differently."""

    def __init__(self):
        self.key: tuple = ()
        self.charts: dict[str, LiveChart] = {}
        self.network_key: tuple = ()
        self.network: NetworkChart | None = None

    def images(self, base: pd.DataFrame, changed: pd.DataFrame | None, title: str, steps: int,
               events: Sequence[dict]) -> dict[str, bytes]:
        brands = plots.brands_in(base)
        key = (tuple(brands), changed is not None, steps, title,
               tuple((e["day"], bool(e.get("added"))) for e in events))
        if key != self.key:
            self.charts = {name: kind(brands, changed is not None, steps, events, title)
                           for name, kind in TIME_CHARTS.items()}
            self.key = key
        return {name: chart.draw(base, changed) for name, chart in self.charts.items()}

    def network_image(self, key: tuple, positions, edges, brand: str, note: str, attitude, aware, sharing,
                      satisfied) -> bytes:
        if key != self.network_key or self.network is None:
            self.network = NetworkChart(positions, edges, brand, note)
            self.network_key = key
        return self.network.draw(attitude, aware, sharing, satisfied)
