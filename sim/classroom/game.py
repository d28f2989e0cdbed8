"""The brand game's rules and state: teams are brands, each round their decisions become events.

The game is data: a base scenario (one brand per team plus a house ``rival``), the random seed, and
for each round played the levers each team submitted and the events the teacher injected. The market
of round k is the simulation continued for the round's days, with that round's levers applied as
brand-lever events on its first day. Replaying the same data gives the same market (a restart replays
the rounds played; a "what if you had not" replay drops one decision and runs the same seed).

Money comes from :mod:`sim.economics` (profit after the cost of goods, of winning and keeping
customers, and of the ads, review prompts and service the team paid for).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import api, economics, rules
from ..params import BRAND_SCHEMA, Event, ScenarioError, check_value
from ..scenario import Scenario, loads, to_document

STATE_FILE = "game.json"
STATE_VERSION = 1
MAX_TEAMS = 16
MAX_ROUNDS = 40
MAX_POPULATION = 200_000  # a 90-day round of 17 brands then takes seconds, not minutes
SNAPSHOT_LIMIT = 100_000  # consumers x brands up to which a copy of the market is kept each round
TEAM_NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
              "juliett", "kilo", "lima", "mike", "november", "oscar", "papa")
RIVAL = "rival"  # the house brand: it does not decide; the teacher can make it start a price war
# What a team decides each round, in the order the form shows them.
LEVERS = ("price", "quality", "ad_spend", "review_prompting", "service_recovery")
LEVER_LABELS = {"price": "Price per purchase", "quality": "Product quality (0-1)",
                "ad_spend": "Advertising spend a day", "review_prompting": "Review prompting (0-1)",
                "service_recovery": "Service recovery (0-1)"}
# Game rules on top of the model's ranges (assumptions, docs/classroom.md):
QUALITY_COST = 10.0     # each 0.1 of quality above (below) the start adds (saves) 1.0 of unit cost
PRICE_RANGE = (0.25, 4.0)  # a price between a quarter and four times the starting price
CRISIS_DROP = 0.3       # a quality crisis takes this much off a team's quality for one round
PRICE_WAR_CUT = 0.3     # a price war: the rival cuts its price by 30 % for one round
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed without doubt
CODE_LENGTH = 6
INJECTIONS = ("quality_crisis", "price_war")


class GameError(ScenarioError):
    """A user's mistake in the game (a bad option, a bad form value): one clear message."""


@dataclass
class Config:
    """What a game is set up with; saved in the game file, fixed for the whole game."""
    scenario_name: str
    scenario_toml: str          # the base scenario: team brands + rival, no events, steps = rounds x days
    teams: list[str]
    rounds: int
    days_per_round: int
    budget: float               # the most a team may spend on ads a day
    start: dict[str, float]     # every team's levers before round 1
    base_unit_cost: float
    service_cost_per_recovery: float  # service_cost = this x service_recovery (a complaint handled)

    def scenario(self) -> Scenario:
        return loads(self.scenario_toml, name=f"classroom-{self.scenario_name}")


