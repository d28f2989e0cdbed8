"""`momentsim calibrate` end to end on data the model made at known values (small budgets, real pyabc).

One module-wide calibration (1 worker, so repeatable) feeds the output checks; a second is killed
mid-run and resumed; a third runs on a real Dask LocalCluster started here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibrate import load_spec, run_posterior
from sim.calibrate.synthetic import make_tidy, write_tidy
from sim.cli import main

TRUTH = {"brands.ours.quality": 0.75, "sharing.base_propensity": 0.1}
SERIES = ["purchases", "reviews", "rating", "net_sentiment"]
ENV = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}


def spec_text(generations=3, population=24, simulations=400, predictive=8) -> str:
    return f"""title = "synthetic test"
scenario = "baseline"
data = "data.csv"
period = "week"
population = 200
market_size = 20000
holdout = 2
seed = 5

[parameters."brands.ours.quality"]
prior = "uniform"
low = 0.3
high = 0.95

[parameters."sharing.base_propensity"]
prior = "truncated_normal"
mean = 0.1
sd = 0.05
low = 0.01
high = 0.2

[series.purchases]
weight = 1
[series.reviews]
weight = 0.5
[series.rating]
[series.net_sentiment]

[budget]
population = {population}
max_population = {population * 2}
generations = {generations}
simulations = {simulations}
predictive = {predictive}
"""


def write_case(folder: Path, **budget) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = make_tidy("baseline", TRUTH, SERIES, n_periods=8, population=200, market_size=20000, seed=11)
    write_tidy(data, folder / "data.csv")
    (folder / "spec.toml").write_text(spec_text(**budget))
    return folder / "spec.toml"


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    spec = write_case(tmp_path_factory.mktemp("calib"))
    out = spec.parent / "out"
    assert main(["calibrate", str(spec), "--out", str(out), "--workers", "1"]) == 0
    return spec, out


def test_writes_every_output(calibrated):
    _, out = calibrated
    for name in ("history.db", "posterior.parquet", "posterior.csv", "fit.csv", "fit.png", "calibrated.toml",
                 "provenance.json"):
        assert (out / name).is_file(), name
    assert (out / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob("*.tmp"))


def test_posterior_sample_has_weights_and_stays_in_the_prior(calibrated):
    _, out = calibrated
    post = pd.read_parquet(out / "posterior.parquet")
    assert list(post.columns) == [*TRUTH, "weight"]
    assert post["weight"].sum() == pytest.approx(1.0)
    assert (post["weight"] >= 0).all() and len(post) >= 24
    assert post["brands.ours.quality"].between(0.3, 0.95).all()
    assert post["sharing.base_propensity"].between(0.01, 0.2).all()


def test_posterior_table_reports_intervals_width_ratio_and_notes(calibrated):
    _, out = calibrated
    table = pd.read_csv(out / "posterior.csv").set_index("parameter")
    assert list(table.index) == list(TRUTH)
    assert (table["ci90_low"] <= table["median"]).all() and (table["median"] <= table["ci90_high"]).all()
    assert (table["width_ratio"] > 0).all()
    assert set(table["note"]) <= {"informed", "weakly informed",
                                  "not informed by the data: the posterior is about as wide as the prior"}
    # the brand's quality drives its sales, reviews and rating: the data inform it
    q = table.loc["brands.ours.quality"]
    assert q["width_ratio"] < 0.8
    assert q["ci90_low"] <= TRUTH["brands.ours.quality"] <= q["ci90_high"]


def test_fit_marks_the_holdout_and_its_coverage(calibrated):
    spec_path, out = calibrated
    fit = pd.read_csv(out / "fit.csv")
    assert set(fit["series"]) == set(SERIES)
    hold = fit[fit["window"] == "holdout"]
    assert sorted(hold["period"].unique()) == [6, 7]
    assert (fit["q05"] <= fit["median"]).all() and (fit["median"] <= fit["q95"]).all()
    prov = json.loads((out / "provenance.json").read_text())
    inside = ((hold["observed"] >= hold["q05"]) & (hold["observed"] <= hold["q95"])).mean()
    assert prov["holdout_coverage_90"] == pytest.approx(inside)
    assert prov["spec_sha256"] == load_spec(spec_path).digest
    assert prov["seed"] == 5 and prov["versions"]["pyabc"] and prov["generations"] == 3


def test_calibrated_scenario_runs_at_the_posterior_median(calibrated, tmp_path):
    _, out = calibrated
    doc = tomllib.loads((out / "calibrated.toml").read_text())
    table = pd.read_csv(out / "posterior.csv").set_index("parameter")
    assert doc["brands"]["ours"]["quality"] == pytest.approx(table.loc["brands.ours.quality", "median"])
    assert doc["population"]["size"] == 200 and doc["engine"] == "array" and doc["steps"] == 56
    assert main(["run", str(out / "calibrated.toml"), "--steps", "10", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "timeseries.csv").is_file()


def test_run_with_posterior_draws_parameters_per_replicate(calibrated, tmp_path):
    _, out = calibrated
    assert main(["run", "baseline", "--posterior", str(out / "posterior.parquet"), "--replicates", "4",
                 "--steps", "15", "--set", "population.size=200", "--engine", "array",
                 "--out", str(tmp_path / "fc")]) == 0
    reps = pd.read_csv(tmp_path / "fc" / "replicates.csv")
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(reps) == 4 and list(reps["seed"]) == [42, 43, 44, 45]
    gap = np.abs(reps["brands.ours.quality"].to_numpy()[:, None] - post["brands.ours.quality"].to_numpy()).min(axis=1)
    assert (gap < 1e-8).all()  # each replicate's value is a particle of the posterior
    bands = pd.read_csv(tmp_path / "fc" / "bands.csv")
    assert {"step", "column", "q05", "q50", "q95"} <= set(bands.columns)
    # the Python API gives the same draws for the same seed: what-ifs on it are paired
    again = run_posterior("baseline", out / "posterior.parquet", 4, steps=15,
                          overrides={"population.size": 200, "engine": "array"})
    assert np.allclose(again.draws["brands.ours.quality"], reps["brands.ours.quality"])
    assert list(again.summaries["purchases_ours"]) == list(reps["purchases_ours"])


def _generations(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_resume_after_a_kill_continues_the_history(tmp_path):
    spec = write_case(tmp_path / "case", generations=3, population=12, simulations=2000, predictive=4)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "calibrate", str(spec), "--out", str(out),
                             "--workers", "1"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while _generations(out / "history.db") < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    killed_at = _generations(out / "history.db")
    assert 1 <= killed_at < 3, "the run should be killed after its first generation, before the last"
    assert not (out / "posterior.parquet").exists()
    with sqlite3.connect(out / "history.db") as con:
        first = con.execute("select count(*) from particles p join models m on p.model_id = m.id "
                            "join populations pop on m.population_id = pop.id where pop.t = 0").fetchone()[0]
    assert main(["calibrate", str(spec), "--out", str(out), "--workers", "1", "--resume"]) == 0
    assert _generations(out / "history.db") == 3
    with sqlite3.connect(out / "history.db") as con:
        again = con.execute("select count(*) from particles p join models m on p.model_id = m.id "
                            "join populations pop on m.population_id = pop.id where pop.t = 0").fetchone()[0]
    assert again == first  # the generation done before the kill is kept, not redone
    assert json.loads((out / "provenance.json").read_text())["resumed"] == 1
    assert (out / "posterior.parquet").is_file()


def test_on_a_real_dask_cluster(tmp_path):
    import distributed

    spec = write_case(tmp_path / "case", generations=2, population=12, simulations=300, predictive=4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
            assert main(["calibrate", str(spec), "--out", str(tmp_path / "out"), "--executor", "dask",
                         "--scheduler", cluster.scheduler_address]) == 0
        # the simulations ran as tasks on the cluster's two workers
        assert len(stream.data) >= 12
        assert len({task["worker"] for task in stream.data}) == 2
    post = pd.read_parquet(tmp_path / "out" / "posterior.parquet")
    assert len(post) >= 12 and post["weight"].sum() == pytest.approx(1.0)
    assert json.loads((tmp_path / "out" / "provenance.json").read_text())["executor"] == "dask"


def test_a_simulation_is_a_function_of_its_draw_and_the_seeded_generator(calibrated):
    from sim.calibrate import abc as wiring

    spec = load_spec(calibrated[0])
    sim = wiring.simulator(spec)
    np.random.seed(3)
    a = sim(TRUTH)
    np.random.seed(3)
    b = sim(TRUTH)
    c = sim(TRUTH)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(b[k], c[k]) for k in b)   # the next draw has another seed
    # only observed fit-window periods enter: 6 fitted weeks of each series and brand
    assert {len(v) for v in a.values()} == {6}
