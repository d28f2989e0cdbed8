"""The return on each lever's spend: the lever off in the same market, on paired seeds (sim/decide/returns.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import sim
from sim import api, economics
from sim.decide.returns import NOT_SPENT, lever_off
from sim.decide.compare import replicate_seeds
from sim.params import Event, ScenarioError

FAST = {"engine": "array", "population.size": 300, "market.burn_in_days": 60}
# ours: strong ads (intensity 0.3, 288 a day) and a service that resolves nothing (recovery 0) but pays for
# every complaint (a tenth of purchases fail): that lever has no effect by construction. theirs spends nothing.
MARKET = {**FAST, "brands.ours.ad_intensity": 0.3, "brands.ours.service_recovery": 0.0,
          "brands.ours.failure_rate": 0.1, "brands.theirs.ad_intensity": 0.0, "brands.theirs.service_cost": 0.0}
N, STEPS = 8, 60


def _strict(text: str):
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


@pytest.fixture(scope="module")
def returned():
    return sim.returns("baseline", replicates=N, seed=5, steps=STEPS, overrides=MARKET, workers=2)


def _row(returned, brand: str, lever: str):
    table = returned.table()
    return table[(table["brand"] == brand) & (table["lever"] == lever)].iloc[0]


def _se(row, name: str) -> float:
    """The standard error behind a paired 95 % interval (its half-width over Student's t)."""
    return (row[f"{name}_high"] - row[name]) / stats.t.ppf(0.975, row["n"] - 1)


def test_only_the_levers_with_spend_are_switched_off_on_the_shared_seeds(returned):
    assert returned.seeds == replicate_seeds(5, N)
    arms = set(returned.totals["arm"])
    assert arms == {"scenario", "ours: ads off", "ours: service off"}  # N x 3 runs, not N x 9
    assert len(returned.totals) == 3 * N and list(returned.totals["seed"][:N]) == returned.seeds


def test_a_lever_without_effect_returns_minus_100_percent(returned):
    """Service that resolves no complaint changes nothing but the bill: all spend, no margin."""
    row = _row(returned, "ours", "service")
    assert row["spend_low"] > 0  # complaints were paid for (a tenth of purchases fail)
    assert row["incremental_margin"] == pytest.approx(0.0, abs=1e-9)
    assert row["return_on_spend_low"] <= -1.0 <= row["return_on_spend_high"]
    assert abs(row["return_on_spend"] + 1.0) <= max(3 * _se(row, "return_on_spend"), 1e-9)
    # its profit effect is minus its spend: no customer won or lost
    assert row["incremental_profit"] == pytest.approx(-row["spend"])


def test_a_strong_lever_brings_margin_beyond_its_noise(returned):
    row = _row(returned, "ours", "ads")
    top, half = 0.5, 192.0  # the economics defaults the spend is priced at
    assert row["spend"] == pytest.approx(half * 0.3 / (top - 0.3) * STEPS)  # a constant 288 a day
    assert row["spend_low"] == pytest.approx(row["spend_high"])  # the same plan on every seed
    assert row["incremental_margin"] > 3 * _se(row, "incremental_margin")
    assert row["incremental_margin_low"] > 0
    expected = (row["incremental_margin"] - row["spend"]) / row["spend"]  # constant spend: mean of ratios
    assert row["return_on_spend"] == pytest.approx(expected)


def test_a_lever_with_no_spend_gets_no_return_in_strict_json(returned):
    blocks = returned.blocks()
    theirs = blocks["theirs"]["levers"]
    assert set(theirs) == set(economics.LEVER_SPEND)
    for lever, entry in theirs.items():
        assert entry["return_on_spend"] is None and entry["note"] == NOT_SPENT, lever
    assert blocks["ours"]["levers"]["prompts"]["return_on_spend"] is None
    ads = blocks["ours"]["levers"]["ads"]
    assert set(ads) == {"spend", "incremental_margin", "incremental_profit", "return_on_spend"}
    assert blocks["ours"]["computed"] is True and blocks["ours"]["replicates"] == N
    _strict(json.dumps(blocks, allow_nan=False))
    assert "no return" in returned.text() and "95 % paired interval" in returned.text()


def test_the_counterfactual_shares_the_settled_market_and_spends_nothing():
    """Off from day 1: day 0 (after the burn-in) is the scenario's own, also for ads planned by spend, and
    a later event that would switch the lever on again is dropped; other brands' events stay."""
    base = api.resolve("baseline", 30, 3, {**FAST, "population.size": 150, "brands.ours.ad_spend": 100.0})
    base.params.events = [Event(10, "ours", "ad_spend", 300.0), Event(12, "theirs", "price", 11.0)]
    off = lever_off(base, "ours", "ads")
    assert [(e.day, e.brand, e.lever) for e in off.params.events] == [(1, "ours", "ad_spend"),
                                                                      (12, "theirs", "price")]
    a, b = api.run(base).money(), api.run(off).money()
    assert a.iloc[0].equals(b.iloc[0])
    assert (b["spend_ads_ours"] == 0).all() and a["spend_ads_ours"].iloc[1:].min() == 100.0
    assert (a["spend_ads_theirs"] == b["spend_ads_theirs"]).all()
    assert base.params.events[0].value == 300.0  # the scenario itself is untouched


def test_bad_replicates_are_refused_before_any_run():
    for bad in (0, -2, 2.5, True, "4"):
        with pytest.raises(ScenarioError, match="replicates: expected a positive integer"):
            sim.returns("baseline", replicates=bad)
    with pytest.raises(ScenarioError, match="expected at most 1,000,000 runs"):
        sim.returns("baseline", replicates=10**12)


# --- the command -----------------------------------------------------------------------------------

TINY = ["--steps", "20", "--seed", "9", "--set", "engine=array", "--set", "population.size=100",
        "--set", "market.burn_in_days=20"]


def _run(tmp_path: Path, capsys, name: str, *extra: str) -> tuple[dict, str]:
    from sim.cli import main

    assert main(["run", "baseline", *TINY, *extra, "--out", str(tmp_path / name)]) == 0
    text = (tmp_path / name / "summary.json").read_text(encoding="utf-8")
    return _strict(text), capsys.readouterr().out


def test_run_returns_same_seeds_same_bytes_and_the_report_shows_them(tmp_path: Path, capsys):
    first, out = _run(tmp_path, capsys, "a", "--returns", "3")
    again, _ = _run(tmp_path, capsys, "b", "--returns", "3")
    for summary in (first, again):
        summary.pop("provenance")  # when and how each was made
    assert json.dumps(first) == json.dumps(again)
    block = first["brands"]["ours"]["returns"]
    assert block["computed"] and block["seeds"] == replicate_seeds(9, 3)
    assert block["levers"]["ads"]["spend"]["mean"] == pytest.approx(8.0 * 20)  # intensity 0.02 costs 8 a day
    assert "Return on each lever's spend" in out and "no return (no spend)" in out
    from sim.decide.report import report

    page = report(tmp_path / "a").read_text(encoding="utf-8")
    assert "Return on each lever's spend" in page and "incremental gross margin" in page


def test_run_without_returns_says_how_to_get_them(tmp_path: Path, capsys):
    summary, out = _run(tmp_path, capsys, "plain")
    for brand in ("ours", "theirs"):
        block = summary["brands"][brand]["returns"]
        assert block["computed"] is False and "--returns N" in block["note"]
    assert "Return on each lever" not in out


def test_a_dask_cluster_gives_the_same_returns_as_local_processes():
    distributed = pytest.importorskip("distributed")
    small = {**FAST, "population.size": 120}
    local = sim.returns("baseline", replicates=2, seed=3, steps=15, overrides=small, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on_dask = sim.returns("baseline", replicates=2, seed=3, steps=15, overrides=small,
                              scheduler=cluster.scheduler_address)
    assert on_dask.executor == "dask" and local.executor == "local"
    assert json.dumps(on_dask.blocks()) == json.dumps(local.blocks())
    assert np.array_equal(on_dask.totals.drop(columns="arm").to_numpy(), local.totals.drop(columns="arm").to_numpy())
