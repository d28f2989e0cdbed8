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
import multiprocessing
import os
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import Executor, Future, InvalidStateError
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
_pool_users: set["Job"] = set()  # the jobs running on the shared pool now (a cancel spares their runs)
_planners: set[Any] = set()      # the planner processes running now (killed when the app exits)
_planners_lock = threading.Lock()
_PLAN_POOL_START = "fork"  # how a plan's process starts its workers (benchmarks/bench_decide.py compares)


def pool():
    """The app process's worker processes (created on first use, kept for later what-ifs)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = local_pool()
        return _pool


@atexit.register
def _shutdown() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
    for process in list(_planners):
        _kill_group(process)


def _end_pool(old) -> None:
    """Terminate the shared pool's worker processes (their runs are lost) and let the next job start a
    new pool: at once, as the forkserver has momentsim imported already."""
    global _pool
    with _pool_lock:
        if _pool is old:
            _pool = None
    processes = list((getattr(old, "_processes", None) or {}).values())
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError):
            pass
    old.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(5)  # reaped: no worker is left behind


def _kill_group(process) -> None:
    """Kill a planner process and everything it started (its own process group: the optimiser's
    forkserver and worker processes), then reap it."""
    if process.pid is not None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # not yet a group of its own: it has started nothing yet
        try:
            process.kill()
        except (OSError, ValueError):
            pass
        process.join(5)
    _planners.discard(process)


class Cancelled(Exception):
    """A job was cancelled from the page."""


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


@dataclass(eq=False)  # hashable by identity: the jobs on the shared pool are a set
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
    cancelled: bool = False
    label: str = ""  # what it does, in words, once its request is checked (a plan: its objective)
    stopper: Callable[[], None] | None = field(default=None, repr=False)  # how its work is stopped

    @property
    def running(self) -> bool:
        return (self.thread is not None and self.thread.is_alive() and self.result is None and not self.error
                and not self.cancelled)

    def cancel(self) -> bool:
        """Stop the job now: its worker processes are ended or its pending runs dropped, nothing it
        found is kept. False if it was not running."""
        if not self.running:
            return False
        self.cancelled = True
        self.seconds = time.perf_counter() - self.started
        if self.stopper is not None:
            self.stopper()
        return True

    def wait(self, timeout: float | None = None) -> "Job":
        if self.thread is not None:
            self.thread.join(timeout)
        return self


def _background(job: Job, work: Callable[[], Any], on_done: Callable[[Job], None] | None) -> Job:
    def target():
        try:
            result = work()
            if not job.cancelled:
                job.result = result
        except ScenarioError as exc:
            job.error = "" if job.cancelled else str(exc)
        except Exception as exc:  # shown on the page; the page itself stays up
            job.error = "" if job.cancelled else f"{type(exc).__name__}: {exc}"
        finally:
            if not job.cancelled:  # a cancelled job's time is the time to its cancel
                job.seconds = time.perf_counter() - job.started
            if on_done is not None:
                on_done(job)

    job.thread = threading.Thread(target=target, name=f"momentsim-{job.kind}", daemon=True)
    job.thread.start()
    return job


# --- replicated what-ifs ---------------------------------------------------------------------------


def _give_up(future: Future) -> None:
    """Cancel ``future`` and wake whoever waits on it (Future.cancel alone wakes no ``wait``)."""
    if future.cancel():
        try:
            future.set_running_or_notify_cancel()
        except RuntimeError:
            pass  # notified already


def _follow(outer: Future, inner: Future) -> None:
    """``outer`` takes the outcome of ``inner`` (unless it was given up)."""
    if inner.cancelled():
        _give_up(outer)
        return
    try:
        error = inner.exception()
        if error is not None:
            outer.set_exception(error)
        else:
            outer.set_result(inner.result())
    except InvalidStateError:
        pass  # given up already


class _JobPool(Executor):
    """A job's view of a pool: what it submits is tracked, so that cancelling drops its pending runs
    (and, when no other job shares the app's pool, ends the worker processes running its runs).

    The job waits on futures of its own, each following the pool's: cancelling marks them cancelled
    at once, so the job's thread wakes now, not when the pool next hands out work."""

    def __init__(self, pool: Executor, job: Job):
        self.pool, self.job = pool, job
        self._max_workers = getattr(pool, "_max_workers", None) or os.cpu_count() or 1
        self._futures: list[tuple[Future, Future]] = []
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        with self._lock:
            if self.job.cancelled:
                raise Cancelled("cancelled")
            inner, outer = self.pool.submit(fn, *args, **kwargs), Future()
            inner.add_done_callback(lambda done: _follow(outer, done))
            self._futures.append((inner, outer))
            return outer

    def drop(self) -> None:
        with self._lock:
            for inner, outer in self._futures:
                inner.cancel()  # those not started yet
                _give_up(outer)
        shared = self.pool is _pool
        with _pool_lock:
            _pool_users.discard(self.job)
            alone = not _pool_users
        if shared and alone:
            _end_pool(self.pool)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass  # the pool is not the job's to shut down


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

    def work() -> WhatIf:
        view = _JobPool(executor if executor is not None else pool(), job)
        job.stopper = view.drop
        with _pool_lock:
            _pool_users.add(job)
        try:
            if job.cancelled:
                raise Cancelled("cancelled")
            return compare_arms(base, variants, replicates, executor=view, on_run=progress,
                                posterior=posterior, posterior_name=posterior_name)
        finally:
            with _pool_lock:
                _pool_users.discard(job)

    return _background(job, work, on_done)


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
    profit_floor: Any = 0.0  # with objective "sentiment" only: plans whose mean profit is below it lose


# The objectives of ``momentsim optimise`` as the planner panel names them.
OBJECTIVE_NAMES = {"profit": "profit", "npv": "NPV", "share": "market share", "sentiment": "net sentiment"}


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
    if request.objective == "sentiment":
        doc["profit_floor"] = request.profit_floor
    name = folder / "planner.toml"
    try:
        return loads_spec(tomli_w.dumps(doc), name)
    except ScenarioError as exc:  # the page's spec file is no file of the user's: say which panel
        raise ScenarioError(str(exc).replace(f"{name}: ", "budget planner: ", 1)) from None


def start_plan(base: Scenario, request: PlanRequest, on_done: Callable[[Job], None] | None = None,
               folder: Path | None = None) -> Job:
    """A small optimisation (:func:`sim.decide.optimise.optimise`) in the background: the request is
    checked here, the study runs in a process of its own (a process group with the optimiser's worker
    processes, so that Cancel ends them all at once); the job counts the trials as they finish."""
    job = Job("plan", total=request.trials)

    def run() -> Optimisation:
        kept = folder is not None  # kept: the study's files (optimise.json, best.toml, ...) stay there
        work = Path(folder) if kept else Path(tempfile.mkdtemp(prefix="momentsim-plan-"))
        try:
            spec = plan_spec(base, request, work)
            job.label = objective_label(spec)
            return _optimise_apart(job, spec, work / "study", kept)
        finally:
            if not kept:
                shutil.rmtree(work, ignore_errors=True)

    return _background(job, run, on_done)


def objective_label(spec: Spec) -> str:
    """What a plan maximises, in words: 'net sentiment, profit floor 500 units' or 'profit'."""
    name = OBJECTIVE_NAMES[spec.objective]
    if spec.objective != "sentiment":
        return name
    return f"{name}, profit floor {spec.profit_floor:,.0f} {economics.currency(spec.scenario.params)}"


def _optimise_apart(job: Job, spec: Spec, out: Path, write: bool) -> Optimisation:
    """:func:`optimise` in a child process (started by the forkserver: momentsim is imported there
    already) that leads its own process group; cancelling the job kills the group."""
    multiprocessing.set_forkserver_preload(["sim.decide.compare"])  # as the app's pool has it
    context = multiprocessing.get_context("forkserver")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_plan_child, args=(send, spec, out, write, _PLAN_POOL_START),
                              name="momentsim-plan")
    with _planners_lock:  # a cancel either comes first or finds the process to kill
        if job.cancelled:
            raise Cancelled("cancelled")
        process.start()
        _planners.add(process)
        job.stopper = lambda: _kill_group(process)
    send.close()
    try:
        while not receive.poll(0.25):
            if job.cancelled:
                raise Cancelled("cancelled")
            if not process.is_alive():
                raise RuntimeError(f"the planner's process ended without an answer (exit code {process.exitcode})")
            job.done = _trials_done(out / "study.db", job.done)
        status, value = receive.recv()
    except EOFError:
        raise Cancelled("cancelled") if job.cancelled else RuntimeError("the planner's process ended early")
    finally:
        receive.close()
        process.join(5 if not job.cancelled else 0.1)
        if process.is_alive() or job.cancelled:
            _kill_group(process)
        _planners.discard(process)
    if status == "scenario":
        raise ScenarioError(value)
    if status == "error":
        raise RuntimeError(value)
    job.done = len(value.trials)
    return value


