"""The teaching helpers: panels run with their defaults and again on a click; paired runs and their spread."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import sim  # noqa: E402
from sim import teach  # noqa: E402


def test_panel_runs_with_defaults_then_with_the_students_values():
    calls = []
    p = teach.panel(lambda share, arm: calls.append((share, arm)) or share * 10, "t",
                    share=teach.slider("share", 0.2, 0.0, 1.0, 0.1), arm=teach.choice("arm", ["a", "b"]))
    assert p._run_here(raise_errors=True) == pytest.approx(2.0)
    p.controls["share"].value = 0.8
    p.controls["arm"].value = "b"
    p.button.click()
    assert calls == [(0.2, "a"), (0.8, "b")]
    assert p.result == pytest.approx(8.0) and p.runs == 2


def test_slider_kinds_and_bounds():
    whole = teach.slider("n", 4, 1, 12)
    decimal = teach.slider("x", 0.5, 0.0, 1.0, 0.05)
    assert type(whole).__name__ == "IntSlider" and type(decimal).__name__ == "FloatSlider"
    whole.value = 50  # a slider clamps, so a student cannot reach a value the model refuses
    assert whole.value == 12
    labelled = teach.choice("arm", {"better service": {"brands.ours.service_recovery": 0.9}})
    assert labelled.value == {"brands.ours.service_recovery": 0.9}


def test_a_click_that_fails_shows_a_message_and_the_first_run_raises():
    def broken(x):
        raise ValueError("quality must be in [0, 1]")
    p = teach.panel(broken, x=teach.slider("x", 1, 0, 2))
    with pytest.raises(ValueError):
        p._run_here(raise_errors=True)
    p.button.click()  # no exception escapes a click
    assert p.runs == 0 and p.result is None


def test_effect_is_the_paired_mean_difference_and_its_standard_error():
    base, changed = [1.0, 2.0, 3.0, 4.0], [2.0, 2.5, 4.5, 5.0]
    e = teach.effect(base, changed)
    diff = np.array(changed) - np.array(base)
    assert e["difference"] == pytest.approx(diff.mean())
    assert e["standard error"] == pytest.approx(diff.std(ddof=1) / 2)
    assert e["difference / SE"] == pytest.approx(diff.mean() / (diff.std(ddof=1) / 2))
    table = teach.effects(pd.DataFrame({"m": base}), pd.DataFrame({"m": changed}))
    assert table.loc["m", "n"] == 4 and table.loc["m", "difference"] == pytest.approx(e["difference"])
    assert math.isnan(teach.effect([1.0], [2.0])["standard error"])


def test_days_to_reach_in_either_direction():
    assert teach.days_to_reach([0.1, 0.3, 0.5, 0.7], 0.5) == 2
    assert teach.days_to_reach([0.9, 0.8, 0.4, 0.2], 0.5) == 2
    assert teach.days_to_reach([0.6, 0.9, 0.4, 0.2], 0.5, start=1) == 2
    assert math.isnan(teach.days_to_reach([0.1, 0.2], 0.5))


def test_paired_runs_share_their_random_seed_and_differ_by_the_change():
    scenario = sim.load("baseline", {"population.size": 150, "market.burn_in_days": 30})
    pairs = teach.paired(scenario, {"brands.ours.quality": 0.3}, seeds=[1, 2], steps=20)
    assert [c.base.scenario.params["seed"] for c in pairs] == [1, 2]
    for c in pairs:  # the change is made on day 0 of the same settled market
        assert c.base.table.iloc[0].equals(c.changed.table.iloc[0])
        assert c.changed.scenario.params.brand("ours")["quality"] == 0.3 or any(
            e.lever == "quality" for e in c.changed.scenario.params.events)
    assert not pairs[0].base.table.equals(pairs[1].base.table)


def test_figures_draw_bands_marks_and_dots():
    tables = [pd.DataFrame({"step": range(5), "x": np.arange(5) * k}) for k in (1.0, 2.0, 3.0)]
    fig, (a, b) = plt.subplots(1, 2)
    teach.band(a, tables, "x", "x")
    teach.mark_days(a, {2: "crisis"})
    line = a.get_lines()[0]
    assert np.allclose(line.get_ydata(), np.arange(5) * 2.0)
    assert len(a.collections) == 1  # the shaded range over the random seeds
    teach.dots(b, {"m": [1.0, 2.0, 3.0]}, "change")
    assert [t.get_text() for t in b.get_xticklabels()] == ["m"]
    plt.close(fig)
    assert teach.brand_colours(["ours", "theirs"]) == {"ours": sim.plots.brand_colour(0),
                                                       "theirs": sim.plots.brand_colour(1)}


def test_the_loud_minority_formula():
    assert teach.negative_share(0.2, 4) == pytest.approx(0.5)
    assert teach.negative_share(1 / 9, 8) == pytest.approx(0.5)
    assert teach.negative_share(0.08, 1) == pytest.approx(0.08)
    assert teach.negative_share(0.0, 4) == 0.0


def test_crisis_scenario_moves_the_crisis_and_no_crisis_has_no_quality_event():
    moved = teach.crisis_scenario(population=200, crisis_quality=0.2, start=60, fix=90)
    events = [(e.day, e.brand, e.lever, e.value) for e in moved.params.events]
    assert events == [(60, "ours", "quality", 0.2), (90, "ours", "quality", 0.68)]
    usual = moved.params.brand("ours")["quality"]
    assert teach.crisis_scenario(population=200, crisis_quality=usual).params.events == []
    assert moved.params["population.size"] == 200
