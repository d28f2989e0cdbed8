"""The result store: Parquet part files written atomically as runs finish.

A sweep's folder holds::

    sweep.toml       the sweep file as written
    sweep.json       the sweep as resolved (fingerprint, design, parameters, outputs)
    scenario.toml    the base scenario as resolved: ``momentsim run`` on it with a run's
                     seed and overrides reruns that run alone
    runs/part-*.parquet    one row a run: run_id, point, replicate, seed, status, error,
                           overrides, the varied parameters, the end-of-run metrics
    daily/part-*.parquet   (if asked) one row a run and day: run_id, step, the chosen columns

Each batch of finished runs becomes its own part file, written to a temporary
name and renamed (``os.replace``): a part is either whole or absent. The daily
part of a batch is written before its runs part, and a daily part without its
runs part is removed on resume, so the runs part is what commits a batch.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import provenance
from ..params import ScenarioError
from .spec import Sweep

PART = re.compile(r"part-(\d+)\.parquet$")


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _parts(folder: Path) -> list[Path]:
    parts = sorted((p for p in folder.glob("part-*.parquet") if PART.search(p.name)), key=lambda p: p.name)
    for part in parts:
        if not part.is_file():
            raise ScenarioError(f"{part}: expected a Parquet part file, found "
                                f"{'a folder' if part.is_dir() else 'something else'}; remove it (its runs "
                                f"run again on resume)")
    return parts


def _read_part(part: Path, columns: list[str] | None = None) -> pa.Table:
    """One part file, or a ScenarioError naming it (corrupt, truncated, or missing columns)."""
    try:
        table = pq.read_table(part, columns=columns)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ScenarioError(f"{part}: cannot read this Parquet part (corrupt or truncated: "
                            f"{str(exc).splitlines()[0][:160]}); remove it and run the sweep again to redo "
                            f"its runs") from None
    return table


def runs_schema(sweep: Sweep) -> pa.Schema:
    """The runs table's columns and types, the same in every part."""
    kinds = {int: pa.int64(), float: pa.float64(), bool: pa.bool_(), str: pa.string()}
    fields = [("run_id", pa.int64()), ("point", pa.int64()), ("replicate", pa.int64()),
              ("seed", pa.int64()), ("status", pa.string()), ("error", pa.string()),
              ("overrides", pa.string())]
    fields += [(v.key, kinds[v.kind]) for v in sweep.varied]
    fields += [(m, pa.float64()) for m in sweep.outputs]
    return pa.schema(fields)