def _plan_child(send, spec: Spec, out: Path, write: bool, pool_start: str = "fork") -> None:
    """The planner's process: a process group of its own, then the study; the result or the error back.

    It was forked by the app's forkserver: one thread, momentsim imported. So the study's workers are
    forked from it directly (a forkserver of its own would import momentsim afresh, seconds per plan),
    and they join its process group, which a cancel kills whole."""
    os.setsid()
    from ..decide import compare

    compare.POOL_START = pool_start
    try:
        result = optimise(spec, out)
        if write:
            result.write()
        send.send(("ok", result))
    except ScenarioError as exc:
        send.send(("scenario", str(exc)))
    except Exception as exc:
        send.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


def _trials_done(database: Path, before: int) -> int:
    """How many trials of the study have finished (read from Optuna's SQLite storage), or ``before``."""
    if not database.is_file():
        return before
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.1) as db:
            return int(db.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0])
    except sqlite3.Error:
        return before


def plan_summary(result: Optimisation) -> dict[str, Any]:
    """The best split against the current plan, in words (the objective's unit, the currency)."""
    spec, best, plan = result.spec, result.best, result.plan
    cur = economics.currency(spec.scenario.params)
    kind = {"profit": "money", "npv": "money", "share": "points", "sentiment": "index"}[spec.objective]
    unit = f" {cur}" if kind == "money" else ""
    name = OBJECTIVE_NAMES[spec.objective]
    floor = ""
    if spec.objective == "sentiment":  # the floor is on mean profit: say where each plan stands
        floor = (f"; profit {_show(best['profit'], 'money')} {cur}, floor {_show(spec.profit_floor, 'money')} "
                 f"{cur}{'' if best['profit'] >= spec.profit_floor else ': no split tried reached the floor'}")
    return {
        "objective": objective_label(spec),
        "split": ", ".join(f"{lever} {share:.0%}" for lever, share in best["shares"].items()),
        "best": f"{name} {_show(best['mean'], kind)}{unit} (95 % interval {_show(best['low'], kind)} "
                f"to {_show(best['high'], kind)}){floor}",
        "plan": f"{name} {_show(plan['mean'], kind)}{unit} (95 % interval {_show(plan['low'], kind)} "
                f"to {_show(plan['high'], kind)})" + (f"; profit {_show(plan['profit'], 'money')} {cur}"
                                                      if spec.objective == "sentiment" else ""),
        "gain": f"{_show(best['effect'], kind, sign=True)}{unit} (95 % interval "
                f"{_show(best['effect_low'], kind, sign=True)} to {_show(best['effect_high'], kind, sign=True)})",
        "sure": sureness(best["effect_low"], best["effect_high"]),
        "budget": f"{spec.budget:,.0f} {cur} per {spec.period} days for {spec.brand}",
        "text": result.text(),
    }
