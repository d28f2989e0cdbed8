"""The user's data: a tidy CSV, one row per period and brand, checked before anything runs.

Columns: ``period`` (an integer index, or an ISO date when the spec says
``period_format = "date"``), ``brand``, and any of the observed series in
:data:`sim.calibrate.observe.OBSERVABLES`. Empty cells are missing values;
a missing period is an error (write the row with empty cells instead).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..params import ScenarioError, suggest
from .observe import OBSERVABLES

KEY_COLUMNS = ("period", "brand")


@dataclass
class ObservedData:
    """Observed series as arrays over periods 0..n_periods-1 (NaN where missing)."""
    path: Path
    brands: list[str]
    n_periods: int
    series: dict[str, dict[str, np.ndarray]]   # series -> brand -> values
    labels: list[str]                          # the period as written in the file, for plots

    def values(self, series: str, brand: str) -> np.ndarray:
        return self.series[series][brand]


def read_tidy(path: Path, brands: list[str], period: str, period_format: str,
              source: str) -> ObservedData:
    """Read and check the tidy CSV; every mistake is one ScenarioError naming the file and column."""
    where = f"{path}"
    if not path.is_file():
        raise ScenarioError(f"{source}: data: cannot read the data file {str(path)!r}: no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise ScenarioError(f"{where}: malformed CSV: {str(exc).strip()}") from None
    if frame.empty:
        raise ScenarioError(f"{where}: expected a header and at least one row, found no rows")
    frame.columns = [c.strip() for c in frame.columns]
    allowed = list(KEY_COLUMNS) + list(OBSERVABLES)
    for column in frame.columns:
        if column not in allowed:
            raise ScenarioError(f"{where}: column {column!r}: unknown column; expected period, brand and "
                                f"any of {', '.join(OBSERVABLES)}{suggest(column, allowed)}")
    for column in KEY_COLUMNS:
        if column not in frame.columns:
            raise ScenarioError(f"{where}: column {column!r}: missing; expected columns period, brand "
                                f"and any of {', '.join(OBSERVABLES)}")
    if len(frame.columns) != len(set(frame.columns)):
        raise ScenarioError(f"{where}: expected each column once, found {list(frame.columns)}")
    series_columns = [c for c in frame.columns if c in OBSERVABLES]
    if not series_columns:
        raise ScenarioError(f"{where}: expected at least one observed series ({', '.join(OBSERVABLES)}), "
                            f"found only {', '.join(frame.columns)}")

    def line(i: int) -> str:
        return f"{where}: line {i + 2}"  # the header is line 1

    for i, brand in enumerate(frame["brand"]):
        if brand not in brands:
            raise ScenarioError(f"{line(i)}: brand: expected a brand of the scenario ({', '.join(brands)}), "
                                f"found {brand!r}{suggest(brand, brands)}")
    index, labels = _periods(frame["period"], period, period_format, line)
    values: dict[str, np.ndarray] = {}
    for column in series_columns:
        obs = OBSERVABLES[column]
        out = np.full(len(frame), np.nan)
        for i, text in enumerate(frame[column]):
            if text.strip() == "" or text.strip().upper() in ("NA", "NAN"):
                continue
            try:
                value = float(text)
            except ValueError:
                raise ScenarioError(f"{line(i)}: {column}: expected a number or an empty cell, "
                                    f"found {text!r}") from None
            if not np.isfinite(value) or (obs.low is not None and value < obs.low) or (
                    obs.high is not None and value > obs.high):
                rng = f"in [{obs.low:g}, {obs.high:g}]" if obs.high is not None else f">= {obs.low:g}"
                raise ScenarioError(f"{line(i)}: {column}: expected a number {rng}, found {text!r}")
            out[i] = value
        values[column] = out

    present = list(dict.fromkeys(frame["brand"]))
    first, last = int(index.min()), int(index.max())
    n_periods = last - first + 1
    seen: dict[tuple[int, str], int] = {}
    for i, (p, b) in enumerate(zip(index, frame["brand"])):
        if (p, b) in seen:
            raise ScenarioError(f"{line(i)}: period {frame['period'][i]!r}, brand {b!r}: expected one row "
                                f"per period and brand, found a second (the first is on line {seen[(p, b)] + 2})")
        seen[(p, b)] = i
    for b in present:
        have = sorted(p for (p, bb) in seen if bb == b)
        for a, c in zip(have, have[1:]):
            if c != a + 1:
                raise ScenarioError(f"{where}: brand {b!r}: period gap after {labels[a - first]!r}: expected "
                                    f"every {period} from the first to the last (missing values as empty "
                                    f"cells), found the next row at {labels[c - first]!r}")
        if have[0] != first or have[-1] != last:
            raise ScenarioError(f"{where}: brand {b!r}: expected periods {labels[0]!r} to {labels[-1]!r} like "
                                f"the other brands, found {labels[have[0] - first]!r} to {labels[have[-1] - first]!r}")
    series = {c: {b: np.full(n_periods, np.nan) for b in present} for c in series_columns}
    for c in series_columns:
        for i, (p, b) in enumerate(zip(index, frame["brand"])):
            series[c][b][p - first] = values[c][i]
    return ObservedData(path, present, n_periods, series, labels)


def _periods(column: pd.Series, period: str, period_format: str, line) -> tuple[np.ndarray, list[str]]:
    """Period indices (consecutive integers) and the labels of periods first..last."""
    if period_format == "index":
        index = []
        for i, text in enumerate(column):
            try:
                index.append(int(text))
            except ValueError:
                raise ScenarioError(f"{line(i)}: period: expected an integer {period} index "
                                    f"(period_format = 'index'), found {text!r}") from None
        index = np.array(index)
        lo = index.min()
        return index, [str(p) for p in range(lo, index.max() + 1)]
    dates = []
    for i, text in enumerate(column):
        try:
            dates.append(dt.date.fromisoformat(text.strip()))
        except ValueError:
            raise ScenarioError(f"{line(i)}: period: expected an ISO date YYYY-MM-DD "
                                f"(period_format = 'date'), found {text!r}") from None
    start = min(dates)
    if period == "month" and start.day > 28:
        raise ScenarioError(f"{line(dates.index(start))}: period: expected monthly dates on a day 1-28 of the "
                            f"month (every month has it), found {start.isoformat()}")
    index = []
    for i, d in enumerate(dates):
        if period == "month":
            if d.day != start.day:
                raise ScenarioError(f"{line(i)}: period: expected monthly dates on day {start.day} of the month "
                                    f"like the first ({start.isoformat()}), found {d.isoformat()}")
            index.append((d.year - start.year) * 12 + d.month - start.month)
        else:
            days = (d - start).days
            step = 7 if period == "week" else 1
            if days % step:
                raise ScenarioError(f"{line(i)}: period: expected weekly dates ({start.isoformat()} plus a "
                                    f"multiple of 7 days), found {d.isoformat()}")
            index.append(days // step)
    index = np.array(index)
    labels = []
    for p in range(index.max() + 1):
        if period == "month":
            y, m = divmod(start.month - 1 + p, 12)
            labels.append(dt.date(start.year + y, m + 1, start.day).isoformat())
        else:
            labels.append((start + dt.timedelta(days=p * (7 if period == "week" else 1))).isoformat())
    return index, labels
