"""The app's session (sim/app/state.py) without a browser: levers, lockstep runs, exports."""

import re
import threading

import pandas as pd
import pytest

import sim
from sim.app import charts
from sim.app.state import Session
from sim.params import ScenarioError
from sim.scenario import loads


def small(scenario="baseline") -> Session:
    session = Session(scenario)
    assert session.set_value("population.size", "300") is None
    return session


def test_invalid_values_are_refused_with_the_cli_message_and_the_old_value_stays():
    session = small()
    before = session.value("brands.ours.quality")
    message = session.set_value("brands.ours.quality", "abc")
    assert message == "baseline: brands.ours.quality: expected a number in [0, 1], found 'abc' (str)"
    assert session.value("brands.ours.quality") == before
    assert "found 1.5" in session.set_value("brands.ours.quality", "1.5")
    assert "expected an integer > 0" in session.set_value("population.size", "-3")
    assert "did you mean 'small_world'" in session.set_value("network.kind", "smallworld")
    # Cross-parameter rule of the scenario schema: base propensity x multiplier <= 1.
    assert "negative_multiplier <= 1" in session.set_value("sharing.negative_multiplier", "30")
    assert "up to 20,000" in session.set_value("population.size", "5000000")
    assert not session.comparing
    assert session.base_scenario.params["population.size"] == 300


def test_the_same_mistake_gives_the_same_message_as_the_command_line():
    with pytest.raises(sim.ScenarioError) as cli:
        sim.load("baseline", {"brands.ours.price": 0})
    message = small().set_value("brands.ours.price", "0")
    assert message.split(": ", 1)[1] == str(cli.value).split(": ", 1)[1]


def test_a_lever_change_starts_a_what_if_copy_in_lockstep_with_the_same_seed():
    session = small()
    assert session.set_value("brands.ours.review_prompting", "0.4") is None
    assert session.comparing
    assert session.base_scenario.params.brand("ours")["review_prompting"] == 0.0
    assert session.value("brands.ours.review_prompting") == 0.4
    # The lever changes on day 0 of the same settled market: an intervention after the shared burn-in.
    assert [(e.day, e.lever, e.value) for e in session.changed_scenario.params.events] == [
        (0, "review_prompting", 0.4)]
    session.step(20)
    assert session.base.steps == session.changed.steps == 20
    base, changed = session.tables()
    # Same seed: day 0 is identical, the change shows later.
    assert base.iloc[0].equals(changed.iloc[0])
    assert (changed["reviews_ours"] > base["reviews_ours"]).any()
    # Setting the lever back to the scenario's value ends the comparison.
    assert session.set_value("brands.ours.review_prompting", "0") is None
    assert not session.comparing


def test_the_base_run_equals_a_plain_run_and_the_what_if_equals_sim_compare():
    session = small()
    session.set_value("sharing.negative_multiplier", "1")
    session.step(15)
    base, changed = session.tables()
    expected = sim.compare(session.base_scenario, {"sharing.negative_multiplier": 1}, steps=15)
    pd.testing.assert_frame_equal(base, expected.base.table)
    pd.testing.assert_frame_equal(changed, expected.changed.table)


def test_a_timed_intervention_goes_into_the_what_if_scenario_as_an_event():
    session = small()
    assert session.add_intervention("ours", "quality", "5", "0.2") is None
    events = session.changed_scenario.params.events
    assert [(e.day, e.brand, e.lever, e.value) for e in events] == [(5, "ours", "quality", 0.2)]
    assert session.base_scenario.params.events == []
    session.step(12)
    assert session.changed.levers[0]["quality"] == 0.2
    assert session.base.levers[0]["quality"] == session.base_scenario.params.brand("ours")["quality"]
    assert "expected an integer >= 0" in session.add_intervention("ours", "quality", "-2", "0.2")
    assert "expected a number in [0, 1]" in session.add_intervention("ours", "quality", "4", "2")
    assert len(session.interventions) == 1
    # The exported what-if scenario reruns the same run, event included.
    result = session.result("changed")
    rerun = sim.run(loads(result.scenario.to_toml()))
    assert rerun.csv() == result.csv()


