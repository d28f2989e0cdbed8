"""Replicated what-ifs: a scenario and up to four variants on N paired seeds, effects with 95 % intervals.

Replicate i of every arm runs on the same seed (common random numbers, the seed derived from the
comparison's seed with NumPy's SeedSequence as the sweeps derive theirs), so the effect of a variant
is the mean of per-replicate differences and its interval a paired t-interval. Runs go to the sweeps'
executors: local processes or a Dask cluster. The same comparison gives the same bytes on either.

    import sim
    what_if = sim.compare("quality_crisis", replicates=8,
                          variants={"better service": {"brands.ours.service_recovery": 0.6}})
    what_if.effects()        # one row per variant and KPI: effect, low, high
    what_if.write("out/compare")
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import api, economics, plots
from ..params import ScenarioError
from ..scenario import Scenario, parse_override
from ..sweep.spec import Task
from .stats import LEVEL, mean_interval, paired_interval

MAX_VARIANTS = 4
BASE_ARM = "scenario"
BAND = 0.90  # the charts' band: the middle 90 % of replicate runs
# KPI -> (label, how it is shown): money, count, points (a share, shown in percentage points), index.
KPIS: dict[str, tuple[str, str]] = {
    "profit": ("profit", "money"),
    "revenue": ("revenue", "money"),
    "sales": ("sales (purchases)", "count"),
    "share": ("market share", "points"),
    "sentiment": ("net sentiment, last day", "index"),
    "rating": ("average rating, last day", "index"),
    "won": ("customers won", "count"),
    "kept": ("customers kept", "count"),
    "spend": ("spend (ads, prompts, service, remarketing)", "money"),
}
DAILY = ("profit", "revenue", "purchases", "market_share", "sentiment", "rating", "acquisitions", "retentions",
         "spend_ads", "spend_prompts", "spend_service", "spend_remarketing")


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """Replicate i's seed: child i of SeedSequence(seed), the same for every arm (common random numbers)."""
    return [int(np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1)[0]) for i in range(replicates)]


_VARIANT = re.compile(r"^\s*([^:=,]+?)\s*:\s*(.+)$")


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``'better service:brands.ours.service_recovery=0.6,brands.ours.service_cost=3'`` -> (name, overrides)."""
    match = _VARIANT.match(text)
    if not match:
        raise ScenarioError(f"--variant {text!r}: expected NAME:key=value[,key=value...]")
    name, body = match.group(1), match.group(2)
    if name == BASE_ARM:
        raise ScenarioError(f"--variant {text!r}: the name {BASE_ARM!r} is the scenario's own arm; pick another")
    parts = re.split(r",(?=\s*[A-Za-z_][\w.]*\s*=)", body)
    return name, dict(parse_override(part) for part in parts)


def kpis(daily: pd.DataFrame, brand: str) -> dict[str, float]:
    """A run's KPIs for ``brand`` from its daily columns (day 0, the initial state, left out of totals)."""
    days, last = daily.iloc[1:], daily.iloc[-1]
    bought, total = float(days[f"purchases_{brand}"].sum()), float(days["purchases"].sum())
    return {"profit": float(days[f"profit_{brand}"].sum()), "revenue": float(days[f"revenue_{brand}"].sum()),
            "sales": bought, "share": bought / total if total else 0.0,
            "sentiment": float(last[f"sentiment_{brand}"]), "rating": float(last[f"rating_{brand}"]),
            "won": float(days[f"acquisitions_{brand}"].sum()), "kept": float(days[f"retentions_{brand}"].sum()),
            "spend": float(sum(days[f"spend_{lever}_{brand}"].sum() for lever in economics.LEVER_SPEND))}


def simulate_money(scenario: Scenario, seed: int, overrides: dict[str, Any]) -> api.Result:
    """A run whose table carries its P&L columns (the ``simulate`` the sweeps' ``run_one`` calls)."""
    result = api.run(scenario, seed=seed, overrides=overrides or None)
    return api.Result(result.scenario, result.money())


@dataclass
class _Tasks:
    """The comparison as the sweeps' executors see it: run ``rid`` is arm ``rid // N``, replicate ``rid % N``."""
    arms: list[Scenario]
    seeds: list[int]
    daily: tuple[str, ...]

    def task(self, rid: int) -> Task:
        arm, replicate = divmod(rid, len(self.seeds))
        return Task(rid, arm, replicate, self.seeds[replicate], {}, self.arms[arm], (), self.daily)


