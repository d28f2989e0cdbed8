"""``momentsim compare``, ``optimise`` and ``report``: thin front ends over sim.decide."""

from __future__ import annotations

from pathlib import Path

from ..params import ScenarioError
from ..scenario import parse_override
from .compare import compare_replicated, parse_variant


def cmd_compare(args) -> int:
    overrides = dict(parse_override(text) for text in args.overrides)
    variants: dict = {}
    for text in args.variants:
        name, changes = parse_variant(text)
        if name in variants:
            raise ScenarioError(f"--variant {text!r}: a variant named {name!r} is already given")
        variants[name] = changes
    out = args.out
    if out is not None and out.exists() and not out.is_dir():
        raise ScenarioError(f"--out {out}: expected a folder, found a file")
    executor = "dask" if args.scheduler is not None else args.executor
    what_if = compare_replicated(args.scenario, variants, replicates=args.replicates, seed=args.seed,
                                 steps=args.steps, overrides=overrides, brand=args.brand, executor=executor,
                                 scheduler=args.scheduler, workers=args.workers)
    out = out if out is not None else Path("out") / "compare" / what_if.scenario.name
    files = what_if.write(out)
    print(what_if.table_text())
    print(f"{len(what_if.arms) * len(what_if.seeds)} runs in {what_if.seconds:.1f} s ({what_if.executor})")
    print(f"wrote {', '.join(str(f) for f in files.values())}; next: momentsim report {out}")
    return 0


def cmd_optimise(args) -> int:
    from .optimise import load_spec, optimise

    spec = load_spec(args.spec, trials=args.trials, replicates=args.replicates)
    out = args.out if args.out is not None else Path("out") / "optimise" / spec.name
    executor = "dask" if args.scheduler is not None else args.executor
    result = optimise(spec, out, executor=executor, scheduler=args.scheduler, workers=args.workers,
                      progress=True)
    files = result.write()
    print(result.text())
    print(f"{len(result.trials)} trials in {result.seconds:.1f} s ({result.executor}); "
          f"run the best plan: momentsim run {files['best.toml']}")
    print(f"wrote {', '.join(str(f) for f in files.values())}; next: momentsim report {out}")
    return 0


def run_returns(args, scenario):
    """``momentsim run --returns N``: the return on each lever's spend over N paired seeds (a progress bar
    on a terminal); refused before any run when N is absurd."""
    from tqdm.auto import tqdm

    from .returns import returns

    with tqdm(desc="returns", unit="run", leave=False, disable=None) as bar:
        def on_run(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return returns(scenario, replicates=args.returns, on_run=on_run, option="--returns")