def test_export_csv_equals_the_cli_run_of_the_same_scenario_seed_and_days(tmp_path):
    session = Session("baseline")
    session.step(10)
    exported = session.result()
    assert len(exported.table) == 11  # day 0 to day 10
    assert exported.scenario.params["steps"] == 10
    assert exported.csv() == sim.run("baseline", steps=10, seed=42).csv()
    assert sim.run(loads(exported.scenario.to_toml())).csv() == exported.csv()


def test_toml_upload_is_loaded_or_refused_with_the_scenario_error():
    session = small()
    text = '[about]\ntitle = "Mine"\n[population]\nsize = 150\n[brands.ours]\nquality = 0.4\n'
    session.load_text(text, "mine.toml")
    assert session.name == "mine" and session.about["title"] == "Mine"
    assert session.base_scenario.params.brand("ours")["quality"] == 0.4
    with pytest.raises(sim.ScenarioError, match=r"mine2.toml: brands.ours.qualty: unknown brand lever"):
        session.load_text("[brands.ours]\nqualty = 0.4\n", "mine2.toml")
    with pytest.raises(sim.ScenarioError, match="malformed TOML"):
        session.load_text("size = = 3", "bad.toml")
    assert session.name == "mine"  # a refused upload leaves the loaded scenario in force


def test_background_run_reaches_the_target_day_and_reports_frames():
    session = small()
    frames, done = [], threading.Event()
    session.start(frames.append, until=25, on_done=done.set)
    assert done.wait(60)
    assert session.day == 25
    assert frames and frames[-1].day == 25
    last = frames[-1]
    assert set(last.images) == {"sentiment", "funnel", "share", "conversation", "rating", "network"}
    assert all(image.startswith(b"\x89PNG") for image in last.images.values())
    assert [k["brand"] for k in last.kpis] == ["ours", "theirs"]


def test_pause_stops_the_background_run_before_the_end():
    session = small()
    session.speed = 20.0  # 20 days a second: a year would take 18 s
    done = threading.Event()
    session.start(lambda frame: None, on_done=done.set)
    session.stop(wait=10)
    assert done.wait(10)
    assert session.day < session.steps
    day = session.day
    assert not session.running
    threading.Event().wait(0.3)
    assert session.day == day


def test_kpis_are_the_table_figures_and_compare_against_the_scenario():
    session = small()
    session.set_value("brands.ours.price", "7")
    session.step(30)
    base, changed = session.tables()
    ours = session.kpis()[0]
    assert ours["revenue"] == pytest.approx(changed["revenue_ours"].sum())
    assert ours["scenario"]["revenue"] == pytest.approx(base["revenue_ours"].sum())
    assert ours["acquisitions"] == changed["acquisitions_ours"].sum()
    assert ours["market_share"] == changed["market_share_ours"].iloc[-1]


def test_network_view_samples_large_populations_and_says_so():
    session = Session("baseline")
    session.set_value("population.size", "4000")
    nodes, positions, edges, note = session.network()
    assert len(nodes) == 2500 and positions.shape == (2500, 2)
    assert "sample of 2,500 of 4,000" in note
    assert edges.max() < 2500
    session.set_value("network.kind", "complete")
    session.set_value("population.size", "500")
    nodes, _, edges, note = session.network()
    assert len(nodes) == 500 and len(edges) == 0 and "fully mixed" in note


def test_charts_png_export_is_a_png_with_both_runs():
    session = small()
    session.set_value("brands.ours.quality", "0.5")
    session.step(10)
    assert session.charts_png().startswith(b"\x89PNG")
    base, changed = session.tables()
    figure = charts.sentiment_figure(base, changed, "x", 365)
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert "ours (scenario)" in labels and "ours (what-if)" in labels
    assert figure.axes[1].get_title().startswith("Effect of the change")


def test_ui_with_an_unknown_scenario_fails_before_any_server_starts(capsys):
    from sim.cli import main

    assert main(["ui", "nope", "--port", "1"]) == 2
    assert "momentsim: error: nope: no such scenario" in capsys.readouterr().err


