"""The ``momentsim`` command: run, scenarios, validate, ui, sweep, sweep-report.

A user's mistake (a bad scenario, option or file) ends in one message on
stderr and exit status 2, with nothing written to the output folder.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from pathlib import Path

from . import api, provenance
from .params import ScenarioError
from .scenario import parse_override

EXIT_USAGE = 2
MAX_MESSAGE = 2000
# --workers beyond this many per core only adds memory and start-up time.
WORKERS_PER_CORE = 4


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


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, found {text[:40]!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, found {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds in (0, 3600], found {text[:40]!r}")
    return value


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
    facts = checks.add_parser("facts", help="the stylized facts of real markets, over replicated seeds")
    facts.add_argument("--seeds", type=_positive_int, default=10, help="replicates per experiment (10)")
    facts.add_argument("--population", type=_positive_int, default=2000, help="consumers (2000)")
    facts.add_argument("--engine", choices=["agent", "array"], default="array",
                       help="the engine to check (default: array, the faster; both follow the same rules)")
    facts.add_argument("--out", type=Path, default=Path("out/facts"), help="output folder (default: out/facts)")

    _add_ui_parser(sub)
    _add_sweep_parsers(sub)
    _add_decide_parsers(sub)
    _add_calibrate_parser(sub)
    _add_classroom_parser(sub)
    _add_returns_option(sub)
    return top


def _add_ui_parser(sub) -> None:
    """``momentsim ui``: the strategist's browser app (sim/app)."""
    ui = sub.add_parser("ui", help="start the browser app for what-if scenarios")
    ui.add_argument("scenario", nargs="?", default="baseline",
                    help="a shipped scenario's name or a scenario TOML file (default: baseline)")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    ui.add_argument("--port", type=_port, default=8765, help="port to listen on (default: 8765)")
    ui.add_argument("--library", type=Path, default=None, metavar="DIR",
                    help="folder of saved what-if scenarios (default: ~/.momentsim/library)")


def _add_sweep_parsers(sub) -> None:
    """``momentsim sweep`` and ``momentsim sweep-report``: replicated studies (sim/sweep)."""
    sweep = sub.add_parser("sweep", help="run a replicated parameter study from a sweep TOML file")
    sweep.add_argument("sweep", type=Path, help="a sweep TOML file")
    sweep.add_argument("--executor", choices=["local", "dask"], default="local",
                       help="local processes on all cores (default), or a Dask cluster")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler address (default with --executor dask: a local Dask cluster)")
    sweep.add_argument("--workers", type=_positive_int,
                       help=f"worker processes (default: all cores; at most {WORKERS_PER_CORE} a core)")
    sweep.add_argument("--timeout", type=_seconds, default=10.0,
                       help="seconds to wait for the Dask scheduler to answer (default: 10)")
    sweep.add_argument("--out", type=Path, help="output folder (default: out/sweeps/<sweep name>)")

    report = sub.add_parser("sweep-report", help="confidence intervals, plots and sensitivity indices")
    report.add_argument("dir", type=Path, help="a sweep's output folder")
    report.add_argument("--format", default="png", metavar="FORMATS",
                        help="figure formats, comma-separated: png, svg, pdf (default: png)")


def shorten(message: str) -> str:
    """The message with any run of more than 120 characters without a space cut, and at most
    MAX_MESSAGE characters in all: a 100,000-character key is named, not echoed."""
    message = re.sub(r"\S{121,}", lambda m: f"{m.group()[:60]}... ({len(m.group()):,} characters)", message)
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "... (cut)"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = shorten(str(message))
    if issubclass(category, provenance.MomentsimWarning):
        print(f"momentsim: warning: {text}", file=sys.stderr)
    else:
        print(f"momentsim: warning: {category.__name__}: {text}", file=sys.stderr)


# --- decisions (issue 14): compare, optimise, report; the commands live in sim/decide/cli.py ---

