"""Benchmark: mapping a REDCap-shaped export of about 1,000,000 rows (300,000 patients).

Targets on the 2-core reference machine: reading + mapping the export <= 3x the time pandas
takes to read the same file; peak memory <= 3 GB; ``imnm-cohort classify --mapping`` end to
end <= 30 s.

Run: ``.venv/bin/python benchmarks/bench_map.py [PATIENTS]`` (default 300,000)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from _common import DATA, peak_memory_gb, timed

from imnm_cohort.mapping import read_mapped
from imnm_cohort.synth_redcap import write_redcap


def redcap_export(patients: int, seed: int = 1) -> tuple[Path, Path]:
    """The benchmark export and its mapping (made once under benchmarks/data/)."""
    path = DATA / f"redcap_{patients}_{seed}.csv"
    mapping = path.with_name(path.stem + ".mapping.toml")
    if not path.exists():
        write_redcap(patients, path, seed=seed)
    return path, mapping


def main(patients: int) -> None:
    (path, mapping), _ = timed(
        f"synth --layout redcap ({patients:,} patients)", lambda: redcap_export(patients)
    )
    frame, pandas_s = timed(
        "pandas.read_csv (dtype=str) of the export", lambda: pd.read_csv(path, dtype=str)
    )
    rows = len(frame)
    del frame
    (_, mapped), map_s = timed("read + map (read_mapped)", lambda: read_mapped(path, mapping))
    assert mapped.export_rows == rows and mapped.patients == patients
    print(f"{'export rows':58s} {rows:8,d}")
    print(f"{'ratio read + map / pandas.read_csv':58s} {map_s / pandas_s:8.2f} x")
    print(f"{'peak memory (read + map)':58s} {peak_memory_gb():8.2f} GB")
    out = DATA / "redcap_classified.csv"
    command = [sys.executable, "-m", "imnm_cohort", "-q", "classify", str(path),
               "--mapping", str(mapping), "-o", str(out)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True)
    print(
        f"{'imnm-cohort classify --mapping, end to end':58s} {time.perf_counter() - start:8.2f} s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000)
