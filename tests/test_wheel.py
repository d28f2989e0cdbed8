"""The installable package: build the wheel once, install it into a fresh venv outside the checkout,
and use it from a temporary folder as a user would (``momentsim run``, ``momentsim scenarios``,
``momentsim sweep`` on a shipped sweep, a notebook's first cell).

The fresh venv gets the wheel itself with ``pip install --no-deps``; its dependencies come from the
development venv's site-packages through a ``.pth`` line (a plain path: the development venv's
editable install of momentsim is *not* activated), so the test needs no network and stays fast.
``pip check`` then confirms that the wheel's declared dependencies are satisfied. Set
``MOMENTSIM_WHEEL_FULL=1`` to install the dependencies from the package index instead (slow).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", ".git", "out", "runs", "build", "dist", "tests", ".pytest_cache", ".hypothesis", "__pycache__"}


def _run(command: list, cwd: Path, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=env)
    assert result.returncode == 0, f"{command}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict]:
    """(the fresh venv's python, a temporary working folder, the environment to run it in)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"  # a copy of the checkout: the build writes nothing into the real one
    shutil.copytree(ROOT, source, ignore=lambda folder, names: [n for n in names if n in SKIP
                                                                or n.endswith(".egg-info")])
    dist = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", ".", "-w", dist],
         cwd=source)
    wheels = list(dist.glob("momentsim-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # this venv's pip installs into it (--python)
    python = env_dir / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    if os.environ.get("MOMENTSIM_WHEEL_FULL"):
        _run([*pip, wheels[0]], cwd=base, timeout=1800)
    else:
        _run([*pip, "--no-deps", wheels[0]], cwd=base)
        site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         cwd=base).stdout.strip())
        (site / "zz_momentsim_dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = base / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    return python, work, env, wheels[0]


def test_the_wheel_holds_the_scenarios_sweeps_and_licence(installed):
    *_, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in (ROOT / "scenarios").glob("*.toml"))
    assert sorted(Path(n).name for n in names if n.startswith("sim/scenarios/") and n.count("/") == 2
                  and n.endswith(".toml")) == shipped
    sweeps = sorted(p.name for p in (ROOT / "scenarios" / "sweeps").glob("*.toml"))
    assert sorted(Path(n).name for n in names if n.startswith("sim/scenarios/sweeps/")) == sweeps
    assert any(n.endswith("licenses/LICENSE") for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in metadata


def test_installed_package_runs_from_another_folder(installed):
    python, work, env, _ = installed
    where = _run([python, "-c", "import sim, sim.scenario as s; print(sim.__file__); print(s.SCENARIO_DIR)"],
                 cwd=work, env=env).stdout.split()
    assert not where[0].startswith(str(ROOT)), "imported the checkout, not the installed package"
    assert where[1].endswith(os.path.join("sim", "scenarios")) and not where[1].startswith(str(ROOT))
    if not os.environ.get("MOMENTSIM_WHEEL_FULL"):
        _run([sys.executable, "-m", "pip", "--python", python, "check"], cwd=work, env=env)  # the wheel's dependencies are all there

    momentsim = python.parent / "momentsim"  # the console script, as pipx or uv tool would expose it
    listed = _run([momentsim, "scenarios"], cwd=work, env=env).stdout
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    assert names == {p.stem for p in (ROOT / "scenarios").glob("*.toml")}

    _run([momentsim, "run", "baseline", "--steps", "20", "--set", "population.size=200", "--out", "o"],
         cwd=work, env=env)
    summary = json.loads((work / "o" / "summary.json").read_text())
    assert summary["days"] == 20 and summary["population"] == 200
    assert summary["provenance"]["git"] is None  # not a checkout
    assert summary["provenance"]["momentsim"] == "0.1.0"
    assert (work / "o" / "scenario.toml").read_text().startswith("# written by momentsim 0.1.0")

    # the shipped sweeps are there by name (package data)
    sweeps = _run([python, "-c", "from sim.sweep.spec import shipped_sweeps; print(*shipped_sweeps())"],
                  cwd=work, env=env).stdout.split()
    assert sweeps == sorted(p.stem for p in (ROOT / "scenarios" / "sweeps").glob("*.toml"))


def test_a_notebook_first_cell_runs_with_the_installed_package(installed):
    python, work, env, _ = installed
    # Notebook 1's code cells up to its first figure (its imports, its settings cell, a run, a drawing).
    nb = json.loads((ROOT / "notebooks" / "01_journey_one_consumer.ipynb").read_text())
    cells = []
    for cell in (c for c in nb["cells"] if c["cell_type"] == "code"):
        cells.append("".join(cell["source"]))
        if "plt.show()" in cells[-1]:
            break
    code = "".join(line for line in "\n".join(cells).splitlines(keepends=True)
                   if not line.lstrip().startswith("%"))  # IPython magics; the rest is plain Python
    code = code.replace("plt.show()", "plt.gcf().savefig('cell.png')", 1).replace("plt.show()", "")
    (work / "cell.py").write_text(code)
    _run([python, "cell.py"], cwd=work, env=env)
    assert (work / "cell.png").read_bytes()[:4] == b"\x89PNG"
