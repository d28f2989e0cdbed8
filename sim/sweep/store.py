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

from ..params import ScenarioError
from .spec import Sweep

PART = re.compile(r"part-(\d+)\.parquet$")


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _parts(folder: Path) -> list[Path]:
    return sorted((p for p in folder.glob("part-*.parquet") if PART.search(p.name)), key=lambda p: p.name)


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

    def __init__(self, out: str | Path, sweep: Sweep):
        self.out = Path(out)
        self.sweep = sweep
        self.runs_dir = self.out / "runs"
        self.daily_dir = self.out / "daily"
        self.schema = runs_schema(sweep)
        self._next = 0

    def check(self) -> None:
        """Refuse a folder that holds another sweep's results (before anything is written)."""
        if self.out.exists() and not self.out.is_dir():
            raise ScenarioError(f"--out {self.out}: expected a folder, found a file")
        resolved = self.out / "sweep.json"
        if resolved.is_file():
            try:
                before = json.loads(resolved.read_text(encoding="utf-8")).get("fingerprint")
            except (OSError, ValueError):
                before = None
            now = self.sweep.fingerprint()
            if before != now:
                raise ScenarioError(
                    f"{self.out}: holds the results of a different sweep (fingerprint {before}, this sweep "
                    f"{now}): the scenario, design, seed, replicates or outputs changed; use another "
                    f"--out or remove the folder")
        elif self.runs_dir.is_dir() and _parts(self.runs_dir):
            raise ScenarioError(f"{self.out}: holds run results but no sweep.json; use another --out")

    def prepare(self) -> set[int]:
        """Create the folder, write the sweep's description, tidy a crash's leftovers; the run ids done."""
        self.check()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.daily_dir.mkdir(parents=True, exist_ok=True)
        if self.sweep.text:
            _write_bytes(self.out / "sweep.toml", self.sweep.text.encode())
        _write_bytes(self.out / "sweep.json",
                     (json.dumps(self.sweep.resolved(), indent=2, default=str) + "\n").encode())
        _write_bytes(self.out / "scenario.toml", self.sweep.scenario.to_toml().encode())
        for folder in (self.runs_dir, self.daily_dir):
            for tmp in folder.glob("*.tmp"):  # a part being written when the process died
                tmp.unlink()
        committed = {p.name for p in _parts(self.runs_dir)}
        for part in _parts(self.daily_dir):
            if part.name not in committed:  # its runs part never landed: those runs will run again
                part.unlink()
        numbers = [int(PART.search(name).group(1)) for name in committed]
        self._next = max(numbers, default=-1) + 1
        return done_ids(self.out)

    def write(self, rows: list[dict[str, Any]], daily: list[pd.DataFrame]) -> None:
        """Write one batch of finished runs: its daily part first, then its runs part."""
        if not rows:
            return
        name = f"part-{self._next:06d}.parquet"
        self._next += 1
        if daily:
            table = pa.Table.from_pandas(pd.concat(daily, ignore_index=True), preserve_index=False)
            _write_parquet(table, self.daily_dir / name)
        table = pa.Table.from_pylist(rows, schema=self.schema)
        _write_parquet(table, self.runs_dir / name)


def _write_parquet(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def done_ids(out: str | Path) -> set[int]:
    """Run ids already recorded in ``out`` (ok or failed)."""
    ids: set[int] = set()
    for part in _parts(Path(out) / "runs"):
        ids.update(pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist())
    return ids


def read_runs(out: str | Path) -> pd.DataFrame:
    """The runs table: one row a run, sorted by run id (the same on every executor)."""
    parts = _parts(Path(out) / "runs")
    if not parts:
        raise ScenarioError(f"{out}: no sweep results (expected {Path(out) / 'runs'}/part-*.parquet)")
    frame = pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
    return frame.drop_duplicates("run_id").sort_values("run_id", ignore_index=True)


def read_daily(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The daily table: one row a run and day, sorted by run id and day."""
    parts = _parts(Path(out) / "daily")
    if not parts:
        raise ScenarioError(f"{out}: no daily series (add daily = [...] to the sweep file)")
    cols = None if columns is None else ["run_id", "step", *[c for c in columns if c not in ("run_id", "step")]]
    frame = pd.concat([pq.read_table(p, columns=cols).to_pandas() for p in parts], ignore_index=True)
    return frame.drop_duplicates(["run_id", "step"]).sort_values(["run_id", "step"], ignore_index=True)


def read_sweep_json(out: str | Path) -> dict[str, Any]:
    path = Path(out) / "sweep.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise ScenarioError(f"{out}: not a sweep folder (no sweep.json)") from None
