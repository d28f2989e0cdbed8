"""The budget optimiser: split a brand's budget across ads, review prompting and service with Optuna.

A spec (TOML) names the scenario, the brand, a budget per period, the levers to split it across, their
bounds (shares of the budget), the horizon and the objective::

    scenario = "baseline"
    brand = "ours"
    budget = 900.0            # per period
    period = 30               # days (default 30: a month)
    levers = ["ads", "prompts", "service"]
    horizon = 365             # days (default: the scenario's)
    objective = "profit"      # profit, npv, share, or sentiment (with profit_floor)
    profit_floor = 0.0        # only with objective = "sentiment": plans below it lose
    trials = 60
    replicates = 4
    seed = 7
    sampler = "tpe"           # or "cmaes"

    [bounds]                  # shares of the budget, default [0, 1]
    ads = [0.1, 0.8]

    [set]                     # overrides of the scenario
    "population.size" = 5000

How money becomes levers (:func:`plan_levers`): the ads' share is spent every day (``ad_spend``, through
the saturating response with carry-over); a programme's share buys contacts (``budget / cost``) a day,
reaching that share of those eligible (customers who did not share, for prompts; complaints, for
service): ``review_prompting = economics.prompt_response x reach`` and ``service_recovery = reach``. How
many are eligible is read from the current plan's runs on the same seeds.

Every trial runs on the same R seeds (common random numbers), so trials differ by their plans, not by
luck. Trials are asked a batch at a time and their runs go to the sweeps' executors; the study lives in
an SQLite file in the output folder, so an interrupted optimisation resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import api, economics, plots
from ..params import ScenarioError, suggest
from ..scenario import Scenario, parse_toml, read_text
from .compare import _atomic, _package_version, _Tasks, kpis, local_pool, replicate_seeds, simulate_money
from .stats import mean_interval, paired_interval

LEVERS = ("ads", "prompts", "service")
OBJECTIVES = ("profit", "npv", "share", "sentiment")
SAMPLERS = ("tpe", "cmaes")
TOP_KEYS = ("scenario", "brand", "budget", "period", "levers", "bounds", "horizon", "objective",
            "profit_floor", "trials", "replicates", "seed", "sampler", "name", "description", "set")


@dataclass
class Spec:
    """A validated optimisation spec."""
    name: str
    scenario: Scenario                 # with [set] and the horizon applied
    brand: str
    budget: float
    period: int
    levers: list[str]
    bounds: dict[str, tuple[float, float]]
    objective: str
    profit_floor: float
    trials: int
    replicates: int
    seed: int
    sampler: str
    description: str = ""
    path: Path | None = None
    text: str = ""

    @property
    def per_day(self) -> float:
        return self.budget / self.period

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "scenario": self.scenario.name, "brand": self.brand, "budget": self.budget,
                "period": self.period, "budget_per_day": self.per_day, "levers": self.levers,
                "bounds": {k: list(v) for k, v in self.bounds.items()}, "horizon": self.scenario.params["steps"],
                "objective": self.objective, "profit_floor": self.profit_floor, "trials": self.trials,
                "replicates": self.replicates, "seed": self.seed, "sampler": self.sampler,
                "description": self.description}


def load_spec(path: str | Path, trials: int | None = None, replicates: int | None = None) -> Spec:
    path = Path(path)
    return loads_spec(read_text(path, "optimisation spec"), path, trials, replicates)


def loads_spec(text: str, path: str | Path | None = None, trials: int | None = None,
               replicates: int | None = None) -> Spec:
    """Parse and validate a spec; every mistake names the file and the key."""
    path = Path(path) if path is not None else None
    src = str(path) if path is not None else "<optimise>"
    doc = parse_toml(text, src)
    for key in doc:
        if key not in TOP_KEYS:
            raise ScenarioError(f"{src}: {key}: unknown key; expected one of {', '.join(TOP_KEYS)}"
                                f"{suggest(key, TOP_KEYS)}")
    if "scenario" not in doc or not isinstance(doc["scenario"], str):
        raise ScenarioError(f"{src}: scenario: expected a shipped scenario's name or a scenario file, "
                            f"found {doc.get('scenario', 'nothing')!r}")
    target: Any = doc["scenario"]
    if (target.endswith(".toml") or "/" in target) and path is not None and not Path(target).is_absolute():
        target = path.resolve().parent / target
    try:
        scenario = api.load(target)
    except ScenarioError as exc:
        raise ScenarioError(f"{src}: scenario: {exc}") from None
    fixed = doc.get("set", {})
    if not isinstance(fixed, dict):
        raise ScenarioError(f"{src}: set: expected a table of dotted keys, found {fixed!r}")
    fixed = _flat(fixed)
    if "horizon" in doc:
        fixed["steps"] = _number(doc, "horizon", src, int, 1)
    if fixed:
        scenario = scenario.with_overrides(fixed, source=f"{src}: set")
    brands = scenario.params.brand_names
    brand = doc.get("brand", brands[0])
    if brand not in brands:
        raise ScenarioError(f"{src}: brand: expected one of {', '.join(brands)}, found {brand!r}"
                            f"{suggest(str(brand), brands)}")
    budget = _number(doc, "budget", src, float, 0.0, required=True)
    period = _number(doc, "period", src, int, 1, default=30)
    levers = doc.get("levers", list(LEVERS))
    if (not isinstance(levers, list) or len(levers) < 2 or len(set(levers)) != len(levers)
            or not all(lever in LEVERS for lever in levers)):
        raise ScenarioError(f"{src}: levers: expected two or three of {', '.join(LEVERS)}, each once, "
                            f"found {levers!r}")
    raw_bounds = doc.get("bounds", {})
    if not isinstance(raw_bounds, dict):
        raise ScenarioError(f"{src}: bounds: expected a table lever = [low, high], found {raw_bounds!r}")
    bounds = {lever: (0.0, 1.0) for lever in levers}
    for lever, value in raw_bounds.items():
        if lever not in levers:
            raise ScenarioError(f"{src}: bounds.{lever}: expected one of the levers {', '.join(levers)}"
                                f"{suggest(lever, levers)}")
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                or not 0.0 <= value[0] <= value[1] <= 1.0):
            raise ScenarioError(f"{src}: bounds.{lever}: expected [low, high] shares of the budget with "
                                f"0 <= low <= high <= 1, found {value!r}")
        bounds[lever] = (float(value[0]), float(value[1]))
    if sum(low for low, _ in bounds.values()) > 1.0 + 1e-9 or sum(high for _, high in bounds.values()) < 1.0 - 1e-9:
        raise ScenarioError(f"{src}: bounds: expected lows summing to at most 1 and highs to at least 1 "
                            f"(the shares split the whole budget), found {bounds}")
    objective = doc.get("objective", "profit")
    if objective not in OBJECTIVES:
        raise ScenarioError(f"{src}: objective: expected one of {', '.join(OBJECTIVES)}, found {objective!r}"
                            f"{suggest(str(objective), OBJECTIVES)}")
    profit_floor = _number(doc, "profit_floor", src, float, None, default=0.0)
    sampler = doc.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise ScenarioError(f"{src}: sampler: expected one of {', '.join(SAMPLERS)}, found {sampler!r}")
    name = doc.get("name", path.stem if path else "optimise")
    if not isinstance(name, str) or not name.replace("-", "_").isidentifier():
        raise ScenarioError(f"{src}: name: expected a plain name (letters, digits, _ and -), found {name!r}")
    return Spec(name, scenario, brand, budget, period, list(levers), bounds, objective, profit_floor,
                trials if trials is not None else _number(doc, "trials", src, int, 1, default=60),
                replicates if replicates is not None else _number(doc, "replicates", src, int, 1, default=4),
                _number(doc, "seed", src, int, 0, default=scenario.params["seed"]), sampler,
                str(doc.get("description", "")), path, text)


def _flat(table: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def _number(doc, key, src, kind, low, default=None, required=False):
    if key not in doc:
        if required:
            raise ScenarioError(f"{src}: {key}: missing; expected {'an integer' if kind is int else 'a number'}"
                                f"{'' if low is None else f' >= {low:g}'}")
        return default
    value = doc[key]
    ok = isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool)
    if ok and kind is float:
        ok = math.isfinite(value)
    if not ok or (low is not None and value < low):
        raise ScenarioError(f"{src}: {key}: expected {'an integer' if kind is int else 'a number'}"
                            f"{'' if low is None else f' >= {low:g}'}, found {value!r}")
    return kind(value)


# --- from shares to levers -------------------------------------------------------------------

def shares_from_unit(u: list[float], levers: list[str], bounds: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Stick-breaking: k-1 numbers in [0, 1] -> k shares summing to 1, projected into the bounds."""
    shares, left = [], 1.0
    for x in u:
        shares.append(left * x)
        left -= left * x
    shares.append(left)
    return project(dict(zip(levers, shares)), bounds)


