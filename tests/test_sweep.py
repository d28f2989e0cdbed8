"""Sweeps: the spec, the designs, the local executor, the Parquet store, resume, failures, the CLI.

Runs are tiny (200 consumers, 30 days) except in the interruption tests, which
need a sweep long enough to be killed halfway.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.params import ScenarioError
from sim.sweep import load_sweep, loads_sweep, read_daily, read_runs, run_one, run_sweep
from sim.sweep.cli import rerun_command
from sim.sweep.spec import flatten, metric_names

ENV = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
SMALL = """
scenario = "baseline"
steps = 30
seed = 7
replicates = 2
outputs = ["sentiment_ours", "market_share_ours", "acquisitions_ours", "negative_share_of_conversation"]
daily = ["sentiment_ours", "purchases"]

[set]
"population.size" = 200

[vary]
"sharing.negative_multiplier" = [1, 4]
brands.ours.quality = { low = 0.5, high = 0.8, num = 3 }
"""


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    """The small sweep, run once on local processes; (sweep, its output folder)."""
    folder = tmp_path_factory.mktemp("small")
    sweep = load_sweep(write(folder, SMALL))
    outcome = run_sweep(sweep, folder / "out", executor="local", workers=2)
    assert outcome.complete and outcome.ok == 12
    return sweep, folder / "out"


# --- the spec and the designs ------------------------------------------------------------------

def test_grid_is_every_combination_with_typed_values_and_spawned_seeds(tmp_path):
    sweep = load_sweep(write(tmp_path, SMALL))
    assert sweep.n_runs == 2 * 3 * 2
    assert sweep.points[0] == {"sharing.negative_multiplier": 1.0, "brands.ours.quality": 0.5}
    assert [p["brands.ours.quality"] for p in sweep.points] == [0.5, 0.65, 0.8] * 2
    assert all(isinstance(p["sharing.negative_multiplier"], float) for p in sweep.points)
    spawned = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(7).spawn(sweep.n_runs)]
    assert [sweep.seed_of(r) for r in range(sweep.n_runs)] == spawned
    assert len(set(spawned)) == sweep.n_runs
    task = sweep.task(5)  # point 2, replicate 1
    assert (task.point, task.replicate, task.seed) == (2, 1, spawned[5])


def test_sampling_designs_stay_in_their_ranges(tmp_path):
    base = 'scenario = "baseline"\nsteps = 30\nseed = 3\nreplicates = 1\n'
    ranges = '[vary]\n"sharing.negative_multiplier" = { low = 1, high = 8 }\n' \
             '"brands.ours.quality" = { low = 0.4, high = 0.9 }\n"population.size" = { low = 100, high = 300 }\n'
    lhs = loads_sweep(base + 'design = "lhs"\nsamples = 10\n' + ranges)
    values = np.array([[p[k] for k in lhs.parameters] for p in lhs.points])
    assert values.shape == (10, 3)
    # Latin hypercube: each tenth of each range holds exactly one point.
    strata = np.floor((values[:, 0] - 1) / 7 * 10).astype(int)
    assert sorted(strata) == list(range(10))
    assert all(isinstance(p["population.size"], int) and 100 <= p["population.size"] <= 300 for p in lhs.points)
    sobol = loads_sweep(base + 'design = "sobol"\nsamples = 8\n' + ranges)
    assert len(sobol.points) == 8 * (3 + 2)  # Saltelli, first and total order
    assert sobol.problem()["bounds"][1] == [0.4, 0.9]
    morris = loads_sweep(base + 'design = "morris"\nsamples = 4\n' + ranges)
    assert len(morris.points) == 4 * (3 + 1)
    assert loads_sweep(base + 'design = "lhs"\nsamples = 10\n' + ranges).points == lhs.points  # seeded


def test_flattened_summary_has_exactly_the_metric_names():
    result = sim.run("baseline", steps=5, overrides={"population.size": 50})
    assert list(flatten(result.summary())) == metric_names(["ours", "theirs"])


BAD = [  # (sweep text, the key the error must name, words it must contain)
    ('steps = 30\n[vary]\n"sharing.negative_multiplier" = [1, 2]\n', "scenario", "missing"),
    ('scenario = "baselin"\n', "scenario", "did you mean 'baseline'"),
    ('scenario = "baseline"\nreplicates = 0\n', "replicates", "expected an integer >= 1, found 0"),
    ('scenario = "baseline"\nreplicate = 3\n', "replicate", "did you mean 'replicates'"),
    ('scenario = "baseline"\ndesign = "grd"\n', "design", "found 'grd'"),
    ('scenario = "baseline"\n[vary]\n"sharing.negative_multiplie" = [1, 2]\n',
     "sharing.negative_multiplie", "unknown key"),
    ('scenario = "baseline"\n[vary]\n"sharing.negative_multiplier" = [1, -2]\n',
     "sharing.negative_multiplier", "found -2"),
    ('scenario = "baseline"\n[set]\n"sharing.base_propensity" = 0.1\n[vary]\n'
     '"sharing.negative_multiplier" = [1, 20]\n', "base_propensity", "found 0.1 x 20"),
    ('scenario = "baseline"\n[vary]\n"brands.ours.quality" = { low = 0.2, high = 0.8 }\n',
     "brands.ours.quality", "exactly one of num or step"),
    ('scenario = "baseline"\ndesign = "sobol"\nsamples = 10\n[vary]\n"brands.ours.quality" = [0.2, 0.8]\n',
     "samples", "power of 2"),
    ('scenario = "baseline"\ndesign = "lhs"\nsamples = 10\n[vary]\n"brands.ours.quality" = [0.2, 0.8]\n',
     "brands.ours.quality", "expected a range"),
    ('scenario = "baseline"\noutputs = ["sentiment_our"]\n', "outputs", "did you mean 'sentiment_ours'"),
    ('scenario = "baseline"\ndaily = ["sentiment"]\n', "daily", "found 'sentiment'"),
    ('scenario = "baseline"\n[vary]\n"market.brands" = [["a", "b"]]\n', "market.brands", "cannot be varied"),
    ('scenario = "baseline"\nsteps = [\n', "malformed TOML", ""),
]


@pytest.mark.parametrize("text,key,words", BAD, ids=[b[1] + "-" + str(i) for i, b in enumerate(BAD)])
def test_bad_sweep_files_name_file_and_key_exit_2_and_write_nothing(tmp_path, capsys, text, key, words):
    path = write(tmp_path, text, "bad.toml")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"momentsim: error: {path}") and key in err and words in err, err
    assert "Traceback" not in err and not out.exists()


def test_bad_sweep_file_from_the_command_line(tmp_path):
    path = write(tmp_path, 'scenario = "baseline"\n[vary]\n"brands.ours.quality" = [0.5, 1.5]\n', "bad.toml")
    done = subprocess.run([sys.executable, "-m", "sim", "sweep", str(path), "--out", str(tmp_path / "out")],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"{path}: vary" in done.stderr and "brands.ours.quality" in done.stderr and "found 1.5" in done.stderr
    assert not (tmp_path / "out").exists()


# --- running, the tables, rerunning one run ------------------------------------------------------

def test_runs_table_has_parameters_seed_status_and_metrics(small_sweep):
    sweep, out = small_sweep
    runs = read_runs(out)
    assert list(runs["run_id"]) == list(range(12))
    assert list(runs.columns[:7]) == ["run_id", "point", "replicate", "seed", "status", "error", "overrides"]
    assert set(sweep.parameters + sweep.outputs) <= set(runs.columns)
    assert (runs["status"] == "ok").all() and runs[sweep.outputs].notna().all().all()
    assert list(runs["seed"]) == [sweep.seed_of(r) for r in range(12)]
    assert list(runs["brands.ours.quality"]) == [0.5, 0.5, 0.65, 0.65, 0.8, 0.8] * 2
    assert runs["sentiment_ours"].nunique() > 1
    daily = read_daily(out)
    assert list(daily.columns) == ["run_id", "step", "sentiment_ours", "purchases"]
    assert len(daily) == 12 * 31 and list(daily.groupby("run_id")["step"].max()) == [30] * 12
    resolved = json.loads((out / "sweep.json").read_text())
    assert resolved["fingerprint"] == sweep.fingerprint() and resolved["runs"] == 12
    assert sim.load(out / "scenario.toml").params["population.size"] == 200


def test_one_row_reruns_alone_with_momentsim_run(small_sweep, tmp_path):
    _, out = small_sweep
    row = read_runs(out).iloc[7]
    words = rerun_command(out, row).split()
    assert words[:2] == ["momentsim", "run"]
    target = tmp_path / "again"
    done = subprocess.run([sys.executable, "-m", "sim", *words[1:-2], "--out", str(target)], env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads((target / "summary.json").read_text())
    rerun = flatten(summary)
    for metric in ("sentiment_ours", "market_share_ours", "acquisitions_ours", "negative_share_of_conversation"):
        assert rerun[metric] == row[metric], metric
    assert summary["seed"] == row["seed"]


def test_the_same_sweep_gives_the_same_table_in_threads(small_sweep, tmp_path):
    sweep, out = small_sweep
    with ThreadPoolExecutor(max_workers=3) as pool:
        outcome = run_sweep(sweep, tmp_path / "threads", executor=pool)
    assert outcome.complete
    pd.testing.assert_frame_equal(read_runs(tmp_path / "threads"), read_runs(out))
    pd.testing.assert_frame_equal(read_daily(tmp_path / "threads"), read_daily(out))


def test_a_finished_sweep_reruns_nothing_and_a_changed_one_is_refused(small_sweep, tmp_path):
    sweep, out = small_sweep
    parts = sorted(p.name for p in (out / "runs").iterdir())
    again = run_sweep(sweep, out, executor="local", workers=1)
    assert (again.skipped, again.ok, again.failed, again.lost) == (12, 0, 0, 0) and again.complete
    assert sorted(p.name for p in (out / "runs").iterdir()) == parts
    changed = write(tmp_path, SMALL.replace("replicates = 2", "replicates = 3"))
    with pytest.raises(ScenarioError, match="holds the results of a different sweep"):
        run_sweep(load_sweep(changed), out)


def flaky(scenario, seed, overrides):
    """A model that raises at one parameter point, as a buggy extension might."""
    if overrides.get("brands.ours.quality") == 0.65:
        raise RuntimeError("the model broke at quality 0.65")
    return sim.run(scenario, seed=seed, overrides=overrides)


def test_a_run_that_raises_is_recorded_and_the_rest_finish(tmp_path, small_sweep):
    sweep, reference = small_sweep
    outcome = run_sweep(sweep, tmp_path / "flaky", executor="local", workers=2, simulate=flaky)
    assert (outcome.ok, outcome.failed, outcome.lost) == (8, 4, 0) and outcome.complete
    runs = read_runs(tmp_path / "flaky")
    failed = runs[runs["status"] == "failed"]
    assert list(failed["point"]) == [1, 1, 4, 4]
    # the type, the message, and the run's parameters and seed (enough to rerun it alone)
    assert failed["error"].str.startswith("RuntimeError: the model broke at quality 0.65 [run ").all()
    for _, row in failed.iterrows():
        assert f"seed {row['seed']}," in row["error"]
        assert '"brands.ours.quality": 0.65' in row["error"] and "sharing.negative_multiplier" in row["error"]
    assert failed["sentiment_ours"].isna().all()
    ok = runs["status"] == "ok"
    pd.testing.assert_frame_equal(runs[ok].reset_index(drop=True),
                                  read_runs(reference)[ok].reset_index(drop=True))
    assert sorted(read_daily(tmp_path / "flaky")["run_id"].unique()) == list(runs[ok]["run_id"])
    # Failures are results: a rerun does not redo them.
    again = run_sweep(sweep, tmp_path / "flaky", executor="local", workers=1, simulate=flaky)
    assert (again.skipped, again.ok, again.failed) == (12, 0, 0)


def test_run_one_never_raises_for_the_model(small_sweep):
    sweep, _ = small_sweep
    result = run_one(sweep.task(2), simulate=flaky)
    assert result["row"]["status"] == "failed" and result["daily"] is None
    assert result["row"]["run_id"] == 2 and np.isnan(result["row"]["sentiment_ours"])


# --- interruption and resume, as a real process ----------------------------------------------------

LONG = """
scenario = "baseline"
steps = 90
seed = 11
replicates = 4
outputs = ["sentiment_ours", "market_share_ours"]
daily = ["sentiment_ours"]

