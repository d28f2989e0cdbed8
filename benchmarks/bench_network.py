"""Building the consumers' network, and a whole model, at 100,000 consumers.

Issue "journey simulator" requires that "building a 100,000-consumer
small-world network takes seconds, not minutes". This script times

* ``sim.network.build(kind, size, mean_degree=10, rewiring=0.1, seed=1)`` for
  every kind (``small_world``, ``scale_free``, ``random``, ``complete``);
* building a whole ``sim.MarketModel`` of that many consumers on the
  small-world network (the baseline scenario), network included.

As a reference run in the same process, each networked kind is also timed
as the bare networkx generator that ``build`` wraps (same arguments); the
ratio build / networkx says what turning the graph into neighbour arrays
costs on top of generating it. ``complete`` (fully mixed) builds no graph.

Each figure is the median of ``--repeats`` runs (the machine is shared).

Run from the project root::

    .venv/bin/python benchmarks/bench_network.py
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import networkx as nx

import sim
from sim import network

KINDS = ("small_world", "scale_free", "random", "complete")
MEAN_DEGREE = 10
REWIRING = 0.1
SEED = 1
LIMIT_SECONDS = 60.0  # "seconds, not minutes"


def networkx_generator(kind: str, size: int):
    """The bare networkx call ``sim.network.build`` makes for ``kind`` (None for ``complete``)."""
    if kind == "small_world":
        return lambda: nx.watts_strogatz_graph(size, MEAN_DEGREE, REWIRING, seed=SEED)
    if kind == "scale_free":
        return lambda: nx.barabasi_albert_graph(size, MEAN_DEGREE // 2, seed=SEED)
    if kind == "random":
        return lambda: nx.fast_gnp_random_graph(size, MEAN_DEGREE / (size - 1), seed=SEED)
    return None


def build_network(kind: str, size: int):
    return lambda: network.build(kind, size, mean_degree=MEAN_DEGREE, rewiring=REWIRING, seed=SEED)


def build_model(size: int):
    scenario = sim.load("baseline", {"population.size": size, "network.kind": "small_world",
                                     "network.mean_degree": float(MEAN_DEGREE),
                                     "network.rewiring": REWIRING})
    return lambda: sim.MarketModel(scenario)


def median_seconds(make, repeats: int) -> float:
    """Median wall time of ``make()`` over ``repeats`` calls (the result is dropped)."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = make()
        times.append(time.perf_counter() - start)
        del result
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="consumers (100000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, median reported (3)")
    args = parser.parse_args(argv)

    print(f"size={args.size}  mean_degree={MEAN_DEGREE}  rewiring={REWIRING}  seed={SEED}  "
          f"median of {args.repeats} runs, seconds")
    print()
    print(f"{'what':<28}  {'seconds':>8}  {'networkx alone':>14}  {'ratio':>6}")
    built, reference = {}, {}
    for kind in KINDS:
        seconds = built[kind] = median_seconds(build_network(kind, args.size), args.repeats)
        generator = networkx_generator(kind, args.size)
        if generator is None:
            print(f"{'build ' + kind:<28}  {seconds:>8.3f}  {'-':>14}  {'-':>6}")
            continue
        reference[kind] = median_seconds(generator, args.repeats)
        print(f"{'build ' + kind:<28}  {seconds:>8.3f}  {reference[kind]:>14.3f}  "
              f"{seconds / reference[kind]:>6.2f}")
    model_seconds = median_seconds(build_model(args.size), args.repeats)
    print(f"{'MarketModel on small_world':<28}  {model_seconds:>8.3f}  "
          f"{reference['small_world']:>14.3f}  {model_seconds / reference['small_world']:>6.2f}")
    print()
    print("ratio = seconds / networkx alone (the bare generator for that kind; "
          "small_world's for the model)")
    verdict = "meets" if built["small_world"] < LIMIT_SECONDS else "FAILS"
    print(f"requirement 'a {args.size:,}-consumer small-world network in seconds, not minutes' "
          f"(under {LIMIT_SECONDS:.0f} s): {verdict} ({built['small_world']:.1f} s)")


if __name__ == "__main__":
    main()
