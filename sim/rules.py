"""The journey rules, each written once.

Every rule is a pure function that works on a Python float for one consumer
and on a NumPy array for many: the per-agent engine calls them one consumer
at a time, a vectorised engine can call them on the whole population. Random
draws are made by the engine and passed in (``z``, ``u``), so the rules stay
deterministic and testable. ``docs/ODD.md`` explains where each comes from.

Stimulus -> ZMOT -> FMOT -> SMOT -> UMOT -> (loyalty loop) -> Stimulus ...
"""

from __future__ import annotations

import math

import numpy as np

NEUTRAL_STARS = 3.0  # a review of 3 stars on a 1-5 scale says "as expected"
RATING_SCALE = 0.15  # disconfirmation that moves a rating by ~1.5 stars


def _clip(x, low, high):
    """Clip a float without NumPy's scalar overhead, or an array with it."""
    if isinstance(x, float):
        return low if x < low else high if x > high else x
    return np.clip(x, low, high)


def _exp(x):
    return math.exp(x) if isinstance(x, float) else np.exp(x)


# --- Stimulus: micro-moments, ads, needs -------------------------------------------

def attention(channel_mix, channel_reach):
    """Daily exposure to the world of media, relative to an average adult.

    A weighted mean of each channel's reach by the consumer's channel mix
    (last axis); the smartphone's reach grows with micro-moments (seed 003).
    """
    return np.sum(np.asarray(channel_mix) * np.asarray(channel_reach), axis=-1)


def exposure_probability(intensity, attention):
    """Chance of seeing at least one ad today: Poisson exposures at rate intensity x attention."""
    return 1.0 - _exp(-intensity * attention)


def none_seen_after(chances):
    """For each brand b (last axis): the chance that no ad of brand b or of any later brand is seen."""
    if isinstance(chances, (list, tuple)):
        none, out = 1.0, [0.0] * len(chances)
        for b in range(len(chances) - 1, -1, -1):
            none *= 1.0 - chances[b]
            out[b] = none
        return out
    return np.cumprod(1.0 - np.asarray(chances)[..., ::-1], axis=-1)[..., ::-1]


def ad_seen_probability(chance, none_after, seen_before):
    """Chance of seeing brand b's ads, given that at least one brand's ads are seen today.

    Exact sequential conditioning over the brands in order: while no earlier brand's ads have been
    seen, brand b is seen with chance p_b / P(at least one of b, b+1, ... seen) (``none_after`` is
    :func:`none_seen_after`); once one has, with its own chance p_b.
    """
    if isinstance(chance, float):
        return chance if seen_before else chance / (1.0 - none_after)
    some_after = 1.0 - np.asarray(none_after)
    conditional = np.divide(chance, some_after, out=np.zeros_like(some_after), where=some_after > 0)
    return np.where(seen_before, chance, conditional)


def meeting_probability(reach, attention):
    """Chance of meeting a contact's story by chance on social media today."""
    return _clip(reach * attention, 0.0, 1.0)


def leave_probability(mean_days):
    """Daily chance of leaving a stage whose duration is geometric with this mean."""
    return 1.0 / mean_days


# --- ZMOT: research, attitude and expectation -------------------------------------

def move_attitude(attitude, signal, weight):
    """Move an attitude in [-1, 1] toward a signal in [-1, 1] by a weight in [0, 1]."""
    return _clip(attitude + weight * (signal - attitude), -1.0, 1.0)


def stars_signal(stars):
    """What a rating of 1-5 stars says about a brand, on the attitude scale [-1, 1]."""
    return (stars - NEUTRAL_STARS) / 2.0


def public_rating(star_sum, count, prior_count):
    """A brand's public rating: the mean of its reviews with neutral pseudo-reviews (Bayesian average)."""
    return (NEUTRAL_STARS * prior_count + star_sum) / (prior_count + count) if (prior_count + count) else \
        NEUTRAL_STARS


def review_weight(weight, susceptibility, available, read):
    """How much reading a brand's reviews moves an attitude: fewer reviews, less weight."""
    return weight * susceptibility * _clip(available / read, 0.0, 1.0)


