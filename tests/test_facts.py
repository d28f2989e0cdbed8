"""``momentsim validate facts`` at a reduced size: the table, the files, and the robust facts.

The full-size run (10 seeds, 2,000 consumers) is recorded in docs/validation.md; here 3 seeds of 800
consumers check that every experiment runs, that the exit status follows the table, and that the
facts that are clear even at this size hold.
"""

import numpy as np
import pandas as pd
import pytest

from sim import cli
from sim.facts import Fact, half_times


@pytest.fixture(scope="module")
def facts_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("facts")
    status = cli.main(["validate", "facts", "--seeds", "3", "--population", "800", "--out", str(out)])
    return status, out, pd.read_csv(out / "facts.csv")


def test_the_table_has_every_fact_with_its_source_and_interval(facts_run):
    status, out, table = facts_run
    assert len(table) == 18
    assert list(table.columns) == ["fact", "source", "target", "low", "high", "mean", "ci_low", "ci_high",
                                   "replicates", "passed"]
    assert (table["replicates"] == 3).all()
    assert table["source"].str.len().min() > 5
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()
    assert status == (0 if table["passed"].all() else 1)
    assert len(list(out.glob("fact_*.png"))) == 18


def test_the_clear_facts_hold_even_at_a_reduced_size(facts_run):
    _, _, table = facts_run
    by_name = table.set_index("fact")
    clear = [name for name in by_name.index if name.startswith(("positive : negative", "yearly category",
                                                                "new category"))]
    assert len(clear) == 4
    for name in clear:
        assert by_name.loc[name, "passed"], f"{name}: {by_name.loc[name, 'mean']}"


def test_a_fact_passes_only_inside_its_range():
    fact = Fact("x", "a study", "2 to 4", 2.0, 4.0, [2.5, 3.0, 3.5])
    assert fact.passed and fact.interval()[0] == pytest.approx(3.0)
    assert not Fact("x", "a study", "2 to 4", 2.0, 4.0, [4.5, 5.0]).passed
    assert Fact("x", "a study", "> 0", 0.0, np.inf, [0.1]).passed


def test_half_times_find_a_fast_fall_and_a_slow_recovery():
    days = np.arange(200)
    series = np.where(days < 50, 0.5, np.where(days < 100, 0.5 - 0.1 * np.minimum(days - 50, 10),
                                                -0.5 + 0.02 * np.maximum(days - 100, 0)))
    series = np.minimum(series, 0.5)
    down, up = half_times(series, 50, 100)
    assert down == 5  # half of the fall of 1.0 after 5 days
    assert up == 25  # half of the way back after 25 days
