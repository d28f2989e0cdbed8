"""The journey rules one by one, on scalars and on arrays."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import rules

unit = st.floats(0.0, 1.0)
signed = st.floats(-1.0, 1.0)
CHOICE = dict(reference_price=10.0, attitude_weight=3.0, price_weight=2.0, loyalty_bonus=0.5,
              walk_away_utility=-1.0)


def test_attention_is_the_mix_weighted_reach_for_one_and_for_many():
    mix = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    reach = np.array([[1.0, 2.0, 0.5, 1.0], [1.0, 2.0, 0.5, 1.0]])
    assert rules.attention(mix, reach).tolist() == [1.5, 2.0]
    assert rules.attention(mix[0], reach[0]) == 1.5


@given(st.floats(0.0, 5.0), st.floats(0.0, 5.0))
def test_exposure_is_a_poisson_chance_of_at_least_one_ad(intensity, attention):
    p = rules.exposure_probability(intensity, attention)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(1.0 - math.exp(-intensity * attention))
    assert rules.exposure_probability(intensity, attention + 0.5) >= p


def test_no_ads_no_exposure_and_meeting_is_capped():
    assert rules.exposure_probability(0.0, 2.0) == 0.0
    assert rules.meeting_probability(0.8, 2.0) == 1.0
    assert rules.meeting_probability(0.5, 1.0) == 0.5
    assert rules.meeting_probability(0.5, np.array([1.0, 4.0])).tolist() == [0.5, 1.0]


def test_leave_probability_gives_a_geometric_stay_with_that_mean():
    assert rules.leave_probability(4.0) == 0.25
    assert rules.leave_probability(1.0) == 1.0


@given(signed, signed, unit)
def test_attitude_moves_toward_the_signal_and_stays_in_bounds(attitude, signal, weight):
    moved = rules.move_attitude(attitude, signal, weight)
    assert -1.0 <= moved <= 1.0
    assert abs(moved - signal) <= abs(attitude - signal) + 1e-12
    assert rules.move_attitude(attitude, signal, 0.0) == attitude
    assert rules.move_attitude(attitude, signal, 1.0) == pytest.approx(signal)


def test_stars_signal_reads_met_expectations_as_good_news():
    assert [rules.stars_signal(s) for s in range(1, 6)] == [-1.0, -0.75, -0.5, 0.5, 1.0]
    assert rules.stars_signal(np.array([1, 4, 5])).tolist() == [-1.0, 0.5, 1.0]


def test_the_displayed_rating_is_the_plain_mean_and_reads_against_the_usual_ratings():
    assert rules.displayed_rating(0.0, 0) == 0.0
    assert rules.displayed_rating(42.0, 10) == 4.2
    assert rules.rating_signal(4.2, 4.2, 0.8) == 0.0
    assert rules.rating_signal(5.0, 4.2, 0.8) == pytest.approx(1.0)
    assert rules.rating_signal(3.0, 4.2, 0.8) == -1.0  # clipped


def test_more_reviews_weigh_more_with_diminishing_returns():
    weights = [rules.review_weight(0.3, 0.5, n, 20.0) for n in (0, 5, 20, 80, 10_000)]
    assert weights[0] == 0.0
    assert weights[2] == pytest.approx(0.075)  # half the full weight at half_count
    assert all(a < b for a, b in zip(weights, weights[1:]))
    assert weights[-1] < 0.15 and weights[-1] == pytest.approx(0.15, rel=0.01)
    assert (weights[2] - weights[1]) / 15 > (weights[3] - weights[2]) / 60  # diminishing returns


def test_hype_is_in_mind_only_for_a_while_after_an_ad_was_seen():
    assert rules.hype_seen(100, 120, 30)
    assert not rules.hype_seen(80, 120, 30)
    assert rules.hype_seen(np.array([100, 80]), 120, 30).tolist() == [True, False]


@given(signed, st.floats(0.0, 1.0))
def test_hype_raises_the_bar(attitude, hype):
    plain = rules.expectation(attitude, 0.0, 0.5, 0.25)
    hyped = rules.expectation(attitude, hype, 0.5, 0.25)
    assert 0.0 <= plain <= hyped <= 1.0
    assert rules.expectation(1.0, 0.0, 0.5, 0.25) > rules.expectation(-1.0, 0.0, 0.5, 0.25)


def choice(attitude, aware, price, loyal_to):
    """The rule for one consumer (lists) and as a batch of one (arrays): both must agree."""
    one = rules.choice_probabilities(list(attitude), list(aware), list(price), list(loyal_to), **CHOICE)
    batch = rules.choice_probabilities(np.array([attitude], dtype=float), np.array([aware]),
                                       np.array(price, dtype=float), np.array([loyal_to], dtype=float), **CHOICE)
    assert one == pytest.approx(batch[0].tolist())
    return np.array(one)


def test_choice_is_a_logit_over_known_brands_and_walking_away():
    p = choice([0.5, 0.0], [True, True], [10.0, 10.0], [0, 0])
    assert p.sum() == pytest.approx(1.0)
    u = np.array([1.5, 0.0, -1.0])
    assert p == pytest.approx(np.exp(u) / np.exp(u).sum())
    unaware = choice([0.5, 0.9], [True, False], [10.0, 10.0], [0, 0])
    assert unaware[1] == 0.0
    nobody = choice([0.5, 0.9], [False, False], [10.0, 10.0], [0, 0])
    assert nobody.tolist() == [0.0, 0.0, 1.0]


def test_a_higher_price_loses_and_loyalty_wins():
    p = choice([0.2, 0.2], [True, True], [10.0, 12.0], [0, 0])
    assert p[0] > p[1]
    p = choice([0.2, 0.2], [True, True], [10.0, 10.0], [0, 1])
    assert p[1] > p[0]


@given(st.lists(st.tuples(signed, signed, st.booleans(), st.booleans()), min_size=1, max_size=20))
def test_choice_for_many_consumers_equals_choice_one_by_one(rows):
    attitude = np.array([[a, b] for a, b, _, _ in rows])
    aware = np.array([[x, y] for _, _, x, y in rows])
    batch = rules.choice_probabilities(attitude, aware, [10.0, 11.0], np.zeros((len(rows), 2)), **CHOICE)
    for i in range(len(rows)):
        one = choice(attitude[i].tolist(), aware[i].tolist(), [10.0, 11.0], [0.0, 0.0])
        assert batch[i] == pytest.approx(one)
        assert np.all((batch[i] >= 0) & (batch[i] <= 1))


def test_pick_is_the_inverse_cumulative_distribution():
    p = np.array([0.2, 0.5, 0.3])
    for u, index in zip((0.0, 0.19, 0.2, 0.69, 0.7, 0.999), [0, 0, 1, 1, 2, 2]):
        assert int(rules.pick(p, u)) == index
        assert rules.pick(p.tolist(), u) == index
    assert rules.pick(np.array([p, p]), np.array([0.1, 0.8])).tolist() == [0, 2]


def test_pick_frequencies_match_the_probabilities():
    p = np.array([0.1, 0.6, 0.3])
    u = np.random.default_rng(0).random(200_000)
    counts = np.bincount(rules.pick(np.broadcast_to(p, (len(u), 3)), u), minlength=3) / len(u)
    se = np.sqrt(p * (1 - p) / len(u))
    assert np.all(np.abs(counts - p) < 4 * se)


@given(unit, st.floats(0.0, 0.5), st.floats(-5.0, 5.0))
def test_experience_is_quality_plus_noise_within_zero_and_one(quality, spread, z):
    lived = rules.experience(quality, spread, z, False)
    assert 0.0 <= lived <= 1.0
    assert rules.experience(quality, 0.0, z, False) == quality
    assert rules.experience(quality, spread, z, True) == 0.0  # a failed product


@given(unit, unit, st.floats(0.0, 0.3), st.floats(0.0, 0.3), st.floats(0.01, 0.3))
def test_four_stars_or_more_exactly_when_satisfied(lived, expected, tolerance, delight, step):
    satisfied = rules.is_satisfied(lived, expected, tolerance)
    given_stars = rules.stars(lived, expected, tolerance, delight, step)
    assert given_stars in (1, 2, 3, 4, 5)
    assert (given_stars >= 4) == bool(satisfied)


def test_stars_grow_with_the_experience_against_the_expectation():
    stars = [rules.stars(x, 0.6, 0.1, 0.1, 0.1) for x in (0.0, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75)]
    assert stars == [1, 1, 2, 3, 4, 4, 5]
    # The same experience satisfies a modest expectation and disappoints a hyped one (Oliver 1980).
    assert rules.is_satisfied(0.6, 0.5, 0.05)
    assert not rules.is_satisfied(0.6, 0.8, 0.05)
    assert rules.stars(0.6, 0.5, 0.05, 0.1, 0.1) > rules.stars(0.6, 0.8, 0.05, 0.1, 0.1)


def test_most_dissatisfied_customers_do_not_complain_and_only_complaints_are_resolved():
    assert rules.service_outcome(True, 0.0, 0.0, 0.3, 1.0) == (False, False)
    assert rules.service_outcome(False, 0.5, 0.0, 0.3, 1.0) == (False, False)
    assert rules.service_outcome(False, 0.1, 0.2, 0.3, 0.5) == (True, True)
    assert rules.service_outcome(False, 0.1, 0.7, 0.3, 0.5) == (True, False)
    complained, recovered = rules.service_outcome(np.array([True, False, False]), np.array([0.0, 0.1, 0.1]),
                                                  np.array([0.0, 0.2, 0.7]), 0.3, 0.5)
    assert complained.tolist() == [False, True, True] and recovered.tolist() == [False, True, False]


@given(st.lists(st.integers(0, 1000), min_size=6, max_size=6), st.floats(0.0, 5.0))
def test_talk_weights_average_one_within_each_group(counts, extremity):
    weights = rules.talk_weights(counts, extremity)
    padded = np.array(counts, dtype=float) + 1.0
    for group in (slice(1, 4), slice(4, 6)):
        assert np.average(weights[group], weights=padded[group]) == pytest.approx(1.0)
    if extremity > 1e-6:  # the extremes talk most
        assert weights[1] > weights[3] and weights[5] > weights[4]


@given(st.floats(0.0, 0.1), st.floats(0.5, 2.0), st.floats(0.0, 4.0), unit)
def test_dissatisfied_share_multiplier_times_as_often(propensity, talk, multiplier, prompting):
    happy, happy_prompted = rules.share_probabilities(propensity, talk, 1.0, multiplier, prompting)
    unhappy, unhappy_prompted = rules.share_probabilities(propensity, talk, 0.0, multiplier, prompting)
    assert happy == pytest.approx(propensity * talk)
    assert unhappy == pytest.approx(min(1.0, multiplier * propensity * talk))
    for spontaneous, prompted in ((happy, happy_prompted), (unhappy, unhappy_prompted)):
        assert 0.0 <= spontaneous + prompted <= 1.0 + 1e-12
        assert prompted == pytest.approx((1 - spontaneous) * prompting)


def test_review_prompts_only_add_sharing():
    without = sum(rules.share_probabilities(0.1, 1.0, 1.0, 4.0, 0.0))
    with_prompts = sum(rules.share_probabilities(0.1, 1.0, 1.0, 4.0, 0.5))
    assert with_prompts == pytest.approx(0.1 + 0.9 * 0.5) and with_prompts > without


def test_net_sentiment_is_what_was_said_positive_less_negative():
    assert rules.net_sentiment(3, 1) == 0.5
    assert rules.net_sentiment(0, 0) == 0.0
    assert rules.net_sentiment(np.array([3, 0, 0]), np.array([1, 0, 2])).tolist() == [0.5, 0.0, -1.0]


def test_purchase_rates_scale_the_need_and_stay_a_probability():
    assert rules.need_probability(1.0, 60.0) == pytest.approx(1 / 60)
    assert rules.need_probability(2.0, 60.0) == pytest.approx(2 / 60)
    assert rules.need_probability(np.array([0.5, 200.0]), 60.0).tolist() == [pytest.approx(1 / 120), 1.0]


def test_a_repeat_purchase_of_the_same_brand_is_a_retention():
    assert rules.is_retention(1, 1)
    assert not rules.is_retention(0, 1)
    assert not rules.is_retention(-1, 0)


RULES_ON_ROWS = {  # each rule applied to (attitude, signal, weight, quality, expectation, z)
    "move": lambda a, s, w, q, e, z: rules.move_attitude(a, s, w),
    "expect": lambda a, s, w, q, e, z: rules.expectation(a, w * 0.3, 0.5, 0.25),
    "experience": lambda a, s, w, q, e, z: rules.experience(q, w * 0.3, z, s > 0.8),
    "satisfied": lambda a, s, w, q, e, z: rules.is_satisfied(q, e, 0.05),
    "stars": lambda a, s, w, q, e, z: rules.stars(q, e, 0.05, 0.1, 0.1),
    "signal": lambda a, s, w, q, e, z: rules.stars_signal(rules.stars(q, e, 0.05, 0.1, 0.1)),
    "share": lambda a, s, w, q, e, z: rules.share_probabilities(w * 0.2, 1.0 + s, q > 0.5, 4.0, e)[0],
    "prompted": lambda a, s, w, q, e, z: rules.share_probabilities(w * 0.2, 1.0 + s, q > 0.5, 4.0, e)[1],
    "rating_signal": lambda a, s, w, q, e, z: rules.rating_signal(1 + 4 * q, 4.2, 0.8),
    "need": lambda a, s, w, q, e, z: rules.need_probability(q * 3, 60.0),
    "exposure": lambda a, s, w, q, e, z: rules.exposure_probability(w, q * 2),
    "meeting": lambda a, s, w, q, e, z: rules.meeting_probability(w, q * 2),
    "review_weight": lambda a, s, w, q, e, z: rules.review_weight(w, q, 17, 10.0),
}


@given(st.lists(st.tuples(signed, signed, unit, unit, unit, st.floats(-3, 3)), min_size=1, max_size=30))
def test_every_rule_gives_the_same_on_an_array_as_one_by_one(rows):
    columns = [np.array(col) for col in zip(*rows)]
    for name, rule in RULES_ON_ROWS.items():
        on_array = rule(*columns)
        for i, row in enumerate(rows):
            assert on_array[i] == pytest.approx(rule(*row), abs=1e-12), name
