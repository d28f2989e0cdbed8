"""The app's decisions: replicated what-ifs, the budget planner and the report, in the background.

Plain Python, no Solara (the page, the tests and ``benchmarks/bench_app.py`` drive it). The work is
:mod:`sim.decide`'s: the arms run on paired seeds through the sweeps' executors
(:func:`sim.sweep.execute.run_tasks_futures`) on worker processes forked from a server that has
imported momentsim once (:func:`sim.decide.compare.local_pool`), shared by every session of the app
process, so the page stays live and a second what-if finds its workers warm. Effects and intervals
are :class:`sim.decide.compare.WhatIf`'s, the budget plan :func:`sim.decide.optimise.optimise`'s, the
report :func:`sim.decide.report.report`'s.

An app variant is a what-if of the page (lever changes and timed interventions) kept under a name;
up to four run side by side against the scenario.
"""

from __future__ import annotations

import atexit
import dataclasses
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import economics
from ..decide.compare import (BASE_ARM, DAILY, MAX_VARIANTS, WhatIf, _show, _Tasks, local_pool,
                              replicate_seeds, run_arms, simulate_money)
from ..decide.optimise import LEVERS, Optimisation, Spec, loads_spec, optimise
from ..decide.report import _verdict, report
from ..params import ScenarioError
from ..scenario import Scenario

DEFAULT_REPLICATES = 8
MAX_REPLICATES = 50
# The headline effects shown on a variant's card: KPI -> how it is said.
HEADLINE = (("profit", "profit"), ("share", "market share"), ("sentiment", "net sentiment"))

_pool = None
_pool_lock = threading.Lock()


def pool():
    """The app process's worker processes (created on first use, kept for later what-ifs)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = local_pool()
            atexit.register(_shutdown)
        return _pool


def _shutdown() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None


@dataclass
class Variant:
    """A what-if kept under a name: its lever changes and its timed interventions."""
    name: str
    changes: dict[str, Any]
    interventions: list[dict[str, Any]]
    scenario: Scenario | None = None  # what it runs on the current set-up (the session fills it in)

    def described(self) -> dict[str, Any]:
        """What it changes, as the report's "changes" column lists it."""
        out = dict(self.changes)
        for e in self.interventions:
            out[f"day {e['day']}: brands.{e['brand']}.{e['lever']}"] = e["value"]
        return out


@dataclass
class Job:
    """A background decision: what it is doing, how far it is, what it found or why it failed."""
    kind: str
    total: int = 0
    done: int = 0
    result: Any = None
    error: str = ""
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and self.result is None and not self.error

    def wait(self, timeout: float | None = None) -> "Job":
        if self.thread is not None:
            self.thread.join(timeout)
        return self


def _background(job: Job, work: Callable[[], Any], on_done: Callable[[Job], None] | None) -> Job:
    def target():
        try:
            job.result = work()
        except ScenarioError as exc:
            job.error = str(exc)
        except Exception as exc:  # shown on the page; the page itself stays up
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.seconds = time.perf_counter() - job.started
            if on_done is not None:
                on_done(job)

    job.thread = threading.Thread(target=target, name=f"momentsim-{job.kind}", daemon=True)
    job.thread.start()
    return job


# --- replicated what-ifs ---------------------------------------------------------------------------


@dataclass
class _DrawnTasks(_Tasks):
    """The comparison's tasks where replicate i of every arm also runs at posterior draw i (paired)."""
    draws: list[dict[str, float]] = field(default_factory=list)

    def task(self, rid: int):
        task = super().task(rid)
        return dataclasses.replace(task, overrides=self.draws[task.replicate])


def posterior_draws(posterior: pd.DataFrame, replicates: int, seed: int) -> list[dict[str, float]]:
    """Replicate i's parameters: a posterior row picked by weight, as ``momentsim run --posterior``
    picks them (:func:`sim.calibrate.forecast.run_posterior`)."""
    keys = [c for c in posterior.columns if c != "weight"]
    w = posterior["weight"].to_numpy(dtype=float)
    picks = np.random.default_rng(seed).choice(len(posterior), size=replicates, p=w / w.sum())
    return [{k: float(posterior[k].iloc[i]) for k in keys} for i in picks]


