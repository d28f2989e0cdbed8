"""Make the calibration notebook 08 loads (scenarios/calibrations/notebook08/), documented and repeatable.

    python scenarios/calibrations/make_notebook08.py

Notebook 08 teaches calibration on synthetic data: the baseline market at a known quality of ours
(0.75) and sharing propensity (0.12), 12 weeks of units sold, reviews, rating and net sentiment.
Running its ABC-SMC (300 simulations) takes 4 to 5 minutes, too long for a class, so by default
the notebook loads the result this script wrote, made with exactly the notebook's default
settings (the same data, spec, budget and random seed: ``sim.teach.calibration_data`` and
``sim.teach.calibration_spec``); a student who sets ``CALIBRATE_HERE = True`` runs it live and
gets the same kind of result. Written here:

- ``data.csv`` and ``spec.toml``: the data and the spec, as the notebook makes them;
- ``posterior_particles.csv``: the last generation's particles and weights (what ``posterior.parquet``
  holds, as text);
- ``posterior.csv``, ``fit.csv``, ``calibrated.toml``, ``provenance.json``: as ``momentsim calibrate``
  writes them (``history.db``, ``fit.png`` and ``posterior.parquet`` are not kept).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "notebook08"
KEEP = ("data.csv", "spec.toml", "posterior.csv", "fit.csv", "calibrated.toml", "provenance.json")


def make(out: Path = OUT) -> Path:
    import pandas as pd

    from sim import teach
    from sim.calibrate import calibrate, load_spec
    from sim.calibrate.synthetic import write_tidy

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_tidy(teach.calibration_data(), work / "data.csv")
        (work / "spec.toml").write_text(teach.calibration_spec(), encoding="utf-8")
        result = calibrate(load_spec(work / "spec.toml"), work / "out", workers=1)
        out.mkdir(parents=True, exist_ok=True)
        for name in KEEP:
            source = work / name if name in ("data.csv", "spec.toml") else work / "out" / name
            shutil.copyfile(source, out / name)
        provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
        provenance.update(spec="spec.toml", data="data.csv")   # not the temporary folder's paths
        (out / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        pd.read_parquet(work / "out" / "posterior.parquet").to_csv(
            out / "posterior_particles.csv", index=False, float_format="%.9g", lineterminator="\n")
    print(f"{result.generations} generations, {result.simulations} simulations, {result.seconds:.0f} s -> {out}")
    return out


if __name__ == "__main__":
    sys.exit(0 if make() else 1)
