"""Sweeps fit for a paper: common random numbers, paired differences, Sobol second order and
confidence level, the convergence check, the Morris noise floor, user-defined outputs, burn-in,
report figures in SVG and PDF with labelled axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

import sim
from sim.params import ScenarioError
from sim.sweep import loads_sweep, read_runs, report, run_one, run_sweep
from sim.sweep.report import differences, figure, report_text, sensitivity

GRID = """
scenario = "baseline"
steps = 12
seed = 3
replicates = 4
outputs = ["sentiment_ours", "purchases", "market_share_ours"]
{extra}
[set]
"population.size" = 60
[vary]
"sharing.negative_multiplier" = [1, 4, 8]
"""


def _grid(extra: str = ""):
    return loads_sweep(GRID.format(extra=extra))


def test_crn_gives_replicate_i_the_same_seed_at_every_point():
    plain, crn = _grid(), _grid("crn = true")
    seeds = [[crn.task(p * 4 + r).seed for r in range(4)] for p in range(3)]
    assert seeds[0] == seeds[1] == seeds[2] and len(set(seeds[0])) == 4
    assert len({plain.task(i).seed for i in range(12)}) == 12
    assert crn.fingerprint() != plain.fingerprint()  # a folder of one is never resumed as the other
    assert crn.resolved()["crn"] is True


@pytest.fixture(scope="module")
def crn_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("crn") / "out"
    sweep = _grid('crn = true\nlevel = 0.9\nreference = { "sharing.negative_multiplier" = 4 }')
    outcome = run_sweep(sweep, out, executor="local", workers=2)
    assert outcome.complete
    return sweep, out


def test_grid_differences_are_paired_under_crn_against_the_named_reference(crn_runs):
    sweep, out = crn_runs
    rep = report(out, figures=False)
    diffs = rep.differences
    assert rep.level == 0.9 and rep.reference == {"sharing.negative_multiplier": 4.0}
    assert (diffs["reference_point"] == 1).all() and diffs["paired"].all()
    same = diffs[(diffs["point"] == 1)]
    assert (same["difference"] == 0).all() and (same["ci_low"] == 0).all() and (same["ci_high"] == 0).all()
    # the interval is the paired t-interval of replicate-by-replicate differences, at level 0.9
    runs = read_runs(out)
    a = runs[runs["point"] == 2].set_index("replicate")["purchases"]
    b = runs[runs["point"] == 1].set_index("replicate")["purchases"]
    d = a - b
    half = stats.t.ppf(0.95, len(d) - 1) * d.std() / np.sqrt(len(d))
    row = diffs[(diffs["point"] == 2) & (diffs["metric"] == "purchases")].iloc[0]
    assert row["difference"] == pytest.approx(d.mean())
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * half)
    text = report_text(rep)
    assert "differences from the reference point (negative_multiplier=4)" in text and "paired" in text
    assert "90 % CI" in text


def test_welch_differences_without_crn():
    runs = pd.DataFrame({"point": [0, 0, 0, 1, 1, 1], "replicate": [0, 1, 2] * 2, "status": "ok",
                         "x": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0], "y": [1.0, 2.0, 3.0, 5.0, 7.0, 9.0]})
    diffs = differences(runs, ["x"], ["y"], reference=0, paired=False, level=0.95).set_index("point")
    welch = stats.ttest_ind([5.0, 7.0, 9.0], [1.0, 2.0, 3.0], equal_var=False).confidence_interval(0.95)
    assert diffs.loc[1, "difference"] == pytest.approx(5.0)
    assert (diffs.loc[1, "ci_low"], diffs.loc[1, "ci_high"]) == pytest.approx((welch.low, welch.high))


def test_sobol_second_order_level_and_convergence():
    sweep = loads_sweep('scenario = "baseline"\ndesign = "sobol"\nsecond_order = true\nsamples = 256\nseed = 1\n'
                        '[vary]\n"brands.ours.quality" = { low = 0.0, high = 1.0 }\n'
                        '"brands.theirs.quality" = { low = 0.0, high = 1.0 }\n'
                        '"sharing.public_fraction" = { low = 0.0, high = 1.0 }\n')
    assert len(sweep.points) == 256 * (2 * 3 + 2)
    pts = pd.DataFrame(sweep.points)
    summary = pts.assign(point=range(len(pts)), metric="y")
    x1, x2 = pts["brands.ours.quality"] - 0.5, pts["brands.theirs.quality"] - 0.5
    summary["mean"] = x1 + x2 + 4 * x1 * x2  # an interaction of the two qualities; the third does nothing
    wide = sensitivity("sobol", sweep.problem(), summary, ["y"], seed=1, level=0.99, second_order=True)
    narrow = sensitivity("sobol", sweep.problem(), summary, ["y"], seed=1, level=0.80, second_order=True)
    pairs = wide.attrs["second_order"].set_index(["parameter", "other"])
    # analytically: Var = 1/12 + 1/12 + 16/144; S2(q1, q2) = (16/144) / (1/6 + 16/144) = 0.4
    assert pairs.loc[("brands.ours.quality", "brands.theirs.quality"), "S2"] == pytest.approx(0.4, abs=0.12)
    assert abs(pairs.loc[("brands.ours.quality", "sharing.public_fraction"), "S2"]) < 0.1
    assert (narrow["ST_conf"].iloc[:2] < wide["ST_conf"].iloc[:2]).all()  # a lower level, a narrower interval
    assert wide["ST_half"].notna().all() and (wide["ST"] - wide["ST_half"]).abs().max() < 0.1


def test_morris_noise_floor_from_replicates():
    sweep = loads_sweep('scenario = "baseline"\ndesign = "morris"\nsamples = 6\nreplicates = 3\nseed = 2\n'
                        '[vary]\n"brands.ours.quality" = { low = 0.2, high = 0.9 }\n'
                        '"sharing.public_fraction" = { low = 0.0, high = 1.0 }\n')
    rng = np.random.default_rng(0)
    rows = []
    for i, point in enumerate(sweep.points):
        for r in range(3):
            rows.append({"point": i, "replicate": r, "status": "ok", **point,
                         "y": 3.0 * point["brands.ours.quality"] + rng.normal(0, 0.2)})
    runs = pd.DataFrame(rows)
    summary = runs.groupby(["point", *sweep.parameters], as_index=False)["y"].mean().rename(columns={"y": "mean"})
    summary["metric"] = "y"
    indices = sensitivity("morris", sweep.problem(), summary, ["y"], seed=2, runs=runs, replicates=3)
    floor = indices["noise_floor"].iloc[0]
    s = np.sqrt(runs.groupby("point")["y"].var().mean())
    assert floor == pytest.approx(np.sqrt(2 / np.pi) * s * np.sqrt(2 / 3) / (4 / 6))
    by = indices.set_index("parameter")
    assert by.loc["brands.ours.quality", "mu_star"] > 5 * floor  # the lever that matters, far above
    assert by.loc["sharing.public_fraction", "mu_star"] < 3 * floor  # the one that does not, near it


def test_user_defined_outputs_and_burn_in():
    sweep = loads_sweep('scenario = "baseline"\nsteps = 10\nburn_in = 4\nseed = 5\n'
                        'outputs = ["purchases", "mean(sentiment_ours, days=3..6)", "max(aware_ours)", '
                        '"builtins:len"]\n[set]\n"population.size" = 50\n')
    row = run_one(sweep.task(0))["row"]
    assert row["status"] == "ok", row["error"]
    table = sim.run(sweep.scenario, seed=sweep.task(0).seed).table
    assert row["purchases"] == table["purchases"].iloc[5:].sum()  # days 5..10: after the 4-day burn-in
    assert row["mean(sentiment_ours, days=3..6)"] == pytest.approx(table["sentiment_ours"].iloc[3:7].mean())
    assert row["max(aware_ours)"] == pytest.approx(table["aware_ours"].iloc[5:].max())
    assert row["builtins:len"] == 11  # a function of the table: here the number of rows, days 0..10


@pytest.mark.parametrize("outputs,words", [
    ('["mean(no_such_column)"]', "expected a recorded column"),
    ('["mean(sentiment_ours, days=5..500)"]', "0 <= a <= b <= steps"),
    ('["median(sentiment_ours)"]', "expected one of mean, sum"),
    ('["no_such_module_xyz:f"]', "cannot import module"),
    ('["builtins:no_such_function"]', "expected a function"),
])
def test_bad_user_defined_outputs_are_refused(outputs, words):
    with pytest.raises(ScenarioError, match=words):
        loads_sweep(f'scenario = "baseline"\nsteps = 10\noutputs = {outputs}\n')


@pytest.mark.parametrize("text,words", [
    ("burn_in = 10\n", "burn_in: expected fewer days than steps"),
    ("second_order = true\n", "second_order: only for design 'sobol'"),
    ("level = 1.5\n", "level: expected a confidence level"),
    ("crn = 1\n", "crn: expected true or false"),
    ('reference = { "sharing.negative_multiplier" = 99 }\n', "no grid point has"),
])
def test_bad_paper_options_are_refused(text, words):
    with pytest.raises(ScenarioError, match=words):
        loads_sweep('scenario = "baseline"\nsteps = 10\n' + text + '[vary]\n"sharing.negative_multiplier" = [1, 4]\n')


def test_report_figures_svg_pdf_labels_and_no_nan_lines(crn_runs, tmp_path):
    sweep, out = crn_runs
    rep = report(out, formats=("png", "svg", "pdf"))
    names = {f.name for f in rep.files}
    assert {"market_share_ours.png", "market_share_ours.svg", "market_share_ours.pdf"} <= names
    assert (out / "report" / "market_share_ours.pdf").read_bytes()[:4] == b"%PDF"
    assert b"<svg" in (out / "report" / "market_share_ours.svg").read_bytes()[:500]
    fig = figure(rep.summary, "market_share_ours", sweep.parameters, "grid", level=0.9)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "market share of ours (% of purchases)"
    assert ax.get_xlabel().startswith("Sharing negative multiplier (x)")
    means = rep.summary[rep.summary["metric"] == "market_share_ours"]["mean"].to_numpy()
    assert np.allclose(ax.get_lines()[0].get_ydata(), 100 * means)  # shares in percent on figures
    # one replicate: no "[nan, nan]" line, a plain statement
    single = rep.summary.assign(n=1, ci_low=np.nan, ci_high=np.nan)
    text = report_text(type(rep)(rep.name, "grid", rep.parameters, 3, 0, single, None))
    assert "nan" not in text and "(one run: no interval)" in text


def test_the_heat_map_has_a_labelled_colour_bar():
    summary = pd.DataFrame({"point": range(4), "a.x": [1.0, 1.0, 2.0, 2.0], "brands.ours.quality": [0.1, 0.5] * 2,
                            "metric": "sentiment_ours", "n": 3, "mean": [0.1, 0.2, 0.3, 0.4], "sd": 0.1,
                            "ci_low": 0.0, "ci_high": 0.5})
    fig = figure(summary, "sentiment_ours", ["a.x", "brands.ours.quality"], "grid")
    assert isinstance(fig, Figure)
    colour_bar = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"][0]
    assert colour_bar.get_ylabel() == "sentiment of ours (-1 to +1)"
