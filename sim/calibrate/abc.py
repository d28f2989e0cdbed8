"""The pyabc wiring: the model as pyabc sees it, the prior, the distance, the sampler, the run.

ABC-SMC (Del Moral, Doucet & Jasra 2012; Toni et al. 2009) as pyabc implements
it (Schälte et al., Bioinformatics 2022): an adaptive p-norm distance whose
scale weights are re-estimated every generation (Prangle 2017), times the
spec's series weights; an adaptive population size (Klinger & Hasenauer 2017).
No ABC loop here: the library runs it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import api
from ..params import ScenarioError
from .observe import fold
from .spec import Spec



def quiet_pyabc() -> None:
    """pyabc logs every generation at INFO; the progress bar says the same in one line."""
    for name in ("ABC", "ABC.Sampler", "ABC.History", "ABC.Adaptation", "ABC.Distance", "ABC.Epsilon",
                 "ABC.Population", "ABC.Predictor", "ABC.Sumstat", "ABC.Transition"):
        logging.getLogger(name).setLevel(logging.WARNING)


def stat_key(series: str, brand: str) -> str:
    return f"{series}_{brand}"


@dataclass
class Simulator:
    """A picklable function of a parameter draw: simulate, fold into periods, keep the fitted points.

    pyabc calls it with a dict {dotted key: value}; it returns {series_brand: array} over the fit
    window's observed (non-missing) periods. The run's seed is drawn from NumPy's global generator,
    which pyabc's samplers seed per process.
    """
    scenario: Any            # sim.scenario.Scenario at the spec's population, engine and fit length
    series: dict[str, dict[str, Any]]
    brands: list[str]
    n_periods: int
    period_days: int
    start_day: int
    scale: float
    masks: dict[str, np.ndarray]   # stat key -> boolean mask over periods (fit window and observed)

    def table(self, pars: dict[str, float], seed: int):
        overrides = {k: float(v) for k, v in pars.items()}
        overrides["seed"] = int(seed)
        return api.run(self.scenario.with_overrides(overrides, source="calibration")).table

    def stats(self, table) -> dict[str, np.ndarray]:
        out = {}
        for name, how in self.series.items():
            for b in how["brands"]:
                values = fold(table, name, b, self.brands, self.n_periods, self.period_days,
                              self.start_day, self.scale)
                out[stat_key(name, b)] = values[self.masks[stat_key(name, b)]]
        return out

    def __call__(self, pars: dict[str, float]) -> dict[str, np.ndarray]:
        seed = int(np.random.randint(0, 2**31 - 1))
        return self.stats(self.table(dict(pars), seed))


def fit_masks(spec: Spec) -> dict[str, np.ndarray]:
    """Which periods of each series enter the distance: the fit window, where the data are not missing."""
    masks = {}
    window = np.zeros(spec.fit_periods, dtype=bool)
    window[spec.fit_first:] = True
    for name, how in spec.series.items():
        for b in how["brands"]:
            observed = spec.data.values(name, b)[: spec.fit_periods]
            masks[stat_key(name, b)] = window & ~np.isnan(observed)
    return masks


def simulator(spec: Spec) -> Simulator:
    return Simulator(spec.base(spec.steps_for(spec.fit_periods)), spec.series,
                     spec.scenario.params.brand_names, spec.fit_periods, spec.period_days,
                     spec.start_day, spec.scale, fit_masks(spec))


def observed_stats(spec: Spec, sim: Simulator) -> dict[str, np.ndarray]:
    return {key: spec.data.values(*_split(key, spec))[: spec.fit_periods][mask]
            for key, mask in sim.masks.items()}


def _split(key: str, spec: Spec) -> tuple[str, str]:
    for name, how in spec.series.items():
        for b in how["brands"]:
            if stat_key(name, b) == key:
                return name, b
    raise KeyError(key)


def population_size(budget: dict):
    """pyabc's adaptive population size (Klinger & Hasenauer 2017), kept as it is when its fit fails."""
    import pyabc

    class AdaptivePopulationSize(pyabc.AdaptivePopulationSize):
        def update(self, *args, **kwargs):
            try:
                super().update(*args, **kwargs)
            except (ValueError, RuntimeError, np.linalg.LinAlgError):
                pass  # the bootstrap of the CV curve degenerates in tiny populations: keep the size

    return AdaptivePopulationSize(budget["population"], mean_cv=0.1, max_population_size=budget["max_population"],
                                  min_population_size=min(budget["population"], 50))


def prior(spec):
    import pyabc

    rvs = {}
    for key, p in spec.parameters.items():
        a = p.args
        if p.kind == "uniform":
            rvs[key] = pyabc.RV("uniform", a["low"], a["high"] - a["low"])
        elif p.kind == "log_uniform":
            rvs[key] = pyabc.RV("loguniform", a["low"], a["high"])
        elif p.kind == "normal":
            rvs[key] = pyabc.RV("norm", a["mean"], a["sd"])
        else:
            rvs[key] = pyabc.RV("truncnorm", (a["low"] - a["mean"]) / a["sd"], (a["high"] - a["mean"]) / a["sd"],
                                loc=a["mean"], scale=a["sd"])
    return pyabc.Distribution(rvs)


def stat_weights(spec: Spec, sim: Simulator) -> dict[str, float]:
    """Each point of a series carries the series' weight (pyabc labels array entries key:index)."""
    weights = {}
    for name, how in spec.series.items():
        for b in how["brands"]:
            for i in range(int(sim.masks[stat_key(name, b)].sum())):
                weights[f"{stat_key(name, b)}:{i}"] = how["weight"]
    return weights


def sampler(executor: str, workers: int | None, scheduler: str | None):
    """pyabc's sampler and what to close afterwards (a Dask client and cluster we started)."""
    import pyabc

    workers = workers or os.cpu_count() or 1
    if executor == "local":
        if workers == 1:
            return pyabc.sampler.SingleCoreSampler(), []
        return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers), []
    from distributed import Client, LocalCluster

    closers = []
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, host="127.0.0.1")
            closers.append(cluster)
            client = Client(cluster)
    except OSError as exc:
        raise ScenarioError(f"--scheduler {scheduler}: cannot reach the Dask scheduler: {exc}") from None
    closers.insert(0, client)
    return pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=1), closers
