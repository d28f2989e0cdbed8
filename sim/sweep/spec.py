"""Sweep files: read a sweep TOML, validate it, and say which runs it makes.

A sweep names a base scenario, the parameters to vary, the design, replicates,
steps, a seed and the outputs to keep::

    scenario = "baseline"          # a shipped scenario's name, or a file relative to this one
    steps = 365
    seed = 2024                    # every run's seed is derived from it (NumPy SeedSequence)
    replicates = 10
    design = "grid"                # grid, lhs, sobol, morris
    outputs = ["sentiment_ours", "market_share_ours"]   # end-of-run metrics (default: all)
    daily = ["sentiment_ours"]     # daily series to keep (true: every column; default: none)

    [set]                          # fixed overrides for every run
    "population.size" = 2000

    [vary]
    "sharing.negative_multiplier" = [1, 2, 3, 4, 5, 6, 7, 8]
    "brands.ours.quality" = { low = 0.5, high = 0.8, num = 4 }

Every mistake is a :class:`sim.params.ScenarioError` naming the file and the
key, with what was expected and what was found. Every design point is
resolved against the scenario schema here, so a bad value never reaches a run.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import api, provenance
from ..params import BRAND_SCHEMA, SCHEMA, ScenarioError, suggest
from ..record import columns as recorded_columns
from ..scenario import Scenario, parse_toml, read_text
from .design import DESIGNS, Varied, points, problem

TOP_KEYS = ("scenario", "steps", "seed", "replicates", "design", "samples", "levels", "outputs", "daily",
            "name", "description", "set", "vary", "crn", "second_order", "level", "reference", "burn_in")
RANGE_KEYS = ("low", "high", "num", "step")
# A sweep's runs are listed, seeded and tracked one by one: past this many, split the study.
MAX_RUNS = 1_000_000
# End-of-run metrics (sim.api.Result.summary(), flattened): totals, then per brand as <metric>_<brand>.
TOTAL_METRICS = ("population", "adopters", "purchases", "experiences", "dissatisfied_share_of_experiences",
                 "shared_share_of_experiences", "negative_share_of_conversation")
BRAND_METRICS = ("sentiment", "rating", "aware", "purchases", "market_share", "revenue", "acquisitions",
                 "retentions", "acquisition_cost", "retention_cost", "shares_positive", "shares_negative",
                 "reviews", "attitude", "net_sentiment", "complaints", "recoveries",
                 "gross_margin", "spend_ads", "spend_prompts", "spend_service", "spend_remarketing", "profit", "npv",
                 "clv")


def metric_names(brands: list[str]) -> list[str]:
    """Every end-of-run metric a sweep can keep, in table order."""
    return list(TOTAL_METRICS) + [f"{m}_{b}" for b in brands for m in BRAND_METRICS]


def flatten(summary: dict[str, Any]) -> dict[str, float]:
    """A run's summary as flat metric columns (``sentiment_ours``, ``market_share_ours``, ...)."""
    flat = {m: float(summary[m]) for m in TOTAL_METRICS}
    for brand, figures in summary["brands"].items():
        flat.update({f"{m}_{brand}": float(figures[m]) for m in BRAND_METRICS})
    return flat


@dataclass(frozen=True)
class Task:
    """One run: everything a worker needs, and nothing else (picklable, pure)."""
    run_id: int
    point: int
    replicate: int
    seed: int
    overrides: dict[str, Any]
    scenario: Scenario
    outputs: tuple[str, ...]
    daily: tuple[str, ...]
    burn_in: int = 0


