"""Behaviour the model must show, tested over replicates with tolerances from standard errors.

Seeds are 0..R-1, never hand-picked; each assertion compares an estimate with
its expected value (or zero) in units of the estimate's standard error.
"""

import numpy as np
import pytest

import sim

Z = 3.0  # standard errors of tolerance: a one-sided 3-sigma test


def paired_differences(scenario, changes, metric, replicates):
    """metric(changed run) - metric(base run), for seeds 0..replicates-1 (common random numbers; a brand
    lever changes on day 0 of the same settled market, as in the app's what-ifs)."""
    changed = sim.what_if(scenario, changes)
    return np.array([metric(sim.run(changed, seed=s).table) - metric(sim.run(scenario, seed=s).table)
                     for s in range(replicates)])


def mean_and_se(x):
    return x.mean(), x.std(ddof=1) / np.sqrt(len(x))


@pytest.mark.parametrize("multiplier", [2.0, 4.0])
def test_dissatisfied_experiences_are_shared_multiplier_times_as_often(multiplier):
    scenario = sim.load("baseline", {"sharing.negative_multiplier": multiplier, "population.size": 1500})
    totals = sum(sim.run(scenario, seed=s).table[["experiences_satisfied", "experiences_dissatisfied",
                                                  "shares_positive", "shares_negative"]].sum()
                 for s in range(3))
    happy_rate = totals["shares_positive"] / totals["experiences_satisfied"]
    unhappy_rate = totals["shares_negative"] / totals["experiences_dissatisfied"]
    # log of a ratio of two binomial proportions: var = (1-p1)/x1 + (1-p2)/x2
    se = np.sqrt((1 - unhappy_rate) / totals["shares_negative"] + (1 - happy_rate) / totals["shares_positive"])
    assert abs(np.log(unhappy_rate / happy_rate) - np.log(multiplier)) < Z * se


def test_negative_word_of_mouth_lowers_a_weak_brands_sales():
    weak = sim.load("baseline", {"population.size": 1000, "brands.ours.quality": 0.5,
                                 "brands.theirs.quality": 0.68, "brands.ours.initial_awareness": 1.0,
                                 "brands.theirs.initial_awareness": 1.0, "sharing.negative_multiplier": 1.0})
    changed = weak.with_overrides({"sharing.negative_multiplier": 4.0})
    runs = [(sim.run(weak, seed=s).table, sim.run(changed, seed=s).table) for s in range(20)]
    # Bad news reaches the research of those who might buy: the weak brand wins fewer customers...
    won = np.array([b["acquisitions_ours"].sum() - a["acquisitions_ours"].sum() for a, b in runs])
    mean, se = mean_and_se(won)
    assert mean + Z * se < 0, f"customers won {mean:.0f} +- {se:.0f}"
    # ...and sells less, although its loyal customers, who rebuy without research, soften the blow
    # (a smaller effect in noisier totals: tested one-sided at two standard errors).
    sold = np.array([b["purchases_ours"].sum() - a["purchases_ours"].sum() for a, b in runs])
    mean, se = mean_and_se(sold)
    assert mean + 2 * se < 0, f"sales {mean:.0f} +- {se:.0f}"


def test_review_prompting_raises_the_brands_public_rating():
    scenario = sim.load("baseline", {"population.size": 1000, "steps": 240})
    d = paired_differences(scenario, {"brands.ours.review_prompting": 0.3},
                           lambda t: t["rating_ours"].iloc[-1], replicates=6)
    mean, se = mean_and_se(d)
    assert mean - Z * se > 0, f"rating change {mean:.2f} +- {se:.2f}"
    # ... and only ours: theirs is unchanged within noise
    d_theirs = paired_differences(scenario, {"brands.ours.review_prompting": 0.3},
                                  lambda t: t["rating_theirs"].iloc[-1], replicates=6)
    m, s = mean_and_se(d_theirs)
    assert abs(m) < Z * s + 0.05