def project(shares: dict[str, float], bounds: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Shares clipped into their bounds and rescaled (among the unclipped) to sum to 1."""
    s = {k: min(max(v, bounds[k][0]), bounds[k][1]) for k, v in shares.items()}
    for _ in range(20):
        gap = 1.0 - sum(s.values())
        if abs(gap) < 1e-12:
            break
        free = [k for k in s if (gap > 0 and s[k] < bounds[k][1]) or (gap < 0 and s[k] > bounds[k][0])]
        if not free:
            break
        for k in free:
            s[k] = min(max(s[k] + gap / len(free), bounds[k][0]), bounds[k][1])
    return {k: round(v, 6) for k, v in s.items()}


@dataclass
class Eligible:
    """Per day, on average in the current plan: customers a prompt could reach, complaints to handle."""
    prompts: float
    complaints: float


def eligible_from(daily: list[pd.DataFrame], scenario: Scenario, brand: str) -> Eligible:
    levers = scenario.params.brand(brand)
    prompts, complaints = [], []
    for table in daily:
        days = table.iloc[1:]
        purchases = days[f"purchases_{brand}"].to_numpy(dtype=float)
        shares = (days[f"shares_positive_{brand}"] + days[f"shares_negative_{brand}"]).to_numpy(dtype=float)
        r = min(levers["review_prompting"], 0.99)
        prompts.append(np.clip((purchases - shares) / (1 - r), 0, purchases).mean())
        if f"complaints_{brand}" in days:
            complaints.append(days[f"complaints_{brand}"].mean())
        else:  # before Model v2: the brand's unrecovered bad experiences plus its recoveries
            total = days["purchases"].to_numpy(dtype=float)
            mine = np.divide(purchases, total, out=np.zeros_like(purchases), where=total > 0)
            complaints.append((days["experiences_dissatisfied"].to_numpy(dtype=float) * mine).mean()
                              + days[f"recoveries_{brand}"].mean())
    return Eligible(float(np.mean(prompts)), float(np.mean(complaints)))


def plan_levers(spec: Spec, shares: dict[str, float], eligible: Eligible) -> dict[str, Any]:
    """The brand's lever overrides that spend ``shares`` of the daily budget."""
    p, b, day = spec.scenario.params, spec.brand, spec.per_day
    levers = p.brand(b)
    out: dict[str, Any] = {}
    if "ads" in shares:
        out[f"brands.{b}.ad_spend"] = round(shares["ads"] * day, 6)
    if "prompts" in shares:
        reach = economics.capacity_share(shares["prompts"] * day, levers["prompt_cost"], eligible.prompts)
        out[f"brands.{b}.review_prompting"] = round(p["economics.prompt_response"] * reach, 6)
    if "service" in shares:
        reach = economics.capacity_share(shares["service"] * day, levers["service_cost"], eligible.complaints)
        out[f"brands.{b}.service_recovery"] = round(reach, 6)
    return out


# --- the objective --------------------------------------------------------------------------

def objective_value(spec: Spec, money: pd.DataFrame) -> dict[str, float]:
    """A run's objective and the figures beside it."""
    k = kpis(money, spec.brand)
    npv = economics.npv(money[f"profit_{spec.brand}"], spec.scenario.params["economics.discount_rate"],
                        money["step"])
    spend = {lever: float(money[f"spend_{lever}_{spec.brand}"].iloc[1:].sum()) for lever in LEVERS}
    value = {"profit": k["profit"], "npv": npv, "share": k["share"], "sentiment": k["sentiment"]}[spec.objective]
    return {"objective": value, "profit": k["profit"], "npv": npv, "share": k["share"],
            "sentiment": k["sentiment"], "revenue": k["revenue"], **{f"spend_{k_}": v for k_, v in spend.items()}}


def score(spec: Spec, rows: list[dict[str, float]]) -> float:
    """What Optuna maximises: the mean objective; with a profit floor, plans below it score below any above."""
    mean = float(np.mean([r["objective"] for r in rows]))
    if spec.objective == "sentiment":
        profit = float(np.mean([r["profit"] for r in rows]))
        if profit < spec.profit_floor:
            return -2.0 - (spec.profit_floor - profit) / (abs(spec.profit_floor) + 1.0)
    return mean


# --- running -------------------------------------------------------------------------------------

class _Runner:
    """Runs batches of scenarios on the R seeds with one pool (or Dask client) kept for the whole study."""

    def __init__(self, executor: Any, scheduler: str | None, workers: int | None):
        self.kind = "dask" if executor == "dask" or scheduler is not None else "local"
        self.cluster = None
        if self.kind == "dask":
            from distributed import Client, LocalCluster

            if scheduler is not None:
                self.pool = Client(scheduler)
            else:
                self.cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                            processes=True, host="127.0.0.1", dashboard_address=None)
                self.pool = Client(self.cluster)
        else:
            self.pool = local_pool(workers)

    @property
    def slots(self) -> int:
        if self.kind == "dask":
            return max(1, sum(self.pool.nthreads().values()))
        return self.pool._max_workers

    def run(self, arms: list[Scenario], seeds: list[int], daily: tuple[str, ...]) -> list[list[pd.DataFrame]]:
        """Per arm, per seed, the run's daily table with its P&L columns."""
        from ..sweep.execute import run_tasks_dask as _run_dask
        from ..sweep.execute import run_tasks_futures as _run_futures

        batch = _Tasks(arms, seeds, daily)  # arms x paired seeds, as compare runs them
        results: dict[int, dict] = {}
        todo = list(range(len(arms) * len(seeds)))

        def collect(get):
            r = get()
            if r["row"]["status"] != "ok":
                raise RuntimeError(f"optimise: a run failed: {r['row']['error']}")
            results[r["row"]["run_id"]] = r

        if self.kind == "dask":
            _run_dask(batch, todo, self.pool, None, None, simulate_money, collect)
        else:
            _run_futures(batch, todo, self.pool, None, simulate_money, collect)
        if len(results) != len(todo):
            raise RuntimeError("optimise: some runs were lost (a worker died); run the command again to resume")
        n = len(seeds)
        return [[results[a * n + i]["daily"].drop(columns="run_id") for i in range(n)] for a in range(len(arms))]

    def close(self) -> None:
        if self.kind == "dask":
            self.pool.close()
            if self.cluster is not None:
                self.cluster.close()
        else:
            self.pool.shutdown(wait=True)


