"""The array engine's compiled loops (sim.kernels) compute what the rules' NumPy forms compute, bit for bit.

Each kernel is checked against the vectorised code it replaced, written here with the rules of
sim/rules.py on NumPy arrays: the same draws give the same picks, choices, ratings and attitudes,
exactly (``array_equal``, not ``allclose``). The engine's recorded tables were compared byte for byte
with the NumPy-only engine on every shipped scenario when the kernels came in; these tests keep each
loop honest from now on.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim import kernels, network, rules

CHOICE = dict(reference_price=10.0, attitude_weight=3.0, price_weight=2.0, loyalty_bonus=0.5, walk_away_utility=-1.0)
SEEDS = st.integers(0, 2**32 - 1)


@settings(max_examples=60, deadline=None)
@given(count=st.integers(0, 300_000),
       chance=st.one_of(st.floats(0.0, 1.0), st.sampled_from([1e-18, 1e-300, 5e-324, 0.999999, 1.0, 3.0])),
       seed=SEEDS)
def test_compiled_picks_are_numpys(count, chance, seed):
    """bernoulli_picks drawn in the kernel: the same picks, and the generator left in the same state."""
    numpy_rng, compiled_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    expected = network.bernoulli_picks(numpy_rng, count, chance)
    got = network.bernoulli_picks(compiled_rng, count, chance, kernels.draw_picks)
    assert got.dtype == expected.dtype == np.int64
    assert np.array_equal(got, expected)
    assert numpy_rng.random() == compiled_rng.random()


def test_compiled_picks_span_several_batches():
    """A batch of exponentials can end before the last position: the next batch goes on from there."""
    count, chance = 2_000_000, 0.3
    _, scale, _ = network.bernoulli_plan(count, chance)
    numpy_rng, compiled_rng = np.random.default_rng(5), np.random.default_rng(5)
    expected = network.bernoulli_picks(numpy_rng, count, chance)
    got = kernels.draw_picks(compiled_rng, count, network.GAPS, scale, 1000)  # a batch far too small: many
    again = np.random.default_rng(5)
    parts, start = [], -1.0
    while not parts or start < count:  # the NumPy arithmetic, batch by batch of 1000
        positions = network._positions(again, 1000, scale, start)
        parts.append(positions)
        start = float(positions[-1])
    whole = np.concatenate(parts)
    assert np.array_equal(got, whole[whole < count].astype(np.int64))
    assert len(expected) == len(got) or abs(len(expected) - len(got)) < 5 * len(got) ** 0.5  # same law


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS, count=st.integers(1, 400), brands=st.integers(1, 4))
def test_the_compiled_choice_is_the_rule(seed, count, brands):
    """FMOT: choice_utilities, NumPy's exponential and choose give rules.pick of rules.choice_probabilities."""
    rng = np.random.default_rng(seed)
    attitude = rng.uniform(-1, 1, (count, brands))
    aware = rng.random((count, brands)) < 0.7
    price = rng.uniform(5.0, 20.0, brands)
    last_brand = rng.integers(-1, brands, count).astype(np.int16)
    satisfied = rng.random(count) < 0.6
    u = rng.random(count)
    loyal_to = np.where(satisfied, last_brand, -1)[:, None] == np.arange(brands)
    expected = rules.pick(rules.choice_probabilities(attitude, aware, price, loyal_to, **CHOICE), u)
    weights = np.empty((brands + 1, count))
    kernels.choice_utilities(np.arange(count), brands, aware.reshape(-1), attitude.reshape(-1),
                             np.log(price / CHOICE["reference_price"]), last_brand, satisfied,
                             CHOICE["attitude_weight"], CHOICE["price_weight"], CHOICE["loyalty_bonus"],
                             CHOICE["walk_away_utility"], weights)
    got = kernels.choose(np.exp(weights, out=weights), u)
    assert np.array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS, count=st.integers(1, 400))
