"""The app's speed: simulated days a second while the charts update.

Issue "strategist's app": with 2,000 consumers, at least 10 simulated days a
second while the charts update. This script drives the loop the page uses,
:meth:`sim.app.state.Session.run` (the page calls it in a background thread),
with the app's redraw cadence: a frame — every chart drawn to PNG, the
network view included, and the KPI figures — at most every
``REDRAW_INTERVAL`` seconds (or the time the last frame took, whichever is
longer), and one at the end. Speed is "max" (no pacing).

Three cases, each for ``--days`` days (default: the baseline's year):

* ``model only``: both runs stepped with no chart at all (the ceiling);
* ``one run``: the scenario as it is, charts updating;
* ``what-if``: the scenario and a changed copy in lockstep (review prompting
  0.4), charts updating with both runs and their difference.

Each figure is the median of ``--repeats`` runs (the machine is shared).

Run from the project root::

    .venv/bin/python benchmarks/bench_app.py
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from sim.app.state import REDRAW_INTERVAL, Session

POPULATION = 2000
TARGET = 10.0  # days a second


def session(what_if: bool, days: int) -> Session:
    s = Session("baseline")
    assert s.set_value("population.size", str(POPULATION)) is None
    assert s.set_value("steps", str(days)) is None
    if what_if:
        assert s.set_value("brands.ours.review_prompting", "0.4") is None
    return s


def time_case(what_if: bool, days: int, charts: bool) -> tuple[float, int, float]:
    """(days a second, frames drawn, mean seconds a frame)."""
    s = session(what_if, days)
    frames: list = []
    start = time.perf_counter()
    if charts:
        s.run(threading.Event(), frames.append)
    else:
        s.step(days)
    elapsed = time.perf_counter() - start
    assert s.day == days
    mean_frame = statistics.mean(f.made_in for f in frames) if frames else 0.0
    return days / elapsed, len(frames), mean_frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"momentsim app loop: baseline, {POPULATION} consumers, {args.days} days, speed max, "
          f"redraw at most every {REDRAW_INTERVAL} s (or the last frame's time); median of {args.repeats}")
    print(f"{'case':<12}{'days/s':>10}{'frames':>8}{'s/frame':>9}")
    results = {}
    for name, what_if, charts in (("model only", True, False), ("one run", False, True),
                                  ("what-if", True, True)):
        runs = [time_case(what_if, args.days, charts) for _ in range(args.repeats)]
        rate = statistics.median(r[0] for r in runs)
        frames = statistics.median(r[1] for r in runs)
        per_frame = statistics.median(r[2] for r in runs)
        results[name] = rate
        print(f"{name:<12}{rate:>10.1f}{frames:>8.0f}{per_frame:>9.2f}")
    worst = min(results["one run"], results["what-if"])
    print(f"\nslowest with charts updating: {worst:.1f} days/s -> "
          f"{'meets' if worst >= TARGET else 'misses'} the target of {TARGET:g} days/s")


if __name__ == "__main__":
    main()
