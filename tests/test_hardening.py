"""No traceback for a user's mistake, for every command: a corpus of bad inputs, by class.

Each case builds its input in a fresh folder and names the command line; the property checked is
the same for all: exit status 2, one message on stderr that starts ``momentsim: error:`` and names
what the case says (the file, the key, the limit), no Python traceback, and nothing written (the
folder holds exactly what it held before). Add a case here for every new input path.

Most cases call ``sim.cli.main`` in this process (fast); those that could hang or that need a real
process (a FIFO, a Dask scheduler nobody runs, argparse's own exit) run ``python -m sim`` with a
timeout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import pytest

import sim
from sim.cli import COMMANDS, main
from sim.params import ScenarioError

ENV = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
TINY = ["--steps", "3", "--set", "population.size=20"]
TINY_SWEEP = """
scenario = "baseline"
steps = 3
seed = 5
replicates = 2
outputs = ["sentiment_ours", "market_share_ours"]

[set]
"population.size" = 30

[vary]
"sharing.negative_multiplier" = [1, 4]
"""


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with a hash of its bytes (folders: 'dir')."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            out[rel] = "dir"
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "special"
    return out


def check_message(code: int, err: str, must: list[str]) -> None:
    assert code == 2, f"exit {code}, expected 2\nstderr:\n{err}"
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("momentsim: warning")]
    assert lines and lines[-1].startswith(("momentsim: error:", "momentsim ")), err
    error_lines = [line for line in lines if "error:" in line]
    assert len(error_lines) == 1, f"one error line expected:\n{err}"
    assert len(err) < 3000, f"message too long ({len(err)} characters)"
    for part in must:
        assert part in err, f"{part!r} not in:\n{err}"


# --- the corpus ------------------------------------------------------------------------------------
# Each case: (id, build(tmp) -> argv, substrings the message must contain). In build, "{tmp}" is the
# case's folder; anything the case needs is made there before the snapshot is taken.

def _file(tmp: Path, name: str, text: str | bytes) -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def _regular_file(tmp: Path) -> Path:
    return _file(tmp, "a_file", "not a folder\n")


def _dangling(tmp: Path) -> Path:
    link = tmp / "dangling"
    link.symlink_to(tmp / "nowhere" / "at_all")
    return link


LONG_NAME = "x" * 300
OUTPUT_PLACES = {
    "under_a_file": (lambda t: _regular_file(t) / "out", ["expected a folder, found a file"]),
    "is_a_file": (lambda t: _regular_file(t), ["expected a folder, found a file"]),
    "dangling_symlink": (_dangling, ["symbolic link to nothing"]),
    "name_too_long": (lambda t: t / LONG_NAME / "out", ["longer than 255 bytes"]),
    "under_proc": (lambda t: Path("/proc/momentsim-no-such/out"), ["cannot write there"]),
}


def _sweep_spec(tmp: Path, text: str = TINY_SWEEP) -> Path:
    return _file(tmp, "study.toml", text)


def _output_cases():
    for name, (place, must) in OUTPUT_PLACES.items():
        yield (f"run-out-{name}", lambda t, p=place: ["run", "baseline", *TINY, "--out", str(p(t))],
               ["--out", *must])
        yield (f"sweep-out-{name}", lambda t, p=place: ["sweep", str(_sweep_spec(t)), "--out", str(p(t))],
               ["--out", *must])
        yield (f"bass-out-{name}", lambda t, p=place: ["validate", "bass", "--years", "0.05", "--population",
                                                       "30", "--out", str(p(t))], ["--out", *must])


def deep(n: int, open_: str, close: str) -> str:
    return open_ * n + close * n


PATHOLOGICAL_TOML = {
    "arrays_5000_deep": ("x = " + deep(5000, "[", "]") + "\n", ["nested too deep"]),
    "inline_tables_3000_deep": ("x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", ["nested too deep"]),
    "dotted_key_5000_levels": (".".join(["a"] * 5000) + " = 1\n", ["nested too deep"]),
    "header_5000_levels": ("[" + ".".join(["a"] * 5000) + "]\nx = 1\n", ["nested too deep"]),
    "number_5000_digits": ("steps = " + "9" * 5000 + "\n", ["number literal too long", "4,300 digits"]),
    "arrays_40_deep": ("x = " + deep(40, "[", "]") + "\n", ["nested too deep", "32 levels"]),
}


def _toml_cases():
    for name, (text, must) in PATHOLOGICAL_TOML.items():
        yield (f"run-toml-{name}", lambda t, x=text: ["run", str(_file(t, "bad.toml", x)), *TINY, "--out",
                                                      str(t / "out")], ["bad.toml", *must])
        yield (f"sweep-toml-{name}", lambda t, x=text: ["sweep", str(_file(t, "bad.toml", 'scenario = "baseline"\n'
                                                                             + x)), "--out", str(t / "out")],
               ["bad.toml", *must])
        yield (f"ui-toml-{name}", lambda t, x=text: ["ui", str(_file(t, "bad.toml", x)), "--port", "1"],
               ["bad.toml", *must])
    yield ("run-set-arrays-3000-deep", lambda t: ["run", "baseline", "--set", "steps=" + deep(3000, "[", "]"),
                                                  "--out", str(t / "out")], ["--set steps", "nested too deep"])
    yield ("run-set-number-5000-digits", lambda t: ["run", "baseline", "--set", "seed=" + "9" * 5000,
                                                    "--out", str(t / "out")], ["--set seed", "4,300 digits"])


SIZES = [
    ("run-population-2e63", ["run", "baseline", "--set", f"population.size={2**63 - 1}"],
     ["population.size", "expected"]),  # the schema's range or the engine's limit, whichever is lower
    ("run-population-1e29", ["run", "baseline", "--set", f"population.size={10**29}"],
     ["population.size", "expected"]),
    ("run-array-population-1e12", ["run", "baseline", "--engine", "array", "--set", f"population.size={10**12}"],
     ["population.size", "expected"]),
    ("run-steps-1e30", ["run", "baseline", "--steps", str(10**30)], ["steps", "expected"]),
    ("run-mean-degree-huge", ["run", "baseline", "--set", "population.size=1000000", "--engine", "array",
                              "--set", "network.mean_degree=1000"], ["network.mean_degree", "400,000,000"]),
    ("run-array-purchase-cycle-1e18", ["run", "baseline", "--engine", "array", "--set",
                                       "journey.purchase_cycle_days=1e18"], ["journey.purchase_cycle_days", "expected"]),
    ("run-array-research-days-1e308", ["run", "baseline", "--engine", "array", "--set",
                                       "journey.research_days=1e308"], ["journey.research_days", "expected"]),
    ("run-array-experience-days-1e30", ["run", "baseline", "--engine", "array", "--set",
                                        "journey.experience_days=1e30"], ["journey.experience_days", "expected"]),
    ("bass-years-1e308", ["validate", "bass", "--years", "1e308"], ["--years", "expected at most 100 years"]),
    ("bass-years-tiny", ["validate", "bass", "--years", "0.0001"], ["--years", "at least one day"]),
    ("bass-population-huge", ["validate", "bass", "--population", str(10**12)], ["--population", "at most"]),
]


def _size_cases():
    for name, argv, must in SIZES:
        yield (name, lambda t, a=argv: [*a, "--out", str(t / "out")], must)
    for name, extra, must in [
        ("grid-1e12-runs", '"brands.ours.quality" = { low = 0.0, high = 1.0, num = 1000000 }\n'
                           '"brands.theirs.quality" = { low = 0.0, high = 1.0, num = 1000000 }\n',
         ["1,000,000 x 1,000,000 points", "expected at most 1,000,000"]),
        ("grid-step-tiny", '"brands.ours.quality" = { low = 0.0, high = 1.0, step = 1e-12 }\n',
         ["step", "at most 1,000,000 values"]),
    ]:
        text = 'scenario = "baseline"\nsteps = 3\n[vary]\n' + extra
        yield (f"sweep-{name}", lambda t, x=text: ["sweep", str(_file(t, "big.toml", x)), "--out", str(t / "out")],
               ["big.toml", *must])
    for name, top, must in [
        ("replicates-1e12", f"replicates = {10**12}\n", ["replicates", "expected an integer <= 1,000,000"]),
        ("sobol-samples-2e40", f'design = "sobol"\nsamples = {2**40}\n', ["samples", "<= 1,000,000"]),
        ("sobol-runs-too-many", 'design = "sobol"\nsamples = 524288\nreplicates = 4\n',
         ["runs; expected at most 1,000,000"]),
        ("steps-1e30", f"steps = {10**30}\n", ["steps", "expected"]),
        ("population-1e29", f'[set]\n"population.size" = {10**29}\n', ["population.size", "expected"]),
    ]:
        vary = ('[vary]\n"brands.ours.quality" = { low = 0.4, high = 0.8 }\n' if "sobol" in name
                else '[vary]\n"brands.ours.quality" = [0.5, 0.6]\n')
        text = 'scenario = "baseline"\n' + top + vary
        yield (f"sweep-{name}", lambda t, x=text: ["sweep", str(_file(t, "big.toml", x)), "--out", str(t / "out")],
               ["big.toml", *must])


LONG_KEY = "k" * 100_000


def _message_cases():
    yield ("run-unknown-key-100k", lambda t: ["run", str(_file(t, "long.toml", f"{LONG_KEY} = 1\n")),
                                              "--out", str(t / "out")], ["long.toml", "unknown key", "characters"])
    yield ("run-set-unknown-key-100k", lambda t: ["run", "baseline", "--set", f"{LONG_KEY}=1", "--out",
                                                  str(t / "out")], ["unknown key", "characters"])
    yield ("run-set-value-100k", lambda t: ["run", "baseline", "--set", f"network.kind={LONG_KEY}", "--out",
                                            str(t / "out")], ["network.kind", "characters"])
    yield ("sweep-unknown-key-100k", lambda t: ["sweep", str(_file(t, "s.toml", f'scenario = "baseline"\n{LONG_KEY} = 1\n')),
                                                "--out", str(t / "out")], ["s.toml", "unknown key", "characters"])
    yield ("run-brand-100k", lambda t: ["run", str(_file(t, "b.toml", f"[brands.{LONG_KEY}]\nquality = 0.5\n")),
                                        "--out", str(t / "out")], ["b.toml", "no brand", "characters"])


def _edge_list_cases():
    def scenario(t: Path, edges: bytes | str, name: str = "edges.txt") -> list[str]:
        _file(t, name, edges)
        path = _file(t, "net.toml", f'[network]\nkind = "file"\nfile = "{name}"\n')
        return ["run", str(path), "--steps", "3", "--out", str(t / "out")]

    yield ("edges-header-row", lambda t: scenario(t, "source,target\n1,2\n2,3\n"), ["net.toml", "header row",
                                                                                    "line 1"])
    yield ("edges-header-row-gephi", lambda t: scenario(t, "Source,Target,Weight\n1,2,1\n"), ["header row"])
    yield ("edges-nul-bytes", lambda t: scenario(t, b"1 2\n2 \x003\n"), ["net.toml", "NUL byte", "line 2"])
    yield ("edges-is-the-scenario", lambda t: ["run", str(_file(t, "self.toml",
                                                               '[network]\nkind = "file"\nfile = "self.toml"\n')),
                                               "--out", str(t / "out")], ["self.toml", "network.file",
                                                                          "the scenario file itself"])
    yield ("edges-is-a-folder", lambda t: (t / "folder").mkdir() or scenario(t, "1 2\n", "ignored.txt")[:1]
           + [str(_file(t, "net2.toml", '[network]\nkind = "file"\nfile = "folder"\n'))] + ["--out", str(t / "out")],
           ["net2.toml", "expected a regular file, found a folder"])
    yield ("edges-not-utf8", lambda t: scenario(t, "caf\u00e9 1\n".encode("latin-1")), ["net.toml", "edge list"])
    yield ("edges-relative-set-missing", lambda t: ["run", "baseline", "--set", "network.kind=file", "--set",
                                                    "network.file=no_such_edges.txt", "--out", str(t / "out")],
           ["network.file", "no such file", "no_such_edges.txt"])


def _other_cases():
    yield ("run-no-such-scenario", lambda t: ["run", "no_such_scenario", "--out", str(t / "out")],
           ["no such scenario"])
    yield ("run-scenario-is-a-folder", lambda t: (t / "d.toml").mkdir() or ["run", str(t / "d.toml"), "--out",
                                                                            str(t / "out")],
           ["d.toml", "expected a regular file, found a folder"])
    yield ("sweep-spec-missing", lambda t: ["sweep", str(t / "none.toml")], ["none.toml", "no such file"])
    yield ("sweep-spec-latin1", lambda t: ["sweep", str(_file(t, "l.toml", "# caf\u00e9\n".encode("latin-1")))],
           ["l.toml", "expected UTF-8"])
    yield ("sweep-bad-scheduler-address", lambda t: ["sweep", str(_sweep_spec(t)), "--scheduler", "not an address!",
                                                     "--out", str(t / "out")],
           ["--scheduler", "expected a Dask scheduler address"])
    yield ("sweep-report-not-a-folder", lambda t: ["sweep-report", str(_regular_file(t))],
           ["a_file", "expected a sweep's output folder, found a file"])
    yield ("sweep-report-empty-folder", lambda t: (t / "empty").mkdir() or ["sweep-report", str(t / "empty")],
           ["no sweep.json"])
    yield ("scenarios-never-fails", None, [])  # `momentsim scenarios` takes no input: nothing to get wrong
    yield ("ui-scenario-missing", lambda t: ["ui", str(t / "none.toml"), "--port", "1"], ["none.toml", "no such file"])
    # Model v2's facts, and the strategist's decisions (compare, optimise, report).
    yield ("facts-population-huge", lambda t: ["validate", "facts", "--population", str(10**9), "--out",
                                               str(t / "out")], ["--population", "at most"])
    yield ("facts-out-under-a-file", lambda t: (t.joinpath("file").write_text("x"), ["validate", "facts",
           "--seeds", "1", "--out", str(t / "file" / "out")])[1], ["--out", "file"])
    yield ("compare-unknown-key", lambda t: ["compare", "baseline", "--variant", "cheap:brands.ours.prise=8",
                                             "--replicates", "2", "--out", str(t / "out")], ["prise", "did you mean 'price'"])
    yield ("compare-scenario-missing", lambda t: ["compare", str(t / "none.toml"), "--replicates", "2",
                                                  "--out", str(t / "out")], ["none.toml"])
    yield ("optimise-spec-missing", lambda t: ["optimise", str(t / "none.toml")], ["none.toml"])
    yield ("report-folder-missing", lambda t: ["report", str(t / "nothing")], ["nothing"])
    yield ("calibrate-spec-missing", lambda t: ["calibrate", str(t / "none.toml"), "--out", str(t / "out")],
           ["none.toml"])
    # The return on each lever's spend (`momentsim run --returns N`).
    yield ("run-returns-1e12", lambda t: ["run", "baseline", "--returns", str(10**12), "--out", str(t / "out")],
           ["--returns", "expected at most 1,000,000 runs"])
    yield ("run-returns-population-huge", lambda t: ["run", "baseline", "--returns", "4", "--set",
                                                     f"population.size={10**12}", "--out", str(t / "out")],
           ["population.size", "expected"])
    yield ("run-returns-with-posterior", lambda t: ["run", "baseline", "--returns", "4", "--posterior",
                                                    str(t / "posterior.parquet"), "--out", str(t / "out")],
           ["--returns", "without --posterior"])
    yield ("run-returns-out-under-a-file", lambda t: ["run", "baseline", "--returns", "4", "--out",
                                                      str(_regular_file(t) / "out")], ["--out", "a_file"])
    # The classroom's brand game (issue 12).
    yield ("classroom-scenario-missing", lambda t: ["classroom", str(t / "none.toml"), "--dir", str(t / "game")],
           ["none.toml", "no such file"])
    yield ("classroom-too-many-teams", lambda t: ["classroom", "--teams", "17", "--dir", str(t / "game")],
           ["--teams", "expected 1 to 16 teams, found 17"])
    yield ("classroom-dir-under-a-file", lambda t: ["classroom", "--dir", str(_regular_file(t) / "game")],
           ["--dir", "a_file"])
    yield ("classroom-damaged-game-file", lambda t: (_file(t, "game/game.json", "{damaged"),
                                                     ["classroom", "--dir", str(t / "game")])[1],
           ["game.json", "cannot resume the game"])


CORPUS = [*_output_cases(), *_toml_cases(), *_size_cases(), *_message_cases(), *_edge_list_cases(),
          *_other_cases()]
RUNNABLE = [c for c in CORPUS if c[1] is not None]


@pytest.mark.parametrize("build,must", [c[1:] for c in RUNNABLE], ids=[c[0] for c in RUNNABLE])
def test_bad_input_is_one_message_exit_2_and_nothing_written(tmp_path, monkeypatch, capsys, build, must):
    case = tmp_path / "case"
    case.mkdir()
    monkeypatch.chdir(case)
    argv = build(case)
    before = snapshot(case)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    check_message(code, err, must)
    assert snapshot(case) == before, "something was written"


def test_the_engine_limits_are_named_below_the_schema_ranges():
    """Within the schema's ranges, the engines' own limits still refuse what cannot run, naming them."""
    from sim import api
    from sim.params import SCHEMA

    high = SCHEMA["population.size"].high
    for engine, limit in api.MAX_POPULATION.items():
        if high is None or high > limit:
            with pytest.raises(ScenarioError, match=f"expected at most {limit:,} consumers on the {engine} engine"):
                api.check_size(sim.load("baseline", {"engine": engine, "population.size": limit + 1}))


def test_the_corpus_covers_every_command():
    """Every command of `momentsim` has bad-input cases here (add them with a new command)."""
    covered = {c[0].split("-")[0] for c in CORPUS}
    names = {"run": "run", "sweep": "sweep", "bass": "validate", "facts": "validate", "ui": "ui",
             "scenarios": "scenarios"}
    commands = {names.get(c, c) for c in covered} | ({"sweep-report"} if any(
        c[0].startswith("sweep-report") for c in CORPUS) else set())
    assert set(COMMANDS) <= commands, set(COMMANDS) - commands


# --- damaged result folders: one real sweep, copied and damaged per case -----------------------------

@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> tuple[Path, Path]:
    """A finished tiny sweep (4 runs, two part files)."""
    from sim.sweep import load_sweep, run_sweep

    folder = tmp_path_factory.mktemp("sweep")
    spec = _sweep_spec(folder)
    out = folder / "out"
    sweep = load_sweep(spec)
    run_sweep(sweep, out, executor=_Inline(), batch=2)
    assert len(list((out / "runs").glob("part-*.parquet"))) == 2
    return spec, out


class _Inline(Executor):
    """An executor that runs each task at once in this process (fast, for setting up)."""
    _max_workers = 1

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _part(out: Path) -> Path:
    return sorted((out / "runs").glob("part-*.parquet"))[0]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _part_is_folder(out: Path) -> None:
    part = _part(out)
    part.unlink()
    part.mkdir()


def _sweep_json(out: Path, change) -> None:
    path = out / "sweep.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


DAMAGE = {
    "part-truncated": (lambda out: _truncate(_part(out)), ["part-000000.parquet", "corrupt or truncated"]),
    "part-garbage": (lambda out: _part(out).write_bytes(b"PAR1 not really" * 10), ["part-000000.parquet",
                                                                                    "corrupt or truncated"]),
    "part-empty": (lambda out: _part(out).write_bytes(b""), ["part-000000.parquet", "corrupt or truncated"]),
    "part-is-a-folder": (_part_is_folder, ["part-000000.parquet", "found a folder"]),
    "sweep-json-garbage": (lambda out: (out / "sweep.json").write_bytes(b"{not json"), ["sweep.json", "malformed JSON"]),
    "sweep-json-empty": (lambda out: (out / "sweep.json").write_bytes(b""), ["sweep.json", "an empty file"]),
    "sweep-json-latin1": (lambda out: (out / "sweep.json").write_bytes('{"name": "caf\u00e9"}'.encode("latin-1")),
                          ["sweep.json", "expected UTF-8"]),
    "sweep-json-a-list": (lambda out: (out / "sweep.json").write_text("[1, 2]"), ["sweep.json", "a JSON object"]),
    "sweep-json-no-outputs": (lambda out: _sweep_json(out, lambda d: d.pop("outputs")), ["sweep.json", "outputs",
                                                                                         "missing"]),
    "sweep-json-outputs-not-names": (lambda out: _sweep_json(out, lambda d: d.update(outputs=[1, 2])),
                                     ["sweep.json", "outputs", "expected a list of names"]),
    "sweep-json-design-tampered": (lambda out: _sweep_json(out, lambda d: d.update(design="sobol")),
                                   ["sweep.json", "problem"]),
    "sweep-json-unknown-design": (lambda out: _sweep_json(out, lambda d: d.update(design="magic")),
                                  ["sweep.json", "design", "magic"]),
    "sweep-json-deep": (lambda out: (out / "sweep.json").write_text("[" * 100_000 + "]" * 100_000),
                        ["sweep.json"]),
}


@pytest.mark.parametrize("command", ["sweep-report", "resume"])
@pytest.mark.parametrize("damage,must", list(DAMAGE.values()), ids=list(DAMAGE))
def test_damaged_result_folder_is_one_message_exit_2(tmp_path, capsys, finished_sweep, command, damage, must):
    spec, original = finished_sweep
    out = tmp_path / "out"
    shutil.copytree(original, out)
    damage(out)
    before = snapshot(tmp_path)
    argv = ["sweep-report", str(out)] if command == "sweep-report" else ["sweep", str(spec), "--out", str(out)]
    code = main(argv)
    check_message(code, capsys.readouterr().err, must)
    assert snapshot(tmp_path) == before, "something was written"


# --- services and files that would hang: as real processes, with a timeout -----------------------------

def momentsim(*args, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fifo_inputs_are_refused_not_read(tmp_path):
    """A FIFO nobody writes to would block a reader for ever: it is refused as not a regular file."""
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    for argv in (["sweep", fifo], ["run", fifo]):
        result = momentsim(*argv, cwd=tmp_path, timeout=60)
        check_message(result.returncode, result.stderr, [str(fifo), "expected a regular file, found a FIFO"])


def test_a_dask_scheduler_nobody_runs_is_a_clear_error_quickly(tmp_path):
    spec = _sweep_spec(tmp_path)
    started = time.monotonic()
    result = momentsim("sweep", spec, "--scheduler", f"tcp://127.0.0.1:{_free_port()}", "--timeout", "2",
                       "--out", tmp_path / "out", cwd=tmp_path, timeout=120)
    elapsed = time.monotonic() - started
    check_message(result.returncode, result.stderr, ["--scheduler", "no Dask scheduler answered within 2 s"])
    assert not (tmp_path / "out").exists()
    assert elapsed < 60, elapsed


ARGUMENT_ERRORS = [
    (["ui", "--port", "70000"], ["--port", "expected a port number 1-65535, found 70000"]),
    (["ui", "--port", "0"], ["--port", "found 0"]),
    (["sweep", "x.toml", "--timeout", "-1"], ["--timeout"]),
    (["run", "baseline", "--steps", "0"], ["--steps"]),
    (["sweep-report", "x", "--format", "gif"], ["--format", "expected some of png, svg, pdf"]),
    (["run", "baseline", "--returns", "0"], ["--returns", "expected a positive integer, found '0'"]),
    (["run", "baseline", "--returns", "-3"], ["--returns", "found '-3'"]),
    (["run", "baseline", "--returns", "many"], ["--returns", "found 'many'"]),
    (["run", "baseline", "--returns", "2.5"], ["--returns", "found '2.5'"]),
]


def test_argument_errors_exit_2_as_a_process(tmp_path):
    result = momentsim("ui", "--port", "70000", cwd=tmp_path)
    check_message(result.returncode, result.stderr, ARGUMENT_ERRORS[0][1])


@pytest.mark.parametrize("argv,must", ARGUMENT_ERRORS)
def test_argument_errors_exit_2(tmp_path, monkeypatch, capsys, argv, must):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    check_message(code, capsys.readouterr().err, must)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="file permissions do not stop root")
@pytest.mark.parametrize("command", ["run", "sweep", "bass"])
def test_read_only_output_places(tmp_path, monkeypatch, capsys, command):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        for out in (locked / "out", locked):
            argv = {"run": ["run", "baseline", *TINY], "sweep": ["sweep", str(_sweep_spec(tmp_path))],
                    "bass": ["validate", "bass", "--years", "0.05", "--population", "30"]}[command]
            code = main([*argv, "--out", str(out)])
            check_message(code, capsys.readouterr().err, ["--out", "permission denied"])
            assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


# --- the property, explored: any text is a scenario, a sweep file or a --set, or one ScenarioError ----

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sim.scenario import parse_override  # noqa: E402
from sim.sweep import loads_sweep  # noqa: E402

KEYS = ["steps", "seed", "engine", "population.size", "network.kind", "network.file", "market.brands",
        "brands.ours.quality", "brands.theirs.price", "sharing.negative_multiplier", "journey.research_days",
        "events", "about.title", "x" * 200]
VALUES = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
                   st.text(max_size=20), st.booleans(), st.lists(st.text(max_size=5), max_size=3))


def _toml_value(value) -> str:
    import tomli_w

    return tomli_w.dumps({"v": value})[4:].strip() if not isinstance(value, float) or value == value else "nan"


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4))
def test_any_scenario_document_resolves_or_is_one_scenario_error(doc):
    lines = []
    for key, value in doc.items():
        try:
            lines.append(f'"{key}" = {_toml_value(value)}' if "." not in key else
                         f'{key} = {_toml_value(value)}')
        except (TypeError, ValueError):
            continue
    try:
        scenario = sim.loads("\n".join(lines) + "\n", path="fuzz.toml")
    except ScenarioError as exc:
        assert "\n" not in str(exc)
    else:
        assert scenario.params["steps"] >= 1


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=60))
def test_any_set_text_parses_or_is_one_scenario_error(text):
    try:
        key, _ = parse_override(text)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
    else:
        assert key


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet=st.sampled_from(list('[]{}=."abc0123456789 \n,')), max_size=80))
def test_any_sweep_text_loads_or_is_one_scenario_error(text):
    try:
        loads_sweep('scenario = "baseline"\nsteps = 5\n' + text, "fuzz.toml")
    except ScenarioError as exc:
        assert "\n" not in str(exc).rstrip("\n")
