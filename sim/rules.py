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

# What a story or a review of 1-5 stars says about a brand on the attitude scale (index: stars; 0 unused).
# A met or exceeded expectation is a good experience (4-5 stars, positive); 1-3 stars fell short of it.
STAR_SIGNAL = (0.0, -1.0, -0.75, -0.5, 0.5, 1.0)
# How far each rating is from the line between met and not met, in stars: the extremes talk most
# (Anderson 1998, an asymmetric U) and post most (Hu, Pavlou & Zhang 2009: under-reporting bias).
STAR_EXTREMITY = (0.0, 2.0, 1.0, 0.0, 0.0, 1.0)
SATISFIED_STARS = 4  # 4 or 5 stars: the expectation was met


def _clip(x, low, high):
    """Clip a float without NumPy's scalar overhead, or an array with it."""
    if isinstance(x, float):
        return low if x < low else high if x > high else x
    return np.minimum(np.maximum(x, low), high)  # np.clip's result, without its Python-level wrapper


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
    """What a rating of 1-5 whole stars says about a brand, on the attitude scale [-1, 1]."""
    # One rating: a Python or NumPy integer, named one by one (numba, which compiles the rules for the
    # array engine's loops, can test these, written here, but not the abstract np.integer).
    if isinstance(stars, (int, np.int8, np.int16, np.int32, np.int64)):
        return STAR_SIGNAL[stars]
    return np.asarray(STAR_SIGNAL)[stars]


def displayed_rating(star_sum, count):
    """The average rating a platform displays: the mean of every review posted (0 while there is none)."""
    return star_sum / count if count else 0.0


def rating_signal(rating, reference, scale):
    """What a displayed rating says, read against the ratings one is used to seeing (about 4.2 stars)."""
    return _clip((rating - reference) / scale, -1.0, 1.0)


def review_weight(weight, susceptibility, count, half_count):
    """How much reading a brand's reviews moves an attitude: more reviews weigh more, with diminishing
    returns (half the full weight at ``half_count`` reviews; none with no review)."""
    return weight * susceptibility * (count / (count + half_count))


def hype_seen(last_ad_day, today, hype_days):
    """Whether a brand's advertised promise is in mind: its ads were seen in the last ``hype_days`` days."""
    return today - last_ad_day <= hype_days


def expectation(attitude, hype, neutral, attitude_weight):
    """Quality expected from a brand (0-1), built in ZMOT: attitude and advertising hype raise the bar."""
    return _clip(neutral + attitude_weight * attitude + hype, 0.0, 1.0)


def remarketing_strength(delay_days, half_life_days: float):
    """How much of its effect a remarketing ad keeps when shown ``delay_days`` after the walk-away.

    Seed 004: the shorter the delay between two touches, the more effective the campaign; the effect
    halves every ``half_life_days``.
    """
    return np.exp(-math.log(2.0) * np.asarray(delay_days, dtype=float) / half_life_days)


def remarketing_trigger(trigger: float, delay_days, half_life_days: float):
    """Chance a remarketing ad starts again the journey of one who researched the brand and walked away
    ``delay_days`` ago: ``trigger`` (the day after) weakened by the delay."""
    return trigger * remarketing_strength(delay_days - 1, half_life_days)


# --- FMOT: the choice ------------------------------------------------------------

def choice_utility(attitude, log_price, loyal, attitude_weight, price_weight, loyalty_bonus):
    """What a known brand is worth at the shelf: attitude, less the price (its log against the
    reference price), plus a bonus for the brand one was satisfied with last time (``loyal`` 1 or 0)."""
    return attitude_weight * attitude - price_weight * log_price + loyalty_bonus * loyal


