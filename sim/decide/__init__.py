"""Decisions: replicated what-ifs with paired intervals, a budget optimiser, a report.

A room of its own above :mod:`sim.api`: it runs scenarios through the API, reads money through
:func:`sim.economics.pnl`, and hands runs to the sweeps' executors (local processes or Dask).
"""

from .compare import KPIS, WhatIf, compare_replicated, parse_variant, replicate_seeds
from .stats import paired_interval

__all__ = ["KPIS", "WhatIf", "compare_replicated", "paired_interval", "parse_variant", "replicate_seeds"]
