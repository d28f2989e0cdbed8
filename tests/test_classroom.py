"""The brand game's rules and state (sim/classroom/game.py), without a browser: small markets, few days."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.classroom import game as G
from sim.params import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"price": "12", "quality": "0.8", "ad_spend": "30", "review_prompting": "0.3", "service_recovery": "0.9"}


def small(teams=3, rounds=3, days=10, population=400, seed=5):
    return G.new_config("baseline", teams=teams, rounds=rounds, days_per_round=days, population=population,
                        seed=seed)


def test_config_makes_one_brand_per_team_and_a_rival_all_alike():
    cfg = small(teams=4)
    scenario = cfg.scenario()
    assert scenario.params.brand_names == ["alpha", "bravo", "charlie", "delta", G.RIVAL]
    assert scenario.params["steps"] == 30 and scenario.params["engine"] == "array"
    levers = [scenario.params.brand(b) for b in scenario.params.brand_names]
    assert all(lv == levers[0] for lv in levers)  # a fair start
    # baseline's first brand advertises at intensity 0.02: the spend a day that buys it
    assert cfg.start["ad_spend"] == pytest.approx(8.0, abs=0.01)
    assert scenario.params.events == []


@pytest.mark.parametrize("kwargs, message", [
    ({"teams": 0}, "--teams: expected 1 to 16 teams, found 0"),
    ({"teams": 17}, "--teams: expected 1 to 16 teams, found 17"),
    ({"rounds": 41}, "--rounds: expected 1 to 40 rounds, found 41"),
    ({"days_per_round": 400}, "--days-per-round: expected 1 to 365 days, found 400"),
    ({"population": 10**6}, "--population: expected 1 to 200,000 consumers"),
])
def test_bad_options_are_refused_with_the_option_named(kwargs, message):
    with pytest.raises(G.GameError, match=message.replace("(", r"\(")):
        G.new_config("baseline", **kwargs)


def test_a_decision_is_validated_against_the_model_ranges_and_the_budget():
    cfg = small()
    levers, errors = G.parse_decision(GOOD, cfg)
    assert errors == {} and levers == {"price": 12.0, "quality": 0.8, "ad_spend": 30.0,
                                       "review_prompting": 0.3, "service_recovery": 0.9}
    _, errors = G.parse_decision({"price": "abc", "quality": "1.5", "ad_spend": "300",
                                  "review_prompting": "", "service_recovery": "nan"}, cfg)
    assert errors["price"] == "price: expected a number, found 'abc'"
    assert errors["quality"] == "quality: expected a number in [0, 1], found 1.5"  # the Param's range
    assert errors["ad_spend"] == "ad_spend: expected at most your budget of 50 a day, found 300"
    assert errors["review_prompting"] == "review_prompting: expected a number, found nothing"
    assert "service_recovery: expected a number" in errors["service_recovery"]
    _, errors = G.parse_decision({**GOOD, "price": "100"}, cfg)
    assert errors == {"price": "price: expected a price from 2.5 to 40 (a quarter to four times the starting "
                               "price), found 100"}


def test_a_round_s_decisions_and_events_are_lever_events_on_its_first_day():
    cfg = small(days=10)
    decisions = [{"alpha": G.parse_decision(GOOD, cfg)[0]}]
    injections = [[{"kind": "quality_crisis", "team": "bravo"}, {"kind": "price_war", "team": ""}]]
    events = {(e.brand, e.lever): e for e in G.round_events(cfg, decisions, injections, 1)}
    assert {e.day for e in events.values()} == {1}
    assert events["alpha", "price"].value == 12.0
    assert events["alpha", "unit_cost"].value == pytest.approx(cfg.base_unit_cost + 1.2)  # quality costs
    assert events["alpha", "service_cost"].value == pytest.approx(cfg.service_cost_per_recovery * 0.9)
    assert events["bravo", "quality"].value == pytest.approx(cfg.start["quality"] - G.CRISIS_DROP)
    assert ("bravo", "unit_cost") not in events  # a crisis is not an investment
    assert events["rival", "price"].value == pytest.approx(cfg.start["price"] * (1 - G.PRICE_WAR_CUT))
    assert ("charlie", "price") not in events  # nothing changed, nothing scheduled
    # Round 2 without new decisions: the crisis and the price war end, alpha keeps its levers.
    decisions.append({})
    injections.append([])
    later = {(e.brand, e.lever): e for e in G.round_events(cfg, decisions, injections, 2)}
    assert set(later) == {("bravo", "quality"), ("rival", "price")}
    assert {e.day for e in later.values()} == {11}


@pytest.fixture
def played(tmp_path):
    """A game of three teams after two rounds: alpha changed everything in round 1, bravo cut its price in 2."""
    game = G.Game.create(small(), tmp_path)
    assert game.submit("alpha", GOOD) == {}
    game.inject("quality_crisis", "charlie")
    assert game.begin_advance()
    game.advance()
    assert game.submit("bravo", {**GOOD, "price": "8", "ad_spend": "0"}) == {}
    game.inject("price_war")
    assert game.begin_advance()
    game.advance()
    return game


def test_the_game_continued_round_by_round_is_the_scenario_run_in_one_go(played):
    """The continued market is exactly the exported scenario (with every decision as events) run afresh."""
    scenario = G.game_scenario(played.config, played.decisions, played.injections)
    result = sim.run(scenario, steps=2 * played.config.days_per_round)
    assert result.money().equals(played.money)


def test_a_restart_resumes_with_the_same_market_codes_and_pending_decisions(played, tmp_path):
    assert played.submit("charlie", GOOD) == {}
    resumed = G.Game.load(tmp_path)
    assert resumed.round == 2 and resumed.codes == played.codes and resumed.teacher_key == played.teacher_key
    assert resumed.pending == {"charlie": G.parse_decision(GOOD, played.config)[0]}
    assert resumed.money.equals(played.money)
    assert resumed.outcomes == played.outcomes
    assert oct(os.stat(tmp_path / G.STATE_FILE).st_mode & 0o777) == "0o600"  # it holds the codes


def test_a_timer_that_ran_out_while_the_server_was_down_does_not_fire_on_restart(tmp_path):
    game = G.Game.create(small(), tmp_path)
    game.set_timer(0.001)
    assert G.Game.load(tmp_path).deadline is None
    game.set_timer(600)
    assert G.Game.load(tmp_path).deadline == pytest.approx(game.deadline)


def test_the_export_is_decisions_and_outcomes_per_round_and_a_scenario_that_reruns_the_game(played, tmp_path):
    import csv

    rows = list(csv.DictReader((tmp_path / "decisions.csv").open()))
    assert len(rows) == 2 * 3
    first = {r["team"]: r for r in rows if r["round"] == "1"}
    assert first["alpha"]["submitted"] == "True" and float(first["alpha"]["price"]) == 12.0
    assert first["bravo"]["submitted"] == "False" and float(first["bravo"]["price"]) == 10.0
    assert first["alpha"]["events"] == "quality_crisis charlie"
    assert float(first["alpha"]["profit"]) == played.outcomes[0]["alpha"]["profit"]
    rerun = sim.run(sim.load(tmp_path / "scenario.toml"))
    assert rerun.money().equals(played.money)


def test_what_if_replays_the_same_seed_without_one_decision(played):
    result = played.what_if("bravo", 2)
    # Started from the copy of the market kept before round 2: the same as replaying from day 0.
    assert len(played.snapshots) == 3  # after 0, 1 and 2 rounds
    reverted = [played.decisions[0], {}]
    assert result["money_whatif"].equals(G.replay(played.config, reverted, played.injections))
    assert result["decision"]["price"] == 8.0
    # Round 1 is untouched by a round-2 decision: the same seed gives the same market up to then.
    assert result["whatif"][0] == result["actual"][0]
    assert result["whatif"][1]["sales"] != result["actual"][1]["sales"]
    with pytest.raises(G.GameError, match="round: expected a played round, 1 to 2, found 3"):
        played.what_if("bravo", 3)
    played.begin_advance()
    played.advance()
    assert len(played.what_if("bravo", 2)["whatif"]) == 3  # replayed again once a round more is played


def test_a_much_higher_price_loses_sales_against_the_same_seed(tmp_path):
    """Same seed, same everything else: the team that quadruples its price sells far less than had it not."""
    game = G.Game.create(small(rounds=1, days=30, population=1500), tmp_path)
    assert game.submit("alpha", {**GOOD, "price": "40", "quality": "0.68", "ad_spend": "8"}) == {}
    game.begin_advance()
    game.advance()
    result = game.what_if("alpha", 1)
    assert result["actual"][0]["sales"] < 0.5 * result["whatif"][0]["sales"]


def test_submissions_are_refused_when_the_game_is_over_and_bad_events_named(played):
    played.begin_advance()
    played.advance()
    assert played.finished
    assert played.submit("alpha", GOOD) == {"round": "the game is over: no more rounds to play"}
    assert played.begin_advance() is False
    with pytest.raises(G.GameError, match="event: expected one of quality_crisis, price_war, found 'flood'"):
        played.inject("flood")
    assert played.submit("zulu", GOOD) == {"team": "team: expected one of alpha, bravo, charlie, found 'zulu'"}


def test_codes_are_random_single_purpose_and_checked_exactly(tmp_path):
    game = G.Game.create(small(), tmp_path)
    (tmp_path / "other").mkdir()
    other = G.Game.create(small(), tmp_path / "other")
    assert len(set(game.codes.values())) == 3 and game.codes != other.codes
    assert all(len(c) == G.CODE_LENGTH and set(c) <= set(G.CODE_ALPHABET) for c in game.codes.values())
    assert game.team_for_code(game.codes["bravo"].lower()) == "bravo"
    assert game.team_for_code(game.teacher_key) is None  # the teacher key is not a join code
    assert not game.is_teacher_key(game.codes["alpha"])  # nor a join code a teacher key
    assert game.team_for_code("") is None


def test_stories_count_what_the_table_recorded(played):
    outcome = played.outcomes[1]["alpha"]
    lines, sampled = G.stories(outcome, 5, 2, 0)
    posted = sum(outcome[f"stars_{s}"] for s in range(1, 6))
    assert lines[0].startswith(f"{posted} customers posted reviews") or posted == 0
    assert f"{outcome['told_good']} customers told friends good things" in lines[1]
    assert len(sampled) == min(4, posted)
    assert all(outcome[f"stars_{s}"] > 0 for s, _ in sampled)  # only star counts that were posted


def test_cli_refuses_a_corrupt_game_file_with_exit_2(tmp_path):
    (tmp_path / G.STATE_FILE).write_text("{not json")
    done = subprocess.run([sys.executable, "-m", "sim", "classroom", "--dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "momentsim: error:" in done.stderr and "Traceback" not in done.stderr
    assert f"{tmp_path / G.STATE_FILE}: cannot resume the game" in done.stderr


def test_a_port_in_use_is_refused_with_its_number():
    import socket

    from sim.classroom.serve import check_port

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(G.GameError, match=f"--host 127.0.0.1 --port {port}: cannot listen there"):
            check_port("127.0.0.1", port)


def test_cli_refuses_bad_options_before_writing_anything(tmp_path):
    folder = tmp_path / "game"
    done = subprocess.run([sys.executable, "-m", "sim", "classroom", "--teams", "17", "--dir", str(folder)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == "momentsim: error: --teams: expected 1 to 16 teams, found 17"
    assert not folder.exists()


def test_a_corrupt_game_file_is_named(tmp_path):
    (tmp_path / G.STATE_FILE).write_text(json.dumps({"version": 1, "config": {}}))
    with pytest.raises(ScenarioError, match=f"{tmp_path / G.STATE_FILE}: cannot resume the game"):
        G.Game.load(tmp_path)


def test_the_start_message_says_when_the_game_is_open_beyond_this_computer(tmp_path):
    from sim.classroom.serve import is_local, start_message

    game = G.Game.create(small(), tmp_path)
    local = start_message(game, False, "127.0.0.1", 8770)
    assert "listening on 127.0.0.1 only" in local and "http://127.0.0.1:8770/teacher?key=" + game.teacher_key in local
    assert all(f"{team:<10} {code}" in local for team, code in game.codes.items())
    wide = start_message(game, True, "0.0.0.0", 8770)
    assert "BEYOND THIS COMPUTER" in wide and "resumed game" in wide
    assert is_local("localhost") and is_local("::1") and not is_local("0.0.0.0") and not is_local("192.168.1.5")


def test_a_team_s_screens_are_bounded_and_a_closed_one_is_let_go_after_a_minute():
    from sim.classroom import web

    sessions = web.Sessions()
    tokens = [sessions.open("team", "alpha") for _ in range(web.MAX_TEAM_SESSIONS)]
    assert all(tokens) and sessions.open("team", "alpha") is None  # all four in use: refused
    assert sessions.open("team", "bravo") is not None  # another team is not affected
    sessions.by_token[tokens[0]].last_seen -= web.IDLE_SECONDS + 1  # the first screen was closed
    newest = sessions.open("team", "alpha")
    assert newest is not None and sessions.get(tokens[0], "team") is None
    assert sessions.get(newest, "team").team == "alpha"
    assert sessions.get(newest, "teacher") is None  # a team's session is not the teacher's
    for _ in range(web.MAX_FAILED):
        sessions.fail("10.0.0.9")
    assert sessions.too_many_failures("10.0.0.9") and not sessions.too_many_failures("10.0.0.8")


def test_a_hand_edited_game_file_is_checked_on_resume(played, tmp_path):
    state = json.loads((tmp_path / G.STATE_FILE).read_text())
    state["decisions"][0]["alpha"]["quality"] = 5
    (tmp_path / G.STATE_FILE).write_text(json.dumps(state))
    with pytest.raises(G.GameError, match=r"game.json: cannot resume the game: round 1, team alpha: quality: "
                                          r"expected a number in \[0, 1\], found 5.0"):
        G.Game.load(tmp_path)
    state["decisions"][0] = {"zulu": {}}
    (tmp_path / G.STATE_FILE).write_text(json.dumps(state))
    with pytest.raises(G.GameError, match="round 1: no team 'zulu'"):
        G.Game.load(tmp_path)