@dataclass
class Sweep:
    """A validated sweep: the base scenario, the design's points, replicates and outputs."""
    name: str
    scenario: Scenario                 # the base scenario with steps and [set] applied
    varied: list[Varied]
    design: str
    points: list[dict[str, Any]]
    replicates: int
    seed: int
    outputs: list[str]
    daily: list[str]
    samples: int | None = None
    levels: int = 4
    fixed: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    path: Path | None = None
    text: str = ""                     # the sweep file as written
    crn: bool = False                  # common random numbers: replicate i has the same seed at every point
    second_order: bool = False         # sobol: second-order indices too (2k + 2 points a sample, not k + 2)
    level: float = 0.95                # confidence level of every interval in the report
    reference: dict[str, Any] | None = None  # grid: the point the others are compared with (default: point 0)
    burn_in: int = 0                   # days run but not counted in the outputs

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replicates

    @property
    def parameters(self) -> list[str]:
        return [v.key for v in self.varied]

    @property
    def steps(self) -> int:
        return self.scenario.params["steps"]

    def seed_of(self, run_id: int) -> int:
        """Run ``run_id``'s seed: child ``run_id`` of SeedSequence(seed), as ``spawn(n_runs)`` gives it;
        with ``crn``, child ``replicate``: replicate i has the same seed at every point."""
        key = run_id % self.replicates if self.crn else run_id
        child = np.random.SeedSequence(self.seed, spawn_key=(key,))
        return int(child.generate_state(1)[0])

    def task(self, run_id: int) -> Task:
        point, replicate = divmod(run_id, self.replicates)
        return Task(run_id, point, replicate, self.seed_of(run_id), dict(self.points[point]),
                    self.scenario, tuple(self.outputs), tuple(self.daily), self.burn_in)

    def reference_point(self) -> int:
        """The grid point the others are compared with."""
        if not self.reference:
            return 0
        for i, point in enumerate(self.points):
            if all(point.get(k) == v for k, v in self.reference.items()):
                return i
        raise ScenarioError(f"reference: no grid point has {_show(self.reference)}")

    def problem(self) -> dict[str, Any] | None:
        """SALib's problem dictionary (sobol, morris and lhs designs)."""
        return problem(self.varied) if self.design != "grid" else None

    def fingerprint(self) -> str:
        """A hash of everything that decides the runs and their rows; names and texts left out."""
        doc = {"scenario": self.scenario.to_toml(), "points": self.points, "replicates": self.replicates,
               "seed": self.seed, "outputs": self.outputs, "daily": self.daily}
        if self.crn:  # only when set, so that earlier sweeps keep their fingerprint (and resume)
            doc["crn"] = True
        if self.burn_in:
            doc["burn_in"] = self.burn_in
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def resolved(self) -> dict[str, Any]:
        """The sweep as resolved, for sweep.json next to the results."""
        return {"name": self.name, "description": self.description, "fingerprint": self.fingerprint(),
                "file": str(self.path) if self.path else None, "base_scenario": self.scenario.name,
                "steps": self.steps, "seed": self.seed, "replicates": self.replicates, "design": self.design,
                "samples": self.samples, "levels": self.levels, "set": self.fixed,
                "parameters": self.parameters, "problem": self.problem(),
                "points": len(self.points), "runs": self.n_runs, "outputs": self.outputs, "daily": self.daily,
                "crn": self.crn, "second_order": self.second_order, "level": self.level,
                "reference": self.reference_point() if self.design == "grid" and self.varied else None,
                "burn_in": self.burn_in}


