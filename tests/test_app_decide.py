"""The app's decisions without a browser (sim/app/decide.py through the Session): variants, replicated
what-ifs on the app's worker pool, the headline wording, and the run state's start/end."""

import threading

import pandas as pd
import pytest

import sim
from sim.app import decide
from sim.app.state import Session
from sim.decide.compare import compare_replicated
from sim.params import ScenarioError

SMALL = 'steps = 20\nseed = 11\n[population]\nsize = 200\n[market]\nburn_in_days = 30\n'


def small() -> Session:
    session = Session(sim.scenario.loads(SMALL, name="small"))
    return session


def test_variants_are_kept_up_to_four_and_the_current_what_if_joins_them():
    session = small()
    assert session.keep_variant("x") == "Nothing to keep: change a lever or add an intervention first"
    session.set_value("brands.ours.price", "8")
    assert session.keep_variant("cheaper") is None
    assert session.keep_variant("again") == "This what-if is kept already"
    assert [v.name for v in session.arms()] == ["cheaper"]
    session.add_intervention("ours", "quality", "5", "0.4")
    assert [v.name for v in session.arms()] == ["cheaper", "what-if"]  # the current one, not kept
    assert session.keep_variant("cheaper") == "The name 'cheaper' is taken: pick another"
    for name, value in (("b", "9"), ("c", "11"), ("d", "12")):
        session.clear_changes()
        session.set_value("brands.ours.price", value)
        assert session.keep_variant(name) is None
    session.set_value("brands.ours.price", "13")
    assert session.keep_variant("e") == "Up to 4 variants: remove one first"
    with pytest.raises(ScenarioError, match="up to 4 side by side, found 5"):
        session.compare_replicated(3)  # four kept and the current what-if
    session.remove_variant("b")
    with pytest.raises(ScenarioError, match="replicates: expected an integer from 1 to 50, found 'ten'"):
        session.compare_replicated("ten")
    # A variant with an intervention runs it on its day, in the what-if only.
    arm = next(v for v in small_with_event().arms() if v.name == "what-if")
    assert [(e.day, e.lever, e.value) for e in arm.scenario.params.events] == [(5, "quality", 0.4)]


def small_with_event() -> Session:
    session = small()
    session.add_intervention("ours", "quality", "5", "0.4")
    return session


def test_the_apps_replicated_what_if_is_sim_compare_on_the_same_paired_seeds():
    session = small()
    session.set_value("brands.ours.service_recovery", "0.6")
    job = session.compare_replicated(3).wait(300)
    assert not job.error and job.done == job.total == 6
    ours = job.result
    cli = compare_replicated(session.base_scenario, {"what-if": {"brands.ours.service_recovery": 0.6}},
                             replicates=3, executor=decide.pool())
    assert ours.seeds == cli.seeds
    pd.testing.assert_frame_equal(ours.values, cli.values)  # same runs, same bytes
    pd.testing.assert_frame_equal(ours.effects(), cli.effects())
    cards = decide.headline(ours)
    assert [line["kpi"] for line in cards[0]["lines"]] == ["profit", "share", "sentiment"]
    assert cards[0]["lines"][0]["text"].startswith("effect on profit: ")
    assert " pp (95 % interval " in cards[0]["lines"][1]["text"]
    html = decide.report_html(ours).decode()
    assert "Headline effects" in html and "what-if" in html


def test_how_sure_follows_the_interval():
    assert decide.sureness(1.0, 3.0).startswith("clear: the 95 % interval is above zero")
    assert decide.sureness(-3.0, -1.0).startswith("clear: the 95 % interval is below zero")
    assert "could be luck" in decide.sureness(-1.0, 2.0)
    assert decide.sureness(0.0, 0.0).startswith("no difference")
    assert decide.sureness(float("nan"), float("nan")).startswith("one replicate")


def test_a_run_that_ends_as_the_next_starts_never_marks_the_new_one_as_over():
    """Issue 13: the end of one run and the start of the next are atomic: Run always shows as running."""
    session = Session(sim.scenario.loads(SMALL.replace("steps = 20", "steps = 2000"), name="small"))
    for _ in range(12):
        done = threading.Event()
        session.start(lambda frame: None, until=session.day, on_done=done.set)  # a redraw, ending at once
        session.start(lambda frame: None, until=None)
        assert session.running
        session.stop(wait=10)
        assert not session.running


def test_with_a_posterior_every_arm_of_replicate_i_runs_at_draw_i(tmp_path):
    """A posterior whose weight sits on one row: every replicate runs at that row's parameters, so the
    comparison equals sim.compare on the scenario with those parameters set."""
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"sharing.negative_multiplier": [1.0, 8.0], "weight": [1.0, 0.0]}).to_parquet(path)
    session = small()
    assert "no such file" in session.load_posterior(tmp_path / "missing.parquet")
    pd.DataFrame({"no.such_key": [1.0], "weight": [1.0]}).to_parquet(tmp_path / "bad.parquet")
    assert "column 'no.such_key': no such parameter" in session.load_posterior(tmp_path / "bad.parquet")
    assert session.load_posterior(path) is None
    session.set_value("brands.ours.price", "8")
    job = session.compare_replicated(2).wait(300)
    assert not job.error, job.error
    fixed = session.base_scenario.with_overrides({"sharing.negative_multiplier": 1.0})
    cli = compare_replicated(fixed, {"what-if": {"brands.ours.price": 8}}, replicates=2, executor=decide.pool())
    pd.testing.assert_frame_equal(job.result.values, cli.values)
    assert "posterior posterior.parquet" in job.result.executor


def test_the_budget_planner_runs_a_small_study_of_the_set_up_and_refuses_a_bad_budget():
    session = small()
    job = session.plan_budget(decide.PlanRequest("ours", budget=600.0, trials=3, replicates=2)).wait(300)
    assert not job.error, job.error
    result = job.result
    assert result.spec.scenario.params["population.size"] == 200  # the set-up, not the shipped default
    assert len(result.trials) == 3 and sum(result.best["shares"].values()) == pytest.approx(1.0)
    summary = decide.plan_summary(result)
    assert summary["budget"] == "600 units per 30 days for ours"
    assert summary["best"].startswith("profit ") and "95 % interval" in summary["plan"]
    bad = session.plan_budget(decide.PlanRequest("ours", budget=-5.0, trials=2, replicates=2)).wait(60)
    assert "budget: expected a number >= 0, found -5.0" in bad.error
