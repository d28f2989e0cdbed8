"""The ``momentsim`` command: run, scenarios, validate, ui, sweep, sweep-report.

A user's mistake (a bad scenario, option or file) ends in one message on
stderr and exit status 2, with nothing written to the output folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import api
from .params import ScenarioError
from .scenario import parse_override

EXIT_USAGE = 2


def _number(kind: type, strictly_positive: bool):
    """An argparse type: an int or float that is > 0 (or >= 0), finite, with a clear message."""
    expected = f"{'a positive' if strictly_positive else 'a non-negative'} " \
               f"{'integer' if kind is int else 'number'}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, found {text!r}") from None
        if value < 0 or (strictly_positive and value == 0) or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected {expected}, found {text!r}")
        return value

    return parse


_positive_int = _number(int, strictly_positive=True)
_nonnegative_int = _number(int, strictly_positive=False)
_coefficient = _number(float, strictly_positive=True)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="momentsim",
        description="Agent-based market simulator of the customer journey (Stimulus, ZMOT, FMOT, SMOT, UMOT).")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write its table, summary and chart")
    run.add_argument("scenario", help="a shipped scenario's name or a scenario TOML file")
    run.add_argument("--steps", type=_positive_int, help="days to simulate (default: the scenario's)")
    run.add_argument("--seed", type=_nonnegative_int, help="random seed (default: the scenario's)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a parameter by dotted key, e.g. --set brands.ours.quality=0.5")
    run.add_argument("--engine", choices=["agent", "array"],
                     help="agent: one Mesa agent a consumer; array: NumPy arrays, for millions of consumers "
                          "(default: the scenario's engine, agent unless it says)")
    run.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")

    sub.add_parser("scenarios", help="list the shipped scenarios")

    validate = sub.add_parser("validate", help="check the model against known results")
    checks = validate.add_subparsers(dest="check", required=True, metavar="CHECK")
    bass = checks.add_parser("bass", help="the journey model in its Bass (1969) limit")
    bass.add_argument("--p", type=_coefficient, default=0.03, help="innovation coefficient a year (0.03)")
    bass.add_argument("--q", type=_coefficient, default=0.38, help="imitation coefficient a year (0.38)")
    bass.add_argument("--population", type=_positive_int, default=2000, help="consumers (2000)")
    bass.add_argument("--years", type=_coefficient, default=15.0, help="years to simulate (15)")
    bass.add_argument("--seed", type=_nonnegative_int, default=42, help="random seed (42)")
    bass.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")

    _add_ui_parser(sub)
    _add_sweep_parsers(sub)
    _add_calibrate_parser(sub)
    return top


def _add_ui_parser(sub) -> None:
    """``momentsim ui``: the strategist's browser app (sim/app)."""
    ui = sub.add_parser("ui", help="start the browser app for what-if scenarios")
    ui.add_argument("scenario", nargs="?", default="baseline",
                    help="a shipped scenario's name or a scenario TOML file (default: baseline)")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    ui.add_argument("--port", type=_positive_int, default=8765, help="port to listen on (default: 8765)")


def _add_sweep_parsers(sub) -> None:
    """``momentsim sweep`` and ``momentsim sweep-report``: replicated studies (sim/sweep)."""
    sweep = sub.add_parser("sweep", help="run a replicated parameter study from a sweep TOML file")
    sweep.add_argument("sweep", type=Path, help="a sweep TOML file")
    sweep.add_argument("--executor", choices=["local", "dask"], default="local",
                       help="local processes on all cores (default), or a Dask cluster")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler address (default with --executor dask: a local Dask cluster)")
    sweep.add_argument("--workers", type=_positive_int, help="worker processes (default: all cores)")
    sweep.add_argument("--out", type=Path, help="output folder (default: out/sweeps/<sweep name>)")

    report = sub.add_parser("sweep-report", help="confidence intervals, plots and sensitivity indices")
    report.add_argument("dir", type=Path, help="a sweep's output folder")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        print(f"momentsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("momentsim: interrupted", file=sys.stderr)
        return 130


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"--out {out}: expected a folder, found a file")


def cmd_run(args) -> int:
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.engine is not None:
        overrides["engine"] = args.engine
    scenario = api.resolve(args.scenario, args.steps, args.seed, overrides)
    _check_out(args.out)
    result = api.run(scenario, progress=None)
    files = result.write(args.out)
    print(summary_text(result.summary()))
    print(f"wrote {', '.join(str(f) for f in files.values())}")
    return 0


