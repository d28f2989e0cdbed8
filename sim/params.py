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
    # Where the default comes from: a seed document ("seed 003"), a named study, or "assumption"
    # (then it is a parameter a user should calibrate). docs/ODD.md gives the reasoning.
    source: str = ""

    def expected(self) -> str:
        """What a valid value looks like, for error messages."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        name = {int: "an integer", float: "a number", bool: "true or false",
                str: "a string", list: "a list of names"}[self.kind]
        low, high = _number(self.low), _number(self.high)
        if self.low is not None and self.high is not None and not self.low_open and self.high - self.low <= 10:
            return f"{name} in [{low}, {high}]"
        if self.low is not None:
            bound = f"{name} {'>' if self.low_open else '>='} {low}"
            return bound + (f" and <= {high}" if self.high is not None else "")
        return name


def _number(value: float | None) -> str:
    """A bound as a reader writes it: 10000000 rather than 1e+07."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _prob(default: float, help: str, source: str) -> Param:
    return Param(default, float, help, 0.0, 1.0, source=source)


def _pos(default: float, help: str, source: str, high: float, kind: type = float) -> Param:
    return Param(default, kind, help, 0.0, high, low_open=True, source=source)


def _nonneg(default: float, help: str, source: str, high: float, kind: type = float) -> Param:
    return Param(default, kind, help, 0.0, high, source=source)


ENGINES = ("agent", "array")
NETWORK_KINDS = ("small_world", "scale_free", "random", "complete", "file")
STAGES = ("dormant", "stimulus", "zmot", "fmot", "smot", "umot")
CHANNELS = ("computer", "smartphone", "press_mail", "in_person")

A = "assumption"
REMARKETING_MAX_DELAY = 60  # days: who walked away is remembered this long for remarketing
MAX_POPULATION = 10_000_000  # the array engine's ceiling on this kind of machine (24 GB)
MAX_DAYS = 36_500  # a century of days
MAX_MONEY = 1e9