def choice_probabilities(attitude, aware, price, loyal_to, *, reference_price, attitude_weight,
                         price_weight, loyalty_bonus, walk_away_utility):
    """Multinomial logit over the brands one knows, and walking away (last column).

    ``attitude``, ``aware``, ``price`` and ``loyal_to`` (1 for the brand one was
    satisfied with last time) have brands on the last axis: lists for one
    consumer, arrays of shape (consumers, brands) for many.
    """
    if isinstance(attitude, list):  # one consumer: plain floats are far cheaper than tiny arrays
        utility = [choice_utility(a, math.log(p / reference_price), loyal, attitude_weight, price_weight,
                                  loyalty_bonus) if known else -math.inf
                   for a, p, loyal, known in zip(attitude, price, loyal_to, aware)]
        utility.append(float(walk_away_utility))
        top = max(utility)
        weights = [math.exp(u - top) for u in utility]
        total = sum(weights)
        return [w / total for w in weights]
    # Brands first: the reductions over a handful of brands become element-wise passes over the consumers
    # (a reduction over a short last axis is many times slower).
    attitude = np.asarray(attitude, dtype=float)
    shape = attitude.shape

    def brands_first(values, dtype=float):
        values = np.asarray(values, dtype=dtype)
        if values.ndim == len(shape) == 2:  # (consumers, brands): a transposed view, far cheaper than moveaxis
            return values.T
        if values.ndim == 1 and len(shape) == 2:  # one value a brand, the same for every consumer
            return values[:, None]
        return np.moveaxis(np.broadcast_to(values, shape), -1, 0)

    brands = shape[-1]
    utility = np.empty((brands + 1,) + shape[:-1])
    known = utility[:brands]
    known[...] = choice_utility(brands_first(attitude), brands_first(np.log(np.asarray(price, dtype=float) /
                                                                        reference_price)),
                                brands_first(loyal_to), attitude_weight, price_weight, loyalty_bonus)
    np.copyto(known, -np.inf, where=~brands_first(aware, bool))
    utility[brands] = float(walk_away_utility)
    utility -= utility.max(axis=0)
    weights = np.exp(utility, out=utility)
    weights /= weights.sum(axis=0)
    return weights.T if weights.ndim == 2 else np.moveaxis(weights, 0, -1)


def pick(probabilities, u):
    """Index of the option chosen by a uniform draw ``u`` (inverse CDF on the last axis)."""
    if isinstance(probabilities, list):
        return pick_one(probabilities, u)
    probabilities = np.asarray(probabilities)
    options_first = probabilities.T if probabilities.ndim == 2 else np.moveaxis(probabilities, -1, 0)
    cumulative = np.cumsum(options_first, axis=0)  # options first, as above
    return np.minimum((cumulative <= np.asarray(u, dtype=float)).sum(axis=0), cumulative.shape[0] - 1)


def pick_one(probabilities, u):
    """:func:`pick` for one consumer's options (a list or a 1-D array): the first whose cumulative
    probability exceeds ``u`` (the count of cumulative probabilities <= u, as for many)."""
    cumulative = 0.0
    for index, p in enumerate(probabilities):
        cumulative += p
        if u < cumulative:
            return index
    return len(probabilities) - 1


# --- SMOT: experience against expectation ------------------------------------------

def experience(quality, spread, z, failed):
    """Experienced quality (0-1): the brand's mean quality plus its spread times a normal draw ``z``; 0 when
    the product failed outright (a defect, a lost parcel: the bad tail of total quality, seed 001)."""
    lived = _clip(quality + spread * z, 0.0, 1.0)
    if isinstance(lived, float):
        return 0.0 if failed else lived
    return np.where(failed, 0.0, lived)


def is_satisfied(experience, expectation, tolerance):
    """Expectation-disconfirmation (Oliver 1980): satisfied unless below expectation by more than tolerance."""
    return experience >= expectation - tolerance


def stars(experience, expectation, tolerance, delight, step):
    """The whole stars (1-5) one would give: 4 when the expectation was met (within the zone of
    tolerance), 5 when it was exceeded by ``delight`` or more; 3, 2 or 1 by how many ``step``s the
    experience fell short of the zone. So 4 or more exactly when satisfied."""
    gap = experience - expectation
    if isinstance(gap, float):
        if gap >= -tolerance:
            return 5 if gap >= delight else 4
        short = (-tolerance - gap) / step
        return 3 if short < 1.0 else 2 if short < 2.0 else 1
    short = (-tolerance - gap) / step
    return np.where(gap >= -tolerance, np.where(gap >= delight, 5, 4),
                    np.where(short < 1.0, 3, np.where(short < 2.0, 2, 1))).astype(np.int8)


