"""`momentsim calibrate`: run ABC-SMC on a spec and write the posterior, the fit and the calibrated scenario.

Files written into the output folder (each atomically, so a kill never leaves half a file):

- ``history.db``: pyabc's history (SQLite); ``--resume`` continues from its last full generation
- ``posterior.parquet``: the last generation's particles, one column a parameter, and ``weight``
- ``posterior.csv``: mean, median, 90 % credible interval, prior 90 % interval, width ratio, a note
- ``fit.csv`` and ``fit.png``: observed series against the posterior predictive median and 50/90 % bands
- ``calibrated.toml``: the scenario at the posterior median, runnable with ``momentsim run``
- ``provenance.json``: versions, spec and data hash, seed, executor, generations and simulations
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..params import ScenarioError
from . import abc as wiring
from .spec import Spec

OUTPUTS = ("history.db", "posterior.parquet", "posterior.csv", "fit.csv", "fit.png", "calibrated.toml",
           "provenance.json")
UNINFORMED_RATIO = 0.8   # posterior 90 % interval at least this share of the prior's: the data say little
INFORMED_RATIO = 0.5


@dataclass
class Calibration:
    """What a call to :func:`calibrate` produced."""
    out: Path
    posterior: pd.DataFrame      # parameters and weight
    table: pd.DataFrame          # posterior.csv
    fit: pd.DataFrame            # fit.csv
    holdout_coverage: float | None
    generations: int
    simulations: int
    seconds: float


def check_out(out: Path, resume: bool, spec: Spec) -> None:
    """Refuse to overwrite a calibration, or to resume a different one; nothing written yet."""
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"--out {out}: expected a folder, found a file")
    history = out / "history.db"
    if resume:
        if not history.is_file():
            raise ScenarioError(f"--resume: {out} holds no calibration to resume (no history.db); "
                                f"run without --resume first")
        try:
            before = json.loads((out / "provenance.json").read_text())
        except (OSError, ValueError):
            raise ScenarioError(f"--resume: {out}/provenance.json: expected the provenance of the run to "
                                f"resume, found none or a damaged file") from None
        if before.get("spec_sha256") != spec.digest:
            raise ScenarioError(f"--resume: {spec.path}: the spec or its data changed since the run in {out} "
                                f"started (sha256 {before.get('spec_sha256', '?')[:12]}…, now "
                                f"{spec.digest[:12]}…); expected the same spec, or a new --out")
    elif any((out / name).exists() for name in OUTPUTS):
        raise ScenarioError(f"--out {out}: already holds a calibration; use --resume to continue it, or "
                            f"choose another folder")


def calibrate(spec: Spec, out: str | Path, executor: str = "local", scheduler: str | None = None,
              workers: int | None = None, resume: bool = False, progress: bool | None = False) -> Calibration:
    """Run (or resume) ABC-SMC on ``spec`` and write the outputs into ``out``."""
    import pyabc

    wiring.quiet_pyabc()
    out = Path(out)
    check_out(out, resume, spec)
    workers = workers or spec.budget["workers"] or None
    started = time.time()
    problem = _problem(spec)
    sim = problem.simulator()
    sampler, closers = wiring.sampler(executor, workers, scheduler)  # an unreachable scheduler stops here
    try:
        out.mkdir(parents=True, exist_ok=True)
        provenance = _provenance(spec, executor, workers, scheduler)
        if resume:
            previous = json.loads((out / "provenance.json").read_text())
            provenance["started"] = previous.get("started", provenance["started"])
            provenance["resumed"] = previous.get("resumed", 0) + 1
        _write_json(out / "provenance.json", provenance)
    except BaseException:
        for c in closers:
            c.close()
        raise
    np.random.seed(spec.seed)
    budget = spec.budget
    try:
        abc = pyabc.ABCSMC(
            sim, wiring.prior(spec), pyabc.AdaptivePNormDistance(p=2, fixed_weights=problem.stat_weights(),
                                                                 scale_function=pyabc.distance.mad_or_cmad),
            population_size=wiring.population_size(budget),
            sampler=sampler)
        db = "sqlite:///" + str((out / "history.db").resolve())
        if resume:
            history = abc.load(db, 1)
        else:
            history = abc.new(db, problem.observed(sim),
                              meta_info={"spec": str(spec.path), "spec_sha256": spec.digest,
                                         "seed": str(spec.seed)})
        done = history.max_t + 1
        sims_done = history.total_nr_simulations if done else 0
        remaining = budget["generations"] - done
        remaining_sims = budget["simulations"] - sims_done
        if remaining > 0 and remaining_sims > 0:
            _run_with_bar(abc, history, remaining, remaining_sims, budget["min_epsilon"], done,
                          budget["generations"], progress)
    finally:
        for c in closers:
            c.close()
    history = pyabc.History(db)
    if history.max_t < 0:
        raise ScenarioError(f"{spec.path}: budget: no generation finished within the budget "
                            f"({budget['simulations']} simulations); expected a larger budget.simulations")
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    posterior = frame.reset_index(drop=True)[list(spec.parameters)]
    posterior["weight"] = np.asarray(weights) / np.sum(weights)
    _write_parquet(out / "posterior.parquet", posterior)
    table = posterior_table(spec, posterior)
    _write_text(out / "posterior.csv", table.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    fit = problem.predictive_fit(posterior, budget["predictive"], spec.seed)
    _write_text(out / "fit.csv", fit.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    coverage = holdout_coverage(fit)
    fig = problem.figure(fit, coverage)
    tmp = out / "fit.png.tmp"
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, out / "fit.png")
    _write_text(out / "calibrated.toml", problem.calibrated(table).to_toml())
    provenance.update(finished=_now(), generations=int(history.max_t + 1),
                      simulations=int(history.total_nr_simulations),
                      holdout_coverage_90=coverage, seconds=round(time.time() - started, 1))
    _write_json(out / "provenance.json", provenance)
    return Calibration(out, posterior, table, fit, coverage, int(history.max_t + 1),
                       int(history.total_nr_simulations), time.time() - started)


@dataclass
class _TidyProblem:
    """A tidy-CSV spec seen the way :func:`calibrate` uses a problem (a PanelSpec has the same methods)."""
    spec: Spec

    def simulator(self):
        return wiring.simulator(self.spec)

    def observed(self, sim):
        return wiring.observed_stats(self.spec, sim)

    def stat_weights(self) -> dict[str, float]:
        return wiring.stat_weights(self.spec, self.simulator())

    def predictive_fit(self, posterior, draws, seed):
        return predictive_fit(self.spec, posterior, draws, seed)

    def figure(self, fit, coverage):
        from .plots import fit_figure

        return fit_figure(self.spec, fit, coverage)

    def calibrated(self, table):
        return calibrated_scenario(self.spec, table)


def _problem(spec):
    return _TidyProblem(spec) if isinstance(spec, Spec) else spec


def _run_with_bar(abc, history, generations: int, simulations: int, min_epsilon: float, done: int,
                  total: int, progress: bool | None) -> None:
    """abc.run with a bar: one tick a generation, with its epsilon and acceptance rate."""
    bar = tqdm(total=total, initial=done, desc="ABC-SMC", unit="gen",
               disable=None if progress is None else not progress)
    append = history.append_population

    def tick(t, current_eps, population, nr_simulations, *args, **kwargs):
        append(t, current_eps, population, nr_simulations, *args, **kwargs)
        accepted = len(population)
        bar.set_postfix(eps=f"{current_eps:.4g}", accept=f"{accepted / max(nr_simulations, 1):.1%}",
                        sims=nr_simulations)
        bar.update(1)

    history.append_population = tick
    try:
        abc.run(minimum_epsilon=min_epsilon, max_nr_populations=generations,
                max_total_nr_simulations=simulations)
    finally:
        history.append_population = append
        bar.close()


def weighted_quantile(values: np.ndarray, weights: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(values)
    v, w = np.asarray(values)[order], np.asarray(weights)[order]
    cum = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return np.interp(qs, cum, v)


def posterior_table(spec: Spec, posterior: pd.DataFrame) -> pd.DataFrame:
    """posterior.csv: per parameter, the posterior summary and how much narrower than the prior it is."""
    w = posterior["weight"].to_numpy()
    rows = []
    for key, prior in spec.parameters.items():
        v = posterior[key].to_numpy()
        q05, q50, q95 = weighted_quantile(v, w, [0.05, 0.5, 0.95])
        p05, p95 = prior.quantiles([0.05, 0.95])
        ratio = (q95 - q05) / (p95 - p05)
        if ratio >= UNINFORMED_RATIO:
            note = "not informed by the data: the posterior is about as wide as the prior"
        elif ratio >= INFORMED_RATIO:
            note = "weakly informed"
        else:
            note = "informed"
        rows.append({"parameter": key, "prior": prior.describe(), "mean": float(np.sum(v * w) / np.sum(w)),
                     "median": q50, "ci90_low": q05, "ci90_high": q95, "prior90_low": p05, "prior90_high": p95,
                     "width_ratio": ratio, "note": note})
    return pd.DataFrame(rows)


def predictive_fit(spec: Spec, posterior: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """Posterior predictive bands per series, brand and period over the whole data (fit and hold-out)."""
    full = wiring.Simulator(spec.base(spec.steps_for(spec.data.n_periods)), spec.series,
                            spec.scenario.params.brand_names, spec.data.n_periods, spec.period_days,
                            spec.start_day, spec.scale, {})
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(posterior), size=draws, p=posterior["weight"].to_numpy())
    keys = list(spec.parameters)
    sims: dict[tuple[str, str], list[np.ndarray]] = {}
    for i, row in enumerate(picks):
        pars = {k: float(posterior[k].iloc[row]) for k in keys}
        table = full.table(pars, seed + 1 + i)
        for name, how in spec.series.items():
            for b in how["brands"]:
                sims.setdefault((name, b), []).append(
                    wiring.fold(table, name, b, full.brands, full.n_periods, full.period_days,
                                full.start_day, full.scale))
    rows = []
    for (name, b), runs in sims.items():
        q = np.quantile(np.vstack(runs), [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        observed = spec.data.values(name, b)
        for p in range(spec.data.n_periods):
            window = "holdout" if p > spec.fit_last else ("fit" if p >= spec.fit_first else "before")
            rows.append({"period": p, "label": spec.data.labels[p], "series": name, "brand": b,
                         "observed": observed[p], "q05": q[0, p], "q25": q[1, p], "median": q[2, p],
                         "q75": q[3, p], "q95": q[4, p], "window": window})
    return pd.DataFrame(rows)


def holdout_coverage(fit: pd.DataFrame) -> float | None:
    """Share of observed hold-out points inside the 90 % predictive band (None without a hold-out)."""
    h = fit[(fit["window"] == "holdout") & fit["observed"].notna()]
    if h.empty:
        return None
    return float(((h["observed"] >= h["q05"]) & (h["observed"] <= h["q95"])).mean())


def calibrated_scenario(spec: Spec, table: pd.DataFrame):
    """The scenario at the posterior median, at the spec's population, engine and the data's length."""
    medians = {row.parameter: float(row.median) for row in table.itertuples()}
    scenario = spec.base(spec.steps_for(spec.data.n_periods)).with_overrides(medians, source="calibration")
    about = dict(scenario.about)
    about["summary"] = (f"Calibrated by {spec.path.name} to {spec.data.path.name}: "
                        + ", ".join(f"{k} = {v:.4g}" for k, v in medians.items())
                        + " (posterior medians).")
    scenario.about = about
    scenario.name = f"{spec.path.stem}_calibrated"
    return scenario


def _provenance(spec: Spec, executor: str, workers, scheduler) -> dict[str, Any]:
    def version(pkg):
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    data = str(spec.data.path) if isinstance(spec, Spec) else spec.data_name
    return {"spec": str(spec.path), "data": data, "spec_sha256": spec.digest,
            "seed": spec.seed, "executor": executor, "workers": workers, "scheduler": scheduler,
            "budget": spec.budget, "started": _now(), "resumed": 0,
            "note": "pyabc's parallel samplers hand out simulations dynamically, so a parallel run is "
                    "reproducible in distribution, not bit for bit; a 1-worker local run is repeatable",
            "versions": {"python": platform.python_version(),
                         **{p: version(p) for p in ("momentsim", "pyabc", "numpy", "pandas", "scipy",
                                                    "mesa", "dask", "distributed")}}}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _write_json(path: Path, data: dict) -> None:
    _write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
