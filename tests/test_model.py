"""The model's invariants, its day, its record and its network."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.agents import ACTIONS, Stage, ads_seen
from sim.network import build
from sim.record import columns

MODEL_COLUMNS = (["step", "stage_dormant", "stage_stimulus", "stage_zmot", "stage_fmot", "stage_smot",
                  "stage_umot", "purchases", "experiences_satisfied", "experiences_dissatisfied",
                  "shares_positive", "shares_negative", "adopters"]
                 + [f"{c}_{b}" for b in ("ours", "theirs") for c in
                    ("sentiment", "rating", "aware", "purchases", "market_share", "shares_positive",
                     "shares_negative", "revenue")])
STAGES = [c for c in MODEL_COLUMNS if c.startswith("stage_")]


def small(**overrides):
    base = {"population.size": 300, "steps": 60}
    base.update(overrides)
    return sim.load("baseline", base)


def test_the_table_has_the_shared_columns_one_row_a_day():
    result = sim.run(small())
    assert set(MODEL_COLUMNS) <= set(result.table.columns)
    assert list(result.table.columns) == columns(["ours", "theirs"])
    assert result.table["step"].tolist() == list(range(61))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(2, 120), kind=st.sampled_from(["small_world", "scale_free", "random", "complete"]),
       multiplier=st.floats(0.0, 8.0), base=st.floats(0.0, 0.12), prompting=st.floats(0.0, 1.0),
       quality=st.floats(0.0, 1.0), spread=st.floats(0.0, 0.5), n_brands=st.integers(1, 3),
       seed=st.integers(0, 2**31))
def test_invariants_hold_whatever_the_parameters(size, kind, multiplier, base, prompting, quality, spread,
                                                 n_brands, seed):
    names = ["a", "b", "c"][:n_brands]
    scenario = sim.loads("", overrides={
        "market.brands": names, "population.size": size, "network.kind": kind, "steps": 40, "seed": seed,
        "sharing.negative_multiplier": multiplier, "sharing.base_propensity": base,
        "brands.a.review_prompting": prompting, "brands.a.quality": quality, "brands.a.quality_spread": spread,
        "journey.purchase_cycle_days": 5.0, "network.mean_degree": 4.0})
    model = sim.MarketModel(scenario)
    for _ in range(40):
        model.step()
        assert np.all((model.attitude >= -1.0) & (model.attitude <= 1.0))
        assert np.all((model.expectation >= 0.0) & (model.expectation <= 1.0))
        assert np.all((model.ad_exposure >= 0.0) & (model.ad_exposure <= 1.0))
    table = model.table()
    assert not table.isna().any().any()
    assert (table[STAGES].sum(axis=1) == size).all()
    assert table["adopters"].is_monotonic_increasing and table["adopters"].iloc[-1] <= size
    for name in names:
        assert table[f"sentiment_{name}"].between(-1, 1).all()
        assert table[f"aware_{name}"].between(0, 1).all()
        assert table[f"market_share_{name}"].between(0, 1).all()
        rated = table[f"reviews_{name}"] > 0  # a platform shows no rating before the first review
        assert table.loc[rated, f"rating_{name}"].between(1, 5).all()
        assert (table.loc[~rated, f"rating_{name}"] == 0).all()
        stars = table[[f"stars_{k}_{name}" for k in range(1, 6)]].sum(axis=1)
        assert (table[f"reviews_{name}"].diff().iloc[1:] == stars.iloc[1:]).all()
        assert table[f"attitude_{name}"].between(-1, 1).all()
        assert (table[f"recoveries_{name}"] <= table[f"complaints_{name}"]).all()
    shares = table[[f"market_share_{n}" for n in names]].sum(axis=1)
    assert np.all(np.isclose(shares, 1.0) | (shares == 0.0))
    assert (table["purchases"] == table[[f"purchases_{n}" for n in names]].sum(axis=1)).all()


def test_same_seed_same_table_different_seed_different_table():
    a, b, c = sim.run(small(), seed=7), sim.run(small(), seed=7), sim.run(small(), seed=8)
    assert a.csv() == b.csv()
    assert a.csv() != c.csv()


def test_attitude_is_the_mean_attitude_of_those_aware_and_sentiment_what_was_said():
    model = sim.MarketModel(small())
    for _ in range(30):
        model.step()
    table = model.table()
    row = table.iloc[-1]
    for b, name in enumerate(model.brand_names):
        aware = model.aware[:, b]
        assert row[f"attitude_{name}"] == pytest.approx(model.attitude[aware, b].mean())
        assert row[f"aware_{name}"] == pytest.approx(aware.mean())
        # Net sentiment over the last 28 days of conversation (the burn-in's last days included).
        said = [(pos[b], neg[b]) for pos, neg in model.recent_talk]
        positive, negative = sum(p for p, _ in said), sum(n for _, n in said)
        assert row[f"sentiment_{name}"] == pytest.approx((positive - negative) / (positive + negative))
        window = table.iloc[-28:]
        assert positive == window[f"shares_positive_{name}"].sum()


def test_economics_add_up():
    result = sim.run(small(**{"brands.theirs.price": 8.0, "brands.ours.acquisition_cost": 40.0,
                              "brands.ours.retention_cost": 6.0}))
    t = result.table
    for name, price in (("ours", 10.0), ("theirs", 8.0)):
        assert (t[f"revenue_{name}"] == t[f"purchases_{name}"] * price).all()
        assert (t[f"acquisitions_{name}"] + t[f"retentions_{name}"] == t[f"purchases_{name}"]).all()
    assert (t["acquisition_cost_ours"] == 40.0 * t["acquisitions_ours"]).all()
    assert (t["retention_cost_ours"] == 6.0 * t["retentions_ours"]).all()
    assert t["retentions_ours"].sum() > 0  # the loyalty loop brings customers back within 60 days


def test_a_story_shared_today_is_heard_tomorrow(tmp_path):
    (tmp_path / "pair.txt").write_text("teller listener\n")
    scenario = sim.loads('steps = 3\n[network]\nkind = "file"\nfile = "pair.txt"\n'
                         '[market]\nburn_in_days = 0\n[journey]\npurchase_cycle_days = 1000.0\n[wom]\nreach = 1.0\ntrigger = 0.0\n'
                         '[brands.ours]\nad_intensity = 0.0\n[brands.theirs]\nad_intensity = 0.0\n',
                         path=tmp_path / "s.toml")
    model = sim.MarketModel(scenario)
    teller, listener = model.consumers
    teller.stage, teller.bought, teller.satisfied, teller.rating = Stage.UMOT, 0, False, 1
    teller.propensity = 1.0
    before = float(listener.attitude[0])
    model.step()  # day 1: the teller shares; the story waits for the night
    assert model.today["shares_negative_ours"] == 1
    assert listener.inbox == [(0, 1)]
    assert float(listener.attitude[0]) == before
    model.step()  # day 2: the listener hears it
    assert listener.inbox == [] and listener.aware[0]
    assert float(listener.attitude[0]) < before


def test_interventions_change_the_lever_on_their_day():
    model = sim.MarketModel(sim.load("quality_crisis", {"population.size": 50}))
    quality = []
    for _ in range(241):
        model.step()
        quality.append(model.levers[0]["quality"])
    assert quality[118] == 0.68 and quality[119] == 0.35  # step 120 is index 119
    assert quality[238] == 0.35 and quality[239] == 0.68


def test_an_ad_burst_reaches_the_consumers_on_its_day():
    scenario = sim.loads('[population]\nsize = 200\n[brands.ours]\nad_intensity = 0.0\n'
                         '[[events]]\nday = 5\nbrand = "ours"\nlever = "ad_intensity"\nvalue = 0.5\n')
    model = sim.MarketModel(scenario)
    for _ in range(4):
        model.step()
    assert (model.ad_exposure[:, 0] == 0).all() and all(c.ad_any < 1e-9 or c.ad_chances[0] == 0
                                                         for c in model.consumers)
    model.step()
    assert (model.ad_exposure[:, 0] > 0.3).all()
    assert all(c.ad_chances[0] > 0.3 for c in model.consumers)


def test_each_stage_has_its_action():
    assert [(stage.name, action.__name__) for stage, action in zip(Stage, ACTIONS)] == [
        ("DORMANT", "wait_for_need"), ("STIMULUS", "respond_to_stimulus"), ("ZMOT", "research"),
        ("FMOT", "choose"), ("SMOT", "experience"), ("UMOT", "share")]


def test_ads_seen_given_one_is_seen_keeps_each_brands_chance():
    import random
    draw, chances = random.Random(3).random, (0.1, 0.3, 0.05)
    any_ad = 1 - np.prod([1 - c for c in chances])
    n, counts = 200_000, np.zeros(3)
    for _ in range(n):
        if draw() < any_ad:
            seen = ads_seen(chances, draw)
            assert seen
            counts[seen] += 1
    p = np.array(chances)
    assert np.all(np.abs(counts / n - p) < 4 * np.sqrt(p * (1 - p) / n))


def test_young_consumers_live_twice_the_micro_moments():
    model = sim.MarketModel(sim.load("mobile_micro_moments", {"population.size": 4000}))
    young = model.young
    assert 0.45 < young.mean() < 0.55
    smartphone = 0.65
    # attention = mix . reach; the young's smartphone reach is doubled (seed 003)
    assert model.attention[young].mean() - model.attention[~young].mean() == pytest.approx(smartphone, abs=0.02)
    assert model.ad_exposure[young, 1].mean() > model.ad_exposure[~young, 1].mean()


def test_an_edge_list_file_is_used_as_given(tmp_path):
    edges = [("ann", "bob"), ("bob", "cat"), ("cat", "dan"), ("dan", "ann"), ("eve", "ann")]
    (tmp_path / "net.txt").write_text("# who knows whom\n" + "\n".join(f"{a} {b}" for a, b in edges)
                                      + "\nfay\n")
    scenario = sim.loads('[network]\nkind = "file"\nfile = "net.txt"\n', path=tmp_path / "s.toml")
    assert scenario.params["population.size"] == 6
    model = sim.MarketModel(scenario)
    labels = ["ann", "bob", "cat", "dan", "eve", "fay"]
    for i, label in enumerate(labels):
        expected = {labels.index(b) for a, b in edges if a == label} | {labels.index(a) for a, b in edges
                                                                       if b == label}
        assert set(model.contacts.of(i).tolist()) == expected
        assert set(model.contacts.audience(i, model.rng).tolist()) == expected
    assert len(model.contacts.of(5)) == 0
    assert len(model.consumers) == 6


@pytest.mark.parametrize("kind", ["small_world", "scale_free", "random"])
def test_networks_have_the_mean_degree_asked_for(kind):
    contacts = build(kind, 5000, 10.0, 0.1, seed=1)
    assert contacts.degrees().mean() == pytest.approx(10.0, rel=0.05)
    i = 17
    assert i not in contacts.of(i).tolist()
    for j in contacts.of(i).tolist():  # undirected: contacts know each other
        assert i in contacts.of(j).tolist()


def test_the_fully_mixed_network_has_no_edge_list_and_runs_at_100000_consumers():
    model = sim.MarketModel(sim.load("baseline", {"population.size": 100_000, "network.kind": "complete",
                                                  "market.burn_in_days": 2}))  # the network is the point
    assert model.contacts.mixed and model.contacts.indices is None
    audience = np.concatenate([model.contacts.audience(5, model.rng) for _ in range(2000)])
    assert audience.mean() == pytest.approx(50_000, rel=0.05) and 5 not in audience
    assert len(audience) / 2000 == pytest.approx(10.0, rel=0.05)
    model.step()
    assert model.table()[STAGES].iloc[-1].sum() == 100_000


def test_compare_uses_common_random_numbers():
    comparison = sim.compare(small(), {"brands.ours.review_prompting": 0.0})  # a change that changes nothing
    assert comparison.base.csv() == comparison.changed.csv()
    diff = sim.compare(small(), {"brands.ours.quality": 0.3}).difference()
    assert isinstance(diff, pd.DataFrame) and diff["step"].tolist() == list(range(61))
    assert diff["experiences_dissatisfied"].sum() > 0


def test_reviews_added_at_once_make_the_same_pool_as_one_at_a_time():
    from sim.model import ReviewPool

    rng = np.random.default_rng(3)
    brands, stars = rng.integers(0, 3, size=200), rng.integers(1, 6, size=200)
    one, many = ReviewPool(3), ReviewPool(3)
    for b, s in zip(brands.tolist(), stars.tolist()):
        one.add(b, s)
    many.add_many(brands[:50], stars[:50])
    many.add_many(brands[50:], stars[50:])
    assert (many.counts == one.counts).all()
    for b in range(3):
        assert one.count(b) == (brands == b).sum()
        assert one.rating(b) == pytest.approx(stars[brands == b].mean())
    assert ReviewPool(1).rating(0) == 0.0 and ReviewPool(1).displayed() == [(0, 0.0)]


def test_scheduled_events_apply_on_their_day_like_the_scenarios_own():
    from sim.params import Event
    scenario = sim.load("baseline", {"engine": "array", "population.size": 300, "steps": 10,
                                     "market.burn_in_days": 5})
    model = sim.build(scenario)
    model.schedule([Event(3, "ours", "price", 12.0)])
    prices = []
    for _ in range(5):
        model.step()
        prices.append(model.levers[0]["price"])
    assert prices == [10.0, 10.0, 12.0, 12.0, 12.0]
    with pytest.raises(ValueError, match="unknown lever"):
        model.schedule([Event(4, "ours", "charm", 1.0)])
