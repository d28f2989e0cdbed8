"""MarketModel under mesa.batch_run, for users who know Mesa, and the shipped sweep files."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from mesa.batchrunner import batch_run

import sim
from sim.model import MarketModel
from sim.params import ScenarioError
from sim.sweep import load_sweep

SWEEPS = sorted((Path(__file__).resolve().parent.parent / "scenarios" / "sweeps").glob("*.toml"))


def test_mesa_batch_run_drives_market_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        rows = batch_run(MarketModel, parameters={"scenario": "baseline", "population_size": 150,
                                                  "negative_multiplier": [1, 8], "quality": 0.6},
                         rng=[1, 2], max_steps=20, number_processes=1, display_progress=False)
    table = pd.DataFrame(rows)
    assert len(table) == 4 and list(table["seed"]) == [1, 1, 2, 2]
    assert list(table["negative_multiplier"]) == [1, 8, 1, 8] and (table["Step"] == 20).all()
    row = table[(table["seed"] == 2) & (table["negative_multiplier"] == 8)].iloc[0]
    same = sim.run("baseline", steps=20, seed=2, overrides={
        "population.size": 150, "sharing.negative_multiplier": 8, "brands.ours.quality": 0.6}).table.iloc[-1]
    for column in ("sentiment_ours", "purchases", "adopters", "market_share_theirs"):
        assert row[column] == same[column], column


def test_market_model_keywords_are_validated_and_old_call_forms_still_work():
    model = MarketModel("baseline", population_size=120, overrides={"brands.theirs.price": 12.0})
    assert len(model.consumers) == 120 and model.levers[1]["price"] == 12.0
    assert MarketModel(sim.load("baseline"), seed=3).params["seed"] == 42  # seed= is the run's, not the file's
    assert len(MarketModel(population_size=50).consumers) == 50
    with pytest.raises(ScenarioError, match="MarketModel: sharing.negative_multiplier: expected"):
        MarketModel(negative_multiplier=-1)


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_shipped_sweeps_are_valid_and_realistic(path):
    sweep = load_sweep(path)
    assert sweep.name == path.stem and sweep.description
    assert sweep.steps == 365 and sweep.n_runs >= 80 and sweep.outputs


def test_batch_run_with_iterations_and_no_seed_warns_that_replicates_are_identical():
    from sim.provenance import MomentsimWarning

    with pytest.warns(MomentsimWarning, match="identical"):
        rows = batch_run(MarketModel, parameters={"scenario": "baseline", "population_size": 60},
                         iterations=2, max_steps=3, number_processes=1, display_progress=False)
    last = [r for r in rows if r["Step"] == 3]
    assert last[0]["purchases"] == last[1]["purchases"]  # what the warning says: the same run twice
