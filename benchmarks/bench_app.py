"""The app's speed: redraws and simulated days a second, speed settings, Pause and Step, memory.

Issue 13 ("the app, smooth and self-explaining"): at 2,000 consumers the charts redraw at
least 4 times a second while running and a year takes under 10 s; the speed settings hold
within 20 %; Pause and Step answer within half a second; after two 1,000,000-consumer runs
and closing the tab the memory returns near where it started; at 1,000,000 consumers on the
array engine a year in the app takes at most 1.5x the command line's time.

This script drives what the page drives, :class:`sim.app.state.Session` (the page runs
``Session.run`` in a background thread and shows the frames it posts). A frame is every
chart of the page for the current day (the live charts: lines' data updated, PNG) with the
KPI figures; the network view is redrawn at most once a second. The browser shows the newest
frame every ``REDRAW_INTERVAL`` s, so "redraws a second" is the rate frames are made.

Cases (baseline scenario, 2,000 consumers, a year; what-if = review prompting 0.4 beside it):

* ``model only``: both runs stepped, no chart at all (the ceiling);
* ``one run`` / ``what-if``: at speed "max", charts updating;
* ``speed N``: the chosen speed, for ``--hold`` seconds: the days a second achieved;
* ``pause`` / ``step``: what the page's Pause and Step handlers do, timed from the click:
  stop the run, wait for the day it is on, draw that day (Step: one day more);
* ``--large``: 1,000,000 consumers on the array engine: a year by ``sim.run`` (the command
  line's path) and in the app; then the process's resident memory before, after two such
  runs and after the session is closed.

Run from the project root::

    .venv/bin/python benchmarks/bench_app.py            # 2,000 consumers
    .venv/bin/python benchmarks/bench_app.py --large    # and 1,000,000
"""

from __future__ import annotations

import argparse
import gc
import statistics
import threading
import time

import psutil

import sim
from sim.app.state import REDRAW_INTERVAL, Session

POPULATION = 2000


def session(what_if: bool, days: int, population: int = POPULATION, engine: str = "agent") -> Session:
    s = Session("baseline")
    if engine != "agent":
        assert s.set_value("engine", engine) is None
    assert s.set_value("population.size", str(population)) is None
    assert s.set_value("steps", str(days)) is None
    if what_if:
        assert s.set_value("brands.ours.review_prompting", "0.4") is None
    return s


def time_case(what_if: bool, days: int, charts: bool) -> tuple[float, float, int]:
    """(days a second, frames a second, frames)."""
    s = session(what_if, days)
    s.frame()  # the page draws day 0 on opening: the figures exist before Run
    frames: list = []
    start = time.perf_counter()
    if charts:
        s.run(threading.Event(), frames.append)
    else:
        s.step(days)
    elapsed = time.perf_counter() - start
    assert s.day == days
    return days / elapsed, len(frames) / elapsed, len(frames)


def speed_held(speed: float, seconds: float) -> float:
    """Days a second achieved, between the first and the last frame posted in ``seconds``."""
    s = session(True, 365)
    s.frame()
    s.speed = speed
    posted: list = []
    stop = threading.Event()
    runner = threading.Thread(target=s.run, args=(stop, lambda f: posted.append((f.day, time.perf_counter()))))
    runner.start()
    time.sleep(seconds)
    stop.set()
    runner.join()
    (first_day, first), (last_day, last) = posted[0], posted[-1]
    return (last_day - first_day) / (last - first)


def pause_and_step(run_for: float = 1.5) -> tuple[float, float]:
    """Seconds from Pause to the stopped day drawn, and from Step to the next day drawn."""
    s = session(True, 365)
    s.frame()
    frames: list = []
    s.start(frames.append)
    time.sleep(run_for)
    clicked = time.perf_counter()
    s.stop()
    with s.lock:
        s.frame(network=False)  # as the page's Pause
    pause = time.perf_counter() - clicked
    clicked = time.perf_counter()
    s.stop()
    with s.lock:
        s.step(1)
        s.frame()
    step = time.perf_counter() - clicked
    s.stop(wait=30)
    return pause, step


def rss() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 1e6


