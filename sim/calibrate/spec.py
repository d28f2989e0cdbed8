"""The calibration spec: a TOML file naming the scenario, the data, the free parameters and their priors.

Every mistake is one :class:`~sim.params.ScenarioError` naming the file, the
key, what was expected and what was found (with the nearest valid key), raised
before anything is written.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import api
from ..params import BRAND_SCHEMA, SCHEMA, Param, ScenarioError, suggest
from ..record import columns as recorded_columns_of
from ..scenario import Scenario, parse_toml, read_text
from .data import ObservedData, read_tidy
from .observe import OBSERVABLES, PERIOD_DAYS, recorded_columns

TOP_KEYS = ("kind", "title", "scenario", "data", "period", "period_format", "start_day", "market_size",
            "population", "engine", "seed", "holdout", "fit_first", "parameters", "series", "budget")
PRIORS = {"uniform": ("low", "high"), "log_uniform": ("low", "high"), "normal": ("mean", "sd"),
          "truncated_normal": ("mean", "sd", "low", "high")}
SERIES_KEYS = ("weight", "brands")
BUDGET_KEYS = ("population", "max_population", "generations", "simulations", "min_epsilon", "predictive",
               "workers")


@dataclass(frozen=True)
class Prior:
    kind: str
    args: dict[str, float]

    def support(self) -> tuple[float, float]:
        a = self.args
        if self.kind in ("uniform", "log_uniform", "truncated_normal"):
            return a["low"], a["high"]
        return -math.inf, math.inf

    def quantiles(self, qs) -> list[float]:
        """Prior quantiles (for the posterior/prior width ratio)."""
        return [float(self.scipy().ppf(q)) for q in qs]

    def scipy(self):
        from scipy import stats
        a = self.args
        if self.kind == "uniform":
            return stats.uniform(a["low"], a["high"] - a["low"])
        if self.kind == "log_uniform":
            return stats.loguniform(a["low"], a["high"])
        if self.kind == "normal":
            return stats.norm(a["mean"], a["sd"])
        return stats.truncnorm((a["low"] - a["mean"]) / a["sd"], (a["high"] - a["mean"]) / a["sd"],
                               loc=a["mean"], scale=a["sd"])

    def describe(self) -> str:
        return f"{self.kind}(" + ", ".join(f"{k}={v:g}" for k, v in self.args.items()) + ")"


@dataclass
class Spec:
    """A validated calibration spec, with its scenario and data loaded."""
    path: Path
    text: str
    title: str
    scenario: Scenario
    data: ObservedData
    period: str
    period_format: str
    start_day: int
    market_size: float
    population: int
    engine: str
    seed: int
    holdout: int
    fit_first: int
    parameters: dict[str, Prior]
    series: dict[str, dict[str, Any]]          # series -> {"weight": w, "brands": [...]}
    budget: dict[str, Any] = field(default_factory=dict)

    @property
    def period_days(self) -> int:
        return PERIOD_DAYS[self.period]

    @property
    def scale(self) -> float:
        """Real consumers per simulated consumer: simulated counts are multiplied by it."""
        return self.market_size / self.population

    @property
    def fit_last(self) -> int:
        """The last period of the fit window (the hold-out follows it)."""
        return self.data.n_periods - self.holdout - 1

    @property
    def fit_periods(self) -> int:
        """Periods simulated while fitting: 0..fit_last (the first fit_first are simulated, not compared)."""
        return self.fit_last + 1

    @property
    def digest(self) -> str:
        """SHA-256 of the spec file and the data file: what a result was fitted to."""
        h = hashlib.sha256(self.text.encode())
        h.update(self.data.path.read_bytes())
        return h.hexdigest()

    def base(self, steps: int) -> Scenario:
        """The scenario with the spec's population, engine and the number of days to cover."""
        return self.scenario.with_overrides({"population.size": self.population, "engine": self.engine,
                                             "steps": steps}, source=f"{self.path}")

    def steps_for(self, n_periods: int) -> int:
        return self.start_day + n_periods * self.period_days


