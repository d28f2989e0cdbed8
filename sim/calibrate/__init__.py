"""Calibration: fit the model to a user's data with ABC-SMC (pyabc), with uncertainty and a hold-out check.

    from sim.calibrate import load_spec, calibrate, run_posterior
    spec = load_spec("scenarios/calibrations/brand_tracking.toml")
    result = calibrate(spec, "out/calib")
    runs = run_posterior(result.out / "calibrated.toml", result.out / "posterior.parquet", replicates=20)

docs/calibration.md explains the data, the spec and the outputs.
"""

from .forecast import PosteriorRuns, read_posterior, run_posterior
from .observe import OBSERVABLES
from .run import Calibration, calibrate
from .spec import Spec, load_spec

__all__ = ["OBSERVABLES", "Calibration", "PosteriorRuns", "Spec", "calibrate", "load_spec",
           "read_posterior", "run_posterior"]