def _daily_columns(brands: list[str]) -> tuple[str, ...]:
    per_brand = ("profit", "revenue", "purchases", "market_share", "sentiment", "rating", "acquisitions",
                 "retentions", "shares_positive", "shares_negative", "recoveries", "spend_ads", "spend_prompts",
                 "spend_service", "spend_remarketing", "gross_margin")
    return ("purchases", "experiences_dissatisfied", *(f"{m}_{b}" for b in brands for m in per_brand))


@dataclass
class Optimisation:
    """What an optimisation found: the trials, the best plan, the current plan on the same seeds."""
    spec: Spec
    seeds: list[int]
    eligible: Eligible
    trials: pd.DataFrame          # one row a trial: shares, levers, objective mean, interval, figures
    plan: dict[str, Any]          # the current plan's figures (mean and interval of the objective)
    best: dict[str, Any]          # the best trial's figures, its levers and its effect on the plan
    out: Path
    seconds: float
    executor: str
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def best_scenario(self) -> Scenario:
        return self.spec.scenario.with_overrides(self.best["levers"], source="best plan")

    def text(self) -> str:
        s, cur = self.spec, economics.currency(self.spec.scenario.params)
        b, p = self.best, self.plan
        fmt = (lambda v: f"{v * 100:+.1f} pp") if s.objective == "share" else (
            (lambda v: f"{v:+.3f}") if s.objective == "sentiment" else (lambda v: f"{v:+,.0f}"))
        show = (lambda v: f"{v:.1%}") if s.objective == "share" else (
            (lambda v: f"{v:.3f}") if s.objective == "sentiment" else (lambda v: f"{v:,.0f}"))
        lines = [f"{s.name}: {len(self.trials)} trials x {s.replicates} paired replicates, brand {s.brand!r}, "
                 f"budget {s.budget:,.0f} {cur} per {s.period} days across {', '.join(s.levers)}, "
                 f"{s.scenario.params['steps']} days, objective {s.objective}",
                 "  best split: " + ", ".join(f"{k} {v:.0%}" for k, v in b["shares"].items()),
                 f"    {s.objective} {show(b['mean'])} (95 % interval {show(b['low'])} to {show(b['high'])}); "
                 f"profit {b['profit']:,.0f} {cur}",
                 f"    spent over the {s.scenario.params['steps']} days: ads {b['spend_ads']:,.0f}, prompts "
                 f"{b['spend_prompts']:,.0f}, service {b['spend_service']:,.0f} {cur} (a programme spends only on "
                 f"those it reaches: its unused budget is kept)",
                 f"  current plan: {s.objective} {show(p['mean'])} (95 % interval {show(p['low'])} to "
                 f"{show(p['high'])}); profit {p['profit']:,.0f} {cur}",
                 f"  best - current plan on the same seeds: {fmt(b['effect'])} (95 % interval "
                 f"{fmt(b['effect_low'])} to {fmt(b['effect_high'])})",
                 "  (the best of many trials flatters itself a little: rerun best.toml with other seeds to check)"]
        return "\n".join(lines)

    def _objective_axis(self, ax, label: str) -> None:
        """The objective on the y axis, with its unit (a share in percent)."""
        objective = self.spec.objective
        unit = {"share": "% of purchases", "sentiment": "-1 to 1"}.get(
            objective, economics.currency(self.spec.scenario.params))
        ax.set_ylabel(f"{objective} ({unit}){label}")
        if objective == "share":
            plots.percent_axis(ax)

    def response_figure(self) -> Figure:
        """The objective of every trial against each lever's share, the best marked."""
        levers = self.spec.levers
        figure = Figure(figsize=(4.2 * len(levers) + 2.2, 4), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(levers), sharey=True))
        t = self.trials
        trial, trend, best = plots.PALETTE[0], plots.PALETTE[1], plots.PALETTE[5]
        for ax, lever in zip(axes, levers):
            ax.errorbar(t[f"share_{lever}"], t["mean"], yerr=[t["mean"] - t["low"], t["high"] - t["mean"]],
                        fmt="o", color=trial, alpha=0.5, markersize=4, elinewidth=0.8, label="trial, 95 % interval")
            bins = np.linspace(0, 1, 6)
            idx = np.clip(np.digitize(t[f"share_{lever}"], bins) - 1, 0, 4)
            means = t.groupby(idx)["mean"].mean()
            ax.plot((bins[means.index] + bins[means.index + 1]) / 2, means.values, color=trend, linewidth=2,
                    label="mean of trials in a fifth")
            ax.plot(self.best["shares"][lever], self.best["mean"], "*", color=best, markersize=16, label="best")
            ax.axhline(self.plan["mean"], color="grey", linestyle="--", label="current plan")
            ax.set_xlabel(f"share of the budget on {lever}")
            ax.set_xlim(-0.03, 1.03)
            plots.percent_axis(ax, "x")
        self._objective_axis(axes[0], f"\nmean of {self.spec.replicates} paired runs")
        plots.legend_beside(axes[-1])
        figure.suptitle(f"{self.spec.name}: response of {self.spec.objective} to each lever's share")
        return figure

    def history_figure(self) -> Figure:
        figure = Figure(figsize=(8, 4), layout="constrained")
        ax = figure.subplots()
        t = self.trials
        ax.plot(t["trial"], t["mean"], "o", color=plots.PALETTE[0], alpha=0.6, label="trial")
        ax.plot(t["trial"], t["mean"].cummax(), color=plots.PALETTE[5], linewidth=2, label="best so far")
        ax.axhline(self.plan["mean"], color="grey", linestyle="--", label="current plan")
        ax.set_xlabel("trial")
        self._objective_axis(ax, "")
        ax.set_title(f"{self.spec.name}: trial history ({self.spec.sampler.upper()})")
        plots.legend_beside(ax)
        return figure

    def provenance(self) -> dict[str, Any]:
        return {"kind": "optimise", "momentsim": _package_version(), "created": self.created,
                "spec": self.spec.as_dict(), "seeds": self.seeds, "currency": economics.currency(
                    self.spec.scenario.params), "eligible_per_day": self.eligible.__dict__,
                "population": self.spec.scenario.params["population.size"],
                "engine": self.spec.scenario.params["engine"], "plan": self.plan, "best": self.best,
                "executor": self.executor, "seconds": round(self.seconds, 2)}

    def write(self) -> dict[str, Path]:
        out = self.out
        files = {n: out / n for n in ("optimise.json", "trials.csv", "best.toml", "response.png", "history.png")}
        _atomic(files["optimise.json"], (json.dumps(self.provenance(), indent=2, default=float) + "\n").encode())
        _atomic(files["trials.csv"], self.trials.to_csv(index=False, float_format=api.CSV_FLOAT_FORMAT,
                                                        lineterminator="\n").encode())
        _atomic(files["best.toml"], self.best_scenario().to_toml().encode())
        if self.spec.text:
            _atomic(out / "spec.toml", self.spec.text.encode())
        for name, fig in (("response.png", self.response_figure()), ("history.png", self.history_figure())):
            tmp = files[name].with_name(name + ".tmp")
            fig.savefig(tmp, format="png", dpi=100)
            os.replace(tmp, files[name])
        return files


