"""The array engine (sim/engine.py): its record, its invariants, its network, and its wiring
into the scenario key ``engine``, the command line, the API, sweeps and the app."""

import subprocess
import sys
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim import engine, kernels, network
from sim.agents import Stage
from sim.app.state import Session
from sim.engine import ArrayMarketModel
from sim.record import columns
from sim.sweep import load_sweep, read_daily, read_runs, run_sweep

STAGES = [f"stage_{s.name.lower()}" for s in Stage]


def small(name="baseline", **overrides):
    base = {"population.size": 400, "steps": 60, "engine": "array"}
    base.update(overrides)
    return sim.load(name, base)


def test_the_engine_key_picks_the_class_and_the_table_has_the_same_columns():
    agent, array = sim.build(small(engine="agent")), sim.build(small())
    assert type(agent) is sim.MarketModel and type(array) is ArrayMarketModel
    result = sim.run(small())
    assert list(result.table.columns) == list(sim.run(small(engine="agent")).table.columns) \
        == columns(["ours", "theirs"])
    assert result.table["step"].tolist() == list(range(61))
    assert result.scenario.params["engine"] == "array"
    assert 'engine = "array"' in result.scenario.to_toml()  # the resolved scenario reruns on the same engine
    assert sim.load("baseline").params["engine"] == "agent"  # the default


def test_an_unknown_engine_is_refused_like_any_value():
    with pytest.raises(sim.ScenarioError, match=r"engine: expected one of 'agent', 'array', found 'arrays' "
                                                r"\(did you mean 'array'\?\)"):
        sim.load("baseline", {"engine": "arrays"})


def test_same_seed_same_bytes_through_the_command_line(tmp_path):
    args = [sys.executable, "-m", "sim", "run", "quality_crisis", "--engine", "array", "--steps", "150",
            "--set", "population.size=500"]
    for out in ("a", "b"):
        subprocess.run(args + ["--out", str(tmp_path / out)], check=True, capture_output=True)
    subprocess.run(args + ["--seed", "43", "--out", str(tmp_path / "c")], check=True, capture_output=True)
    a, b, c = ((tmp_path / x / "timeseries.csv").read_bytes() for x in "abc")
    assert a == b and a != c
    assert b'engine = "array"' in (tmp_path / "a" / "scenario.toml").read_bytes()
    rerun = sim.run(sim.load(tmp_path / "a" / "scenario.toml"))  # the written scenario reruns it exactly
    assert rerun.csv().encode() == a


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(2, 150), kind=st.sampled_from(["small_world", "scale_free", "random", "complete"]),
       multiplier=st.floats(0.0, 8.0), base=st.floats(0.0, 0.12), prompting=st.floats(0.0, 1.0),
       quality=st.floats(0.0, 1.0), n_brands=st.integers(1, 3), new=st.booleans(),
       seed=st.integers(0, 2**31))
def test_invariants_hold_whatever_the_parameters(size, kind, multiplier, base, prompting, quality, n_brands,
                                                 new, seed):
    names = ["a", "b", "c"][:n_brands]
    model = ArrayMarketModel(sim.loads("", overrides={
        "market.brands": names, "population.size": size, "network.kind": kind, "steps": 40, "seed": seed,
        "sharing.negative_multiplier": multiplier, "sharing.base_propensity": base,
        "brands.a.review_prompting": prompting, "brands.a.quality": quality, "market.new_category": new,
        "journey.purchase_cycle_days": 5.0, "network.mean_degree": 4.0, "brands.a.ad_intensity": 0.3}))
    for _ in range(40):
        model.step()
        assert np.all((model.attitude >= -1.0) & (model.attitude <= 1.0))
        assert np.all((model.expectation >= 0.0) & (model.expectation <= 1.0))
        # The running counts the record reads are the population's.
        assert model.stage_counts().tolist() == np.bincount(model.stage, minlength=6).tolist()
        count, total = model.aware_attitude()
        assert count.tolist() == model.aware.sum(axis=0).tolist()
        assert np.allclose(total, np.where(model.aware, model.attitude, 0.0).sum(axis=0))
    table = model.table()
    assert not table.isna().any().any()
    assert (table[STAGES].sum(axis=1) == size).all()
    assert table["adopters"].is_monotonic_increasing and table["adopters"].iloc[-1] <= size
    assert (table["purchases"] == table[[f"purchases_{n}" for n in names]].sum(axis=1)).all()
    for name in names:
        assert table[f"sentiment_{name}"].between(-1, 1).all()
        assert table[f"attitude_{name}"].between(-1, 1).all()
        rated = table[f"reviews_{name}"] > 0  # a platform shows no rating before the first review
        assert table.loc[rated, f"rating_{name}"].between(1, 5).all()
        assert (table.loc[~rated, f"rating_{name}"] == 0).all()
        assert (table[f"recoveries_{name}"] <= table[f"complaints_{name}"]).all()


