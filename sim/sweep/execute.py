"""Running a sweep: one pure function per run, any executor, results streamed to disk.

``run_one(task)`` runs one model and returns its row (and daily series); it
never raises for a model's error, it records it. The runner hands tasks to an
executor a few at a time (memory stays flat however many runs there are) and
writes finished runs in batches. The same sweep gives the same table on every
executor: a run is a pure function of its point and seed.

Executors: ``"local"`` (processes on all cores), ``"dask"`` (a Dask scheduler
at ``scheduler``, or a local Dask cluster), or any ``concurrent.futures.Executor``
or ``distributed.Client`` passed from Python.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from tqdm.auto import tqdm

from .. import api, provenance
from . import outputs as custom_outputs
from .spec import Sweep, Task, flatten, load_sweep
from .store import ResultStore, read_runs

DEFAULT_OUT = Path("out") / "sweeps"


def run_one(task: Task, simulate: Callable | None = None) -> dict[str, Any]:
    """Run one task; ``{"row": {...}, "daily": DataFrame | None}``. A model's error becomes a failed row.

    ``simulate`` is called as ``simulate(scenario, seed=..., overrides=...)`` and returns a
    :class:`sim.api.Result`; it is :func:`sim.api.run` unless a study (or a test) wraps it.
    """
    simulate = simulate or api.run
    row: dict[str, Any] = {"run_id": task.run_id, "point": task.point, "replicate": task.replicate,
                           "seed": task.seed, "status": "ok", "error": "",
                           "overrides": json.dumps(task.overrides), **task.overrides}
    daily = None
    try:
        result = simulate(task.scenario, seed=task.seed, overrides=task.overrides)
        metrics = flatten(result.summary(skip=task.burn_in) if task.burn_in else result.summary())
        for m in task.outputs:
            row[m] = metrics[m] if m in metrics else custom_outputs.evaluate(m, result.table, task.burn_in)
        if task.daily:
            daily = result.table[["step", *task.daily]].copy()
            daily.insert(0, "run_id", task.run_id)
    except Exception as exc:  # noqa: BLE001 - a run's failure is data: recorded, the sweep goes on
        row.update({m: float("nan") for m in task.outputs})
        row.update(status="failed", error=failure(type(exc).__name__, str(exc), task))
    return {"row": row, "daily": daily}


def failure(kind: str, message: str, task: Task) -> str:
    """A failed run's error text: the exception's type and message, and the run's parameters and seed
    (enough to rerun it alone)."""
    shown = message.strip().splitlines()[0][:300] if message.strip() else "(no message)"
    if kind == "MemoryError":
        shown += " (out of memory: a smaller population.size, or fewer workers)"
    params = json.dumps(task.overrides, default=str)
    return f"{kind}: {shown} [run {task.run_id}, point {task.point}, seed {task.seed}, parameters {params}]"


def lost_row(task: Task) -> dict[str, Any]:
    """The failed row of a run whose worker process died under it (killed, or out of memory)."""
    row = {"run_id": task.run_id, "point": task.point, "replicate": task.replicate, "seed": task.seed,
           "status": "failed", "overrides": json.dumps(task.overrides), **task.overrides,
           **{m: float("nan") for m in task.outputs}}
    row["error"] = failure("WorkerDied", "the worker process running it died (killed, or out of memory), "
                           "also when run again alone", task)
    return row


@dataclass
class Outcome:
    """What a call to :func:`run_sweep` did."""
    out: Path
    runs: int          # runs in the sweep
    skipped: int       # already recorded before this call (resume)
    ok: int            # finished in this call
    failed: int        # raised in this call (recorded with their error)
    lost: int          # not recorded (a lost worker, an interruption): rerun the sweep to finish them
    seconds: float
    errors: list[str] = field(default_factory=list)   # the first infrastructure errors, if any

    @property
    def complete(self) -> bool:
        return self.lost == 0 and self.skipped + self.ok + self.failed == self.runs

    def table(self) -> pd.DataFrame:
        return read_runs(self.out)


def _ignore_sigint() -> None:
    # Ctrl-C is the runner's to handle: it writes what has finished, then stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_sweep(sweep: Sweep | str | Path, out: str | Path | None = None, *,
              executor: str | Executor | Any = "local", scheduler: str | None = None,
              workers: int | None = None, progress: bool | None = False,
              simulate: Callable | None = None, batch: int = 64, flush_seconds: float = 2.0,
              timeout: float = 10.0, argv: list[str] | None = None) -> Outcome:
    """Run the runs of ``sweep`` not yet recorded in ``out``; stream them to Parquet as they finish.

    ``executor``: "local" (processes, ``workers`` of them, default all cores), "dask" (the scheduler
    at ``scheduler``, or a local Dask cluster of ``workers`` processes), or an executor object.
    ``progress=None`` shows a bar only on a terminal. ``timeout``: seconds to wait for a Dask
    scheduler. sweep.json and every Parquet part carry the provenance of this call.
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    out = Path(out) if out is not None else DEFAULT_OUT / sweep.name
    clock = provenance.Clock()
    store = ResultStore(out, sweep, provenance.record(clock, argv))
    store.check()  # before starting any worker: a wrong folder costs nothing
    client, cluster = None, None
    use_dask = executor == "dask" or scheduler is not None or _is_dask_client(executor)
    if use_dask:
        client, cluster = _dask_client(executor, scheduler, workers, timeout)  # fails fast, before writing
    try:
        done = store.prepare()
    except BaseException:
        _close(client if client is not executor else None, cluster)
        raise
    todo = [rid for rid in range(sweep.n_runs) if rid not in done]
    started = time.perf_counter()
    counts = {"ok": 0, "failed": 0, "lost": 0}
    rows: list[dict] = []
    daily: list[pd.DataFrame] = []
    last_flush = time.monotonic()
    errors: list[str] = []

    def flush() -> None:
        nonlocal last_flush
        store.write(rows, daily)
        rows.clear()
        daily.clear()
        last_flush = time.monotonic()

    bar = tqdm(total=sweep.n_runs, initial=len(done), desc=sweep.name, unit="run", dynamic_ncols=True,
               disable=None if progress is None else not progress, file=sys.stderr)

    def record(result: dict) -> None:
        rows.append(result["row"])
        if result["daily"] is not None:
            daily.append(result["daily"])
        counts[result["row"]["status"]] += 1
        bar.update(1)
        if counts["failed"]:
            bar.set_postfix(failed=counts["failed"], refresh=False)
        if len(rows) >= batch or time.monotonic() - last_flush >= flush_seconds:
            flush()

    def collect(get_result: Callable[[], dict]) -> None:
        try:
            result = get_result()
        except Exception as exc:  # noqa: BLE001 - the infrastructure failed (lost worker): rerun redoes it
            counts["lost"] += 1
            if len(errors) < 3:
                errors.append(f"{type(exc).__name__}: {exc}")
            return
        record(result)

    try:
        if todo:
            if use_dask:
                _run_dask(sweep, todo, client, simulate, collect)
            elif executor == "local":
                _run_local(sweep, todo, workers, simulate, record, errors)
            else:
                _run_futures(sweep, todo, executor, simulate, collect)
    finally:
        flush()
        bar.close()
        _close(client if client is not executor else None, cluster)
        lost = len(todo) - counts["ok"] - counts["failed"]
        try:
            store.write_description(clock.seconds, {"ok": counts["ok"], "failed": counts["failed"], "lost": lost})
        except OSError:
            pass  # the results are written; the description keeps its start-time version
    return Outcome(out, sweep.n_runs, len(done), counts["ok"], counts["failed"], lost,
                   time.perf_counter() - started, errors)