def shipped_sweeps() -> dict[str, Path]:
    """The sweeps shipped in ``scenarios/sweeps/`` (package data when installed), by name."""
    from ..scenario import SCENARIO_DIR

    return {p.stem: p for p in sorted((SCENARIO_DIR / "sweeps").glob("*.toml"))}


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep TOML file."""
    path = Path(path)
    return loads_sweep(read_text(path, "sweep file"), path)


def loads_sweep(text: str, path: str | Path | None = None) -> Sweep:
    """Parse sweep TOML text; ``path`` names it in errors and anchors a relative scenario file."""
    path = Path(path) if path is not None else None
    src = str(path) if path is not None else "<sweep>"
    doc = parse_toml(text, src)
    for key in doc:
        if key not in TOP_KEYS:
            raise ScenarioError(f"{src}: {key}: unknown key; expected one of {', '.join(TOP_KEYS)}"
                                f"{suggest(key, TOP_KEYS)}")

    base = _base_scenario(doc, src, path)
    fixed = _dotted(doc.get("set", {}), src, "set", leaf=lambda v: not isinstance(v, dict))
    if "steps" in doc:
        fixed["steps"] = _integer(doc, "steps", src, 1, high=api.MAX_STEPS)
    if fixed:
        base = base.with_overrides(fixed, source=f"{src}: set",
                                   base_dir=path.resolve().parent if path is not None else None)
    seed = _integer(doc, "seed", src, 0, default=base.params["seed"], high=2**63 - 1)
    replicates = _integer(doc, "replicates", src, 1, default=1, high=MAX_RUNS)
    design = doc.get("design", "grid")
    if design not in DESIGNS:
        raise ScenarioError(f"{src}: design: expected one of {', '.join(DESIGNS)}, found {design!r}"
                            f"{suggest(str(design), DESIGNS)}")
    samples = None
    if design != "grid":
        samples = _integer(doc, "samples", src, 1, high=MAX_RUNS)
        if design == "sobol" and samples & (samples - 1):
            raise ScenarioError(f"{src}: samples: expected a power of 2 for design 'sobol' (Saltelli's "
                                f"scheme needs it), found {samples}")
    elif "samples" in doc:
        raise ScenarioError(f"{src}: samples: only for designs lhs, sobol and morris; a grid runs every "
                            f"combination of the listed values")
    levels = _integer(doc, "levels", src, 2, default=4, high=1000)
    crn = _boolean(doc, "crn", src)
    second_order = _boolean(doc, "second_order", src)
    if second_order and design != "sobol":
        raise ScenarioError(f"{src}: second_order: only for design 'sobol', found design {design!r}")
    level = doc.get("level", 0.95)
    if not isinstance(level, float) or not 0.5 <= level < 1:
        raise ScenarioError(f"{src}: level: expected a confidence level in [0.5, 1) such as 0.95, found {level!r}")
    burn_in = _integer(doc, "burn_in", src, 0, default=0, high=api.MAX_STEPS)
    if burn_in >= base.params["steps"]:
        raise ScenarioError(f"{src}: burn_in: expected fewer days than steps ({base.params['steps']}), "
                            f"found {burn_in}")

    varied = _varied(doc.get("vary"), design, base, src)
    _check_runs(design, varied, samples, replicates, src, second_order)
    pts = points(design, varied, samples, seed, levels, second_order)
    cpu_seconds = 0.0
    with warnings.catch_warnings():  # one warning for the whole sweep, below, not one a point
        warnings.simplefilter("ignore", provenance.MomentsimWarning)
        for i, point in enumerate(pts):  # every point resolved now: a bad one never reaches a worker
            where = f"{src}: vary (point {i}: {_show(point)})"
            resolved = base.with_overrides(point, source=where) if point else base
            try:
                cpu_seconds += api.check_size(resolved) * replicates
            except ScenarioError as exc:
                raise ScenarioError(f"{where}: {exc}") from None
    if cpu_seconds > 3600:
        provenance.warn(f"{src}: {len(pts) * replicates:,} runs: expect about {cpu_seconds / 3600:,.1f} "
                        f"CPU-hours (divide by the workers)")
    brands = base.params.brand_names
    outputs = _outputs(doc, src, brands, base.params["steps"])
    daily = _names(doc, "daily", src, recorded_columns(brands)[1:], "a recorded column", default=False)
    name = doc.get("name", path.stem if path else "sweep")
    if not isinstance(name, str) or not name or not name.replace("-", "_").isidentifier():
        raise ScenarioError(f"{src}: name: expected a plain name (letters, digits, _ and -), found {name!r}")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"{src}: description: expected a string, found {description!r}")
    reference = None
    if "reference" in doc:
        if design != "grid":
            raise ScenarioError(f"{src}: reference: only for a grid design, found design {design!r}")
        reference = _dotted(doc["reference"], src, "reference", leaf=lambda v: not isinstance(v, dict))
        unknown = [k for k in reference if k not in [v.key for v in varied]]
        if unknown:
            raise ScenarioError(f"{src}: reference.{unknown[0]}: expected a varied parameter "
                                f"({', '.join(v.key for v in varied)})")
    sweep = Sweep(name, base, varied, design, pts, replicates, seed, outputs, daily, samples, levels,
                  fixed, description, path, text, crn, second_order, level, reference, burn_in)
    if reference is not None:
        try:
            sweep.reference_point()
        except ScenarioError as exc:
            raise ScenarioError(f"{src}: {exc}") from None
    return sweep


def _show(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in point.items())


def _base_scenario(doc: dict, src: str, path: Path | None) -> Scenario:
    if "scenario" not in doc:
        raise ScenarioError(f"{src}: scenario: missing; expected a shipped scenario's name "
                            f"(e.g. \"baseline\") or a scenario file")
    name = doc["scenario"]
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{src}: scenario: expected a scenario name or file, found {name!r}")
    target: str | Path = name
    if (name.endswith(".toml") or "/" in name) and path is not None and not Path(name).is_absolute():
        target = path.resolve().parent / name
    try:
        return api.load(target)
    except ScenarioError as exc:
        raise ScenarioError(f"{src}: scenario: {exc}") from None


def _boolean(doc: dict, key: str, src: str) -> bool:
    value = doc.get(key, False)
    if not isinstance(value, bool):
        raise ScenarioError(f"{src}: {key}: expected true or false, found {value!r}")
    return value


def _check_runs(design: str, varied: list[Varied], samples: int | None, replicates: int, src: str,
                second_order: bool = False) -> None:
    """Refuse a sweep of more than MAX_RUNS runs before its points are made."""
    d = len(varied)
    if not varied:
        n_points, how = 1, "1 point"
    elif design == "grid":
        n_points = 1
        for v in varied:
            n_points *= v.count()
        how = " x ".join(f"{v.count():,}" for v in varied) + " points"
    elif design == "sobol" and second_order:
        n_points, how = samples * (2 * d + 2), f"samples x (2 parameters + 2) = {samples:,} x {2 * d + 2} points"
    elif design == "sobol":
        n_points, how = samples * (d + 2), f"samples x (parameters + 2) = {samples:,} x {d + 2} points"
    elif design == "morris":
        n_points, how = samples * (d + 1), f"samples x (parameters + 1) = {samples:,} x {d + 1} points"
    else:
        n_points, how = samples, f"{samples:,} points"
    runs = n_points * replicates
    if runs > MAX_RUNS:
        raise ScenarioError(f"{src}: the sweep makes {how} x {replicates:,} replicates = {runs:,} runs; "
                            f"expected at most {MAX_RUNS:,} (fewer values, samples or replicates)")


def _integer(doc: dict, key: str, src: str, low: int, default: int | None = None,
             high: int | None = None) -> int:
    if key not in doc:
        if default is None:
            raise ScenarioError(f"{src}: {key}: missing; expected an integer >= {low}")
        return default
    value = doc[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ScenarioError(f"{src}: {key}: expected an integer >= {low}, found {value!r}")
    if high is not None and value > high:
        shown = f"{value:,}" if value < 10**30 else f"a {len(str(value))}-digit number"
        raise ScenarioError(f"{src}: {key}: expected an integer <= {high:,}, found {shown}")
    return value


def _dotted(table: Any, src: str, where: str, leaf) -> dict[str, Any]:
    """Nested or quoted-dotted keys -> {dotted key: value}, stopping where ``leaf(value)`` holds."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{src}: {where}: expected a table of dotted keys, found {table!r}")
    flat: dict[str, Any] = {}

    def walk(t: dict, prefix: str) -> None:
        for key, value in t.items():
            dotted = prefix + key
            if isinstance(value, dict) and not leaf(value):
                walk(value, dotted + ".")
            else:
                flat[dotted] = value

    walk(table, "")
    return flat