# How local_pool starts its workers: "forkserver", or "fork" in a process known to be single-threaded
# with momentsim imported (the app's budget planner, itself started by the app's forkserver).
POOL_START = "forkserver"


def local_pool(workers: int | None = None):
    """Worker processes for decisions: forked from a server that has imported momentsim once.

    A spawned worker imports momentsim before its first run (1-3 s, more on a busy machine); the
    forkserver imports it once per Python process, so a second what-if in the same session (a
    notebook, the app) starts its workers at once. Workers ignore Ctrl-C, as the sweeps' do.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from ..sweep.execute import _ignore_sigint

    if POOL_START == "forkserver":
        multiprocessing.set_forkserver_preload(["sim.decide.compare"])
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                               mp_context=multiprocessing.get_context(POOL_START), initializer=_ignore_sigint)


def _package_version() -> str:
    try:
        return version("momentsim")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class WhatIf:
    """A replicated comparison: per arm and replicate the KPIs, and the daily series behind them."""
    scenario: Scenario                      # the scenario arm, resolved
    variants: dict[str, dict[str, Any]]     # variant name -> its overrides on top of the scenario
    seeds: list[int]
    seed: int
    brand: str
    values: pd.DataFrame                    # arm, replicate, seed, one column a KPI
    daily: pd.DataFrame                     # arm, replicate, step, the daily columns
    seconds: float = 0.0
    executor: str = "local"
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def arms(self) -> list[str]:
        return [BASE_ARM, *self.variants]

    @property
    def currency(self) -> str:
        return economics.currency(self.scenario.params)

    def effects(self) -> pd.DataFrame:
        """Per KPI and arm: n, mean, sd; per variant also its paired effect on the scenario and 95 % interval."""
        rows = []
        for kpi in KPIS:
            base = self.values[self.values["arm"] == BASE_ARM].sort_values("replicate")[kpi].to_numpy()
            for arm in self.arms:
                values = self.values[self.values["arm"] == arm].sort_values("replicate")[kpi].to_numpy()
                mean, sd, low, high = mean_interval(values)
                row = {"kpi": kpi, "arm": arm, "n": len(values), "mean": mean, "sd": sd,
                       "ci_low": low, "ci_high": high}
                if arm == BASE_ARM:
                    row.update(effect=0.0, effect_sd=0.0, effect_low=0.0, effect_high=0.0)
                else:
                    effect, esd, elow, ehigh = paired_interval(values, base)
                    row.update(effect=effect, effect_sd=esd, effect_low=elow, effect_high=ehigh)
                rows.append(row)
        return pd.DataFrame(rows)

    def table_text(self) -> str:
        """The printed table: each variant's effect on each KPI with its 95 % interval."""
        effects = self.effects()
        n = len(self.seeds)
        lines = [f"{self.scenario.name}: {len(self.variants)} variant{'s' * (len(self.variants) != 1)} x {n} "
                 f"paired replicate{'s' * (n != 1)}, {self.scenario.params['steps']} days, "
                 f"{self.scenario.params['population.size']} consumers, brand {self.brand!r}, "
                 f"money in {self.currency}",
                 f"  (effect = variant - scenario on the same seeds; 95 % paired t-interval; share in "
                 f"percentage points)"]
        for arm in self.variants:
            lines.append(f"  {arm}: " + ", ".join(f"{k}={v}" for k, v in self.variants[arm].items()))
            lines.append(f"    {'KPI':<30}{'scenario':>12}{arm[:12]:>13}{'effect':>12}  95 % interval")
            for kpi, (label, kind) in KPIS.items():
                e = effects[(effects["kpi"] == kpi)]
                base, var = e[e["arm"] == BASE_ARM].iloc[0], e[e["arm"] == arm].iloc[0]
                lines.append(f"    {label:<30}{_show(base['mean'], kind):>12}{_show(var['mean'], kind):>13}"
                             f"{_show(var['effect'], kind, sign=True):>12}  "
                             f"{_show(var['effect_low'], kind, sign=True)} to "
                             f"{_show(var['effect_high'], kind, sign=True)}")
            ret = self.return_on_spend(arm)
            if ret == ret:
                lines.append(f"    return on the extra spend: {ret:+.2f} of profit per 1 spent (profit effect / "
                             f"spend effect; -1: the spend brings nothing back)")
        return "\n".join(lines)

    def return_on_spend(self, arm: str) -> float:
        """Profit gained per unit of extra lever spend (after the spend), mean over paired replicates."""
        e = self.effects().set_index(["kpi", "arm"])
        return economics.return_on_spend(e.loc[("profit", arm), "effect"], e.loc[("spend", arm), "effect"])

    def figure(self) -> Figure:
        """Per arm, the mean over replicates and the middle 90 % of runs, day by day."""
        panels = [("profit", f"cumulative profit ({self.currency})"),
                  ("market_share", "market share (% of purchases, last 28 days)"),
                  ("sentiment", "net sentiment (-1 to 1)")]
        figure = Figure(figsize=(11, 8), layout="constrained")
        axes = figure.subplots(len(panels), 1, sharex=True)
        lo, hi = (1 - BAND) / 2, 1 - (1 - BAND) / 2
        for ax, (measure, label) in zip(axes, panels):
            column = f"{measure}_{self.brand}"
            for i, arm in enumerate(self.arms):
                runs = self.daily[self.daily["arm"] == arm].pivot(index="step", columns="replicate", values=column)
                if measure == "profit":
                    runs = runs.cumsum()
                colour = plots.series_colour(i)
                ax.fill_between(runs.index, runs.quantile(lo, axis=1), runs.quantile(hi, axis=1),
                                color=colour, alpha=0.2, linewidth=0)
                ax.plot(runs.index, runs.mean(axis=1), color=colour, linewidth=2, label=arm)
            ax.set_ylabel(label)
            if measure == "market_share":
                plots.percent_axis(ax)
        axes[0].set_title(f"{self.scenario.name}, brand {self.brand}: mean of {len(self.seeds)} paired runs, "
                          f"band: the middle {BAND:.0%} of runs")
        plots.legend_beside(axes[0], title="arm")
        axes[-1].set_xlabel("day")
        return figure

    def provenance(self) -> dict[str, Any]:
        return {"kind": "compare", "momentsim": _package_version(), "created": self.created,
                "scenario": self.scenario.name, "brand": self.brand, "currency": self.currency,
                "steps": self.scenario.params["steps"], "population": self.scenario.params["population.size"],
                "engine": self.scenario.params["engine"], "seed": self.seed, "replicates": len(self.seeds),
                "seeds": self.seeds, "variants": self.variants, "level": LEVEL, "band": BAND,
                "executor": self.executor, "seconds": round(self.seconds, 2)}

    def write(self, out: str | Path) -> dict[str, Path]:
        """compare.csv (effects), replicates.csv (KPIs a run), compare.png, compare.json, the arms' scenarios."""
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise ScenarioError(f"--out {out}: expected a folder, found a file")
        out.mkdir(parents=True, exist_ok=True)
        files = {name: out / name for name in ("compare.csv", "replicates.csv", "compare.json", "compare.png",
                                               "scenario.toml")}
        fmt = dict(index=False, float_format=api.CSV_FLOAT_FORMAT, lineterminator="\n")
        _atomic(files["compare.csv"], self.effects().to_csv(**fmt).encode())
        _atomic(files["replicates.csv"], self.values.to_csv(**fmt).encode())
        _atomic(files["compare.json"], (json.dumps(self.provenance(), indent=2, default=str) + "\n").encode())
        _atomic(files["scenario.toml"], self.scenario.to_toml().encode())
        tmp = files["compare.png"].with_name("compare.png.tmp")
        self.figure().savefig(tmp, format="png", dpi=100)
        os.replace(tmp, files["compare.png"])
        return files


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _show(value: float, kind: str, sign: bool = False) -> str:
    if value != value:
        return "n/a"
    plus = "+" if sign else ""
    if kind == "points":
        return f"{value * 100:{plus},.1f} pp" if sign else f"{value:.1%}"
    if kind in ("money", "count"):
        return f"{value + 0.0 if round(value) else 0.0:{plus},.0f}"
    return f"{value:{plus}.3f}"


