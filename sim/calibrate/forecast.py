"""Forecasts that carry parameter uncertainty: replicate runs, each at a draw from a posterior.

Replicate ``i`` draws its parameters from the posterior (by weight) with a
generator seeded by ``seed`` and runs with seed ``seed + i``: two what-ifs
with the same ``seed`` share draws and seeds, so their difference is paired.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import api
from ..params import ScenarioError
from ..scenario import Scenario
from .spec import find_param


@dataclass
class PosteriorRuns:
    draws: pd.DataFrame            # one row a replicate: replicate, seed, the parameters
    summaries: pd.DataFrame        # one row a replicate: headline figures per brand
    tables: list[pd.DataFrame]     # each replicate's recorded table

    def bands(self, columns: list[str] | None = None, qs=(0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Per step and column, quantiles over the replicates (long format)."""
        columns = columns or [c for c in self.tables[0].columns if c != "step"]
        stacked = np.stack([t[columns].to_numpy(dtype=float) for t in self.tables])
        q = np.quantile(stacked, qs, axis=0)
        steps = self.tables[0]["step"].to_numpy()
        frames = []
        for j, c in enumerate(columns):
            f = pd.DataFrame({"step": steps, "column": c})
            for k, qq in enumerate(qs):
                f[f"q{int(round(qq * 100)):02d}"] = q[k, :, j]
            frames.append(f)
        return pd.concat(frames, ignore_index=True)


def read_posterior(path: str | Path, scenario: Scenario) -> pd.DataFrame:
    """A posterior.parquet: parameter columns (dotted keys of ``scenario``) and ``weight``."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"--posterior {path}: cannot read the posterior: no such file")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a damaged file
        raise ScenarioError(f"--posterior {path}: expected a posterior.parquet written by momentsim "
                            f"calibrate, found an unreadable file ({type(exc).__name__})") from None
    if "weight" not in frame.columns or len(frame.columns) < 2 or frame.empty:
        raise ScenarioError(f"--posterior {path}: expected columns for parameters and 'weight', "
                            f"found {list(frame.columns)}")
    for key in frame.columns:
        if key != "weight" and find_param(key, scenario) is None:
            raise ScenarioError(f"--posterior {path}: column {key!r}: no such parameter in scenario "
                                f"{scenario.name!r}")
    w = frame["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ScenarioError(f"--posterior {path}: weight: expected non-negative weights with a positive sum")
    return frame


def run_posterior(scenario: str | Path | Scenario, posterior: str | Path | pd.DataFrame, replicates: int,
                  seed: int | None = None, steps: int | None = None,
                  overrides: dict[str, Any] | None = None, progress: bool | None = False) -> PosteriorRuns:
    """``replicates`` runs of ``scenario`` (with ``overrides``, a what-if), each at a posterior draw."""
    base = api.resolve(scenario, steps, seed, overrides)
    frame = posterior if isinstance(posterior, pd.DataFrame) else read_posterior(posterior, base)
    if replicates < 1:
        raise ScenarioError(f"--replicates: expected a positive integer, found {replicates}")
    seed = base.params["seed"]
    keys = [c for c in frame.columns if c != "weight"]
    w = frame["weight"].to_numpy(dtype=float)
    picks = np.random.default_rng(seed).choice(len(frame), size=replicates, p=w / w.sum())
    draws, summaries, tables = [], [], []
    from tqdm.auto import tqdm

    for i in tqdm(range(replicates), desc="replicates", disable=None if progress is None else not progress):
        pars = {k: float(frame[k].iloc[picks[i]]) for k in keys}
        result = api.run(base.with_overrides({**pars, "seed": seed + i}, source="posterior draw"))
        draws.append({"replicate": i, "seed": seed + i, **pars})
        row = {"replicate": i}
        for b, figures in result.summary()["brands"].items():
            row.update({f"{k}_{b}": v for k, v in figures.items()})
        summaries.append(row)
        tables.append(result.table)
    return PosteriorRuns(pd.DataFrame(draws), pd.DataFrame(summaries), tables)