def _add_decide_parsers(sub) -> None:
    """``momentsim compare``, ``optimise`` and ``report``: decisions with their uncertainty (sim/decide)."""
    compare = sub.add_parser("compare", help="a scenario and up to 4 variants on N paired seeds: effects "
                                             "with 95 %% intervals")
    compare.add_argument("scenario", help="a shipped scenario's name or a scenario TOML file")
    compare.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                         help="override a parameter of every arm by dotted key")
    compare.add_argument("--variant", dest="variants", action="append", default=[],
                         metavar="NAME:KEY=VALUE,...", help="a variant: its name and its overrides (up to 4)")
    compare.add_argument("--replicates", type=_positive_int, default=8, help="paired seeds per arm (default 8)")
    compare.add_argument("--seed", type=_nonnegative_int, help="seed the replicates' seeds derive from "
                                                               "(default: the scenario's)")
    compare.add_argument("--steps", type=_positive_int, help="days to simulate (default: the scenario's)")
    compare.add_argument("--brand", help="the brand whose KPIs are compared (default: the first)")
    _add_executor_options(compare)
    compare.add_argument("--out", type=Path, help="output folder (default: out/compare/<scenario>)")

    optimise = sub.add_parser("optimise", help="split a brand's budget across ads, review prompting and "
                                               "service with Optuna, on paired seeds")
    optimise.add_argument("spec", type=Path, help="an optimisation spec TOML file (see docs/decisions.md)")
    optimise.add_argument("--trials", type=_positive_int, help="trials to run in all (default: the spec's)")
    optimise.add_argument("--replicates", type=_positive_int, help="paired seeds per trial (default: the spec's)")
    _add_executor_options(optimise)
    optimise.add_argument("--out", type=Path, help="output folder (default: out/optimise/<spec name>); "
                                                   "run again to resume or to add trials")

    report = sub.add_parser("report", help="one self-contained HTML report of a run, compare or optimise folder")
    report.add_argument("dir", type=Path, help="the output folder of momentsim run, compare or optimise")


def _add_executor_options(parser) -> None:
    parser.add_argument("--executor", choices=["local", "dask"], default="local",
                        help="local processes on all cores (default), or a Dask cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler address (default with --executor dask: a local Dask cluster)")
    parser.add_argument("--workers", type=_positive_int, help="worker processes (default: all cores)")


def cmd_compare(args) -> int:
    from .decide.cli import cmd_compare as compare

    return compare(args)


def cmd_optimise(args) -> int:
    from .decide.cli import cmd_optimise as optimise

    return optimise(args)


def cmd_report(args) -> int:
    from .decide.report import report

    print(f"wrote {report(args.dir)}")
    return 0


# --- end decisions ---


def main(argv: list[str] | None = None) -> int:
    """The command line; a user's mistake is one message on stderr and exit status 2."""
    args = parser().parse_args(argv)
    args.argv = ["momentsim", *(sys.argv[1:] if argv is None else argv)]
    args.clock = provenance.Clock()
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        return _error(str(exc))
    except RecursionError:
        return _error("an input is nested too deep to read")
    except MemoryError:
        return _error("not enough memory for this run; make it smaller (population.size, steps) "
                      "or use --engine array")
    except KeyboardInterrupt:
        print("momentsim: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous


def _error(message: str) -> int:
    print(f"momentsim: error: {shorten(message)}", file=sys.stderr)
    return EXIT_USAGE


def _check_out(out: Path) -> None:
    api.check_writable(out, "--out")


def cmd_run(args) -> int:
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.engine is not None:
        overrides["engine"] = args.engine
    scenario = api.resolve(args.scenario, args.steps, args.seed, overrides)
    _check_out(args.out)
    returns = _returns(args, scenario)  # --returns N: each lever's return on its spend, else None
    result = api.run(scenario, progress=None)
    files = result.write(args.out, provenance.record(args.clock, args.argv),
                         returns=returns.blocks() if returns is not None else None)
    print(summary_text(result.summary()))
    if returns is not None:
        print(returns.text())
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
    if args.check == "facts":
        return cmd_validate_facts(args)
    from .validation import DAYS_PER_YEAR, bass_table

    days = args.years * DAYS_PER_YEAR
    if days > api.MAX_STEPS:
        raise ScenarioError(f"--years: expected at most {api.MAX_STEPS / DAYS_PER_YEAR:g} years "
                            f"({api.MAX_STEPS:,} days), found {args.years:g}")
    if round(days) < 1:
        raise ScenarioError(f"--years: expected at least one day ({1 / DAYS_PER_YEAR:.4g} years), "
                            f"found {args.years:g} ({days:.3g} days)")
    if args.population > api.MAX_POPULATION["agent"]:
        raise ScenarioError(f"--population: expected at most {api.MAX_POPULATION['agent']:,} consumers, "
                            f"found {args.population:,}")
    _check_out(args.out)
    table = bass_table(args.p, args.q, args.population, args.years, args.seed, progress=None)
    target = args.out / "bass.csv"
    meta = {"check": "bass", "p": args.p, "q": args.q, "population": args.population, "years": args.years,
            "seed": args.seed, "provenance": provenance.record(args.clock, args.argv)}
    api.write_files(args.out, {
        "bass.csv": table.to_csv(index=False, float_format=api.CSV_FLOAT_FORMAT, lineterminator="\n").encode(),
        "bass.json": provenance.dumps(meta).encode()})
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


def cmd_validate_facts(args) -> int:
    """Run the replicated experiments, print the table, write facts.csv and the figures; exit 1 on a failure."""
    from . import facts as stylized

    _check_out(args.out)
    if args.population > 200_000:
        raise ScenarioError(f"--population: expected at most 200000 for the facts (each is run about "
                            f"{12 * args.seeds} times), found {args.population}")
    measured, drawn = stylized.measure(args.seeds, args.population, args.engine, progress=None)
    written = stylized.write(measured, drawn, args.out)
    print(f"Stylized facts: {args.seeds} seeds, {args.population} consumers, {args.engine} engine "
          "(mean and 95 % interval over seeds)")
    print(f"  {'fact':<72}{'target':>20}{'measured':>28}  result")
    for fact in measured:
        mean, lo, hi = fact.interval()
        shown = f"{mean:.3g} [{lo:.3g}, {hi:.3g}]"
        print(f"  {fact.name[:71]:<72}{fact.target:>20}{shown:>28}  {'pass' if fact.passed else 'FAIL'}")
        print(f"      source: {fact.source}")
    failed = [f.name for f in measured if not f.passed]
    print(f"wrote {written[0]} and {len(written) - 1} figures")
    if failed:
        print(f"{len(failed)} of {len(measured)} facts failed", file=sys.stderr)
        return 1
    print(f"all {len(measured)} facts hold")
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
            "ui": cmd_ui, "sweep": cmd_sweep, "sweep-report": cmd_sweep_report,
            "compare": cmd_compare, "optimise": cmd_optimise, "report": cmd_report}


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