class ResultStore:
    """Where one sweep's results live; knows which runs are already done."""

    def __init__(self, out: str | Path, sweep: Sweep, provenance_record: dict[str, Any] | None = None):
        self.out = Path(out)
        self.sweep = sweep
        self.provenance = provenance_record if provenance_record is not None else provenance.record()
        self.sessions: list[dict[str, Any]] = []   # earlier calls' provenance (a resumed sweep)
        self.runs_dir = self.out / "runs"
        self.daily_dir = self.out / "daily"
        self.schema = runs_schema(sweep)
        self._next = 0

    def check(self) -> None:
        """Refuse a folder that holds another sweep's results (before anything is written)."""
        if self.out.exists() and not self.out.is_dir():
            raise ScenarioError(f"--out {self.out}: expected a folder, found a file")
        resolved = self.out / "sweep.json"
        if resolved.exists():
            before = read_sweep_json(self.out).get("fingerprint")  # a damaged sweep.json: named, refused
            now = self.sweep.fingerprint()
            if before != now:
                raise ScenarioError(
                    f"{self.out}: holds the results of a different sweep (fingerprint {before}, this sweep "
                    f"{now}): the scenario, design, seed, replicates or outputs changed; use another "
                    f"--out or remove the folder")
            if self.runs_dir.is_dir():
                done_ids(self.out)  # a damaged part: named, refused before anything is written
        elif self.runs_dir.is_dir() and _parts(self.runs_dir):
            raise ScenarioError(f"{self.out}: holds run results but no sweep.json; use another --out")

    def prepare(self) -> set[int]:
        """Create the folder, write the sweep's description, tidy a crash's leftovers; the run ids done."""
        self.check()
        if (self.out / "sweep.json").is_file():
            try:
                before = json.loads((self.out / "sweep.json").read_text(encoding="utf-8"))
                self.sessions = list(before.get("earlier_sessions", [])) + [before["provenance"]]
            except (OSError, ValueError, KeyError, TypeError):
                self.sessions = []
        done = done_ids(self.out) if self.runs_dir.is_dir() else set()  # a damaged part: refused before writing
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            self.daily_dir.mkdir(parents=True, exist_ok=True)
            if self.sweep.text:
                _write_bytes(self.out / "sweep.toml", self.sweep.text.encode())
            self.write_description()
            _write_bytes(self.out / "scenario.toml",
                         (provenance.header() + self.sweep.scenario.to_toml()).encode())
        except OSError as exc:
            raise ScenarioError(f"--out {self.out}: cannot write {exc.filename or self.out}: "
                                f"{exc.strerror or exc}") from None
        for folder in (self.runs_dir, self.daily_dir):
            for tmp in folder.glob("*.tmp"):  # a part being written when the process died
                tmp.unlink()
        committed = {p.name for p in _parts(self.runs_dir)}
        for part in _parts(self.daily_dir):
            if part.name not in committed:  # its runs part never landed: those runs will run again
                part.unlink()
        numbers = [int(PART.search(name).group(1)) for name in committed]
        self._next = max(numbers, default=-1) + 1
        return done

    def write_description(self, wall_seconds: float | None = None, counts: dict[str, int] | None = None) -> None:
        """sweep.json: the sweep as resolved, and how this call ran (provenance; wall time at the end)."""
        record = dict(self.provenance)
        if wall_seconds is not None:
            record["wall_seconds"] = round(wall_seconds, 3)
        if counts is not None:
            record["runs_this_session"] = counts
        doc = {**self.sweep.resolved(), "provenance": record}
        if self.sessions:
            doc["earlier_sessions"] = self.sessions
        _write_bytes(self.out / "sweep.json", provenance.dumps(doc, default=str).encode())

    def write(self, rows: list[dict[str, Any]], daily: list[pd.DataFrame]) -> None:
        """Write one batch of finished runs: its daily part first, then its runs part."""
        if not rows:
            return
        name = f"part-{self._next:06d}.parquet"
        self._next += 1
        meta = {b"momentsim.provenance": json.dumps(provenance.finite(self.provenance), default=str).encode(),
                b"momentsim.sweep": json.dumps({"name": self.sweep.name,
                                                "fingerprint": self.sweep.fingerprint()}).encode()}
        if daily:
            table = pa.Table.from_pandas(pd.concat(daily, ignore_index=True), preserve_index=False)
            _write_parquet(table, self.daily_dir / name, meta)
        table = pa.Table.from_pylist(rows, schema=self.schema)
        _write_parquet(table, self.runs_dir / name, meta)


def _write_parquet(table: pa.Table, path: Path, meta: dict[bytes, bytes] | None = None) -> None:
    if meta:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def provenance_of(part: str | Path) -> dict[str, Any] | None:
    """The provenance record in a part file's metadata (None if it has none)."""
    meta = pq.read_schema(part).metadata or {}
    raw = meta.get(b"momentsim.provenance")
    return json.loads(raw) if raw else None


def done_ids(out: str | Path) -> set[int]:
    """Run ids already recorded in ``out`` (ok or failed)."""
    ids: set[int] = set()
    for part in _parts(Path(out) / "runs"):
        ids.update(_read_part(part, columns=["run_id"]).column("run_id").to_pylist())
    return ids