# Global parameters, by dotted key.
SCHEMA: dict[str, Param] = {
    "steps": _pos(365, "days to simulate (a step is one day)", "a year: the horizon of a brand plan",
                  MAX_DAYS, int),
    "seed": _nonneg(42, "seed of the random number generator", "any number", 2**63 - 1, int),
    "engine": Param("agent", str, "agent: one Mesa agent a consumer (to read and watch); array: the "
                                  "population in NumPy arrays (millions of consumers, thousands of runs)",
                    choices=ENGINES, source="the per-agent engine is the reference"),
    # population
    "population.size": _pos(2000, "number of consumers", "small enough to watch, large enough for "
                                  "stable shares", MAX_POPULATION, int),
    "population.young_share": _prob(0.2, "share of consumers aged 18-24", A),
    "population.checks_per_day": _pos(26.6, "smartphone checks a day, 25+", "seed 003", 1000.0),
    "population.young_checks_multiplier": _pos(2.0, "18-24 check their phone this many times as often",
                                               "seed 003", 100.0),
    "population.susceptibility": _prob(0.5, "mean weight a consumer gives others' experiences",
                                       "seed 002 (people like me weigh more); level: " + A),
    "population.trait_concentration": _pos(10.0, "Beta concentration of susceptibility around its mean", A,
                                           1e6),
    "population.channel_mix.computer": _nonneg(0.30, "weight of the computer screen in the channel mix",
                                               "seed 004 (channels); weights: " + A, 1.0),
    "population.channel_mix.smartphone": _nonneg(0.45, "weight of the smartphone in the channel mix",
                                                 "seed 004 (channels); weights: " + A, 1.0),
    "population.channel_mix.press_mail": _nonneg(0.10, "weight of press and mail in the channel mix",
                                                 "seed 004 (channels); weights: " + A, 1.0),
    "population.channel_mix.in_person": _nonneg(0.15, "weight of in-person and phone contact",
                                                "seed 004 (channels); weights: " + A, 1.0),
    "population.channel_concentration": _pos(20.0, "Dirichlet concentration of personal channel mixes", A,
                                             1e6),
    "channels.computer.reach": _nonneg(1.0, "daily reach of the computer screen, relative", A, 100.0),
    "channels.press_mail.reach": _nonneg(0.5, "daily reach of press and mail, relative", A, 100.0),
    "channels.in_person.reach": _nonneg(1.0, "daily reach of in-person and phone contact, relative", A, 100.0),
    # network
    "network.kind": Param("small_world", str, "social network of consumers", choices=NETWORK_KINDS,
                          source="Goldenberg, Libai & Muller (2001): local ties with a few weak ones"),
    "network.mean_degree": _pos(10.0, "mean number of contacts (small world: the nearest even number, "
                                      "at least 2; complete: a story's mean audience)", A, 10_000.0),
    "network.rewiring": _prob(0.1, "small-world rewiring probability (weak ties)",
                              "Goldenberg, Libai & Muller (2001); level: " + A),
    "network.file": Param("", str, "edge-list file, relative to the scenario file (kind = 'file')",
                          source="the user's data"),
    # market
    "market.brands": Param(["ours", "theirs"], list, "names of the brands on the market",
                           source="two brands: the smallest market with a choice"),
    "market.new_category": Param(False, bool, "a new product: consumers who never bought have no purchase "
                                              "cycle, and the run starts from day 0 with no burn-in",
                                 source="Bass (1969)"),
    "market.burn_in_days": _nonneg(365, "days simulated before day 0 and not recorded, so that a run starts "
                                        "from a settled market (not for a new category)",
                                   "a year: several purchase cycles and the awareness memory", MAX_DAYS, int),
    "market.share_window": _pos(28, "days over which market share is measured", "four weeks, as trackers "
                                                                                "report", MAX_DAYS, int),
    "market.reference_price": _pos(10.0, "category reference price for the choice", A, MAX_MONEY),
    # journey
    "journey.purchase_cycle_days": _pos(60.0, "mean days between needs (category purchase cycle)",
                                        "seed 000 (weeks to months); level: " + A, 3650.0),
    "journey.rate_heterogeneity": _nonneg(1.0, "coefficient of variation of consumers' purchase rates "
                                               "(Gamma: NBD; 0: everyone on the same cycle)",
                                          "Ehrenberg's NBD (shape k = 1/cv^2 = 1; fitted k: 0.3-2)", 10.0),
    "journey.research_days": Param(2.0, float, "mean days spent researching (ZMOT)", 1.0, 365.0,
                                   source="seed 004 (several touches); " + A),
    "journey.experience_days": Param(7.0, float, "mean days of use before judging (SMOT)", 1.0, 365.0,
                                     source=A),
    "journey.ad_trigger": _prob(0.05, "chance that an ad seen starts a dormant consumer's journey",
                                "seed 004 (ads in micro-moments); level: " + A),
    "journey.discovery": _prob(0.65, "chance research reveals a brand one did not know",
                               "seed 003: 65 % look for the most relevant product, not a known brand"),
    "journey.loyal_skip_research": _prob(0.5, "chance a satisfied customer rebuys without researching",
                                         "Court et al. (2009): the loyalty loop; level: " + A),
    "awareness.memory_days": _nonneg(180.0, "mean days a brand stays in mind without a reminder (ad, story, "
                                            "research) for one who never bought it; 0: never forgotten",
                                     A, 36500.0),
    # sharing (UMOT)
    "sharing.base_propensity": _prob(0.04, "mean chance a satisfied customer shares spontaneously",
                                     "seed 000 (few share); level: " + A),
    "sharing.negative_multiplier": _nonneg(4.0, "dissatisfied customers share this many times as often, "
                                                "per experience", "seed 000", 100.0),
    "sharing.heavy_share": _prob(0.1, "share of consumers who are heavy sharers",
                                 "seed 000 (few people share); Keller & Berry (2003): about 1 in 10 are influentials"),
    "sharing.heavy_factor": Param(3.0, float, "a heavy sharer shares this many times as often as others",
                                  1.0, 100.0, source=A),
    "sharing.extremity": _nonneg(1.0, "extra talk per star of distance from 'as expected' (the delighted "
                                      "and the angry talk most)",
                                 "Anderson (1998): asymmetric U; level: " + A, 100.0),
    "sharing.public_fraction": _prob(0.3, "share of spontaneous stories also posted as a public review",
                                     "seed 000 (public and private channels); level: " + A),
    # word of mouth and reviews (ZMOT)
    "wom.reach": _prob(0.5, "chance a contact meets a story, per unit of attention (social media)",
                       "seed 000 (met by chance); level: " + A),
    "wom.weight": _prob(0.3, "attitude move per story heard, times susceptibility",
                        "seeds 002, 003 (one's circle is trusted); level: " + A),
    "wom.trigger": _prob(0.1, "chance a story heard starts a dormant consumer's journey", A),
    "reviews.weight": _prob(0.3, "attitude move from reading many reviews, times susceptibility",
                            "seed 000 (found on purpose); level: " + A),
    "reviews.half_count": _pos(20.0, "reviews at which reading them has half its full weight (volume "
                                     "matters, with diminishing returns)",
                               "You, Vadakkepatt & Joshi (2015): volume elasticity; level: " + A, 1e9),
    "reviews.reference_rating": Param(4.2, float, "displayed rating readers take as ordinary", 1.0, 5.0,
                                      source="Hu, Pavlou & Zhang (2009); Schoenmuller, Netzer & Stahl (2020): "
                                             "platform means around 4.2"),
    "reviews.rating_scale": _pos(0.8, "stars above (below) the ordinary that read as fully good (bad)", A,
                                 4.0),
    "ads.persuasion": _prob(0.03, "attitude move toward +1 per ad seen",
                            "Sethuraman, Tellis & Briesch (2011): short-term elasticity 0.12; level: " + A),
    "ads.hype": _nonneg(0.5, "rise of expectation per unit of the brand's ad intensity, for those who saw its "
                             "ads", "Oliver (1980): promises raise the bar; level: " + A, 100.0),
    "ads.hype_days": _nonneg(30.0, "days an ad's promise stays in mind", A, 3650.0),
    "remarketing.trigger": _prob(0.1, "chance a remarketing ad shown the day after a walk-away starts the "
                                      "journey again (it halves every remarketing.half_life_days of delay)",
                                 A + ", to calibrate: twice an ordinary ad's (journey.ad_trigger), the need being "
                                     "still there; retargeting works best on those with a defined need "
                                     "(Lambrecht & Tucker, JMR 2013)"),
    "remarketing.half_life_days": _pos(7.0, "days of delay after which a remarketing ad keeps half its effect",
                                       "seed 004 (the shorter the delay between two touches, the more "
                                       "effective the campaign); level: " + A, 3650.0),
    # experience (SMOT)
    "expectation.neutral": _prob(0.5, "expected quality with a neutral attitude and no hype", A),
    "expectation.attitude_weight": _prob(0.25, "rise of expectation per unit of attitude",
                                         "Oliver (1980); level: " + A),
    "experience.tolerance": _prob(0.2, "zone of tolerance below expectation that still satisfies",
                                  "Zeithaml, Berry & Parasuraman (1993); width set so that about 8 % of "
                                  "experiences disappoint (East, Hammond & Wright 2007: 3:1 word of mouth)"),
    "experience.delight": _prob(0.1, "how far above expectation an experience earns 5 stars", A),
    "experience.star_step": Param(0.1, float, "shortfall below the zone of tolerance that costs one more "
                                               "star", 0.0, 1.0, low_open=True, source=A),
    "experience.weight": _prob(0.5, "attitude move from one's own experience", A),
    "experience.recovered_rating": Param(4, int, "stars given after a complaint was resolved", 1, 5,
                                         source="de Matos, Henrique & Rossi (2007): recovery restores "
                                                "satisfaction, no more"),
    "service.complaint_rate": _prob(0.3, "chance a dissatisfied customer complains",
                                    "TARP (1986), de Matos et al. (2007): most never complain"),
    # choice (FMOT)
    "choice.attitude_weight": _nonneg(3.0, "utility per unit of attitude", A, 100.0),
    "choice.price_weight": _nonneg(6.0, "utility lost per unit of log price over the reference",
                                   "Bijmolt, van Heerde & Pieters (2005): mean elasticity -2.6", 100.0),
    "choice.loyalty_bonus": _nonneg(0.5, "utility of the brand one was satisfied with last time",
                                    "Guadagni & Little (1983): brand loyalty in choice; level: " + A, 100.0),
    "choice.walk_away_utility": Param(-1.0, float, "utility of buying nothing", -100.0, 100.0, source=A),
    # --- economics (issue 14) ---
    "economics.currency": Param("", str, "currency name shown with money figures (empty: shown as 'units')",
                                source="the user's"),
    "economics.discount_rate": _nonneg(0.10, "yearly discount rate for NPV and customer lifetime value",
                                       A + ": a typical cost of capital, 8-10 %", 1.0),
    "economics.ad_carryover": Param(0.9, float, "share of yesterday's ad stock still working today (adstock)",
                                    0.0, 0.99, source="Broadbent (1979); level: " + A + " (a half-life of about "
                                                      "a week)"),
    "economics.ad_max_intensity": _pos(0.5, "the most ad intensity money can buy (saturation)",
                                       A + ": above the 0.3 of the shipped hype scenario", 100.0),
    "economics.ad_half_saturation": _pos(192.0, "ad spend a day that buys half the maximum intensity",
                                         A + ": the default intensity 0.02 then costs 8 a day, about 5 % of a "
                                             "healthy brand's revenue, a typical advertising-to-sales ratio",
                                         MAX_MONEY),
    "economics.prompt_response": _prob(0.1, "chance a customer sent a review request posts a review "
                                            "(the budget planner buys prompts at this response)",
                                       A + "; prompted reviews: Askalidis, Kim & Malthouse (2017)"),
    # --- end economics ---
}

