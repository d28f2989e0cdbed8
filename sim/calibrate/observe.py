"""What the data observe, in the model's recorded table: the one mapping to adjust.

Each observed series of the tidy CSV (``purchases``, ``reviews``, ...) is read
from one recorded column per brand and folded into periods by one rule:
``sum`` (counts over the period), ``new`` (a cumulative count's increase over
the period), ``last`` (the value on the period's last day), ``mean`` (the mean
over the period's days) or ``share`` (the brand's part of the period's
purchases). Counts scale with the market: simulated × market_size / population.

This table is the only place that knows the recorded column names (the
contract of Model v2 in shared/MODEL.md); adjust it here if a column changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Observable:
    column: str      # recorded column, {brand} replaced by the brand's name
    fold: str        # sum | new | last | mean | share
    scaled: bool     # a count: multiplied by market_size / population
    low: float | None = None   # valid range of an observed value
    high: float | None = None
    meaning: str = ""


# observed series -> recorded column. Model v2 contract: reviews_<brand> is the cumulative review count,
# stars_<k>_<brand> the reviews posted that day with k stars, rating_<brand> the displayed average,
# sentiment_<brand> the net sentiment of the last 28 days in [-1, 1].
OBSERVABLES: dict[str, Observable] = {
    "purchases": Observable("purchases_{brand}", "sum", True, 0, None, "units bought in the period"),
    "revenue": Observable("revenue_{brand}", "sum", True, 0, None, "revenue in the period"),
    "share": Observable("purchases_{brand}", "share", False, 0, 1, "the brand's share of the period's units"),
    "reviews": Observable("reviews_{brand}", "new", True, 0, None, "new reviews posted in the period"),
    **{f"stars_{k}": Observable(f"stars_{k}_{{brand}}", "sum", True, 0, None,
                                f"reviews with {k} star{'s' if k > 1 else ''} posted in the period")
       for k in range(1, 6)},
    "rating": Observable("rating_{brand}", "last", False, 1, 5, "displayed average rating at the period's end"),
    "net_sentiment": Observable("sentiment_{brand}", "mean", False, -1, 1,
                                "net sentiment (pos - neg) / (pos + neg), mean over the period"),
}

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30}  # a month is 30 simulated days (assumption)


def recorded_columns(series: str, brands: list[str]) -> list[str]:
    """The recorded columns a series needs (for ``share``: every brand's purchases)."""
    obs = OBSERVABLES[series]
    return [obs.column.format(brand=b) for b in brands]


def fold(table: pd.DataFrame, series: str, brand: str, brands: list[str], n_periods: int,
         period_days: int, start_day: int, scale: float) -> np.ndarray:
    """The simulated series of one brand, one value a period, on the data's scale.

    Row ``s`` of the recorded table is the state after day ``s`` (row 0: day 0's start);
    period ``p`` covers rows ``start_day + p * period_days + 1`` to ``start_day + (p + 1) * period_days``.
    """
    obs = OBSERVABLES[series]
    first = start_day + 1
    last = start_day + n_periods * period_days
    values = table[obs.column.format(brand=brand)].to_numpy(dtype=float)
    if obs.fold == "new":
        ends = values[start_day: last + 1: period_days]
        out = np.diff(ends)
    elif obs.fold == "last":
        out = values[first + period_days - 1: last + 1: period_days]
    else:
        days = values[first: last + 1].reshape(n_periods, period_days)
        if obs.fold == "sum":
            out = days.sum(axis=1)
        elif obs.fold == "mean":
            out = days.mean(axis=1)
        else:  # share of the period's purchases over the brands
            total = sum(table[OBSERVABLES["purchases"].column.format(brand=b)].to_numpy(dtype=float)
                        [first: last + 1].reshape(n_periods, period_days).sum(axis=1) for b in brands)
            out = np.divide(days.sum(axis=1), total, out=np.zeros(n_periods), where=total > 0)
    return out * scale if obs.scaled else out