def expectation(attitude, hype, neutral, attitude_weight):
    """Quality expected from a brand (0-1), built in ZMOT: attitude and advertising hype raise the bar."""
    return _clip(neutral + attitude_weight * attitude + hype, 0.0, 1.0)


# --- FMOT: the choice ------------------------------------------------------------

def choice_probabilities(attitude, aware, price, loyal_to, *, reference_price, attitude_weight,
                         price_weight, loyalty_bonus, walk_away_utility):
    """Multinomial logit over the brands one knows, and walking away (last column).

    ``attitude``, ``aware``, ``price`` and ``loyal_to`` (1 for the brand one was
    satisfied with last time) have brands on the last axis: lists for one
    consumer, arrays of shape (consumers, brands) for many.
    """
    if isinstance(attitude, list):  # one consumer: plain floats are far cheaper than tiny arrays
        utility = [attitude_weight * a - price_weight * math.log(p / reference_price) + loyalty_bonus * loyal
                   if known else -math.inf
                   for a, p, loyal, known in zip(attitude, price, loyal_to, aware)]
        utility.append(float(walk_away_utility))
        top = max(utility)
        weights = [math.exp(u - top) for u in utility]
        total = sum(weights)
        return [w / total for w in weights]
    attitude = np.asarray(attitude, dtype=float)
    utility = (attitude_weight * attitude
               - price_weight * np.log(np.asarray(price, dtype=float) / reference_price)
               + loyalty_bonus * np.asarray(loyal_to, dtype=float))
    utility = np.where(np.asarray(aware, dtype=bool), utility, -np.inf)
    walk = np.full(utility.shape[:-1] + (1,), float(walk_away_utility))
    utility = np.concatenate([utility, walk], axis=-1)
    utility = utility - utility.max(axis=-1, keepdims=True)
    weights = np.exp(utility)
    return weights / weights.sum(axis=-1, keepdims=True)


def pick(probabilities, u):
    """Index of the option chosen by a uniform draw ``u`` (inverse CDF on the last axis)."""
    if isinstance(probabilities, list):
        cumulative = 0.0
        for index, p in enumerate(probabilities):
            cumulative += p
            if u < cumulative:
                return index
        return len(probabilities) - 1
    cumulative = np.cumsum(probabilities, axis=-1)
    u = np.asarray(u, dtype=float)[..., None]
    return np.minimum((cumulative <= u).sum(axis=-1), cumulative.shape[-1] - 1)


# --- SMOT: experience against expectation ------------------------------------------

def experience(quality, spread, z):
    """Experienced quality (0-1): the brand's mean quality plus its spread times a normal draw ``z``."""
    return _clip(quality + spread * z, 0.0, 1.0)


def is_satisfied(experience, expectation, tolerance):
    """Expectation-disconfirmation (Oliver 1980): satisfied unless below expectation by more than tolerance."""
    return experience >= expectation - tolerance


def stars(experience, expectation, tolerance):
    """The rating one would give, 1-5 stars; 3 or more exactly when satisfied."""
    disconfirmation = (experience - expectation + tolerance) / RATING_SCALE
    if isinstance(disconfirmation, float):
        return NEUTRAL_STARS + 2.0 * math.tanh(disconfirmation)
    return NEUTRAL_STARS + 2.0 * np.tanh(disconfirmation)


# --- UMOT: sharing ---------------------------------------------------------------

def share_probabilities(propensity, satisfied, negative_multiplier, review_prompting):
    """(spontaneous, prompted): chances of sharing on one's own, or only when the brand asks.

    Dissatisfied customers share spontaneously ``negative_multiplier`` times as
    often (seed 000: four times); a review-prompt programme (Amazon, Booking)
    turns some of those who would stay silent into public reviewers.
    """
    factor = 1.0 + (negative_multiplier - 1.0) * (1.0 - satisfied)
    spontaneous = _clip(propensity * factor, 0.0, 1.0)
    return spontaneous, (1.0 - spontaneous) * review_prompting


# --- Economics -------------------------------------------------------------------

def is_retention(last_brand, brand):
    """A purchase keeps a customer when one's previous purchase was the same brand; else it wins one."""
    return last_brand == brand