# Brand levers: every brand has these, with these defaults.
BRAND_SCHEMA: dict[str, Param] = {
    "quality": _prob(0.65, "mean experience the product delivers, 0 (awful) to 1 (perfect)",
                     "seed 001 (total quality); level: " + A),
    "quality_spread": _nonneg(0.15, "standard deviation of the experience", A, 1.0),
    "failure_rate": _prob(0.02, "chance the product fails outright (a defect, a wrong delivery)",
                          "seed 001 (total quality); level: " + A + " (defect and return rates of a few %)"),
    "price": _pos(10.0, "price per purchase", A, MAX_MONEY),
    "ad_intensity": _nonneg(0.02, "expected ad exposures a day per unit of attention", A, 100.0),
    "review_prompting": _prob(0.0, "chance a customer who did not share posts a review when asked",
                              "seed 000 (Amazon, Booking reminders)"),
    "service_recovery": _prob(0.5, "share of complaints the brand's service resolves",
                              "seeds 001, 004; level: " + A),
    "acquisition_cost": _nonneg(8.0, "cost of winning a customer (a first purchase, or one won from another "
                                     "brand)", "seed 003: 3-7x retention; level set so that a healthy brand's "
                                     "customer lifetime value is about 3x it (the 3:1 rule of thumb)", MAX_MONEY),
    "retention_cost": _nonneg(1.6, "cost of keeping a customer (a repeat purchase of the same brand)",
                              "seed 003: a fifth of the acquisition cost", MAX_MONEY),
    "initial_awareness": _prob(0.5, "share of consumers aware of the brand before the burn-in", A),
    "initial_attitude": Param(0.1, float, "mean attitude of aware consumers before the burn-in", -1.0, 1.0,
                              source=A),
    # --- economics (issue 14) ---
    "unit_cost": _nonneg(6.0, "cost of goods per purchase; margin = price - unit_cost",
                         A + ": a 40 % gross margin, typical of branded consumer goods", MAX_MONEY),
    "ad_spend": Param(-1.0, float, "advertising spend a day; when set (>= 0) it overrides ad_intensity through "
                                   "the saturating response with carry-over; negative: not set, ad_intensity "
                                   "is used and costs the spend that buys it", -1.0, MAX_MONEY,
                      source="the brand's plan"),
    "prompt_cost": _nonneg(0.1, "cost of one review request sent",
                           A + ": an e-mail or in-app prompt, a hundredth of a purchase's price", MAX_MONEY),
    "service_cost": _nonneg(2.0, "cost of one complaint handled by customer service",
                            A + ": a contact and a goodwill gesture, a fifth of a purchase's price", MAX_MONEY),
    # remarketing (seed 004)
    "remarketing_reach": _prob(0.0, "share of those who researched the brand and walked away that the brand's "
                                    "remarketing ads reach (0: no remarketing)", "the brand's plan"),
    "remarketing_delay": _pos(1, "days between the walk-away and the remarketing ad (1: the next day)",
                              "seed 004 (the shorter the delay, the more effective); default: the next day",
                              REMARKETING_MAX_DELAY, int),
    "remarketing_cost": _nonneg(0.05, "cost of one remarketing contact (a few display impressions)",
                                A + ": a retargeting CPM of about 10 and five impressions a contact",
                                MAX_MONEY),
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
