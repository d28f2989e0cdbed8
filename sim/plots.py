"""Matplotlib figures shared by the CLI, the app and the notebooks.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so
they are safe to draw from a web server's threads and render offline.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from .record import STAGE_COLUMNS

STAGE_COLOURS = ["#d9d9d9", "#fdd0a2", "#9ecae1", "#3182bd", "#a1d99b", "#fc9272"]
STAGE_LABELS = ["dormant", "stimulus", "ZMOT", "FMOT", "SMOT", "UMOT"]


def brands_in(table: pd.DataFrame) -> list[str]:
    """The brand names of a recorded table, from its ``sentiment_<brand>`` columns."""
    return [c.removeprefix("sentiment_") for c in table.columns if c.startswith("sentiment_")]


def plot_sentiment(ax, table: pd.DataFrame, title: str = "Brand sentiment") -> None:
    for brand in brands_in(table):
        ax.plot(table["step"], table[f"sentiment_{brand}"], label=brand, linewidth=2)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_ylim(-1.0, 1.0)
    ax.set_ylabel("mean attitude of the aware (-1 to 1)")
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