def new_config(scenario: str | Path | Scenario = "baseline", teams: int = 4, rounds: int = 6,
               days_per_round: int = 60, population: int = 5000, seed: int | None = None,
               budget: float | None = None, names: list[str] | None = None) -> Config:
    """A game on ``scenario``'s market: one brand per team, all starting from its first brand's levers."""
    if not 1 <= teams <= MAX_TEAMS:
        raise GameError(f"--teams: expected 1 to {MAX_TEAMS} teams, found {teams}")
    if not 1 <= rounds <= MAX_ROUNDS:
        raise GameError(f"--rounds: expected 1 to {MAX_ROUNDS} rounds, found {rounds}")
    if not 1 <= days_per_round <= 365:
        raise GameError(f"--days-per-round: expected 1 to 365 days, found {days_per_round}")
    if not 1 <= population <= MAX_POPULATION:
        raise GameError(f"--population: expected 1 to {MAX_POPULATION:,} consumers (a round must be ready in "
                        f"seconds), found {population:,}")
    if rounds * days_per_round > api.MAX_STEPS:
        raise GameError(f"--rounds x --days-per-round: expected at most {api.MAX_STEPS} days, "
                        f"found {rounds * days_per_round}")
    names = list(names or TEAM_NAMES[:teams])
    base = api.load(scenario)
    doc = to_document(base)
    first = dict(base.params.brand(base.params.brand_names[0]))
    p = base.params
    if first["ad_spend"] < 0:  # planned by intensity: the spend a day that buys it
        first["ad_spend"] = round(float(economics.ad_spend_for_intensity(
            first["ad_intensity"], p["economics.ad_max_intensity"], p["economics.ad_half_saturation"])), 2)
    doc["brands"] = {name: dict(first) for name in [*names, RIVAL]}
    doc["market"]["brands"] = [*names, RIVAL]
    doc["steps"] = rounds * days_per_round
    doc["engine"] = "array"
    doc["population"]["size"] = population
    if seed is not None:
        doc["seed"] = seed
    doc.pop("events", None)
    doc.pop("about", None)
    import tomli_w

    text = tomli_w.dumps(doc)
    resolved = loads(text, name=f"classroom-{base.name}")  # validates population, seed, sizes
    api.check_size(resolved)
    start = {lever: float(first[lever]) for lever in LEVERS}
    if budget is None:
        budget = max(50.0, round(4 * start["ad_spend"], 2))
    recovery = first["service_recovery"]
    per_recovery = first["service_cost"] / recovery if recovery > 0 else 2 * first["service_cost"]
    return Config(scenario_name=base.name, scenario_toml=text, teams=names, rounds=rounds,
                  days_per_round=days_per_round, budget=float(budget), start=start,
                  base_unit_cost=float(first["unit_cost"]), service_cost_per_recovery=float(per_recovery))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- decisions: validated levers -------------------------------------------------------

def parse_decision(form: dict[str, Any], config: Config) -> tuple[dict[str, float], dict[str, str]]:
    """(levers, errors by lever) from a submitted form; a lever is missing only as an error."""
    levers, errors = {}, {}
    for lever in LEVERS:
        raw = form.get(lever)
        if raw is None or str(raw).strip() == "":
            errors[lever] = f"{lever}: expected a number, found nothing"
            continue
        text = str(raw).strip()[:40]
        try:
            value = float(text)
        except ValueError:
            errors[lever] = f"{lever}: expected a number, found {text!r}"
            continue
        try:
            value = check_value(BRAND_SCHEMA[lever], value, lever)
        except ScenarioError as exc:
            errors[lever] = str(exc)
            continue
        levers[lever] = value
    if "price" in levers:
        low, high = (f * config.start["price"] for f in PRICE_RANGE)
        if not low <= levers["price"] <= high:
            errors["price"] = (f"price: expected a price from {low:g} to {high:g} (a quarter to four times "
                               f"the starting price), found {levers['price']:g}")
    if "ad_spend" in levers and levers["ad_spend"] > config.budget:
        errors["ad_spend"] = (f"ad_spend: expected at most your budget of {config.budget:g} a day, "
                              f"found {levers['ad_spend']:g}")
    if "ad_spend" in levers and levers["ad_spend"] < 0:
        errors["ad_spend"] = f"ad_spend: expected 0 or more, found {levers['ad_spend']:g}"
    return levers, errors


def model_levers(config: Config, levers: dict[str, float]) -> dict[str, float]:
    """The brand levers the model runs with for a team's decision (quality costs, service costs)."""
    out = dict(levers)
    out["unit_cost"] = round(max(0.0, config.base_unit_cost
                                 + QUALITY_COST * (levers["quality"] - config.start["quality"])), 6)
    out["service_cost"] = round(config.service_cost_per_recovery * levers["service_recovery"], 6)
    return out


def team_levers(config: Config, decisions: list[dict[str, dict]], team: str, upto: int) -> dict[str, float]:
    """A team's levers in force in round ``upto`` (1-based): its last submission, else the start."""
    levers = dict(config.start)
    for played in decisions[:upto]:
        levers.update(played.get(team, {}))
    return levers