def test_the_year_moves_every_stage_and_the_economics_add_up():
    table = sim.run(small(**{"population.size": 2000, "steps": 120})).table
    days = table.iloc[1:]
    assert (days[STAGES[1:]].mean() > 5).all()  # people pass through every stage
    assert (days["stage_dormant"].iloc[14:] / 2000).between(0.6, 0.95).all()  # after the start, all dormant
    for name, price in (("ours", 10.0), ("theirs", 9.5)):
        assert (days[f"revenue_{name}"] == days[f"purchases_{name}"] * price).all()
        assert (days[f"acquisitions_{name}"] + days[f"retentions_{name}"] == days[f"purchases_{name}"]).all()
    assert days["retentions_ours"].sum() > 0
    # The dissatisfied share four times as often as the satisfied (0.04 a satisfied experience on average).
    assert days["shares_negative"].sum() > days["experiences_dissatisfied"].sum() * 0.08


def test_a_story_shared_today_is_heard_tomorrow(tmp_path):
    (tmp_path / "pair.txt").write_text("teller listener\n")
    scenario = sim.loads('steps = 3\nengine = "array"\n[network]\nkind = "file"\nfile = "pair.txt"\n'
                         '[journey]\npurchase_cycle_days = 1000.0\n[wom]\nreach = 1.0\ntrigger = 0.0\n'
                         '[brands.ours]\nad_intensity = 0.0\n[brands.theirs]\nad_intensity = 0.0\n',
                         path=tmp_path / "s.toml")
    model = sim.build(scenario)
    assert isinstance(model, ArrayMarketModel) and model.contacts.of(0).tolist() == [1]
    # The teller is about to share a bad experience of "ours"; the listener waits.
    model.stage_count[Stage.DORMANT] -= 1
    model.stage_count[Stage.UMOT] += 1
    model.stage[0], model.bought[0], model.satisfied[0], model.rating[0] = Stage.UMOT, 0, False, 1.0
    model.propensity[0] = 1.0
    model.tomorrow[Stage.UMOT].append(np.array([0]))
    before = float(model.attitude[1, 0])
    model.step()  # day 1: the teller shares; the story waits for the night
    assert model.today["shares_negative_ours"] == 1 and model.today["stage_dormant"] == 2
    assert model.inbox[0].tolist() == [1] and float(model.attitude[1, 0]) == before
    model.step()  # day 2: the listener hears it
    assert model.aware[1, 0] and float(model.attitude[1, 0]) < before
    assert len(model.inbox[0]) == 0


def test_an_edge_list_file_is_the_array_engines_network(tmp_path):
    (tmp_path / "net.txt").write_text("ann bob\nbob cat\ncat ann\ndan ann\neve\n")
    scenario = sim.loads('engine = "array"\n[network]\nkind = "file"\nfile = "net.txt"\n', path=tmp_path / "s.toml")
    model = sim.build(scenario, steps=30)
    assert model.size == 5 and sorted(model.contacts.of(0).tolist()) == [1, 2, 3]
    assert len(model.contacts.of(4)) == 0
    for _ in range(30):
        model.step()
    assert (model.table()[STAGES].sum(axis=1) == 5).all()


