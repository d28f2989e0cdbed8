"""Do the two engines give the same market? An equivalence test (TOST) at scale.

Both engines run the baseline at 10,000 consumers for a full year, 20 seeds each (independent
streams: the engines draw differently, so seeds are not paired). For each end-of-run metric, two
one-sided t-tests (Schuirmann's TOST, Welch's degrees of freedom) ask whether the difference of the
engines' means lies inside the stated margin: equivalence is shown when both reject at 5 %, i.e.
when the 90 % interval of the difference lies inside [-margin, +margin].

    .venv/bin/python benchmarks/equivalence.py --seeds 20 --population 10000

The margins are what a user would call "the same market": 0.02 of net sentiment or attitude, one
point of market share, 0.05 stars of displayed rating, 2 % of sales.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

import sim

def _net(table, brand: str) -> float:
    positive = table[f"shares_positive_{brand}"].iloc[1:].sum()
    negative = table[f"shares_negative_{brand}"].iloc[1:].sum()
    return (positive - negative) / (positive + negative)


# metric: (how it is read from a run, margin)
METRICS = {
    # Net sentiment of the year's conversation (the 28-day figure of one day rests on a few hundred stories).
    "net_sentiment_ours": (lambda t: _net(t, "ours"), 0.02),
    "net_sentiment_theirs": (lambda t: _net(t, "theirs"), 0.02),
    "attitude_ours": (lambda t: t["attitude_ours"].iloc[-1], 0.02),
    "attitude_theirs": (lambda t: t["attitude_theirs"].iloc[-1], 0.02),
    "market_share_ours": (lambda t: t["purchases_ours"].iloc[1:].sum() / t["purchases"].iloc[1:].sum(), 0.01),
    "rating_ours": (lambda t: t["rating_ours"].iloc[-1], 0.05),
    "rating_theirs": (lambda t: t["rating_theirs"].iloc[-1], 0.05),
    "aware_ours": (lambda t: t["aware_ours"].iloc[-1], 0.01),
    "log_sales": (lambda t: np.log(t["purchases"].iloc[1:].sum()), 0.02),
    "dissatisfied_share": (lambda t: t["experiences_dissatisfied"].iloc[1:].sum()
                           / (t["experiences_dissatisfied"].iloc[1:].sum() + t["experiences_satisfied"].iloc[1:].sum()),
                           0.005),
}


def tost(a: np.ndarray, b: np.ndarray, margin: float) -> tuple[float, float, float, float]:
    """(difference, 90 % interval low, high, TOST p-value) for mean(a) - mean(b) within +-margin."""
    diff = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    p_low = stats.t.sf((diff + margin) / se, df)  # H0: diff <= -margin
    p_high = stats.t.cdf((diff - margin) / se, df)  # H0: diff >= +margin
    half = stats.t.ppf(0.95, df) * se
    return diff, diff - half, diff + half, max(p_low, p_high)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--population", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=365)
    args = parser.parse_args(argv)
    values = {}
    for engine in ("agent", "array"):
        start = time.perf_counter()
        runs = [sim.run(sim.load("baseline", {"engine": engine, "population.size": args.population,
                                              "steps": args.steps}), seed=s).table
                for s in range(1, args.seeds + 1)]
        values[engine] = {name: np.array([read(t) for t in runs]) for name, (read, _) in METRICS.items()}
        print(f"{engine}: {args.seeds} runs in {time.perf_counter() - start:.0f} s")
    print(f"\nbaseline, {args.population} consumers, {args.steps} days, {args.seeds} seeds per engine")
    print(f"{'metric':<20}{'agent':>10}{'array':>10}{'difference':>12}{'90 % interval':>24}{'margin':>9}"
          f"{'TOST p':>9}  equivalent")
    for name, (_, margin) in METRICS.items():
        a, b = values["agent"][name], values["array"][name]
        diff, lo, hi, p = tost(a, b, margin)
        print(f"{name:<20}{a.mean():>10.4f}{b.mean():>10.4f}{diff:>+12.4f}{f'[{lo:+.4f}, {hi:+.4f}]':>24}"
              f"{margin:>9g}{p:>9.3f}  {'yes' if p < 0.05 else 'NO'}")


if __name__ == "__main__":
    main()
