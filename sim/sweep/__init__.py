"""Replicated parameter studies: designs, executors, a Parquet result store, reports.

A spec in, a table out::

    from sim.sweep import load_sweep, run_sweep, read_runs, report
    sweep = load_sweep("scenarios/sweeps/negative_multiplier_vs_quality.toml")
    outcome = run_sweep(sweep, "out/sweeps/nm", executor="local")   # or "dask", or any Executor
    runs = read_runs("out/sweeps/nm")                                # one row a run, sorted by run id
    summary = report("out/sweeps/nm")                                # means, 95 % CIs, figures
"""

from .execute import Outcome, run_one, run_sweep
from .spec import Sweep, Task, load_sweep, loads_sweep, metric_names
from .report import Report, report
from .store import read_daily, read_runs

__all__ = ["Outcome", "Report", "Sweep", "Task", "load_sweep", "loads_sweep", "metric_names", "read_daily",
           "read_runs", "report", "run_one", "run_sweep"]
