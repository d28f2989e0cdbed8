"""fit.png: each observed series against the posterior predictive median and 50/90 % bands."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .observe import OBSERVABLES  # noqa: E402


def fit_figure(spec, fit: pd.DataFrame, coverage: float | None):
    panels = list(fit.groupby(["series", "brand"], sort=False))
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.0 * rows), squeeze=False)
    for ax, ((name, brand), f) in zip(axes.flat, panels):
        x = f["period"]
        ax.fill_between(x, f["q05"], f["q95"], color="tab:blue", alpha=0.18, label="90 % band")
        ax.fill_between(x, f["q25"], f["q75"], color="tab:blue", alpha=0.35, label="50 % band")
        ax.plot(x, f["median"], color="tab:blue", lw=1.4, label="posterior predictive median")
        ax.plot(x, f["observed"], "o", color="black", ms=2.6, label="observed")
        hold = f[f["window"] == "holdout"]
        if not hold.empty:
            ax.axvspan(hold["period"].min() - 0.5, hold["period"].max() + 0.5, color="tab:orange",
                       alpha=0.12, label="hold-out (not fitted)")
        ax.set_title(f"{name} — {brand}", fontsize=10)
        ax.set_xlabel(f"{spec.period} (from {spec.data.labels[0]})", fontsize=8)
        ax.set_ylabel(OBSERVABLES[name].meaning, fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="best")
    cov = "no hold-out" if coverage is None else f"{coverage:.0%} of hold-out points inside the 90 % band"
    fig.suptitle(f"{spec.title}: posterior predictive fit ({cov})", fontsize=11)
    fig.tight_layout()
    return fig
