"""The game's figures, drawn server-side as SVG text (matplotlib's object API: no pyplot state,
so requests may draw at the same time)."""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.figure import Figure

from .. import plots
from ..plots import BRAND_COLOURS, PALETTE, brand_colour

DASHES = ["-", "--", ":", "-."]
CURRENCY = "currency units"


def brand_color(index: int, count: int = 0) -> str:
    """The project's brand colours for a few brands; the whole Okabe-Ito palette for a large class."""
    if count <= len(BRAND_COLOURS):
        return brand_colour(index)
    return PALETTE[index % len(PALETTE)]


def brand_style(index: int, count: int = 0) -> dict:
    """Colour and dash of a brand's line: past the palette's eight colours the dash tells brands apart
    (colour-blind safe; no tab20, whose reds and greens a red-green colour-blind reader confuses)."""
    dash = 0 if count <= len(BRAND_COLOURS) else (index // len(PALETTE)) % len(DASHES)
    return {"color": brand_color(index, count), "linestyle": DASHES[dash]}


def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


def _rounds(ax, days_per_round: int, played: int) -> None:
    for k in range(1, played):
        ax.axvline(k * days_per_round, color="#bbb", lw=0.8, ls=":")


def team_chart(money: pd.DataFrame, team: str, index: int, days_per_round: int, played: int,
               currency: str = CURRENCY) -> bytes:
    """One team's own market: its market share (28 days) by day and its profit, added up.

    Written as SVG by hand (a few milliseconds), not with matplotlib (a fifth of a second): every team's
    screen asks for it the moment a round's results are out, and a class has up to 16 teams."""
    days = money[money["step"] > 0]
    x = days["step"].to_numpy(dtype=float)
    colour = brand_color(index)
    panels = [("Your market share, % (last 28 days)", 100 * days[f"market_share_{team}"].to_numpy(dtype=float)),
              (f"Your profit so far ({currency})", days[f"profit_{team}"].cumsum().to_numpy(dtype=float))]
    width, height, pad_l, pad_r, pad_t, pad_b = 360, 200, 52, 10, 22, 26
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height}" '
             f'viewBox="0 0 {2 * width} {height}" font-family="sans-serif" font-size="11">']
    for i, (title, y) in enumerate(panels):
        ox = i * width
        lo, hi = float(min(y.min(), 0.0)), float(max(y.max(), 0.0))
        if hi - lo < 1e-9:
            hi = lo + 1.0
        x0, x1 = float(x.min()) - 1, float(x.max())

        def px(v, x0=x0, x1=x1, ox=ox):
            return ox + pad_l + (v - x0) / (x1 - x0) * (width - pad_l - pad_r)

        def py(v, lo=lo, hi=hi):
            return pad_t + (hi - v) / (hi - lo) * (height - pad_t - pad_b)

        parts.append(f'<text x="{ox + pad_l}" y="14">{title}</text>')
        parts.append(f'<rect x="{ox + pad_l}" y="{pad_t}" width="{width - pad_l - pad_r}" '
                     f'height="{height - pad_t - pad_b}" fill="none" stroke="#999"/>')
        for k in range(1, played):
            d = px(k * days_per_round)
            parts.append(f'<line x1="{d:.1f}" x2="{d:.1f}" y1="{pad_t}" y2="{height - pad_b}" stroke="#ccc" '
                         f'stroke-dasharray="2,3"/>')
        if lo < 0 < hi:
            parts.append(f'<line x1="{px(x0):.1f}" x2="{px(x1):.1f}" y1="{py(0):.1f}" y2="{py(0):.1f}" '
                         f'stroke="#888"/>')
        for v in (lo, hi):
            parts.append(f'<text x="{ox + pad_l - 4}" y="{py(v) + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
        parts.append(f'<text x="{px(x0):.1f}" y="{height - 8}">day {x0 + 1:.0f}</text>'
                     f'<text x="{px(x1):.1f}" y="{height - 8}" text-anchor="end">day {x1:.0f}</text>')
        points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts).encode()


