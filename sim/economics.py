"""Money rules: margin, advertising response, programme costs, profit, CLV and NPV.

Pure functions on scalars or NumPy arrays, each written once; :func:`pnl` puts
them together on a recorded table, and the CLI, ``compare``, the optimiser and
the report all read profit through it. Nothing here reaches into an engine:
what the engines need (a per-day ad-intensity schedule from a spend plan) is
computed before the run, from the scenario alone.

Sources of the defaults are in :mod:`sim.params` (the economics block) and
``docs/decisions.md``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pandas as pd

from . import rules
from .params import Event

DAYS_A_YEAR = 365.0
LEVER_SPEND = ("ads", "prompts", "service", "remarketing")  # the spending levers, in the order columns and plans use
PNL_MEASURES = ("spend_ads", "spend_prompts", "spend_service", "gross_margin", "profit")


# --- margin ---------------------------------------------------------------------

def margin(price, unit_cost):
    """Gross margin on one purchase: what is left of the price after the cost of goods."""
    return price - unit_cost


# --- advertising: spend -> ad stock -> intensity ----------------------------------

def adstock(spend, carryover: float, before: float | None = None):
    """Ad stock a day (Broadbent's adstock), in spend-a-day units: ``(1 - c) * sum_k c^k * spend[t-k]``.

    The stock starts in the steady state of the spend a day ``before`` the run (the brand advertised
    before it; by default day 0's spend), so a constant spend gives a constant stock equal to it; a
    burst builds up and fades with ``carryover``, and so does a change on day 0.
    """
    spend = np.asarray(spend, dtype=float)
    stock = np.empty_like(spend)
    level = float(before) if before is not None else spend[0] if len(spend) else 0.0
    for t, s in enumerate(spend):
        level = carryover * level + (1.0 - carryover) * s
        stock[t] = level
    return stock


def ad_response(stock, max_intensity: float, half_saturation: float):
    """Ad intensity bought by an ad stock: saturating (Michaelis-Menten), half the maximum at ``half_saturation``."""
    stock = np.maximum(np.asarray(stock, dtype=float), 0.0)
    return max_intensity * stock / (stock + half_saturation)


def ad_spend_for_intensity(intensity, max_intensity: float, half_saturation: float):
    """The steady spend a day that buys ``intensity`` (the response's inverse).

    An intensity at or above the maximum cannot be bought; it is priced as 99 % of the maximum.
    """
    intensity = np.minimum(np.maximum(np.asarray(intensity, dtype=float), 0.0), 0.99 * max_intensity)
    return half_saturation * intensity / (max_intensity - intensity)


def ad_intensity_schedule(spend, carryover: float, max_intensity: float, half_saturation: float,
                          before: float | None = None):
    """Per day, the ad intensity a spend plan buys: the response to the ad stock (``before``: :func:`adstock`)."""
    return ad_response(adstock(spend, carryover, before), max_intensity, half_saturation)


# --- programmes: review prompts and customer service ---------------------------------

def prompt_spend(prompts_sent, prompt_cost):
    """Cost of a review-prompt programme: every request sent is paid for, answered or not."""
    return np.asarray(prompts_sent, dtype=float) * prompt_cost


def prompts_sent_estimate(customers, shares, review_prompting):
    """Review requests sent, from the recorded table, until the engines count them.

    A request goes to each customer at UMOT who did not share spontaneously, while the programme runs
    (``review_prompting > 0``). Of ``customers`` finishing their journey, ``S`` share on their own and
    ``N`` do not; ``shares = S + r N`` (r the response), so ``N = (customers - shares) / (1 - r)``.
    A day's purchases stand in for the customers reaching UMOT (the same count, a week later).
    """
    customers = np.asarray(customers, dtype=float)
    shares = np.asarray(shares, dtype=float)
    r = np.minimum(np.asarray(review_prompting, dtype=float), 0.99)
    silent = np.clip((customers - shares) / (1.0 - r), 0.0, customers)
    return np.where(r > 0, silent, 0.0)


def service_spend(handled, service_cost):
    """Cost of customer service: each complaint handled is paid for."""
    return np.asarray(handled, dtype=float) * service_cost


def capacity_share(budget_per_day, unit_cost, eligible_per_day):
    """Share of those eligible a programme reaches when a budget buys ``budget / unit_cost`` contacts a day."""
    if unit_cost <= 0 or eligible_per_day <= 0:
        return 1.0 if budget_per_day > 0 or unit_cost <= 0 else 0.0
    return float(min(1.0, budget_per_day / unit_cost / eligible_per_day))


# --- remarketing (seed 004): the journey rule is in sim.rules; its spend is below -------------

remarketing_strength = rules.remarketing_strength
remarketing_trigger = rules.remarketing_trigger


# --- profit, returns, lifetime value, present value ------------------------------------

def profit(gross_margin, acquisition_cost, retention_cost, spend_ads, spend_prompts, spend_service,
           spend_remarketing=0.0):
    """A day's profit: gross margin less the costs of winning and keeping customers and of each lever."""
    return (gross_margin - acquisition_cost - retention_cost - spend_ads - spend_prompts - spend_service
            - spend_remarketing)


def return_on_spend(extra_profit, extra_spend):
    """Profit returned per unit of extra spend (after the spend itself); NaN when nothing extra was spent."""
    return extra_profit / extra_spend if extra_spend else float("nan")


def daily_discount(discount_rate: float, days):
    """Discount factors for day counts at a yearly rate (compounded daily)."""
    return (1.0 + discount_rate) ** (-np.asarray(days, dtype=float) / DAYS_A_YEAR)


def npv(cash_by_day, discount_rate: float, days=None):
    """Net present value of a cash flow by day (day 0 undiscounted) at a yearly discount rate."""
    cash = np.asarray(cash_by_day, dtype=float)
    days = np.arange(len(cash)) if days is None else days
    return float(np.sum(cash * daily_discount(discount_rate, days)))


def clv(margin_per_purchase, retention_rate, days_between_purchases, discount_rate: float):
    """Customer lifetime value: margin times the expected purchases of a won customer, discounted.

    A won customer buys once, and again with chance ``retention_rate`` each time the need comes round
    (every ``days_between_purchases``): ``m * sum_k (rho * delta)^k = m / (1 - rho * delta)``.
    """
    delta = float(daily_discount(discount_rate, days_between_purchases))
    return margin_per_purchase / (1.0 - min(retention_rate, 0.999) * delta)


# --- the levers in force each day --------------------------------------------------------

def levers_by_day(params, days: int) -> dict[str, pd.DataFrame]:
    """Per brand, the levers in force on days 0..days (events applied on their day, as the engines do)."""
    out = {}
    for brand in params.brand_names:
        base = dict(params.brand(brand))
        frame = pd.DataFrame([base] * (days + 1))
        for event in params.events:
            if event.brand == brand and event.day <= days:
                frame.loc[event.day:, event.lever] = event.value
        out[brand] = frame
    return out


def ad_plan(params, brand: str, levers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spend a day, intensity a day, whether spend was set) of a brand's ads over the run.

    On a day with ``ad_spend`` set, the spend is the plan and the intensity is what its ad stock buys;
    on other days the intensity is the lever and the spend is what buys it. The stock starts from the
    brand's own levers (those of the burn-in, before any event: :func:`before_run`), so a change on
    day 0 builds up or fades from the market's settled state, as any later change does.
    """
    top, half, carry = (params["economics.ad_max_intensity"], params["economics.ad_half_saturation"],
                        params["economics.ad_carryover"])
    planned = levers["ad_spend"].to_numpy(dtype=float) >= 0
    stated = levers["ad_intensity"].to_numpy(dtype=float)
    spend = np.where(planned, levers["ad_spend"].to_numpy(dtype=float),
                     ad_spend_for_intensity(stated, top, half))
    before, _ = before_run(params, brand)
    intensity = np.where(planned, ad_intensity_schedule(spend, carry, top, half, before), stated)
    return spend, intensity, planned


def before_run(params, brand: str) -> tuple[float, float]:
    """(spend a day, ad intensity) of a brand's ads before day 0 (the burn-in): its own levers, no event."""
    top, half = params["economics.ad_max_intensity"], params["economics.ad_half_saturation"]
    own = params.brand(brand)
    if own["ad_spend"] >= 0:
        return float(own["ad_spend"]), float(ad_response(own["ad_spend"], top, half))
    return float(ad_spend_for_intensity(own["ad_intensity"], top, half)), float(own["ad_intensity"])


def engine_scenario(scenario):
    """The scenario an engine runs: where ``ad_spend`` is set, its ad-intensity schedule as events.

    Unchanged (the same object) when no brand plans its ads by spend, so existing scenarios run as
    before. Days whose intensity moves by less than 0.1 % get no event. The burn-in runs on the
    brand's own levers (:func:`before_run`); a day-0 change (a what-if's) is a day-0 event, applied
    after the burn-in like every other lever's, so both arms of a comparison share the settled market.
    """
    params = scenario.params
    steps = params["steps"]
    uses_spend = any(params.brand(b)["ad_spend"] >= 0 for b in params.brand_names) or any(
        e.lever == "ad_spend" and e.value >= 0 for e in params.events)
    if not uses_spend:
        return scenario
    levels = levers_by_day(params, steps)
    resolved = copy.deepcopy(scenario)
    new_events = []
    for brand in params.brand_names:
        _, intensity, planned = ad_plan(params, brand, levels[brand])
        if not planned.any():
            continue
        _, settled = before_run(params, brand)
        resolved.params.brands[brand]["ad_intensity"] = settled  # the burn-in's
        if abs(intensity[0] - settled) > 1e-3 * max(abs(settled), 1e-9):
            new_events.append(Event(0, brand, "ad_intensity", float(intensity[0])))
        last = intensity[0]
        for day in range(1, steps + 1):
            if planned[day] and abs(intensity[day] - last) > 1e-3 * max(abs(last), 1e-9):
                new_events.append(Event(day, brand, "ad_intensity", float(intensity[day])))
                last = intensity[day]
            elif not planned[day]:
                last = intensity[day]
    # Stable sort: on a day, a spend-derived intensity comes after (and overrides) a stated one.
    resolved.params.events = sorted(list(resolved.params.events) + new_events, key=lambda e: e.day)
    return resolved


# --- the P&L of a run ----------------------------------------------------------------------

def pnl(table: pd.DataFrame, scenario) -> pd.DataFrame:
    """The recorded table with, per brand and day, ``spend_ads``, ``spend_prompts``, ``spend_service``,
    ``spend_remarketing``, ``gross_margin`` and ``profit`` (suffixed ``_<brand>``).

    Day 0 is the initial state: nothing is bought or spent on it. Prompts sent come from the engines'
    ``prompts_<brand>`` column when it is recorded, else :func:`prompts_sent_estimate`; complaints
    handled from ``complaints_<brand>`` when recorded (Model v2), else from ``recoveries_<brand>``.
    """
    params = scenario.params
    days = int(table["step"].iloc[-1])
    steps = table["step"].to_numpy(dtype=int)
    levels = levers_by_day(params, max(days, int(params["steps"])))
    active = (steps > 0).astype(float)
    out = table.copy()
    new = {}
    for brand in params.brand_names:
        lv = levels[brand].iloc[steps].reset_index(drop=True)
        spend_ads, _, _ = ad_plan(params, brand, levels[brand])
        ads = spend_ads[steps] * active
        purchases = table[f"purchases_{brand}"].to_numpy(dtype=float)
        if f"prompts_{brand}" in table:
            sent = table[f"prompts_{brand}"].to_numpy(dtype=float)
        else:
            shares = (table[f"shares_positive_{brand}"] + table[f"shares_negative_{brand}"]).to_numpy(dtype=float)
            sent = prompts_sent_estimate(purchases, shares, lv["review_prompting"].to_numpy(dtype=float))
        prompts = prompt_spend(sent, lv["prompt_cost"].to_numpy(dtype=float)) * active
        handled_column = f"complaints_{brand}" if f"complaints_{brand}" in table else f"recoveries_{brand}"
        service = service_spend(table[handled_column].to_numpy(dtype=float),
                                lv["service_cost"].to_numpy(dtype=float)) * active
        gross = (table[f"revenue_{brand}"].to_numpy(dtype=float)
                 - purchases * lv["unit_cost"].to_numpy(dtype=float))
        new[f"spend_ads_{brand}"] = ads
        new[f"spend_prompts_{brand}"] = prompts
        new[f"spend_service_{brand}"] = service
        contacts = (table[f"remarketing_{brand}"].to_numpy(dtype=float) if f"remarketing_{brand}" in table
                    else np.zeros(len(table)))
        remarketing = contacts * lv["remarketing_cost"].to_numpy(dtype=float) * active
        new[f"spend_remarketing_{brand}"] = remarketing
        new[f"gross_margin_{brand}"] = gross
        new[f"profit_{brand}"] = profit(gross, table[f"acquisition_cost_{brand}"].to_numpy(dtype=float),
                                        table[f"retention_cost_{brand}"].to_numpy(dtype=float),
                                        ads, prompts, service, remarketing)
    return pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)


def summary(table: pd.DataFrame, scenario) -> dict[str, dict[str, Any]]:
    """Per brand: profit and its parts over the run, NPV, CLV against the cost of winning a customer."""
    params = scenario.params
    money = table if f"profit_{params.brand_names[0]}" in table else pnl(table, scenario)
    days = money.iloc[1:]
    rate = params["economics.discount_rate"]
    population = sum(float(money[c].iloc[-1]) for c in money.columns if c.startswith("stage_"))
    category = float(days["purchases"].sum())
    between = (population * len(days) / category) if category else float("inf")
    out = {}
    for brand in params.brand_names:
        base = params.brand(brand)
        won, kept = float(days[f"acquisitions_{brand}"].sum()), float(days[f"retentions_{brand}"].sum())
        rho = kept / (won + kept) if won + kept else 0.0
        value = clv(margin(base["price"], base["unit_cost"]), rho, between, rate)
        spend = {lever: float(days[f"spend_{lever}_{brand}"].sum()) for lever in LEVER_SPEND}
        out[brand] = {
            "gross_margin": round(float(days[f"gross_margin_{brand}"].sum()), 2),
            **{f"spend_{lever}": round(v, 2) for lever, v in spend.items()},
            "profit": round(float(days[f"profit_{brand}"].sum()), 2),
            "npv": round(npv(money[f"profit_{brand}"], rate, money["step"]), 2),
            "clv": round(value, 2),
            "clv_to_acquisition_cost": round(value / base["acquisition_cost"], 2)
            if base["acquisition_cost"] else None,
        }
    return out


def currency(params) -> str:
    """The scenario's currency name, or 'units'."""
    return params["economics.currency"] or "units"