def round_events(config: Config, decisions: list[dict], injections: list[list[dict]],
                 round_number: int) -> list[Event]:
    """The brand-lever events of a round (1-based), on its first day: what changed since the last round."""
    day = (round_number - 1) * config.days_per_round + 1

    def effective(k: int) -> dict[str, dict[str, float]]:
        out = {}
        for team in config.teams:
            levers = model_levers(config, team_levers(config, decisions, team, k))
            for inj in (injections[k - 1] if 0 < k <= len(injections) else []):
                if inj["kind"] == "quality_crisis" and inj["team"] == team:
                    levers["quality"] = max(0.05, levers["quality"] - CRISIS_DROP)
            out[team] = levers
        rival = model_levers(config, config.start)
        for inj in (injections[k - 1] if 0 < k <= len(injections) else []):
            if inj["kind"] == "price_war":
                rival["price"] = round(config.start["price"] * (1 - PRICE_WAR_CUT), 4)
        out[RIVAL] = rival
        return out

    now, before = effective(round_number), effective(round_number - 1)
    events = []
    for brand in [*config.teams, RIVAL]:
        for lever, value in now[brand].items():
            if value != before[brand][lever]:
                events.append(Event(day, brand, lever, float(value)))
    return events


def game_scenario(config: Config, decisions: list[dict], injections: list[list[dict]]) -> Scenario:
    """The base scenario with every played round's events: what the recorded table was run with."""
    scenario = config.scenario()
    events = []
    for k in range(1, len(decisions) + 1):
        events += round_events(config, decisions, injections, k)
    scenario.params.events = events
    return scenario


class Market:
    """The simulation of a game, continued round by round (the same code for play, resume and replays)."""

    def __init__(self, config: Config):
        self.config = config
        self.model = api.model_for(config.scenario())
        self.rounds_run = 0

    def run_round(self, decisions: list[dict], injections: list[list[dict]]) -> Scenario:
        """Run the next round with its events; the scenario so far (for the P&L)."""
        k = self.rounds_run + 1
        scenario = game_scenario(self.config, decisions[:k], injections[:k])
        first, last = (k - 1) * self.config.days_per_round + 1, k * self.config.days_per_round
        # The engine's events (ad spend -> ad intensity through the ad stock) are causal: those of this
        # round's days do not depend on later rounds. They join the model's timed events.
        engine = economics.engine_scenario(scenario)
        self.model.schedule([e for e in engine.params.events if first <= e.day <= last])
        for _ in range(self.config.days_per_round):
            self.model.step()
        self.rounds_run = k
        return scenario

    def money(self, scenario: Scenario) -> pd.DataFrame:
        return economics.pnl(self.model.table(), scenario)


def replay(config: Config, decisions: list[dict], injections: list[list[dict]]) -> pd.DataFrame:
    """The table (with P&L) of the rounds played, run afresh from the same seed."""
    market = Market(config)
    scenario = config.scenario()
    for _ in decisions:
        scenario = market.run_round(decisions, injections)
    return market.money(scenario)


# --- outcomes ----------------------------------------------------------------------

