"""Make the shipped synthetic brand-tracking dataset (brand_tracking.csv), documented and repeatable.

    python scenarios/calibrations/make_brand_tracking.py

The client-style example of docs/calibration.md: what a brand team receives from its
tracking and sales panel, made by the model itself at known values so that the
calibration can be checked against them:

- the market of brand_tracking_scenario.toml (two brands; ours loses quality in week 60, fixed in week 72),
- at the "true" values in TRUTH, 1,500 simulated consumers standing for a market of 500,000,
- 104 weeks of units sold, revenue, new reviews, displayed rating and net sentiment per brand,
- panel noise: units, revenue and review counts times a lognormal error (sd 0.08), as a sampled panel has,
- a gap in the social-listening feed (weeks 30 to 33 of net_sentiment missing), as happens.

The first ISO date is Monday 2024-01-01; the calibration spec reads periods as weekly dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from sim.calibrate.synthetic import make_tidy, write_tidy

HERE = Path(__file__).resolve().parent
TRUTH = {"brands.ours.quality": 0.70, "brands.theirs.quality": 0.64, "sharing.base_propensity": 0.08,
         "ads.persuasion": 0.03}
SERIES = ["purchases", "revenue", "reviews", "rating", "net_sentiment"]


def make(path: Path = HERE / "brand_tracking.csv") -> Path:
    frame = make_tidy(HERE / "brand_tracking_scenario.toml", TRUTH, SERIES, n_periods=104, period="week",
                      population=1500, market_size=500_000, seed=2024, noise=0.08)
    start = dt.date(2024, 1, 1)
    frame["period"] = [(start + dt.timedelta(weeks=int(p))).isoformat() for p in frame["period"]]
    weeks = np.repeat(np.arange(104), 2)
    frame.loc[(weeks >= 30) & (weeks <= 33), "net_sentiment"] = np.nan
    for c in ("purchases", "reviews"):
        frame[c] = frame[c].round()
    frame["revenue"] = frame["revenue"].round(0)
    frame["rating"] = frame["rating"].round(3)
    frame["net_sentiment"] = frame["net_sentiment"].round(4)
    return write_tidy(frame, path)


if __name__ == "__main__":
    print(f"wrote {make()}")
