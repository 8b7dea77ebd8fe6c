"""Benchmark (issue 5): `imnm-cohort run` end to end.

Targets on the 2-core reference machine: 100,000 synthetic patients <= 60 s; the bundled
demo <= 15 s (both as a user runs them: a new Python process).

Run: ``.venv/bin/python benchmarks/bench_run.py [N]`` from ``benchmarks/``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _common import DATA, timed

from imnm_cohort import synthesize, write_extract


def main(n: int) -> None:
    extract = DATA / f"run_{n}.csv"
    if not extract.exists():
        write_extract(synthesize(n, seed=9), extract)
    with tempfile.TemporaryDirectory() as out:
        demo = [
            sys.executable,
            "-m",
            "imnm_cohort",
            "-q",
            "run",
            "--output-dir",
            str(Path(out) / "demo"),
        ]
        timed(
            "imnm-cohort run (bundled demo, 3,000 patients)",
            lambda: subprocess.run(demo, check=True),
        )
        big = [
            sys.executable,
            "-m",
            "imnm_cohort",
            "-q",
            "run",
            "--input",
            str(extract),
            "--output-dir",
            str(Path(out) / "big"),
        ]
        timed(
            f"imnm-cohort run ({n:,} synthetic patients)", lambda: subprocess.run(big, check=True)
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