# --- classroom (issue 12): `momentsim classroom`, the brand game (sim/classroom) ---

def _add_classroom_parser(sub) -> None:
    game = sub.add_parser("classroom", help="the brand game: teams run competing brands in their browsers")
    game.add_argument("scenario", nargs="?", default=None,
                      help="the market: a shipped scenario's name or a scenario TOML file (default: baseline)")
    game.add_argument("--teams", type=_positive_int, help="teams, one brand each (default 4, at most 16)")
    game.add_argument("--rounds", type=_positive_int, help="rounds to play (default 6)")
    game.add_argument("--days-per-round", dest="days_per_round", type=_positive_int,
                      help="days simulated a round (default 60)")
    game.add_argument("--population", type=_positive_int, help="consumers (default 5000)")
    game.add_argument("--seed", type=_nonnegative_int, help="random seed (default: the scenario's)")
    game.add_argument("--budget", type=_number(float, strictly_positive=True),
                      help="the most a team may spend on ads a day (default 50)")
    game.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0: the network)")
    game.add_argument("--port", type=_port, default=8770, help="port to listen on (default: 8770)")
    game.add_argument("--dir", type=Path, default=Path("classroom-game"),
                      help="game folder: the saved game (resumed if there), its export (default: classroom-game)")


def cmd_classroom(args) -> int:
    from .classroom.serve import main as serve

    return serve(args)


COMMANDS["classroom"] = cmd_classroom
# --- end classroom ---


# --- returns (issue 14): `momentsim run --returns N`, each lever's return on its spend (sim/decide/returns.py) ---

def _add_returns_option(sub) -> None:
    sub.choices["run"].add_argument(
        "--returns", type=_positive_int, metavar="N",
        help="also the return on each lever's spend (ads, prompts, service, remarketing), per brand: the same "
             "market with each lever off, on N paired seeds (N x (1 + levers with spend) runs; default: not computed)")


def _returns(args, scenario):
    if getattr(args, "returns", None) is None:
        return None
    from .decide.cli import run_returns

    return run_returns(args, scenario)


def _cmd_run_returns(args) -> int:
    if getattr(args, "returns", None) is not None and getattr(args, "posterior", None) is not None:
        raise ScenarioError("--returns: expected without --posterior (returns are for one scenario's levers)")
    return _cmd_run_or_posterior(args)


COMMANDS["run"] = _cmd_run_returns
# --- end returns ---
