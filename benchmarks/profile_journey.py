"""Where a step of the journey model spends its time: cProfile, top functions by tottime.

Profiles ``step()`` of the model timed in ``bench_virus.py`` (the baseline
scenario, 10,000 consumers on a random network of mean degree 3); building
the model is not profiled. "Profile before optimising": run this before
changing anything for speed.

Run from the project root::

    .venv/bin/python benchmarks/profile_journey.py
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from bench_virus import VIRUS_MEAN_DEGREE, build_journey_model


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10_000, help="consumers (10000)")
    parser.add_argument("--steps", type=int, default=30, help="profiled steps (30)")
    parser.add_argument("--top", type=int, default=15, help="functions to list (15)")
    parser.add_argument("--seed", type=int, default=1, help="model seed (1)")
    args = parser.parse_args(argv)

    model = build_journey_model(args.agents, VIRUS_MEAN_DEGREE, args.seed)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.steps):
        model.step()
    profiler.disable()
    print(f"journey model, {args.agents} consumers, {args.steps} steps (cProfile adds overhead)")
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
