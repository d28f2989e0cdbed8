"""Designs: the parameter points a sweep runs, as plain lists of dicts.

``grid`` is the full factorial of the listed values; ``lhs`` a Latin hypercube
(scipy.stats.qmc) over ranges; ``sobol`` and ``morris`` are SALib's samples,
so that SALib's ``analyze`` can read the results back in the same order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

DESIGNS = ("grid", "lhs", "sobol", "morris")


@dataclass(frozen=True)
class Varied:
    """One varied parameter: a list of values, or a range [low, high] (with num or step for a grid)."""
    key: str
    kind: type                       # the parameter's type in the schema (int, float, bool, str)
    values: tuple | None = None      # listed values
    low: float | None = None         # a range
    high: float | None = None
    num: int | None = None
    step: float | None = None

    def count(self) -> int:
        """How many values a grid takes of this parameter (without making them)."""
        if self.values is not None:
            return len(self.values)
        if self.num is not None:
            return self.num
        return int(np.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def grid_values(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        if self.num is not None:
            raw = np.linspace(self.low, self.high, self.num)
        else:  # step: from low up to high, high included when it falls on the grid
            count = int(np.floor((self.high - self.low) / self.step + 1e-9)) + 1
            raw = self.low + self.step * np.arange(count)
        return [self.cast(v) for v in raw]

    def cast(self, value: float) -> Any:
        """A sampled number as the parameter's type: integers rounded, floats tidied."""
        if self.kind is int:
            return int(round(float(value)))
        return float(f"{float(value):.12g}")


def problem(varied: list[Varied]) -> dict[str, Any]:
    """The SALib problem dictionary for ranged parameters."""
    return {"num_vars": len(varied), "names": [v.key for v in varied],
            "bounds": [[float(v.low), float(v.high)] for v in varied]}


def points(design: str, varied: list[Varied], samples: int | None, seed: int,
           levels: int = 4, second_order: bool = False) -> list[dict[str, Any]]:
    """The design's parameter points, in the order they are numbered (point 0, 1, ...)."""
    if not varied:
        return [{}]
    if design == "grid":
        keys = [v.key for v in varied]
        return [dict(zip(keys, combo)) for combo in itertools.product(*(v.grid_values() for v in varied))]
    matrix = sample_matrix(design, varied, samples, seed, levels, second_order)
    return [{v.key: v.cast(x) for v, x in zip(varied, row)} for row in matrix]


def sample_matrix(design: str, varied: list[Varied], samples: int, seed: int, levels: int = 4,
                  second_order: bool = False) -> np.ndarray:
    """The raw sample, one row a point, one column a parameter (before rounding integers)."""
    if design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(varied), rng=np.random.default_rng(seed)).random(samples)
        return qmc.scale(unit, [v.low for v in varied], [v.high for v in varied])
    if design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem(varied), samples, calc_second_order=second_order, seed=seed)
    if design == "morris":
        from SALib.sample import morris

        return morris.sample(problem(varied), samples, num_levels=levels, seed=seed)
    raise ValueError(f"unknown design {design!r}")
