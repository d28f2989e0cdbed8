"""Remarketing (source document 004): ads to those who researched a brand and walked away, a chosen
delay later; the shorter the delay, the stronger. One rule (sim.rules), both engines, and its spend."""

import numpy as np
import pytest

import sim
from sim import economics, rules
from sim.agents import Stage


def test_the_shorter_the_delay_the_likelier_a_contact_restarts_the_journey():
    chance = rules.remarketing_trigger(0.2, np.array([1, 4, 8, 15]), 7.0)
    assert chance[0] == pytest.approx(0.2)  # the day after the walk-away: the full effect
    assert chance[2] == pytest.approx(0.1)  # a half-life later: half
    assert (np.diff(chance) < 0).all()


def _settled(engine: str, seed: int = 3):
    scenario = sim.load("baseline", {"engine": engine, "population.size": 1500, "steps": 60,
                                     "market.burn_in_days": 40, "seed": seed})
    model = sim.build(scenario)
    for _ in range(5):
        model.step()
    return model


@pytest.mark.parametrize("engine", ["agent", "array"])
def test_remarketing_reaches_exactly_the_aware_dormant_walkers_of_that_day(engine):
    model = _settled(engine)
    ours = model.brand_names.index("ours")
    delay = 2
    model.levers[ours].update(remarketing_reach=1.0, remarketing_delay=delay)
    walkers = model.walked[-delay]
    assert len(walkers) > 0, "no walk-aways to remarket to: the test needs a busier market"
    aware = model.aware[walkers, ours]
    dormant = model._dormant(walkers)
    before = model.attitude[walkers, ours].copy()
    model.day.remarketing[ours] = 0
    started = model._remarket()
    eligible = walkers[aware & dormant]
    assert model.day.remarketing[ours] == len(eligible)
    # Each contact is an ad seen today: the promise is in mind, the attitude moved toward +1.
    assert (model.last_ad[eligible, ours] == model.day_number).all()
    assert (model.attitude[eligible, ours] >= before[aware & dormant]).all()
    assert set(started.tolist()) <= set(eligible.tolist())
    # The other walkers were not touched.
    others = walkers[~(aware & dormant)]
    assert (model.attitude[others, ours] == before[~(aware & dormant)]).all()


@pytest.mark.parametrize("engine", ["agent", "array"])
def test_remarketing_is_recorded_and_costs_its_contacts(engine):
    scenario = sim.load("baseline", {"engine": engine, "population.size": 1500, "steps": 40,
                                     "market.burn_in_days": 30, "brands.ours.remarketing_reach": 0.5,
                                     "brands.ours.remarketing_cost": 0.2})
    table = sim.run(scenario).table
    assert table["remarketing_ours"].sum() > 0 and table["remarketing_theirs"].sum() == 0
    money = economics.pnl(table, scenario)
    assert money["spend_remarketing_ours"].sum() == pytest.approx(0.2 * table["remarketing_ours"].iloc[1:].sum())
    without = money["profit_ours"] + money["spend_remarketing_ours"]
    parts = (money["gross_margin_ours"] - money["acquisition_cost_ours"] - money["retention_cost_ours"]
             - money["spend_ads_ours"] - money["spend_prompts_ours"] - money["spend_service_ours"])
    assert np.allclose(without, parts)


def test_off_by_default_with_no_contacts_and_no_spend():
    table = sim.run(sim.load("baseline", {"engine": "array", "population.size": 1000, "steps": 30,
                                          "market.burn_in_days": 20})).table
    assert table.filter(like="remarketing_").to_numpy().sum() == 0


def test_remarketing_wins_back_walkers_over_paired_seeds():
    """Reach everyone who walked away, the next day, with a sure trigger, in a market where many walk away:
    the brand sells more, by more than three standard errors of the paired difference over 12 seeds (the
    runs part ways at the first contact, so the difference is noisy: about 7 standard errors here)."""
    gains = []
    for seed in range(12):
        base = sim.load("baseline", {"engine": "array", "population.size": 5000, "steps": 120,
                                     "market.burn_in_days": 60, "seed": seed, "remarketing.trigger": 1.0,
                                     "choice.walk_away_utility": 0.0})
        on = sim.what_if(base, {"brands.ours.remarketing_reach": 1.0})
        gains.append(sim.run(on).table["purchases_ours"].sum() - sim.run(base).table["purchases_ours"].sum())
    gains = np.array(gains, dtype=float)
    assert gains.mean() > 3 * gains.std(ddof=1) / np.sqrt(len(gains))
