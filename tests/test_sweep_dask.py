"""Sweeps on a real Dask cluster (two worker processes on 127.0.0.1) give the local executor's table."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cloudpickle
import dask

import pandas as pd
import pytest

import sim
from sim.sweep import load_sweep, read_daily, read_runs, run_sweep
from sim.sweep.store import done_ids

distributed = pytest.importorskip("distributed")

STUDY = """
scenario = "baseline"
steps = 30
seed = 99
replicates = 3
outputs = ["sentiment_ours", "rating_ours", "market_share_ours", "revenue_theirs"]
daily = ["sentiment_ours"]

[set]
"population.size" = 200

[vary]
"brands.ours.review_prompting" = [0.0, 0.4]
"brands.ours.service_recovery" = [0.0, 0.5]
"""


@pytest.fixture(scope="module")
def cluster():
    # A task whose worker dies is not retried on another: the lost-worker test stays short.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask") / "review_vs_recovery.toml"
    path.write_text(STUDY, encoding="utf-8")
    return load_sweep(path)


def test_dask_cluster_gives_the_same_table_as_local_processes(cluster, sweep, tmp_path: Path):
    local = run_sweep(sweep, tmp_path / "local", executor="local", workers=2)
    on_dask = run_sweep(sweep, tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address)
    assert local.complete and on_dask.complete and on_dask.ok == 12
    runs = read_runs(tmp_path / "dask")
    assert list(runs["run_id"]) == list(range(12)) and (runs["status"] == "ok").all()
    pd.testing.assert_frame_equal(runs, read_runs(tmp_path / "local"))
    pd.testing.assert_frame_equal(read_daily(tmp_path / "dask"), read_daily(tmp_path / "local"))
    # The runs really differ from one another: equal tables are not equal by emptiness.
    assert runs["sentiment_ours"].nunique() > 6


def test_a_client_passed_from_python_and_resume_on_dask(cluster, sweep, tmp_path: Path):
    out = tmp_path / "out"
    with distributed.Client(cluster) as client:
        first = run_sweep(sweep, out, executor=client, batch=4)
        assert first.complete and client.status == "running"  # a client we were given stays open
        parts = sorted((out / "runs").iterdir())
        assert len(parts) == 3
        parts[1].unlink()  # as if the process had died before this batch landed
        missing = 12 - len(done_ids(out))
        again = run_sweep(sweep, out, executor=client)
    assert (again.ok, again.skipped) == (missing, 12 - missing) and missing == 4
    assert list(read_runs(out)["run_id"]) == list(range(12))


def dies_at_one_point(scenario, seed, overrides):
    """A run that takes its worker process down with it (out of memory, a segfault...)."""
    if overrides["brands.ours.review_prompting"] == 0.4 and overrides["brands.ours.service_recovery"] == 0.5:
        os._exit(1)
    return sim.run(scenario, seed=seed, overrides=overrides)


def test_runs_on_a_lost_worker_are_not_recorded_and_a_rerun_redoes_them(cluster, sweep, tmp_path: Path):
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this file
    out = tmp_path / "out"
    with distributed.Client(cluster) as client:
        lost = run_sweep(sweep, out, executor=client, simulate=dies_at_one_point)
        # The three runs of point 3 kill their worker; a run that shared the dying worker may be lost too.
        assert lost.failed == 0 and lost.lost >= 3 and lost.ok + lost.lost == 12 and not lost.complete
        assert "KilledWorker" in lost.errors[0]
        recorded = read_runs(out)
        assert len(recorded) == lost.ok and 3 not in set(recorded["point"])
        client.wait_for_workers(2, timeout=60)
        again = run_sweep(sweep, out, executor=client)
    assert (again.skipped, again.ok, again.lost) == (lost.ok, lost.lost, 0) and again.complete
    assert list(read_runs(out)["run_id"]) == list(range(12))
