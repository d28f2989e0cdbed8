"""Sweep reports: per point, the mean and confidence interval across replicates; differences between
grid points; figures; Sobol or Morris indices when the design is one.

``report(DIR)`` reads the runs table and writes into ``DIR/report/``:

- ``summary.csv``: one row per point and metric: the varied parameters, ``metric``, ``n`` (runs that
  finished), ``mean``, ``sd``, ``ci_low``, ``ci_high`` (Student t at the sweep's ``level``, 95 % by
  default; empty when n = 1);
- ``differences.csv`` (grid designs): per point and metric, the difference from the reference point
  and its interval (paired over replicates with ``crn = true``, Welch otherwise);
- ``<metric>.png`` (and ``.svg``/``.pdf`` when asked): a response curve with its band (one
  parameter), a heat map beside the curves (two parameters on a grid), the point means against each
  parameter (other designs), or the sensitivity indices (sobol, morris); labels with units, shares in
  percent, a colour-blind-safe palette;
- ``sensitivity.csv`` (sobol: S1, S1_conf, ST, ST_conf and, from N/2 base samples, S1_half and
  ST_half for the convergence check; morris: mu, mu_star, mu_star_conf, sigma and the replicate
  noise floor), one row per metric and parameter; ``sensitivity_s2.csv`` with ``second_order``.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import plots
from ..params import ScenarioError
from .store import read_runs, read_sweep_json

LEVEL = 0.95
FORMATS = ("png", "svg", "pdf")
PALETTE = plots.PALETTE  # Okabe & Ito (2008), the project's one palette (sim.plots)


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
    differences: pd.DataFrame | None = None
    second_order: pd.DataFrame | None = None
    level: float = LEVEL
    reference: dict | None = None
    notes: list[str] = field(default_factory=list)


def _t(level: float, dof):
    from scipy import stats

    with np.errstate(invalid="ignore"):
        return stats.t.ppf(0.5 + level / 2, dof)


def confidence(runs: pd.DataFrame, parameters: list[str], metrics: list[str], level: float = LEVEL) -> pd.DataFrame:
    """Per point and metric: n, mean, sd and the t-interval of the mean across replicates at ``level``."""
    ok = runs[runs["status"] == "ok"]
    keys = ["point", *parameters]
    long = ok.melt(id_vars=keys, value_vars=metrics, var_name="metric", value_name="value")
    grouped = long.groupby(["metric", *keys], sort=False, dropna=False)["value"]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    half = _t(level, table["n"] - 1) * table["sd"] / np.sqrt(table["n"])
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    order = {m: i for i, m in enumerate(metrics)}
    table = table.sort_values(["metric", "point"], key=lambda c: c.map(order) if c.name == "metric" else c)
    return table[[*keys, "metric", "n", "mean", "sd", "ci_low", "ci_high"]].reset_index(drop=True)


def differences(runs: pd.DataFrame, parameters: list[str], metrics: list[str], reference: int,
                paired: bool, level: float = LEVEL) -> pd.DataFrame:
    """Per point and metric: mean(point) - mean(reference) with its t-interval at ``level``.

    ``paired`` (common random numbers): replicate i of a point is compared with replicate i of the
    reference (the same seed), and the interval is the paired t-interval of those differences;
    otherwise Welch's interval for two independent samples."""
    ok = runs[runs["status"] == "ok"]
    base = ok[ok["point"] == reference].set_index("replicate")
    rows = []
    for point, part in ok.groupby("point", sort=True):
        part = part.set_index("replicate")
        info = {p: part[p].iloc[0] for p in parameters}
        for metric in metrics:
            if paired:
                d = (part[metric] - base[metric]).dropna()
                n = len(d)
                mean, sd = (d.mean(), d.std()) if n else (np.nan, np.nan)
                half = _t(level, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
            else:
                a, b = part[metric].dropna(), base[metric].dropna()
                n = min(len(a), len(b))
                mean = a.mean() - b.mean()
                va, vb = (a.var() / len(a) if len(a) > 1 else np.nan), (b.var() / len(b) if len(b) > 1 else np.nan)
                se = np.sqrt(va + vb)
                dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if se > 0 else np.nan
                half = _t(level, dof) * se if se > 0 else (0.0 if se == 0 else np.nan)
            rows.append({"point": point, **info, "metric": metric, "n": n, "difference": mean,
                         "ci_low": mean - half, "ci_high": mean + half,
                         "paired": paired, "reference_point": reference})
    return pd.DataFrame(rows)


def sensitivity(design: str, problem: dict, summary: pd.DataFrame, metrics: list[str],
                levels: int = 4, seed: int = 0, level: float = LEVEL, second_order: bool = False,
                runs: pd.DataFrame | None = None, replicates: int = 1) -> pd.DataFrame:
    """SALib's Sobol (first, total and, with ``second_order``, second order) or Morris indices of each
    metric's point means; with the convergence check (Sobol: the indices from the first N/2 base
    samples) and the replicate noise floor (Morris, with two replicates or more). Second-order
    indices, when asked, are in ``.attrs["second_order"]`` (a DataFrame: metric, parameter, other, S2,
    S2_conf)."""
    rows, pairs = [], []
    names = problem["names"]
    d = len(names)
    for metric in metrics:
        means = summary[summary["metric"] == metric].sort_values("point")
        y = means["mean"].to_numpy(dtype=float)
        if np.isnan(y).any() or len(y) == 0:
            raise ScenarioError(f"{metric}: cannot compute {design} indices: some points have no finished "
                                f"run (rerun the sweep to finish them)")
        try:
            if design == "sobol":
                from SALib.analyze import sobol

                si = sobol.analyze(problem, y, calc_second_order=second_order, conf_level=level, seed=seed)
                block = 2 * d + 2 if second_order else d + 2
                n_base = len(y) // block
                half = None
                if n_base >= 4:
                    half = sobol.analyze(problem, y[: (n_base // 2) * block], calc_second_order=second_order,
                                         conf_level=level, seed=seed)
                for i, name in enumerate(names):
                    rows.append({"metric": metric, "parameter": name, "S1": si["S1"][i], "S1_conf": si["S1_conf"][i],
                                 "ST": si["ST"][i], "ST_conf": si["ST_conf"][i],
                                 "S1_half": half["S1"][i] if half else np.nan,
                                 "ST_half": half["ST"][i] if half else np.nan})
                if second_order:
                    for i in range(d):
                        for j in range(i + 1, d):
                            pairs.append({"metric": metric, "parameter": names[i], "other": names[j],
                                          "S2": si["S2"][i, j], "S2_conf": si["S2_conf"][i, j]})
            else:
                from SALib.analyze import morris

                x = means[names].to_numpy(dtype=float)
                si = morris.analyze(problem, x, y, num_levels=levels, conf_level=level, seed=seed)
                floor = np.nan
                if runs is not None and replicates > 1:
                    ok = runs[runs["status"] == "ok"]
                    s_noise = np.sqrt(ok.groupby("point")[metric].var().mean())
                    step = levels / (2 * (levels - 1))  # SALib's step, as a fraction of each range
                    # mu* of a parameter that does nothing: the mean |difference| of two point means
                    floor = np.sqrt(2 / np.pi) * s_noise * np.sqrt(2 / replicates) / step
                for i, name in enumerate(names):
                    rows.append({"metric": metric, "parameter": name, "mu": si["mu"][i], "mu_star": si["mu_star"][i],
                                 "mu_star_conf": si["mu_star_conf"][i], "sigma": si["sigma"][i],
                                 "noise_floor": floor})
        except (ValueError, IndexError, KeyError, RuntimeError) as exc:
            raise ScenarioError(f"{metric}: cannot compute {design} indices from these runs ({exc}); was "
                                f"sweep.json or the runs table changed?") from None
    table = pd.DataFrame(rows)
    if second_order and design == "sobol":
        table.attrs["second_order"] = pd.DataFrame(pairs)
    return table


def report(out: str | Path, metrics: list[str] | None = None, figures: bool = True,
           formats: tuple[str, ...] = ("png",)) -> Report:
    """Summarise a sweep's folder and write ``report/`` inside it (figures in each of ``formats``)."""
    for fmt in formats:
        if fmt not in FORMATS:
            raise ScenarioError(f"--format: expected some of {', '.join(FORMATS)}, found {fmt[:40]!r}")
    out = Path(out)
    spec = read_sweep_json(out)
    runs = read_runs(out)
    parameters, design = spec["parameters"], spec["design"]
    level = float(spec.get("level") or LEVEL)
    metrics = metrics or spec["outputs"]
    unknown = [m for m in metrics if m not in runs.columns]
    if unknown:
        raise ScenarioError(f"{out}: {unknown[0]}: not an output of this sweep; expected one of "
                            f"{', '.join(spec['outputs'])}")
    missing = [p for p in parameters if p not in runs.columns]
    if missing:
        raise ScenarioError(f"{out / 'sweep.json'}: parameters: {missing[0]} is not a column of the runs table "
                            f"(was sweep.json changed?)")
    summary = confidence(runs, parameters, metrics, level)
    notes: list[str] = []
    indices, pairs, diffs, reference = None, None, None, None
    replicates = int(spec.get("replicates") or 1)
    if design in ("sobol", "morris") and len(runs) == spec["runs"]:
        indices = sensitivity(design, spec["problem"], summary, metrics, spec.get("levels", 4), spec["seed"],
                              level, bool(spec.get("second_order")), runs, replicates)
        pairs = indices.attrs.pop("second_order", None)
        notes += _sensitivity_notes(design, indices, replicates)
    if design == "grid" and parameters and runs["point"].nunique() > 1:
        ref = spec.get("reference")
        ref = int(ref) if isinstance(ref, int) and not isinstance(ref, bool) else 0
        if ref not in set(runs["point"]):
            raise ScenarioError(f"{out / 'sweep.json'}: reference: point {ref} has no runs")
        diffs = differences(runs, parameters, metrics, ref, bool(spec.get("crn")), level)
        reference = {p: runs.loc[runs["point"] == ref, p].iloc[0] for p in parameters}
    if (summary["n"] == 1).any():
        notes.append("points with one finished run have no interval (n = 1): add replicates")
    folder = out / "report"
    try:
        folder.mkdir(exist_ok=True)
        files = [_write_csv(summary, folder / "summary.csv")]
        if diffs is not None:
            files.append(_write_csv(diffs, folder / "differences.csv"))
        if indices is not None:
            files.append(_write_csv(indices, folder / "sensitivity.csv"))
        if pairs is not None:
            files.append(_write_csv(pairs, folder / "sensitivity_s2.csv"))
        if figures:
            for metric in metrics:
                fig = figure(summary, metric, parameters, design, indices, level)
                for fmt in formats:
                    files.append(_save(fig, folder / f"{_file_name(metric)}.{fmt}", fmt))
    except OSError as exc:
        raise ScenarioError(f"{folder}: cannot write the report: {exc.strerror or exc}") from None
    return Report(spec["name"], design, parameters, len(runs), int((runs["status"] == "failed").sum()),
                  summary, indices, files, diffs, pairs, level, reference, notes)


def _file_name(metric: str) -> str:
    """A metric's figure file name (user-defined outputs hold brackets, colons, dots)."""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in metric).strip("_")[:120] or "metric"


def _sensitivity_notes(design: str, indices: pd.DataFrame, replicates: int) -> list[str]:
    notes = []
    if design == "sobol":
        gap = (indices["ST"] - indices["ST_half"]).abs()
        if gap.notna().any():
            worst = gap.max()
            verdict = ("converged" if worst <= max(0.05, float(indices["ST_conf"].median()))
                       else "NOT converged: double samples")
            notes.append(f"convergence: largest |ST(N) - ST(N/2)| = {worst:.3f} ({verdict})")
        else:
            notes.append("convergence: too few base samples to compare N/2 with N (samples >= 4)")
    elif design == "morris":
        if replicates > 1:
            notes.append("noise floor: mu* below noise_floor is what replicate noise alone would give")
        else:
            notes.append("noise floor: needs replicates >= 2 (the run-to-run noise is unknown)")
    return notes
def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
    os.replace(tmp, path)
    return path


def _save(fig: Figure, path: Path, fmt: str = "png") -> Path:
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format=fmt, dpi=120)
    os.replace(tmp, path)
    return path


def _scaled(data: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Shares in percent for figures (the tables keep fractions)."""
    if not plots.is_percent(metric):
        return data
    data = data.copy()
    for c in ("mean", "ci_low", "ci_high", "sd"):
        data[c] = data[c] * 100
    return data


def _title(text: str, width: int = 60) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _uneven(values) -> bool:
    """Values a number line would misplace: not numbers, or unevenly spaced."""
    try:
        v = np.sort(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        return True
    if len(v) < 3:
        return False
    gaps = np.diff(v)
    return bool(gaps.max() > 1.5 * gaps.min()) if gaps.min() > 0 else True


def figure(summary: pd.DataFrame, metric: str, parameters: list[str], design: str,
           indices: pd.DataFrame | None = None, level: float = LEVEL) -> Figure:
    """The figure for one metric, chosen by the design and the number of varied parameters."""
    data = _scaled(summary[summary["metric"] == metric], metric)
    label = plots.metric_label(metric)
    pct = f"{level:.0%}".replace("%", " %")
    if indices is not None:
        return _indices_figure(indices[indices["metric"] == metric], metric, design, level)
    if design == "grid" and len(parameters) == 1:
        fig = Figure(figsize=(6.5, 4.2), layout="constrained")
        _curves(fig.add_subplot(), data, parameters[0], None, label, pct)
        return fig
    if design == "grid" and len(parameters) == 2:
        fig = Figure(figsize=(12, 4.6), layout="constrained")
        _heat_map(fig.add_subplot(1, 2, 1), data, parameters, label, fig)
        _curves(fig.add_subplot(1, 2, 2), data, parameters[0], parameters[1], label, pct)
        fig.suptitle(_title(label[:1].upper() + label[1:], 90), fontsize=11)
        return fig
    fig = Figure(figsize=(4.2 * max(1, len(parameters)), 3.8), layout="constrained")
    axes = fig.subplots(1, max(1, len(parameters)), sharey=True, squeeze=False)[0]  # one y scale, labelled once
    for i, name in enumerate(parameters or ["point"]):
        ax = axes[i]
        ax.errorbar(data[name], data["mean"], yerr=(data["ci_high"] - data["mean"]).fillna(0),
                    fmt="o", ms=3, alpha=0.7, elinewidth=0.8, color=PALETTE[0])
        ax.set_xlabel(plots.parameter_label(name) if name != "point" else "design point (number)")
        ax.set_ylabel(label if i == 0 else "")
    width = fig.get_figwidth()  # about eleven characters an inch at this size: the title fits
    fig.suptitle(_title(f"{label}: point means, {pct} CI", min(90, int(11 * width))), fontsize=10)
    return fig


def _curves(ax, data: pd.DataFrame, x: str, by: str | None, label: str, pct: str) -> None:
    groups = [(None, data)] if by is None else list(data.groupby(by, sort=True))
    categorical = _uneven(sorted(data[x].unique()))
    positions = {v: i for i, v in enumerate(sorted(data[x].unique()))}
    markers = "osD^v<>p"
    for k, (value, part) in enumerate(groups):
        part = part.sort_values(x)
        xs = part[x].map(positions) if categorical else part[x]
        colour = PALETTE[k % len(PALETTE)]
        name = None if by is None else f"{value:g}" if isinstance(value, float) else f"{value}"
        ax.plot(xs, part["mean"], marker=markers[k % len(markers)], ms=4, color=colour, label=name)
        ax.fill_between(xs, part["ci_low"], part["ci_high"], color=colour, alpha=0.18, lw=0)
    if categorical:
        ax.set_xticks(range(len(positions)), [_fmt(v) for v in positions])
    ax.set_xlabel(plots.parameter_label(x) + (" (categories)" if categorical else ""))
    ax.set_ylabel(label)
    ax.set_title(_title(f"mean and {pct} CI across replicates"), fontsize=10)
    if by is not None:
        ax.legend(fontsize=8, title=_title(plots.parameter_label(by), 24), title_fontsize=8,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # beside the data, not on it


def _heat_map(ax, data: pd.DataFrame, parameters: list[str], label: str, fig: Figure) -> None:
    x, y = parameters
    grid = data.pivot_table(index=y, columns=x, values="mean", sort=True)
    image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(grid.columns)), [_fmt(v) for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [_fmt(v) for v in grid.index])
    ax.set_xlabel(plots.parameter_label(x))
    ax.set_ylabel(plots.parameter_label(y))
    ax.set_title(_title(f"mean across replicates"), fontsize=10)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(_title(label, 40))


def _indices_figure(indices: pd.DataFrame, metric: str, design: str, level: float = LEVEL) -> Figure:
    fig = Figure(figsize=(7, 0.6 * len(indices) + 2.4), layout="constrained")
    ax = fig.add_subplot()
    pos = np.arange(len(indices))
    pct = f"{level:.0%}".replace("%", " %")
    if design == "sobol":
        ax.barh(pos - 0.2, indices["S1"], 0.4, xerr=indices["S1_conf"], color=PALETTE[0],
                label=f"S1, first order ({pct} CI)")
        ax.barh(pos + 0.2, indices["ST"], 0.4, xerr=indices["ST_conf"], color=PALETTE[1], hatch="//",
                label=f"ST, total ({pct} CI)")
        ax.set_xlabel("Sobol index (0-1: the fraction of the output's variance)")
    else:
        scale = 100.0 if plots.is_percent(metric) else 1.0  # effects in the unit the label names
        ax.barh(pos, scale * indices["mu_star"], 0.5, xerr=scale * indices["mu_star_conf"], color=PALETTE[0],
                label=f"mu*, mean |elementary effect| ({pct} CI)")
        ax.plot(scale * indices["sigma"], pos, "D", color=PALETTE[7], label="sigma (interactions, non-linearity)")
        floor = indices["noise_floor"].iloc[0] if "noise_floor" in indices and len(indices) else np.nan
        if np.isfinite(floor):
            ax.axvline(scale * floor, color=PALETTE[5], linestyle=":", label="replicate noise floor")
        ax.set_xlabel(_title(f"elementary effect on {plots.metric_label(metric)}, over the whole range", 55))
    ax.set_yticks(pos, [_title(plots.parameter_label(p), 28) for p in indices["parameter"]])
    ax.set_ylabel("parameter")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)  # never over the bars
    ax.set_title(_title(f"{plots.metric_label(metric)}: {design} sensitivity"), fontsize=10)
    return fig


def report_text(rep: Report, max_points: int = 24) -> str:
    """A short text report for the terminal."""
    pct = f"{rep.level:.0%}".replace("%", " %")
    lines = [f"{rep.name}: {rep.design} design, {rep.runs} runs recorded, {rep.failed} failed"]
    for metric, part in rep.summary.groupby("metric", sort=False):
        lines.append(f"  {metric}: mean [{pct} CI] across replicates")
        for _, row in part.head(max_points).iterrows():
            where = ", ".join(f"{p.split('.', 1)[-1]}={_fmt(row[p])}" for p in rep.parameters) or "all runs"
            interval = (f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]" if int(row["n"]) > 1
                        else "(one run: no interval)")
            lines.append(f"    {where:<48} {row['mean']:>12.4g} {interval}  n={int(row['n'])}")
        if len(part) > max_points:
            lines.append(f"    ... {len(part) - max_points} more points in summary.csv")
    if rep.differences is not None and rep.reference is not None:
        ref = ", ".join(f"{k.split('.', 1)[-1]}={_fmt(v)}" for k, v in rep.reference.items())
        paired = bool(rep.differences["paired"].iloc[0]) if len(rep.differences) else False
        lines.append(f"  differences from the reference point ({ref}), {pct} CI "
                     f"({'paired: common random numbers' if paired else 'Welch: independent seeds'}):")
        for metric, part in rep.differences.groupby("metric", sort=False):
            lines.append(f"    {metric}:")
            for _, row in part[part["point"] != part["reference_point"]].head(max_points).iterrows():
                where = ", ".join(f"{p.split('.', 1)[-1]}={_fmt(row[p])}" for p in rep.parameters)
                interval = (f"[{row['ci_low']:+.4g}, {row['ci_high']:+.4g}]" if np.isfinite(row["ci_low"])
                            else "(no interval)")
                lines.append(f"      {where:<46} {row['difference']:>+12.4g} {interval}")
    if rep.sensitivity is not None:
        lines.append(f"  {rep.design} indices:")
        lines.append("    " + rep.sensitivity.to_string(index=False, float_format=lambda v: f"{v:.3f}")
                     .replace("\n", "\n    "))
    if rep.second_order is not None and len(rep.second_order):
        lines.append("  second-order Sobol indices (S2):")
        lines.append("    " + rep.second_order.to_string(index=False, float_format=lambda v: f"{v:.3f}")
                     .replace("\n", "\n    "))
    for note in rep.notes:
        lines.append(f"  note: {note}")
    if rep.files:
        lines.append(f"wrote {rep.files[0].parent}/ ({', '.join(f.name for f in rep.files)})")
    return "\n".join(lines)


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