def optimise(spec: Spec | str | Path, out: str | Path | None = None, *, executor: Any = "local",
             scheduler: str | None = None, workers: int | None = None, batch: int | None = None,
             progress: bool = False) -> Optimisation:
    """Run (or resume) the study of ``spec`` in ``out``; the trials it still lacks, a batch at a time."""
    import optuna

    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    out = Path(out) if out is not None else Path("out") / "optimise" / spec.name
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"--out {out}: expected a folder, found a file")
    out.mkdir(parents=True, exist_ok=True)
    meta = out / "study.json"
    fingerprint = json.dumps({k: v for k, v in spec.as_dict().items() if k not in ("trials", "description")},
                             sort_keys=True, default=str) + spec.scenario.to_toml()
    if meta.is_file() and json.loads(meta.read_text())["fingerprint"] != fingerprint:
        raise ScenarioError(f"{out}: holds a study of a different spec (scenario, budget, levers, bounds, "
                            f"objective, replicates or seed changed); use another --out or remove the folder")
    _atomic(meta, (json.dumps({"fingerprint": fingerprint}) + "\n").encode())
    seeds = replicate_seeds(spec.seed, spec.replicates)
    daily = _daily_columns(spec.scenario.params.brand_names)
    started = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out / 'study.db').resolve()}"
    if spec.sampler == "cmaes":
        sampler = optuna.samplers.CmaEsSampler(seed=spec.seed, warn_independent_sampling=False)
    else:
        sampler = optuna.samplers.TPESampler(seed=spec.seed, n_startup_trials=min(10, max(2, spec.trials // 4)),
                                             constant_liar=True)
    study = optuna.create_study(study_name=spec.name, storage=storage, sampler=sampler, direction="maximize",
                                load_if_exists=True)
    names = [f"u_{i}" for i in range(len(spec.levers) - 1)]
    runner = _Runner(executor, scheduler, workers)
    try:
        plan_runs = runner.run([spec.scenario], seeds, daily)[0]
        eligible = eligible_from(plan_runs, spec.scenario, spec.brand)
        plan_rows = [objective_value(spec, t) for t in plan_runs]
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)  # asked, never told: a crash
        done = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
        if done == 0:  # the corners first: each lever alone, then the even split
            for i in range(len(spec.levers)):
                study.enqueue_trial({n: (1.0 if j == i else 0.0) for j, n in enumerate(names)}
                                    if i < len(names) else {n: 0.0 for n in names})
            study.enqueue_trial({n: 1.0 / (len(spec.levers) - j) for j, n in enumerate(names)})
        size = batch or runner.slots
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=spec.trials, initial=done, desc=spec.name, unit="trial", disable=None)
        while done < spec.trials:
            asked = [study.ask({n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in names})
                     for _ in range(min(size, spec.trials - done))]
            plans = []
            for trial in asked:
                shares = shares_from_unit([trial.params[n] for n in names], spec.levers, spec.bounds)
                levers = plan_levers(spec, shares, eligible)
                plans.append((trial, shares, levers))
            arms = [spec.scenario.with_overrides(levers, source=f"trial {t.number}") for t, _, levers in plans]
            for (trial, shares, levers), runs in zip(plans, runner.run(arms, seeds, daily)):
                rows = [objective_value(spec, t) for t in runs]
                values = [r["objective"] for r in rows]
                for key, value in (("shares", shares), ("levers", levers), ("values", values),
                                   ("figures", {k: float(np.mean([r[k] for r in rows])) for k in rows[0]})):
                    trial.set_user_attr(key, value)
                study.tell(trial, score(spec, rows))
                done += 1
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
    finally:
        runner.close()
    return _summarise(spec, study, seeds, eligible, plan_rows, out, time.perf_counter() - started, runner.kind)