def _close(client, cluster) -> None:
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()


def _is_dask_client(executor: Any) -> bool:
    return type(executor).__module__.startswith("distributed")


# A run whose worker process died under it once is run again alone; if its worker dies again, it is
# recorded as failed (WorkerDied): one run that kills its process never stops the others.
MAX_STRIKES = 2


def _new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_ignore_sigint)


def _run_local(sweep: Sweep, todo: list[int], workers: int | None, simulate, record, errors: list[str]) -> None:
    """Local processes. A worker that dies (killed, out of memory) breaks the pool: what finished is
    kept, a new pool takes the rest, and the runs that were unfinished when it broke (the suspects)
    are run again one at a time, so that only the run that kills its worker is recorded as failed."""
    from collections import deque

    workers = workers or os.cpu_count() or 1
    queue = deque(todo)
    while queue:
        suspects = _run_pool(sweep, queue, workers, 4 * workers, simulate, record)
        if suspects:
            if len(errors) < 3:
                errors.append(f"a worker process died; {len(suspects)} unfinished run(s) were run again one "
                              f"at a time")
            for rid in suspects:
                if _run_pool(sweep, deque([rid]), 1, 1, simulate, record):
                    record({"row": lost_row(sweep.task(rid)), "daily": None})


def _run_pool(sweep: Sweep, queue, workers: int, window: int, simulate, record) -> list[int]:
    """Run the queue's runs on a new pool until it is empty or the pool breaks; the unfinished runs."""
    pool = _new_pool(workers)
    pending: dict = {}
    try:
        while queue or pending:
            while queue and len(pending) < window:
                rid = queue.popleft()
                pending[pool.submit(run_one, sweep.task(rid), simulate)] = rid
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: pending[f]):
                result = future.result()  # raises BrokenExecutor if the pool broke
                del pending[future]
                record(result)
        return []
    except BrokenExecutor:
        unfinished = []
        for future, rid in sorted(pending.items(), key=lambda item: item[1]):
            if future.done() and not future.cancelled() and future.exception() is None:
                record(future.result())
            else:
                unfinished.append(rid)
        return unfinished
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _run_futures(sweep: Sweep, todo: list[int], executor, simulate, collect) -> None:
    if not isinstance(executor, Executor):
        raise ValueError(f"executor: expected 'local', 'dask' or an Executor, found {executor!r}")
    pool = executor
    window = 4 * (getattr(executor, "_max_workers", None) or os.cpu_count() or 1)
    pending: set = set()
    queue = iter(todo)
    try:
        while True:
            for rid in queue:
                pending.add(pool.submit(run_one, sweep.task(rid), simulate))
                if len(pending) >= window:
                    break
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=id):
                collect(future.result)
    except BrokenExecutor:  # a broken pool (a worker killed): what finished is kept, the rest is lost
        for future in pending:
            if future.done() and not future.cancelled():
                collect(future.result)


