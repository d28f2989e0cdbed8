"""momentsim as an EMA Workbench model (sim.ema): the function EMA calls, and a real experiment."""

from __future__ import annotations

import pickle

import pytest

import sim
from sim import ema
from sim.params import ScenarioError


def test_the_function_is_one_run_with_dotted_keys_from_ema_names():
    f = ema.function("baseline", outcomes=["sentiment_ours", "mean(aware_ours, days=1..5)"], steps=8)
    f = pickle.loads(pickle.dumps(f))  # EMA's multiprocessing evaluator pickles it
    out = f(sharing__negative_multiplier=2.0, brands__ours__quality=0.7, seed=11,
            population__size=60)
    run = sim.run("baseline", steps=8, seed=11, overrides={"sharing.negative_multiplier": 2.0,
                                                           "brands.ours.quality": 0.7, "population.size": 60})
    assert out["sentiment_ours"] == run.summary()["brands"]["ours"]["sentiment"]
    assert out["mean(aware_ours, days=1..5)"] == pytest.approx(run.table["aware_ours"].iloc[1:6].mean())


def test_unknown_outcomes_and_keys_are_refused():
    with pytest.raises(ScenarioError, match="outcomes: 'sentimen_ours'"):
        ema.function("baseline", outcomes=["sentimen_ours"])
    with pytest.raises(ScenarioError, match="unknown key"):
        ema.function("baseline", steps=3)(sharing__negative_multiplyer=2.0)


def test_perform_experiments_with_the_ema_workbench():
    workbench = pytest.importorskip("ema_workbench")
    model = ema.model("baseline", uncertainties={"sharing.negative_multiplier": (1, 8),
                                                 "brands.ours.quality": (0.5, 0.8)},
                      outcomes=["sentiment_ours", "market_share_ours"], steps=6)
    model.constants = [workbench.Constant("population__size", 60), workbench.Constant("seed", 3)]
    experiments, outcomes = workbench.perform_experiments(model, scenarios=3)
    assert len(experiments) == 3 and set(outcomes) == {"sentiment_ours", "market_share_ours"}
    first = experiments.iloc[0]
    again = sim.run("baseline", steps=6, seed=3, overrides={
        "sharing.negative_multiplier": float(first["sharing__negative_multiplier"]),
        "brands.ours.quality": float(first["brands__ours__quality"]), "population.size": 60})
    assert outcomes["market_share_ours"][0] == again.summary()["brands"]["ours"]["market_share"]
