"""The array engine (``engine = "array"``): scaling, a sweep-sized run, a million consumers, vs Mesa.

Four measurements, each printed as a table (figures in BENCHMARKS.md), and a fifth on request:

1. ``scaling``: the baseline on a small world of mean degree 10, 365 days, from 10^3 to 10^6
   consumers: model construction (network included) and the 365 steps, seconds, median of
   ``--repeats`` runs (one at 10^6); a log-log plot into ``docs/img/array_scaling.png``.
2. ``small``: a 10,000-consumer, 365-day run (``sim.run``, everything included), median of 5.
3. ``million``: the whole command ``momentsim run baseline --engine array --set population.size=1000000
   --set network.kind=small_world --set network.mean_degree=10`` as a child process: wall time and
   peak memory (``resource.getrusage`` of the child: maximum resident set size).
4. ``virus``: agent-steps per second of the array engine and of Mesa's ``virus_on_network`` example
   at 100,000 agents on networks of mean degree 10, timed side by side in this process (the
   example's construction patched as in ``bench_virus.py``; only ``step()`` timed; the example is
   slow at this size, so a few steps of it).
5. ``whole``: the whole command as a user meets it, ``momentsim run baseline --engine array`` at
   100,000 consumers x 5 years (1,825 recorded days; start-up, the 365-day burn-in, the network and
   the written files all in the wall time) against the ``virus_on_network`` rate measured as in 4,
   alternated ``--rounds`` times; the ratio counts the recorded agent-days only (goal: 300x).
6. ``networks`` (not in "all"): seconds to build each network kind of mean degree 10 with the
   array engine's NumPy builders at 10^5 and 10^6 consumers, and with networkx at 10^5.

Run from the project root::

    .venv/bin/python benchmarks/bench_array.py                 # all four
    .venv/bin/python benchmarks/bench_array.py scaling small    # some
    .venv/bin/python benchmarks/bench_array.py whole            # the whole command vs virus_on_network
    .venv/bin/python benchmarks/bench_array.py profile          # cProfile of 365 days at 10^6 (not in "all")
    .venv/bin/python benchmarks/bench_array.py networks         # network builders (not in "all")
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parent.parent
SMALL_WORLD = {"network.kind": "small_world", "network.mean_degree": 10.0}


def array_run(size: int, steps: int = 365, seed: int = 1) -> tuple[float, float]:
    """(seconds to build, seconds to step) of the baseline with the array engine."""
    scenario = sim.load("baseline", {"population.size": size, "steps": steps, "engine": "array", **SMALL_WORLD})
    gc.collect()
    start = time.perf_counter()
    model = sim.build(scenario, seed=seed)
    built = time.perf_counter()
    for _ in range(steps):
        model.step()
    model.table()
    return built - start, time.perf_counter() - built


def scaling(args) -> None:
    sizes = [1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]
    print("array engine, baseline on a small world (mean degree 10), 365 days; seconds, median of "
          f"{args.repeats} (1 at 10^6)")
    print(f"{'consumers':>10}  {'build':>7}  {'365 steps':>9}  {'total':>7}  {'ms/day':>7}  {'us/consumer':>11}")
    rows = []
    for size in sizes:
        runs = [array_run(size, seed=r + 1) for r in range(1 if size >= 1_000_000 else args.repeats)]
        build = statistics.median(r[0] for r in runs)
        step = statistics.median(r[1] for r in runs)
        rows.append((size, build, step))
        print(f"{size:>10,}  {build:>7.3f}  {step:>9.3f}  {build + step:>7.3f}  {1000 * step / 365:>7.2f}  "
              f"{1e6 * (build + step) / size:>11.2f}")
    plot = ROOT / "docs" / "img" / "array_scaling.png"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    n = [r[0] for r in rows]
    ax.loglog(n, [r[1] + r[2] for r in rows], "o-", label="total (build + 365 days)")
    ax.loglog(n, [r[2] for r in rows], "s--", label="365 steps")
    ax.loglog(n, [r[1] for r in rows], "^:", label="build (network, population)")
    ax.loglog(n, [(rows[-1][1] + rows[-1][2]) * x / n[-1] for x in n], color="grey", lw=0.8,
              label="proportional to consumers")
    ax.set_xlabel("consumers")
    ax.set_ylabel("seconds")
    ax.set_title("array engine: run time against population")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(plot, dpi=110)
    print(f"wrote {plot.relative_to(ROOT)}")


def small(args) -> None:
    times = []
    for r in range(5):
        gc.collect()
        start = time.perf_counter()
        sim.run("baseline", seed=r + 1, overrides={"population.size": 10_000, "engine": "array"})
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"10,000 consumers, 365 days, sim.run (build, steps, table): "
          f"{', '.join(f'{t:.3f}' for t in times)} s; median {median:.3f} s -> "
          f"{'meets' if median < 0.5 else 'does NOT meet'} the goal (< 0.5 s); "
          f"a 1,000-run sweep: about {1000 * median / 60:.1f} min on one core")


def million(args) -> None:
    with tempfile.TemporaryDirectory() as out:
        command = [str(ROOT / ".venv" / "bin" / "momentsim"), "run", "baseline", "--engine", "array",
                   "--set", "population.size=1000000", "--set", "network.kind=small_world",
                   "--set", "network.mean_degree=10", "--out", out]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    print(" ".join(command[1:-2]))
    print(done.stdout.strip().splitlines()[0] if done.returncode == 0 else done.stderr)
    print(f"wall {wall:.2f} s ({'meets' if wall < 15 else 'does NOT meet'} < 15 s), peak memory "
          f"{peak:,.0f} MB ({'meets' if peak < 2048 else 'does NOT meet'} < 2 GB)")


def virus(args) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_virus import build_virus_model

    agents, degree = 100_000, 10
    scenario = sim.load("baseline", {"population.size": agents, "engine": "array", "steps": 365, **SMALL_WORLD})
    ours = sim.build(scenario, seed=1)
    theirs = build_virus_model(agents, degree, outbreak=1000, seed=1)
    for _ in range(10):  # warm up: our market past its first days, the epidemic started
        ours.step()
    theirs.step()
    rates = {"ours": [], "virus": []}
    for r in range(args.rounds):
        for name, model, steps in (("ours", ours, 30), ("virus", theirs, 2))[::1 if r % 2 == 0 else -1]:
            gc.collect()
            start = time.perf_counter()
            for _ in range(steps):
                model.step()
            rates[name].append(agents * steps / (time.perf_counter() - start))
    ours_rate, virus_rate = statistics.median(rates["ours"]), statistics.median(rates["virus"])
    print(f"100,000 agents, mean degree 10, {args.rounds} interleaved rounds (ours 30 steps, virus 2 steps a round)")
    print(f"  array engine (baseline, small world):    {ours_rate:>14,.0f} agent-steps/s")
    print(f"  Mesa virus_on_network (G(n,p)):          {virus_rate:>14,.0f} agent-steps/s")
    print(f"  ratio {ours_rate / virus_rate:,.0f}x -> {'meets' if ours_rate >= 300 * virus_rate else 'does NOT meet'} "
          f"the goal (>= 300x)")


def whole(args) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_virus import build_virus_model

    agents, days = 100_000, 5 * 365
    theirs = build_virus_model(agents, 10, outbreak=1000, seed=1)
    theirs.step()
    walls, virus_rates = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as out:
            command = [str(ROOT / ".venv" / "bin" / "momentsim"), "run", "baseline", "--engine", "array",
                       "--steps", str(days), "--set", f"population.size={agents}",
                       "--set", "network.kind=small_world", "--set", "network.mean_degree=10", "--out", out]
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            walls.append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        for _ in range(2):
            theirs.step()
        virus_rates.append(agents * 2 / (time.perf_counter() - start))
    wall, virus_rate = statistics.median(walls), statistics.median(virus_rates)
    ours_rate = agents * days / wall
    print(" ".join(command[1:-2]))
    print(f"  whole command: {', '.join(f'{w:.2f}' for w in walls)} s; median {wall:.2f} s -> "
          f"{ours_rate:,.0f} recorded agent-days/s")
    print(f"  Mesa virus_on_network (100,000 agents, mean degree 10): {virus_rate:,.0f} agent-steps/s")
    print(f"  ratio {ours_rate / virus_rate:,.0f}x -> {'meets' if ours_rate >= 300 * virus_rate else 'does NOT meet'} "
          f"the goal (>= 300x)")


def networks(args) -> None:
    from sim import network

    print(f"{'kind':>12}  {'numpy 10^5':>10}  {'numpy 10^6':>10}  {'networkx 10^5':>13}  (seconds, mean degree 10)")
    for kind in ("small_world", "random", "scale_free"):
        times = []
        for size, fast in ((100_000, True), (1_000_000, True), (100_000, False)):
            gc.collect()
            start = time.perf_counter()
            network.build(kind, size, 10.0, 0.1, 1, fast=fast)
            times.append(time.perf_counter() - start)
        print(f"{kind:>12}  {times[0]:>10.2f}  {times[1]:>10.2f}  {times[2]:>13.2f}")


def profile(args) -> None:
    import cProfile
    import pstats

    scenario = sim.load("baseline", {"population.size": 1_000_000, "engine": "array", **SMALL_WORLD})
    model = sim.build(scenario, seed=1)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(365):
        model.step()
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(15)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="*", help="scaling, small, million, virus (default: all four)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size below 10^6 (3)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds in the virus comparison (3)")
    args = parser.parse_args(argv)
    for what in args.what or ["scaling", "small", "million", "virus"]:
        if what not in ("scaling", "small", "million", "virus", "whole", "profile", "networks"):
            parser.error(f"expected scaling, small, million, virus, whole, profile or networks, found {what!r}")
        print(f"== {what}")
        globals()[what](args)
        print()


if __name__ == "__main__":
    main()
