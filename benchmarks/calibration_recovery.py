"""Calibration: recovery of known parameters on synthetic data, and simulations per second.

1. Recovery (``--datasets`` synthetic datasets, default 10). For each dataset, true values of three
   free parameters (a brand's quality, the sharing propensity, the ad persuasion) are drawn from the
   priors; the model at those values makes 26 weeks of purchases, reviews, rating and net sentiment
   per brand (``--population`` consumers standing for a market of 100x as many; ``--weeks``); ``momentsim
   calibrate``'s machinery (sim.calibrate.calibrate) fits them, the last sixth held out. Reported:
   the share of (dataset, parameter) cases whose 90 % credible interval covers the truth (target
   >= 80 %), per parameter the mean posterior/prior width ratio (< 1: the data inform it), and the
   hold-out coverage of the 90 % predictive band.
2. Speed: simulations per second at ``--speed-population`` consumers (10,000) x 365 days on the array
   engine, the calibration's own simulator (run + fold into periods), three ways side by side:
   1 worker (a loop), 2 local processes (a process pool), a Dask LocalCluster with 2 workers. The
   model's set-up (building the population and network) is timed apart from its 365 steps.

Run from the project root (the full size takes 15-30 minutes on 2 shared cores)::

    .venv/bin/python benchmarks/calibration_recovery.py
    .venv/bin/python benchmarks/calibration_recovery.py --datasets 2 --speed-runs 4   # a quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sim import api
from sim.calibrate import calibrate, load_spec
from sim.calibrate import abc as wiring
from sim.calibrate.synthetic import make_tidy, write_tidy

PRIORS = """
[parameters."brands.ours.quality"]
prior = "uniform"
low = 0.45
high = 0.9

[parameters."sharing.base_propensity"]
prior = "uniform"
low = 0.03
high = 0.2

[parameters."ads.persuasion"]
prior = "log_uniform"
low = 0.005
high = 0.08
"""
SERIES = ["purchases", "reviews", "rating", "net_sentiment"]


def spec_text(population: int, seed: int, budget: dict, holdout: int = 4) -> str:
    return (f'scenario = "baseline"\ndata = "data.csv"\nperiod = "week"\npopulation = {population}\n'
            f"market_size = {population * 100}\nholdout = {holdout}\nfit_first = 1\nseed = {seed}\n{PRIORS}\n"
            "[series.purchases]\n[series.reviews]\n[series.rating]\n[series.net_sentiment]\n\n[budget]\n"
            + "".join(f"{k} = {v}\n" for k, v in budget.items()))


def recovery(datasets: int, population: int, workers: int, budget: dict, weeks: int) -> dict:
    rng = np.random.default_rng(2026)
    cases, widths, holdout, seconds, sims = [], {}, [], [], []
    for d in range(datasets):
        truth = {"brands.ours.quality": rng.uniform(0.45, 0.9), "sharing.base_propensity": rng.uniform(0.03, 0.2),
                 "ads.persuasion": float(np.exp(rng.uniform(np.log(0.005), np.log(0.08))))}
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            data = make_tidy("baseline", truth, SERIES, n_periods=weeks, population=population,
                             market_size=population * 100, seed=100 + d)
            write_tidy(data, tmp / "data.csv")
            (tmp / "spec.toml").write_text(spec_text(population, 7 + d, budget, holdout=max(2, weeks // 6)))
            result = calibrate(load_spec(tmp / "spec.toml"), tmp / "out", workers=workers)
        table = result.table.set_index("parameter")
        for key, value in truth.items():
            row = table.loc[key]
            cases.append(bool(row["ci90_low"] <= value <= row["ci90_high"]))
            widths.setdefault(key, []).append(float(row["width_ratio"]))
        holdout.append(result.holdout_coverage)
        seconds.append(result.seconds)
        sims.append(result.simulations)
        print(f"  dataset {d + 1}/{datasets}: " + ", ".join(
            f"{k.split('.')[-1]} {truth[k]:.3g} in [{table.loc[k, 'ci90_low']:.3g}, {table.loc[k, 'ci90_high']:.3g}]"
            for k in truth) + f"; {result.simulations} sims, {result.seconds:.0f} s", flush=True)
    return {"datasets": datasets, "population": population, "weeks": weeks, "budget": budget,
            "coverage_90": float(np.mean(cases)), "cases": len(cases),
            "width_ratio": {k: float(np.mean(v)) for k, v in widths.items()},
            "holdout_coverage_90": float(np.mean(holdout)),
            "seconds_per_calibration": float(np.median(seconds)),
            "simulations_per_calibration": float(np.median(sims))}


class _Sim:
    """The calibration's simulator at speed size, and a parameter draw."""

    def __init__(self, population: int):
        folder = Path(tempfile.mkdtemp())
        data = make_tidy("baseline", {}, SERIES, n_periods=52, population=population, seed=1)
        write_tidy(data, folder / "data.csv")
        text = spec_text(population, 1, {"population": 10}).replace("holdout = 4", "holdout = 0")
        (folder / "spec.toml").write_text(text)
        spec = load_spec(folder / "spec.toml")
        every_week = {k: np.ones(52, dtype=bool) for k in wiring.fit_masks(spec)}
        self.sim = wiring.Simulator(spec.base(365), spec.series, spec.scenario.params.brand_names, 52, 7, 0,
                                    spec.scale, every_week)

    def __call__(self, i: int):
        pars = {"brands.ours.quality": 0.5 + 0.3 * (i % 7) / 7, "sharing.base_propensity": 0.1,
                "ads.persuasion": 0.02}
        return self.sim.stats(self.sim.table(pars, seed=i))


