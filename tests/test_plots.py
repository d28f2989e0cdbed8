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


def test_colours_are_colour_blind_safe_and_one_per_meaning():
    # Okabe-Ito: no red against green; a brand's colour is never a story's colour
    brands = {plots.brand_colour(i) for i in range(4)}
    assert plots.POSITIVE_COLOUR not in brands and plots.NEGATIVE_COLOUR not in brands
    assert plots.POSITIVE_COLOUR.upper() == "#009E73" and plots.NEGATIVE_COLOUR.upper() == "#D55E00"
    table = pd.DataFrame({"step": range(3), "sentiment_ours": 0.1, "sentiment_theirs": -0.1})
    ax = Figure().subplots()
    plots.plot_sentiment(ax, table)
    assert [line.get_color() for line in ax.get_lines()[:2]] == [plots.brand_colour(0), plots.brand_colour(1)]


def test_labels_carry_units_and_shares_are_percent():
    assert plots.metric_label("market_share_ours") == "market share of ours (% of purchases)"
    assert plots.metric_label("rating_theirs") == "public rating of theirs (stars, 1-5)"
    assert plots.is_percent("market_share_ours") and plots.is_percent("negative_share_of_conversation")
    assert not plots.is_percent("sentiment_ours")
    assert plots.parameter_label("brands.ours.quality") == "Quality of ours (0-1)"
    assert plots.parameter_label("journey.purchase_cycle_days") == "Purchase cycle days (days)"
    assert plots.parameter_label("brands.ours.price") == "Price of ours (currency units)"


def test_attitude_runs_from_the_bad_story_colour_to_the_good_one_not_red_to_green():
    from matplotlib.colors import to_hex

    assert to_hex(plots.ATTITUDE_CMAP(0.0)).upper() == plots.NEGATIVE_COLOUR
    assert to_hex(plots.ATTITUDE_CMAP(1.0)).upper() == plots.POSITIVE_COLOUR
    assert {plots._hue_class(plots.ATTITUDE_CMAP(x)) for x in (0.0, 1.0)} != {"red", "green"}
    assert plots._hue_class("tab:red") == "red" and plots._hue_class("tab:green") == "green"


def test_series_colours_cycle_the_one_palette_and_shares_read_in_percent():
    assert [plots.series_colour(i) for i in range(9)] == [*plots.PALETTE, plots.PALETTE[0]]
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0.25, 0.5])
    plots.percent_axis(ax)
    assert ax.yaxis.get_major_formatter().format_pct(0.25, 1.0).startswith("25")


def test_a_legend_beside_the_axes_is_outside_them():
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="ours")
    legend = plots.legend_beside(ax)
    fig.draw_without_rendering()
    assert legend.get_window_extent().x0 >= ax.bbox.x1
