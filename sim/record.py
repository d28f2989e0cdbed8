"""The recorded table: one row a day, with the column names every part shares.

The contract (``../shared/MODEL.md``): ``step``; stage counts; the day's
totals; per-brand columns suffixed with the brand's name. Extra columns add
what strategists ask for (acquisitions, retentions and their costs, the
public review count, walk-aways, service recoveries).
"""

from __future__ import annotations

import numpy as np

from . import rules
from .params import STAGES

STAGE_COLUMNS = [f"stage_{s}" for s in STAGES]
TOTAL_COLUMNS = ["purchases", "experiences_satisfied", "experiences_dissatisfied",
                 "shares_positive", "shares_negative", "adopters", "walk_aways"]
BRAND_COLUMNS = ["sentiment", "rating", "aware", "purchases", "market_share", "shares_positive",
                 "shares_negative", "revenue", "acquisitions", "retentions", "acquisition_cost",
                 "retention_cost", "reviews", "recoveries", "attitude", "complaints", "prompts",
                 "stars_1", "stars_2", "stars_3", "stars_4", "stars_5", "remarketing"]


def columns(brands: list[str]) -> list[str]:
    """Every recorded column, in table order."""
    return (["step"] + STAGE_COLUMNS + TOTAL_COLUMNS
            + [f"{c}_{b}" for c in BRAND_COLUMNS for b in brands])


class DayCounts:
    """What happened today, counted as it happens (per-brand lists indexed by brand)."""

    def __init__(self, n_brands: int):
        self.purchases = [0] * n_brands
        self.revenue = [0.0] * n_brands
        self.acquisitions = [0] * n_brands
        self.retentions = [0] * n_brands
        self.shares_positive = [0] * n_brands
        self.shares_negative = [0] * n_brands
        self.complaints = [0] * n_brands
        self.prompts = [0] * n_brands  # review requests sent (to customers who did not share on their own)
        self.recoveries = [0] * n_brands
        self.remarketing = [0] * n_brands  # remarketing contacts (ads to those who walked away)
        self.experience_stars = [0] * 6  # today's experiences by stars (index 1-5), every brand
        self.satisfied = 0
        self.dissatisfied = 0
        self.walk_aways = 0

    def count_experience(self, satisfied: bool, stars: int) -> None:
        if satisfied:
            self.satisfied += 1
        else:
            self.dissatisfied += 1
        self.experience_stars[stars] += 1


class Recorder:
    """Turns the population's state, the day's counts and the market's recent memory into one row.

    It reads the model through ``stage_counts()``, ``aware_attitude()``, ``size``, the review pool and
    the market's rolling windows (``recent_sales``, ``recent_talk``, and their sums ``sales_total``,
    ``talk_total``), so that either engine keeps those figures in its own way (the array engine as running counts and sums).
    """

    def __init__(self, brands: list[str]):
        self.brands = brands
        # Each brand's column names, made once (a day's row is built many thousand times in a sweep).
        self.names = [{c: f"{c}_{name}" for c in BRAND_COLUMNS} for name in brands]

    def row(self, model) -> dict:
        brands, day = self.brands, model.day
        stages = model.stage_counts()
        row = {"step": model.steps}
        row.update({col: int(n) for col, n in zip(STAGE_COLUMNS, stages.tolist())})
        row.update(purchases=sum(day.purchases), experiences_satisfied=day.satisfied,
                   experiences_dissatisfied=day.dissatisfied,
                   shares_positive=sum(day.shares_positive), shares_negative=sum(day.shares_negative),
                   adopters=model.adopters, walk_aways=day.walk_aways)
        aware_count, attitude_sum = model.aware_attitude()
        # Attitude: the mean hidden attitude of those aware of the brand (0, neutral, when nobody is).
        attitude = np.divide(attitude_sum, aware_count, out=np.zeros(len(brands)), where=aware_count > 0).tolist()
        # Net sentiment: what was said about the brand over the last 28 days, as social listening reports.
        talk = model.talk_total
        sentiment = rules.net_sentiment(talk[0], talk[1]).tolist()
        bought = model.sales_total
        total = int(bought.sum())
        share = (bought / total if total else np.zeros(len(brands))).tolist()
        posted = (model.reviews.counts - model.reviews_before).tolist()
        displayed = model.reviews.displayed()
        aware_count = aware_count.tolist()
        size = model.size
        for b, names in enumerate(self.names):
            levers = model.levers[b]
            count, rating = displayed[b]
            row[names["sentiment"]] = sentiment[b]
            row[names["rating"]] = rating
            row[names["aware"]] = aware_count[b] / size if size else 0.0
            row[names["purchases"]] = day.purchases[b]
            row[names["market_share"]] = share[b]
            row[names["shares_positive"]] = day.shares_positive[b]
            row[names["shares_negative"]] = day.shares_negative[b]
            row[names["revenue"]] = float(day.revenue[b])
            row[names["acquisitions"]] = day.acquisitions[b]
            row[names["retentions"]] = day.retentions[b]
            row[names["acquisition_cost"]] = float(day.acquisitions[b] * levers["acquisition_cost"])
            row[names["retention_cost"]] = float(day.retentions[b] * levers["retention_cost"])
            row[names["reviews"]] = count
            row[names["recoveries"]] = day.recoveries[b]
            row[names["attitude"]] = attitude[b]
            row[names["complaints"]] = day.complaints[b]
            row[names["prompts"]] = day.prompts[b]
            for stars in range(1, 6):
                row[names[f"stars_{stars}"]] = posted[b][stars]
            row[names["remarketing"]] = day.remarketing[b]
        return row
