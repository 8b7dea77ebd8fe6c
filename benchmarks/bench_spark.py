"""Benchmark: a synthesized extract through Spark (``local[2]``).

``--engine in_memory`` (the default) reports, once each (Spark's timings vary far more than
the file's), beside the same Parquet file read by the file source: the session's start,
the fingerprint computed in Spark, the read (cells cast to text in Spark and fetched as
Arrow) and ``load_input`` over the Spark source, against ``load_input`` over the file. The
driver holds the whole extract: in local mode give it memory for the size asked
(``SPARK_DRIVER_MEMORY``, default Spark's 1g, is passed as ``spark.driver.memory``;
``SPARK_DRIVER_MAX_RESULT_SIZE``, default Spark's 1g, as ``spark.driver.maxResultSize``:
the analysed patients of 10,000,000 are 1.9 GB as Arrow).

``--engine database`` runs the ``database`` engine over the Spark source (the rows stay in
Spark: validation, classification and the counts run there; the failing keys, the
analysed patients and aggregates reach the driver) on Parquet parts of 1,000,000 patients
(the first part of ``bench_database.py``, and copies of it with the part's own
``patient_id`` prefix; made once), and reports the session's
start, ``validate`` and ``classify`` (wall), the processor time of the Python process and
of Spark's JVM (every thread of each), the peak memory of each (``VmHWM``), and what was
fetched.

Needs the spark extra (``pip install 'imnm-cohort[spark]'``) and Java 17.

Run from the repository root with ``PYTHONPATH=.``::

    python benchmarks/bench_spark.py 200000
    python benchmarks/bench_spark.py 10000000 --engine database --folder /tmp/parquet_10000000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, _status_mb

from imnm_cohort import synthesize, write_extract
from imnm_cohort.sources.files import FileSource
from imnm_cohort.sources.spark import SparkSettings, SparkSource
from imnm_cohort.validation.load import load_input


def seconds(action: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def session() -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    memory = os.environ.get("SPARK_DRIVER_MEMORY")
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    result_size = os.environ.get("SPARK_DRIVER_MAX_RESULT_SIZE")
    if result_size:  # the analysed patients reach the driver in one collection
        builder = builder.config("spark.driver.maxResultSize", result_size)
    return builder.getOrCreate()


def in_memory(n: int) -> None:
    path = DATA / f"synth_{n}_1.parquet"
    if not path.exists():
        write_extract(synthesize(n, seed=1), path)
    by_file, t_file = seconds(lambda: load_input(FileSource(path)))
    _, t_start = seconds(session)
    source = SparkSource(SparkSettings("local[2]", path=str(path)))
    _, t_print = seconds(source.fingerprint)
    _, t_read = seconds(source.read)
    by_spark, t_load = seconds(lambda: load_input(source))
    assert len(by_spark.valid) == len(by_file.valid)
    print(
        f"{n:,} patients: file load_input {t_file:.1f} s; Spark local[2]: start {t_start:.1f} s, "
        f"fingerprint {t_print:.1f} s, read {t_read:.1f} s, load_input {t_load:.1f} s"
    )


def _descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (Spark's JVM is a child of the Python process)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _jvm() -> tuple[float, float]:
    """Processor seconds and peak memory (GB) of the processes under this one."""
    tick, cpu, peak = os.sysconf("SC_CLK_TCK"), 0.0, 0.0
    for pid in _descendants(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024**2)
        except OSError:
            continue
    return cpu, peak


def copied_parts(n: int, folder: Path) -> Path:
    """``n`` patients as Parquet parts of 1,000,000: the first part of ``bench_database.py``
    (synthesized, seed 100, 2 % dirty rows), then copies of it whose ``patient_id`` prefix
    names the part (``P001-``, ...), made once. Synthesizing each part takes minutes on a
    loaded machine; a copy, a second."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from bench_database import PART

    done = folder / "_done"  # Spark skips names starting with "_"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    first = folder / "part-000.parquet"
    if not first.exists():
        frame = synthesize(PART, seed=100, dirty=0.02)
        frame["patient_id"] = frame["patient_id"].str.replace("SYN", "P000-", n=1)
        write_extract(frame, first)
    rows = pq.read_table(first)
    for part in range(1, max(1, n // PART)):
        ids = pc.replace_substring(rows["patient_id"], "P000-", f"P{part:03d}-", max_replacements=1)
        copy = rows.set_column(rows.column_names.index("patient_id"), "patient_id", ids)
        pq.write_table(copy, folder / f"part-{part:03d}.parquet")
    done.write_text("")
    return folder


def database(n: int, folder: Path | None) -> None:
    from imnm_cohort import get_criteria
    from imnm_cohort.engines.base import engine_for
    from imnm_cohort.vocabulary import IN_DATABASE

    folder = copied_parts(n, folder or DATA / f"parquet_copies_{n}")
    print(f"load: {os.getloadavg()}", flush=True)
    _, t_start = seconds(session)
    source = SparkSource(SparkSettings("local[2]", path=str(folder)))
    engine = engine_for(name="database")
    cpu = time.process_time()
    jvm_before, _ = _jvm()
    result, t_validate = seconds(lambda: engine.validate(source))
    classified, t_classify = seconds(lambda: engine.classify(result, get_criteria("tma2025")))
    cpu = time.process_time() - cpu
    jvm_cpu, jvm_peak = _jvm()
    counted = classified.attrs[IN_DATABASE]
    print(
        f"{result.input_rows:,} patients, {result.quarantined_rows:,} quarantined, "
        f"{len(classified):,} analysed patients fetched; groups {counted['groups']}"
    )
    print(f"{'Spark local[2] session start':58s} {t_start:8.2f} s")
    print(f"{'validate (in Spark)':58s} {t_validate:8.2f} s")
    print(f"{'classify (in Spark)':58s} {t_classify:8.2f} s")
    print(f"{'validate + classify':58s} {t_validate + t_classify:8.2f} s")
    print(f"{'processor time, Python process (every thread)':58s} {cpu:8.2f} s")
    print(f"{'processor time, Spark JVM (every thread)':58s} {jvm_cpu - jvm_before:8.2f} s")
    print(f"{'peak memory, Python process':58s} {_status_mb('VmHWM') / 1024:8.2f} GB")
    print(f"{'peak memory, Spark JVM':58s} {jvm_peak:8.2f} GB")
    print(f"fetched: {counted['fetched']}")
    print(f"load: {os.getloadavg()}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000, help="patients")
    parser.add_argument("--engine", choices=("in_memory", "database"), default="in_memory")
    parser.add_argument("--folder", type=Path, help="the Parquet parts (made when absent)")
    args = parser.parse_args(argv)
    if args.engine == "database":
        database(args.n, args.folder)
    else:
        in_memory(args.n)


if __name__ == "__main__":
    main(sys.argv[1:])