def round_outcomes(money: pd.DataFrame, config: Config, round_number: int) -> dict[str, dict[str, Any]]:
    """Per brand, what a brand manager sees of one round (1-based)."""
    d = config.days_per_round
    days = money[(money["step"] > (round_number - 1) * d) & (money["step"] <= round_number * d)]
    last = days.iloc[-1]
    brands = [*config.teams, RIVAL]
    total = float(days["purchases"].sum())
    out = {}
    for b in brands:
        pos, neg = int(days[f"shares_positive_{b}"].sum()), int(days[f"shares_negative_{b}"].sum())
        sales = int(days[f"purchases_{b}"].sum())
        out[b] = {
            "round": round_number,
            "sales": sales,
            "share": round(sales / total, 4) if total else 0.0,
            "revenue": round(float(days[f"revenue_{b}"].sum()), 2),
            "profit": round(float(days[f"profit_{b}"].sum()), 2),
            "spend_ads": round(float(days[f"spend_ads_{b}"].sum()), 2),
            "spend_prompts": round(float(days[f"spend_prompts_{b}"].sum()), 2),
            "spend_service": round(float(days[f"spend_service_{b}"].sum()), 2),
            "acquisitions": int(days[f"acquisitions_{b}"].sum()),
            "retentions": int(days[f"retentions_{b}"].sum()),
            "rating": round(float(last[f"rating_{b}"]), 2),
            "reviews_total": int(last[f"reviews_{b}"]),
            "net_sentiment": round(float(rules.net_sentiment(pos, neg)), 3),
            "told_good": pos, "told_bad": neg,
            "complaints": int(days[f"complaints_{b}"].sum()),
            "recoveries": int(days[f"recoveries_{b}"].sum()),
            "aware": round(float(last[f"aware_{b}"]), 3),
            **{f"stars_{s}": int(days[f"stars_{s}_{b}"].sum()) for s in range(1, 6)},
        }
    return out


# What customers write, by stars: illustrative lines for the stories a team reads (not model output;
# the model records how many reviews of each star count were posted, and these give them a voice).
REVIEW_LINES = {
    1: ["Broke after a week. Never again.", "Nothing like the ads promised.", "Waste of money, avoid.",
        "Complained twice, nobody answered."],
    2: ["Disappointing for the price.", "Expected a lot more.", "It works, barely."],
    3: ["Does the job, nothing special.", "Okay. Would consider other brands next time.",
        "Average - as expected."],
    4: ["Good value, happy with it.", "Solid product, would buy again.", "Better than I expected."],
    5: ["Love it! Told all my friends.", "Best in its class, five stars.", "Exceeded every expectation."],
}


def stories(outcome: dict[str, Any], seed: int, round_number: int, team_index: int,
            n: int = 4) -> tuple[list[str], list[tuple[int, str]]]:
    """What customers said this round: counts from the recorded table, and a few sampled reviews."""
    lines = []
    stars = {s: outcome[f"stars_{s}"] for s in range(1, 6)}
    posted = sum(stars.values())
    if posted:
        parts = ", ".join(f"{stars[s]} gave {s}★" for s in (5, 4, 3, 2, 1) if stars[s])
        lines.append(f"{posted} customers posted reviews this round: {parts}.")
    else:
        lines.append("Nobody posted a review this round.")
    lines.append(f"{outcome['told_good']} customers told friends good things about you; "
                 f"{outcome['told_bad']} warned their friends off.")
    if outcome["complaints"]:
        lines.append(f"{outcome['complaints']} customers complained; your service resolved "
                     f"{outcome['recoveries']} of the complaints.")
    rng = np.random.default_rng([seed, round_number, team_index])
    sampled = []
    if posted:
        weights = np.array([stars[s] for s in range(1, 6)], dtype=float)
        for s in rng.choice(np.arange(1, 6), size=min(n, posted), p=weights / weights.sum()):
            options = REVIEW_LINES[int(s)]
            sampled.append((int(s), options[int(rng.integers(len(options)))]))
    return lines, sampled


# --- the game: state, submissions, rounds, saving --------------------------------------