def load_spec(path: str | Path):
    """Read and validate a calibration spec and everything it names."""
    path = Path(path)
    src = str(path)
    if not path.is_file():
        raise ScenarioError(f"{src}: cannot read the calibration spec: no such file")
    text = read_text(path, "calibration spec")
    doc = parse_toml(text, src)
    kind = doc.get("kind", "tidy")
    if kind == "panel":
        from .panel import load_panel_spec

        return load_panel_spec(path)
    if kind != "tidy":
        raise ScenarioError(f"{src}: kind: expected 'tidy' (a CSV of series per period and brand) or 'panel' "
                            f"(purchase-level household data), found {kind!r}{suggest(str(kind), ('tidy', 'panel'))}")
    for key in doc:
        if key not in TOP_KEYS:
            raise ScenarioError(f"{src}: {key}: unknown key; expected one of {', '.join(TOP_KEYS)}"
                                f"{suggest(key, TOP_KEYS)}")
    for key in ("scenario", "data", "parameters", "series"):
        if key not in doc:
            raise ScenarioError(f"{src}: {key}: missing; a calibration spec needs scenario, data, "
                                f"parameters and series")

    def get(key, kind, default, check=None, expected=""):
        value = doc.get(key, default)
        ok = isinstance(value, kind) and not (kind in (int, float, (int, float)) and isinstance(value, bool))
        if not ok or (check is not None and not check(value)):
            raise ScenarioError(f"{src}: {key}: expected {expected}, found {value!r}")
        return value

    title = get("title", str, path.stem, expected="a string")
    scenario_name = get("scenario", str, None, expected="a shipped scenario's name or a scenario file")
    candidate = path.resolve().parent / scenario_name
    try:
        scenario = api.load(candidate if candidate.is_file() else scenario_name)
    except ScenarioError as exc:
        raise ScenarioError(f"{src}: scenario: {exc}") from None
    period = get("period", str, "day", lambda v: v in PERIOD_DAYS, "one of 'day', 'week', 'month'")
    period_format = get("period_format", str, "index", lambda v: v in ("index", "date"),
                        "'index' (an integer period number) or 'date' (ISO YYYY-MM-DD)")
    start_day = get("start_day", int, 0, lambda v: v >= 0, "an integer >= 0 (the simulated day data period 0 starts)")
    population = get("population", int, scenario.params["population.size"], lambda v: v > 0,
                     "a positive integer (simulated consumers)")
    market_size = float(get("market_size", (int, float), population, lambda v: math.isfinite(v) and v > 0,
                            "a positive number (real consumers in the market)"))
    engine = get("engine", str, "array", lambda v: v in ("agent", "array"), "'agent' or 'array'")
    seed = get("seed", int, scenario.params["seed"], lambda v: v >= 0, "an integer >= 0")
    holdout = get("holdout", int, 0, lambda v: v >= 0, "an integer >= 0 (the last K periods, never fitted)")
    fit_first = get("fit_first", int, 0, lambda v: v >= 0, "an integer >= 0 (the first fitted period)")

    data_name = get("data", str, None, expected="the data file (a tidy CSV), relative to the spec")
    data_path = Path(data_name)
    if not data_path.is_absolute():
        data_path = path.resolve().parent / data_path
    brands = scenario.params.brand_names
    try:
        data = read_tidy(data_path, brands, period, period_format, f"{src}")
    except ScenarioError as exc:
        raise ScenarioError(str(exc) if str(exc).startswith(src) else f"{src}: data: {exc}") from None

    if holdout >= data.n_periods:
        raise ScenarioError(f"{src}: holdout: expected fewer periods than the data's {data.n_periods} "
                            f"(the rest is the fit window), found {holdout}")
    if fit_first > data.n_periods - holdout - 1:
        raise ScenarioError(f"{src}: fit_first: the fit window is empty: expected fit_first <= "
                            f"{data.n_periods - holdout - 1} (the data have {data.n_periods} periods, "
                            f"{holdout} held out), found {fit_first}")

    parameters = _parameters(doc["parameters"], scenario, src)
    series = _series(doc["series"], data, brands, src)
    budget = _budget(doc.get("budget", {}), src)
    spec = Spec(path, text, title, scenario, data, period, period_format, start_day, market_size, population,
                engine, seed, holdout, fit_first, parameters, series, budget)
    _check_corners(spec, src)
    return spec


