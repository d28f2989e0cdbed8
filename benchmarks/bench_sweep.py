"""Sweep throughput and the cost of the sweep machinery, measured side by side.

The study: the baseline scenario, ``--population`` consumers (2,000), ``--steps`` days (365),
the negative multiplier at 4 values, ``--replicates`` runs each. The same runs (same scenario,
overrides and seeds) are timed four ways, in one process, alternating over ``--repeats`` rounds:

* ``plain loop``: ``sim.run(...)`` then ``summary()`` for each run, one after the other;
* ``sweep, 1 thread``: ``run_sweep`` with a one-thread executor: the same loop plus everything
  the sweep adds (tasks, seeds, flattening, Parquet part files, resume bookkeeping);
* ``plain pool``: a ``ProcessPoolExecutor`` on ``--workers`` processes (default all cores) mapping
  ``sim.run`` + ``summary()`` over the runs;
* ``sweep, local``: ``run_sweep(executor="local")`` on the same number of processes.

Overhead of the machinery = time(sweep) / time(plain) - 1, serial against serial and pool
against pool. Runs per minute are given for each. Each figure is the median over rounds.

Run from the project root::

    .venv/bin/python benchmarks/bench_sweep.py                  # a minute or two
    .venv/bin/python benchmarks/bench_sweep.py --replicates 25 --repeats 3   # bigger
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import sim
from sim.sweep import loads_sweep, read_runs, run_sweep

STUDY = """
name = "bench"
scenario = "baseline"
steps = {steps}
seed = 1
replicates = {replicates}
outputs = ["sentiment_ours", "market_share_ours", "revenue_ours", "negative_share_of_conversation"]

[set]
"population.size" = {population}

[vary]
"sharing.negative_multiplier" = [1, 2, 4, 8]
"""


def plain_one(task) -> dict:
    """What a plain loop does for one run: run the model, take its summary."""
    return sim.run(task.scenario, seed=task.seed, overrides=task.overrides).summary()


def time_plain_loop(tasks) -> float:
    start = time.perf_counter()
    for task in tasks:
        plain_one(task)
    return time.perf_counter() - start


def time_plain_pool(tasks, workers: int) -> float:
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(plain_one, tasks))
    return time.perf_counter() - start


def time_sweep(sweep, executor, workers: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    try:
        start = time.perf_counter()
        if executor == "thread":
            with ThreadPoolExecutor(1) as pool:
                outcome = run_sweep(sweep, out, executor=pool)
        else:
            outcome = run_sweep(sweep, out, executor="local", workers=workers)
        seconds = time.perf_counter() - start
        assert outcome.complete and len(read_runs(out)) == sweep.n_runs
        return seconds
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=365)
    parser.add_argument("--replicates", type=int, default=6, help="runs per point; 4 points (default 6: 24 runs)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=2, help="rounds, alternating the order (default 2)")
    args = parser.parse_args(argv)

    sweep = loads_sweep(STUDY.format(steps=args.steps, replicates=args.replicates, population=args.population))
    tasks = [sweep.task(r) for r in range(sweep.n_runs)]
    ways = {"plain loop": lambda: time_plain_loop(tasks),
            "sweep, 1 thread": lambda: time_sweep(sweep, "thread", 1),
            "plain pool": lambda: time_plain_pool(tasks, args.workers),
            "sweep, local": lambda: time_sweep(sweep, "local", args.workers)}
    times: dict[str, list[float]] = {name: [] for name in ways}
    print(f"Sweep benchmark: {sweep.n_runs} runs of the baseline, {args.population} consumers, {args.steps} days; "
          f"{args.workers} worker processes, {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    for round_ in range(args.repeats):
        order = list(ways) if round_ % 2 == 0 else list(reversed(ways))
        for name in order:
            times[name].append(ways[name]())
        print(f"  round {round_ + 1}: " + ", ".join(f"{n} {times[n][-1]:.1f} s" for n in ways), flush=True)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"\n{'way':<18}{'seconds':>9}{'runs/min':>10}")
    for name, seconds in median.items():
        print(f"{name:<18}{seconds:>9.1f}{sweep.n_runs / seconds * 60:>10.1f}")
    serial = median["sweep, 1 thread"] / median["plain loop"] - 1
    pooled = median["sweep, local"] / median["plain pool"] - 1
    print(f"\noverhead of the sweep machinery: {serial:+.1%} serial (sweep, 1 thread / plain loop), "
          f"{pooled:+.1%} on {args.workers} processes (sweep, local / plain pool)")
    print(f"sweep on all cores: {sweep.n_runs / median['sweep, local'] * 60:.1f} runs per minute, "
          f"{median['plain loop'] / median['sweep, local']:.2f}x the plain loop")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
