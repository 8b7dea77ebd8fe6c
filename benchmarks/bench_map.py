"""Benchmark: mapping a REDCap-shaped export of about 1,000,000 rows (320,000 patients).

Targets on the 2-core reference machine: reading + mapping the export <= 3x the time pandas
takes to read the same file; peak memory <= 3 GB; ``imnm-cohort classify --mapping`` end to
end <= 30 s. Reading + mapping runs in a process of its own, so that its peak memory is its
own (not the generator's or pandas').

Run: ``.venv/bin/python benchmarks/bench_map.py [PATIENTS]`` (default 320,000)
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from _common import DATA, peak_memory_gb, timed

from imnm_cohort.validation.load import read_mapped


def redcap_export(patients: int, seed: int = 1) -> tuple[Path, Path]:
    """The benchmark export and its mapping (made once under benchmarks/data/)."""
    path = DATA / f"redcap_{patients}_{seed}.csv"
    mapping = path.with_name(path.stem + ".mapping.toml")
    if not path.exists():
        command = [sys.executable, "-m", "imnm_cohort", "-q", "synth", "--n", str(patients),
                   "--seed", str(seed), "--layout", "redcap", "-o", str(path)]  # fmt: skip
        subprocess.run(command, check=True)
    return path, mapping


def map_only(path: str, mapping: str) -> None:
    """Child process: read + map, print the seconds, rows, patients and its peak memory."""
    start = time.perf_counter()
    _, mapped = read_mapped(path, mapping)
    seconds = time.perf_counter() - start
    print(seconds, mapped.export_rows, mapped.patients, peak_memory_gb())


def _child_peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2


def main(patients: int) -> None:
    (path, mapping), _ = timed(
        f"synth --layout redcap ({patients:,} patients)", lambda: redcap_export(patients)
    )
    frame, pandas_s = timed(
        "pandas.read_csv (dtype=str) of the export", lambda: pd.read_csv(path, dtype=str)
    )
    rows = len(frame)
    del frame
    child = subprocess.run(
        [sys.executable, __file__, "--map-only", str(path), str(mapping)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds, export_rows, mapped_patients, child_gb = child.stdout.split()
    map_s = float(seconds)
    assert int(export_rows) == rows and int(mapped_patients) == patients
    print(f"{'read + map (read_mapped), own process':58s} {map_s:8.2f} s")
    print(f"{'export rows':58s} {rows:8,d}")
    print(f"{'ratio read + map / pandas.read_csv':58s} {map_s / pandas_s:8.2f} x")
    print(f"{'peak memory of read + map':58s} {float(child_gb):8.2f} GB")
    out = DATA / "redcap_classified.csv"
    command = [sys.executable, "-m", "imnm_cohort", "-q", "classify", str(path),
               "--mapping", str(mapping), "-o", str(out)]  # fmt: skip
    timed("imnm-cohort classify --mapping, end to end", lambda: subprocess.run(command, check=True))
    print(f"{'peak memory of the largest child process':58s} {_child_peak_gb():8.2f} GB")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--map-only":
        map_only(sys.argv[2], sys.argv[3])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 320_000)
