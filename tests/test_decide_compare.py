"""Replicated what-ifs: paired seeds, paired 95 % intervals, the command and its files."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.decide import KPIS, paired_interval, parse_variant, replicate_seeds
from sim.params import ScenarioError

SMALL = {"engine": "array", "population.size": 200}
ENV = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}


def momentsim(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


# --- the interval ----------------------------------------------------------------------------

def test_paired_interval_covers_the_true_effect_95_percent_of_the_time():
    """4,000 synthetic paired experiments (shared noise + own noise): coverage within 3 standard errors."""
    rng = np.random.default_rng(2024)
    trials, n, effect = 4000, 8, 1.5
    shared = rng.normal(100.0, 20.0, size=(trials, n))
    base = shared + rng.normal(0.0, 1.0, size=(trials, n))
    variant = shared + effect + rng.normal(0.0, 1.0, size=(trials, n))
    covered = [lo <= effect <= hi for lo, hi in
               (paired_interval(variant[i], base[i])[2:] for i in range(trials))]
    se = math.sqrt(0.95 * 0.05 / trials)
    assert abs(np.mean(covered) - 0.95) < 3 * se


def test_pairing_removes_the_noise_the_arms_share():
    """With shared noise, the paired interval is far narrower than an unpaired (Welch) one."""
    rng = np.random.default_rng(7)
    shared = rng.normal(100.0, 20.0, size=(500, 8))
    base, variant = shared + rng.normal(0, 1, shared.shape), shared + 1.5 + rng.normal(0, 1, shared.shape)
    paired = np.mean([np.subtract(*paired_interval(v, b)[3:1:-1]) for v, b in zip(variant, base)])
    welch = np.mean([2 * stats.t.ppf(0.975, 7) * math.sqrt((v.var(ddof=1) + b.var(ddof=1)) / 8)
                     for v, b in zip(variant, base)])
    assert paired < welch / 5


def test_replicate_seeds_are_distinct_reproducible_and_the_sweeps_derivation():
    seeds = replicate_seeds(42, 6)
    assert seeds == replicate_seeds(42, 6) and len(set(seeds)) == 6 and seeds != replicate_seeds(43, 6)
    assert seeds[3] == int(np.random.SeedSequence(42, spawn_key=(3,)).generate_state(1)[0])


def test_variants_parse_with_commas_between_settings():
    name, changes = parse_variant("better service:brands.ours.service_recovery=0.6,brands.ours.service_cost=3")
    assert name == "better service" and changes == {"brands.ours.service_recovery": 0.6,
                                                    "brands.ours.service_cost": 3}
    with pytest.raises(ScenarioError, match="NAME:key=value"):
        parse_variant("no colon")


# --- the runs -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def what_if():
    """An accounting-only variant (a dearer product, same behaviour) and a behavioural one."""
    return sim.compare("baseline", replicates=4, seed=11, steps=40, overrides=SMALL, workers=2,
                       variants={"dearer": {"brands.ours.unit_cost": 7.0},
                                 "service": {"brands.ours.service_recovery": 0.9, "brands.ours.service_cost": 4.0}})


def test_common_random_numbers_make_an_accounting_change_exact(what_if):
    """Replicate i of every arm runs on one seed: a cost change moves profit by exactly cost x sales."""
    v = what_if.values
    base, dearer = v[v["arm"] == "scenario"].reset_index(), v[v["arm"] == "dearer"].reset_index()
    assert list(base["seed"]) == list(dearer["seed"]) == replicate_seeds(11, 4)
    assert (base["sales"] == dearer["sales"]).all() and (base["revenue"] == dearer["revenue"]).all()
    assert np.allclose(dearer["profit"] - base["profit"], -1.0 * base["sales"])
    e = what_if.effects().set_index(["kpi", "arm"])
    assert e.loc[("revenue", "dearer"), ["effect", "effect_low", "effect_high"]].tolist() == [0.0, 0.0, 0.0]
    sales = base["sales"].to_numpy()
    half = stats.t.ppf(0.975, 3) * sales.std(ddof=1) / 2
    assert e.loc[("profit", "dearer"), "effect_low"] == pytest.approx(-sales.mean() - half)


def test_effects_table_has_every_kpi_and_arm(what_if):
    e = what_if.effects()
    assert set(e["kpi"]) == set(KPIS) and set(e["arm"]) == {"scenario", "dearer", "service"}
    assert (e["n"] == 4).all()
    service = e[(e["arm"] == "service")].set_index("kpi")
    assert (service["effect_low"] <= service["effect"]).all() and (service["effect"] <= service["effect_high"]).all()
    # the service variant resolves more complaints at a dearer contact: its profit and revenue effects differ
    assert service.loc["profit", "effect"] != service.loc["revenue", "effect"]


def test_the_old_two_run_compare_is_unchanged():
    c = sim.compare("baseline", {"brands.ours.price": 12.0}, steps=10, seed=3)
    assert isinstance(c, sim.Comparison) and c.difference().shape[0] == 11


def test_too_many_variants_and_bad_values_are_refused_before_any_run():
    with pytest.raises(ScenarioError, match="at most 4"):
        sim.compare("baseline", replicates=2, variants={f"v{i}": {"brands.ours.price": 9.0} for i in range(5)})
    with pytest.raises(ScenarioError, match="variant 'x'.*quality"):
        sim.compare("baseline", replicates=2, variants={"x": {"brands.ours.quality": 3.0}})


# --- the command -----------------------------------------------------------------------------------

def test_compare_command_writes_its_files_and_prints_points_and_currency(tmp_path: Path):
    out = tmp_path / "cmp"
    result = momentsim("compare", "baseline", "--steps", "30", "--set", "engine=array",
                       "--set", "population.size=200", "--set", 'economics.currency="EUR"',
                       "--variant", "cut:brands.ours.price=8", "--replicates", "3", "--seed", "5",
                       "--workers", "2", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "EUR" in result.stdout and " pp " in result.stdout and "95 % interval" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["compare.csv", "compare.json", "compare.png",
                                                     "replicates.csv", "scenario.toml"]
    table = pd.read_csv(out / "compare.csv")
    assert len(table) == len(KPIS) * 2
    meta = json.loads((out / "compare.json").read_text())
    assert meta["seeds"] == replicate_seeds(5, 3) and meta["variants"] == {"cut": {"brands.ours.price": 8}}
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, words", [
    (["--variant", "oops"], "NAME:key=value"),
    (["--variant", "x:brands.ours.pryce=3"], "did you mean 'price'"),
    (["--variant", "a:brands.ours.price=9", "--variant", "a:brands.ours.price=8"], "already"),
    (["--brand", "mine"], "expected one of ours, theirs")])
def test_compare_command_mistakes_exit_2_and_write_nothing(tmp_path: Path, capsys, args, words):
    from sim.cli import main

    assert main(["compare", "baseline", *args, "--out", str(tmp_path / "o")]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_dask_cluster_gives_the_same_replicates_as_local_processes(what_if):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on_dask = sim.compare("baseline", replicates=4, seed=11, steps=40, overrides=SMALL,
                              scheduler=cluster.scheduler_address,
                              variants={"dearer": {"brands.ours.unit_cost": 7.0},
                                        "service": {"brands.ours.service_recovery": 0.9, "brands.ours.service_cost": 4.0}})
    assert on_dask.executor == "dask"
    pd.testing.assert_frame_equal(on_dask.values, what_if.values)
    pd.testing.assert_frame_equal(on_dask.effects(), what_if.effects())


# --- the report ---------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


def test_the_report_of_a_comparison_renders_offline_in_chromium(what_if, tmp_path: Path):
    """Open report.html in headless Chromium with every request but the file refused: all charts show."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium")
    from sim.decide.report import report

    what_if.write(tmp_path / "cmp")
    page_file = report(tmp_path / "cmp")
    text = page_file.read_text(encoding="utf-8")
    assert "Effect on profit" in text and "95 % interval" in text and " pp" in text
    assert "dearer" in text and "brands.ours.unit_cost = 7.0" in text and "Provenance" in text
    assert json.dumps(replicate_seeds(11, 4)) in text
    requested = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update"])
        try:
            page = browser.new_page()

            def refuse(route):
                requested.append(route.request.url)
                route.abort() if not route.request.url.startswith(("file:", "data:")) else route.continue_()

            page.route("**/*", refuse)
            page.goto(page_file.as_uri())
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
            assert widths and all(w and w > 500 for w in widths)
            assert page.inner_text("h1") == "What-if: baseline"
        finally:
            browser.close()
    assert all(url.startswith(("file:", "data:")) for url in requested), requested


def test_the_report_of_a_single_run_shows_its_profit_and_warns_it_is_one_run(tmp_path: Path):
    from sim.decide.report import report

    sim.run("baseline", steps=20, overrides=SMALL).write(tmp_path / "run")
    text = report(tmp_path / "run").read_text(encoding="utf-8")
    assert "profit (units)" in text and "one possible history" in text and text.count("base64,") == 1
