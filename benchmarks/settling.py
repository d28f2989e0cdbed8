"""How settled is day 0? The baseline run from its empty day-0 state (no burn-in) for three years.

Prints, per 30-day month, the mean over paired random seeds of the aggregates a user reads (awareness,
attitude, market share, net sentiment, displayed rating, acquisitions and retentions a day), and the
standard error of the last months. Month 12 is what a run with the default 365-day burn-in starts
from. Figures in docs/ODD.md ("How settled day 0 is").

Run from the project root::

    .venv/bin/python benchmarks/settling.py --seeds 8 --population 20000
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import sim

COLUMNS = ["aware_ours", "attitude_ours", "attitude_theirs", "market_share_ours", "sentiment_ours",
           "sentiment_theirs", "rating_ours", "purchases", "acquisitions_ours", "retentions_ours"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8, help="paired random seeds (8)")
    parser.add_argument("--population", type=int, default=20_000, help="consumers (20000)")
    parser.add_argument("--days", type=int, default=1095, help="days from the empty start (1095)")
    args = parser.parse_args(argv)
    scenario = sim.load("baseline", {"population.size": args.population, "engine": "array",
                                     "market.burn_in_days": 0, "steps": args.days})
    frames = []
    for seed in range(1, args.seeds + 1):
        table = sim.run(scenario, seed=seed).table
        frames.append(table.assign(seed=seed, month=table["step"] // 30)[table["step"] > 0])
    months = pd.concat(frames).groupby(["seed", "month"])[COLUMNS].mean()
    mean = months.groupby("month").mean()
    error = months.groupby("month").std() / np.sqrt(args.seeds)
    with pd.option_context("display.width", 250, "display.max_rows", 100):
        print(mean.round(3).to_string())
        print("standard error of a month's mean, last three months")
        print(error.iloc[-3:].round(3).to_string())


if __name__ == "__main__":
    main()
