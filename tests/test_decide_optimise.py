"""The budget optimiser on a case whose best split is known by construction, resume, and its report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.decide.optimise import load_spec, optimise, project, shares_from_unit
from sim.decide.report import report
from sim.params import ScenarioError

# Ads reach nobody's decisions (no trigger, no persuasion, no hype): money spent on them is lost. Service
# reaches every complaint with a twentieth of the budget, so more service money is never spent. The best
# split must give ads nothing.
USELESS_ADS = """
name = "useless_ads"
scenario = "baseline"
brand = "ours"
budget = 3000.0
period = 30
levers = ["ads", "service"]
horizon = 60
objective = "profit"
trials = 8
replicates = 2
seed = 3

[set]
engine = "array"
"population.size" = 300
"journey.ad_trigger" = 0.0
"ads.persuasion" = 0.0
"ads.hype" = 0.0
"""


def test_stick_breaking_gives_shares_that_sum_to_one_within_their_bounds():
    shares = shares_from_unit([0.5, 0.5], ["ads", "prompts", "service"], {k: (0.0, 1.0) for k in
                                                                          ("ads", "prompts", "service")})
    assert shares == {"ads": 0.5, "prompts": 0.25, "service": 0.25}
    bounded = project({"ads": 0.9, "prompts": 0.1, "service": 0.0},
                      {"ads": (0.0, 0.6), "prompts": (0.0, 1.0), "service": (0.1, 1.0)})
    assert sum(bounded.values()) == pytest.approx(1.0) and bounded["ads"] == 0.6 and bounded["service"] >= 0.1


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("opt")
    (folder / "spec.toml").write_text(USELESS_ADS, encoding="utf-8")
    result = optimise(load_spec(folder / "spec.toml"), folder / "out", workers=2)
    result.write()
    return folder, result


def test_a_lever_with_no_effect_gets_nothing(study):
    _, result = study
    assert result.best["shares"]["ads"] == 0.0 and result.best["spend_ads"] == 0.0
    t = result.trials
    assert len(t) == 8 and (t["share_ads"] > 0.2).any()  # the search did try spending on ads
    lavish = t[t["share_ads"] > 0.2]
    assert (lavish["mean"] < result.best["mean"]).all()
    # the known cost of waste: every unit put on ads is a unit of profit lost (60 days)
    worst = t.loc[t["share_ads"].idxmax()]
    assert result.best["mean"] - worst["mean"] == pytest.approx(worst["share_ads"] * 100.0 * 60, rel=0.25)
    # the best and the current plan ran on the same seeds; the interval of their difference is given
    assert result.best["effect_low"] <= result.best["effect"] <= result.best["effect_high"]


def test_best_toml_runs_as_a_scenario_and_the_files_are_written(study):
    folder, result = study
    out = folder / "out"
    assert {"optimise.json", "trials.csv", "best.toml", "response.png", "history.png", "study.db"} <= {
        p.name for p in out.iterdir()}
    best = sim.load(out / "best.toml")
    assert best.params.brand("ours")["ad_spend"] == 0.0 and best.params.brand("ours")["service_recovery"] > 0
    assert best.params["steps"] == 60
    run = sim.run(best, steps=5)
    assert run.money()["spend_ads_ours"].sum() == 0.0


def test_an_optimisation_resumes_from_its_study(study):
    folder, result = study
    more = optimise(load_spec(folder / "spec.toml", trials=10), folder / "out", workers=2)
    assert len(more.trials) == 10
    pd.testing.assert_frame_equal(more.trials.iloc[:8].reset_index(drop=True), result.trials)


def test_the_report_of_an_optimisation_is_one_self_contained_file(study):
    folder, _ = study
    page = report(folder / "out").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "Best split" in page and "current plan" in page and "useless_ads" in page
    assert "economics.ad_half_saturation" in page and "Provenance" in page


@pytest.mark.parametrize("change, words", [
    ('levers = ["ads", "tv"]', "levers: expected two or three of ads, prompts, service"),
    ('objective = "fame"', "objective: expected one of profit, npv, share, sentiment"),
    ('[bounds]\nads = [0.5, 0.2]', "bounds.ads: expected [low, high]"),
    ('budgte = 3', "budgte: unknown key"),
])
def test_spec_mistakes_name_the_file_and_the_key(tmp_path: Path, change, words):
    lines = [line for line in USELESS_ADS.splitlines() if not line.startswith(change.split(" ")[0].split("\n")[0])]
    text = "\n".join(lines)
    text = change + "\n" + text if not change.startswith("[") else text.replace("[set]", change + "\n\n[set]")
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_spec(path)
    assert str(path) in str(error.value) and words in str(error.value)


def test_optimise_command_refuses_a_bad_spec_with_exit_2(tmp_path: Path, capsys):
    from sim.cli import main

    path = tmp_path / "spec.toml"
    path.write_text('scenario = "baseline"\nbudget = -1\nlevers = ["ads", "service"]\n', encoding="utf-8")
    assert main(["optimise", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "budget: expected a number >= 0, found -1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_with_a_profit_floor_a_plan_below_it_scores_below_every_plan_above_it(tmp_path: Path):
    from sim.decide.optimise import score

    path = tmp_path / "spec.toml"
    path.write_text(USELESS_ADS.replace('objective = "profit"', 'objective = "sentiment"\nprofit_floor = 100.0'),
                    encoding="utf-8")
    spec = load_spec(path)
    above = score(spec, [{"objective": -0.9, "profit": 150.0}, {"objective": -0.9, "profit": 60.0}])
    below = score(spec, [{"objective": 0.9, "profit": 90.0}, {"objective": 0.9, "profit": 80.0}])
    further = score(spec, [{"objective": 0.9, "profit": -500.0}])
    assert above == pytest.approx(-0.9) and further < below < -1.0 <= above


def test_a_dask_cluster_finds_the_same_trials_as_local_processes(study, tmp_path: Path):
    distributed = pytest.importorskip("distributed")
    folder, result = study
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on_dask = optimise(load_spec(folder / "spec.toml", trials=4), tmp_path / "dask",
                           scheduler=cluster.scheduler_address)
    assert on_dask.executor == "dask"
    pd.testing.assert_frame_equal(on_dask.trials, result.trials.iloc[:4])