def summary_text(summary: dict) -> str:
    lines = [f"{summary['scenario']}: {summary['days']} days, {summary['population']} consumers, "
             f"seed {summary['seed']}",
             f"  purchases {summary['purchases']}, adopters {summary['adopters']}; "
             f"{summary['dissatisfied_share_of_experiences']:.0%} of experiences dissatisfied, "
             f"{summary['shared_share_of_experiences']:.0%} shared, "
             f"{summary['negative_share_of_conversation']:.0%} of the conversation negative",
             "  (sentiment and rating on the last day; sales %, revenue, customers acquired and retained "
             "over the run)",
             f"  {'brand':<12}{'sentiment':>10}{'rating':>8}{'sales %':>8}{'revenue':>12}"
             f"{'acquired':>10}{'retained':>10}"]
    for name, b in summary["brands"].items():
        lines.append(f"  {name:<12}{b['sentiment']:>+10.3f}{b['rating']:>8.2f}{b['market_share']:>8.1%}"
                     f"{b['revenue']:>12,.0f}{b['acquisitions']:>10}{b['retentions']:>10}")
    return "\n".join(lines)


def cmd_scenarios(args) -> int:
    summaries = api.scenarios()
    width = max(map(len, summaries), default=0)
    for name, summary in summaries.items():
        print(f"{name:<{width}}  {summary}")
    return 0


def cmd_validate(args) -> int:
    from .validation import bass_table

    _check_out(args.out)
    table = bass_table(args.p, args.q, args.population, args.years, args.seed, progress=None)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "bass.csv"
    tmp = target.with_name("bass.csv.tmp")
    tmp.write_text(table.to_csv(index=False, float_format=api.CSV_FLOAT_FORMAT, lineterminator="\n"))
    tmp.replace(target)
    gap = (table["simulated"] - table["closed_form"]).abs()
    worst = int(gap.idxmax())
    print(f"Bass limit, p = {args.p:g}, q = {args.q:g} a year, {args.population} consumers, "
          f"{args.years:g} years, seed {args.seed}")
    print(f"  adopted at the end: simulated {table['simulated'].iloc[-1]:.3f}, "
          f"closed form {table['closed_form'].iloc[-1]:.3f}")
    stages = (table["daily_stages"] - table["closed_form"]).abs().max()
    print(f"  largest gap: {gap.iloc[worst]:.4f} at t = {table['t_years'].iloc[worst]:.2f} years "
          f"(the journey's one-day stages alone account for up to {stages:.4f}; the rest is sampling noise)")
    print(f"wrote {target}")
    return 0


def cmd_ui(args) -> int:
    from .app.serve import main as serve  # imported late: Solara is slow to import

    return serve(args)


def cmd_sweep(args) -> int:
    from .sweep.cli import cmd_sweep as run_sweep

    return run_sweep(args)


def cmd_sweep_report(args) -> int:
    from .sweep.cli import cmd_report

    return cmd_report(args)


COMMANDS = {"run": cmd_run, "scenarios": cmd_scenarios, "validate": cmd_validate,
            "ui": cmd_ui, "sweep": cmd_sweep, "sweep-report": cmd_sweep_report}


# --- calibration (sim/calibrate): `momentsim calibrate` and `momentsim run --posterior` -------------

def _add_calibrate_parser(sub) -> None:
    """``momentsim calibrate`` and the ``--posterior``/``--replicates`` options of ``run``."""
    cal = sub.add_parser("calibrate", help="fit free parameters to your data with ABC-SMC (pyabc)")
    cal.add_argument("spec", type=Path, help="a calibration spec TOML file (see docs/calibration.md)")
    cal.add_argument("--out", type=Path, help="output folder (default: out/calibrations/<spec name>)")
    cal.add_argument("--executor", choices=["local", "dask"], default="local",
                     help="local processes (default), or a Dask cluster")
    cal.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler address (default with --executor dask: a local Dask cluster)")
    cal.add_argument("--workers", type=_positive_int, help="worker processes (default: all cores)")
    cal.add_argument("--resume", action="store_true", help="continue a killed or finished calibration in --out")
    run = sub.choices["run"]
    run.add_argument("--posterior", type=Path, metavar="FILE",
                     help="posterior.parquet from momentsim calibrate: each replicate runs at a posterior draw")
    run.add_argument("--replicates", type=_positive_int,
                     help="replicates with --posterior (default 20)")


def cmd_calibrate(args) -> int:
    from .calibrate.cli import cmd_calibrate as calibrate

    return calibrate(args)


def _cmd_run_or_posterior(args) -> int:
    if getattr(args, "posterior", None) is None:
        if getattr(args, "replicates", None) is not None:
            raise ScenarioError("--replicates: expected only with --posterior FILE (replicates at posterior draws)")
        return cmd_run(args)
    from .calibrate.cli import cmd_run_posterior

    overrides = dict(parse_override(text) for text in args.overrides)
    if args.engine is not None:
        overrides["engine"] = args.engine
    return cmd_run_posterior(args, overrides)


COMMANDS.update({"calibrate": cmd_calibrate, "run": _cmd_run_or_posterior})
