"""Return on each lever's spend: the same market with the lever off, on N paired seeds.

A lever's return needs a counterfactual: what the brand would have earned without it. For each brand
and each lever the scenario spends money on (ads, review prompts, service, remarketing:
``sim.economics.LEVER_SPEND``), the scenario runs again with that lever off from day 1, the first day
counted, in the same settled market (the burn-in and day 0 are the scenario's own) and on the same
seeds (common random numbers: replicate i of every arm runs on one seed). Per replicate:

- spend: what the lever cost over the run (the scenario's spend minus the counterfactual's, which is 0);
- incremental margin: the brand's gross margin minus the counterfactual's;
- return: (incremental margin - spend) / spend (-1: the spend brought nothing back; 0: it paid for itself);
- incremental profit: the brand's profit minus the counterfactual's (after every cost the lever moves:
  customers won and kept, the other levers' spend).

Each is reported as its mean over the replicates with a paired 95 % t-interval. A lever with no spend
gets no return (``None``, with a note). Cost: N x (1 + the levers with spend) runs.

    import sim
    returns = sim.returns("baseline", replicates=8, overrides={"engine": "array"})
    returns.table()            # one row per brand and lever
    print(returns.text())
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import api, economics, provenance
from ..params import Event, ScenarioError
from ..scenario import Scenario
from ..sweep.spec import MAX_RUNS  # as sweeps: more runs than this are refused before any is made
from .compare import BASE_ARM, DAILY, _Tasks, executor_for, replicate_seeds, run_arms
from .stats import LEVEL, mean_interval, paired_interval

# How each lever is switched off (brand lever -> value, from day 1), and the levers whose later events
# the counterfactual drops (so that a campaign planned for day 60 does not switch it on again).
OFF: dict[str, dict[str, float]] = {
    "ads": {"ad_spend": 0.0},                                     # no spend: the ad stock fades (carry-over)
    "prompts": {"review_prompting": 0.0},                         # no review requests sent
    "service": {"service_recovery": 0.0, "service_cost": 0.0},    # no complaint handled, none paid for
    "remarketing": {"remarketing_reach": 0.0},                    # no one remarketed to
}
DROPPED: dict[str, tuple[str, ...]] = {
    "ads": ("ad_spend", "ad_intensity"), "prompts": ("review_prompting", "prompt_cost"),
    "service": ("service_recovery", "service_cost"),
    "remarketing": ("remarketing_reach", "remarketing_delay", "remarketing_cost")}
OFF_DAY = 1

NOT_SPENT = "no spend on this lever (none planned, or nothing to spend it on in these runs): no return"


def lever_off(base: Scenario, brand: str, lever: str) -> Scenario:
    """``base`` with ``brand``'s ``lever`` off from day 1 and its later events on that lever dropped.

    As :func:`sim.api.what_if`, the lever changes by an event after the burn-in, so both runs share the
    market up to day 0. The event is on day 1, the first counted day: the ad stock holds what was spent up
    to day 0 (the scenario's own spend) and fades from there with its carry-over, as it would in a real
    market. (For the other levers a day-0 event gives the same run: the engines apply both before day 1.)
    """
    changed = copy.deepcopy(base)
    keys = DROPPED[lever]
    kept = [e for e in base.params.events if not (e.brand == brand and e.lever in keys and e.day >= OFF_DAY)]
    off = [Event(OFF_DAY, brand, key, value) for key, value in OFF[lever].items()]
    changed.params.events = sorted(kept + off, key=lambda e: e.day)  # stable: on day 1, after the others
    return changed


def spends(scenario: Scenario, brand: str) -> dict[str, bool]:
    """Per lever, whether the scenario plans to spend on it (from its levers day by day, before any run).

    Ads: a spend above 0 on some day; prompts: prompting with a cost per request; service: a cost per
    complaint and complaints possible; remarketing: a reach with a cost per contact. (A planned lever
    may still spend nothing in a run, e.g. with no complaint: it then gets no return either.)
    """
    p = scenario.params
    steps = p["steps"]
    by_day = economics.levers_by_day(p, steps)[brand]
    levers = by_day.iloc[OFF_DAY:steps + 1]
    ad_spend, _, _ = economics.ad_plan(p, brand, by_day)
    return {
        "ads": bool((ad_spend[OFF_DAY:] > 0).any()),
        "prompts": bool(((levers["review_prompting"] > 0) & (levers["prompt_cost"] > 0)).any()),
        "service": bool((levers["service_cost"] > 0).any() and p["service.complaint_rate"] > 0),
        "remarketing": bool(((levers["remarketing_reach"] > 0) & (levers["remarketing_cost"] > 0)).any()),
    }


def arm_name(brand: str, lever: str) -> str:
    return f"{brand}: {lever} off"


@dataclass
class Returns:
    """Per brand and lever with spend: the counterfactual's paired runs, and what they give."""
    scenario: Scenario
    seed: int
    seeds: list[int]
    planned: dict[str, dict[str, bool]]     # brand -> lever -> whether a counterfactual was run
    totals: pd.DataFrame                     # arm, replicate, seed, per brand its gross margin, profit, spends
    seconds: float = 0.0
    executor: str = "local"

    def _arm(self, arm: str, column: str) -> np.ndarray:
        t = self.totals[self.totals["arm"] == arm].sort_values("replicate")
        return t[column].to_numpy(dtype=float)

    def table(self) -> pd.DataFrame:
        """One row per brand and lever: n, and for spend, incremental margin, incremental profit and return
        their mean, low and high (95 % paired t-interval); ``note`` says why a lever has no return."""
        rows = []
        for brand, levers in self.planned.items():
            for lever in economics.LEVER_SPEND:
                row: dict[str, Any] = {"brand": brand, "lever": lever, "n": len(self.seeds)}
                base_spend = self._arm(BASE_ARM, f"spend_{lever}_{brand}")
                if not levers[lever] or not (base_spend > 0).any():
                    row.update(spend=float(base_spend.mean()), note=NOT_SPENT)
                    rows.append(row)
                    continue
                arm = arm_name(brand, lever)
                for name, column in (("spend", f"spend_{lever}_{brand}"), ("incremental_margin", f"gross_margin_{brand}"),
                                     ("incremental_profit", f"profit_{brand}")):
                    mean, _, low, high = paired_interval(self._arm(BASE_ARM, column), self._arm(arm, column))
                    row.update({name: mean, f"{name}_low": low, f"{name}_high": high})
                spend = base_spend - self._arm(arm, f"spend_{lever}_{brand}")
                margin = self._arm(BASE_ARM, f"gross_margin_{brand}") - self._arm(arm, f"gross_margin_{brand}")
                if (spend > 0).all():  # each replicate's own return, from its own pair of runs
                    mean, _, low, high = mean_interval((margin - spend) / spend)
                    row.update(return_on_spend=mean, return_on_spend_low=low, return_on_spend_high=high)
                else:  # some replicate spent nothing: the return of the means, without an interval
                    row.update(return_on_spend=economics.return_on_spend(margin.mean() - spend.mean(), spend.mean()),
                               note="some replicates spent nothing on this lever: the return of the means, "
                                    "no interval")
                rows.append(row)
        return pd.DataFrame(rows)

    def blocks(self) -> dict[str, dict[str, Any]]:
        """Per brand, the ``returns`` block of summary.json (strict JSON: a missing figure is null)."""
        table = self.table()
        out: dict[str, dict[str, Any]] = {}
        for brand in self.planned:
            levers: dict[str, Any] = {}
            for _, row in table[table["brand"] == brand].iterrows():
                entry: dict[str, Any] = {}
                for name, digits in (("spend", 2), ("incremental_margin", 2), ("incremental_profit", 2),
                                     ("return_on_spend", 4)):
                    if name in row and row[name] == row[name]:
                        entry[name] = {k: _round(row.get(f"{name}{s}"), digits)
                                       for k, s in (("mean", ""), ("low", "_low"), ("high", "_high"))}
                    elif name == "return_on_spend":
                        entry[name] = None
                if isinstance(row.get("note"), str):
                    entry["note"] = row["note"]
                levers[row["lever"]] = entry
            out[brand] = {
                "computed": True, "replicates": len(self.seeds), "seed": self.seed, "seeds": self.seeds,
                "level": LEVEL,
                "counterfactual": f"the same market and seeds with the lever off from day {OFF_DAY} (its spend 0; "
                                  f"ads: the stock built before fades), one lever at a time",
                "return_on_spend": "(incremental gross margin - spend) / spend: -1, the spend brought nothing "
                                   "back; 0, it paid for itself",
                "levers": levers,
            }
        return out

    def text(self) -> str:
        """The printed table: per brand and lever, spend, incremental margin and return, each with its interval."""
        table = self.table()
        cur = economics.currency(self.scenario.params)
        n = len(self.seeds)
        lines = [f"Return on each lever's spend: {n} paired seed{'s' * (n != 1)}, each lever off from day "
                 f"{OFF_DAY} in the same market; money in {cur}; mean (95 % paired interval)",
                 f"  {'brand':<10}{'lever':<13}{'spend':>26}{'incremental margin':>30}{'return':>28}"]
        for _, row in table.iterrows():
            if row.get("note") == NOT_SPENT:
                lines.append(f"  {row['brand'][:9]:<10}{row['lever']:<13}{'none':>26}   no return (no spend)")
                continue
            lines.append(f"  {row['brand'][:9]:<10}{row['lever']:<13}"
                         f"{_interval(row, 'spend', '{:,.0f}'):>26}"
                         f"{_interval(row, 'incremental_margin', '{:+,.0f}'):>30}"
                         f"{_interval(row, 'return_on_spend', '{:+.0%}'):>28}")
        lines.append("  (return = (incremental margin - spend) / spend; -100 %: the spend brought nothing back)")
        return "\n".join(lines)


def _round(value: Any, digits: int) -> float | None:
    if value is None or value != value:
        return None
    return round(float(value), digits) + 0.0  # no -0.0 in summary.json


def _interval(row: pd.Series, name: str, fmt: str) -> str:
    mean, low, high = row.get(name), row.get(f"{name}_low"), row.get(f"{name}_high")
    if mean is None or mean != mean:
        return "n/a"
    if low is None or low != low:
        return fmt.format(mean)
    return f"{fmt.format(mean)} ({fmt.format(low)} to {fmt.format(high)})"


def check(scenario: Scenario, replicates: Any, flag: str = "replicates") -> dict[str, dict[str, bool]]:
    """Refuse a bad or absurd number of replicates before any run; the levers to switch off per brand."""
    if not isinstance(replicates, int) or isinstance(replicates, bool) or replicates < 1:
        raise ScenarioError(f"{flag}: expected a positive integer, found {replicates!r}")
    planned = {brand: spends(scenario, brand) for brand in scenario.params.brand_names}
    levers = sum(sum(p.values()) for p in planned.values())
    if replicates > MAX_RUNS or replicates * (1 + levers) > MAX_RUNS:
        raise ScenarioError(f"{flag}: {replicates:,} paired seeds x (1 + {levers} levers with spend) runs; "
                            f"expected at most {MAX_RUNS:,} runs in all")
    seconds = api.check_size(scenario) * replicates * (1 + levers)
    if seconds > api.WARN_SECONDS:
        provenance.warn(f"{flag}: {replicates * (1 + levers):,} runs of {scenario.name}: expect about "
                        f"{seconds / 60:,.0f} minutes of work in all, shared among the cores")
    return planned


def returns(scenario: str | Path | Scenario, *, replicates: int = 8, seed: int | None = None,
            steps: int | None = None, overrides: dict[str, Any] | None = None, executor: Any = "local",
            scheduler: str | None = None, workers: int | None = None,
            on_run: Callable[[int, int], None] | None = None, option: str = "replicates") -> Returns:
    """Each lever's return on its spend, per brand, over ``replicates`` paired seeds (see the module).

    ``seed`` (default: the scenario's) derives the replicates' seeds as :func:`sim.compare` does;
    ``executor``: "local" (processes), "dask" (``scheduler``'s cluster or a local one) or an executor
    object, as for compare and sweeps. ``on_run(done, total)`` is told of each finished run; ``option`` is
    the name a refused ``replicates`` goes by in the message (the CLI's ``--returns``).
    """
    base = api.resolve(scenario, steps, seed, overrides)
    planned = check(base, replicates, option)
    brands = base.params.brand_names
    names, arms = [BASE_ARM], [base]
    for brand in brands:
        for lever in economics.LEVER_SPEND:
            if planned[brand][lever]:
                names.append(arm_name(brand, lever))
                arms.append(lever_off(base, brand, lever))
    seeds = replicate_seeds(base.params["seed"], replicates)
    daily = ("purchases", *(f"{m}_{b}" for b in brands for m in (*DAILY, "gross_margin")))
    what = run_arms(base, {}, names, seeds, brands[0], _Tasks(arms, seeds, daily),
                    executor_for(executor, scheduler, workers), on_run)
    columns = [f"{m}_{b}" for b in brands for m in ("gross_margin", "profit",
                                                    *(f"spend_{lv}" for lv in economics.LEVER_SPEND))]
    totals = (what.daily[what.daily["step"] > 0].groupby(["arm", "replicate"], sort=False)[columns].sum()
              .reset_index())
    totals.insert(2, "seed", [seeds[r] for r in totals["replicate"]])
    return Returns(base, base.params["seed"], seeds, planned, totals, what.seconds, what.executor)