def test_hype_raises_expectations_and_disappoints():
    scenario = sim.load("baseline", {"population.size": 1000, "steps": 180, "ads.hype": 0.0})
    d = paired_differences(scenario, {"ads.hype": 1.0, "brands.ours.ad_intensity": 0.3},
                           lambda t: t["experiences_dissatisfied"].sum() / (
                               t["experiences_dissatisfied"].sum() + t["experiences_satisfied"].sum()),
                           replicates=4)
    mean, se = mean_and_se(d)
    assert mean - Z * se > 0


def test_service_recovery_turns_bad_experiences_round():
    scenario = sim.load("service_recovery", {"population.size": 1000, "steps": 240})
    t = sim.run(scenario).table.iloc[61:]  # after ours moves its service to messaging (day 60)
    assert t["recoveries_ours"].sum() > 3 * t["recoveries_theirs"].sum()
    assert (t["recoveries_ours"] <= t["complaints_ours"]).all()
    # Most dissatisfied customers never complain (service.complaint_rate = 0.3): only complaints are resolved.
    assert t["complaints_ours"].sum() < 0.5 * t["experiences_dissatisfied"].sum()
    patchy = sim.load("baseline", {"population.size": 4000, "steps": 240, "engine": "array",
                                   "brands.ours.quality_spread": 0.22, "brands.ours.service_recovery": 0.1})
    d = paired_differences(patchy, {"brands.ours.service_recovery": 0.9},
                           lambda t: t["shares_negative_ours"].sum(), replicates=8)
    mean, se = mean_and_se(d)
    assert mean + Z * se < 0, f"negative stories {mean:.1f} +- {se:.1f}"  # better service, less bad press


def test_a_quality_crisis_shows_in_sentiment_before_market_share():
    lags = []
    for seed in range(4):
        t = sim.run("quality_crisis", seed=seed, overrides={"steps": 240}).table
        before = t.iloc[119]
        after = t.iloc[120:]
        sentiment_day = after["step"][after["sentiment_ours"] < before["sentiment_ours"] - 0.05].iloc[0]
        share_day = after["step"][after["market_share_ours"] < before["market_share_ours"] - 0.05].iloc[0]
        lags.append(share_day - sentiment_day)
    mean, se = mean_and_se(np.array(lags, dtype=float))
    assert mean - Z * se > 0, f"market share fell {mean:.1f} +- {se:.1f} days after sentiment"


def test_the_baseline_looks_like_a_market():
    result = sim.run("baseline")
    t, summary = result.table.iloc[1:], result.summary()
    n = summary["population"]
    later = t.iloc[60:]  # after the first purchase cycle
    assert (later["stage_dormant"] / n).mean() > 0.75  # most consumers are dormant on a given day
    assert 0.005 < (later["stage_zmot"] / n).mean() < 0.05  # a few percent are researching
    assert t["purchases"].iloc[0] < n / 20  # no stampede on day one
    assert summary["shared_share_of_experiences"] < 0.3  # only a minority share
    # negative stories weigh far more in the conversation than in the experiences (4x rule)
    assert summary["negative_share_of_conversation"] > 1.5 * summary["dissatisfied_share_of_experiences"]
    for brand in ("ours", "theirs"):
        assert 0.1 < summary["brands"][brand]["market_share"] < 0.9
        assert t[f"attitude_{brand}"].diff().abs().max() < 0.05  # attitudes move over weeks, not in one step
        # What people say is positive on balance (positive word of mouth outnumbers negative)...
        assert t[f"sentiment_{brand}"].mean() > 0.2
    # ... and the market starts settled: retentions outnumber acquisitions from the first weeks.
    first = t.iloc[:30]
    assert (first["retentions_ours"] + first["retentions_theirs"]).sum() > \
        2 * (first["acquisitions_ours"] + first["acquisitions_theirs"]).sum()
    assert not result.table.isna().any().any()