def _summarise(spec: Spec, study, seeds, eligible: Eligible, plan_rows, out: Path, seconds: float,
               kind: str) -> Optimisation:
    import optuna

    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        mean, sd, low, high = mean_interval(t.user_attrs["values"])
        rows.append({"trial": t.number, **{f"share_{k}": v for k, v in t.user_attrs["shares"].items()},
                     **t.user_attrs["levers"], "score": t.value, "mean": mean, "sd": sd, "low": low, "high": high,
                     **{k: v for k, v in t.user_attrs["figures"].items() if k != "objective"},
                     "values": json.dumps(t.user_attrs["values"])})
    trials = pd.DataFrame(rows).sort_values("trial", ignore_index=True)
    plan_values = [r["objective"] for r in plan_rows]
    mean, sd, low, high = mean_interval(plan_values)
    plan = {"mean": mean, "low": low, "high": high, "levers": {k: v for k, v in spec.scenario.params.brand(
        spec.brand).items() if k in ("ad_intensity", "ad_spend", "review_prompting", "service_recovery")},
            **{k: float(np.mean([r[k] for r in plan_rows])) for k in plan_rows[0] if k != "objective"}}
    best_row = trials.loc[trials["score"].idxmax()]
    best_trial = study.trials[int(best_row["trial"])]
    values = best_trial.user_attrs["values"]
    effect, _, elow, ehigh = paired_interval(values, plan_values)
    best = {"trial": int(best_row["trial"]), "shares": best_trial.user_attrs["shares"],
            "levers": best_trial.user_attrs["levers"], "mean": float(best_row["mean"]),
            "low": float(best_row["low"]), "high": float(best_row["high"]),
            "effect": effect, "effect_low": elow, "effect_high": ehigh,
            **{k: v for k, v in best_trial.user_attrs["figures"].items() if k != "objective"}}
    return Optimisation(spec, seeds, eligible, trials, plan, best, out, seconds, kind)
