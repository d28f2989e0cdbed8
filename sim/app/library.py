"""The strategist's scenario library: named what-ifs saved as scenario TOML files in one folder.

``momentsim ui --library DIR`` chooses the folder (default :data:`DEFAULT_DIR`, under the
user's home). A saved what-if is a complete scenario file (every parameter resolved, the
interventions as ``[[events]]``), so ``momentsim run DIR/name.toml`` reruns it exactly; its
``[about]`` guide is its own: a title (the name given), a summary of what was changed, and
the original scenario's guide. A dropped or uploaded scenario file joins the library under
its file name once it loads without a mistake.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import tomli_w

from ..params import ScenarioError
from ..scenario import Scenario, loads, read_text, to_document

LIBRARY_ENV = "MOMENTSIM_LIBRARY"  # set by `momentsim ui --library DIR` (serve.py)
SCENARIO_ENV = "MOMENTSIM_SCENARIO"  # the scenario the page opens with: set by `momentsim ui SCENARIO` (serve.py)
DEFAULT_DIR = Path.home() / ".momentsim" / "library"
NAME = re.compile(r"[^A-Za-z0-9_-]+")


def default_dir() -> Path:
    return Path(os.environ.get(LIBRARY_ENV) or DEFAULT_DIR)


def file_name(name: str) -> str:
    """A library entry's file stem from the name a person typed: letters, digits, - and _."""
    stem = NAME.sub("_", name.strip()).strip("_")
    if not stem:
        raise ScenarioError(f"library: name: expected letters or digits, found {name!r}")
    return stem[:80]


class Library:
    """A folder of scenario files, by name (the file's stem)."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else default_dir()

    def names(self) -> dict[str, Path]:
        if not self.folder.is_dir():
            return {}
        return {p.stem: p for p in sorted(self.folder.glob("*.toml"))}

    def path(self, name: str) -> Path:
        return self.folder / f"{file_name(name)}.toml"

    def _write(self, name: str, text: str) -> Path:
        """Write atomically: a file appears whole or not at all."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.path(name)
            partial = path.with_suffix(".toml.part")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
        except OSError as exc:
            raise ScenarioError(f"{self.folder}: cannot save to the scenario library: {exc}") from None
        return path

    def save(self, name: str, scenario: Scenario, summary: str = "") -> Path:
        """Save ``scenario`` as ``name``: a complete scenario file with its own guide."""
        doc = to_document(scenario)
        about: dict[str, Any] = dict(doc.get("about", {}))
        original = about.get("title", scenario.name)
        about["title"] = name.strip()
        about["summary"] = summary or f"Saved from “{original}”."
        doc["about"] = about
        text = tomli_w.dumps(doc)
        loads(text, path=self.path(name), name=file_name(name))  # it must load before it is kept
        return self._write(name, text)

    def add_file(self, filename: str, text: str) -> Path:
        """Keep an uploaded scenario file (already checked) under its file name."""
        return self._write(Path(filename).stem, text)

    def load(self, name: str) -> Scenario:
        path = self.names().get(name)
        if path is None:
            raise ScenarioError(f"{self.folder}: no scenario named {name!r} in the library")
        return loads(read_text(path, "scenario file"), path=path)