def speed(population: int, runs: int) -> dict:
    fn = _Sim(population)
    fn(0)  # warm up imports
    t = time.perf_counter()
    for i in range(runs):
        fn(i)
    one = runs / (time.perf_counter() - t)
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(fn, range(2)))
        t = time.perf_counter()
        list(pool.map(fn, range(runs)))
        two = runs / (time.perf_counter() - t)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.gather(client.map(fn, range(2), pure=False))
        t = time.perf_counter()
        client.gather(client.map(fn, range(runs), pure=False))
        dask = runs / (time.perf_counter() - t)
    # set-up against stepping, one run
    scenario = api.resolve("baseline", 365, 1, {"population.size": population, "engine": "array"})
    t = time.perf_counter()
    model = api.model_for(scenario)
    setup = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(365):
        model.step()
    steps = time.perf_counter() - t
    return {"population": population, "days": 365, "runs": runs, "sims_per_s_1_worker": one,
            "sims_per_s_2_local": two, "sims_per_s_dask_2": dask, "setup_s": setup, "steps_s": steps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=10)
    ap.add_argument("--population", type=int, default=500, help="consumers in the recovery runs (500)")
    ap.add_argument("--weeks", type=int, default=26, help="weeks of data per dataset (26; a sixth held out)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--particles", type=int, default=80)
    ap.add_argument("--simulations", type=int, default=1500)
    ap.add_argument("--speed-population", type=int, default=10_000)
    ap.add_argument("--speed-runs", type=int, default=12)
    ap.add_argument("--skip-recovery", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("out") / "benchmarks" / "calibration_recovery.json")
    args = ap.parse_args()
    report = {}
    if not args.skip_recovery:
        print(f"recovery: {args.datasets} synthetic datasets, 3 free parameters, {args.population} consumers, "
              f"{args.weeks} weeks ({max(2, args.weeks // 6)} held out)", flush=True)
        budget = {"population": args.particles, "max_population": 2 * args.particles,
                  "generations": args.generations, "simulations": args.simulations, "predictive": 30}
        report["recovery"] = rec = recovery(args.datasets, args.population, args.workers, budget, args.weeks)
        print(f"  90 % credible intervals cover the truth in {rec['coverage_90']:.0%} of {rec['cases']} cases "
              f"(target >= 80 %)")
        for k, v in rec["width_ratio"].items():
            print(f"  {k:<28} mean posterior/prior width {v:.2f}")
        print(f"  hold-out points inside the 90 % predictive band: {rec['holdout_coverage_90']:.0%}; "
              f"median {rec['simulations_per_calibration']:.0f} simulations, "
              f"{rec['seconds_per_calibration']:.0f} s a calibration")
    print(f"speed: {args.speed_population} consumers x 365 days, array engine, {args.speed_runs} runs each way",
          flush=True)
    report["speed"] = s = speed(args.speed_population, args.speed_runs)
    print(f"  1 worker {s['sims_per_s_1_worker']:.2f}/s | 2 local processes {s['sims_per_s_2_local']:.2f}/s "
          f"| Dask LocalCluster, 2 workers {s['sims_per_s_dask_2']:.2f}/s")
    print(f"  one run: set-up {s['setup_s']:.2f} s, 365 steps {s['steps_s']:.2f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
