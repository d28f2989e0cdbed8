"""The array engine's processor time per run or per day: a git revision against this tree, side by side.

    .venv/bin/python benchmarks/engine_ab.py BASE_REV [--rounds 6] [--sizes cal,100000,1000000]

BASE_REV is checked out once into a detached worktree in the temporary folder (``git worktree add``;
``git worktree prune`` forgets it once the folder is gone) and put first on
``sys.path`` of a fresh interpreter; this tree gets the same. In each round the two sides run at the
same time, one core each (the machine has two), so that a shared machine's load hits both alike;
leave the machine otherwise idle. Figures:

* ``cal``: processor seconds of one simulation of the shipped brand-tracking calibration
  (``scenarios/calibrations/brand_tracking.toml``: 1,000 consumers, 365 burn-in + 672 days, through
  the calibration's own simulator), the mean of 3 after a warm-up run;
* a population size: processor milliseconds a day of the baseline on a small world (mean degree 10)
  after its 365-day burn-in (300 days; 60 at a million and above).

The minimum and the median over the rounds are printed per side, with after/before ratios: on a
shared machine the minimum is the least disturbed figure. Processor time, not wall clock.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
size = sys.argv[2]
import sim
if size == "cal":
    from sim.calibrate import abc, spec
    simulate = abc.simulator(spec.load_spec(sys.argv[3] + "/scenarios/calibrations/brand_tracking.toml"))
    pars = {"brands.ours.quality": 0.7, "brands.theirs.quality": 0.65, "sharing.base_propensity": 0.1,
            "ads.persuasion": 0.03}
    simulate.table(pars, 99)
    start = time.process_time()
    for seed in range(3):
        simulate.stats(simulate.table(pars, seed))
    print((time.process_time() - start) / 3)
else:
    n = int(size)
    model = sim.build(sim.load("baseline", {"population.size": n, "engine": "array",
                                            "network.kind": "small_world", "network.mean_degree": 10.0}), seed=1)
    days = 60 if n >= 10**6 else 300
    start = time.process_time()
    for _ in range(days):
        model.step()
    print((time.process_time() - start) / days * 1000)
"""


def worktree(rev: str) -> Path:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True,
                            capture_output=True, text=True).stdout.strip()
    path = Path(tempfile.gettempdir()) / f"momentsim-bench-{commit}"
    if not path.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit], check=True,
                       capture_output=True)
    return path


def probe(trees: dict[str, Path], size: str) -> dict[str, float]:
    """One figure per tree, the trees' probes running at the same time (one core each), so that
    whatever else loads the machine at that moment loads both."""
    running = {side: subprocess.Popen([sys.executable, "-c", PROBE, str(tree), size, str(ROOT)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tree)
               for side, tree in trees.items()}
    figures = {}
    for side, process in running.items():
        out, err = process.communicate()
        if process.returncode:
            raise SystemExit(f"{trees[side]}: {err.strip().splitlines()[-1]}")
        figures[side] = float(out.strip().splitlines()[-1])
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the git revision to compare against (a commit, a tag, HEAD~3)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--sizes", default="cal,100000", help="comma-separated: cal and population sizes")
    args = parser.parse_args(argv)
    base = worktree(args.base)
    sides = {"before": base, "after": ROOT}
    for size in args.sizes.split(","):
        figures = {side: [] for side in sides}
        for _ in range(args.rounds):
            for side, figure in probe(sides, size).items():
                figures[side].append(figure)
        unit = "s a simulation" if size == "cal" else "ms a day"
        print(f"{size} ({unit}), {args.rounds} rounds side by side, {args.base} vs this tree")
        for side, values in figures.items():
            print(f"  {side:>6}: {' '.join(f'{v:.3f}' for v in values)} | min {min(values):.3f} "
                  f"median {statistics.median(values):.3f}")
        b, a = figures["before"], figures["after"]
        print(f"  after / before: min {min(a) / min(b):.2f}, median {statistics.median(a) / statistics.median(b):.2f}")


if __name__ == "__main__":
    main()
