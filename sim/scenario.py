"""Scenario files: reading, validating, overriding and writing them.

A scenario is a plain TOML file that states only what it changes from the
defaults in :mod:`sim.params`, plus an ``[about]`` table in the NetLogo way
(what it shows, things to notice, things to try). Every mistake ends in one
:class:`ScenarioError` naming the file and the key.
"""

from __future__ import annotations

import importlib.resources
import stat as _stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from . import provenance
from .network import read_edge_list
from .params import (ABOUT_KEYS, BRAND_SCHEMA, EVENT_KEYS, SCHEMA, Event, Params,
                     ScenarioError, check_value, suggest)

def scenario_dir() -> Path:
    """The shipped scenarios' folder: ``sim/scenarios`` in an installed package (package data, found
    with importlib.resources), else the checkout's top-level ``scenarios/`` (the source of truth, which
    the build maps into the package)."""
    packaged = importlib.resources.files("sim").joinpath("scenarios")
    if packaged.is_dir() and any(packaged.joinpath(n.name).is_file() for n in packaged.iterdir()
                                 if n.name.endswith(".toml")):
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "scenarios"


SCENARIO_DIR = scenario_dir()
# Levers an event may change (the initial_* levers only matter on day 0).
EVENT_LEVERS = tuple(k for k in BRAND_SCHEMA if not k.startswith("initial_"))


@dataclass
class Scenario:
    """A resolved scenario: its description and complete, validated parameters."""
    name: str
    params: Params
    about: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def to_toml(self) -> str:
        """Every parameter as resolved: enough to rerun this exact run."""
        return tomli_w.dumps(to_document(self))

    def with_overrides(self, overrides: dict[str, Any], source: str = "override",
                       base_dir: str | Path | None = None) -> "Scenario":
        """A copy with dotted-key overrides applied and validated.

        A relative ``network.file`` among the overrides is relative to ``base_dir`` (default: the
        current folder), not to the scenario's file."""
        doc = to_document(self)
        flat = _flatten_settings(doc, source)
        events = doc.get("events", [])
        for key, value in _anchored(overrides, base_dir).items():
            flat[key] = (value, f"{source}: {cut(key)}")
        return Scenario(self.name, _resolve(flat, events, source, self.path),
                        dict(self.about), self.path)


def shipped() -> dict[str, Path]:
    """The scenarios shipped in ``scenarios/``, by name."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def load(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a shipped scenario by name, or a scenario file by path."""
    path = Path(name_or_path)
    if not _exists(path):
        known = shipped()
        if str(name_or_path) in known:
            path = known[str(name_or_path)]
        elif path.suffix == ".toml" or path.parent != Path("."):
            raise ScenarioError(f"{path}: cannot read the scenario file: no such file")
        else:
            raise ScenarioError(f"{name_or_path}: no such scenario; expected a file or one of "
                                f"{', '.join(known)}{suggest(str(name_or_path), known)}")
    text = read_text(path, "scenario file")
    written = provenance.written_by(text)
    if written is not None and written != provenance.version():
        provenance.warn(f"{path}: written by momentsim {written}, this is {provenance.version()}: the run "
                        f"may not give the same numbers (same scenario and seed give the same bytes only on "
                        f"the same version)")
    return loads(text, path=path, overrides=overrides)


# Input files are small: a scenario or sweep file is a few kilobytes, an edge list a few hundred MB.
MAX_TOML_BYTES = 10_000_000
# Deeper than any scenario needs (brands.<name>.<lever> is 3, population.channel_mix.x is 3).
MAX_TOML_DEPTH = 32


def cut(text: str, limit: int = 80) -> str:
    """``text`` as it is, or its first ``limit`` characters and how long it was (for messages)."""
    text = text if text.isprintable() else repr(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long, say: read_text names the reason
        return True


def read_text(path: Path, what: str, limit: int = MAX_TOML_BYTES) -> str:
    """A file's UTF-8 text, or a ScenarioError naming the file.

    Only a regular file is read (a FIFO or a device would block or never end), and only up to
    ``limit`` bytes."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: cannot read the {what}: no such file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    if not _stat.S_ISREG(info.st_mode):
        kind = ("a folder" if _stat.S_ISDIR(info.st_mode) else "a FIFO (named pipe)"
                if _stat.S_ISFIFO(info.st_mode) else "a socket" if _stat.S_ISSOCK(info.st_mode)
                else "a device")
        raise ScenarioError(f"{path}: cannot read the {what}: expected a regular file, found {kind}")
    if info.st_size > limit:
        raise ScenarioError(f"{path}: cannot read the {what}: expected at most {limit:,} bytes, "
                            f"found {info.st_size:,}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: cannot read the {what}: expected UTF-8 text, found byte "
                            f"0x{exc.object[exc.start]:02x} at position {exc.start}") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text as a dict, or a ScenarioError naming ``source``.

    Refuses what Python's limits would otherwise turn into a traceback: nesting deeper than
    MAX_TOML_DEPTH and integer literals longer than Python converts (4,300 digits)."""
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark: Windows editors write one
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: malformed TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: malformed TOML: arrays or tables nested too deep; expected at "
                            f"most {MAX_TOML_DEPTH} levels") from None
    except ValueError as exc:  # int("9" * 5000): Python's limit on integer conversion
        raise ScenarioError(f"{source}: malformed TOML: a number literal too long ({exc}); expected a "
                            f"number of at most 4,300 digits") from None
    _check_depth(doc, source)
    return doc


