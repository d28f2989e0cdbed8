"""Journey model vs Mesa's virus_on_network example: agent-steps per second.

Issue "journey simulator" asks that the journey model (``sim.MarketModel``)
steps at least as fast, per agent, as Mesa's own example
``mesa.examples.basic.virus_on_network`` on the same kind of network. This
script times both in one process, side by side:

* ours: the ``baseline`` scenario with ``population.size`` consumers on an
  Erdos-Renyi random network (``network.kind = "random"``) whose mean degree
  is the virus example's ``avg_node_degree`` (3);
* the virus example (``VirusOnNetwork``) with the same number of nodes and
  ``avg_node_degree``, and a large initial outbreak.

Construction is not timed. The virus example builds its graph with
``nx.erdos_renyi_graph`` (quadratic in the number of nodes) and Mesa's
``Network`` space computes a spring layout by default (minutes at 10,000
nodes), so for construction only those two are patched: the graph comes from
``nx.fast_gnp_random_graph`` (the same G(n, p) distribution) and the layout
is skipped (``layout=None``). Stepping is the unmodified example.

Only ``step()`` calls are timed, after a warm-up. The machine is shared and
noisy, so the two models are interleaved over several rounds (alternating
which goes first) and the median rate of each is reported, with the ratio.

The virus epidemic burns out: with the example's defaults, almost everyone is
resistant or susceptible-and-isolated after ~60 steps, and a step then costs
the virus model a third of what it costs during the epidemic. Two modes:

* ``fresh`` (default): every round builds new models (untimed), warms them up
  and times them, so the virus is always timed in the same busy phase of its
  epidemic (steps warm-up .. warm-up + steps-per-round);
* ``continuous``: one model of each, warmed up once and stepped on through
  all rounds, so later rounds time a burnt-out epidemic.

The table shows how many virus agents were infected at the start and end of
each timed window, so the regime it was timed in is visible.

Run from the project root::

    .venv/bin/python benchmarks/bench_virus.py
    .venv/bin/python benchmarks/bench_virus.py --mode continuous
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import time
from unittest import mock

import networkx as nx
from mesa.discrete_space import Network
from mesa.examples.basic.virus_on_network import model as virus_module
from mesa.examples.basic.virus_on_network.agents import State

import sim

VIRUS_MEAN_DEGREE = 3  # VirusOnNetwork's default avg_node_degree


def build_journey_model(agents: int, mean_degree: float, seed: int) -> sim.MarketModel:
    """Our model: the baseline scenario on an Erdos-Renyi random network."""
    scenario = sim.load("baseline", {"population.size": agents, "network.kind": "random",
                                     "network.mean_degree": float(mean_degree)})
    return sim.MarketModel(scenario, seed=seed)


def build_virus_model(agents: int, mean_degree: int, outbreak: int, seed: int):
    """Mesa's example, with its graph generator and layout patched for construction only."""
    fast_graph = functools.partial(nx.fast_gnp_random_graph, seed=seed)
    no_layout = functools.partial(Network, layout=None)
    with mock.patch.object(virus_module.nx, "erdos_renyi_graph", fast_graph), \
            mock.patch.object(virus_module, "Network", no_layout):
        return virus_module.VirusOnNetwork(num_nodes=agents, avg_node_degree=mean_degree,
                                           initial_outbreak_size=outbreak, rng=seed)


def infected(virus) -> int:
    return sum(1 for a in virus.agents if a.state is State.INFECTED)


def agent_steps_per_second(model, steps: int) -> float:
    """Time ``steps`` calls of ``model.step()``; agent-steps per second."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    elapsed = time.perf_counter() - start
    return len(model.agents) * steps / elapsed


def warm_up(models, steps: int) -> None:
    for model in models:
        for _ in range(steps):
            model.step()


def run_rounds(args) -> list[dict]:
    """Interleave the two models round by round; one dict of figures a round."""
    rows = []
    ours = virus = None
    for r in range(args.rounds):
        if ours is None or args.mode == "fresh":
            seed = args.seed + r
            ours = build_journey_model(args.agents, VIRUS_MEAN_DEGREE, seed)
            virus = build_virus_model(args.agents, VIRUS_MEAN_DEGREE, args.outbreak, seed)
            warm_up((ours, virus), args.warmup)
        ours_first = r % 2 == 0
        infected_before = infected(virus)
        rates = {}
        for name, model in ((("ours", ours), ("virus", virus)) if ours_first
                            else (("virus", virus), ("ours", ours))):
            rates[name] = agent_steps_per_second(model, args.steps_per_round)
        rows.append(dict(round=r + 1, first="ours" if ours_first else "virus", ours=rates["ours"],
                         virus=rates["virus"], infected=(infected_before, infected(virus)),
                         virus_step=virus.steps))
    return rows


def print_table(args, rows: list[dict]) -> None:
    print(f"Journey model (baseline, network.kind=random, mean_degree={VIRUS_MEAN_DEGREE}) vs "
          f"Mesa VirusOnNetwork (avg_node_degree={VIRUS_MEAN_DEGREE}, "
          f"initial_outbreak_size={args.outbreak})")
    print(f"agents={args.agents}  mode={args.mode}  warm-up={args.warmup} steps  "
          f"rounds={args.rounds} x {args.steps_per_round} steps  (agent-steps per second)")
    print()
    print(f"{'round':>6}  {'first':>5}  {'ours':>10}  {'virus':>10}  {'ours/virus':>10}  "
          f"{'virus steps':>11}  {'virus infected':>14}")
    for row in rows:
        start, end = row["virus_step"] - args.steps_per_round, row["virus_step"]
        before, after = row["infected"]
        print(f"{row['round']:>6}  {row['first']:>5}  {row['ours']:>10,.0f}  {row['virus']:>10,.0f}  "
              f"{row['ours'] / row['virus']:>10.2f}  {f'{start}-{end}':>11}  "
              f"{f'{before}->{after}':>14}")
    ours = statistics.median(row["ours"] for row in rows)
    virus = statistics.median(row["virus"] for row in rows)
    print(f"{'median':>6}  {'':>5}  {ours:>10,.0f}  {virus:>10,.0f}  {ours / virus:>10.2f}")
    print()
    print(f"ratio ours/virus (median rates): {ours / virus:.2f}  -> "
          f"{'ours reaches' if ours >= virus else 'ours does NOT reach'} the example's rate")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10_000, help="agents in each model (10000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--steps-per-round", type=int, default=20, help="timed steps a round (20)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps before timing (10)")
    parser.add_argument("--outbreak", type=int, default=100,
                        help="virus initial_outbreak_size (100)")
    parser.add_argument("--mode", choices=("fresh", "continuous"), default="fresh",
                        help="fresh: new models every round (virus timed mid-epidemic); "
                             "continuous: one model each through all rounds (fresh)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first round's models (1)")
    args = parser.parse_args(argv)
    print_table(args, run_rounds(args))


if __name__ == "__main__":
    main()
