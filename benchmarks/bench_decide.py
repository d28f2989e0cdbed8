"""Decisions: how long a replicated what-if and a budget optimisation take.

``whatif``: the baseline and one variant (better service), ``--replicates`` paired seeds each (10),
``--population`` consumers (2,000), ``--steps`` days (365), array engine. Timed side by side in one
process, alternating over ``--repeats`` rounds: ``sim.compare(..., replicates=N)`` on the local
executor (``--workers`` processes, default all cores; a fresh pool each time, as the command does)
against a plain serial loop of the same runs (``sim.run`` + P&L), so the ratio shows what the
parallel runner gains (or costs) on this machine.

``optimise``: 3 levers (ads, prompts, service), ``--trials`` (60) x ``--replicates`` (4) paired seeds,
``--population`` (5,000) x ``--steps`` (365), array engine, TPE, local executor; timed once (it is long:
run it when the machine is quiet).

``planner``: the app's budget planner as the page starts it (``Session.plan_budget``: the study in a
process of its own, a process group that Cancel kills whole), ``--trials`` (4) x ``--replicates`` (2)
at the app's default set-up, timed from the click to the answer, ``--repeats`` (3) plans in one app
process; each plan's workers started either by a forkserver of the plan's own (``POOL_START =
"forkserver"``: it imports momentsim afresh) or forked from the plan's process (``"fork"``, what the app
does), the two alternating.

    .venv/bin/python benchmarks/bench_decide.py whatif
    .venv/bin/python benchmarks/bench_decide.py optimise --population 5000 --replicates 4 --trials 60
    .venv/bin/python benchmarks/bench_decide.py planner --trials 4 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sim
from sim.decide.compare import replicate_seeds
from sim.decide.optimise import loads_spec, optimise

SPEC = """
name = "bench"
scenario = "baseline"
brand = "ours"
budget = 900.0
period = 30
levers = ["ads", "prompts", "service"]
horizon = {steps}
objective = "profit"
trials = {trials}
replicates = {replicates}
seed = 7

[set]
engine = "array"
"population.size" = {population}
"""


def whatif(args) -> None:
    overrides = {"engine": "array", "population.size": args.population}
    variant = {"brands.ours.service_recovery": 0.6}
    seeds = replicate_seeds(42, args.replicates)

    def parallel() -> float:
        start = time.perf_counter()
        sim.compare("baseline", replicates=args.replicates, seed=42, steps=args.steps, overrides=overrides,
                    variants={"service": variant}, workers=args.workers)
        return time.perf_counter() - start

    def serial() -> float:
        start = time.perf_counter()
        for changes in ({}, variant):
            for seed in seeds:
                sim.run("baseline", steps=args.steps, seed=seed, overrides={**overrides, **changes}).money()
        return time.perf_counter() - start

    times = {"compare, local processes": [], "plain serial loop": []}
    for r in range(args.repeats):
        order = [("compare, local processes", parallel), ("plain serial loop", serial)]
        for name, fn in (order if r % 2 == 0 else order[::-1]):
            times[name].append(fn())
    runs = 2 * args.replicates
    print(f"what-if: baseline + 1 variant x {args.replicates} replicates = {runs} runs, "
          f"{args.population} consumers, {args.steps} days, array engine, {args.workers or os.cpu_count()} "
          f"workers, median of {args.repeats} rounds")
    for name, values in times.items():
        m = statistics.median(values)
        print(f"  {name:<26} {m:7.1f} s   ({runs / m * 60:5.1f} runs a minute)   rounds: "
              + ", ".join(f"{v:.1f}" for v in values))
    ratio = statistics.median(times["plain serial loop"]) / statistics.median(times["compare, local processes"])
    print(f"  speed-up of compare over the serial loop: {ratio:.2f}x")


def optimisation(args) -> None:
    spec = loads_spec(SPEC.format(steps=args.steps, trials=args.trials, replicates=args.replicates,
                                  population=args.population))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = optimise(spec, Path(tmp) / "opt", workers=args.workers, progress=sys.stderr.isatty())
        seconds = time.perf_counter() - start
    runs = (args.trials + 1) * args.replicates
    print(f"optimise: 3 levers x {args.trials} trials x {args.replicates} replicates (+ the current plan) = "
          f"{runs} runs, {args.population} consumers, {args.steps} days, array engine, "
          f"{args.workers or os.cpu_count()} workers")
    print(f"  {seconds:.1f} s in all ({seconds / 60:.1f} min), {runs / seconds * 60:.1f} runs a minute")
    print(result.text())


def planner(args) -> None:
    from sim.app import decide
    from sim.app.state import Session

    def plan(start: str) -> float:
        decide._PLAN_POOL_START = start
        session = Session(sim.load("baseline"))
        begun = time.perf_counter()
        job = session.plan_budget(decide.PlanRequest("ours", trials=args.trials, replicates=args.replicates))
        job.wait(3600)
        if job.error:
            raise SystemExit(job.error)
        return time.perf_counter() - begun

    times = {"forkserver": [], "fork": []}
    for r in range(args.repeats):
        for start in (("forkserver", "fork") if r % 2 == 0 else ("fork", "forkserver")):
            times[start].append(plan(start))
    print(f"the app's budget plan: {args.trials} trials x {args.replicates} replicates, baseline set-up, "
          f"{args.repeats} alternated rounds (the first plan also starts the app's forkserver)")
    for start, values in times.items():
        print(f"  workers by {start:>10}: {', '.join(f'{v:.1f}' for v in values)} s; median "
              f"{statistics.median(values):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["whatif", "optimise", "planner"])
    parser.add_argument("--population", type=int)
    parser.add_argument("--steps", type=int, default=365)
    parser.add_argument("--replicates", type=int)
    parser.add_argument("--trials", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    if args.mode == "whatif":
        args.population = args.population or 2000
        args.replicates = args.replicates or 10
        args.repeats = args.repeats or 2
        whatif(args)
    elif args.mode == "planner":
        args.trials = args.trials or 4
        args.replicates = args.replicates or 2
        args.repeats = args.repeats or 3
        planner(args)
    else:
        args.population = args.population or 5000
        args.replicates = args.replicates or 4
        args.trials = args.trials or 60
        optimisation(args)


if __name__ == "__main__":
    main()
