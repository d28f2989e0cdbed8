"""Synthetic data made by the model itself at known parameter values: for recovery tests and examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import api
from .observe import PERIOD_DAYS, fold


def make_tidy(scenario, truth: dict[str, Any], series: list[str], n_periods: int, period: str = "week",
              population: int = 2000, market_size: float | None = None, seed: int = 1, start_day: int = 0,
              engine: str = "array", noise: float = 0.0) -> pd.DataFrame:
    """One run at ``truth``, folded into a tidy table (period index, brand, series...).

    ``noise`` adds multiplicative measurement error (lognormal, that standard deviation) to counts,
    as a tracking panel's sampling would.
    """
    days = PERIOD_DAYS[period]
    market_size = market_size or population
    overrides = {**truth, "population.size": population, "engine": engine, "seed": seed,
                 "steps": start_day + n_periods * days}
    result = api.run(scenario, overrides=overrides)
    brands = result.brands
    rng = np.random.default_rng(seed + 10_000)
    frame = pd.DataFrame({"period": np.repeat(np.arange(n_periods), len(brands)),
                          "brand": np.tile(brands, n_periods)})
    for name in series:
        values = np.empty((n_periods, len(brands)))
        for j, b in enumerate(brands):
            v = fold(result.table, name, b, brands, n_periods, days, start_day, market_size / population)
            if noise and name in ("purchases", "revenue", "reviews") or name.startswith("stars_") and noise:
                v = v * rng.lognormal(0.0, noise, size=v.shape)
            values[:, j] = v
        frame[name] = values.reshape(-1)
    return frame


def write_tidy(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    return path