def compare_replicated(scenario: str | Path | Scenario, variants: dict[str, dict[str, Any]] | None = None, *,
                       replicates: int = 8, seed: int | None = None, steps: int | None = None,
                       overrides: dict[str, Any] | None = None, brand: str | None = None,
                       executor: Any = "local", scheduler: str | None = None, workers: int | None = None
                       ) -> WhatIf:
    """Run the scenario and each variant on ``replicates`` paired seeds; every run in parallel.

    ``variants`` maps a name to dotted-key overrides on top of the scenario (up to four); ``seed``
    (default: the scenario's) derives the replicates' seeds; ``brand`` (default: the first) is the
    one whose KPIs are compared. ``executor``: "local" (processes), "dask" (``scheduler``'s cluster or
    a local one) or an executor object, as for sweeps.
    """
    variants = dict(variants or {})
    if len(variants) > MAX_VARIANTS:
        raise ScenarioError(f"--variant: expected at most {MAX_VARIANTS} variants, found {len(variants)}")
    if not isinstance(replicates, int) or isinstance(replicates, bool) or replicates < 1:
        raise ScenarioError(f"--replicates: expected a positive integer, found {replicates!r}")
    base = api.resolve(scenario, steps, seed, overrides)
    seed = base.params["seed"]
    brands = base.params.brand_names
    brand = brand or brands[0]
    if brand not in brands:
        raise ScenarioError(f"--brand: expected one of {', '.join(brands)}, found {brand!r}")
    arms = [base]
    for name, changes in variants.items():
        try:
            arm = api.what_if(base, changes, source=f"variant {name!r}")  # levers change on day 0
        except ScenarioError as exc:
            raise ScenarioError(f"--variant {name}: {exc}") from None
        if arm.params.brand_names != brands:
            raise ScenarioError(f"--variant {name}: market.brands cannot change in a variant (KPIs are per brand)")
        arms.append(arm)
    seeds = replicate_seeds(seed, replicates)
    daily = ("purchases", *(f"{m}_{b}" for b in brands for m in DAILY))

    return run_arms(base, variants, [BASE_ARM, *variants], seeds, brand, _Tasks(arms, seeds, daily),
                    executor_for(executor, scheduler, workers))


