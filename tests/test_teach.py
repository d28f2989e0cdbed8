"""The teaching helpers: panels run with their defaults and again on a click; paired runs and their spread."""

from __future__ import annotations

import math
from pathlib import Path

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


# --- the figure rulebook (issue 11, "Figures in the docs and notebooks") ------------------------------
# Every axis labelled with its unit; colours from the Okabe-Ito palette of sim.plots (colour-blind safe)
# or neutral greys, one colour per meaning; market share (and any share of consumers) in percent; legends
# that do not cover the data. Checked on the Figure objects every sim.teach figure function draws.

from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from sim.plots import BRAND_COLOURS, NEGATIVE_COLOUR, POSITIVE_COLOUR  # noqa: E402

ALLOWED = {to_hex(c) for c in (*BRAND_COLOURS, POSITIVE_COLOUR, NEGATIVE_COLOUR, *teach.NEUTRAL_COLOURS)}


def _colours(ax) -> set[str]:
    found = {to_hex(line.get_color()) for line in ax.get_lines()}
    found |= {to_hex(line.get_markerfacecolor()) for line in ax.get_lines()
              if line.get_marker() not in (None, "None", "") and line.get_markerfacecolor() not in ("none", "None")}
    for collection in ax.collections:
        for colours in (collection.get_facecolor(), collection.get_edgecolor()):
            found |= {to_hex(c) for c in np.atleast_2d(colours) if len(c) and c[3] > 0}
    for patch in ax.patches:
        if patch.get_fill():
            found.add(to_hex(patch.get_facecolor()))
        elif patch.get_edgecolor()[3] > 0:
            found.add(to_hex(patch.get_edgecolor()))
    return found


def _labelled(axis) -> bool:
    """A label, or categorical tick labels (the names of what is drawn) in its place."""
    if axis.get_label_text().strip():
        return True
    texts = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
    return bool(texts) and not any(t.replace("−", "-").replace(".", "").lstrip("-").isdigit() for t in texts)


def _covered(ax) -> float:
    """Share of the data points drawn as lines that lie under the axes' legend (0 without a legend)."""
    legend = ax.get_legend()
    if legend is None:
        return 0.0
    box = legend.get_window_extent()
    points = [ax.transData.transform(np.column_stack([line.get_xdata(orig=False), line.get_ydata(orig=False)]))
              for line in ax.get_lines() if len(line.get_xdata()) > 1 and line.get_label() not in ("", None)]
    points = [p[np.isfinite(p).all(axis=1)] for p in points]
    total = sum(len(p) for p in points)
    inside = sum(int(((p[:, 0] > box.x0) & (p[:, 0] < box.x1) & (p[:, 1] > box.y0) & (p[:, 1] < box.y1)).sum())
                 for p in points)
    return inside / total if total else 0.0


def check_rulebook(fig, name: str) -> None:
    fig.canvas.draw()
    for ax in fig.axes:
        if not ax.get_visible() or not (ax.get_lines() or ax.collections or ax.patches):
            continue
        where = f"{name}: axes {ax.get_title()!r}"
        shared = any(other is not ax and ax.get_shared_x_axes().joined(ax, other) and other.get_xlabel()
                     for other in fig.axes)   # a column of panels labels only its bottom axis
        assert _labelled(ax.xaxis) or shared, f"{where}: no x label"
        assert _labelled(ax.yaxis), f"{where}: no y label"
        stray = _colours(ax) - ALLOWED
        assert not stray, f"{where}: colours outside the palette: {sorted(stray)}"
        text = (ax.get_ylabel() + " " + ax.get_title()).lower()
        if "market share" in text or "who know the brand" in text:
            assert "%" in ax.get_ylabel(), f"{where}: a share not labelled in percent: {ax.get_ylabel()!r}"
            assert ax.get_ylim()[1] > 1.5, f"{where}: a share drawn as a fraction (y up to {ax.get_ylim()[1]})"
        assert _covered(ax) <= 0.05, f"{where}: the legend covers {_covered(ax):.0%} of the data points"


def figures_of(call) -> list:
    """The figures a sim.teach function draws (it calls plt.show, a no-op under Agg, and leaves them open)."""
    before = set(plt.get_fignums())
    call()
    new = [plt.figure(n) for n in plt.get_fignums() if n not in before]
    assert new, "no figure drawn"
    return new


SMALL_CRISIS = dict(population=200, start=20, fix=40, changes={"steps": 70, "market.burn_in_days": 30})


@pytest.fixture(scope="module")
def crisis():
    return teach.crisis_runs(seeds=range(2), arms={"better service": {"brands.ours.service_recovery": 0.9}}, **SMALL_CRISIS)


