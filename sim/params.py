"""Parameter schema: every parameter, its default, type, range and source.

A scenario states only what it changes; everything else comes from here.
Parameters are addressed by dotted keys (``sharing.negative_multiplier``);
brand levers by ``brands.<name>.<lever>``. ``docs/ODD.md`` explains each
default with its seed document or stated assumption.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any


class ScenarioError(ValueError):
    """A user's mistake in a scenario, an override or an input file.

    The message names the file, the key, what was expected and what was found;
    front ends print it as it is, with no traceback.
    """


@dataclass(frozen=True)
class Param:
    default: Any
    kind: type  # int, float, bool, str or list (of str)
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: the value must be strictly above `low`
    choices: tuple[str, ...] | None = None

    def expected(self) -> str:
        """What a valid value looks like, for error messages."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        name = {int: "an integer", float: "a number", bool: "true or false",
                str: "a string", list: "a list of names"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{name} in [{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{name} {'>' if self.low_open else '>='} {self.low:g}"
        return name


def _prob(default: float, help: str) -> Param:
    return Param(default, float, help, 0.0, 1.0)


def _pos(default: float, help: str, kind: type = float) -> Param:
    return Param(default, kind, help, 0.0, None, low_open=True)


def _nonneg(default: float, help: str, kind: type = float) -> Param:
    return Param(default, kind, help, 0.0)


ENGINES = ("agent", "array")
NETWORK_KINDS = ("small_world", "scale_free", "random", "complete", "file")
STAGES = ("dormant", "stimulus", "zmot", "fmot", "smot", "umot")
CHANNELS = ("computer", "smartphone", "press_mail", "in_person")

# Global parameters, by dotted key.
SCHEMA: dict[str, Param] = {
    "steps": _pos(365, "days to simulate (a step is one day)", int),
    "seed": _nonneg(42, "seed of the random number generator", int),
    "engine": Param("agent", str, "agent: one Mesa agent a consumer (to read and watch); array: the "
                                  "population in NumPy arrays (millions of consumers, thousands of runs)",
                    choices=ENGINES),
    # population
    "population.size": _pos(2000, "number of consumers", int),
    "population.young_share": _prob(0.2, "share of consumers aged 18-24 (assumption)"),
    "population.checks_per_day": _pos(26.6, "smartphone checks a day, 25+ (seed 003)"),
    "population.young_checks_multiplier": _pos(2.0, "18-24 check their phone this many times as often (seed 003)"),
    "population.susceptibility": _prob(0.5, "mean weight a consumer gives others' experiences"),
    "population.trait_concentration": _pos(10.0, "Beta concentration of personal traits around their means"),
    "population.channel_mix.computer": _nonneg(0.30, "weight of the computer screen in the channel mix (seed 004)"),
    "population.channel_mix.smartphone": _nonneg(0.45, "weight of the smartphone in the channel mix (seed 004)"),
    "population.channel_mix.press_mail": _nonneg(0.10, "weight of press and mail in the channel mix (seed 004)"),
    "population.channel_mix.in_person": _nonneg(0.15, "weight of in-person and phone contact (seed 004)"),
    "population.channel_concentration": _pos(20.0, "Dirichlet concentration of personal channel mixes"),
    "channels.computer.reach": _nonneg(1.0, "daily reach of the computer screen, relative"),
    "channels.press_mail.reach": _nonneg(0.5, "daily reach of press and mail, relative"),
    "channels.in_person.reach": _nonneg(1.0, "daily reach of in-person and phone contact, relative"),
    # network
    "network.kind": Param("small_world", str, "social network of consumers", choices=NETWORK_KINDS),
    "network.mean_degree": _pos(10.0, "mean number of contacts (small world: the nearest even number, "
                                      "at least 2; complete: a story's mean audience)"),
    "network.rewiring": _prob(0.1, "small-world rewiring probability"),
    "network.file": Param("", str, "edge-list file, relative to the scenario file (kind = 'file')"),
    # market
    "market.brands": Param(["ours", "theirs"], list, "names of the brands on the market"),
    "market.new_category": Param(False, bool, "consumers who never bought have no purchase cycle (new product)"),
    "market.share_window": _pos(28, "days over which market share is measured", int),
    "market.reference_price": _pos(10.0, "category reference price for the choice"),
    # journey
    "journey.purchase_cycle_days": _pos(60.0, "mean days between needs (category purchase cycle)"),
    "journey.research_days": Param(2.0, float, "mean days spent researching (ZMOT)", 1.0),
    "journey.experience_days": Param(7.0, float, "mean days of use before judging (SMOT)", 1.0),
    "journey.ad_trigger": _prob(0.05, "chance that an ad seen starts a dormant consumer's journey"),
    "journey.discovery": _prob(0.65, "chance research reveals a brand one did not know (seed 003: 65 %)"),
    "journey.loyal_skip_research": _prob(0.5, "chance a satisfied customer rebuys without researching"),
    # sharing (UMOT)
    "sharing.base_propensity": _prob(0.1, "mean chance a satisfied customer shares spontaneously (seed 000)"),
    "sharing.negative_multiplier": _nonneg(4.0, "dissatisfied customers share this many times as often (seed 000)"),
    "sharing.public_fraction": _prob(0.3, "share of spontaneous stories also posted as a public review"),
    # word of mouth and reviews (ZMOT)
    "wom.reach": _prob(0.5, "chance a contact meets a story, per unit of attention (social media)"),
    "wom.weight": _prob(0.3, "attitude move per story heard, times susceptibility"),
    "wom.trigger": _prob(0.1, "chance a story heard starts a dormant consumer's journey"),
    "reviews.read": _pos(10, "recent public reviews read per brand in research", int),
    "reviews.weight": _prob(0.3, "attitude move from reading reviews, times susceptibility"),
    "reviews.prior_count": _nonneg(5.0, "neutral (3-star) pseudo-reviews in the public rating"),
    "ads.persuasion": _prob(0.02, "attitude move toward +1 per ad seen"),
    "ads.hype": _nonneg(0.5, "rise of expectation per unit of the brand's ad intensity"),
    # experience (SMOT)
    "expectation.neutral": _prob(0.5, "expected quality with a neutral attitude and no hype"),
    "expectation.attitude_weight": _prob(0.25, "rise of expectation per unit of attitude"),
    "experience.tolerance": _prob(0.05, "zone of tolerance below expectation that still satisfies"),
    "experience.weight": _prob(0.5, "attitude move from one's own experience"),
    "experience.recovered_rating": Param(4.0, float, "stars given after a successful service recovery", 1.0, 5.0),
    # choice (FMOT)
    "choice.attitude_weight": _nonneg(3.0, "utility per unit of attitude"),
    "choice.price_weight": _nonneg(2.0, "utility lost per unit of log price over the reference"),
    "choice.loyalty_bonus": _nonneg(0.5, "utility of the brand one was satisfied with last time"),
    "choice.walk_away_utility": Param(-1.0, float, "utility of buying nothing"),
    # --- economics (issue 14) ---
    "economics.currency": Param("", str, "currency name shown with money figures (empty: shown as 'units')"),
    "economics.discount_rate": _nonneg(0.10, "yearly discount rate for NPV and customer lifetime value "
                                             "(assumption: a typical cost of capital, 8-10 %)"),
    "economics.ad_carryover": Param(0.9, float, "share of yesterday's ad stock still working today (adstock, "
                                                "Broadbent 1979; assumption: a half-life of about a week)",
                                    0.0, 0.99),
    "economics.ad_max_intensity": _pos(0.5, "the most ad intensity money can buy (saturation; assumption: "
                                            "above the 0.3 of the shipped hype scenario)"),
    "economics.ad_half_saturation": _pos(192.0, "ad spend a day that buys half the maximum intensity "
                                                "(assumption: the default intensity 0.02 then costs 8 a day, "
                                                "about 5 % of a healthy brand's revenue, a typical "
                                                "advertising-to-sales ratio)"),
    "economics.prompt_response": _prob(0.1, "chance a customer sent a review request posts a review "
                                            "(assumption; prompted reviews: Askalidis, Kim & Malthouse 2017); "
                                            "the budget planner buys prompts at this response"),
    # --- end economics ---
}

# Brand levers: every brand has these, with these defaults.
BRAND_SCHEMA: dict[str, Param] = {
    "quality": _prob(0.65, "mean experience the product delivers, 0 (awful) to 1 (perfect) (seed 001)"),
    "quality_spread": _nonneg(0.15, "standard deviation of the experience"),
    "price": _pos(10.0, "price per purchase"),
    "ad_intensity": _nonneg(0.02, "expected ad exposures a day per unit of attention"),
    "review_prompting": _prob(0.0, "chance a customer who did not share posts a prompted review (seed 000)"),
    "service_recovery": _prob(0.2, "chance customer service turns a bad experience round (seeds 001, 004)"),
    "acquisition_cost": _nonneg(50.0, "cost of winning a new customer (seed 003: 3-7x retention)"),
    "retention_cost": _nonneg(10.0, "cost of keeping a customer (seed 003)"),
    "initial_awareness": _prob(0.5, "share of consumers aware of the brand on day 0"),
    "initial_attitude": Param(0.1, float, "mean attitude of aware consumers on day 0", -1.0, 1.0),
    # --- economics (issue 14) ---
    "unit_cost": _nonneg(6.0, "cost of goods per purchase; margin = price - unit_cost (assumption: a 40 % "
                              "gross margin, typical of branded consumer goods)"),
    "ad_spend": Param(-1.0, float, "advertising spend a day; when set (>= 0) it overrides ad_intensity through "
                                   "the saturating response with carry-over; negative: not set, ad_intensity "
                                   "is used and costs the spend that buys it", -1.0),
    "prompt_cost": _nonneg(0.1, "cost of one review request sent (assumption: an e-mail or in-app prompt, "
                                "a hundredth of a purchase's price)"),
    "service_cost": _nonneg(2.0, "cost of one complaint handled by customer service (assumption: a contact "
                                 "and a goodwill gesture, a fifth of a purchase's price)"),
    # --- end economics ---
}

EVENT_KEYS = ("day", "brand", "lever", "value")
ABOUT_KEYS = ("title", "summary", "what_it_shows", "things_to_notice", "things_to_try",
              "extending", "seeds")


def suggest(name: str, options) -> str:
    """' (did you mean X?)' for the closest valid name, or ''."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_value(param: Param, value: Any, where: str) -> Any:
    """Return ``value`` converted to the parameter's type, or raise ScenarioError."""
    found = f"found {value!r} ({type(value).__name__})"
    if param.kind is bool:
        ok = isinstance(value, bool)
    elif param.kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif param.kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            value = float(value)
            ok = value == value and abs(value) != float("inf")
    elif param.kind is str:
        ok = isinstance(value, str)
    else:  # list of names
        ok = isinstance(value, list) and len(value) > 0 and all(
            isinstance(v, str) and v.isidentifier() for v in value) and len(set(value)) == len(value)
        found = f"found {value!r}"
    if not ok:
        raise ScenarioError(f"{where}: expected {param.expected()}, {found}")
    if param.choices and value not in param.choices:
        raise ScenarioError(f"{where}: expected {param.expected()}, found {value!r}"
                            + suggest(str(value), param.choices))
    if param.kind in (int, float):
        too_low = param.low is not None and (value <= param.low if param.low_open else value < param.low)
        too_high = param.high is not None and value > param.high
        if too_low or too_high:
            raise ScenarioError(f"{where}: expected {param.expected()}, found {value!r}")
    return value


@dataclass
class Event:
    """A timed intervention: on ``day``, set ``brand``'s ``lever`` to ``value``."""
    day: int
    brand: str
    lever: str
    value: float

    def as_dict(self) -> dict:
        return {"day": self.day, "brand": self.brand, "lever": self.lever, "value": self.value}


@dataclass
class Params:
    """Validated, complete parameters of one run: plain data, nothing hidden."""
    values: dict[str, Any] = field(default_factory=lambda: {k: p.default for k, p in SCHEMA.items()})
    brands: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def brand_names(self) -> list[str]:
        return list(self.values["market.brands"])

    def brand(self, name: str) -> dict[str, Any]:
        return self.brands[name]