def test_the_compiled_experience_is_the_rules(seed, count):
    """SMOT: experience, satisfaction, stars, service and the attitude, as the rules give them on arrays."""
    rng = np.random.default_rng(seed)
    n, population = 2, count + 50
    ids = np.sort(rng.choice(population, count, replace=False))
    bought = rng.integers(0, n, population).astype(np.int16)
    quality, spread = rng.uniform(0.3, 0.9, n), rng.uniform(0.05, 0.3, n)
    failure, recovery = rng.uniform(0.0, 0.1, n), rng.uniform(0.0, 1.0, n)
    z, u_fail, u_complain, u_resolve = rng.standard_normal(count), rng.random(count), rng.random(count), rng.random(count)
    expectation, attitude = rng.random(population * n), rng.uniform(-1, 1, population * n)
    tolerance, delight, step, complaint_rate, recovered_rating, weight = 0.1, 0.2, 0.15, 0.3, 4, 0.3
    brand = bought[ids]
    pair = ids * n + brand
    lived = rules.experience(quality[brand], spread[brand], z, u_fail < failure[brand])
    satisfied = rules.is_satisfied(lived, expectation[pair], tolerance)
    rating = rules.stars(lived, expectation[pair], tolerance, delight, step)
    complained, recovered = rules.service_outcome(satisfied, u_complain, u_resolve, complaint_rate, recovery[brand])
    rating = np.where(recovered, recovered_rating, rating).astype(np.int8)
    now = rules.move_attitude(attitude[pair], rules.stars_signal(rating), weight)

    last_brand, flags = np.full(population, -1, dtype=np.int16), np.zeros(population, dtype=bool)
    recovered_flags, ratings = np.zeros(population, dtype=bool), np.zeros(population, dtype=np.int8)
    brand_counts, star_counts, change = np.zeros((2, n), dtype=np.int64), np.zeros(6, dtype=np.int64), np.empty(count)
    compiled_attitude = attitude.copy()
    got_brand, happy = kernels.experience_day(ids, n, bought, quality, spread, failure, recovery, z, u_fail,
                                              u_complain, u_resolve, expectation, compiled_attitude, tolerance,
                                              delight, step, complaint_rate, recovered_rating, weight, last_brand,
                                              flags, recovered_flags, ratings, brand_counts, star_counts, change)
    assert np.array_equal(got_brand, brand)
    assert happy == np.count_nonzero(satisfied | recovered)
    assert np.array_equal(flags[ids], satisfied | recovered)
    assert np.array_equal(recovered_flags[ids], recovered)
    assert np.array_equal(ratings[ids], rating)
    assert np.array_equal(compiled_attitude[pair], now)
    assert np.array_equal(change, now - attitude[pair])
    assert np.array_equal(brand_counts, [np.bincount(brand[recovered], minlength=n),
                                         np.bincount(brand[complained], minlength=n)])
    assert np.array_equal(star_counts, np.bincount(rating, minlength=6))


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS, count=st.integers(1, 400), multiplier=st.sampled_from([1.0, 2.0, 4.0, 8.0]))
def test_the_compiled_sharing_is_the_rule(seed, count, multiplier):
    """UMOT: who tells, who posts, who is asked, as rules.share_probabilities gives them on arrays."""
    rng = np.random.default_rng(seed)
    n, population = 2, count + 20
    ids = np.sort(rng.choice(population, count, replace=False))
    bought = rng.integers(0, n, population).astype(np.int16)
    satisfied = rng.random(population) < 0.8
    propensity, talk_weight = rng.uniform(0, 0.4, population), rng.uniform(0.5, 2.0, 6)
    rating, prompting = rng.integers(1, 6, population).astype(np.int8), np.array([0.0, 0.3])
    u, u_public, public_fraction = rng.random(count), rng.random(count), 0.3
    brand = bought[ids]
    spontaneous, prompted = rules.share_probabilities(propensity[ids], talk_weight[rating[ids]],
                                                      satisfied[ids].astype(float), multiplier, prompting[brand])
    told = u < spontaneous
    posted = (told & (u_public < public_fraction)) | (~told & (u < spontaneous + prompted))
    shared = told | posted

    counts = np.zeros((3, n), dtype=np.int64)
    outs = [np.empty(count, dtype=dtype) for dtype in (np.int64, np.int16, np.int8, bool, bool)]
    compiled_bought = bought.copy()
    k = kernels.share_day(ids, compiled_bought, satisfied, propensity, talk_weight, rating, prompting, multiplier,
                          public_fraction, u, u_public, counts, *outs)
    assert np.array_equal(outs[0][:k], ids[shared])
    assert np.array_equal(outs[1][:k], brand[shared])
    assert np.array_equal(outs[2][:k], rating[ids[shared]])
    assert np.array_equal(outs[3][:k], told[shared]) and np.array_equal(outs[4][:k], posted[shared])
    assert (compiled_bought[ids] == -1).all()
    happy = satisfied[ids]
    assert np.array_equal(counts, [np.bincount(brand[shared & happy], minlength=n),
                                   np.bincount(brand[shared & ~happy], minlength=n),
                                   np.bincount(brand[~told & (prompting[brand] > 0)], minlength=n)])


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS, size=st.integers(1, 3000), brands=st.integers(1, 3), trigger=st.sampled_from([0.0, 0.3, 1.0]))
def test_the_compiled_ads_are_the_rules(seed, size, brands, trigger):
    """ads_day: per attention group and brand, the picks thinned to each one's chance, the ads' effect
    (``rules.move_attitude`` toward +1) and whom they trigger, as NumPy draws and computes them."""
    from sim.engine import draw_groups, strata

    setup = np.random.default_rng(seed)
    chance = setup.uniform(0.0, 0.2, (size, brands)) * (setup.random((size, brands)) < 0.9)
    groups, group_brand = [], []
    for b in range(brands):
        for members, top in strata(chance[:, b], 1.25, 50.0):
            groups.append((members * brands + b, top, chance[members, b] / top))
            group_brand.append(b)
    drawn = draw_groups(groups)
    aware = setup.random(size * brands) < 0.5
    attitude, last_ad = setup.uniform(-1, 1, size * brands), np.zeros(size * brands, dtype=np.int64)
    rng = np.random.default_rng(seed + 1)
    kept, gained = np.empty(len(groups), dtype=np.int64), np.zeros(brands, dtype=np.int64)
    got_aware, got_attitude, got_last = aware.copy(), attitude.copy(), last_ad.copy()
    flat, change, triggered = kernels.ads_day(rng, *drawn, kept, brands, got_aware, got_last, got_attitude, 9,
                                              0.2, gained, trigger)

    numpy_rng = np.random.default_rng(seed + 1)
    parts = []
    for members, top, ratio in groups:
        picks = network.bernoulli_picks(numpy_rng, len(members), top)
        parts.append(members[picks[numpy_rng.random(len(picks)) < ratio[picks]]])
    expected = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    assert np.array_equal(flat, expected)
    assert np.array_equal(kept, [len(part) for part in parts])
    moved = rules.move_attitude(attitude[expected], 1.0, 0.2)
    assert np.array_equal(change, moved - attitude[expected])
    assert np.array_equal(got_attitude[expected], moved) and got_aware[expected].all() and (got_last[expected] == 9).all()
    assert np.array_equal(gained, np.bincount(expected[~aware[expected]] % brands, minlength=brands))
    assert np.array_equal(triggered, expected[numpy_rng.random(len(expected)) < trigger] // brands)
    assert rng.random() == numpy_rng.random()


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, size=st.integers(1, 400), days=st.integers(2, 40), width=st.integers(1, 9),
       mean=st.sampled_from([1.5, 7.0, 30.0, 1e6]))