def compare_arms(base: Scenario, variants: list[Variant], replicates: int, brand: str | None = None,
                 executor: Any = None, on_run: Callable[[int, int], None] | None = None,
                 posterior: pd.DataFrame | None = None, posterior_name: str = "") -> WhatIf:
    """The scenario and ``variants`` on ``replicates`` paired seeds (common random numbers), every run
    in the worker processes: :func:`sim.decide.compare.compare_replicated`'s comparison for arms that are
    whole scenarios (an app variant may carry timed interventions, which are not dotted-key overrides).
    ``on_run(done, total)`` is called as runs finish. With a calibration ``posterior`` (columns of
    parameters and ``weight``), replicate i of every arm runs at the same posterior draw."""
    from ..sweep.execute import run_tasks_futures

    if not variants:
        raise ScenarioError(f"{base.name}: nothing to compare: change a lever or add an intervention first")
    if len(variants) > MAX_VARIANTS:
        raise ScenarioError(f"{base.name}: variants: expected at most {MAX_VARIANTS}, found {len(variants)}")
    if not isinstance(replicates, int) or isinstance(replicates, bool) or not 1 <= replicates <= MAX_REPLICATES:
        raise ScenarioError(f"{base.name}: replicates: expected an integer from 1 to {MAX_REPLICATES}, "
                            f"found {replicates!r}")
    brands = base.params.brand_names
    brand = brand or brands[0]
    seeds = replicate_seeds(base.params["seed"], replicates)
    arms = [base, *[v.scenario for v in variants]]
    daily = ("purchases", *(f"{m}_{b}" for b in brands for m in DAILY))
    if posterior is not None:
        tasks = _DrawnTasks(arms, seeds, daily, posterior_draws(posterior, replicates, base.params["seed"]))
    else:
        tasks = _Tasks(arms, seeds, daily)
    names = [BASE_ARM, *[v.name for v in variants]]
    used = "app worker processes" + (f"; parameters drawn from the posterior {posterior_name}"
                                     if posterior is not None else "")

    def execute(tasks, todo, collect) -> str:
        run_tasks_futures(tasks, todo, executor if executor is not None else pool(), None, simulate_money, collect)
        return used

    return run_arms(base, {v.name: v.described() for v in variants}, names, seeds, brand, tasks, execute, on_run)


def start_compare(base: Scenario, variants: list[Variant], replicates: int,
                  on_done: Callable[[Job], None] | None = None, executor: Any = None,
                  posterior: pd.DataFrame | None = None, posterior_name: str = "") -> Job:
    """:func:`compare_arms` in a background thread; the job counts the runs as they finish."""
    job = Job("compare", total=(len(variants) + 1) * max(replicates, 0) if isinstance(replicates, int) else 0)

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    return _background(job, lambda: compare_arms(base, variants, replicates, executor=executor,
                                                 on_run=progress, posterior=posterior,
                                                 posterior_name=posterior_name), on_done)


def sureness(low: float, high: float) -> str:
    """How sure an effect is, in words, from its 95 % interval."""
    if low != low or high != high:
        return "one replicate: no interval; set 2 or more replicates to know how sure this is"
    if low == high == 0:
        return "no difference: every replicate gave the same figure in both arms"
    if low > 0:
        return "clear: the 95 % interval is above zero"
    if high < 0:
        return "clear: the 95 % interval is below zero"
    return "not clear: the 95 % interval includes zero, so this could be luck; more replicates narrow it"