def board_figure(money: pd.DataFrame, brands: list[str], days_per_round: int, played: int,
                 currency: str = CURRENCY) -> Figure:
    """Every brand's profit so far and market share by day (the projector's view)."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    profit, share = fig.subplots(1, 2)
    days = money[money["step"] > 0]
    for i, b in enumerate(brands):
        style = brand_style(i, len(brands))
        profit.plot(days["step"], days[f"profit_{b}"].cumsum(), label=b, **style)
        share.plot(days["step"], days[f"market_share_{b}"], label=b, **style)
    profit.axhline(0, color="#888", lw=0.8)
    profit.set_title("Profit so far", fontsize=9)
    profit.set_ylabel(f"profit so far ({currency})", fontsize=8)
    share.set_title("Market share (last 28 days)", fontsize=9)
    share.set_ylabel("market share (% of sales)", fontsize=8)
    plots.percent_axis(share)
    for ax in (profit, share):
        _rounds(ax, days_per_round, played)
        ax.set_xlabel("day", fontsize=8)
        ax.tick_params(labelsize=8)
    plots.legend_beside(share, fontsize=7, ncol=2 if len(brands) > 8 else 1)
    return fig


def board_chart(money: pd.DataFrame, brands: list[str], days_per_round: int, played: int,
                currency: str = CURRENCY) -> bytes:
    return _svg(board_figure(money, brands, days_per_round, played, currency))


def debrief_figure(decisions: list[dict[str, float]], outcomes: list[dict], team: str, index: int,
                   currency: str = CURRENCY) -> Figure:
    """A team's decisions round by round against its outcomes."""
    rounds = list(range(1, len(outcomes) + 1))
    fig = Figure(figsize=(9, 4.6), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    colour = brand_color(index)
    panels = [("price", "Price", f"price ({currency})"), ("quality", "Quality", "quality (0-1)"),
              ("ad_spend", "Ad spend a day", f"ad spend ({currency} a day)")]
    for ax, (lever, title, unit) in zip(axes[:3], panels):
        ax.step(rounds, [d[lever] for d in decisions], where="mid", color=colour)
        ax.set_title(f"Decision: {title}", fontsize=9)
        ax.set_ylabel(unit, fontsize=8)
    results = [("profit", "Profit in the round", f"profit ({currency})", 1.0),
               ("share", "Share of sales", "share of sales (%)", 100.0),
               ("net_sentiment", "Net sentiment", "net sentiment (-1 to 1)", 1.0)]
    for ax, (key, title, unit, scale) in zip(axes[3:], results):
        ax.bar(rounds, [scale * o[key] for o in outcomes], color=colour)
        ax.set_title(f"Outcome: {title}", fontsize=9)
        ax.set_ylabel(unit, fontsize=8)
    for ax in axes:
        ax.set_xticks(rounds)
        ax.set_xlabel("round", fontsize=8)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"{team}: decisions and outcomes", fontsize=10)
    return fig


def debrief_chart(decisions: list[dict[str, float]], outcomes: list[dict], team: str, index: int,
                  currency: str = CURRENCY) -> bytes:
    return _svg(debrief_figure(decisions, outcomes, team, index, currency))


def whatif_figure(actual: pd.DataFrame, whatif: pd.DataFrame, team: str, round_number: int,
                  days_per_round: int, played: int, index: int = 0, currency: str = CURRENCY) -> Figure:
    """Profit so far and market share, as played and with one decision reverted (same random seed):
    the team's colour for both runs, told apart by the dash."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    profit, share = fig.subplots(1, 2)
    colour = brand_color(index)
    for table, label, style in ((actual, "as played", "-"), (whatif, f"had round {round_number} not changed",
                                                             "--")):
        days = table[table["step"] > 0]
        profit.plot(days["step"], days[f"profit_{team}"].cumsum(), ls=style, color=colour, label=label)
        share.plot(days["step"], days[f"market_share_{team}"], ls=style, color=colour, label=label)
    profit.set_title(f"{team}: profit so far", fontsize=9)
    profit.set_ylabel(f"profit so far ({currency})", fontsize=8)
    share.set_title(f"{team}: market share (last 28 days)", fontsize=9)
    share.set_ylabel("market share (% of sales)", fontsize=8)
    plots.percent_axis(share)
    for ax in (profit, share):
        _rounds(ax, days_per_round, played)
        ax.axvline((round_number - 1) * days_per_round, color="black", lw=1,
                   label=f"round {round_number} starts")
        ax.set_xlabel("day", fontsize=8)
        ax.tick_params(labelsize=8)
    handles, labels = profit.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return fig


def whatif_chart(actual: pd.DataFrame, whatif: pd.DataFrame, team: str, round_number: int,
                 days_per_round: int, played: int, index: int = 0, currency: str = CURRENCY) -> bytes:
    """Profit so far and market share, as played and with one decision reverted (same random seed)."""
    return _svg(whatif_figure(actual, whatif, team, round_number, days_per_round, played, index, currency))