def read_runs(out: str | Path) -> pd.DataFrame:
    """The runs table: one row a run, sorted by run id (the same on every executor)."""
    parts = _parts(Path(out) / "runs")
    if not parts:
        raise ScenarioError(f"{out}: no sweep results (expected {Path(out) / 'runs'}/part-*.parquet)")
    frame = pd.concat([_read_part(p).to_pandas() for p in parts], ignore_index=True)
    missing = [c for c in ("run_id", "point", "replicate", "seed", "status", "error") if c not in frame.columns]
    if missing:
        raise ScenarioError(f"{Path(out) / 'runs'}: expected the columns run_id, point, replicate, seed, status "
                            f"and error in every part, found no {missing[0]}")
    return frame.drop_duplicates("run_id").sort_values("run_id", ignore_index=True)


def read_daily(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The daily table: one row a run and day, sorted by run id and day."""
    parts = _parts(Path(out) / "daily")
    if not parts:
        raise ScenarioError(f"{out}: no daily series (add daily = [...] to the sweep file)")
    cols = None if columns is None else ["run_id", "step", *[c for c in columns if c not in ("run_id", "step")]]
    frame = pd.concat([_read_part(p, columns=cols).to_pandas() for p in parts], ignore_index=True)
    return frame.drop_duplicates(["run_id", "step"]).sort_values(["run_id", "step"], ignore_index=True)


# What a report needs from sweep.json, and the type each must have.
SWEEP_JSON_KEYS = {"name": str, "design": str, "parameters": list, "outputs": list, "runs": int, "seed": int}


def read_sweep_json(out: str | Path) -> dict[str, Any]:
    """sweep.json, checked: a ScenarioError names what is wrong with it (garbage, empty, not UTF-8,
    a key missing or of the wrong type, a design that does not hold together)."""
    from .design import DESIGNS

    path = Path(out) / "sweep.json"
    if not Path(out).is_dir():
        raise ScenarioError(f"{out}: expected a sweep's output folder, found "
                            f"{'a file' if Path(out).exists() else 'nothing'}")
    if not path.is_file():
        raise ScenarioError(f"{out}: not a sweep folder (no sweep.json)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: expected UTF-8 JSON, found byte 0x{exc.object[exc.start]:02x} at "
                            f"position {exc.start}") from None
    except ValueError as exc:
        raise ScenarioError(f"{path}: expected the JSON that momentsim sweep writes, found "
                            f"{'an empty file' if not path.stat().st_size else f'malformed JSON ({exc})'}") from None
    except (OSError, RecursionError) as exc:
        raise ScenarioError(f"{path}: cannot read it: {exc}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{path}: expected a JSON object, found {type(doc).__name__}")
    for key, kind in SWEEP_JSON_KEYS.items():
        if key not in doc:
            raise ScenarioError(f"{path}: {key}: missing; expected {kind.__name__} (was the file edited?)")
        if not isinstance(doc[key], kind) or isinstance(doc[key], bool):
            raise ScenarioError(f"{path}: {key}: expected {kind.__name__}, found {str(doc[key])[:80]!r}")
    if doc["design"] not in DESIGNS:
        raise ScenarioError(f"{path}: design: expected one of {', '.join(DESIGNS)}, found {doc['design'][:80]!r}")
    for key in ("parameters", "outputs"):
        if not all(isinstance(v, str) for v in doc[key]):
            raise ScenarioError(f"{path}: {key}: expected a list of names, found {str(doc[key])[:80]}")
    if not doc["outputs"]:
        raise ScenarioError(f"{path}: outputs: expected at least one output, found []")
    if doc["design"] in ("sobol", "morris", "lhs"):
        problem = doc.get("problem")
        if (not isinstance(problem, dict) or problem.get("names") != doc["parameters"]
                or not isinstance(problem.get("bounds"), list) or len(problem["bounds"]) != len(doc["parameters"])
                or problem.get("num_vars") != len(doc["parameters"])):
            raise ScenarioError(f"{path}: problem: expected the names, bounds and num_vars of the parameters "
                                f"{doc['parameters']}, found {str(problem)[:120]}")
    return doc
