"""``momentsim sweep`` and ``momentsim sweep-report``: thin front ends over run_sweep and report."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from .execute import DEFAULT_OUT, run_sweep
from .spec import load_sweep
from .store import read_runs

WORKERS_PER_CORE = 4
ADDRESS = re.compile(r"^(?:(tcp|tls|inproc|ucx|ws|wss)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$")


def check_address(address: str) -> None:
    """Refuse a scheduler address that is not one (before trying to connect to it)."""
    from ..params import ScenarioError
    from ..scenario import cut

    match = ADDRESS.match(address)
    if not match or (match.group(3) is not None and not 1 <= int(match.group(3)) <= 65535):
        raise ScenarioError(f"--scheduler {cut(repr(address))}: expected a Dask scheduler address such as "
                            f"tcp://127.0.0.1:8786 or 127.0.0.1:8786")


def rerun_command(out: str | Path, row) -> str:
    """The ``momentsim run`` command that reruns one row of the runs table alone."""
    out = Path(out)
    words = ["momentsim", "run", str(out / "scenario.toml"), "--seed", str(int(row["seed"]))]
    for key, value in json.loads(row["overrides"]).items():
        words += ["--set", f"{key}={json.dumps(value)}"]
    words += ["--out", str(out / "rerun" / f"run-{int(row['run_id'])}")]
    return shlex.join(words)


def cmd_sweep(args) -> int:
    from .. import api, provenance
    from .spec import shipped_sweeps

    path = args.sweep
    if not path.exists() and str(path) in shipped_sweeps():
        path = shipped_sweeps()[str(path)]
    sweep = load_sweep(path)
    out = args.out if args.out is not None else DEFAULT_OUT / sweep.name
    api.check_writable(out, "--out")
    executor = "dask" if args.scheduler is not None else args.executor
    workers = args.workers
    cap = WORKERS_PER_CORE * (os.cpu_count() or 1)
    if workers is not None and workers > cap and args.scheduler is None:
        provenance.warn(f"--workers {workers:,}: capped at {cap} ({WORKERS_PER_CORE} a core on this "
                        f"machine's {os.cpu_count() or 1}); more processes only add memory")
        workers = cap
    if args.scheduler is not None:
        check_address(args.scheduler)
    outcome = run_sweep(sweep, out, executor=executor, scheduler=args.scheduler, workers=workers,
                        progress=None, timeout=getattr(args, "timeout", 10.0),
                        argv=getattr(args, "argv", None))
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

    formats = tuple(f.strip() for f in getattr(args, "format", "png").split(",") if f.strip())
    result = report(args.dir, formats=formats or ("png",))
    print(report_text(result))
    return 0