def test_interventions_change_the_lever_on_their_day():
    model = sim.build(small("quality_crisis", **{"population.size": 50, "steps": 241}))
    quality = []
    for _ in range(241):
        model.step()
        quality.append(model.levers[0]["quality"])
        assert model.qualities[0] == quality[-1]  # what the experience rule is given
    assert quality[118] == 0.68 and quality[119] == 0.35  # step 120 is index 119
    assert quality[238] == 0.35 and quality[239] == 0.68


def test_an_ad_burst_is_seen_from_its_day():
    scenario = sim.loads('engine = "array"\n[population]\nsize = 3000\n[brands.ours]\nad_intensity = 0.0\n'
                         'initial_awareness = 0.0\n[journey]\ndiscovery = 0.0\n'
                         '[[events]]\nday = 5\nbrand = "ours"\nlever = "ad_intensity"\nvalue = 0.5\n')
    model = sim.build(scenario)
    for _ in range(4):
        model.step()
    assert model.today["aware_ours"] == 0.0
    model.step()  # day 5: about 1 - exp(-0.5 x attention) of everyone sees one today
    assert 0.25 < model.today["aware_ours"] < 0.5
    assert (model.ad_exposure[:, 0] > 0.3).all()


def test_every_stage_group_acts_in_id_order():
    """As in the per-agent engine: the order decides which of a night's many reviews are the most
    recent ones read in research (a large population posts more than ``reviews.read`` a night)."""
    model = ArrayMarketModel(small(**{"population.size": 3000}))
    groups, due = [], model._due

    def watched_due():  # the day's groups, each stage's, as the journey gets them
        today = due()
        groups.extend(ids.copy() for ids in today.values())
        return today

    model._due = watched_due
    for _ in range(60):
        model.step()
    assert sum(len(g) for g in groups) > 3000
    assert all(np.all(np.diff(g) > 0) for g in groups)