def _dask_client(executor, scheduler: str | None, workers: int | None, timeout: float):
    """The Dask client to use (and the local cluster it owns, if any); a clear error, quickly, when the
    scheduler is not there."""
    from distributed import Client, LocalCluster

    from ..params import ScenarioError

    if _is_dask_client(executor):
        return executor, None
    if scheduler is not None:
        try:
            return Client(scheduler, timeout=f"{timeout}s"), None
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ScenarioError(f"--scheduler {scheduler[:100]}: no Dask scheduler answered within {timeout:g} s "
                                f"({reason}); start one with `dask scheduler` or check the address") from None
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                           processes=True, host="127.0.0.1", dashboard_address=None)
    return Client(cluster), cluster


def _run_dask(sweep: Sweep, todo: list[int], client, simulate, collect) -> None:
    from distributed import as_completed

    window = 4 * max(1, sum(client.nthreads().values()))
    queue = iter(todo)
    stream = as_completed()
    for rid in queue:
        stream.add(client.submit(run_one, sweep.task(rid), simulate, pure=False))
        if stream.count() >= window:
            break
    for future in stream:
        collect(future.result)
        future.release()
        rid = next(queue, None)
        if rid is not None:
            stream.add(client.submit(run_one, sweep.task(rid), simulate, pure=False))


# --- for sim.decide: the same executors on any list of tasks ---------------------------------------

def run_tasks_futures(tasks, todo: list[int], executor, workers: int | None, simulate, collect) -> None:
    """Run ``tasks.task(i)`` for ``i`` in ``todo`` on an executor, or on local processes ("local")."""
    if executor == "local":
        pool = ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                                   mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint)
        try:
            _run_futures(tasks, todo, pool, simulate, collect)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    _run_futures(tasks, todo, executor, simulate, collect)


def run_tasks_dask(tasks, todo: list[int], executor, scheduler: str | None, workers: int | None, simulate,
                   collect, timeout: float = 10.0) -> None:
    """The same on Dask: a client given, a scheduler's address, or a local cluster of ``workers``."""
    client, cluster = _dask_client(executor, scheduler, workers, timeout)
    try:
        _run_dask(tasks, todo, client, simulate, collect)
    finally:
        _close(client if client is not executor else None, cluster)
