"""The app's words: each control's label, what it means in the market, its unit and its source.

Labels are a marketer's words; the help line says what the lever does in the market and in
what unit, and where its default comes from. Sources are those of ``sim/params.py`` (each
parameter's ``help``) and the parameter table of docs/ODD.md, section 8: a "source document"
is one of the project's seed articles, cited by number. Scenario guides are written with the
parameters' dotted keys (``brands.ours.service_recovery``); :func:`plain` puts the labels in
their place for the page.
"""

from __future__ import annotations

import re

from ..params import BRAND_SCHEMA, SCHEMA

# key (brand levers without "brands.<name>.") -> (label, what it means and its unit, source)
WORDS: dict[str, tuple[str, str, str]] = {
    "population.size": (
        "Consumers in the market",
        "How many people the simulated market holds (a count).",
        "assumption: large enough for smooth curves, small enough for a year in seconds"),
    "network.kind": (
        "Who talks to whom",
        "The shape of the social network stories travel along: small world (circles of friends "
        "with a few long ties), scale-free (a few very connected people), random, or everyone "
        "meets everyone.",
        "assumption: real acquaintance networks are small worlds (Watts-Strogatz)"),
    "engine": (
        "Simulation engine",
        "agent: one simulated person each, for markets up to 20,000; array: the same rules on "
        "whole populations at once, for up to 1,000,000 consumers.",
        "the same rules either way (docs/ODD.md 3.1)"),
    "seed": (
        "Chance sequence (seed)",
        "Which sequence of chance events the market meets (a whole number). Both runs share it, "
        "so they meet the same luck; one seed is still one history: the replicated what-if says how sure "
        "an effect is.",
        "assumption: any fixed number; fixed so that a run can be repeated exactly"),
    "steps": (
        "Days to simulate",
        "How long the market runs, in days.",
        "assumption: a year holds about five purchase cycles"),
    "sharing.base_propensity": (
        "Happy customers who talk about it",
        "Chance that a satisfied customer tells others about the experience unprompted "
        "(0 to 1; 0.1 = one in ten).",
        "source document 000 (few people share spontaneously); the 10 % is an assumption"),
    "sharing.negative_multiplier": (
        "Unhappy customers talk more (times)",
        "How many times as often a dissatisfied customer talks about it as a satisfied one "
        "(a multiple; 4 = four times as often).",
        "source document 000: the 4x rule"),
    "quality": (
        "Product quality",
        "How good the experience is on average, from 0 (awful) to 1 (perfect).",
        "source document 001 (quality is the foundation of the experience); 0.65 is an ordinary product"),
    "quality_spread": (
        "Quality variation",
        "How much one customer's experience differs from another's (standard deviation, on the "
        "0-1 quality scale).",
        "assumption"),
    "price": (
        "Price",
        "Price of one purchase, in the market's currency (the category's reference price is 10).",
        "assumption: equal to the reference price"),
    "ad_intensity": (
        "Advertising pressure",
        "Ads of the brand a person sees a day, per unit of attention (0.02 = about one ad every "
        "50 days).",
        "assumption: a modest campaign"),
    "review_prompting": (
        "Review requests after purchase",
        "Chance that a customer who did not share anyway posts a review because the brand asked "
        "(0 to 1).",
        "source document 000: the Amazon and Booking reminders; off by default"),
    "remarketing_reach": (
        "Remarketing: share of walk-aways reached",
        "Of those who looked at the brand and left without buying, the share its remarketing ads reach "
        "(0 to 1; 0 = no remarketing).",
        "source document 004 (a second touch after a visit); the brand's plan"),
    "remarketing_delay": (
        "Remarketing: days after the walk-away",
        "How many days after the walk-away the remarketing ad is shown (1 = the next day); the "
        "shorter, the stronger.",
        "source document 004: the shorter the delay between two touches, the more effective"),
    "remarketing_cost": (
        "Remarketing: cost per contact",
        "What one remarketing contact costs (money per person reached).",
        "assumption: a retargeting CPM of about 10 and five impressions a contact"),
    "service_recovery": (
        "Complaints put right",
        "Share of the complaints customer service puts right (0 to 1; 0.5 = half). Most unhappy "
        "customers never complain, so this reaches only those who do.",
        "source documents 001 and 004; the level, half, is an assumption"),
    "acquisition_cost": (
        "Cost of winning a customer",
        "What winning one new customer costs, in the market's currency.",
        "source document 003: 3 to 7 times the cost of keeping one"),
    "retention_cost": (
        "Cost of keeping a customer",
        "What keeping one existing customer costs, in the market's currency.",
        "source document 003"),
}

KPI_HELP = "net sentiment of what people say about the brand over the last 28 days (−1 to 1)"


def _short(key: str) -> str:
    return key.split(".", 2)[2] if key.startswith("brands.") else key


def label(key: str) -> str:
    """A control's label in a marketer's words (brand levers: the lever's, without the brand)."""
    short = _short(key)
    if short in WORDS:
        return WORDS[short][0]
    param = BRAND_SCHEMA.get(short) if key.startswith("brands.") else SCHEMA.get(short)
    return (param.help if param else short).split(" (")[0].capitalize()


def source(key: str) -> str:
    """Where a control's default comes from: a source document, or an assumption."""
    short = _short(key)
    if short in WORDS:
        return WORDS[short][2]
    param = BRAND_SCHEMA.get(short) if key.startswith("brands.") else SCHEMA.get(short)
    found = re.search(r"\(seeds? ([\d, ]+)[^)]*\)", param.help if param else "")
    if found:
        return f"source document {found.group(1)}"
    return "assumption (docs/ODD.md, section 8)"


def help_text(key: str) -> str:
    """One line: what the control means in the market, its unit, and its source."""
    short = _short(key)
    meaning = WORDS[short][1] if short in WORDS else label(key) + "."
    return f"{meaning} Source: {source(key)}."


def event_text(lever: str, value, brand: str) -> str:
    """'quality of ours becomes 0.35' in the labels' words."""
    return f"{label('brands.x.' + lever).lower()} of {brand} becomes {value:g}" if isinstance(
        value, (int, float)) else f"{label('brands.x.' + lever).lower()} of {brand} becomes {value}"


_KEY = re.compile(r"\b(brands\.([A-Za-z_][A-Za-z0-9_]*)\.([a-z_]+)|[a-z_]+\.[a-z_]+(?:\.[a-z_]+)?)\b")


def plain(text: str) -> str:
    """A guide's text with dotted keys in words: 'brands.ours.service_recovery' -> 'Complaints
    put right (ours)'; 'sharing.negative_multiplier' -> 'Unhappy customers talk more (times)'."""
    def replace(match: re.Match) -> str:
        whole = match.group(0)
        if match.group(2):
            lever = match.group(3)
            if lever in BRAND_SCHEMA:
                return f"“{label('brands.x.' + lever)}” of {match.group(2)}"
            return whole
        if whole in SCHEMA:
            return f"“{label(whole)}”"
        return whole
    return _KEY.sub(replace, text)