FIGURES = {
    "loud_minority_figure": lambda: teach.loud_minority_figure(0.2, 3.0),
    "conversation": lambda: teach.conversation(population=150),
    "weak_brand_figure": lambda: teach.weak_brand_figure(population=150),
    "weak_brand_seeds": lambda: teach.weak_brand_seeds(seeds=range(2), population=150),
    "attention_figure": lambda: teach.attention_figure(teach.phone_and_attention(population=200)),
    "launch_figure": lambda: teach.launch_figure(teach.launch_runs(seeds=range(2), days=30, population=150)),
    "posterior_figure": lambda: teach.posterior_figure(
        pd.DataFrame({"brands.ours.quality": [0.7, 0.75, 0.8], "weight": [0.2, 0.5, 0.3]}),
        {"brands.ours.quality": (0.4, 0.95)}, {"brands.ours.quality": 0.75}),
    "fit_figure": lambda: teach.fit_figure(pd.DataFrame({
        "series": ["purchases"] * 6 + ["share"] * 6, "brand": ["ours"] * 12, "period": list(range(6)) * 2,
        "observed": [10, 12, 11, 13, 12, 14, .4, .42, .41, .43, .45, .44],
        "q05": [8] * 6 + [.35] * 6, "q25": [9] * 6 + [.38] * 6, "median": [11] * 6 + [.42] * 6,
        "q75": [13] * 6 + [.45] * 6, "q95": [15] * 6 + [.5] * 6, "window": ["fit"] * 4 + ["holdout"] * 2 + ["fit"] * 6})),
}


def test_the_fit_figure_draws_a_calibrations_share_series_in_percent_with_its_unit():
    """fit.csv names the series as the calibration does ("share", sim.calibrate.observe.OBSERVABLES)."""
    [fig] = figures_of(FIGURES["fit_figure"])
    share = next(ax for ax in fig.axes if ax.get_title().startswith("share"))
    assert share.get_ylabel() == "market share (%)" and share.get_ylim()[1] > 1.5
    assert all(ax.get_ylabel() not in ("share", "purchases") for ax in fig.axes)
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_teach_figures_follow_the_rulebook(name):
    for fig in figures_of(FIGURES[name]):
        check_rulebook(fig, name)
        plt.close(fig)


@pytest.mark.parametrize("name", ["crisis_figure", "lever_figure"])
def test_crisis_figures_follow_the_rulebook(name, crisis):
    for fig in figures_of(lambda: getattr(teach, name)(crisis, start=20, fix=40)):
        check_rulebook(fig, name)
        plt.close(fig)


def test_the_rulebook_check_catches_a_default_colour_a_missing_label_and_a_share_as_a_fraction():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.2, 0.4])            # matplotlib's default blue, no labels
    with pytest.raises(AssertionError, match="no x label"):
        check_rulebook(fig, "bad")
    ax.set_xlabel("day")
    with pytest.raises(AssertionError, match="no y label"):
        check_rulebook(fig, "bad")
    ax.set_ylabel("market share (%)")
    with pytest.raises(AssertionError, match="colours outside the palette"):
        check_rulebook(fig, "bad")
    ax.get_lines()[0].set_color(BRAND_COLOURS[0])
    with pytest.raises(AssertionError, match="drawn as a fraction"):
        check_rulebook(fig, "bad")
    ax.set_ylim(0, 100)
    check_rulebook(fig, "good")
    ax.add_line(Line2D([0, 1], [50, 60], color=BRAND_COLOURS[1], label="theirs"))
    ax.legend(loc="center", fontsize=40, markerscale=10, handlelength=20)   # a legend over the middle
    ax.get_lines()[0].set_label("ours")
    ax.get_lines()[0].set_data(np.linspace(0, 1, 50), np.linspace(40, 60, 50))
    with pytest.raises(AssertionError, match="legend covers"):
        check_rulebook(fig, "bad")
    plt.close(fig)


# --- notebook 8: the shipped calibration is the one the notebook's defaults would make ----------------

SHIPPED = Path(__file__).resolve().parent.parent / "scenarios" / "calibrations" / teach.SHIPPED_CALIBRATION


def test_the_shipped_calibration_matches_notebook_8s_default_data_and_spec(tmp_path):
    """Notebook 8 loads this result instead of calibrating (4-5 minutes); if the model or the helpers
    change the data or the spec, rerun scenarios/calibrations/make_notebook08.py."""
    from sim.calibrate import load_spec
    from sim.calibrate.synthetic import write_tidy

    rerun = "rerun `python scenarios/calibrations/make_notebook08.py`"
    write_tidy(teach.calibration_data(), tmp_path / "data.csv")
    assert (tmp_path / "data.csv").read_bytes() == (SHIPPED / "data.csv").read_bytes(), \
        f"notebook 8's data changed since the shipped calibration was made: {rerun}"
    assert teach.calibration_spec() == (SHIPPED / "spec.toml").read_text(encoding="utf-8"), \
        f"notebook 8's spec changed since the shipped calibration was made: {rerun}"
    spec = load_spec(SHIPPED / "spec.toml")
    result = teach.load_calibration(SHIPPED)
    assert list(result.posterior.columns) == [*spec.parameters, "weight"]
    assert result.posterior["weight"].sum() == pytest.approx(1.0)
    for key, prior in spec.parameters.items():   # every particle inside its prior
        low, high = prior.support()
        assert result.posterior[key].between(low, high).all()
    assert set(result.table["parameter"]) == set(spec.parameters)
    assert 1 <= result.generations <= spec.budget["generations"] and result.simulations > 0
    assert sim.load(SHIPPED / "calibrated.toml").params.brand("ours")["quality"] == pytest.approx(
        float(result.table.set_index("parameter").loc["brands.ours.quality", "median"]), abs=1e-4)
