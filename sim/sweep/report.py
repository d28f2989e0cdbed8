"""Sweep reports: per point, the mean and 95 % confidence interval across replicates; figures;
Sobol or Morris indices when the design is one.

``report(DIR)`` reads the runs table and writes into ``DIR/report/``:

- ``summary.csv``: one row per point and metric: the varied parameters, ``metric``, ``n`` (runs that
  finished), ``mean``, ``sd``, ``ci_low``, ``ci_high`` (Student t, 95 %);
- ``<metric>.png``: a response curve with its band (one parameter), a heat map beside the curves
  (two parameters on a grid), the point means against each parameter (other designs), or the
  sensitivity indices (sobol, morris);
- ``sensitivity.csv`` (sobol: S1, S1_conf, ST, ST_conf; morris: mu, mu_star, mu_star_conf, sigma),
  one row per metric and parameter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..params import ScenarioError
from .store import read_runs, read_sweep_json

LEVEL = 0.95


@dataclass
class Report:
    """A sweep's report: the tidy summary, the sensitivity indices (if any) and the files written."""
    name: str
    design: str
    parameters: list[str]
    runs: int
    failed: int
    summary: pd.DataFrame
    sensitivity: pd.DataFrame | None
    files: list[Path] = field(default_factory=list)


def confidence(runs: pd.DataFrame, parameters: list[str], metrics: list[str]) -> pd.DataFrame:
    """Per point and metric: n, mean, sd and the 95 % t-interval of the mean across replicates."""
    from scipy import stats

    ok = runs[runs["status"] == "ok"]
    keys = ["point", *parameters]
    long = ok.melt(id_vars=keys, value_vars=metrics, var_name="metric", value_name="value")
    grouped = long.groupby(["metric", *keys], sort=False, dropna=False)["value"]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    with np.errstate(invalid="ignore"):
        half = stats.t.ppf(0.5 + LEVEL / 2, table["n"] - 1) * table["sd"] / np.sqrt(table["n"])
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    order = {m: i for i, m in enumerate(metrics)}
    table = table.sort_values(["metric", "point"], key=lambda c: c.map(order) if c.name == "metric" else c)
    return table[[*keys, "metric", "n", "mean", "sd", "ci_low", "ci_high"]].reset_index(drop=True)


def sensitivity(design: str, problem: dict, summary: pd.DataFrame, metrics: list[str],
                levels: int = 4, seed: int = 0) -> pd.DataFrame:
    """SALib's Sobol (first and total order) or Morris indices of each metric's point means."""
    rows = []
    for metric in metrics:
        means = summary[summary["metric"] == metric].sort_values("point")
        y = means["mean"].to_numpy(dtype=float)
        if np.isnan(y).any() or len(y) == 0:
            raise ScenarioError(f"{metric}: cannot compute {design} indices: some points have no finished "
                                f"run (rerun the sweep to finish them)")
        if design == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"metric": metric, "parameter": name, "S1": si["S1"][i], "S1_conf": si["S1_conf"][i],
                             "ST": si["ST"][i], "ST_conf": si["ST_conf"][i]})
        else:
            from SALib.analyze import morris

            x = means[problem["names"]].to_numpy(dtype=float)
            si = morris.analyze(problem, x, y, num_levels=levels, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"metric": metric, "parameter": name, "mu": si["mu"][i], "mu_star": si["mu_star"][i],
                             "mu_star_conf": si["mu_star_conf"][i], "sigma": si["sigma"][i]})
    return pd.DataFrame(rows)


def report(out: str | Path, metrics: list[str] | None = None, figures: bool = True) -> Report:
    """Summarise a sweep's folder and write ``report/`` inside it."""
    out = Path(out)
    spec = read_sweep_json(out)
    runs = read_runs(out)
    parameters, design = spec["parameters"], spec["design"]
    metrics = metrics or spec["outputs"]
    unknown = [m for m in metrics if m not in runs.columns]
    if unknown:
        raise ScenarioError(f"{out}: {unknown[0]}: not an output of this sweep; expected one of "
                            f"{', '.join(spec['outputs'])}")
    summary = confidence(runs, parameters, metrics)
    indices = None
    if design in ("sobol", "morris") and len(runs) == spec["runs"]:
        indices = sensitivity(design, spec["problem"], summary, metrics, spec.get("levels", 4), spec["seed"])
    folder = out / "report"
    folder.mkdir(exist_ok=True)
    files = [_write_csv(summary, folder / "summary.csv")]
    if indices is not None:
        files.append(_write_csv(indices, folder / "sensitivity.csv"))
    if figures:
        for metric in metrics:
            files.append(_save(figure(summary, metric, parameters, design, indices), folder / f"{metric}.png"))
    return Report(spec["name"], design, parameters, len(runs), int((runs["status"] == "failed").sum()),
                  summary, indices, files)


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
    os.replace(tmp, path)
    return path