def test_the_population_cap_follows_the_engine():
    session = Session("baseline")
    assert "choose the array engine" in session.set_value("population.size", "200000")
    assert session.set_value("engine", "array") is None
    assert session.set_value("population.size", "200000") is None  # the array engine runs it
    assert session.base_scenario.params["population.size"] == 200_000
    # Back to the agent engine with 200,000 consumers: refused, the array engine stays.
    message = session.set_value("engine", "agent")
    assert "engine: the app runs the agent engine up to 20,000 consumers, found 200,000" in message
    assert session.base_scenario.params["engine"] == "array"
    assert "up to 1,000,000" in session.set_value("population.size", "2000000")


def test_an_upload_that_is_not_text_is_refused_naming_the_file():
    session = Session("baseline")
    session.load_text(b'[about]\ntitle = "Bytes"\n', "bytes.toml")
    assert session.about["title"] == "Bytes"
    with pytest.raises(ScenarioError, match="picture.png: cannot read the scenario file: not UTF-8 text"):
        session.load_text(b"\x89PNG\r\n\x1a\n\xff", "picture.png")
    assert session.about["title"] == "Bytes"


# --- issue 13: live charts, true controls, events, words, library, memory --------------------------


def test_run_state_is_true_and_a_redraw_to_a_day_is_not_a_run():
    session = small()
    session.set_value("steps", "40")
    done = threading.Event()
    session.start(lambda frame: None, until=10, on_done=done.set)
    assert not session.running  # redrawing to day 10 after a change: the button still says Run
    assert done.wait(60)
    assert session.day == 10 and not session.busy
    finished = threading.Event()
    frames = []
    session.speed = 20.0
    session.start(frames.append, on_done=finished.set)
    assert session.running
    session.stop()
    assert not session.running  # Pause: the button shows Run at once
    assert finished.wait(60)
    stopped = session.day
    with session.lock:
        assert session.day == stopped  # no day stepped once the stop is seen under the lock
    session.start(frames.append, on_done=finished.clear)
    session.stop(wait=60)
    assert not session.busy


def test_a_redraw_says_which_day_it_is_heading_for_while_it_runs():
    """A change made while the redraw after an earlier change is still on its way must redraw to the
    day one was on (the page reads ``redrawing_to``), not to the day that redraw had reached."""
    session = small()
    session.set_value("steps", "60")
    session.speed = 10.0  # 50 days take 5 s: the redraw is certainly still running below
    done = threading.Event()
    session.start(lambda frame: None, until=50, on_done=done.set)
    assert session.redrawing_to == 50 and session.busy
    session.speed = None
    assert done.wait(60)
    assert session.redrawing_to is None and session.day == 50
    session.start(lambda frame: None, on_done=done.clear)  # Run: playing to the end is not a redraw
    assert session.redrawing_to is None
    session.stop(wait=60)


def test_typed_values_are_pending_until_applied_and_refusals_are_kept_per_field():
    session = small()
    session.note_typed("brands.ours.review_prompting", "0.4")
    session.note_typed("brands.ours.price", "zero")
    assert set(session.pending) == {"brands.ours.review_prompting", "brands.ours.price"}
    assert not session.comparing  # not applied yet
    errors = session.apply_pending()
    assert session.pending == {}
    assert session.comparing and session.value("brands.ours.review_prompting") == 0.4
    assert list(errors) == ["brands.ours.price"] and "found 'zero'" in errors["brands.ours.price"]
    assert "still 10" in session.errors["brands.ours.price"]
    session.note_typed("brands.ours.quality", show_value(session, "brands.ours.quality"))
    assert "brands.ours.quality" not in session.pending  # typing the value in force is no change


def show_value(session, key):
    from sim.app.state import show
    return show(session.value(key))


def test_scheduled_events_are_listed_in_words_and_an_intervention_is_removed_alone():
    session = small("quality_crisis")
    listed = session.events()
    assert [(e["day"], e["added"]) for e in listed] == [(120, False), (240, False)]
    assert listed[0]["text"] == "day 120: product quality of ours becomes 0.35 (scenario, both runs)"
    assert session.intervention_default("ours", "price") == "10"  # the form follows the lever
    assert session.intervention_default("theirs", "quality") == "0.62"
    assert session.add_intervention("ours", "price", "60", "9") is None
    assert session.add_intervention("ours", "review_prompting", "200", "0.5") is None
    assert [(e["day"], e["added"]) for e in session.events()] == [(60, True), (120, False), (200, True),
                                                                   (240, False)]
    session.remove_intervention(0)  # the price cut goes, the review prompts stay
    assert session.interventions == [{"day": 200, "brand": "ours", "lever": "review_prompting", "value": 0.5}]
    events = session.changed_scenario.params.events
    assert [(e.day, e.lever) for e in events] == [(120, "quality"), (200, "review_prompting"), (240, "quality")]


