"""Money rules (sim.economics) and the P&L columns every front end reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim import economics as eco

SMALL = {"engine": "array", "population.size": 300, "steps": 60}


def test_adstock_of_a_constant_spend_is_the_spend_and_a_burst_fades_geometrically():
    assert np.allclose(eco.adstock(np.full(50, 8.0), 0.9), 8.0)
    burst = np.zeros(400)
    burst[10] = 100.0
    stock = eco.adstock(burst, 0.9)
    assert stock[:10].sum() == 0.0
    assert np.allclose(stock[11:20] / stock[10:19], 0.9)
    assert stock.sum() == pytest.approx(100.0, rel=1e-6)  # carry-over spreads the spend, keeps its total


@given(st.floats(0.0, 0.49), st.floats(0.05, 1.0), st.floats(1.0, 500.0))
def test_the_spend_that_buys_an_intensity_buys_it_back(intensity, top, half):
    intensity = min(intensity, 0.98 * top)
    spend = eco.ad_spend_for_intensity(intensity, top, half)
    assert eco.ad_response(spend, top, half) == pytest.approx(intensity, abs=1e-12)


def test_response_saturates_half_way_at_the_half_saturation_spend():
    p = sim.load("baseline").params
    top, half = p["economics.ad_max_intensity"], p["economics.ad_half_saturation"]
    assert eco.ad_response(half, top, half) == pytest.approx(top / 2)
    spends = np.array([10.0, 20.0, 40.0, 80.0, 160.0])
    gains = np.diff(eco.ad_response(spends, top, half)) / np.diff(spends)
    assert (np.diff(gains) < 0).all()  # each extra unit of spend buys less
    # The documented calibration: the default intensity 0.02 costs 8 a day.
    assert eco.ad_spend_for_intensity(0.02, top, half) == pytest.approx(8.0)


def test_clv_is_the_discounted_sum_of_expected_margins_and_npv_discounts_daily():
    m, rho, days, rate = 4.0, 0.7, 60.0, 0.1
    brute = sum(m * rho ** k * (1 + rate) ** (-k * days / 365) for k in range(2000))
    assert eco.clv(m, rho, days, rate) == pytest.approx(brute)
    assert eco.npv(np.ones(366), 0.0) == 366
    assert eco.npv(np.r_[np.zeros(365), 110.0], 0.10) == pytest.approx(100.0)


def test_capacity_share_is_budget_over_cost_of_reaching_everyone_capped_at_one():
    assert eco.capacity_share(5.0, 0.5, 20.0) == 0.5
    assert eco.capacity_share(50.0, 0.5, 20.0) == 1.0
    assert eco.capacity_share(0.0, 0.5, 20.0) == 0.0


def test_remarketing_is_stronger_the_shorter_the_delay():
    s = eco.remarketing_strength(np.array([0, 3, 7, 14]), 7.0)
    assert s[0] == 1.0 and s[2] == pytest.approx(0.5) and (np.diff(s) < 0).all()


def test_without_ad_spend_the_engine_runs_the_scenario_as_it_is():
    scenario = sim.resolve("quality_crisis")
    assert eco.engine_scenario(scenario) is scenario


def test_a_spend_plan_is_the_intensity_it_buys():
    """ad_spend at the spend that buys the default intensity gives the very same run."""
    p = sim.load("baseline").params
    spend = float(eco.ad_spend_for_intensity(0.02, p["economics.ad_max_intensity"],
                                             p["economics.ad_half_saturation"]))
    base = sim.run("baseline", overrides={**SMALL, "brands.ours.ad_intensity": 0.02})
    planned = sim.run("baseline", overrides={**SMALL, "brands.ours.ad_intensity": 0.3,
                                             "brands.ours.ad_spend": spend})
    pd.testing.assert_frame_equal(base.table, planned.table)
    assert planned.money()["spend_ads_ours"].iloc[1:].to_numpy() == pytest.approx(spend)


def test_an_ad_burst_builds_up_and_fades_through_carry_over():
    scenario = sim.resolve("baseline", overrides={
        **SMALL, "brands.ours.ad_spend": 8.0}).with_overrides({})
    doc = scenario.to_toml() + ("\n[[events]]\nday = 10\nbrand = \"ours\"\nlever = \"ad_spend\"\nvalue = 200.0\n"
                                "\n[[events]]\nday = 20\nbrand = \"ours\"\nlever = \"ad_spend\"\nvalue = 8.0\n")
    burst = sim.loads(doc, name="burst")
    events = [e for e in eco.engine_scenario(burst).params.events if e.lever == "ad_intensity"]
    days = [e.day for e in events]
    values = [e.value for e in events]
    assert days[0] == 10 and max(values) == values[days.index(19)]  # rises until the burst ends
    assert values[days.index(10)] < values[days.index(19)] and values[-1] < values[days.index(19)]
    assert values[-1] > 0.02  # still fading when the run ends, 40 days later
    money = sim.run(burst).money()
    assert money.loc[money["step"].between(10, 19), "spend_ads_ours"].eq(200.0).all()
    assert money.loc[money["step"] >= 20, "spend_ads_ours"].eq(8.0).all()


def test_a_what_if_on_ad_spend_shares_the_settled_market_and_its_stock_fades():
    """A day-0 change of ad_spend is a change after the burn-in: day 0 is the same market in both arms
    (the burn-in ran on the brand's own spend), and the intensity then fades through the carry-over
    instead of dropping at once."""
    base = sim.resolve("baseline", overrides={**SMALL, "brands.ours.ad_spend": 100.0})
    stopped = sim.what_if(base, {"brands.ours.ad_spend": 0.0})
    resolved = eco.engine_scenario(stopped)
    settled = float(eco.ad_response(100.0, base.params["economics.ad_max_intensity"],
                                    base.params["economics.ad_half_saturation"]))
    assert resolved.params.brand("ours")["ad_intensity"] == pytest.approx(settled)  # the burn-in's
    fading = [e.value for e in resolved.params.events if e.lever == "ad_intensity"]
    carry = base.params["economics.ad_carryover"]
    assert fading[0] == pytest.approx(float(eco.ad_response(100.0 * carry, base.params["economics.ad_max_intensity"],
                                                            base.params["economics.ad_half_saturation"])))
    assert all(a > b for a, b in zip(fading, fading[1:]))
    a, b = sim.run(base).table, sim.run(stopped).table
    pd.testing.assert_series_equal(a.iloc[0], b.iloc[0])  # day 0: the same settled market
    assert not a.equals(b)


def test_profit_adds_up_day_by_day_with_the_levers_in_force():
    text = sim.resolve("baseline", overrides={**SMALL, "brands.ours.review_prompting": 0.3,
                                              "brands.ours.service_recovery": 0.5}).to_toml()
    text += "\n[[events]]\nday = 30\nbrand = \"ours\"\nlever = \"unit_cost\"\nvalue = 8.0\n"
    result = sim.run(sim.loads(text, name="cost_rise"))
    m = result.money()
    assert (m.loc[0, [c for c in m.columns if c.startswith(("spend_", "profit_", "gross_"))]] == 0).all()
    for brand in ("ours", "theirs"):
        cost = np.where(m["step"] >= 30, 8.0, 6.0) if brand == "ours" else 6.0
        gross = m[f"revenue_{brand}"] - m[f"purchases_{brand}"] * cost
        assert np.allclose(m[f"gross_margin_{brand}"], gross)
        parts = (m[f"gross_margin_{brand}"] - m[f"acquisition_cost_{brand}"] - m[f"retention_cost_{brand}"]
                 - m[f"spend_ads_{brand}"] - m[f"spend_prompts_{brand}"] - m[f"spend_service_{brand}"])
        assert np.allclose(m[f"profit_{brand}"], parts)
    assert np.allclose(m["spend_service_ours"], 2.0 * m["complaints_ours"])  # every complaint is handled
    # prompts: only the brand that prompts pays, never for more customers than it had
    assert m["spend_prompts_theirs"].sum() == 0 and m["spend_prompts_ours"].sum() > 0
    assert np.allclose(m["spend_prompts_ours"], 0.1 * m["prompts_ours"])  # the requests the engine sent
    assert list(result.money().columns[:len(result.table.columns)]) == list(result.table.columns)


def test_a_healthy_brand_is_profitable_with_clv_a_few_times_its_acquisition_cost():
    """The P&L the defaults tell (acquisition 8, retention 1.6: 5x, seed 003)."""
    summary = sim.run("baseline", overrides={"engine": "array"}).summary()
    ours = summary["brands"]["ours"]
    assert ours["profit"] > 0 and ours["npv"] > 0
    assert 2.0 <= ours["clv_to_acquisition_cost"] <= 5.0
    assert 0.02 <= ours["spend_ads"] / ours["revenue"] <= 0.10  # a typical advertising-to-sales ratio
    assert summary["currency"] == "units"