def test_ads_are_seen_with_each_brands_chance_independently(monkeypatch):
    """Thinned per attention group, each consumer sees each brand's ads with its own daily chance,
    independently of the other brand: counts by attention half and of both on one day."""
    model = ArrayMarketModel(small(**{"population.size": 20000, "brands.ours.ad_intensity": 0.2,
                                      "brands.theirs.ad_intensity": 0.4}))
    assert len(model.ad_strata_brand) >= 2
    days, seen = 40, np.zeros((20000, 2))
    both = 0
    for _ in range(days):
        today = np.zeros((20000, 2), dtype=bool)
        calls = []
        # The compiled day of ads (sim.kernels.ads_day), watched: the pairs it picked.
        def watch(*args):
            flat, change, triggered = kernels.ads_day(*args)
            calls.append(flat.copy())
            return flat, change, triggered

        monkeypatch.setattr(engine, "kernels", SimpleNamespace(**{**vars(kernels), "ads_day": watch}))
        model._see_ads()
        for flat in calls:
            today[flat // 2, flat % 2] = True
        assert all(len(np.unique(flat)) == len(flat) for flat in calls)
        seen += today
        both += int(today.all(axis=1).sum())
    chance = model.ad_exposure
    high = model.attention > np.median(model.attention)
    for group in (high, ~high):
        for b in range(2):
            expected = days * chance[group, b].sum()
            assert seen[group, b].sum() == pytest.approx(expected, abs=4 * expected ** 0.5)
    expected = days * (chance[:, 0] * chance[:, 1]).sum()
    assert both == pytest.approx(expected, abs=4 * expected ** 0.5)


def test_the_numpy_small_world_is_networkx_watts_strogatz_in_distribution():
    def stats(contacts):
        graph = nx.Graph()
        graph.add_nodes_from(range(contacts.size))
        source = np.repeat(np.arange(contacts.size), np.diff(contacts.indptr))
        graph.add_edges_from(zip(source.tolist(), contacts.indices.tolist()))
        degrees = contacts.degrees()
        return degrees.mean(), degrees.var(), nx.average_clustering(graph)

    for rewiring in (0.1, 0.5):
        ours = np.array([stats(network.small_world(3000, 10, rewiring, seed)) for seed in (1, 2)]).mean(axis=0)
        theirs = np.array([stats(network.from_graph(nx.watts_strogatz_graph(3000, 10, rewiring, seed=seed), 3000))
                           for seed in (1, 2)]).mean(axis=0)
        assert ours[0] == pytest.approx(10.0) and theirs[0] == pytest.approx(10.0)
        assert ours[1] == pytest.approx(theirs[1], rel=0.15)  # degree variance
        assert ours[2] == pytest.approx(theirs[2], abs=0.02)  # clustering coefficient
    contacts = network.small_world(5000, 10, 0.3, 7)
    for i in (0, 17, 4999):  # no loops, no duplicates, undirected
        row = contacts.of(i).tolist()
        assert i not in row and len(row) == len(set(row))
        assert all(i in contacts.of(j).tolist() for j in row)


def _graph_stats(contacts):
    degrees = contacts.degrees()
    return degrees.mean(), degrees.var(), degrees.max(), (degrees >= 20).mean()


def _is_simple_and_undirected(contacts):
    for i in range(contacts.size):
        row = contacts.of(i).tolist()
        assert i not in row and len(row) == len(set(row))
        assert all(i in contacts.of(j).tolist() for j in row)


def test_the_numpy_random_network_is_networkx_gnp_in_distribution():
    size, p, seeds = 3000, 10 / 2999, range(1, 5)
    ours = np.array([_graph_stats(network.random_graph(size, p, seed)) for seed in seeds]).mean(axis=0)
    theirs = np.array([_graph_stats(network.from_graph(nx.fast_gnp_random_graph(size, p, seed=seed), size))
                       for seed in seeds]).mean(axis=0)
    assert ours[0] == pytest.approx(10.0, abs=0.15) and theirs[0] == pytest.approx(10.0, abs=0.15)
    assert ours[1] == pytest.approx(theirs[1], rel=0.1)  # Poisson degrees: variance about the mean
    # Every pair with the same chance: the edge count of G(50, 0.3) over many seeds, and no loop or repeat.
    counts = [network.random_graph(50, 0.3, seed).degrees().sum() / 2 for seed in range(300)]
    assert np.mean(counts) == pytest.approx(0.3 * 50 * 49 / 2, abs=4 * 16 / 300 ** 0.5)
    _is_simple_and_undirected(network.random_graph(300, 0.05, 9))
    assert network.random_graph(6, 1.0, 1).degrees().tolist() == [5] * 6
    assert network.random_graph(1, 0.5, 1).degrees().tolist() == [0]


def test_the_numpy_scale_free_network_is_networkx_barabasi_albert_in_distribution():
    size, m, seeds = 3000, 5, range(1, 5)
    ours = np.array([_graph_stats(network.scale_free(size, m, seed)) for seed in seeds]).mean(axis=0)
    theirs = np.array([_graph_stats(network.from_graph(nx.barabasi_albert_graph(size, m, seed=seed), size))
                       for seed in seeds]).mean(axis=0)
    assert ours[0] == theirs[0] == pytest.approx(2 * m * (size - m - 1 + 1) / size, rel=1e-3)  # same edges
    assert ours[1] == pytest.approx(theirs[1], rel=0.2)  # the heavy tail: variance 13 x the mean's
    assert ours[2] == pytest.approx(theirs[2], rel=0.35)  # the largest hub
    assert ours[3] == pytest.approx(theirs[3], rel=0.2)  # share with twice the mean degree or more
    degrees = network.scale_free(size, m, 1).degrees()
    assert degrees.min() == m  # every newcomer joins m distinct consumers
    _is_simple_and_undirected(network.scale_free(400, 3, 2))
    assert network.scale_free(3, 5, 1).degrees().tolist() == [2, 1, 1]  # m capped: the star
    assert network.scale_free(1, 5, 1).degrees().tolist() == [0]


def test_bernoulli_picks_are_each_position_with_its_chance():
    rng = np.random.default_rng(5)
    hits = np.zeros(40)
    for _ in range(2000):
        picks = network.bernoulli_picks(rng, 40, 0.1)
        assert np.all(np.diff(picks) > 0) and (len(picks) == 0 or 0 <= picks[0] <= picks[-1] < 40)
        hits[picks] += 1
    assert np.abs(hits / 2000 - 0.1).max() < 4 * (0.1 * 0.9 / 2000) ** 0.5 + 0.005
    assert network.bernoulli_picks(rng, 5, 1.0).tolist() == [0, 1, 2, 3, 4]
    assert len(network.bernoulli_picks(rng, 5, 0.0)) == 0 and len(network.bernoulli_picks(rng, 0, 0.5)) == 0


@pytest.mark.parametrize("count, chance", [(100, 1e-18), (10**12, 1e-308), (10**18, 1e-18), (10**6, 1e-9)])
def test_bernoulli_picks_with_tiny_chances_pick_what_they_should(count, chance):
    """Tiny daily chances (a purchase cycle of 1e18 days) neither overflow nor hang: the number of picks
    is Poisson with mean count x chance (here at most 1), and every pick is in range."""
    rng = np.random.default_rng(11)
    counts = []
    for _ in range(300):
        picks = network.bernoulli_picks(rng, count, chance)
        assert np.all(np.diff(picks) > 0) and (len(picks) == 0 or 0 <= picks[0] <= picks[-1] < count)
        counts.append(len(picks))
    mean = count * chance
    assert abs(np.mean(counts) - mean) <= 4 * (mean / 300) ** 0.5 + 1e-9


def test_a_purchase_cycle_of_1e18_days_runs_in_both_engines():
    for engine in ("agent", "array"):
        table = sim.run(sim.load("baseline", {"engine": engine, "population.size": 100, "steps": 5,
                                              "market.burn_in_days": 5,
                                              "journey.purchase_cycle_days": 3650.0})).table
        assert len(table) == 6
    # The schema bounds the cycle at ten years; the sampler itself takes any chance (above).


def test_the_array_engine_builds_every_network_kind_with_numpy(monkeypatch):
    def no_networkx(*args, **kwargs):
        raise AssertionError("networkx called")

    for name in ("watts_strogatz_graph", "barabasi_albert_graph", "fast_gnp_random_graph"):
        monkeypatch.setattr(network.nx, name, no_networkx)
    for kind in ("small_world", "scale_free", "random"):
        model = ArrayMarketModel(small(**{"network.kind": kind, "population.size": 500}))
        assert model.contacts.degrees().mean() == pytest.approx(10.0, rel=0.1)


def test_a_sweep_with_the_array_engine_runs(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text('scenario = "baseline"\nsteps = 30\nseed = 3\nreplicates = 2\n'
                    'outputs = ["sentiment_ours", "purchases"]\ndaily = ["purchases"]\n'
                    '[set]\n"population.size" = 300\nengine = "array"\n'
                    '[vary]\n"sharing.negative_multiplier" = [1, 4]\n')
    outcome = run_sweep(load_sweep(path), tmp_path / "out", executor="local", workers=1)
    assert outcome.complete and outcome.ok == 4
    runs = read_runs(tmp_path / "out")
    assert len(runs) == 4 and (runs["status"] == "ok").all()
    assert sim.load(tmp_path / "out" / "scenario.toml").params["engine"] == "array"
    assert len(read_daily(tmp_path / "out")) == 4 * 31


def test_the_app_offers_the_engine_and_runs_it():
    session = Session("baseline")
    assert session.set_value("population.size", "300") is None
    assert "expected one of 'agent', 'array'" in session.set_value("engine", "numpy")
    assert session.set_value("engine", "array") is None
    session.step(10)
    assert isinstance(session.base, ArrayMarketModel)
    base, _ = session.tables()
    pd.testing.assert_frame_equal(base, sim.run("baseline", steps=10, overrides={
        "population.size": 300, "engine": "array"}).table)
    assert session.frame().images["network"][:4] == b"\x89PNG"  # the network view reads either engine
