"""How a result was made: versions, commit, platform, command line and times.

Every result a user keeps carries this record: ``summary.json`` (``momentsim run``),
``sweep.json`` and the Parquet files' metadata (``momentsim sweep``), ``bass.json``
(``momentsim validate bass``). See docs/sweeps.md, "Provenance".
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("mesa", "numpy", "pandas", "pyarrow", "dask", "distributed", "networkx", "scipy", "SALib",
             "matplotlib")
CHECKOUT = Path(__file__).resolve().parent.parent


class MomentsimWarning(UserWarning):
    """Something the user should know that does not stop the run (printed by the CLI as a warning)."""


def warn(message: str) -> None:
    warnings.warn(message, MomentsimWarning, stacklevel=3)


@lru_cache(maxsize=1)
def version() -> str:
    """momentsim's version: the installed distribution's, else the one in pyproject.toml."""
    try:
        return metadata.version("momentsim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@lru_cache(maxsize=1)
def git() -> dict[str, Any] | None:
    """The checkout's commit and whether it had uncommitted changes; None outside a checkout."""
    if not (CHECKOUT / ".git").exists() or not (CHECKOUT / "pyproject.toml").is_file():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5)
        if commit.returncode != 0:
            return None
        status = subprocess.run(["git", "-C", str(CHECKOUT), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip()) if status.returncode == 0
            else None}


@lru_cache(maxsize=1)
def libraries() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Clock:
    """The start time (UTC, ISO 8601) and the wall time since."""

    def __init__(self) -> None:
        self.started = now()
        self._t0 = time.perf_counter()

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self._t0, 3)


def record(clock: Clock | None = None, argv: list[str] | None = None) -> dict[str, Any]:
    """The provenance record of a result: what made it, where, when and how long it took."""
    out: dict[str, Any] = {
        "momentsim": version(),
        "git": git(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "libraries": libraries(),
        "platform": platform.platform(),
        "command": list(sys.argv if argv is None else argv),
    }
    if clock is not None:
        out["started"] = clock.started
        out["wall_seconds"] = clock.seconds
    return out


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON null), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(document: Any, **kwargs) -> str:
    """Strict JSON (``allow_nan=False``): NaN and infinities become null, so it is always valid JSON."""
    return json.dumps(finite(document), allow_nan=False, indent=2, **kwargs) + "\n"


HEADER = "# written by momentsim "


def header() -> str:
    """The first line of a written scenario.toml: the version that wrote it (a TOML comment)."""
    info = git()
    commit = f", commit {info['commit'][:12]}{' (dirty)' if info['dirty'] else ''}" if info else ""
    return f"{HEADER}{version()}{commit}\n"


def written_by(text: str) -> str | None:
    """The version named by a written scenario.toml's first line, or None."""
    if text.startswith(HEADER):
        return text[len(HEADER):].split("\n", 1)[0].split(",", 1)[0].strip() or None
    return None
