"""Inputs that are accepted, and what the user is told about them; provenance of every kept result.

The decisions (docs/sweeps.md, "Hardening"): an event after the last day runs but warns; --workers
is capped at four a core with a warning; a relative ``--set network.file`` is relative to the current
folder; an edge list's byte-order mark is skipped; a run that fails or kills its worker inside a sweep
is recorded with its type, message and parameters while the other runs finish.
"""

from __future__ import annotations

import functools
import json
import os
import signal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import sim
from sim import provenance
from sim.cli import main
from sim.sweep import loads_sweep, read_runs, run_sweep
from sim.sweep.store import provenance_of

TINY = ["--steps", "5", "--set", "population.size=40"]
PROVENANCE_KEYS = {"momentsim", "git", "python", "implementation", "libraries", "platform", "command",
                   "started", "wall_seconds"}
LIBRARIES = {"mesa", "numpy", "pandas", "pyarrow", "dask"}


def _run(argv, capsys, cwd: Path, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


# --- provenance --------------------------------------------------------------------------------------

def test_summary_json_is_strict_json_with_provenance(tmp_path, capsys, monkeypatch):
    code, _, _ = _run(["run", "baseline", *TINY, "--seed", "3", "--out", "o"], capsys, tmp_path, monkeypatch)
    assert code == 0
    text = (tmp_path / "o" / "summary.json").read_text()
    summary = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    made = summary["provenance"]
    assert PROVENANCE_KEYS <= set(made)
    assert made["momentsim"] == provenance.version() and made["command"][:3] == ["momentsim", "run", "baseline"]
    assert LIBRARIES <= set(made["libraries"]) and all(made["libraries"][k] for k in LIBRARIES)
    assert made["wall_seconds"] > 0 and made["started"].endswith("+00:00")
    if (Path(sim.__file__).parent.parent / ".git").exists():  # run from a checkout: its commit
        assert len(made["git"]["commit"]) == 40 and isinstance(made["git"]["dirty"], bool)


def test_nan_never_reaches_json():
    text = provenance.dumps({"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": -float("inf")}})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": {"d": None}}


def test_a_scenario_toml_written_by_another_version_warns(tmp_path, capsys, monkeypatch):
    code, _, _ = _run(["run", "baseline", *TINY, "--out", "first"], capsys, tmp_path, monkeypatch)
    written = (tmp_path / "first" / "scenario.toml").read_text()
    assert written.startswith(f"# written by momentsim {provenance.version()}")
    code, _, err = _run(["run", "first/scenario.toml", "--out", "same"], capsys, tmp_path, monkeypatch)
    assert code == 0 and "warning" not in err  # same version: no warning
    older = written.replace(f"# written by momentsim {provenance.version()}", "# written by momentsim 0.0.1", 1)
    (tmp_path / "older.toml").write_text(older)
    code, _, err = _run(["run", "older.toml", "--out", "again"], capsys, tmp_path, monkeypatch)
    assert code == 0
    assert "momentsim: warning: older.toml: written by momentsim 0.0.1" in err and "may not give the same" in err
    assert (tmp_path / "again" / "timeseries.csv").read_bytes() == (tmp_path / "first" / "timeseries.csv").read_bytes()


SWEEP = """
scenario = "baseline"
steps = 4
seed = 9
replicates = 2
outputs = ["sentiment_ours", "purchases"]
[set]
"population.size" = 30
[vary]
"sharing.negative_multiplier" = [1, 4]
"""


