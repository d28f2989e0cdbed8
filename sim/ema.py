"""momentsim as a model for the EMA Workbench (exploratory modelling; optional: ``pip install momentsim[ema]``).

The EMA Workbench calls a plain Python function with one keyword argument per uncertainty or lever
and reads back a dict of outcomes. :func:`function` makes that function from a scenario; :func:`model`
wraps it in an ``ema_workbench.Model`` with its uncertainties and outcomes::

    from ema_workbench import perform_experiments
    import sim.ema

    model = sim.ema.model("baseline", uncertainties={"sharing.negative_multiplier": (1, 8),
                                                     "brands.ours.quality": (0.5, 0.8)},
                          outcomes=["sentiment_ours", "market_share_ours"], steps=180)
    experiments, outcomes = perform_experiments(model, scenarios=50)

Parameters are momentsim's dotted keys; in EMA they are named with ``__`` for each dot
(``sharing__negative_multiplier``), since EMA names must be identifiers. Outcomes are the sweep
outputs (end-of-run metrics, ``mean(column, days=a..b)`` or ``module:function``). Each experiment's
seed is the keyword ``seed`` if EMA passes one (declare it as an uncertainty or a constant),
else the scenario's: pass a seed to get replicates that differ.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from . import api
from .params import ScenarioError

SEPARATOR = "__"


def ema_name(key: str) -> str:
    """A dotted momentsim key as an EMA parameter name (an identifier)."""
    return key.replace(".", SEPARATOR)


def dotted(name: str) -> str:
    """An EMA parameter name back to momentsim's dotted key."""
    return name.replace(SEPARATOR, ".")


class MomentsimFunction:
    """A picklable callable ``f(**parameters) -> {outcome: value}``: one momentsim run."""

    def __init__(self, scenario: str = "baseline", outcomes: Iterable[str] = ("sentiment_ours",),
                 steps: int | None = None, burn_in: int = 0):
        from .sweep.outputs import check, is_custom
        from .sweep.spec import metric_names
        from .record import columns

        self.scenario = api.resolve(scenario, steps=steps)
        self.outcomes = list(outcomes)
        self.burn_in = burn_in
        brands = self.scenario.params.brand_names
        for name in self.outcomes:
            if is_custom(name):
                check(name, columns(brands), self.scenario.params["steps"], "outcomes")
            elif name not in metric_names(brands):
                raise ScenarioError(f"outcomes: {name!r}: expected an end-of-run metric "
                                    f"({', '.join(metric_names(brands)[:5])}, ...) or a user-defined output")

    def __call__(self, **parameters: Any) -> dict[str, float]:
        from .sweep.outputs import evaluate
        from .sweep.spec import flatten

        seed = parameters.pop("seed", None)
        overrides = {dotted(k): v for k, v in parameters.items()}
        result = api.run(self.scenario, seed=None if seed is None else int(seed), overrides=overrides)
        metrics = flatten(result.summary(skip=self.burn_in) if self.burn_in else result.summary())
        return {name: metrics[name] if name in metrics else evaluate(name, result.table, self.burn_in)
                for name in self.outcomes}


def function(scenario: str = "baseline", outcomes: Iterable[str] = ("sentiment_ours",), steps: int | None = None,
             burn_in: int = 0) -> Callable[..., dict[str, float]]:
    """The function EMA calls: keyword arguments in (``__`` for dots), outcomes out."""
    return MomentsimFunction(scenario, outcomes, steps, burn_in)


def model(scenario: str = "baseline", uncertainties: dict[str, tuple[float, float]] | None = None,
          outcomes: Iterable[str] = ("sentiment_ours",), levers: dict[str, tuple[float, float]] | None = None,
          steps: int | None = None, burn_in: int = 0, name: str = "momentsim"):
    """An ``ema_workbench.Model`` running ``scenario`` (needs the optional ``ema-workbench`` package)."""
    try:
        from ema_workbench import Model, RealParameter, ScalarOutcome
    except ImportError:
        raise ImportError("sim.ema.model needs the EMA Workbench: pip install 'momentsim[ema]'") from None
    f = MomentsimFunction(scenario, outcomes, steps, burn_in)
    ema_model = Model(name, function=f)
    ema_model.uncertainties = [RealParameter(ema_name(k), float(lo), float(hi))
                               for k, (lo, hi) in (uncertainties or {}).items()]
    if levers:
        ema_model.levers = [RealParameter(ema_name(k), float(lo), float(hi)) for k, (lo, hi) in levers.items()]
    ema_model.outcomes = [ScalarOutcome(o) for o in f.outcomes]
    return ema_model
