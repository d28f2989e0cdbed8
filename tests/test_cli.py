"""The ``momentsim`` command, run as a real process (``python -m sim``).

Runs are kept small (30 days, 300 consumers). Independent processes are started
side by side, a few at a time, so the whole file stays fast on a small machine.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sim.scenario import shipped

SMALL = ["--steps", "30", "--set", "population.size=300"]
SHIPPED = ["baseline", "review_prompts", "quality_crisis", "hype_vs_reality", "service_recovery",
           "mobile_micro_moments", "bass"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STAGES = ["stage_dormant", "stage_stimulus", "stage_zmot", "stage_fmot", "stage_smot", "stage_umot"]
TOTALS = ["purchases", "experiences_satisfied", "experiences_dissatisfied", "shares_positive",
          "shares_negative", "adopters"]
PER_BRAND = ["sentiment", "rating", "aware", "purchases", "market_share", "shares_positive",
             "shares_negative", "revenue"]
MODEL_COLUMNS = (["step"] + STAGES + TOTALS
                 + [f"{c}_{b}" for c in PER_BRAND for b in ("ours", "theirs")])

ENV = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}


def momentsim(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


def momentsim_many(jobs: dict[str, list], cwd: Path) -> dict[str, subprocess.CompletedProcess]:
    """Run several independent commands side by side; results by job name."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(momentsim, *args, cwd=cwd) for name, args in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (f"exit {result.returncode}\nstdout:\n{result.stdout}\n"
                                    f"stderr:\n{result.stderr}")
    assert "Traceback" not in result.stderr
    return result


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return list(rows[0]), rows


# A scenario with events inside the 30 days, so that rerunning its scenario.toml
# checks that events are written down too.
CRISIS = """\
steps = 365
seed = 1

[about]
title = "A short crisis"
summary = "Quality drops on day 8, price rises on day 15."

[population]
size = 2000

[network]
kind = "scale_free"

[brands.ours]
quality = 0.7

[[events]]
day = 15
brand = "theirs"
lever = "price"
value = 12.0

[[events]]
day = 8
brand = "ours"
lever = "quality"
value = 0.3
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The successful runs, started together."""
    base = tmp_path_factory.mktemp("runs")
    (base / "crisis.toml").write_text(CRISIS, encoding="utf-8")
    jobs = {
        "a": ["run", "baseline", *SMALL, "--seed", "7", "--out", base / "a"],
        "a_again": ["run", "baseline", *SMALL, "--seed", "7", "--out", base / "a_again"],
        "other_seed": ["run", "baseline", *SMALL, "--seed", "8", "--out", base / "other_seed"],
        "first": ["run", base / "crisis.toml", *SMALL, "--seed", "5",
                  "--set", "sharing.negative_multiplier=2.5", "--set", "brands.ours.service_recovery=0.6",
                  "--set", 'network.kind="small_world"', "--out", base / "first"],
        "scenarios": ["scenarios"],
        "bass": ["validate", "bass", "--p", "0.5", "--q", "4", "--years", "1", "--population", "300",
                 "--out", base / "bass"],
    }
    results = momentsim_many(jobs, cwd=base)
    return base, results


# --- run --------------------------------------------------------------------------------

def test_run_writes_the_four_files(runs):
    base, results = runs
    result = ok(results["a"])
    out = base / "a"
    assert sorted(p.name for p in out.iterdir()) == [
        "scenario.toml", "sentiment.png", "summary.json", "timeseries.csv"]
    # a short summary on stdout
    assert any("30 days" in line and "300 consumers" in line and "seed 7" in line
               for line in result.stdout.splitlines()), result.stdout
    assert "timeseries.csv" in result.stdout
    assert not (base / "out").exists()  # --out was honoured, nothing in the default folder


def test_timeseries_has_a_row_a_day_and_the_model_columns(runs):
    base, results = runs
    ok(results["a"])
    columns, rows = read_table(base / "a" / "timeseries.csv")
    assert len(rows) == 31  # day 0 and 30 days
    assert [int(r["step"]) for r in rows] == list(range(31))
    missing = [c for c in MODEL_COLUMNS if c not in columns]
    assert not missing, f"columns of MODEL.md missing: {missing}"
    assert columns[0] == "step"
    for row in rows:
        assert sum(int(row[c]) for c in STAGES) == 300, row["step"]
        for c in columns:
            assert row[c] not in ("", "nan", "NaN"), (row["step"], c)