@dataclass
class Game:
    """A game in progress: its config, secrets, decisions, and the market continued so far."""
    config: Config
    codes: dict[str, str]
    teacher_key: str
    folder: Path
    decisions: list[dict[str, dict[str, float]]] = field(default_factory=list)
    injections: list[list[dict[str, str]]] = field(default_factory=list)
    pending: dict[str, dict[str, float]] = field(default_factory=dict)
    pending_injections: list[dict[str, str]] = field(default_factory=list)
    deadline: float | None = None  # wall-clock time (epoch seconds) the round advances by itself

    def __post_init__(self):
        self.lock = threading.RLock()
        self.running = False
        self.market: Market | None = None
        self.money: pd.DataFrame | None = None
        self.outcomes: list[dict[str, dict[str, Any]]] = []
        self.version = 0  # bumped whenever what a screen shows changes
        self.error: str | None = None
        self.whatifs: dict[tuple[str, int, int], Any] = {}
        self.seed = int(self.config.scenario().params["seed"])
        self.snapshots: list[Market] = []  # the market after 0, 1, 2... rounds (what-ifs start there)
        self.market_lock = threading.Lock()

    # --- creating and resuming ---
    @classmethod
    def create(cls, config: Config, folder: Path) -> "Game":
        codes = {}
        for team in config.teams:
            code = new_code()
            while code in codes.values():
                code = new_code()
            codes[team] = code
        game = cls(config, codes, secrets.token_urlsafe(18), Path(folder))
        game.start_market()
        game.save()
        return game

    @classmethod
    def load(cls, folder: Path) -> "Game":
        path = Path(folder) / STATE_FILE
        try:
            doc = json.loads(path.read_text())
            if doc.get("version") != STATE_VERSION:
                raise GameError(f"{path}: version: expected {STATE_VERSION}, found {doc.get('version')!r}")
            config = Config(**doc["config"])
            game = cls(config, doc["codes"], doc["teacher_key"], Path(folder), doc["decisions"],
                       doc["injections"], doc["pending"], doc["pending_injections"], doc.get("deadline"))
        except GameError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GameError(f"{path}: cannot resume the game: {type(exc).__name__}: {exc}") from None
        if game.deadline is not None and game.deadline < time.time():
            game.deadline = None  # a timer that ran out while the server was down does not fire on restart
        try:
            game.check_saved()
            game.start_market()
        except ScenarioError as exc:
            raise GameError(f"{path}: cannot resume the game: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise GameError(f"{path}: cannot resume the game: {type(exc).__name__}: {exc}") from None
        return game

    def check_saved(self) -> None:
        """A saved (perhaps hand-edited) game: every decision a valid one of a team of the game."""
        if len(self.injections) != len(self.decisions):
            raise GameError(f"injections: expected one list per round played ({len(self.decisions)}), "
                            f"found {len(self.injections)}")
        for k, played in enumerate([*self.decisions, self.pending], 1):
            for team, levers in played.items():
                if team not in self.config.teams:
                    raise GameError(f"round {k}: no team '{team}'; the teams are {', '.join(self.config.teams)}")
                _, errors = parse_decision({key: str(v) for key, v in levers.items()}, self.config)
                if errors:
                    raise GameError(f"round {k}, team {team}: {'; '.join(errors.values())}")
        for injection in [i for r in self.injections for i in r] + self.pending_injections:
            if injection.get("kind") not in INJECTIONS:
                raise GameError(f"event: expected one of {', '.join(INJECTIONS)}, found {injection.get('kind')!r}")

    @property
    def round(self) -> int:
        """Rounds played so far (0 before the first advance)."""
        return len(self.decisions)

    @property
    def finished(self) -> bool:
        return self.round >= self.config.rounds

    def start_market(self) -> None:
        """The market at day 0, then every played round replayed (a resumed game)."""
        self.market = Market(self.config)
        self.snapshots = []
        scenario = self.config.scenario()
        self.outcomes = []
        self.snapshot()
        for k in range(1, self.round + 1):
            scenario = self.market.run_round(self.decisions, self.injections)
            self.snapshot()
        self.money = self.market.money(scenario)
        self.outcomes = [round_outcomes(self.money, self.config, k) for k in range(1, self.round + 1)]
        self.version += 1

    def snapshot(self) -> None:
        """Keep a copy of the market as it is (after the rounds run so far), for what-if replays from there.

        A copy is a few MB at 5,000 consumers and 13 brands; past SNAPSHOT_LIMIT consumer-brands none
        are kept and a what-if replays the game from day 0 (the same result, slower)."""
        size = self.config.scenario().params["population.size"] * (len(self.config.teams) + 1)
        if size <= SNAPSHOT_LIMIT and len(self.snapshots) == self.market.rounds_run:
            self.snapshots.append(copy.deepcopy(self.market))

    # --- what teams and the teacher do ---
    def team_for_code(self, code: str) -> str | None:
        code = (code or "").strip().upper()[:32]
        found = None
        for team, real in self.codes.items():
            if secrets.compare_digest(code.encode(), real.encode()):
                found = team
        return found

    def is_teacher_key(self, key: str) -> bool:
        return secrets.compare_digest((key or "")[:128].encode(), self.teacher_key.encode())

    def submit(self, team: str, form: dict[str, Any]) -> dict[str, str]:
        """Validate and store a team's levers for the coming round; the errors (empty when stored)."""
        if team not in self.codes:
            return {"team": f"team: expected one of {', '.join(self.config.teams)}, found {team!r}"}
        levers, errors = parse_decision(form, self.config)
        if errors:
            return errors
        with self.lock:
            if self.finished:
                return {"round": "the game is over: no more rounds to play"}
            if self.running:
                return {"round": "the round is being simulated; submit again in a moment"}
            self.pending[team] = levers
            self.version += 1
            self.save()
        return {}

    def current_levers(self, team: str) -> dict[str, float]:
        """What the form shows: the pending submission, else the levers in force."""
        return dict(self.pending.get(team) or team_levers(self.config, self.decisions, team, self.round))

    def inject(self, kind: str, team: str | None = None) -> None:
        if kind not in INJECTIONS:
            raise GameError(f"event: expected one of {', '.join(INJECTIONS)}, found {kind!r}")
        if kind == "quality_crisis" and team not in self.config.teams:
            raise GameError(f"team: expected one of {', '.join(self.config.teams)}, found {team!r}")
        with self.lock:
            if self.finished:
                raise GameError("the game is over: no round left for an event")
            self.pending_injections.append({"kind": kind, "team": team if kind == "quality_crisis" else ""})
            self.version += 1
            self.save()

    def set_timer(self, seconds: float | None) -> None:
        with self.lock:
            self.deadline = None if not seconds else time.time() + float(seconds)
            self.version += 1
            self.save()

    def begin_advance(self) -> bool:
        """Mark the round as running (False if it cannot start: over, or already running)."""
        with self.lock:
            if self.running or self.finished:
                return False
            self.running = True
            self.version += 1
            return True

    def advance(self) -> None:
        """Play the next round with the pending submissions and events; save. Call after begin_advance."""
        try:
            with self.lock:
                decisions = [*self.decisions, dict(self.pending)]
                injections = [*self.injections, list(self.pending_injections)]
            with self.market_lock:  # waits for the copy of the last round's market, if still being made
                scenario = self.market.run_round(decisions, injections)
            money = self.market.money(scenario)
            outcome = round_outcomes(money, self.config, len(decisions))
            with self.lock:
                self.decisions, self.injections = decisions, injections
                self.pending, self.pending_injections = {}, []
                self.money = money
                self.outcomes.append(outcome)
                self.deadline = None
                self.save()
                self.export()
                self.running = False  # with the results, at once: a screen sees both change together
                self.version += 1
        except Exception as exc:  # keep the class going: the teacher sees the error, the state is unchanged
            self.error = f"{type(exc).__name__}: {exc}"
            self.start_market()
            raise
        finally:
            with self.lock:
                if self.running:
                    self.running = False
                    self.version += 1
        with self.market_lock:  # after the results are out: the copy is not on the screens' path
            self.snapshot()

    # --- saving and exporting ---
    def state(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "config": self.config.__dict__, "codes": self.codes,
                "teacher_key": self.teacher_key, "decisions": self.decisions, "injections": self.injections,
                "pending": self.pending, "pending_injections": self.pending_injections,
                "deadline": self.deadline}

    def save(self) -> None:
        write_atomic(self.folder / STATE_FILE, json.dumps(self.state(), indent=1).encode(), private=True)

    def export_files(self) -> dict[str, bytes]:
        """decisions.csv (one row per team and round: levers and outcomes) and scenario.toml (with events)."""
        rows = []
        for k in range(1, self.round + 1):
            injected = "; ".join(f"{i['kind']}{' ' + i['team'] if i['team'] else ''}"
                                 for i in self.injections[k - 1])
            for team in self.config.teams:
                levers = team_levers(self.config, self.decisions, team, k)
                rows.append({"round": k, "team": team, "submitted": team in self.decisions[k - 1],
                             **levers, "events": injected, **{
                                 key: v for key, v in self.outcomes[k - 1][team].items() if key != "round"}})
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        scenario = game_scenario(self.config, self.decisions, self.injections)
        scenario.params.values["steps"] = max(1, self.round * self.config.days_per_round)
        return {"decisions.csv": buf.getvalue().encode(), "scenario.toml": scenario.to_toml().encode()}

    def export(self) -> None:
        for name, data in self.export_files().items():
            write_atomic(self.folder / name, data)

    # --- the board and the debrief ---
    def leaderboard(self) -> list[dict[str, Any]]:
        rows = []
        for team in self.config.teams:
            played = [o[team] for o in self.outcomes]
            rows.append({"team": team, "profit": round(sum(o["profit"] for o in played), 2),
                         "share": played[-1]["share"] if played else 0.0,
                         "net_sentiment": played[-1]["net_sentiment"] if played else 0.0,
                         "rating": played[-1]["rating"] if played else 0.0})
        return sorted(rows, key=lambda r: -r["profit"])

    def what_if(self, team: str, round_number: int) -> dict[str, Any]:
        """The game replayed with the same seed and ``team``'s round decision reverted (it kept its levers)."""
        if team not in self.config.teams:
            raise GameError(f"team: expected one of {', '.join(self.config.teams)}, found {team!r}")
        if not 1 <= round_number <= self.round:
            raise GameError(f"round: expected a played round, 1 to {self.round}, found {round_number}")
        key = (team, round_number, self.round)
        if key in self.whatifs:
            return self.whatifs[key]
        decisions = copy.deepcopy(self.decisions)
        reverted = decisions_row(self, team, round_number)
        decisions[round_number - 1].pop(team, None)
        if len(self.snapshots) >= round_number:  # the same market up to the round, then replayed from there
            market = copy.deepcopy(self.snapshots[round_number - 1])
            scenario = self.config.scenario()
            for _ in range(round_number, self.round + 1):
                scenario = market.run_round(decisions, self.injections)
            money = market.money(scenario)
        else:
            money = replay(self.config, decisions, self.injections)
        other = [round_outcomes(money, self.config, k)[team] for k in range(1, self.round + 1)]
        actual = [o[team] for o in self.outcomes]
        result = {"team": team, "round": round_number, "changed": bool(reverted), "decision": reverted,
                  "actual": actual, "whatif": other,
                  "profit_actual": round(sum(o["profit"] for o in actual), 2),
                  "profit_whatif": round(sum(o["profit"] for o in other), 2),
                  "money_actual": self.money, "money_whatif": money}
        self.whatifs = {k: v for k, v in self.whatifs.items() if k[2] == self.round}  # older games' replays go
        self.whatifs[key] = result
        return result


def decisions_row(game: Game, team: str, round_number: int) -> dict[str, float]:
    return dict(game.decisions[round_number - 1].get(team, {}))


def write_atomic(path: Path, data: bytes, private: bool = False) -> None:
    """Write to a temporary name in the same folder, then rename: never a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise GameError(f"{path}: cannot write the game file: {exc.strerror or exc}") from None


def open_game(folder: Path, make_config) -> tuple[Game, bool]:
    """The game saved in ``folder`` (resumed: True), or a new one from ``make_config()``."""
    folder = Path(folder)
    api.check_writable(folder, "--dir")
    if (folder / STATE_FILE).exists():
        return Game.load(folder), True
    config = make_config()  # a bad option is refused before anything is written
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GameError(f"--dir {folder}: cannot create the folder: {exc.strerror or exc}") from None
    return Game.create(config, folder), False