def _check_depth(doc: Any, source: str) -> None:
    """Refuse a document nested deeper than MAX_TOML_DEPTH (checked without recursion)."""
    stack = [(doc, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_TOML_DEPTH:
            raise ScenarioError(f"{source}: {cut(where)}: nested too deep; expected at most "
                                f"{MAX_TOML_DEPTH} levels of tables, arrays and dotted keys")
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{where}.{k}" if where else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(value))


def loads(text: str, path: Path | str | None = None, overrides: dict[str, Any] | None = None,
          name: str | None = None) -> Scenario:
    """Parse scenario TOML text; ``path`` names it in errors and anchors relative files."""
    path = Path(path) if path is not None else None
    source = str(path) if path is not None else "<scenario>"
    doc = parse_toml(text, source)
    about = doc.pop("about", {})
    if not isinstance(about, dict):
        raise ScenarioError(f"{source}: about: expected a table, found {about!r}")
    for key, value in about.items():
        if key not in ABOUT_KEYS:
            raise ScenarioError(f"{source}: about.{cut(key)}: unknown key; expected one of "
                                f"{', '.join(ABOUT_KEYS)}{suggest(key, ABOUT_KEYS)}")
        if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            raise ScenarioError(f"{source}: about.{key}: expected a string or a list of strings, "
                                f"found {value!r}")
    events = doc.pop("events", [])
    flat = _flatten_settings(doc, source)
    for key, value in _anchored(overrides or {}, None).items():
        flat[key] = (value, f"{source} (--set): {cut(key)}")
    params = _resolve(flat, events, source, path)
    return Scenario(name or (path.stem if path else "scenario"), params, about, path)


def _anchored(overrides: dict[str, Any], base_dir: str | Path | None) -> dict[str, Any]:
    """Overrides with a relative ``network.file`` made absolute against ``base_dir`` (or the current
    folder): a file named on the command line is where the user is, not where the scenario is."""
    value = overrides.get("network.file")
    if not isinstance(value, str) or not value or Path(value).is_absolute():
        return overrides
    return {**overrides, "network.file": str(Path(base_dir or Path.cwd()).resolve() / value)}


def parse_override(text: str) -> tuple[str, Any]:
    """``'a.b=0.3'`` -> ``('a.b', 0.3)``; the value is read as TOML, else as a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"--set {cut(repr(text))}: expected dotted.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # not a TOML value: the text as a string
    except (RecursionError, ValueError):  # nested too deep, or a number too long: the same message as a file's
        parse_toml(f"v = {raw.strip()}", f"--set {cut(key)}")
        raise  # not reached: parse_toml raised a ScenarioError
    _check_depth({"v": value}, f"--set {cut(key)}")
    return key, value


def to_document(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a nested TOML document, every parameter included."""
    p = scenario.params
    doc: dict[str, Any] = {}
    if scenario.about:
        doc["about"] = dict(scenario.about)
    for key, value in p.values.items():
        *parents, leaf = key.split(".")
        table = doc
        for part in parents:
            table = table.setdefault(part, {})
        table[leaf] = value
    doc["brands"] = {name: dict(levers) for name, levers in p.brands.items()}
    if p.events:
        doc["events"] = [e.as_dict() for e in p.events]
    return doc


def _flatten_settings(doc: dict[str, Any], source: str) -> dict[str, tuple[Any, str]]:
    """Nested tables -> {dotted key: (value, where)}; ``about`` and ``events`` are left out."""
    flat: dict[str, tuple[Any, str]] = {}

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            dotted = f"{prefix}{key}"
            if dotted in ("about", "events"):
                continue
            shown = cut(dotted)  # one line, and not 100,000 characters
            if isinstance(value, dict) and dotted not in SCHEMA:
                walk(value, dotted + ".")
            elif dotted.startswith("brands.") and dotted.count(".") == 1:
                raise ScenarioError(f"{source}: {shown}: expected a table of brand levers "
                                    f"([{shown}] with e.g. quality = 0.6), found {value!r}")
            else:
                flat[dotted] = (value, f"{source}: {shown}")

    walk(doc, "")
    return flat


def _resolve(flat: dict[str, tuple[Any, str]], events: Any, source: str,
             path: Path | None) -> Params:
    params = Params()
    # The brand list comes first: it says which brands.<name>.* keys exist.
    if "market.brands" in flat:
        value, where = flat.pop("market.brands")
        params.values["market.brands"] = check_value(SCHEMA["market.brands"], value, where)
    names = params.brand_names
    params.brands = {name: {k: p.default for k, p in BRAND_SCHEMA.items()} for name in names}

    for key, (value, where) in flat.items():
        if key in SCHEMA:
            params.values[key] = check_value(SCHEMA[key], value, where)
        elif key.startswith("brands."):
            _, brand, lever = (key.split(".", 2) + ["", ""])[:3]
            if not isinstance(brand, str) or brand not in params.brands:
                raise ScenarioError(f"{where}: no brand '{cut(brand)}'; market.brands is {names}"
                                    f"{suggest(brand, names)}; add it to market.brands to create it")
            if lever not in BRAND_SCHEMA:
                raise ScenarioError(f"{where}: unknown brand lever '{cut(lever)}'; expected one of "
                                    f"{', '.join(BRAND_SCHEMA)}{suggest(lever, BRAND_SCHEMA)}")
            params.brands[brand][lever] = check_value(BRAND_SCHEMA[lever], value, where)
        else:
            options = list(SCHEMA) + [f"brands.{b}.{lever}" for b in names for lever in BRAND_SCHEMA]
            raise ScenarioError(f"{where}: unknown key{suggest(key, options)}")

    mix = sum(params.values[f"population.channel_mix.{c}"] for c in
              ("computer", "smartphone", "press_mail", "in_person"))
    if mix <= 0:
        raise ScenarioError(f"{source}: population.channel_mix: expected weights with a positive "
                            f"sum, found all zero")
    base, multiplier = params["sharing.base_propensity"], params["sharing.negative_multiplier"]
    if base * multiplier > 1.0:
        raise ScenarioError(
            f"{source}: sharing.base_propensity: expected base_propensity x negative_multiplier <= 1 "
            f"(the mean chance that a dissatisfied customer shares cannot be above 1), found {base:g} x "
            f"{multiplier:g} = {base * multiplier:g}")
    params.events = _events(events, params, source)
    if params.values["network.kind"] == "file":
        file = _edge_list_path(params.values["network.file"], source, path)
        try:
            labels, _ = read_edge_list(file)
        except ScenarioError as exc:
            raise ScenarioError(f"{source}: network.file: {exc}") from None
        params.values["network.file"] = file
        params.values["population.size"] = len(labels)  # the file says who is there
    return params


def _events(events: Any, params: Params, source: str) -> list[Event]:
    if not isinstance(events, list):
        raise ScenarioError(f"{source}: events: expected an array of tables ([[events]]), found {events!r}")
    out = []
    for i, raw in enumerate(events):
        where = f"{source}: events[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: expected a table with {', '.join(EVENT_KEYS)}, found {raw!r}")
        for key in raw:
            if key not in EVENT_KEYS:
                raise ScenarioError(f"{where}.{cut(str(key))}: unknown key; expected one of "
                                    f"{', '.join(EVENT_KEYS)}{suggest(key, EVENT_KEYS)}")
        for key in EVENT_KEYS:
            if key not in raw:
                raise ScenarioError(f"{where}.{key}: missing; an event needs {', '.join(EVENT_KEYS)}")
        day, brand, lever = raw["day"], raw["brand"], raw["lever"]
        if not isinstance(day, int) or isinstance(day, bool) or day < 0:
            raise ScenarioError(f"{where}.day: expected an integer >= 0, found {day!r}")
        if not isinstance(brand, str) or brand not in params.brands:
            raise ScenarioError(f"{where}.brand: expected one of {params.brand_names}, found {brand!r}"
                                f"{suggest(str(brand), params.brands)}")
        if lever not in EVENT_LEVERS:
            raise ScenarioError(f"{where}.lever: expected one of {', '.join(EVENT_LEVERS)}, "
                                f"found {lever!r}{suggest(str(lever), EVENT_LEVERS)}")
        value = check_value(BRAND_SCHEMA[lever], raw["value"], f"{where}.value")
        out.append(Event(day, brand, lever, value))
    return sorted(out, key=lambda e: e.day)


def _edge_list_path(value: str, source: str, path: Path | None) -> str:
    if not value:
        raise ScenarioError(f"{source}: network.file: expected an edge-list file when "
                            f"network.kind = 'file', found nothing")
    file = Path(value)
    if not file.is_absolute() and path is not None:
        file = path.resolve().parent / file
    if not file.exists():
        raise ScenarioError(f"{source}: network.file: cannot read edge-list file {str(file)!r}: no such file")
    if path is not None and file.resolve() == path.resolve():
        raise ScenarioError(f"{source}: network.file: expected an edge-list file, found the scenario file "
                            f"itself ({str(file)!r})")
    return str(file.resolve())
