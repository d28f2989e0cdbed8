"""momentsim: an agent-based market simulator of the customer journey.

Stimulus -> ZMOT -> FMOT -> SMOT -> UMOT: what one consumer shares becomes the
research of the next. See README.md and docs/ODD.md.
"""

from .api import Comparison, Result, build, compare, load, resolve, run, scenarios, what_if
from .engine import ArrayMarketModel
from .model import MarketModel
from .params import ScenarioError
from .provenance import version as _version
from .scenario import Scenario, loads

__version__ = _version()

__all__ = ["__version__", "ArrayMarketModel", "Comparison", "MarketModel", "Result", "Scenario", "ScenarioError",
           "WhatIf", "build", "compare", "compare_replicated", "load", "loads", "resolve", "returns", "run",
           "scenarios", "what_if"]


def __getattr__(name: str):
    """The decision tools load on first use (Optuna, SciPy): ``import sim`` stays quick for a run."""
    if name in ("WhatIf", "compare_replicated"):
        from . import decide

        return getattr(decide, name)
    if name == "returns":  # the return on each lever's spend (sim/decide/returns.py)
        from .decide.returns import returns

        return returns
    raise AttributeError(f"module 'sim' has no attribute {name!r}")