def test_summary_json_and_png(runs):
    base, results = runs
    ok(results["a"])
    summary = json.loads((base / "a" / "summary.json").read_text(encoding="utf-8"))
    assert summary["days"] == 30 and summary["population"] == 300 and summary["seed"] == 7
    assert set(summary["brands"]) == {"ours", "theirs"}
    assert (base / "a" / "sentiment.png").read_bytes().startswith(PNG_SIGNATURE)


def test_same_seed_same_bytes_other_seed_other_bytes(runs):
    base, results = runs
    for name in ("a", "a_again", "other_seed"):
        ok(results[name])
    first = (base / "a" / "timeseries.csv").read_bytes()
    assert first == (base / "a_again" / "timeseries.csv").read_bytes()
    assert first != (base / "other_seed" / "timeseries.csv").read_bytes()


def test_written_scenario_reruns_exactly(runs):
    base, results = runs
    ok(results["first"])
    written = base / "first" / "scenario.toml"
    text = written.read_text(encoding="utf-8")
    # the --set overrides, --steps and --seed are recorded
    for line in ("negative_multiplier = 2.5", "service_recovery = 0.6", 'kind = "small_world"',
                 "size = 300", "steps = 30", "seed = 5"):
        assert line in text, line
    events = tomllib.loads(text)["events"]
    assert events == [{"day": 8, "brand": "ours", "lever": "quality", "value": 0.3},
                      {"day": 15, "brand": "theirs", "lever": "price", "value": 12.0}]

    ok(momentsim("run", written, "--out", base / "rerun", cwd=base))
    assert ((base / "rerun" / "timeseries.csv").read_bytes()
            == (base / "first" / "timeseries.csv").read_bytes())
    first = json.loads((base / "first" / "summary.json").read_text(encoding="utf-8"))
    again = json.loads((base / "rerun" / "summary.json").read_text(encoding="utf-8"))
    first.pop("scenario"), again.pop("scenario")  # named after the file
    made, remade = first.pop("provenance"), again.pop("provenance")  # when and how each was made
    assert first == again
    assert made["momentsim"] == remade["momentsim"] and made["command"] != remade["command"]


# --- scenarios ------------------------------------------------------------------------------

def test_scenarios_lists_the_shipped_ones_one_line_each(runs):
    _, results = runs
    result = ok(results["scenarios"])
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    names = [line.split()[0] for line in lines]
    assert sorted(names) == sorted(shipped())
    assert set(SHIPPED) <= set(names)
    assert len(lines) == len(set(names))  # one line each
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # a name, then its summary


# --- validate bass --------------------------------------------------------------------------

def test_validate_bass(runs):
    base, results = runs
    result = ok(results["bass"])
    assert any("largest gap" in line for line in result.stdout.splitlines()), result.stdout
    columns, rows = read_table(base / "bass" / "bass.csv")
    assert columns[:3] == ["t_years", "simulated", "closed_form"]  # then daily_stages
    assert len(rows) == 366  # 365 days and day 0
    assert float(rows[0]["t_years"]) == 0.0 and float(rows[-1]["t_years"]) == pytest.approx(1.0)
    for row in rows:
        assert 0.0 <= float(row["simulated"]) <= 1.0 and 0.0 <= float(row["closed_form"]) <= 1.0
        assert 0.0 <= float(row["daily_stages"]) <= float(row["closed_form"]) + 1e-12


# --- bad input: one line on stderr, exit 2, no traceback, nothing written ----------------