def headline(what_if: WhatIf) -> list[dict[str, Any]]:
    """Per variant, its effect on profit, share and sentiment: the figure, its interval, how sure."""
    effects = what_if.effects()
    cur = what_if.currency
    cards = []
    for arm in what_if.variants:
        lines = []
        for kpi, label in HEADLINE:
            row = effects[(effects["kpi"] == kpi) & (effects["arm"] == arm)].iloc[0]
            kind = {"profit": "money", "share": "points", "sentiment": "index"}[kpi]
            unit = f" {cur}" if kind == "money" else ""
            text = (f"effect on {label}: {_show(row['effect'], kind, sign=True)}{unit} (95 % interval "
                    f"{_show(row['effect_low'], kind, sign=True)} to {_show(row['effect_high'], kind, sign=True)})")
            lines.append({"kpi": kpi, "text": text, "effect": float(row["effect"]),
                          "low": float(row["effect_low"]), "high": float(row["effect_high"]),
                          "sure": sureness(row["effect_low"], row["effect_high"]),
                          "verdict_html": _verdict(row["effect_low"], row["effect_high"])})
        cards.append({"variant": arm, "changes": what_if.variants[arm], "lines": lines})
    return cards


def report_html(what_if: WhatIf) -> bytes:
    """The self-contained HTML report of ``momentsim report`` for this comparison, as bytes."""
    with tempfile.TemporaryDirectory(prefix="momentsim-report-") as folder:
        what_if.write(folder)
        return report(folder).read_bytes()


# --- the budget planner -------------------------------------------------------------------------------

@dataclass
class PlanRequest:
    """What the planner panel asks: a budget per period split across levers, a small study."""
    brand: str
    budget: float = 900.0
    period: int = 30
    levers: tuple[str, ...] = LEVERS
    objective: str = "profit"
    trials: int = 8
    replicates: int = 2


def plan_spec(base: Scenario, request: PlanRequest, folder: Path) -> Spec:
    """The optimisation spec of a planner request on ``base`` (validated as a spec file is; the scenario
    is written to ``folder`` for the spec to name)."""
    import tomli_w

    folder.mkdir(parents=True, exist_ok=True)
    scenario_file = folder / "scenario.toml"
    scenario_file.write_text(base.to_toml(), encoding="utf-8")
    doc = {"name": "app_plan", "scenario": str(scenario_file.resolve()), "brand": request.brand,
           "budget": request.budget, "period": request.period, "levers": list(request.levers),
           "objective": request.objective, "trials": request.trials, "replicates": request.replicates,
           "seed": base.params["seed"]}
    return loads_spec(tomli_w.dumps(doc), folder / "planner.toml")


def start_plan(base: Scenario, request: PlanRequest, on_done: Callable[[Job], None] | None = None,
               folder: Path | None = None) -> Job:
    """A small optimisation (:func:`sim.decide.optimise.optimise`) in a background thread."""
    job = Job("plan", total=request.trials)

    def run() -> Optimisation:
        if folder is not None:  # kept: the study's files (optimise.json, best.toml, ...) stay there
            spec = plan_spec(base, request, Path(folder))
            result = optimise(spec, Path(folder) / "study")
            result.write()
            return result
        with tempfile.TemporaryDirectory(prefix="momentsim-plan-") as work:  # the page needs the figures only
            return optimise(plan_spec(base, request, Path(work)), Path(work) / "study")

    return _background(job, run, on_done)


def plan_summary(result: Optimisation) -> dict[str, Any]:
    """The best split against the current plan, in words (the objective's unit, the currency)."""
    spec, best, plan = result.spec, result.best, result.plan
    cur = economics.currency(spec.scenario.params)
    kind = {"profit": "money", "npv": "money", "share": "points", "sentiment": "index"}[spec.objective]
    unit = f" {cur}" if kind == "money" else ""
    return {
        "split": ", ".join(f"{lever} {share:.0%}" for lever, share in best["shares"].items()),
        "best": f"{spec.objective} {_show(best['mean'], kind)}{unit} (95 % interval {_show(best['low'], kind)} "
                f"to {_show(best['high'], kind)})",
        "plan": f"{spec.objective} {_show(plan['mean'], kind)}{unit} (95 % interval {_show(plan['low'], kind)} "
                f"to {_show(plan['high'], kind)})",
        "gain": f"{_show(best['effect'], kind, sign=True)}{unit} (95 % interval "
                f"{_show(best['effect_low'], kind, sign=True)} to {_show(best['effect_high'], kind, sign=True)})",
        "sure": sureness(best["effect_low"], best["effect_high"]),
        "budget": f"{spec.budget:,.0f} {cur} per {spec.period} days for {spec.brand}",
        "text": result.text(),
    }
