"""Sweep: small synthetic cohorts through disclosure control and the self-check.

For every size, seed and share of dirty rows of the grid, a synthetic extract is run in
this process through the stages a run calls before it renders anything (read, validate,
classify, analyse, disclose, self-check; no output is written), and the script prints one
line per cohort: ``ok``, ``unsolved`` (the self-check could not solve its margins: the
check's own failure), ``leak`` (a withheld value can be worked out: the run fails closed)
or ``error``, with the counts withheld and the seconds taken. It exits with 1 when any
cohort is ``unsolved`` or ``error``; ``--leaks`` counts ``leak`` as a failure too.

Small cohorts are where disclosure control withholds the most and the reader's integer
system is least bounded; the default grid is the one the self-check was last swept over
(``docs/decisions.md``, "The self-check solves what it states").

Run: ``cd benchmarks; ../.venv/bin/python selfcheck_sweep.py`` (the whole grid, about 20
minutes on one core), or a part of it: ``selfcheck_sweep.py --n 150 --seeds 21
--dirty 0.2``; ``--jobs 2`` runs two cohorts at a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SIZES = (30, 60, 100, 150, 200, 400)
SEEDS = tuple(range(10))
DIRTY = (0.0, 0.2)


def one(n: int, seed: int, dirty: float) -> tuple[str, str, int, float]:
    """(outcome, detail, counts withheld, seconds) of one synthetic cohort."""
    from imnm_cohort import synthesize, write_extract
    from imnm_cohort.errors import ImnmCohortError
    from imnm_cohort.pipeline import stages
    from imnm_cohort.pipeline.config import load_pipeline
    from imnm_cohort.pipeline.selfcheck import DisclosureLeakError

    start = time.perf_counter()
    withheld = 0
    with tempfile.TemporaryDirectory() as tmp:
        extract = write_extract(synthesize(n, seed=seed, dirty=dirty), Path(tmp) / "x.csv")
        config = load_pipeline(None).with_overrides(extract, Path(tmp) / "runs")
        try:
            result = stages.validate(config, stages.read(config))
            _, classified = stages.classify(config, result)
            analysis = stages.analyse(config, classified)
            disclosed = stages.disclose(config, result, classified, analysis)
            withheld = len(disclosed.summary.withheld)
            declarations = {"summary.json": disclosed.declaration}
            stages.self_check(config, result, classified, analysis, disclosed, None, declarations)
        except DisclosureLeakError as exc:
            outcome = "unsolved" if "could not solve its margins" in str(exc) else "leak"
            return outcome, str(exc), withheld, time.perf_counter() - start
        except ImnmCohortError as exc:
            return "error", str(exc), withheld, time.perf_counter() - start
    return "ok", "", withheld, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--dirty", type=float, nargs="+", default=list(DIRTY))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--leaks", action="store_true", help="count a leak as a failure")
    args = parser.parse_args(argv)
    grid = [(n, s, d) for n in args.n for s in args.seeds for d in args.dirty]
    failed = 0
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one, *cohort) for cohort in grid]
        for (n, seed, dirty), future in zip(grid, futures, strict=True):
            outcome, detail, withheld, seconds = future.result()
            bad = outcome in ("unsolved", "error") or (args.leaks and outcome == "leak")
            failed += bad
            line = (
                f"n={n:<4d} seed={seed:<2d} dirty={dirty:<4} {outcome:8s} withheld={withheld:<4d}"
            )
            print(f"{line} {seconds:6.1f} s {detail}", flush=True)
    print(f"{len(grid)} cohorts, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