def service_outcome(satisfied, u_complain, u_resolve, complaint_rate, recovery):
    """(complained, recovered): a dissatisfied customer complains with ``complaint_rate`` (most do not);
    the brand resolves a share ``recovery`` of the complaints (seeds 001, 004; de Matos et al. 2007)."""
    if isinstance(u_complain, float):
        complained = not satisfied and u_complain < complaint_rate
        return complained, complained and u_resolve < recovery
    complained = ~np.asarray(satisfied, dtype=bool) & (u_complain < complaint_rate)
    return complained, complained & (u_resolve < recovery)


# --- UMOT: sharing ---------------------------------------------------------------

def talk_weights(star_counts, extremity):
    """Relative chance of telling, by stars (index 1-5; 0 unused): the further from the line between
    met and not met, the more one talks (weight 1 + extremity x distance), scaled to a mean of 1 over
    the recent satisfied (4-5 stars) and, apart, the recent dissatisfied (1-3 stars) experiences.

    ``star_counts`` (index 1-5) are the recent experiences by stars; each level counts one more, so
    that a level nobody lived yet still has a weight. The scaling keeps the mean chance of each group
    where ``share_probabilities`` puts it: extremity decides who talks, not how much a group talks.
    """
    # Six numbers: plain floats (this runs every simulated day).
    weight = [1.0 + extremity * x for x in STAR_EXTREMITY]
    counts = [float(c) + 1.0 for c in (star_counts.tolist() if isinstance(star_counts, np.ndarray) else star_counts)]
    out = [0.0] * 6
    for group in (range(1, SATISFIED_STARS), range(SATISFIED_STARS, 6)):
        scale = weighted = 0.0
        for i in group:  # left to right, as NumPy sums a few numbers (Python's sum() compensates)
            scale += counts[i]
            weighted += weight[i] * counts[i]
        for i in group:
            out[i] = weight[i] * scale / weighted
    return np.array(out)


def share_probabilities(propensity, talk_weight, satisfied, negative_multiplier, review_prompting):
    """(spontaneous, prompted): chances of sharing on one's own, or only when the brand asks.

    A satisfied customer shares with its personal propensity times the talk weight of its rating; a
    dissatisfied one ``negative_multiplier`` times as often (seed 000: four times), so that over the
    population the dissatisfied share exactly that many times as often per experience (while no
    chance reaches 1). A review-prompt programme (Amazon, Booking) asks those who would stay silent:
    a share ``review_prompting`` of them posts a review, whatever the rating.
    """
    factor = 1.0 + (negative_multiplier - 1.0) * (1.0 - satisfied)
    spontaneous = _clip(propensity * talk_weight * factor, 0.0, 1.0)
    return spontaneous, (1.0 - spontaneous) * review_prompting


def net_sentiment(positive, negative):
    """What a social-listening tool reports: (positive - negative) / (positive + negative), 0 if silent."""
    total = positive + negative
    if isinstance(total, (int, float)):
        return (positive - negative) / total if total else 0.0
    return np.divide(positive - negative, total, out=np.zeros(np.shape(total)), where=total > 0)


def need_probability(rate, purchase_cycle_days):
    """Daily chance that the category need comes round, for a consumer buying ``rate`` times as often as
    the average (purchase rates are Gamma-distributed across consumers: NBD, Ehrenberg)."""
    return _clip(rate / purchase_cycle_days, 0.0, 1.0)


# --- Economics -------------------------------------------------------------------

def is_retention(last_brand, brand):
    """A purchase keeps a customer when one's previous purchase was the same brand; else it wins one."""
    return last_brand == brand