def _save(fig: Figure, path: Path) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, path)
    return path


def figure(summary: pd.DataFrame, metric: str, parameters: list[str], design: str,
           indices: pd.DataFrame | None = None) -> Figure:
    """The figure for one metric, chosen by the design and the number of varied parameters."""
    data = summary[summary["metric"] == metric]
    if indices is not None:
        return _indices_figure(indices[indices["metric"] == metric], metric, design)
    if design == "grid" and len(parameters) == 1:
        fig = Figure(figsize=(6, 4), layout="constrained")
        _curves(fig.add_subplot(), data, parameters[0], None, metric)
        return fig
    if design == "grid" and len(parameters) == 2:
        fig = Figure(figsize=(11, 4.2), layout="constrained")
        _heat_map(fig.add_subplot(1, 2, 1), data, parameters, metric, fig)
        _curves(fig.add_subplot(1, 2, 2), data, parameters[0], parameters[1], metric)
        return fig
    fig = Figure(figsize=(4 * max(1, len(parameters)), 3.6), layout="constrained")
    for i, name in enumerate(parameters or ["point"]):
        ax = fig.add_subplot(1, max(1, len(parameters)), i + 1)
        ax.errorbar(data[name], data["mean"], yerr=(data["ci_high"] - data["mean"]).fillna(0),
                    fmt="o", ms=3, alpha=0.7, elinewidth=0.8)
        ax.set_xlabel(name)
        ax.set_ylabel(metric if i == 0 else "")
    fig.suptitle(f"{metric}: point means, 95 % CI")
    return fig


def _curves(ax, data: pd.DataFrame, x: str, by: str | None, metric: str) -> None:
    groups = [(None, data)] if by is None else list(data.groupby(by, sort=True))
    for value, part in groups:
        part = part.sort_values(x)
        label = None if by is None else f"{by.split('.')[-1]} = {value:g}" if isinstance(value, float) else f"{value}"
        line, = ax.plot(part[x], part["mean"], marker="o", ms=3, label=label)
        ax.fill_between(part[x], part["ci_low"], part["ci_high"], color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: mean and 95 % CI across replicates", fontsize=10)
    if by is not None:
        ax.legend(fontsize=8, title=by, title_fontsize=8)


def _heat_map(ax, data: pd.DataFrame, parameters: list[str], metric: str, fig: Figure) -> None:
    x, y = parameters
    grid = data.pivot_table(index=y, columns=x, values="mean", sort=True)
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(grid.columns)), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{metric}: mean across replicates", fontsize=10)
    fig.colorbar(image, ax=ax)


def _indices_figure(indices: pd.DataFrame, metric: str, design: str) -> Figure:
    fig = Figure(figsize=(6, 0.6 * len(indices) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    pos = np.arange(len(indices))
    if design == "sobol":
        ax.barh(pos - 0.2, indices["S1"], 0.4, xerr=indices["S1_conf"], label="S1 (first order)")
        ax.barh(pos + 0.2, indices["ST"], 0.4, xerr=indices["ST_conf"], label="ST (total)")
        ax.set_xlabel("Sobol index")
    else:
        ax.barh(pos, indices["mu_star"], 0.5, xerr=indices["mu_star_conf"], label="mu* (mean |effect|)")
        ax.plot(indices["sigma"], pos, "o", color="k", label="sigma (interactions, non-linearity)")
        ax.set_xlabel("Morris elementary effects")
    ax.set_yticks(pos, list(indices["parameter"]))
    ax.legend(fontsize=8)
    ax.set_title(f"{metric}: {design} sensitivity", fontsize=10)
    return fig


def report_text(rep: Report, max_points: int = 24) -> str:
    """A short text report for the terminal."""
    lines = [f"{rep.name}: {rep.design} design, {rep.runs} runs recorded, {rep.failed} failed"]
    for metric, part in rep.summary.groupby("metric", sort=False):
        lines.append(f"  {metric}: mean [95 % CI] across replicates")
        for _, row in part.head(max_points).iterrows():
            where = ", ".join(f"{p.split('.', 1)[-1]}={_fmt(row[p])}" for p in rep.parameters) or "all runs"
            lines.append(f"    {where:<48} {row['mean']:>12.4g} [{row['ci_low']:.4g}, {row['ci_high']:.4g}]"
                         f"  n={int(row['n'])}")
        if len(part) > max_points:
            lines.append(f"    ... {len(part) - max_points} more points in summary.csv")
    if rep.sensitivity is not None:
        lines.append(f"  {rep.design} indices:")
        lines.append("    " + rep.sensitivity.to_string(index=False, float_format=lambda v: f"{v:.3f}")
                     .replace("\n", "\n    "))
    if rep.files:
        lines.append(f"wrote {rep.files[0].parent}/ ({', '.join(f.name for f in rep.files)})")
    return "\n".join(lines)


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