def find_param(key: str, scenario: Scenario) -> Param | None:
    if key in SCHEMA:
        return SCHEMA[key]
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "brands" and parts[1] in scenario.params.brands:
        return BRAND_SCHEMA.get(parts[2])
    return None


def _parameters(table: Any, scenario: Scenario, src: str) -> dict[str, Prior]:
    if not isinstance(table, dict) or not table:
        raise ScenarioError(f'{src}: parameters: expected at least one free parameter, e.g. '
                            f'[parameters."brands.ours.quality"] prior = "uniform", low = 0.4, high = 0.9; '
                            f'found {table!r}')
    brands = scenario.params.brand_names
    options = list(SCHEMA) + [f"brands.{b}.{lever}" for b in brands for lever in BRAND_SCHEMA]
    out = {}
    for key, raw in table.items():
        where = f"{src}: parameters.{key}"
        if isinstance(raw, dict) and "prior" not in raw and find_param(key, scenario) is None:
            # a TOML table written without quotes (parameters.brands.ours.quality) nests: flatten it
            raise ScenarioError(f"{where}: expected a parameter's dotted key in quotes, e.g. "
                                f'[parameters."{key}.<...>"], found a nested table')
        param = find_param(key, scenario)
        if param is None:
            raise ScenarioError(f"{where}: no such parameter in scenario {scenario.name!r}{suggest(key, options)}")
        if param.kind is not float:
            raise ScenarioError(f"{where}: expected a real-valued parameter, found {param.kind.__name__} "
                                f"({param.expected()}); integers, switches and names cannot be calibrated")
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: expected a table with prior = ..., found {raw!r}")
        kind = raw.get("prior")
        if kind not in PRIORS:
            raise ScenarioError(f"{where}.prior: expected one of {', '.join(PRIORS)}, found {kind!r}"
                                f"{suggest(str(kind), PRIORS)}")
        needed = PRIORS[kind]
        for k in raw:
            if k != "prior" and k not in needed:
                raise ScenarioError(f"{where}.{k}: unknown key for a {kind} prior; expected "
                                    f"{', '.join(needed)}{suggest(k, needed)}")
        args = {}
        for k in needed:
            v = raw.get(k)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise ScenarioError(f"{where}.{k}: expected a number (a {kind} prior needs "
                                    f"{', '.join(needed)}), found {v!r}")
            args[k] = float(v)
        if "low" in args and not args["low"] < args["high"]:
            raise ScenarioError(f"{where}: expected low < high, found low = {args['low']:g}, high = {args['high']:g}")
        if "sd" in args and args["sd"] <= 0:
            raise ScenarioError(f"{where}.sd: expected a positive number, found {args['sd']:g}")
        if kind == "log_uniform" and args["low"] <= 0:
            raise ScenarioError(f"{where}.low: expected a positive number for a log_uniform prior, "
                                f"found {args['low']:g}")
        prior = Prior(kind, args)
        lo, hi = prior.support()
        below = param.low is not None and (lo < param.low or (param.low_open and lo <= param.low))
        above = param.high is not None and hi > param.high
        if below or above:
            hint = " (a normal prior is unbounded: use truncated_normal with low and high)" if kind == "normal" else ""
            raise ScenarioError(f"{where}: prior {prior.describe()} reaches outside the parameter's valid "
                                f"range: expected {param.expected()}, found support [{lo:g}, {hi:g}]{hint}")
        out[key] = prior
    return out