def executor_for(executor: Any, scheduler: str | None, workers: int | None) -> Callable[..., str]:
    """``execute(tasks, todo, collect)`` for :func:`run_arms` on the sweeps' executors: "local" (a pool of
    processes, shut down after), "dask" (``scheduler``'s cluster or a local one, or a Dask client), or
    any ``concurrent.futures`` executor. Returns the name of what ran the tasks."""
    from ..sweep.execute import _is_dask_client, run_tasks_dask, run_tasks_futures

    def execute(tasks, todo, collect) -> str:
        if executor == "dask" or scheduler is not None or _is_dask_client(executor):
            run_tasks_dask(tasks, todo, executor, scheduler, workers, simulate_money, collect)
            return "dask"
        if executor == "local":
            pool = local_pool(workers)
            try:
                run_tasks_futures(tasks, todo, pool, workers, simulate_money, collect)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            return "local"
        run_tasks_futures(tasks, todo, executor, workers, simulate_money, collect)
        return type(executor).__name__

    return execute


def run_arms(base: Scenario, described: dict[str, Any], names: list[str], seeds: list[int], brand: str,
             tasks: Any, execute: Callable[..., str], on_run: Callable[[int, int], None] | None = None) -> WhatIf:
    """Run every (arm, replicate) task through ``execute(tasks, todo, collect)`` (which returns the name of
    what ran them) and assemble the :class:`WhatIf`: each run's KPIs and daily table, arm by arm.
    Shared by :func:`compare_replicated` and the app, whose arms are whole scenarios."""
    replicates = len(seeds)
    todo = list(range(len(names) * replicates))
    results: dict[int, dict] = {}
    failures: list[str] = []

    def collect(get_result) -> None:
        result = get_result()
        row = result["row"]
        if row["status"] != "ok":
            failures.append(f"run {row['run_id']}: {row['error']}")
        results[row["run_id"]] = result
        if on_run is not None:
            on_run(len(results), len(todo))

    started = time.perf_counter()
    used = execute(tasks, todo, collect)
    if failures or len(results) != len(todo):
        raise RuntimeError("compare: some runs did not finish: " + "; ".join(failures[:3]))
    value_rows, frames = [], []
    for rid in todo:
        arm, replicate = divmod(rid, replicates)
        frame = results[rid]["daily"].drop(columns="run_id")
        value_rows.append({"arm": names[arm], "replicate": replicate, "seed": seeds[replicate],
                           **kpis(frame, brand)})
        frame.insert(0, "replicate", replicate)
        frame.insert(0, "arm", names[arm])
        frames.append(frame)
    return WhatIf(base, described, seeds, base.params["seed"], brand, pd.DataFrame(value_rows),
                  pd.concat(frames, ignore_index=True), time.perf_counter() - started, used)
