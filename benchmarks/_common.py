"""Shared helpers for the benchmark scripts: timing, peak memory, the 1M-row extract."""

from __future__ import annotations

import ctypes
import resource
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


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far, in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def million_row_extract(n: int = 1_000_000, seed: int = 1) -> Path:
    """The benchmark extract (made once and kept under benchmarks/data/, git-ignored)."""
    path = DATA / f"synth_{n}_{seed}.csv"
    if not path.exists():
        write_extract(synthesize(n, seed=seed), path)
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
