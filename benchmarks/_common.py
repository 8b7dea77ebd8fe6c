"""Shared helpers for the benchmark scripts: timing, peak memory, the 1M-row extract."""

from __future__ import annotations

import ctypes
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from imnm_cohort import synthesize, write_extract

DATA = Path(__file__).parent / "data"
T = TypeVar("T")


def timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn`` once and print its wall time."""
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"{label:58s} {seconds:8.2f} s")
    return value, seconds


def alternated(
    anchor: tuple[str, Callable[[], object]],
    toolkit: tuple[str, Callable[[], object]],
    repeats: int = 5,
) -> float:
    """Time an anchor and the toolkit's call alternately; print both medians and their ratio.

    Each is called once first (a warm-up, not timed), then the two alternate ``repeats``
    times, so that a change in the machine's load during the run weighs on both alike. The
    result of each call is dropped inside its own timing, so freeing it is counted too.
    Returns the ratio toolkit / anchor of the medians.
    """
    times: dict[str, list[float]] = {anchor[0]: [], toolkit[0]: []}
    for _, fn in (anchor, toolkit):
        fn()
    for _ in range(repeats):
        for label, fn in (anchor, toolkit):
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    a, t = (statistics.median(times[label]) for label, _ in (anchor, toolkit))
    print(f"{anchor[0]:58s} {a:8.2f} s")
    print(f"{toolkit[0]:58s} {t:8.2f} s")
    print(f"{'ratio (target <= 3x)':58s} {t / a:8.2f} x")
    return t / a


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far, in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def million_row_extract(n: int = 1_000_000, seed: int = 1) -> Path:
    """The benchmark extract (made once and kept under benchmarks/data/, git-ignored)."""
    path = DATA / f"synth_{n}_{seed}.csv"
    if not path.exists():
        write_extract(synthesize(n, seed=seed), path)
    return path


def synthetic_omop(n: int, seed: int = 1, path: Path | None = None) -> Path:
    """The synthetic OMOP CDM in DuckDB (``imnm-cohort synth --layout omop``, about 50
    measurement rows a person), made once (under benchmarks/data/ unless ``path`` names
    the file) in a process of its own, its time printed."""
    path = path or DATA / f"omop_{n}_{seed}.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "imnm_cohort", "-q", "synth", "--layout", "omop"]
        command += ["--n", str(n), "--seed", str(seed), "-o", str(path)]
        timed(
            "generate (synth --layout omop, own process)",
            lambda: subprocess.run(command, check=True),
        )
    return path


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_extra_mb(fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn`` and return its value and the peak resident memory above the start, in MB.

    Hands freed heap memory back to the system first (glibc ``malloc_trim``), so that the
    call cannot hide its allocations in pages freed by earlier work, then resets the
    kernel's high-water mark (Linux >= 4.0: ``5 > /proc/self/clear_refs``), so the figure
    is this call's own peak.
    """
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    start = _status_mb("VmRSS")
    value = fn()
    return value, _status_mb("VmHWM") - start


#: Packages of this development environment that a user's installation does not have
#: (``pip install imnm-cohort``): Hypothesis (a test dependency) and PySpark (the optional
#: ``spark`` extra). pandera imports both on its own import when they are installed
#: (about 0.35 s of processor time in all), so a whole-process benchmark can run its
#: children with them unimportable, as a user's installation runs (``--as-installed``).
DEVELOPMENT_ONLY = ("hypothesis", "pyspark")


def python_command(code: str, as_installed: bool) -> list[str]:
    """``python -c code``, with the development-only packages unimportable if asked."""
    if as_installed:
        hidden = "; ".join(f"sys.modules[{name!r}] = None" for name in DEVELOPMENT_ONLY)
        code = f"import sys; {hidden}; {code}"
    return [sys.executable, "-c", code]


def cli_command(args: list[str], as_installed: bool) -> list[str]:
    """``python -m imnm_cohort args`` as a command (through ``runpy`` when ``as_installed``)."""
    if not as_installed:
        return [sys.executable, "-m", "imnm_cohort", *args]
    run = f"sys.argv = ['imnm-cohort', *{args!r}]; import runpy; "
    return python_command(run + "runpy.run_module('imnm_cohort', run_name='__main__')", True)