def _series(table: Any, data: ObservedData, brands: list[str], src: str) -> dict[str, dict[str, Any]]:
    if not isinstance(table, dict) or not table:
        raise ScenarioError(f"{src}: series: expected at least one observed series, e.g. [series.purchases] "
                            f"weight = 1; found {table!r}")
    known = recorded_columns_of(brands)
    out = {}
    for name, raw in table.items():
        where = f"{src}: series.{name}"
        if name not in OBSERVABLES:
            raise ScenarioError(f"{where}: unknown series; expected one of {', '.join(OBSERVABLES)}"
                                f"{suggest(name, OBSERVABLES)}")
        if name not in data.series:
            raise ScenarioError(f"{where}: the data file {data.path} has no column {name!r}; it has "
                                f"{', '.join(data.series)}")
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: expected a table (weight, brands), found {raw!r}")
        for k in raw:
            if k not in SERIES_KEYS:
                raise ScenarioError(f"{where}.{k}: unknown key; expected one of {', '.join(SERIES_KEYS)}"
                                    f"{suggest(k, SERIES_KEYS)}")
        weight = raw.get("weight", 1.0)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not (0 < weight < math.inf):
            raise ScenarioError(f"{where}.weight: expected a positive number, found {weight!r}")
        chosen = raw.get("brands", data.brands)
        if not isinstance(chosen, list) or not chosen:
            raise ScenarioError(f"{where}.brands: expected a list of brands in the data "
                                f"({', '.join(data.brands)}), found {chosen!r}")
        for b in chosen:
            if b not in data.brands:
                raise ScenarioError(f"{where}.brands: expected brands in the data ({', '.join(data.brands)}), "
                                    f"found {b!r}{suggest(str(b), data.brands)}")
        missing = [c for c in recorded_columns(name, brands if name == "share" else chosen) if c not in known]
        if missing:
            raise ScenarioError(f"{where}: this version of the model does not record {', '.join(missing)}; "
                                f"expected a series the model records")
        if all(all(v != v for v in data.values(name, b)) for b in chosen):
            raise ScenarioError(f"{where}: expected some values, found the column empty")
        out[name] = {"weight": float(weight), "brands": list(chosen)}
    return out


def _budget(table: Any, src: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ScenarioError(f"{src}: budget: expected a table, found {table!r}")
    defaults = {"population": 100, "max_population": 400, "generations": 6, "simulations": 5000,
                "min_epsilon": 0.0, "predictive": 40, "workers": 0}
    out = dict(defaults)
    for k, v in table.items():
        if k not in BUDGET_KEYS:
            raise ScenarioError(f"{src}: budget.{k}: unknown key; expected one of {', '.join(BUDGET_KEYS)}"
                                f"{suggest(k, BUDGET_KEYS)}")
        if k == "min_epsilon":
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < math.inf
            expected = "a number >= 0"
        elif k == "workers":
            ok = isinstance(v, int) and not isinstance(v, bool) and v >= 0
            expected = "an integer >= 0 (0: all cores)"
        else:
            ok = isinstance(v, int) and not isinstance(v, bool) and v > 0
            expected = "a positive integer"
        if not ok:
            raise ScenarioError(f"{src}: budget.{k}: expected {expected}, found {v!r}")
        out[k] = v
    if out["max_population"] < out["population"]:
        raise ScenarioError(f"{src}: budget.max_population: expected at least budget.population "
                            f"({out['population']}), found {out['max_population']}")
    if out["simulations"] < out["population"]:
        raise ScenarioError(f"{src}: budget.simulations: expected at least one generation's particles "
                            f"(budget.population = {out['population']}), found {out['simulations']}")
    return out


def _check_corners(spec: Spec, src: str) -> None:
    """Joint constraints (base_propensity x negative_multiplier <= 1) must hold over the priors' support."""
    for corner in (0, 1):
        values = {}
        for key, prior in spec.parameters.items():
            lo, hi = prior.support()
            if math.isinf(lo) or math.isinf(hi):
                lo, hi = prior.quantiles([0.001, 0.999])
            values[key] = (lo, hi)[corner]
        try:
            spec.scenario.with_overrides(values, source="priors")
        except ScenarioError as exc:
            raise ScenarioError(f"{src}: parameters: the priors allow an invalid scenario at their "
                                f"{'upper' if corner else 'lower'} bounds: {exc}") from None
