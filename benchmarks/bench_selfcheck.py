"""Benchmark: the disclosure self-check against the run it guards.

For each size: ``imnm-cohort run`` end to end on a synthetic extract (a new process, every
format of the bundled pipeline, as a user runs it), then, in this process, the self-check
alone (``check_run`` on the same run's summary, declaration and figure data; median of 5
calls) with the size of its integer system. Last, the smallest size's summary with Table
1's rows repeated 1, 4 and 16 times: the cost against the number of published cells.
Targets: the self-check costs at most 10% of the run at 10,000 patients, and its cost per
published cell does not grow with the cohort or the cells.

A run that the self-check stops (exit 1) is reported as such; its time then covers the
stages up to the self-check only.

Run: ``.venv/bin/python benchmarks/bench_selfcheck.py [N ...]`` from ``benchmarks/``
(default 1,000 10,000 100,000).
"""

from __future__ import annotations

import copy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DATA

from imnm_cohort import synthesize, write_extract
from imnm_cohort.disclosure.suppression import leaves
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.pipeline.selfcheck import check_run

SIZES = (1_000, 10_000, 100_000)


def extract(n: int) -> Path:
    path = DATA / f"selfcheck_{n}.csv"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        write_extract(synthesize(n, seed=1), path)
    return path


def whole_run(path: Path) -> tuple[float, int]:
    """Wall seconds and exit code of ``imnm-cohort run`` in a new process."""
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "imnm_cohort", "-q", "run", "--input", str(path)]
        start = time.perf_counter()
        done = subprocess.run([*argv, "--output-dir", out], capture_output=True, check=False)
        return time.perf_counter() - start, done.returncode


def _stages(path: Path) -> tuple[Any, Any, Any, Any, Any]:
    """The run's stages up to disclosure, as ``run`` calls them, on the extract ``path``."""
    with tempfile.TemporaryDirectory() as out:
        config = load_pipeline(None).with_overrides(path, Path(out))
        result = stages.validate(config, stages.read(config))
        _, classified = stages.classify(config, result)
        analysis = stages.analyse(config, classified)
        disclosed = stages.disclose(config, result, classified, analysis)
    return config, result, classified, analysis, disclosed


def self_check(path: Path) -> tuple[float, int, object]:
    """Median seconds of the self-check, the published cells it reads, and its result."""
    config, result, classified, analysis, disclosed = _stages(path)
    summary = disclosed.summary.data
    cells = sum(1 for _, v in leaves(summary) if isinstance(v, int | float | str))
    times, check = [], None
    for _ in range(5):
        start = time.perf_counter()
        truth = stages.build_summary(config, result, classified, analysis)
        check = check_run(
            summary, disclosed.declaration, disclosed.policy, figures=disclosed.figures, truth=truth
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times), cells, check


def more_cells(path: Path, factors: tuple[int, ...] = (1, 4, 16)) -> None:
    """The same run with Table 1's rows repeated: the cost against the published cells."""
    config, result, classified, analysis, disclosed = _stages(path)
    truth = stages.build_summary(config, result, classified, analysis)
    print(f"{'Table 1 rows x':>14} {'cells':>6} {'check s':>8} {'us/cell':>8} {'MILPs':>6}")
    for factor in factors:
        summary, before = copy.deepcopy(disclosed.summary.data), copy.deepcopy(truth)
        for data in (summary, before):
            data["table_one"]["rows"] = data["table_one"]["rows"] * factor
        cells = sum(1 for _, v in leaves(summary) if isinstance(v, int | float | str))
        start = time.perf_counter()
        check = check_run(summary, disclosed.declaration, disclosed.policy, truth=before)
        seconds = time.perf_counter() - start
        print(f"{factor:>14} {cells:>6} {seconds:8.3f} {1e6 * seconds / cells:8.1f} "
              f"{check.solves:>6}")  # fmt: skip


def main(sizes: tuple[int, ...]) -> None:
    heads = ("patients", "run s", "exit", "check s", "share", "cells", "us/cell", "vars")
    widths = (9, 7, 4, 8, 6, 6, 8, 5)
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)), "rels MILPs findings")
    for n in sizes:
        path = extract(n)
        seconds, code = whole_run(path)
        check_seconds, cells, check = self_check(path)
        print(
            f"{n:>9,} {seconds:7.2f} {code:>4} {check_seconds:8.3f} "
            f"{check_seconds / seconds:6.1%} {cells:>6} {1e6 * check_seconds / cells:8.1f} "
            f"{check.variables:>5} {check.relations:>5} {check.solves:>5} "  # type: ignore[attr-defined]
            f"{len(check.findings):>8}"  # type: ignore[attr-defined]
        )


if __name__ == "__main__":
    chosen = tuple(int(a) for a in sys.argv[1:]) or SIZES
    main(chosen)
    more_cells(extract(min(chosen)))
