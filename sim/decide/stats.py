"""Intervals for decisions: the paired t-interval of an effect over common-random-number replicates."""

from __future__ import annotations

import math

import numpy as np

LEVEL = 0.95


def mean_interval(values, level: float = LEVEL) -> tuple[float, float, float, float]:
    """(mean, sd, low, high): the mean of ``values`` and its Student t interval (NaN bounds for n < 2)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan"), float("nan")
    from scipy import stats  # imported late: scipy.stats costs a second at import

    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def paired_interval(variant, base, level: float = LEVEL) -> tuple[float, float, float, float]:
    """(effect, sd of the differences, low, high): replicate i of both arms ran on the same seed, so the
    effect is the mean of the per-replicate differences, and its interval a one-sample t-interval on them
    (common random numbers cancel the noise the arms share)."""
    variant, base = np.asarray(variant, dtype=float), np.asarray(base, dtype=float)
    if variant.shape != base.shape:
        raise ValueError(f"paired arms need as many replicates each, found {variant.shape} and {base.shape}")
    return mean_interval(variant - base, level)
