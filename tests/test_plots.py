"""Shared chart functions: what a reader must be able to see."""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import plots


def _conversation(peak: float, days: int = 30) -> pd.DataFrame:
    return pd.DataFrame({"step": np.arange(days), "shares_positive": np.full(days, peak),
                         "shares_negative": np.full(days, peak / 2)})


def test_word_of_mouth_chart_holds_every_run_drawn_on_it():
    # The what-if is drawn after the scenario on the same axes: a louder second run must not
    # be cut off at the first run's top.
    ax = Figure().subplots()
    plots.plot_conversation(ax, _conversation(2.0), linestyle="--")
    plots.plot_conversation(ax, _conversation(10.0))
    bottom, top = ax.get_ylim()
    assert bottom == 0.0
    assert top >= 10.0


def test_word_of_mouth_chart_shows_the_weekly_mean():
    table = _conversation(0.0, days=14)
    table.loc[6, "shares_negative"] = 7.0  # one loud day
    ax = Figure().subplots()
    plots.plot_conversation(ax, table)
    negative = ax.get_lines()[1].get_ydata()
    assert negative[6] == 1.0 and negative[12] == 1.0 and negative[13] == 0.0
