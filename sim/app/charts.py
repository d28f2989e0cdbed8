"""The app's figures, composed from the chart functions of :mod:`sim.plots`.

Each chart is drawn by one function in ``sim/plots.py`` (shared with the CLI and the
notebooks); this module lays them out for the page: the scenario run dashed, the
what-if run solid, in the brand's colour on every chart. Figures are
:class:`matplotlib.figure.Figure` objects (no pyplot), drawn in the run's thread.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.colors import to_hex

from .. import plots
from ..economics import LEVER_SPEND
from ..plots import network_layout  # noqa: F401  (the app's network view uses the shared layout)

DPI = 80
BASE_STYLE = dict(linestyle="--", linewidth=1.4, alpha=0.75)
CHANGED_STYLE = dict(linestyle="-", linewidth=2.2)


def png(figure: Figure, dpi: int = DPI) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _days(ax, table: pd.DataFrame, steps: int | None) -> None:
    ax.set_xlim(0, max(steps or int(table["step"].iloc[-1]), 1))
    ax.set_xlabel("day")
    ax.grid(True, alpha=0.25)


def _runs(ax, draw, base: pd.DataFrame, changed: pd.DataFrame | None, label: str = "{brand}") -> None:
    """Draw the scenario run, and the what-if run over it when there is one."""
    if changed is None:
        draw(ax, base, label=label)
        return
    draw(ax, base, label=label + " (scenario)", **BASE_STYLE)
    draw(ax, changed, label=label + " (what-if)", **CHANGED_STYLE)


def sentiment_range(base: pd.DataFrame, changed: pd.DataFrame | None) -> tuple[float, float]:
    """Y limits that show the movement: the data with zero and a margin, within -1 to 1."""
    columns = [c for c in base.columns if c.startswith("sentiment_")]
    values = [base[columns].to_numpy()] + ([changed[columns].to_numpy()] if changed is not None else [])
    low = min(0.0, min(float(v.min()) for v in values))
    high = max(0.0, max(float(v.max()) for v in values))
    margin = max(0.1, 0.2 * (high - low))
    return max(-1.0, low - margin), min(1.0, high + margin)


def sentiment_figure(base: pd.DataFrame, changed: pd.DataFrame | None, title: str = "",
                     steps: int | None = None) -> Figure:
    """The headline: brand sentiment per brand; with a what-if, both runs and their difference."""
    figure = Figure(figsize=(11, 5.6 if changed is not None else 4.4), layout="constrained")
    if changed is None:
        top = figure.subplots()
    else:
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    _runs(top, lambda ax, t, **style: plots.plot_brand_lines(ax, t, "sentiment", **style), base, changed)
    top.axhline(0.0, color="grey", linewidth=0.8)
    top.set_ylim(*sentiment_range(base, changed))
    top.set_ylabel("net sentiment of what people say\n(28 days, -1 to 1)")
    top.set_title(f"Brand sentiment — {title}" if title else "Brand sentiment", fontweight="bold")
    top.legend(loc="lower left", ncol=2, fontsize="small")
    _days(top, base, steps)
    if changed is not None:
        top.set_xlabel("")
        numeric = base.columns.drop("step")
        difference = changed[numeric] - base[numeric]
        difference.insert(0, "step", base["step"])
        plots.plot_difference(bottom, difference)
        _days(bottom, base, steps)
    return figure


def funnel_figure(table: pd.DataFrame, steps: int | None = None, what_if: bool = False) -> Figure:
    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = figure.subplots()
    plots.plot_funnel(ax, table)  # with its key beside the bands
    if what_if:
        ax.set_title("Journey funnel (what-if run)")
    _days(ax, table, steps)
    return figure


def _small(draw, base, changed, steps, label="{brand}") -> Figure:
    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = figure.subplots()
    _runs(ax, draw, base, changed, label)
    ax.legend(loc="upper left", fontsize="x-small", ncol=2)
    _days(ax, base, steps)
    return figure


def share_figure(base, changed=None, steps=None) -> Figure:
    return _small(plots.plot_market_share, base, changed, steps)


def rating_figure(base, changed=None, steps=None) -> Figure:
    return _small(plots.plot_rating, base, changed, steps)


def conversation_figure(base, changed=None, steps=None) -> Figure:
    return _small(plots.plot_conversation, base, changed, steps, label="{kind}")


def network_figure(positions, edges, attitude, aware, sharing, satisfied, brand: str, note: str = "") -> Figure:
    figure = Figure(figsize=(6.4, 5.2), layout="constrained")
    plots.plot_network(figure.subplots(), positions, edges, attitude, aware, sharing, satisfied, brand, note)
    return figure


def frame_images(base: pd.DataFrame, changed: pd.DataFrame | None, title: str,
                 steps: int | None = None) -> dict[str, bytes]:
    """Every time-series chart of the page, as PNG bytes by name."""
    shown = changed if changed is not None else base
    return {
        "sentiment": png(sentiment_figure(base, changed, title, steps)),
        "funnel": png(funnel_figure(shown, steps, changed is not None)),
        "share": png(share_figure(base, changed, steps)),
        "conversation": png(conversation_figure(base, changed, steps)),
        "rating": png(rating_figure(base, changed, steps)),
    }


def dashboard_figure(base: pd.DataFrame, changed: pd.DataFrame | None, title: str) -> Figure:
    """Every chart on one page: the PNG export."""
    figure = Figure(figsize=(14, 13), layout="constrained")
    grid = figure.add_gridspec(4, 2, height_ratios=[3, 2, 2.4, 2.4])
    top = figure.add_subplot(grid[0, :])
    _runs(top, lambda ax, t, **style: plots.plot_brand_lines(ax, t, "sentiment", **style), base, changed)
    top.axhline(0.0, color="grey", linewidth=0.8)
    top.set_ylim(*sentiment_range(base, changed))
    top.set_ylabel("net sentiment of what people say (28 days, -1 to 1)")
    top.set_xlabel("day")
    top.set_title(f"Brand sentiment — {title}", fontweight="bold")
    top.legend(loc="lower left", ncol=2, fontsize="small")
    if changed is not None:
        numeric = base.columns.drop("step")
        difference = changed[numeric] - base[numeric]
        difference.insert(0, "step", base["step"])
        plots.plot_difference(figure.add_subplot(grid[1, :]), difference)
    else:
        plots.plot_funnel(figure.add_subplot(grid[1, :]), base)
    shown = changed if changed is not None else base
    if changed is not None:
        plots.plot_funnel(figure.add_subplot(grid[2, 0]), shown)
    else:
        ax = figure.add_subplot(grid[2, 0])
        _runs(ax, plots.plot_conversation, base, None, "{kind}")
        ax.legend(fontsize="small")
    for cell, draw, label in ((grid[2, 1], plots.plot_market_share, "{brand}"),
                              (grid[3, 0], plots.plot_rating, "{brand}"),
                              (grid[3, 1], plots.plot_conversation, "{kind}")):
        ax = figure.add_subplot(cell)
        _runs(ax, draw, base, changed, label)
        ax.legend(loc="upper left", fontsize="small", ncol=2)
    return figure


def brand_kpis(table: pd.DataFrame, brand: str, base: pd.DataFrame | None = None,
               currency: str = "units") -> dict[str, Any]:
    """A brand's figures for the current day (and the scenario run's, to compare, if given).

    With the P&L columns of :func:`sim.economics.pnl` in the tables, also profit and the spend on
    ads, review prompts and service so far (``currency``: the scenario's, :func:`sim.economics.currency`).
    """
    def figures(t: pd.DataFrame) -> dict[str, float]:
        last, days = t.iloc[-1], t.iloc[1:]
        money = {}
        if f"profit_{brand}" in t:
            money = {"profit": float(days[f"profit_{brand}"].sum()),
                     "spend": float(sum(days[f"spend_{lever}_{brand}"].sum() for lever in LEVER_SPEND))}
        return {**money,
            "sentiment": float(last[f"sentiment_{brand}"]),
            "market_share": float(last[f"market_share_{brand}"]),
            "rating": float(last[f"rating_{brand}"]),
            "revenue": float(days[f"revenue_{brand}"].sum()),
            "acquisitions": int(days[f"acquisitions_{brand}"].sum()),
            "acquisition_cost": float(days[f"acquisition_cost_{brand}"].sum()),
            "retentions": int(days[f"retentions_{brand}"].sum()),
            "retention_cost": float(days[f"retention_cost_{brand}"].sum()),
        }

    kpis = {"brand": brand, "colour": to_hex(plots.brand_colour(plots.brands_in(table).index(brand))),
            "currency": currency, **figures(table)}
    if base is not None:
        kpis["scenario"] = figures(base)
    return kpis


def headline_bands(what_if, title: str = "") -> Figure:
    """The headline of a replicated what-if: the brand's sentiment day by day, each arm's mean over its
    paired runs (random seeds) with the band of the middle 90 % of runs; the scenario dashed, as on the
    live chart."""
    from ..decide.compare import BAND

    figure = Figure(figsize=(11, 4.6), layout="constrained")
    ax = figure.subplots()
    lo, hi = (1 - BAND) / 2, 1 - (1 - BAND) / 2
    column = f"sentiment_{what_if.brand}"
    n = len(what_if.seeds)
    for i, arm in enumerate(what_if.arms):
        runs = what_if.daily[what_if.daily["arm"] == arm].pivot(index="step", columns="replicate", values=column)
        colour = plots.series_colour(i)
        ax.fill_between(runs.index, runs.quantile(lo, axis=1), runs.quantile(hi, axis=1), color=colour,
                        alpha=0.2, linewidth=0)
        style = BASE_STYLE if i == 0 else CHANGED_STYLE
        ax.plot(runs.index, runs.mean(axis=1), color=colour, label=f"{arm}: mean", zorder=3 if i == 0 else 2,
                **style)  # the scenario on top: dashed, it shows where an arm runs along it
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_ylabel(f"net sentiment of {what_if.brand}\n(28 days, -1 to 1)")
    heading = f"Brand sentiment of {what_if.brand}: mean of {n} random seeds, {BAND * 100:.0f} % band"
    ax.set_title(f"{heading} — {title}" if title else heading, fontweight="bold")
    plots.legend_beside(ax)
    _days(ax, what_if.daily, int(what_if.daily["step"].max()))
    return figure