def large(days: int) -> None:
    print(f"\n1,000,000 consumers, array engine, {days} days (both the same scenario and seed)")
    scenario = sim.load("baseline", {"engine": "array", "population.size": 1_000_000, "steps": days})
    start = time.perf_counter()
    sim.run(scenario)
    cli = time.perf_counter() - start
    before = rss()
    s = session(False, days, 1_000_000, "array")
    s.frame()
    frames: list = []
    start = time.perf_counter()
    s.run(threading.Event(), frames.append)
    app = time.perf_counter() - start
    print(f"{'command line (sim.run)':<28}{cli:>8.1f} s")
    print(f"{'app (charts updating)':<28}{app:>8.1f} s   {len(frames)} frames, {app / cli:.2f}x the command line")
    first = rss()
    s.reset()  # a new run: the finished one's arrays go first
    s.run(threading.Event(), frames.append)
    second = rss()
    s.close()  # the tab is closed
    del s, frames
    closed = rss()
    print(f"memory (MB resident): before {before:,.0f}; after run 1 {first:,.0f}; after run 2 {second:,.0f}; "
          f"tab closed {closed:,.0f} ({closed - before:+,.0f})")


def replicated(replicates: int = 10, population: int = POPULATION, rounds: int = 2) -> None:
    """Issue 14: a replicated what-if as the app runs it (scenario + 1 variant, ``replicates`` paired
    seeds, array engine, a year) through :mod:`sim.app.decide` on the app process's worker pool;
    round 1 includes the workers' start (the first what-if of the app process), later rounds not.
    While it runs, the page's Step (a day more, drawn) is timed: the page stays live."""
    import os

    from sim.app import decide

    s = session(True, 365, population, "array")
    s.set_value("brands.ours.review_prompting", "0")
    assert s.set_value("brands.ours.service_recovery", "0.6") is None
    print(f"\nreplicated what-if in the app: baseline + 1 variant (service recovery 0.6) x {replicates} "
          f"replicates = {2 * replicates} runs, {population} consumers, 365 days, array engine, "
          f"{os.cpu_count()} worker processes")
    for i in range(rounds):
        started = time.perf_counter()
        job = s.compare_replicated(replicates)
        steps = []
        while job.running and len(steps) < 3:  # the page's Step while the workers run
            time.sleep(1.0)
            t = time.perf_counter()
            with s.lock:
                s.step(1)
                s.frame()
            steps.append(time.perf_counter() - t)
        job.wait()
        seconds = time.perf_counter() - started
        assert not job.error, job.error
        effect = decide.headline(job.result)[0]["lines"][0]["text"]
        step = f"{statistics.median(steps):.2f} s" if steps else "n/a"
        print(f"  round {i + 1}: {seconds:5.1f} s  (a Step meanwhile: {step}); {effect}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hold", type=float, default=4.0, help="seconds at each speed setting")
    parser.add_argument("--large", action="store_true", help="also 1,000,000 consumers (memory, time)")
    parser.add_argument("--large-days", type=int, default=365)
    parser.add_argument("--replicated", action="store_true",
                        help="only the replicated what-if (10 replicates, 2,000 consumers, array engine)")
    args = parser.parse_args()
    if args.replicated:
        replicated()
        return
    print(f"momentsim app: baseline, {POPULATION} consumers, {args.days} days; a frame at most every "
          f"{REDRAW_INTERVAL} s; median of {args.repeats}")
    print(f"{'case':<14}{'days/s':>9}{'redraws/s':>11}{'frames':>8}{'year (s)':>10}")
    for name, what_if, charts in (("model only", True, False), ("one run", False, True), ("what-if", True, True)):
        runs = [time_case(what_if, args.days, charts) for _ in range(args.repeats)]
        rate = statistics.median(r[0] for r in runs)
        per_second = statistics.median(r[1] for r in runs)
        frames = statistics.median(r[2] for r in runs)
        print(f"{name:<14}{rate:>9.1f}{per_second:>11.1f}{frames:>8.0f}{365 / rate:>10.1f}")
    print(f"\nspeed settings (what-if, {args.hold:g} s each): days/s achieved")
    for speed in (1.0, 5.0, 20.0):
        held = speed_held(speed, args.hold)
        print(f"{speed:>5g} days/s -> {held:6.2f} ({held / speed - 1:+.0%})")
    pauses = [pause_and_step() for _ in range(args.repeats)]
    print(f"\nPause -> stopped day drawn: {statistics.median(p[0] for p in pauses):.3f} s; "
          f"Step -> next day drawn: {statistics.median(p[1] for p in pauses):.3f} s (median of {args.repeats})")
    if args.large:
        large(args.large_days)


if __name__ == "__main__":
    main()
