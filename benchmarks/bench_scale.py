"""Benchmark: the per-stage curve of time and peak memory from 10,000 to 10,000,000 rows.

For each size, in a fresh process: read + validate (``load_extract``), ``classify`` and
``analyse`` in memory (up to 1M), then ``imnm-cohort run`` end to end (start-up included;
up to 1M) and ``imnm-cohort classify --batch-rows 500000`` (bounded memory; every size).
Peak memory is the process's high-water mark after each stage (so it never falls).
Targets: run <= 3 s at 10k, <= 10 s at 100k, <= 60 s and <= 4 GB at 1M; batched classify
of 10M <= 6 GB. Figures go to ``benchmarks/data/scale.json`` and the plot to
``benchmarks/scale.png``.

Run: ``.venv/bin/python benchmarks/bench_scale.py [N ...]`` (default 10k 100k 1M 10M; the
10M extract, about 2.5 GB, is generated once in 1M-row parts).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DATA, peak_memory_gb

from imnm_cohort import synthesize, write_extract

SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
IN_MEMORY_UP_TO = 1_000_000
PART = 1_000_000
HERE = Path(__file__).parent


def extract(n: int) -> Path:
    """The synthetic extract of ``n`` rows (made once, in parts of 1M rows above that)."""
    path = DATA / f"scale_{n}.csv"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    if n <= PART:
        write_extract(synthesize(n, seed=1), path)
        return path
    tmp = path.with_suffix(".part")
    with path.with_suffix(".building").open("wb") as out:
        for part in range(n // PART):
            write_extract(synthesize(PART, seed=100 + part), tmp.with_suffix(".csv"))
            with tmp.with_suffix(".csv").open("rb") as chunk:
                header = chunk.readline()
                if part == 0:
                    out.write(header)
                while block := chunk.read(1 << 24):
                    out.write(block)
    tmp.with_suffix(".csv").unlink()
    path.with_suffix(".building").rename(path)
    return path


def stages(n: int) -> dict[str, list[float]]:
    """In this process: each stage's seconds and the peak memory after it (GB)."""
    from imnm_cohort import classify, load_extract
    from imnm_cohort.analysis import analyse

    path = extract(n)
    out: dict[str, list[float]] = {}
    start = time.perf_counter()
    result = load_extract(path)
    out["read + validate"] = [time.perf_counter() - start, peak_memory_gb()]
    start = time.perf_counter()
    classified = classify(result.valid)
    out["classify"] = [time.perf_counter() - start, peak_memory_gb()]
    start = time.perf_counter()
    analyse(classified)
    out["analyse"] = [time.perf_counter() - start, peak_memory_gb()]
    return out


def command(args: list[str]) -> list[float]:
    """Wall seconds and peak memory (GB) of a command line, start-up included."""
    timed = ["/usr/bin/time", "-v", sys.executable, "-m", "imnm_cohort", "-q", *args]
    start = time.perf_counter()
    done = subprocess.run(timed, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
    return [seconds, kib / 1024**2]


def measure(n: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    path = extract(n)
    if n <= IN_MEMORY_UP_TO:
        child = subprocess.run(
            [sys.executable, __file__, "--stages", str(n)], check=True, capture_output=True
        )
        figures.update(json.loads(child.stdout))
    with tempfile.TemporaryDirectory() as tmp:
        if n <= IN_MEMORY_UP_TO:
            figures["imnm-cohort run"] = command(
                ["run", "--input", str(path), "--output-dir", str(Path(tmp) / "run")]
            )
        out = str(Path(tmp) / "classified.parquet")
        figures["classify --batch-rows 500000"] = command(
            ["classify", str(path), "-o", out, "--batch-rows", "500000"]
        )
    return figures


def plot(results: dict[int, dict[str, list[float]]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = sorted({name for figures in results.values() for name in figures})
    for name in names:
        sizes = [n for n in sorted(results) if name in results[n]]
        left.plot(sizes, [results[n][name][0] for n in sizes], marker="o", label=name)
        right.plot(sizes, [results[n][name][1] for n in sizes], marker="o", label=name)
    for ax, title in ((left, "time (s)"), (right, "peak memory (GB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    fig.tight_layout()
    path = HERE / "scale.png"
    fig.savefig(path, dpi=110)
    return path


def main(sizes: list[int]) -> None:
    store = DATA / "scale.json"
    results = (
        {int(k): v for k, v in json.loads(store.read_text()).items()} if store.exists() else {}
    )
    for n in sizes:
        results[n] = measure(n)
        for name, (seconds, gb) in results[n].items():
            print(f"{n:>12,}  {name:32s} {seconds:9.2f} s  {gb:6.2f} GB", flush=True)
        store.write_text(json.dumps(results, indent=1))
    print(f"plot: {plot(results)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stages"]:
        print(json.dumps(stages(int(sys.argv[2]))))
    else:
        main([int(a) for a in sys.argv[1:]] or list(SIZES))
