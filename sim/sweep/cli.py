"""``momentsim sweep`` and ``momentsim sweep-report``: thin front ends over run_sweep and report."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from .execute import DEFAULT_OUT, run_sweep
from .spec import load_sweep
from .store import read_runs


def rerun_command(out: str | Path, row) -> str:
    """The ``momentsim run`` command that reruns one row of the runs table alone."""
    out = Path(out)
    words = ["momentsim", "run", str(out / "scenario.toml"), "--seed", str(int(row["seed"]))]
    for key, value in json.loads(row["overrides"]).items():
        words += ["--set", f"{key}={json.dumps(value)}"]
    words += ["--out", str(out / "rerun" / f"run-{int(row['run_id'])}")]
    return shlex.join(words)


def cmd_sweep(args) -> int:
    sweep = load_sweep(args.sweep)
    out = args.out if args.out is not None else DEFAULT_OUT / sweep.name
    executor = "dask" if args.scheduler is not None else args.executor
    outcome = run_sweep(sweep, out, executor=executor, scheduler=args.scheduler, workers=args.workers,
                        progress=None)
    points = len(sweep.points)
    print(f"{sweep.name}: {sweep.n_runs} runs ({points} point{'s' * (points != 1)} x {sweep.replicates} "
          f"replicate{'s' * (sweep.replicates != 1)}, {sweep.design} design, {sweep.steps} days)")
    print(f"  this time: {outcome.ok} finished, {outcome.failed} failed, {outcome.lost} not recorded; "
          f"{outcome.skipped} were already done ({outcome.seconds:.1f} s)")
    for error in outcome.errors:
        print(f"  lost: {error}")
    runs = read_runs(out) if outcome.ok + outcome.skipped + outcome.failed else None
    if runs is not None:
        failed = runs[runs["status"] == "failed"]
        print(f"  in {out}: {len(runs)} of {sweep.n_runs} runs recorded, {len(failed)} failed")
        for _, row in failed.head(3).iterrows():
            print(f"    run {row['run_id']} failed: {row['error']}")
        ok = runs[runs["status"] == "ok"]
        if len(ok):
            print(f"  rerun one run alone: {rerun_command(out, ok.iloc[0])}")
    if not outcome.complete:
        print("  incomplete: run the same command again to run only what is missing")
        return 1
    print(f"wrote {out / 'runs'}{' and ' + str(out / 'daily') if sweep.daily else ''}; "
          f"next: momentsim sweep-report {out}")
    return 0


def cmd_report(args) -> int:
    from .report import report, report_text

    result = report(args.dir)
    print(report_text(result))
    return 0