def test_the_calendar_gives_each_day_its_consumers_in_id_order(seed, size, days, width, mean):
    """Calendar (a ring of compiled blocks, a dict beyond it): day after day, who is due is exactly who
    was entered for that day, in id order, however small the ring and its blocks; every consumer
    leaves and re-enters, as in a market, so blocks are reused."""
    from sim.engine import Calendar, _load_kernels

    _load_kernels()
    rng = np.random.default_rng(seed)
    calendar, expected = Calendar(size, days=days, width=width), {}
    waiting = np.arange(size)
    for today in range(3 * days + 5):
        entering = np.sort(rng.choice(waiting, rng.integers(0, len(waiting) + 1), replace=False))
        waiting = np.setdiff1d(waiting, entering)
        wait = rng.geometric(1.0 / mean, len(entering))
        calendar.add(entering, wait, today)
        for who, w in zip(entering.tolist(), wait.tolist()):
            expected.setdefault(today + w, []).append(who)
        due = calendar.take(today + 1)
        assert due.dtype == np.int64
        assert np.array_equal(due, sorted(expected.pop(today + 1, [])))
        waiting = np.union1d(waiting, due)
    in_use = len(calendar.free) - calendar.top[0]  # blocks taken back are free again; a day's blocks are full
    assert in_use == sum(-(-int(n) // width) for n in calendar.size)  # but its newest


def test_a_calendar_refuses_a_consumer_entered_twice():
    """Blocks suffice for each consumer once; a second entry before the first is due is a bug, said so
    rather than writing past the blocks."""
    from sim.engine import Calendar, _load_kernels

    _load_kernels()
    calendar = Calendar(2, days=4, width=1)
    with pytest.raises(RuntimeError, match="already in"):
        for today in range(10):
            calendar.add(np.array([0, 1]), np.array([1, 2]), today)


def test_the_cache_of_the_compiled_loops_covers_rules_py(tmp_path, monkeypatch):
    """numba keys a cached function on its own file only; ours also on rules.py, whose rules the
    loops compile: a changed rule is never run from a stale cache."""
    locator = kernels.see_ads._cache._impl._locator
    assert isinstance(locator, kernels._RulesStamp)
    stamp = locator.get_source_stamp()
    changed = tmp_path / "rules.py"
    changed.write_text(Path(rules.__file__).read_text() + "\n# a changed rule\n")
    monkeypatch.setattr(rules, "__file__", str(changed))
    assert locator.get_source_stamp() != stamp


def test_an_array_market_copies_and_runs_on():
    """The compiled loops are not part of a model: a model deep-copies, and the copy runs the same days."""
    model = sim.build("baseline", overrides={"population.size": 300, "engine": "array", "steps": 20})
    for _ in range(5):
        model.step()
    twin = copy.deepcopy(model)
    for _ in range(10):
        model.step()
        twin.step()
    assert model.table().equals(twin.table())