# (id, files to create, arguments after `run`, substrings the message must contain).
# "{dir}" stands for the folder holding the files, "{baseline}" for the shipped baseline.
BAD = [
    ("unknown_key_in_file", {"typo.toml": "[sharing]\nnegative_multiplyer = 2\n"},
     ["{dir}/typo.toml"],
     ["{dir}/typo.toml", "sharing.negative_multiplyer", "did you mean 'sharing.negative_multiplier'"]),
    ("unknown_key_in_set", {},
     ["baseline", "--set", "wom.rech=0.2"],
     ["{baseline}", "wom.rech", "unknown key", "did you mean 'wom.reach'"]),
    ("wrong_type_in_set", {},
     ["baseline", "--set", "population.size=many"],
     ["{baseline}", "population.size", "expected an integer", "found 'many'"]),
    ("probability_outside", {"prob.toml": "[sharing]\npublic_fraction = 1.5\n"},
     ["{dir}/prob.toml"],
     ["{dir}/prob.toml", "sharing.public_fraction", "expected a number in [0, 1]", "found 1.5"]),
    ("population_zero", {"zero.toml": "[population]\nsize = 0\n"},
     ["{dir}/zero.toml"],
     ["{dir}/zero.toml", "population.size", "expected an integer > 0", "found 0"]),
    ("event_missing_brand",
     {"event.toml": '[[events]]\nday = 3\nbrand = "mine"\nlever = "quality"\nvalue = 0.3\n'},
     ["{dir}/event.toml"],
     ["{dir}/event.toml", "events[0].brand", "found 'mine'"]),
    ("malformed_toml", {"broken.toml": "steps = 30\n[population\nsize = 300\n"},
     ["{dir}/broken.toml"],
     ["{dir}/broken.toml", "malformed TOML", "line 2"]),
    ("missing_scenario_file", {},
     ["{dir}/nope.toml"],
     ["{dir}/nope.toml", "no such file"]),
    ("unknown_scenario_name", {},
     ["basline"],
     ["basline", "no such scenario", "did you mean 'baseline'"]),
    ("unreadable_edge_list",
     {"unreadable.toml": '[network]\nkind = "file"\nfile = "latin1_edges.txt"\n',
      "latin1_edges.txt": "ann b\u00e9a\n".encode("latin-1")},
     ["{dir}/unreadable.toml"],
     ["{dir}/unreadable.toml", "network.file", "latin1_edges.txt", "cannot read"]),
    ("malformed_edge_list",
     {"edges.toml": '[network]\nkind = "file"\nfile = "four.txt"\n', "four.txt": "a b\nb c d e\n"},
     ["{dir}/edges.toml"],
     ["{dir}/edges.toml", "network.file", "four.txt", "line 2", "found 'b c d e'"]),
    ("set_without_value", {},
     ["baseline", "--set", "population.size"],
     ["--set", "population.size", "expected dotted.key=value"]),
]
OUT_STATES = ["absent", "empty"]
# Every case runs with an --out folder that does not exist; these also with an empty one
# that exists beforehand (each run is a fresh Python process: all of them twice would be slow,
# and the check of --out comes after the scenario is resolved whatever the mistake).
EMPTY_TOO = {"unknown_key_in_file", "unknown_key_in_set", "malformed_edge_list"}
BAD_RUNS = [(case, state) for case, *_ in BAD for state in OUT_STATES
            if state == "absent" or case in EMPTY_TOO]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every bad command, with an --out folder that does not exist (nor its parent), some also
    with an empty one."""
    folder = tmp_path_factory.mktemp("bad")
    for _, files, _, _ in BAD:
        for name, content in files.items():
            target = folder / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
    fill = {"dir": str(folder), "baseline": str(shipped()["baseline"])}
    jobs, expected = {}, {}
    arguments = {case: args for case, _, args, _ in BAD}
    for case, _, _, must in BAD:
        expected[case] = [m.format(**fill) for m in must]
    for case, state in BAD_RUNS:
        out = folder / f"out_{case}_{state}"
        if state == "empty":
            out.mkdir()
        else:
            out = out / "nested"
        jobs[case, state] = ["run", *[a.format(**fill) for a in arguments[case]], "--out", out]
    # a bad option: argparse's own error
    for state in OUT_STATES:
        out = folder / f"out_bad_option_{state}"
        if state == "empty":
            out.mkdir()
        else:
            out = out / "nested"
        jobs["bad_option", state] = ["run", "baseline", "--steps", "-3", "--out", out]
    return folder, momentsim_many(jobs, cwd=folder), expected


def _assert_nothing_written(out: Path, state: str) -> None:
    if state == "absent":
        assert not out.exists(), f"{out} was created"
    else:
        assert out.is_dir() and list(out.iterdir()) == [], f"{out} holds {list(out.iterdir())}"


@pytest.mark.parametrize("case,state", BAD_RUNS, ids=[f"{c}-{s}" for c, s in BAD_RUNS])
def test_bad_input_one_message_exit_2_nothing_written(bad_runs, case, state):
    folder, results, expected = bad_runs
    result = results[case, state]
    assert result.returncode == 2, f"exit {result.returncode}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"one line expected on stderr:\n{result.stderr}"
    message = lines[0]
    assert message.startswith("momentsim: error: "), message
    for part in expected[case]:
        assert part in message, f"{part!r} not in {message!r}"
    assert result.stdout == ""
    _assert_nothing_written(folder / f"out_{case}_{state}", state)
    assert not (folder / "out").exists()  # nor in the default folder


@pytest.mark.parametrize("state", OUT_STATES)
def test_bad_option_exit_2(bad_runs, state):
    folder, results, _ = bad_runs
    result = results["bad_option", state]
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("momentsim run: error:"), result.stderr
    assert "--steps" in last and "expected a positive integer" in last and "'-3'" in last
    _assert_nothing_written(folder / f"out_bad_option_{state}", state)