[set]
"population.size" = 800

[vary]
"sharing.negative_multiplier" = [1, 2, 3, 4, 5, 6, 7, 8]
"brands.ours.quality" = [0.55, 0.7]
"""


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_sweep_killed_halfway_resumes_to_a_complete_table_without_duplicates(tmp_path, how):
    path = write(tmp_path, LONG)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--workers", "2"]
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("part-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, how)  # the whole process group, as Ctrl-C or a killed job would
    _, err = process.communicate(timeout=60)
    assert process.returncode == (-signal.SIGKILL if how == signal.SIGKILL else 130), err
    before = read_runs(out)
    assert 0 < len(before) < 64, "the sweep must be stopped halfway for this test to mean anything"

    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} were already done" in done.stdout
    runs = read_runs(out)
    raw = pd.concat([pd.read_parquet(p) for p in (out / "runs").glob("part-*.parquet")])
    assert sorted(raw["run_id"]) == list(range(64))  # every run once, across all part files
    assert (runs["status"] == "ok").all()
    pd.testing.assert_frame_equal(runs[runs["run_id"].isin(before["run_id"])].reset_index(drop=True),
                                  before.reset_index(drop=True))
    daily = pd.concat([pd.read_parquet(p) for p in (out / "daily").glob("part-*.parquet")])
    assert len(daily) == 64 * 91 and not daily.duplicated(["run_id", "step"]).any()
    sweep = load_sweep(path)
    for rid in (0, 37, 63):  # a resumed run is the same run
        row = run_one(sweep.task(rid))["row"]
        assert runs.loc[rid, "sentiment_ours"] == row["sentiment_ours"]
    assert not list(out.rglob("*.tmp"))


# --- the report -------------------------------------------------------------------------------------

def test_report_gives_mean_and_t_interval_per_point_and_figures(small_sweep, capsys):
    from scipy import stats

    sweep, out = small_sweep
    assert main(["sweep-report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sentiment_ours: mean [95 % CI]" in printed and "n=2" in printed
    summary = pd.read_csv(out / "report" / "summary.csv")
    assert len(summary) == len(sweep.points) * len(sweep.outputs)
    runs = read_runs(out)
    values = runs[runs["point"] == 4]["market_share_ours"].to_numpy()
    row = summary[(summary["point"] == 4) & (summary["metric"] == "market_share_ours")].iloc[0]
    half = stats.t.ppf(0.975, 1) * values.std(ddof=1) / np.sqrt(2)
    assert row["n"] == 2 and row["brands.ours.quality"] == 0.65 and row["sharing.negative_multiplier"] == 4
    assert row["mean"] == pytest.approx(values.mean(), rel=1e-5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((values.mean() - half, values.mean() + half), rel=1e-5)
    for metric in sweep.outputs:
        assert (out / "report" / f"{metric}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("design", ["sobol", "morris"])
def test_sensitivity_indices_find_the_parameter_that_matters(design):
    from sim.sweep.report import sensitivity

    sweep = loads_sweep(f'scenario = "baseline"\ndesign = "{design}"\nsamples = 64\nseed = 1\n[vary]\n'
                        '"brands.ours.quality" = { low = 0.2, high = 0.9 }\n'
                        '"reviews.reference_rating" = { low = 1.0, high = 5.0 }\n')
    summary = pd.DataFrame(sweep.points).assign(point=range(len(sweep.points)), metric="y")
    summary["mean"] = 3.0 * summary["brands.ours.quality"]  # a response that ignores the second parameter
    indices = sensitivity(design, sweep.problem(), summary, ["y"], seed=1).set_index("parameter")
    if design == "sobol":
        assert indices.loc["brands.ours.quality", "S1"] == pytest.approx(1.0, abs=0.05)
        assert indices.loc["reviews.reference_rating", "ST"] == pytest.approx(0.0, abs=0.02)
    else:
        assert indices.loc["brands.ours.quality", "mu_star"] == pytest.approx(3.0 * 0.7, rel=1e-6)
        assert indices.loc["reviews.reference_rating", "mu_star"] == 0.0


def test_a_morris_sweep_reports_its_indices(tmp_path):
    path = write(tmp_path, 'scenario = "baseline"\nsteps = 20\ndesign = "morris"\nsamples = 3\nseed = 5\n'
                           'outputs = ["sentiment_ours"]\n[set]\n"population.size" = 100\n[vary]\n'
                           '"brands.ours.quality" = { low = 0.3, high = 0.9 }\n'
                           '"sharing.negative_multiplier" = { low = 1, high = 8 }\n')
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert run_sweep(load_sweep(path), tmp_path / "out", executor=pool).complete
    assert main(["sweep-report", str(tmp_path / "out")]) == 0
    indices = pd.read_csv(tmp_path / "out" / "report" / "sensitivity.csv")
    assert list(indices["parameter"]) == ["brands.ours.quality", "sharing.negative_multiplier"]
    assert indices["mu_star"].notna().all() and (indices["mu_star"] >= 0).all()
    assert (tmp_path / "out" / "report" / "sentiment_ours.png").is_file()
