"""The two engines agree: mean daily trajectories within their standard errors.

Both engines call the same rules on the same scenario; the per-agent engine draws day by day, the
array engine schedules by wake-up days (statistically equivalent, not the same random stream). For
each scenario, R replicates per engine (seeds 1..R); each replicate's table is averaged over 30-day
windows; for every window and column the engines' means are compared by Welch's
z = (mean_agent - mean_array) / sqrt(se_agent^2 + se_array^2). With some 400 comparisons, |z| stays
under Z_MAX (Bonferroni-style: about a 1 % chance in all of a false alarm with t-distributed
estimates) when the engines agree; a deliberate change to one rule must push some |z| over it.
"""

import numba
import numpy as np
import pandas as pd
import pytest

import sim
from sim import kernels, rules
from sim.engine import ArrayMarketModel

SCENARIOS = ("baseline", "quality_crisis", "review_prompts", "hype_vs_reality", "service_recovery")
POPULATION, STEPS, WINDOW, REPLICATES = 800, 180, 30, 16
Z_MAX = 5.0
STAGE_COLUMNS = ["stage_dormant", "stage_stimulus", "stage_zmot", "stage_fmot", "stage_smot", "stage_umot"]


def compared_columns(brands):
    return (STAGE_COLUMNS + ["purchases", "shares_positive", "shares_negative"]
            + [f"sentiment_{b}" for b in brands])


def window_means(name, engine, replicates=REPLICATES):
    """(replicates, windows, columns) array of 30-day means, and the column names."""
    scenario = sim.load(name, {"population.size": POPULATION, "steps": STEPS, "engine": engine})
    cols = compared_columns(scenario.params.brand_names)
    out = []
    for seed in range(1, replicates + 1):
        table = sim.run(scenario, seed=seed).table.iloc[1:]  # day 0 is the same initial state
        window = (table["step"].to_numpy() - 1) // WINDOW
        out.append(table[cols].groupby(window).mean().to_numpy())
    return np.array(out), cols


def welch_z(a, b):
    diff = a.mean(axis=0) - b.mean(axis=0)
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    return np.divide(diff, se, out=np.where(diff == 0, 0.0, np.inf), where=se > 0)


@pytest.fixture(scope="module")
def agent_runs():
    return {name: window_means(name, "agent") for name in SCENARIOS}


@pytest.mark.parametrize("name", SCENARIOS)
def test_engines_agree_within_their_standard_errors(name, agent_runs):
    agent, cols = agent_runs[name]
    array, _ = window_means(name, "array")
    z = welch_z(agent, array)
    worst = np.unravel_index(np.argmax(np.abs(z)), z.shape)
    assert np.abs(z).max() < Z_MAX, (f"{name}: |z| = {abs(z[worst]):.2f} in window {worst[0]} of "
                                     f"{cols[worst[1]]}\n{pd.DataFrame(z, columns=cols).round(2)}")
    # Not vacuous: the trajectories move, and most comparisons are of non-zero quantities.
    assert agent[..., cols.index("purchases")].mean() > 1.0
    assert np.isfinite(z).all()


def test_a_changed_rule_in_one_engine_is_caught(agent_runs, monkeypatch):
    """The dissatisfied share as often as the satisfied (multiplier 1, not 4), in the array engine only."""
    share = rules.share_probabilities

    def without_the_four_times_rule(propensity, talk_weight, satisfied, negative_multiplier, review_prompting):
        return share(propensity, talk_weight, satisfied, 1.0, review_prompting)

    monkeypatch.setattr(rules, "share_probabilities", without_the_four_times_rule)
    # The array engine runs the rules compiled (sim.kernels, from sim/rules.py): compile its sharing
    # afresh with the changed rule (numba reads a kernel's globals when it compiles it).
    compiled_share = kernels.share_probabilities

    def compiled_without(propensity, talk_weight, satisfied, negative_multiplier, review_prompting):
        return compiled_share(propensity, talk_weight, satisfied, 1.0, review_prompting)

    monkeypatch.setattr(kernels, "share_probabilities", numba.njit(compiled_without))
    monkeypatch.setattr(kernels, "share_day", numba.njit(kernels.share_day.py_func))
    monkeypatch.setattr(kernels, "from_the_shelf", numba.njit(kernels.from_the_shelf.py_func))
    agent, cols = agent_runs["baseline"]
    array, _ = window_means("baseline", "array")
    z = welch_z(agent, array)
    assert np.abs(z).max() > Z_MAX
    assert np.abs(z[:, cols.index("shares_negative")]).max() > Z_MAX  # caught where the rule acts


def test_the_array_engine_calls_the_shared_rule():
    """The array engine's sharing is the rule of sim.rules compiled, not a copy of it: the kernel
    compiles ``rules.share_probabilities`` itself, and the day's stages call it through ``share_day``."""
    assert kernels.share_probabilities.py_func is rules.share_probabilities
    assert "share_probabilities" in kernels.share_day.py_func.__code__.co_names
    assert "share_day" in kernels.from_the_shelf.py_func.__code__.co_names
    assert "from_the_shelf" in ArrayMarketModel._journey.__code__.co_names
