"""The app's decisions without a browser (sim/app/decide.py through the Session): variants, replicated
what-ifs on the app's worker pool, the headline wording, and the run state's start/end."""

import threading

import pandas as pd
import psutil
import pytest

import sim
from sim import plots
from sim.app import charts, decide
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
    # The headline chart: each arm's mean sentiment over the seeds, with its 90 % band.
    figure = charts.headline_bands(ours)
    ax = figure.axes[0]
    assert "mean of 3 random seeds, 90 % band" in ax.get_title()
    assert plots.check_figure_rules(figure) == []  # palette, units, legend off the bands
    assert [line.get_label() for line in ax.get_lines()[:2]] == ["scenario: mean", "what-if: mean"]
    scenario = ours.daily[ours.daily["arm"] == "scenario"].pivot(index="step", columns="replicate",
                                                                 values="sentiment_ours")
    assert ax.get_lines()[0].get_ydata() == pytest.approx(scenario.mean(axis=1).to_numpy())
    band = ax.collections[0].get_paths()[0].vertices[:, 1]  # the band's outline: its lows, then its highs
    assert band.min() == pytest.approx(scenario.quantile(0.05, axis=1).min())
    assert band.max() == pytest.approx(scenario.quantile(0.95, axis=1).max())
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
    assert bad.error == "budget planner: budget: expected a number >= 0, found -5.0"


def alive(pids) -> list[int]:
    """The processes of ``pids`` still alive (a zombie is not)."""
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def until(condition, seconds: float = 60.0) -> bool:
    event = threading.Event()
    for _ in range(int(seconds / 0.1)):
        if condition():
            return True
        event.wait(0.1)
    return condition()


LONG = SMALL.replace("steps = 20", "steps = 2000").replace("size = 200", "size = 1000")


def test_a_cancelled_what_if_ends_its_worker_processes_and_the_next_one_runs():
    session = Session(sim.scenario.loads(LONG, name="long"))
    session.set_value("brands.ours.price", "8")
    job = session.compare_replicated(8)  # 16 runs of 2,000 days: far longer than this test waits
    assert until(lambda: decide._pool is not None and len(decide._pool._processes or {}) > 0)
    workers = list(decide._pool._processes)
    assert job.running and job.cancel()
    assert not job.running and job.cancelled
    job.wait(30)
    assert not job.thread.is_alive()
    assert job.result is None and job.error == ""  # nothing half-done is shown
    assert until(lambda: not alive(workers), 10), f"worker processes left: {alive(workers)}"
    assert not job.cancel()  # once is enough
    small_session = small()
    small_session.set_value("brands.ours.price", "8")
    again = small_session.compare_replicated(2).wait(120)
    assert not again.error and again.result is not None and again.done == 4


def test_a_cancelled_budget_plan_ends_its_process_group_and_the_next_plan_runs():
    """Cancel a long plan: its process and everything it started end; then a plan for net sentiment
    above a profit floor runs, the floor reaching its spec and its summary."""
    session = Session(sim.scenario.loads(LONG, name="long"))
    job = session.plan_budget(decide.PlanRequest("ours", trials=40, replicates=2))
    # Its process, the optimiser's forkserver and its worker processes.
    assert until(lambda: len(decide._planners) == 1)
    planner = next(iter(decide._planners))
    assert until(lambda: len(psutil.Process(planner.pid).children(recursive=True)) >= 2)
    started = [planner.pid, *(p.pid for p in psutil.Process(planner.pid).children(recursive=True))]
    assert job.cancel()
    job.wait(30)
    assert not job.thread.is_alive() and job.result is None and job.error == ""
    assert until(lambda: not alive(started), 10), f"planner processes left: {alive(started)}"
    assert not decide._planners
    # The next plan runs (here with another objective: sentiment, above a profit floor).
    job = small().plan_budget(decide.PlanRequest("ours", objective="sentiment", profit_floor=-1e9,
                                                 trials=2, replicates=2)).wait(300)
    assert not job.error, job.error
    assert len(job.result.trials) == 2 and job.done == 2
    assert job.label == "net sentiment, profit floor -1,000,000,000 units"
    spec = job.result.spec
    assert (spec.objective, spec.profit_floor) == ("sentiment", -1e9)
    summary = decide.plan_summary(job.result)
    assert summary["best"].startswith("net sentiment ") and "floor -1,000,000,000 units" in summary["best"]
    assert "no split tried reached the floor" not in summary["best"]
    # The best plan is the best sentiment among the trials (the floor is below every plan's profit).
    assert job.result.best["mean"] == pytest.approx(job.result.trials["mean"].max())


@pytest.mark.parametrize("objective", ["npv", "share"])
def test_the_planner_asks_for_each_objective_of_momentsim_optimise(objective, tmp_path):
    spec = decide.plan_spec(small().base_scenario, decide.PlanRequest("ours", objective=objective), tmp_path)
    assert spec.objective == objective and decide.objective_label(spec) == decide.OBJECTIVE_NAMES[objective]


@pytest.mark.parametrize("key, value", [("objective", "margin"), ("profit_floor", "lots"),
                                        ("profit_floor", float("nan"))])
def test_the_planners_messages_are_the_command_lines(key, value, tmp_path):
    """A bad objective or profit floor: the message `momentsim optimise` gives for the same spec file,
    naming the panel instead of the file."""
    import tomli_w

    from sim.decide.optimise import load_spec

    session = small()
    request = decide.PlanRequest("ours", **{"objective": "sentiment", key: value})
    with pytest.raises(ScenarioError) as panel:
        decide.plan_spec(session.base_scenario, request, tmp_path / "panel")
    (tmp_path / "scenario.toml").write_text(session.base_scenario.to_toml())
    spec = tmp_path / "spec.toml"
    spec.write_text(tomli_w.dumps({"scenario": "scenario.toml", "brand": "ours", "budget": 900.0,
                                   "objective": "sentiment", "profit_floor": 0.0, key: value}))
    with pytest.raises(ScenarioError) as cli:
        load_spec(spec)
    assert str(panel.value) == str(cli.value).replace(f"{spec}: ", "budget planner: ")
    assert str(panel.value).startswith(f"budget planner: {key}: expected ")



def test_cancelling_one_tabs_what_if_spares_another_tabs_on_the_shared_pool():
    """Two sessions share the app's worker processes: cancelling one drops its pending runs only; the
    workers stay (the other's runs are on them) and the other what-if completes with its own figures."""
    one = Session(sim.scenario.loads(SMALL.replace("steps = 20", "steps = 400"), name="one"))
    one.set_value("brands.ours.price", "8")
    other = small()
    other.set_value("brands.ours.price", "8")
    first = one.compare_replicated(8)
    second = other.compare_replicated(2)
    assert until(lambda: decide._pool is not None and len(decide._pool._processes or {}) > 0)
    shared = decide._pool
    assert first.cancel()
    first.wait(10)
    assert not first.thread.is_alive() and first.result is None and first.error == ""
    second.wait(300)
    assert not second.error and second.done == 4
    assert decide._pool is shared and alive(list(shared._processes))  # the workers were kept
    cli = compare_replicated(other.base_scenario, {"what-if": {"brands.ours.price": 8}}, replicates=2,
                             executor=decide.pool())
    pd.testing.assert_frame_equal(second.result.values, cli.values)
