"""User-defined sweep outputs: a recorded column aggregated over a window, or a function of the table.

In a sweep file's ``outputs`` list, beside the end-of-run metrics (``sentiment_ours``, ...)::

    outputs = ["market_share_ours",
               "mean(sentiment_ours, days=300..365)",   # a recorded column over days 300 to 365
               "max(aware_ours)",                        # over the counted days (after burn_in)
               "mypackage.metrics:churn"]                # a function: churn(table) -> float

Aggregates: mean, sum, min, max, first, last. A function is named ``module:function``; it takes the
recorded table (a pandas DataFrame, one row a day, day 0 included) and returns a number; its module
must be importable by the workers. Each output is a column of the runs table, named as written.
"""

from __future__ import annotations

import importlib
import math
import re
from typing import Any, Callable

import pandas as pd

from ..params import ScenarioError

AGGREGATES = ("mean", "sum", "min", "max", "first", "last")
WINDOW = re.compile(r"^(?P<how>[a-z]+)\(\s*(?P<column>[A-Za-z0-9_]+)\s*"
                    r"(?:,\s*days\s*=\s*(?P<start>\d+)\s*\.\.\s*(?P<end>\d+)\s*)?\)$")
FUNCTION = re.compile(r"^(?P<module>[A-Za-z_][\w.]*):(?P<function>[A-Za-z_]\w*)$")


def is_custom(name: str) -> bool:
    return bool(WINDOW.match(name) or FUNCTION.match(name))


def check(name: str, columns: list[str], steps: int, where: str) -> None:
    """Refuse a custom output that cannot be computed (unknown column, window outside the run, a
    function that cannot be imported)."""
    window = WINDOW.match(name)
    if window:
        if window["how"] not in AGGREGATES:
            raise ScenarioError(f"{where}: {name!r}: expected one of {', '.join(AGGREGATES)}(column, "
                                f"days=a..b), found {window['how']!r}")
        if window["column"] not in columns:
            raise ScenarioError(f"{where}: {name!r}: expected a recorded column ({', '.join(columns[1:6])}, "
                                f"...), found {window['column']!r}")
        if window["start"] is not None:
            start, end = int(window["start"]), int(window["end"])
            if not 0 <= start <= end <= steps:
                raise ScenarioError(f"{where}: {name!r}: expected days=a..b with 0 <= a <= b <= steps "
                                    f"({steps}), found {start}..{end}")
        return
    function = FUNCTION.match(name)
    if function:
        resolve_function(name, where)
        return
    raise ScenarioError(f"{where}: {name!r}: not an output")


def resolve_function(name: str, where: str = "outputs") -> Callable[[pd.DataFrame], Any]:
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to fix
        raise ScenarioError(f"{where}: {name!r}: cannot import module {module_name!r} "
                            f"({type(exc).__name__}: {exc})") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise ScenarioError(f"{where}: {name!r}: expected a function {attr!r} in module {module_name!r}, "
                            f"found {'nothing' if function is None else type(function).__name__}")
    return function


def evaluate(name: str, table: pd.DataFrame, burn_in: int = 0) -> float:
    """The custom output ``name`` of one run's recorded table."""
    window = WINDOW.match(name)
    if window:
        if window["start"] is not None:
            rows = table[(table["step"] >= int(window["start"])) & (table["step"] <= int(window["end"]))]
        else:
            rows = table[table["step"] > burn_in] if burn_in else table.iloc[1:]
        values = rows[window["column"]].astype(float)
        if values.empty:
            return math.nan
        how = window["how"]
        return float(values.iloc[0] if how == "first" else values.iloc[-1] if how == "last"
                     else getattr(values, how)())
    value = resolve_function(name)(table)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} returned {type(value).__name__}, expected a number") from None
