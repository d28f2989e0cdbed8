"""The game's figures, drawn server-side as SVG text (matplotlib's object API: no pyplot state,
so requests may draw at the same time)."""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.figure import Figure

from matplotlib import colormaps

from ..plots import BRAND_COLOURS, brand_colour

MANY = colormaps["tab20"]


def brand_color(index: int, count: int = 0) -> str:
    """The project's brand colours for a few brands; tab20's twenty for a large class."""
    if count <= len(BRAND_COLOURS):
        return brand_colour(index)
    return MANY(index % 20)


def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


def _rounds(ax, days_per_round: int, played: int) -> None:
    for k in range(1, played):
        ax.axvline(k * days_per_round, color="#bbb", lw=0.8, ls=":")


def team_chart(money: pd.DataFrame, team: str, index: int, days_per_round: int, played: int) -> bytes:
    """One team's own market: its market share (28 days) by day and its profit, added up."""
    fig = Figure(figsize=(7.5, 2.6))
    share, profit = fig.subplots(1, 2)
    days = money[money["step"] > 0]
    colour = brand_color(index)
    share.plot(days["step"], 100 * days[f"market_share_{team}"], color=colour)
    share.set_title("Your market share, % (last 28 days)", fontsize=9)
    profit.plot(days["step"], days[f"profit_{team}"].cumsum(), color=colour)
    profit.axhline(0, color="#888", lw=0.8)
    profit.set_title("Your profit so far", fontsize=9)
    for ax in (share, profit):
        _rounds(ax, days_per_round, played)
        ax.set_xlabel("day", fontsize=8)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return _svg(fig)


def board_chart(money: pd.DataFrame, brands: list[str], days_per_round: int, played: int) -> bytes:
    """Every brand's profit so far and market share by day (the projector's view)."""
    fig = Figure(figsize=(9, 3.2))
    profit, share = fig.subplots(1, 2)
    days = money[money["step"] > 0]
    for i, b in enumerate(brands):
        profit.plot(days["step"], days[f"profit_{b}"].cumsum(), color=brand_color(i, len(brands)), label=b)
        share.plot(days["step"], 100 * days[f"market_share_{b}"], color=brand_color(i, len(brands)), label=b)
    profit.axhline(0, color="#888", lw=0.8)
    profit.set_title("Profit so far", fontsize=9)
    share.set_title("Market share, % (last 28 days)", fontsize=9)
    for ax in (profit, share):
        _rounds(ax, days_per_round, played)
        ax.set_xlabel("day", fontsize=8)
        ax.tick_params(labelsize=8)
    share.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return _svg(fig)


def debrief_chart(decisions: list[dict[str, float]], outcomes: list[dict], team: str, index: int) -> bytes:
    """A team's decisions round by round against its outcomes."""
    rounds = list(range(1, len(outcomes) + 1))
    fig = Figure(figsize=(9, 4.2))
    axes = fig.subplots(2, 3).ravel()
    colour = brand_color(index)
    panels = [("price", "Price"), ("quality", "Quality"), ("ad_spend", "Ad spend a day")]
    for ax, (lever, title) in zip(axes[:3], panels):
        ax.step(rounds, [d[lever] for d in decisions], where="mid", color=colour)
        ax.set_title(f"Decision: {title}", fontsize=9)
    results = [("profit", "Profit in the round"), ("share", "Share of sales"), ("net_sentiment", "Net sentiment")]
    for ax, (key, title) in zip(axes[3:], results):
        ax.bar(rounds, [o[key] for o in outcomes], color=colour)
        ax.set_title(f"Outcome: {title}", fontsize=9)
        ax.set_xlabel("round", fontsize=8)
    for ax in axes:
        ax.set_xticks(rounds)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"{team}: decisions and outcomes", fontsize=10)
    fig.tight_layout()
    return _svg(fig)


def whatif_chart(actual: pd.DataFrame, whatif: pd.DataFrame, team: str, round_number: int,
                 days_per_round: int, played: int) -> bytes:
    """Profit so far and market share, as played and with one decision reverted (same random seed)."""
    fig = Figure(figsize=(9, 3))
    profit, share = fig.subplots(1, 2)
    for table, label, style in ((actual, "as played", "-"), (whatif, f"had round {round_number} not changed",
                                                             "--")):
        days = table[table["step"] > 0]
        profit.plot(days["step"], days[f"profit_{team}"].cumsum(), ls=style, label=label)
        share.plot(days["step"], 100 * days[f"market_share_{team}"], ls=style, label=label)
    profit.set_title(f"{team}: profit so far", fontsize=9)
    share.set_title(f"{team}: market share, %", fontsize=9)
    for ax in (profit, share):
        _rounds(ax, days_per_round, played)
        ax.axvline((round_number - 1) * days_per_round, color="#c33", lw=1)
        ax.set_xlabel("day", fontsize=8)
        ax.tick_params(labelsize=8)
    profit.legend(fontsize=8)
    fig.tight_layout()
    return _svg(fig)