def test_sweep_json_and_parquet_parts_carry_provenance(tmp_path):
    out = tmp_path / "out"
    outcome = run_sweep(loads_sweep(SWEEP, tmp_path / "s.toml"), out, executor="local", workers=1,
                        argv=["momentsim", "sweep", "s.toml"])
    assert outcome.complete
    resolved = json.loads((out / "sweep.json").read_text())
    made = resolved["provenance"]
    assert PROVENANCE_KEYS <= set(made) and made["command"] == ["momentsim", "sweep", "s.toml"]
    assert made["runs_this_session"] == {"ok": 4, "failed": 0, "lost": 0} and made["wall_seconds"] > 0
    part = sorted((out / "runs").glob("part-*.parquet"))[0]
    assert provenance_of(part)["momentsim"] == provenance.version()
    meta = json.loads(pq.read_schema(part).metadata[b"momentsim.sweep"])
    assert meta["fingerprint"] == resolved["fingerprint"]
    # a resumed sweep keeps the earlier session's record
    again = run_sweep(loads_sweep(SWEEP, tmp_path / "s.toml"), out, executor="local", workers=1)
    assert again.skipped == 4
    resolved = json.loads((out / "sweep.json").read_text())
    assert resolved["earlier_sessions"][0]["started"] == made["started"]


# --- accepted, with a warning --------------------------------------------------------------------------

def test_an_event_after_the_last_day_warns(tmp_path, capsys, monkeypatch):
    (tmp_path / "late.toml").write_text('steps = 5\n[population]\nsize = 40\n'
                                        '[[events]]\nday = 400\nbrand = "ours"\nlever = "quality"\nvalue = 0.3\n')
    code, _, err = _run(["run", "late.toml", "--out", "o"], capsys, tmp_path, monkeypatch)
    assert code == 0
    assert "momentsim: warning:" in err and "events[0] on day 400 is after the last day (5)" in err


def test_workers_are_capped_with_a_warning(tmp_path, capsys, monkeypatch):
    (tmp_path / "s.toml").write_text(SWEEP.replace("replicates = 2", "replicates = 1"))
    code, out, err = _run(["sweep", "s.toml", "--workers", "100000", "--out", "o"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    cap = 4 * (os.cpu_count() or 1)
    assert f"--workers 100,000: capped at {cap}" in err


def test_a_long_run_gets_a_time_estimate(tmp_path, capsys, monkeypatch):
    """A run that can run but will take long is warned about, with an estimate, before it starts."""
    with pytest.warns(provenance.MomentsimWarning, match="expect about"):
        sim.api.check_size(sim.load("baseline", {"population.size": 1_000_000, "steps": 3650}))


def test_relative_set_network_file_is_relative_to_the_current_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "edges.txt").write_text("a b\nb c\nc d\nd a\n")
    code, out, err = _run(["run", "baseline", "--steps", "3", "--set", "network.kind=file", "--set",
                           "network.file=edges.txt", "--out", "o"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    written = (tmp_path / "o" / "scenario.toml").read_text()
    assert f'file = "{tmp_path.resolve() / "edges.txt"}"' in written
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["population"] == 4


def test_an_edge_list_with_a_byte_order_mark_reads_clean_labels(tmp_path):
    from sim.network import read_edge_list

    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffalice bob\nbob carol\n".encode("utf-8"))
    labels, edges = read_edge_list(path)
    assert labels == ["alice", "bob", "carol"] and edges.tolist() == [[0, 1], [1, 2]]


# --- a sweep's failures: recorded, and the other runs go on ------------------------------------------------

def killer(bad_seed: int, scenario, seed, overrides):
    """A run that kills its own worker process (as the out-of-memory killer would)."""
    if seed == bad_seed:
        os.kill(os.getpid(), signal.SIGKILL)
    return sim.run(scenario, seed=seed, overrides=overrides)


def test_a_killed_worker_does_not_stop_the_other_runs(tmp_path):
    sweep = loads_sweep(SWEEP, tmp_path / "s.toml")
    bad = sweep.seed_of(2)
    outcome = run_sweep(sweep, tmp_path / "out", executor="local", workers=2,
                        simulate=functools.partial(killer, bad))
    assert (outcome.ok, outcome.failed, outcome.lost) == (3, 1, 0) and outcome.complete
    assert outcome.errors and "worker process died" in outcome.errors[0]
    runs = read_runs(tmp_path / "out")
    failed = runs[runs["status"] == "failed"]
    assert list(failed["run_id"]) == [2]
    error = failed["error"].iloc[0]
    assert error.startswith("WorkerDied: ") and f"seed {bad}" in error and "sharing.negative_multiplier" in error