def test_every_lever_has_a_label_a_help_line_with_a_unit_and_a_source_and_guides_lose_dotted_keys():
    from sim.app import words
    from sim.app.state import BRAND_LEVERS, MARKET_LEVERS, SETUP_KEYS
    keys = list(SETUP_KEYS) + list(MARKET_LEVERS) + [f"brands.ours.{lever}" for lever in BRAND_LEVERS]
    for key in keys:
        assert "." not in words.label(key) and "_" not in words.label(key)
        assert "Source: " in words.help_text(key)
    assert "source document 000" in words.help_text("sharing.negative_multiplier")
    text = words.plain("Raise brands.ours.service_recovery to 0.6; set sharing.negative_multiplier to 1.")
    assert text == ("Raise “Complaints put right” of ours to 0.6; set “Unhappy customers talk more (times)” to 1.")
    for about in sim.load("quality_crisis").about.get("things_to_try", []):
        assert not re.search(r"\b(brands|sharing)\.[a-z_]+", words.plain(about))


def test_a_what_if_saved_to_the_library_reopens_with_its_own_guide(tmp_path):
    from sim.app.library import Library
    library = Library(tmp_path / "lib")
    session = small("quality_crisis")
    session.set_value("brands.ours.service_recovery", "0.6")
    session.add_intervention("ours", "price", "150", "9")
    path = session.save_to(library, "Better service, price cut")
    assert path == tmp_path / "lib" / "Better_service_price_cut.toml"
    assert list(library.names()) == ["Better_service_price_cut"]
    reopened = Session(library.load("Better_service_price_cut"))
    assert reopened.about["title"] == "Better service, price cut"
    assert "Complaints put right of ours: 0.5 → 0.6" in reopened.about["summary"]
    assert reopened.base_scenario.params.brand("ours")["service_recovery"] == 0.6
    assert [(e["day"], e["lever"]) for e in reopened.events()] == [(120, "quality"), (150, "price"), (240, "quality")]
    # A saved what-if is a scenario of its own (its market settles with the saved levers): reopened, it
    # runs as `momentsim run` runs the saved file.
    reopened.step(10)
    pd.testing.assert_frame_equal(reopened.tables()[0],
                                  sim.run(library.load("Better_service_price_cut"), steps=10).table)
    with pytest.raises(ScenarioError, match="expected letters or digits"):
        session.save_to(library, "  ///  ")


def test_a_new_run_releases_the_finished_models_and_closing_releases_everything():
    import gc
    import weakref
    session = small()
    session.set_value("brands.ours.quality", "0.7")
    session.step(5)
    session.frame()
    old = [weakref.ref(session.base), weakref.ref(session.changed)]
    session.reset()
    gc.collect()
    assert all(ref() is None for ref in old)
    current = weakref.ref(session.base)
    session.close()
    gc.collect()
    assert current() is None and session.live.charts == {}


def test_live_charts_redraw_only_the_lines_and_match_the_tables():
    session = small("quality_crisis")
    session.set_value("steps", "60")
    session.set_value("brands.ours.review_prompting", "0.4")
    session.step(20)
    first = session.frame()
    charts_before = dict(session.live.charts)
    session.step(1)
    second = session.frame()
    assert session.live.charts == charts_before  # the same figures, their data updated
    assert second.day == 21 and set(second.images) == {"sentiment", "funnel", "share", "conversation",
                                                        "rating", "network"}
    assert all(second.images[name] != first.images[name] for name in ("sentiment", "funnel"))
    assert session.frame() is second  # nothing moved: the same frame
    line = session.live.charts["sentiment"].lines["changed", "ours"]
    base, changed = session.tables()
    assert list(line.get_ydata()) == list(changed["sentiment_ours"])
