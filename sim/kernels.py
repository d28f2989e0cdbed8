"""The array engine's inner loops, compiled with numba: one pass over a day's picked consumers instead
of a NumPy pass (and a temporary array) per operation.

What a loop does to one consumer is a rule of :mod:`sim.rules`, compiled from the very function the
per-agent engine calls on Python floats (one rule, one place): numba compiles ``rules.move_attitude``,
``rules.stars`` and the others as they are written, with the helper that switches between a float
and an array (``rules._clip``) given its float form here.

Random draws come from the engine's NumPy ``Generator``, in the same order and numbers as a day
without these loops: a loop that draws is handed the generator (numba draws NumPy's own streams from
it), the others get the draws. A loop does the arithmetic element by element, in the order NumPy does
it (IEEE arithmetic, no fused multiply-adds, no reassociation); the choice's exponential stays NumPy's
(the engine takes it between two loops: libm's differs in the last bit for some inputs). Sums that
feed the recorded columns are left to NumPy, whose pairwise summation a plain loop would not repeat
to the last bit. So the
recorded tables are the same bytes as those of the NumPy-only engine before these loops (checked on
every shipped scenario when they were introduced).

Compiled code is cached next to this file (``__pycache__``, or numba's user-wide cache where the
package folder cannot be written): a process loads it in a fraction of a second, and compiles only
the first time. numba keys a cached function on the source file it is written in; the loops here also
compile the rules of ``rules.py``, so the cache key here covers that file too (:class:`_RulesStamp`).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import warnings

import numba
import numpy as np
from numba.core import caching
from numba.core.errors import NumbaExperimentalFeatureWarning
from numba.extending import overload

from . import network, rules
from .agents import Stage

# The rules test their argument with isinstance (a float for one consumer, an array for many), which
# numba compiles by pruning the branch not taken, and calls an experimental feature.
warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning)


def warm() -> None:
    """Compile every loop now (a few days of a small array market) rather than in a user's first run:
    about 20 seconds the first time, then loaded from the cache in a fraction of a second."""
    from . import api

    api.run("baseline", steps=5, overrides={"engine": "array", "population.size": 200, "market.burn_in_days": 60,
                                            "awareness.memory_days": 30})


# --- the cache: keyed on this file and on rules.py --------------------------------------

@functools.lru_cache(maxsize=None)
def _file_hash(path: str, mtime: float, size: int) -> bytes:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()


class _RulesStamp:
    """A cache locator whose freshness stamp covers rules.py as well as this file (numba's own covers
    only the file a function is written in, and would load loops built on rules that have changed)."""

    def get_source_stamp(self):
        stat = os.stat(rules.__file__)
        return super().get_source_stamp(), _file_hash(rules.__file__, stat.st_mtime, stat.st_size)

    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.abspath(py_file) != os.path.abspath(__file__):
            return None
        return super().from_function(py_func, py_file)


class _UserProvided(_RulesStamp, caching.UserProvidedCacheLocator):
    pass


class _InTree(_RulesStamp, caching.InTreeCacheLocator):
    pass


class _UserWide(_RulesStamp, caching.UserWideCacheLocator):
    pass


caching.CacheImpl._locator_classes[:0] = [_UserProvided, _InTree, _UserWide]


# --- the rules' float forms -------------------------------------------------------------

@overload(rules._clip)
def _clip_float(x, low, high):
    def clip(x, low, high):
        return low if x < low else high if x > high else x
    return clip


_jit = functools.partial(numba.njit, cache=True, nogil=True)
move_attitude = numba.njit(rules.move_attitude)
stars_signal = numba.njit(rules.stars_signal)
experience = numba.njit(rules.experience)
is_satisfied = numba.njit(rules.is_satisfied)
stars = numba.njit(rules.stars)
service_outcome = numba.njit(rules.service_outcome)
choice_utility = numba.njit(rules.choice_utility)
pick_one = numba.njit(rules.pick_one)
share_probabilities = numba.njit(rules.share_probabilities)
review_weight = numba.njit(rules.review_weight)
hype_seen = numba.njit(rules.hype_seen)
expectation = numba.njit(rules.expectation)
is_retention = numba.njit(rules.is_retention)


# --- picks --------------------------------------------------------------------------------

@_jit
def positions(exponentials, scale, start, count):
    """The positions before ``count`` of a Bernoulli process after ``start``, from a batch of standard
    exponentials (gaps ``floor(E x scale) + 1``), and whether the batch went past the end.

    The arithmetic of ``sim.network._positions`` (the gaps' running sum, then ``start`` added), stopped
    at the first position past the end.
    """
    out = np.empty(len(exponentials), dtype=np.int64)
    total = 0.0
    for i in range(len(exponentials)):
        total += math.floor(exponentials[i] * scale) + 1.0
        position = total + start
        if not position < count:
            return out[:i], True, position
        out[i] = np.int64(position)
    return out, False, total + start if len(exponentials) else start


@_jit
def draw_picks(rng, count, how, scale, batch):
    """``sim.network.bernoulli_picks`` with its plan (``bernoulli_plan``: how, scale, batch) made: the
    same draws from ``rng`` (numba draws NumPy's streams) and the same positions."""
    if how == network.NO_PICKS:
        return np.empty(0, dtype=np.int64)
    if how == network.ALL_PICKED:
        return np.arange(count)
    picks, done, start = positions(rng.standard_exponential(batch), scale, -1.0, count)
    while not done:
        more, done, start = positions(rng.standard_exponential(batch), scale, start, count)
        picks = np.concatenate((picks, more))
    return picks


@_jit
def thinned_picks(rng, offsets, hows, scales, batches, ratio, members, kept_counts):
    """Groups of members picked, each group by ``bernoulli_picks`` with its largest chance (its plan:
    ``hows``, ``scales``, ``batches``), each pick kept with its own chance over that one (a uniform
    draw each, after the group's picks): the members kept, group after group, each group in order.
    Group ``g`` is ``members[offsets[g]:offsets[g + 1]]`` (``ratio`` alike); ``kept_counts[g]`` gets
    how many of it were kept. The draws of one ``bernoulli_picks`` and one ``rng.random`` per group."""
    out = np.empty(max(np.sum(batches), 16), dtype=members.dtype)
    size = 0
    for g in range(len(hows)):
        start, end = offsets[g], offsets[g + 1]
        picks = draw_picks(rng, end - start, hows[g], scales[g], batches[g])
        u = rng.random(len(picks))
        if size + len(picks) > len(out):
            out = np.concatenate((out[:size], np.empty(size + 2 * len(picks), dtype=members.dtype)))
        kept = 0
        for i in range(len(picks)):
            if u[i] < ratio[start + picks[i]]:
                out[size + kept] = members[start + picks[i]]
                kept += 1
        kept_counts[g] = kept
        size += kept
    return out[:size]


# --- the journey ------------------------------------------------------------------------------

@_jit
def see_ads(flat, n, aware, last_ad, attitude, day, persuasion, change, gained):
    """Ads seen by (consumer, brand) pairs (indexes into the flat arrays of ``n`` brands): the pair is
    aware, the day kept, the attitude moved toward +1 by the persuasion; ``change`` gets each pair's
    change of attitude, ``gained`` (per brand) those who were not aware."""
    for i in range(len(flat)):
        pair = flat[i]
        if not aware[pair]:
            aware[pair] = True
            gained[pair % n] += 1
        last_ad[pair] = day
        was = attitude[pair]
        now = move_attitude(was, 1.0, persuasion)
        attitude[pair] = now
        change[i] = now - was


@_jit
def ads_day(rng, offsets, hows, scales, batches, ratio, members, kept_counts, n, aware, last_ad, attitude, day,
            persuasion, gained, trigger):
    """The day's ads: the (consumer, brand) pairs that see one (:func:`thinned_picks` over the ad strata),
    what each does (:func:`see_ads`), and the consumers they trigger (a uniform draw per ad seen, after
    the picks, under ``trigger``). Returns (the pairs, each one's change of attitude, the triggered)."""
    flat = thinned_picks(rng, offsets, hows, scales, batches, ratio, members, kept_counts)
    change = np.empty(len(flat))
    see_ads(flat, n, aware, last_ad, attitude, day, persuasion, change, gained)
    u = rng.random(len(flat))
    triggered = np.empty(len(flat), dtype=np.int64)
    count = 0
    for i in range(len(flat)):
        if u[i] < trigger:
            triggered[count] = flat[i] // n
            count += 1
    return flat, change, triggered[:count]


@_jit
def experience_day(ids, n, bought, quality, spread, failure, recovery, z, u_fail, u_complain, u_resolve,
                   expectation, attitude, tolerance, delight, star_step, complaint_rate, recovered_rating,
                   weight, last_brand, satisfied_out, recovered_out, rating_out, brand_counts, star_counts,
                   change):
    """SMOT for the day's group ``ids``: experience against expectation, stars, complaint and recovery,
    the attitude to the brand bought; each one's flags kept. ``brand_counts`` gets, per brand, the
    recoveries (row 0) and complaints (row 1); ``star_counts`` the ratings by stars (index 1-5);
    ``change`` each one's change of attitude. Returns the brands bought and how many were satisfied."""
    brands = np.empty(len(ids), dtype=np.int64)
    happy = 0
    for i in range(len(ids)):
        who = ids[i]
        brand = bought[who]
        brands[i] = brand
        pair = who * n + brand
        lived = experience(quality[brand], spread[brand], z[i], u_fail[i] < failure[brand])
        expected = expectation[pair]
        satisfied = is_satisfied(lived, expected, tolerance)
        rating = stars(lived, expected, tolerance, delight, star_step)
        complained, recovered = service_outcome(satisfied, u_complain[i], u_resolve[i], complaint_rate,
                                                recovery[brand])
        satisfied = satisfied or recovered
        if recovered:
            rating = recovered_rating
            brand_counts[0, brand] += 1
        if complained:
            brand_counts[1, brand] += 1
        star_counts[rating] += 1
        happy += satisfied
        was = attitude[pair]
        now = move_attitude(was, stars_signal(rating), weight)
        attitude[pair] = now
        change[i] = now - was
        last_brand[who] = brand
        satisfied_out[who] = satisfied
        recovered_out[who] = recovered
        rating_out[who] = rating
    return brands, happy


@_jit
def choice_utilities(ids, n, aware, attitude, log_price, last_brand, last_satisfied, attitude_weight, price_weight,
                     loyalty_bonus, walk_away_utility, utility):
    """FMOT: each one's utility of each brand (rows 0 to n-1; ``-inf`` for a brand one does not know)
    and of walking away (row n), less the largest: the logit's exponents, as in
    ``rules.choice_probabilities`` (whose exponential, NumPy's, the engine takes next)."""
    for i in range(len(ids)):
        who = ids[i]
        loyal_to = last_brand[who] if last_satisfied[who] else -1
        top = walk_away_utility
        for b in range(n):
            pair = who * n + b
            if aware[pair]:
                value = choice_utility(attitude[pair], log_price[b], 1.0 if loyal_to == b else 0.0,
                                       attitude_weight, price_weight, loyalty_bonus)
            else:
                value = -np.inf
            utility[b, i] = value
            top = max(top, value)
        utility[n, i] = walk_away_utility
        for b in range(n + 1):
            utility[b, i] -= top


@_jit
def choose(weights, u):
    """Each one's option (n: walk away) from the logit's weights (options first) and a uniform draw:
    the weights over their sum (``rules.choice_probabilities``), then ``rules.pick_one``."""
    options, count = weights.shape
    choice = np.empty(count, dtype=np.int64)
    probabilities = np.empty(options)
    for i in range(count):
        total = 0.0
        for b in range(options):
            total += weights[b, i]
        for b in range(options):
            probabilities[b] = weights[b, i] / total
        choice[i] = pick_one(probabilities, u[i])
    return choice


@_jit
def research_day(ids, n, discovered, aware, attitude, expectation_out, last_ad, review_count, signal, base_weight,
                 susceptibility, half_count, today, hype_days, hype, neutral, attitude_weight, change, gained):
    """ZMOT ends for ``ids``: brands discovered (``discovered``: brands first), the reviews read (a brand
    with reviews: its displayed rating's ``signal``, weighed by their count), the expectation of every
    brand (attitude and the hype of ads seen lately). ``change`` gets each pair's change of the aware's
    attitude sum (brands first), ``gained`` per brand the newly aware."""
    for b in range(n):
        count = review_count[b]
        for i in range(len(ids)):
            who = ids[i]
            pair = who * n + b
            was_aware = aware[pair]
            now_aware = was_aware or discovered[b, i]
            was = attitude[pair]
            now = was
            if count > 0 and now_aware:
                now = move_attitude(was, signal[b], review_weight(base_weight, susceptibility[who], count, half_count))
            attitude[pair] = now
            aware[pair] = now_aware
            gained[b] += now_aware - was_aware
            change[b, i] = (now if now_aware else 0.0) - was
            held = hype[b] if hype_seen(last_ad[pair], today, hype_days) else 0.0
            expectation_out[pair] = expectation(now, held, neutral, attitude_weight)


@_jit
def share_day(ids, bought, satisfied, propensity, talk_weight, rating, prompting, multiplier, public_fraction, u,
              u_public, counts, teller, brand_out, stars, told_out, posted_out):
    """UMOT for ``ids``: tell contacts, post a review, both (``rules.share_probabilities``), or stay
    silent; the purchase is then over. ``counts`` gets per brand the positive (row 0) and negative
    (row 1) sharers and those a brand's prompt asked (row 2); the sharers are written in order to
    ``teller``, ``brand_out``, ``stars``, ``told_out``, ``posted_out``. Returns how many shared."""
    shared = 0
    for i in range(len(ids)):
        who = ids[i]
        brand = bought[who]
        happy = satisfied[who]
        spontaneous, prompted = share_probabilities(propensity[who], talk_weight[rating[who]],
                                                    1.0 if happy else 0.0, multiplier, prompting[brand])
        told = u[i] < spontaneous
        posted = (told and u_public[i] < public_fraction) or (not told and u[i] < spontaneous + prompted)
        if not told and prompting[brand] > 0:
            counts[2, brand] += 1
        if told or posted:
            counts[0 if happy else 1, brand] += 1
            teller[shared] = who
            brand_out[shared] = brand
            stars[shared] = rating[who]
            told_out[shared] = told
            posted_out[shared] = posted
            shared += 1
        bought[who] = -1
    return shared


@_jit
def expect_loyal(ids, brand, n, attitude, last_ad, today, hype_days, hype, neutral, attitude_weight, expectation_out,
                 rebuy):
    """The loyal who skipped research expect of the brand they buy again what ZMOT would have them
    expect (``rules.expectation``: attitude and the hype of ads seen lately); their skip is used up."""
    for i in range(len(ids)):
        who = ids[i]
        pair = who * n + brand[i]
        held = hype[brand[i]] if hype_seen(last_ad[pair], today, hype_days) else 0.0
        expectation_out[pair] = expectation(attitude[pair], held, neutral, attitude_weight)
        rebuy[who] = False


@_jit
def buy(buyers, brand, n, last_brand, last_satisfied, recovered, purchases, bought, cycling, rebuys_after,
        bought_counts, kept_counts):
    """FMOT's purchases: each buyer's brand kept (``bought``, ``purchases``, its purchase cycle started);
    per brand the purchases and those that kept a customer (``rules.is_retention``); after a satisfied
    experience, ``rebuys_after[resolved complaint?, same brand?]``. Returns how many bought for the
    first time."""
    adopters = 0
    for i in range(len(buyers)):
        who, chosen = buyers[i], brand[i]
        previous = last_brand[who]
        retained = is_retention(previous, chosen)
        if last_satisfied[who] and previous >= 0:
            rebuys_after[1 if recovered[who] else 0, 1 if retained else 0] += 1
        bought_counts[chosen] += 1
        if retained:
            kept_counts[chosen] += 1
        if previous < 0:
            adopters += 1
        purchases[who * n + chosen] += 1
        bought[who] = chosen
        cycling[who] = True
    return adopters


@_jit
def forget(flat, n, aware, purchases, attitude, lost, change):
    """Awareness fades: the (consumer, brand) pairs picked today are forgotten (attitude back to 0)
    unless the consumer has bought the brand. ``lost`` and ``change`` get, per brand, how many were
    forgotten and the change of the aware's attitude sum."""
    for i in range(len(flat)):
        pair = flat[i]
        if aware[pair] and purchases[pair] == 0:
            brand = pair % n
            lost[brand] += 1
            change[brand] += 0.0 - attitude[pair]
            aware[pair] = False
            attitude[pair] = 0.0


# --- the day's stages, from Stimulus to the shelf and from the shelf to sharing ---------------------
DORMANT, STIMULUS, ZMOT, FMOT, SMOT, UMOT = (int(s) for s in Stage)  # compiled in as constants


@_jit
def _enter(ids, new, stage, stage_count):
    for who in ids:
        stage_count[stage[who]] -= 1
        stage_count[new] += 1
        stage[who] = new


@_jit
def to_the_shelf(rng, n, stimulus, researching, stage, stage_count, rebuy, satisfied, last_brand, loyal_skip,
                 leave_research, discovery, aware, attitude, expectation_pairs, last_ad, review_count, review_signal,
                 review_weight_base, susceptibility, half_count, today, hype_days, hype, neutral, attitude_weight,
                 research_change, gained, shopping, log_price, choice_attitude_weight, price_weight, loyalty_bonus,
                 walk_away_utility):
    """The morning's stages, with the day's draws in the engine's order: Stimulus (the satisfied may go
    straight back to their brand, the others start research: each research's length drawn), the end
    of research (ZMOT: brands discovered, reviews read, expectations formed) and, at the shelf (FMOT),
    the loyal's expectations and the logit's exponents of the others (NumPy's exponential comes next).

    Returns (straight back to the shelf, into research, their research days, the loyal at the shelf,
    their brands, the others at the shelf, their uniform draws, the logit's exponents: options first).
    ``research_change`` (brands first) and ``gained`` as :func:`research_day`'s.
    """
    # Stimulus: a satisfied customer may go straight back to the brand (loyalty loop).
    u = rng.random(len(stimulus))
    back = np.empty(len(stimulus), dtype=np.int64)
    into = np.empty(len(stimulus), dtype=np.int64)
    n_back = n_into = 0
    for i in range(len(stimulus)):
        who = stimulus[i]
        if satisfied[who] and last_brand[who] >= 0 and u[i] < loyal_skip:
            rebuy[who] = True
            back[n_back] = who
            n_back += 1
        else:
            into[n_into] = who
            n_into += 1
    back, into = back[:n_back], into[:n_into]
    _enter(back, FMOT, stage, stage_count)
    _enter(into, ZMOT, stage, stage_count)
    research_days = rng.geometric(leave_research, n_into) if n_into else np.empty(0, dtype=np.int64)
    # ZMOT ends: discover brands, read reviews, form expectations; then to the shelf tomorrow.
    if len(researching):
        discovered = rng.random(n * len(researching)).reshape((n, len(researching))) < discovery
        research_day(researching, n, discovered, aware, attitude, expectation_pairs, last_ad, review_count,
                     review_signal, review_weight_base, susceptibility, half_count, today, hype_days, hype, neutral,
                     attitude_weight, research_change, gained)
        _enter(researching, FMOT, stage, stage_count)
    # FMOT: the loyal buy their brand again; the others choose.
    loyal = np.empty(len(shopping), dtype=np.int64)
    others = np.empty(len(shopping), dtype=np.int64)
    n_loyal = n_others = 0
    for who in shopping:
        if rebuy[who]:
            loyal[n_loyal] = who
            n_loyal += 1
        else:
            others[n_others] = who
            n_others += 1
    loyal, others = loyal[:n_loyal], others[:n_others]
    loyal_brand = np.empty(n_loyal, dtype=np.int64)
    for i in range(n_loyal):
        loyal_brand[i] = last_brand[loyal[i]]
    expect_loyal(loyal, loyal_brand, n, attitude, last_ad, today, hype_days, hype, neutral, attitude_weight,
                 expectation_pairs, rebuy)
    u_choice = rng.random(n_others)
    exponents = np.empty((n + 1, n_others))
    choice_utilities(others, n, aware, attitude, log_price, last_brand, satisfied, choice_attitude_weight,
                     price_weight, loyalty_bonus, walk_away_utility, exponents)
    return back, into, research_days, loyal, loyal_brand, others, u_choice, exponents


@_jit
def from_the_shelf(rng, n, loyal, loyal_brand, others, weights, u_choice, stage, stage_count, last_brand, satisfied,
                   recovered, purchases, bought, cycling, rebuys_after, sales, leave_experience, experiencing,
                   quality, spread, failure, recovery, expectation_pairs, attitude, tolerance, delight, star_step,
                   complaint_rate, recovered_rating, experience_weight, rating, service, star_counts,
                   experience_change, sharing, propensity, talk_weight, prompting, multiplier, public_fraction, talk,
                   totals):
    """The rest of the day's stages, with the draws in the engine's order: the choice at the shelf
    (``weights``: the logit's exponentials, options first), the purchases (each use's length drawn),
    the experiences judged today (SMOT) and the sharing (UMOT).

    Returns (who walked away, who bought, their days of use, and the sharers: teller, brand, stars,
    told, posted). Counts per brand: ``sales`` (bought, kept a customer), ``service`` (recoveries,
    complaints), ``talk`` (positive, negative, asked); ``star_counts`` by stars; ``totals``: walk-aways,
    first purchases, satisfied, dissatisfied; ``experience_change`` the aware's attitude sum per brand.
    """
    # FMOT: the choice (rules.choice_probabilities' weights over their sum, rules.pick_one).
    choice = choose(weights, u_choice)
    walked = np.empty(len(others), dtype=np.int64)
    buyers = np.empty(len(loyal) + len(others), dtype=np.int64)
    brand = np.empty(len(buyers), dtype=np.int64)
    buyers[:len(loyal)] = loyal
    brand[:len(loyal)] = loyal_brand
    n_walked, n_buyers = 0, len(loyal)
    for i in range(len(others)):
        if choice[i] >= n:
            walked[n_walked] = others[i]
            n_walked += 1
        else:
            buyers[n_buyers] = others[i]
            brand[n_buyers] = choice[i]
            n_buyers += 1
    walked, buyers, brand = walked[:n_walked], buyers[:n_buyers], brand[:n_buyers]
    totals[0] += n_walked
    _enter(walked, DORMANT, stage, stage_count)
    totals[1] += buy(buyers, brand, n, last_brand, satisfied, recovered, purchases, bought, cycling, rebuys_after,
                     sales[0], sales[1])
    _enter(buyers, SMOT, stage, stage_count)
    use_days = rng.geometric(leave_experience, n_buyers) if n_buyers else np.empty(0, dtype=np.int64)
    # SMOT: experience against expectation; service may save it. Then to sharing tomorrow.
    if len(experiencing):
        k = len(experiencing)
        z, u_fail, u_complain, u_resolve = rng.standard_normal(k), rng.random(k), rng.random(k), rng.random(k)
        change = np.empty(k)
        lived_brand, happy = experience_day(experiencing, n, bought, quality, spread, failure, recovery, z, u_fail,
                                            u_complain, u_resolve, expectation_pairs, attitude, tolerance, delight,
                                            star_step, complaint_rate, recovered_rating, experience_weight,
                                            last_brand, satisfied, recovered, rating, service, star_counts, change)
        totals[2] += happy
        totals[3] += k - happy
        for i in range(k):  # np.bincount's order: one by one
            experience_change[lived_brand[i]] += change[i]
        _enter(experiencing, UMOT, stage, stage_count)
    # UMOT: tell contacts, post a review, both, or stay silent; then dormant again.
    k = len(sharing)
    teller, told_brand = np.empty(k, dtype=np.int64), np.empty(k, dtype=np.int16)
    stars, told, posted = np.empty(k, dtype=np.int8), np.empty(k, dtype=np.bool_), np.empty(k, dtype=np.bool_)
    shared = 0
    if k:
        u, u_public = rng.random(k), rng.random(k)
        shared = share_day(sharing, bought, satisfied, propensity, talk_weight, rating, prompting, multiplier,
                           public_fraction, u, u_public, talk, teller, told_brand, stars, told, posted)
        _enter(sharing, DORMANT, stage, stage_count)
    return (walked, buyers, use_days, teller[:shared], told_brand[:shared], stars[:shared], told[:shared],
            posted[:shared])


@_jit
def calendar_add(ids, wait, today, head, size, block, fill, link, free, top):
    """Enter ``ids`` into the calendar of a stage of geometric length (:class:`sim.engine.Calendar`):
    each is due ``wait`` days from ``today``. A ring of ``len(head)`` days; a day's members fill
    blocks of ``block``'s width, chained through ``link`` from ``head[day % len(head)]``, newest
    first; blocks come from the stack ``free[:top[0]]``. Waits the ring cannot hold are left out.
    Returns how many were left out, or -1 if the blocks ran out (a consumer entered twice)."""
    days, width = len(head), block.shape[1]
    far = 0
    for i in range(len(ids)):
        if wait[i] >= days:
            far += 1
            continue
        slot = (today + wait[i]) % days
        b = head[slot]
        if b < 0 or fill[b] == width:
            if top[0] == 0:
                return -1
            top[0] -= 1
            fresh = free[top[0]]
            link[fresh], fill[fresh] = b, 0
            head[slot] = b = fresh
        block[b, fill[b]] = ids[i]
        fill[b] += 1
        size[slot] += 1
    return far


@_jit
def calendar_take(day, head, size, block, fill, link, free, top):
    """Who is due on ``day`` (:func:`calendar_add`), block by block (NumPy sorts them: faster than a
    compiled sort); the blocks go back to the stack and the day's slot is free for a later day."""
    slot = day % len(head)
    due = np.empty(size[slot], dtype=np.int64)
    at, b = 0, head[slot]
    while b >= 0:
        due[at:at + fill[b]] = block[b, :fill[b]]
        at += fill[b]
        free[top[0]] = b
        top[0] += 1
        b = link[b]
    head[slot], size[slot] = -1, 0
    return due


@_jit
def hear_stories(listener, brand, stars, n, susceptibility, weight, aware, attitude, aware_count, attitude_sum):
    """Yesterday's stories heard (each listener's in the order told, a round per story: what a vectorised
    day did, round by round): the brand known, the attitude moved toward what the stars say, each round's
    change added to the aware's attitude sum per brand. Returns the listeners, in id order (one per story)."""
    order = np.argsort(listener, kind="mergesort")  # stable: each listener's stories in the order told
    listener, brand, stars = listener[order], brand[order], stars[order]
    count = len(listener)
    firsts = np.empty(count + 1, dtype=np.int64)
    groups, longest = 0, 0
    for i in range(count):
        if i == 0 or listener[i] != listener[i - 1]:
            firsts[groups] = i
            groups += 1
    firsts[groups] = count
    for g in range(groups):
        longest = max(longest, firsts[g + 1] - firsts[g])
    change = np.zeros(n)
    for story in range(longest):  # a round: each listener's story-th story
        change[:] = 0.0
        for g in range(groups):
            i = firsts[g] + story
            if i >= firsts[g + 1]:
                continue
            who, told = listener[i], brand[i]
            pair = who * n + told
            was = attitude[pair]
            now = move_attitude(was, stars_signal(stars[i]), weight * susceptibility[who])
            attitude[pair] = now
            if not aware[pair]:
                aware[pair] = True
                aware_count[told] += 1
            change[told] += now - was
        for b in range(n):
            attitude_sum[b] += change[b]
    return listener


@_jit
def wake(picked, triggered, stage, cycling):
    """Who starts a journey today, each once, in id order: the dormant whose need came round (``picked``,
    if they have the category's purchase cycle) and the dormant an ad or a story triggered."""
    picked = np.sort(picked)
    triggered = np.sort(triggered)
    woken = np.empty(len(picked) + len(triggered), dtype=np.int64)
    count, i, j = 0, 0, 0
    while i < len(picked) or j < len(triggered):  # a merge of the two sorted lists, each id once
        if j >= len(triggered) or (i < len(picked) and picked[i] <= triggered[j]):
            who, by_need = picked[i], True
            i += 1
        else:
            who, by_need = triggered[j], False
            j += 1
        if stage[who] != DORMANT or (by_need and not cycling[who]) or (count > 0 and woken[count - 1] == who):
            continue
        woken[count] = who
        count += 1
    return woken[:count]


@_jit
def meet_stories(teller, brand, stars, indptr, indices, u, meeting):
    """Tonight's stories on the network: each teller's story reaches each of its contacts who meets it
    (a uniform draw each, contact by contact, teller by teller, under ``rules.meeting_probability``'s
    chance ``meeting``). Returns (listener, brand, stars) of the stories met."""
    count = 0
    for t in teller:
        count += indptr[t + 1] - indptr[t]
    listener = np.empty(count, dtype=np.int64)
    heard_brand, heard_stars = np.empty(count, dtype=brand.dtype), np.empty(count, dtype=stars.dtype)
    met, k = 0, 0
    for s in range(len(teller)):
        for e in range(indptr[teller[s]], indptr[teller[s] + 1]):
            contact = indices[e]
            if u[k] < meeting[contact]:
                listener[met], heard_brand[met], heard_stars[met] = contact, brand[s], stars[s]
                met += 1
            k += 1
    return listener[:met], heard_brand[:met], heard_stars[:met]