def _is_range(value: Any) -> bool:
    return isinstance(value, dict) and ("low" in value or "high" in value)


def _schema_param(key: str, base: Scenario, src: str):
    if key in SCHEMA:
        return SCHEMA[key]
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "brands" and parts[2] in BRAND_SCHEMA:
        return BRAND_SCHEMA[parts[2]]
    base.with_overrides({key: None}, source=f"{src}: vary")  # raises the scenario's own "unknown key" error
    raise ScenarioError(f"{src}: vary.{key}: unknown key")


def _varied(table: Any, design: str, base: Scenario, src: str) -> list[Varied]:
    if table is None:
        return []
    flat = _dotted(table, src, "vary", leaf=lambda v: _is_range(v) or not isinstance(v, dict))
    out = []
    for key, value in flat.items():
        where = f"{src}: vary.{key}"
        if key in ("market.brands", "steps", "seed"):
            why = "outputs are named after the brands" if key == "market.brands" else "set it at the top"
            raise ScenarioError(f"{where}: cannot be varied ({why})")
        param = _schema_param(key, base, src)
        if isinstance(value, list):
            if not value:
                raise ScenarioError(f"{where}: expected a non-empty list of values, found []")
            if design != "grid":
                raise ScenarioError(f"{where}: expected a range {{ low = ..., high = ... }} for design "
                                    f"'{design}', found a list {value!r}")
            checked = [_checked(base, key, v, f"{src}: vary ({key}[{i}])") for i, v in enumerate(value)]
            out.append(Varied(key, param.kind, values=tuple(checked)))
        elif _is_range(value):
            out.append(_range(key, value, param, design, where, base, src))
        else:
            raise ScenarioError(f"{where}: expected a list of values or a range {{ low = ..., high = ..., "
                                f"num = ... }}, found {value!r}")
    return out


