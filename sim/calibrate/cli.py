"""The command functions behind ``momentsim calibrate`` and ``momentsim run --posterior``."""

from __future__ import annotations

from pathlib import Path

from ..params import ScenarioError

DEFAULT_OUT = Path("out") / "calibrations"


def cmd_calibrate(args) -> int:
    from .run import calibrate
    from .spec import load_spec

    if args.scheduler and args.executor != "dask":
        raise ScenarioError("--scheduler: expected only with --executor dask, found --executor "
                            f"{args.executor}")
    spec = load_spec(args.spec)
    out = args.out or DEFAULT_OUT / spec.path.stem
    result = calibrate(spec, out, executor=args.executor, scheduler=args.scheduler, workers=args.workers,
                       resume=args.resume, progress=None)
    print(f"{spec.title}: {result.generations} generations, {result.simulations} simulations, "
          f"{result.seconds:.0f} s")
    print(f"  {'parameter':<32}{'median':>10}{'90 % interval':>24}{'width/prior':>12}  note")
    for row in result.table.itertuples():
        interval = f"[{row.ci90_low:.4g}, {row.ci90_high:.4g}]"
        print(f"  {row.parameter:<32}{row.median:>10.4g}{interval:>24}{row.width_ratio:>12.2f}  {row.note}")
    if result.holdout_coverage is not None:
        print(f"  hold-out: {result.holdout_coverage:.0%} of the held-out points lie inside the 90 % "
              f"posterior predictive band")
    print(f"wrote {out}/: posterior.parquet, posterior.csv, history.db, fit.png, fit.csv, calibrated.toml, "
          f"provenance.json")
    return 0


def cmd_run_posterior(args, overrides: dict) -> int:
    """``momentsim run SCENARIO --posterior FILE --replicates N``: replicates at posterior draws."""
    from .. import api
    from .forecast import run_posterior

    if args.out.exists() and not args.out.is_dir():
        raise ScenarioError(f"--out {args.out}: expected a folder, found a file")
    base = api.resolve(args.scenario, args.steps, args.seed, overrides)
    replicates = args.replicates or 20
    runs = run_posterior(base, args.posterior, replicates, progress=None)
    args.out.mkdir(parents=True, exist_ok=True)
    files = {"replicates.csv": runs.draws.merge(runs.summaries, on="replicate"),
             "bands.csv": runs.bands()}
    for name, frame in files.items():
        tmp = args.out / (name + ".tmp")
        tmp.write_text(frame.to_csv(index=False, float_format="%.10g", lineterminator="\n"))
        tmp.replace(args.out / name)
    (args.out / "scenario.toml").write_text(base.to_toml())
    s = runs.summaries
    print(f"{base.name}: {replicates} replicates at posterior draws from {args.posterior} "
          f"(parameter uncertainty and seed noise), {base.params['steps']} days")
    print(f"  {'brand':<12}{'sales % median':>16}{'90 % interval':>20}{'revenue median':>18}")
    for b in base.params.brand_names:
        share, revenue = s[f"market_share_{b}"], s[f"revenue_{b}"]
        interval = f"[{share.quantile(0.05):.1%}, {share.quantile(0.95):.1%}]"
        print(f"  {b:<12}{share.median():>16.1%}{interval:>20}{revenue.median():>18,.0f}")
    print(f"wrote {args.out}/replicates.csv, bands.csv, scenario.toml")
    return 0
