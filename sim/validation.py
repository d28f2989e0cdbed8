"""Checks against known results: the journey model in its Bass (1969) limit.

In the Bass limit the journey model reduces to the Bass diffusion model: a
non-adopter adopts at the rate p + q F(t) a year, where F is the adopted
fraction. ``docs/validation.md`` derives the mapping below.

- A new category (``market.new_category``): consumers who never bought have no
  purchase cycle, so they start a journey only when an ad or a story reaches them.
- Innovation p: ads reach everyone at the daily rate p / 365 (attention 1 for
  all: no 18-24 segment, every channel of reach 1) and every ad seen starts a
  journey (``journey.ad_trigger = 1``).
- Imitation q: adopters stay in the loyalty loop of a one-day purchase cycle,
  so each goes round it every ``LOOP_DAYS`` days, always satisfied, and shares
  every experience with a Poisson number of random consumers (fully mixed
  network) of mean q x LOOP_DAYS / 365; a story always starts a journey.
  Non-adopters then hear stories at the daily rate q F / 365.
- Nobody walks away at the shelf, and research and use take one day each.

What remains of the journey is time: every stage lasts at least a day, so an
ad seen on day t makes an adopter on day t + 3 (stimulus, ZMOT, FMOT), and an
adopter's story, told two days after the purchase and heard the next day, makes
the next adopter six days later than in Bass's continuous time.
:func:`bass_with_daily_stages` is the Bass process with exactly these delays;
its gap to the closed form is what the daily journey explains (under 0.01 for
p = 0.1, q = 1.2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .api import run
from .scenario import Scenario, load

DAYS_PER_YEAR = 365.0
# An adopter's loop with a one-day cycle: dormant (1) -> stimulus -> FMOT (loyal rebuy) -> SMOT -> UMOT.
LOOP_DAYS = 5
TRIGGER_TO_PURCHASE_DAYS = 3  # stimulus, ZMOT, FMOT
FIRST_STORY_DAYS = 2  # a new adopter tells its first story two days after buying (SMOT, UMOT)


def bass_closed_form(t_years, p: float, q: float):
    """Adopted fraction F(t) of the Bass (1969) model: (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t)."""
    decay = np.exp(-(p + q) * np.asarray(t_years, dtype=float))
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def bass_with_daily_stages(p: float, q: float, days: int, population: int) -> np.ndarray:
    """Adopted fraction, day by day, of the mean-field Bass process with the journey's one-day stages.

    The same hazards as Bass (ads at p, stories at q F, a year), but on whole
    days and with the journey's delays: an adopter buys three days after its
    trigger, tells its first story two days after buying and then once a loop,
    and a story is heard the day after it is told. Its gap to the closed form
    is what the daily journey itself adds; the simulation follows it within
    sampling noise.
    """
    audience = q * LOOP_DAYS / DAYS_PER_YEAR / population  # stories heard per story told, per consumer
    no_ad = np.exp(-p / DAYS_PER_YEAR)
    adopted = np.zeros(days + 1)
    buying = np.zeros(days + 1)  # first purchases on day d
    stories = np.zeros(days + 1)  # stories told on day d
    triggered = np.zeros(days + 1)
    waiting = float(population)  # non-adopters not yet on a journey
    for d in range(1, days + 1):
        stories[d] = (buying[d - FIRST_STORY_DAYS] if d >= FIRST_STORY_DAYS else 0.0) + (
            stories[d - LOOP_DAYS] if d >= LOOP_DAYS else 0.0)
        no_story = np.exp(-stories[d - 1] * audience)  # Poisson audiences; heard the day after
        triggered[d] = waiting * (1.0 - no_ad * no_story)
        waiting -= triggered[d]
        buying[d] = triggered[d - TRIGGER_TO_PURCHASE_DAYS] if d >= TRIGGER_TO_PURCHASE_DAYS else 0.0
        adopted[d] = adopted[d - 1] + buying[d]
    return adopted / population


def bass_overrides(p: float, q: float, population: int, years: float, seed: int) -> dict:
    """The parameters that put the journey model in its Bass limit with coefficients p and q."""
    return {
        "steps": int(round(years * DAYS_PER_YEAR)),
        "seed": seed,
        "population.size": population,
        "market.brands": ["product"],
        "market.new_category": True,
        "population.young_share": 0.0,
        "channels.press_mail.reach": 1.0,
        "channels.computer.reach": 1.0,
        "channels.in_person.reach": 1.0,
        "brands.product.ad_intensity": p / DAYS_PER_YEAR,
        "brands.product.initial_awareness": 0.0,
        "brands.product.quality": 1.0,
        "brands.product.quality_spread": 0.0,
        "brands.product.failure_rate": 0.0,
        "awareness.memory_days": 0.0,  # never forgotten
        "journey.rate_heterogeneity": 0.0,  # every adopter on the same loop
        "sharing.heavy_share": 0.0,  # everyone tells every experience
        "sharing.extremity": 0.0,
        "journey.ad_trigger": 1.0,
        "journey.purchase_cycle_days": 1.0,
        "journey.research_days": 1.0,
        "journey.experience_days": 1.0,
        "journey.loyal_skip_research": 1.0,
        "journey.discovery": 1.0,
        "choice.walk_away_utility": -50.0,
        "network.kind": "complete",
        "network.mean_degree": q * LOOP_DAYS / DAYS_PER_YEAR,
        "sharing.base_propensity": 1.0,
        "sharing.negative_multiplier": 1.0,  # everyone is satisfied: the multiplier plays no part
        "sharing.public_fraction": 0.0,
        "wom.reach": 1.0,
        "wom.trigger": 1.0,
    }


def bass_scenario(p: float, q: float, population: int = 2000, years: float = 15.0,
                  seed: int = 42) -> Scenario:
    return load("bass", bass_overrides(p, q, population, years, seed))


def bass_table(p: float, q: float, population: int = 2000, years: float = 15.0, seed: int = 42,
               progress: bool | None = False) -> pd.DataFrame:
    """One row a day: t_years; the simulated and closed_form adopted fraction; and daily_stages, the
    Bass process on whole days with the journey's delays (:func:`bass_with_daily_stages`)."""
    result = run(bass_scenario(p, q, population, years, seed), progress=progress)
    steps = result.table["step"].to_numpy()
    t = steps / DAYS_PER_YEAR
    return pd.DataFrame({"t_years": t,
                         "simulated": result.table["adopters"].to_numpy() / population,
                         "closed_form": bass_closed_form(t, p, q),
                         "daily_stages": bass_with_daily_stages(p, q, int(steps[-1]), population)})