def _checked(base: Scenario, key: str, value: Any, source: str) -> Any:
    """``value`` validated against the schema and converted to the parameter's type (1 -> 1.0)."""
    params = base.with_overrides({key: value}, source=source).params
    if key.startswith("brands."):
        _, brand, lever = key.split(".", 2)
        return params.brands[brand][lever]
    return params[key]


def _range(key: str, value: dict, param, design: str, where: str, base: Scenario, src: str) -> Varied:
    for k in value:
        if k not in RANGE_KEYS:
            raise ScenarioError(f"{where}.{k}: unknown key; a range has {', '.join(RANGE_KEYS)}"
                                f"{suggest(k, RANGE_KEYS)}")
    if param.kind not in (int, float):
        raise ScenarioError(f"{where}: expected a list of values (the parameter is not a number), "
                            f"found a range")
    for k in ("low", "high"):
        v = value.get(k)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ScenarioError(f"{where}.{k}: expected a number, found {v!r}")
        as_kind = (float(v) if param.kind is float
                   else int(v) if param.kind is int and float(v).is_integer() else v)  # 1.0 -> 1 for an integer
        base.with_overrides({key: as_kind},
                            source=f"{src}: vary ({key}.{k})")
    low, high = value["low"], value["high"]
    if not low < high:
        raise ScenarioError(f"{where}: expected low < high, found low = {low!r}, high = {high!r}")
    num, step = value.get("num"), value.get("step")
    if design == "grid":
        if (num is None) == (step is None):
            raise ScenarioError(f"{where}: expected exactly one of num or step for a grid range, "
                                f"found {'both' if num is not None else 'neither'}")
        if num is not None and (not isinstance(num, int) or isinstance(num, bool) or not 2 <= num <= MAX_RUNS):
            raise ScenarioError(f"{where}.num: expected an integer in [2, {MAX_RUNS:,}], found {num!r}")
        if step is not None and (not isinstance(step, (int, float)) or isinstance(step, bool) or step <= 0):
            raise ScenarioError(f"{where}.step: expected a number > 0, found {step!r}")
        if step is not None and (high - low) / step >= MAX_RUNS:
            raise ScenarioError(f"{where}.step: expected at most {MAX_RUNS:,} values from low to high, "
                                f"found ({high!r} - {low!r}) / {step!r} = {(high - low) / step:,.0f}")
    elif num is not None or step is not None:
        raise ScenarioError(f"{where}: {'num' if num is not None else 'step'}: only for a grid; design "
                            f"'{design}' samples the range itself (set samples at the top)")
    return Varied(key, param.kind, low=low, high=high, num=num, step=step)


def _outputs(doc: dict, src: str, brands: list[str], steps: int) -> list[str]:
    """The outputs: end-of-run metrics by name, or user-defined ones (sim.sweep.outputs)."""
    from . import outputs as custom

    builtin = metric_names(brands)
    value = doc.get("outputs", True)
    if not isinstance(value, list):
        return _names(doc, "outputs", src, builtin, "an end-of-run metric", default=True)
    plain = [v for v in value if not (isinstance(v, str) and custom.is_custom(v))]
    if plain or not value:
        _names({"outputs": plain or value}, "outputs", src, builtin,
               "an end-of-run metric, 'mean(column, days=a..b)' or 'module:function'", default=True)
    for name in value:
        if isinstance(name, str) and custom.is_custom(name):
            custom.check(name, recorded_columns(brands), steps, f"{src}: outputs")
    if len(set(value)) != len(value):
        raise ScenarioError(f"{src}: outputs: expected each name once, found {value!r}")
    return list(value)


def _names(doc: dict, key: str, src: str, valid: list[str], what: str, default: bool) -> list[str]:
    value = doc.get(key, default)
    if value is True:
        return list(valid)
    if value is False:
        return []
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f"{src}: {key}: expected true, false or a list of names, found {value!r}")
    for name in value:
        if name not in valid:
            raise ScenarioError(f"{src}: {key}: expected {what} ({', '.join(valid[:6])}, ...), found "
                                f"{name!r}{suggest(name, valid)}")
    if len(set(value)) != len(value):
        raise ScenarioError(f"{src}: {key}: expected each name once, found {value!r}")
    return list(value)
