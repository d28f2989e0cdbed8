"""Do the shipped scenarios still tell their stories? Each story's effect with paired seeds.

Each scenario is run against its own counterfactual (the same scenario without its intervention, or
without the mechanism its story is about) on the same seeds (common random numbers); the table gives
the mean effect and its 95 % t-interval over the seeds. The figures are quoted in docs/scenarios.md.

    .venv/bin/python benchmarks/scenario_stories.py --seeds 8 --population 2000
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
from scipy import stats

import sim


def without_events(name: str) -> sim.Scenario:
    scenario = copy.deepcopy(sim.load(name))
    scenario.params.events = []
    return scenario


def days(table, start, end, column):
    return table[column].iloc[start:end + 1]


STORIES = [
    # (scenario, what changes in the counterfactual, description, measure(table))
    ("quality_crisis", "no crisis", "a crisis hurts: sales of ours, days 120-365",
     lambda t: days(t, 120, 365, "purchases_ours").sum()),
    ("quality_crisis", "no crisis", "... and net sentiment of ours, lowest 28-day value",
     lambda t: t["sentiment_ours"].iloc[120:].min()),
    ("review_prompts", "no prompts", "prompts raise the displayed rating of ours on day 365",
     lambda t: t["rating_ours"].iloc[-1]),
    ("hype_vs_reality", "no hype (ads.hype = 0)", "hype disappoints: share of experiences dissatisfied",
     lambda t: t["experiences_dissatisfied"].iloc[1:].sum() / (t["experiences_dissatisfied"].iloc[1:].sum()
                                                              + t["experiences_satisfied"].iloc[1:].sum())),
    ("service_recovery", "no better service", "recovery helps: negative stories about ours, days 60-365",
     lambda t: days(t, 60, 365, "shares_negative_ours").sum()),
    ("service_recovery", "no better service", "... and sales of ours, days 60-365",
     lambda t: days(t, 60, 365, "purchases_ours").sum()),
    ("mobile_micro_moments", "young share 0.2 (the baseline's)",
     "phones everywhere: purchases of theirs (the heavy advertiser) over the year",
     lambda t: t["purchases_theirs"].iloc[1:].sum()),
]


def counterfactual(name: str, change: str) -> sim.Scenario:
    if change.startswith("no hype"):
        return sim.load(name, {"ads.hype": 0.0})
    if change.startswith("young share"):
        return sim.load(name, {"population.young_share": 0.2})
    return without_events(name)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--population", type=int, default=2000)
    parser.add_argument("--engine", default="array")
    args = parser.parse_args(argv)
    common = {"population.size": args.population, "engine": args.engine}
    cache: dict = {}

    def table(name, change, seed):
        key = (name, change, seed)
        if key not in cache:
            scenario = (sim.load(name) if change is None else counterfactual(name, change))
            cache[key] = sim.run(scenario.with_overrides(common), seed=seed).table
        return cache[key]

    print(f"{args.seeds} paired seeds, {args.population} consumers, {args.engine} engine")
    print(f"{'scenario':<22}{'story':<72}{'scenario':>10}{'without':>10}{'effect [95 % interval]':>30}")
    for name, change, story, measure in STORIES:
        with_it = np.array([measure(table(name, None, s)) for s in range(1, args.seeds + 1)])
        without = np.array([measure(table(name, change, s)) for s in range(1, args.seeds + 1)])
        d = with_it - without
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        print(f"{name:<22}{story:<72}{with_it.mean():>10.3g}{without.mean():>10.3g}"
              f"{d.mean():>+12.3g} [{d.mean() - half:+.3g}, {d.mean() + half:+.3g}]")
        print(f"{'':<22}(counterfactual: {change})")


if __name__ == "__main__":
    main()
