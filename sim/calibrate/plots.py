"""fit.png: each observed series against the posterior predictive median and 50/90 % bands."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from .. import plots
from .observe import OBSERVABLES

# The unit of each observed series on the figure (shares are drawn in percent).
UNITS = {"purchases": "units", "revenue": "currency units", "share": "% of units", "reviews": "count",
         **{f"stars_{k}": "count" for k in range(1, 6)}, "rating": "stars, 1-5", "net_sentiment": "-1 to 1"}
MODEL, OBSERVED, HOLDOUT = plots.PALETTE[0], plots.PALETTE[7], plots.PALETTE[1]


def fit_figure(spec, fit: pd.DataFrame, coverage: float | None) -> Figure:
    panels = list(fit.groupby(["series", "brand"], sort=False))
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(6.2 * cols, 3.0 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, ((name, brand), f) in zip(axes.flat, panels):
        x = f["period"]
        ax.fill_between(x, f["q05"], f["q95"], color=MODEL, alpha=0.18, label="90 % band")
        ax.fill_between(x, f["q25"], f["q75"], color=MODEL, alpha=0.35, label="50 % band")
        ax.plot(x, f["median"], color=MODEL, lw=1.4, label="posterior predictive median")
        ax.plot(x, f["observed"], "o", color=OBSERVED, ms=2.6, label="observed")
        hold = f[f["window"] == "holdout"]
        if not hold.empty:
            ax.axvspan(hold["period"].min() - 0.5, hold["period"].max() + 0.5, color=HOLDOUT,
                       alpha=0.12, label="hold-out (not fitted)")
        ax.set_title(f"{name} — {brand}", fontsize=10)
        ax.set_xlabel(f"{spec.period} (from {spec.data.labels[0]})", fontsize=8)
        unit = UNITS.get(name)
        ax.set_ylabel(OBSERVABLES[name].meaning + (f" ({unit})" if unit else ""), fontsize=7, wrap=True)
        if name == "share":
            plots.percent_axis(ax)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=5, fontsize=7, frameon=False)  # off the data
    cov = "no hold-out" if coverage is None else f"{coverage:.0%} of hold-out points inside the 90 % band"
    fig.suptitle(f"{spec.title}: posterior predictive fit ({cov})", fontsize=11)
    return fig
