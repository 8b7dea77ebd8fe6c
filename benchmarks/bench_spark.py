"""Benchmark: a synthesized extract read and validated through Spark (``local[2]``) beside
the same Parquet file read by the file source.

Reports, once each (Spark's timings vary far more than the file's): the session's start,
the fingerprint computed in Spark, the read (cells cast to text in Spark and fetched as
Arrow) and ``load_input`` over the Spark source, against ``load_input`` over the file. The
driver holds the whole extract: in local mode give it memory for the size asked
(``SPARK_DRIVER_MEMORY``, default Spark's 1g, is passed as ``spark.driver.memory``).

Needs the spark extra (``pip install 'imnm-cohort[spark]'``) and Java 17.

Run: ``.venv/bin/python benchmarks/bench_spark.py [N]`` (default 200,000)
"""

from __future__ import annotations

import os
import sys
import time

from _common import DATA

from imnm_cohort import synthesize, write_extract
from imnm_cohort.sources.files import FileSource
from imnm_cohort.sources.spark import SparkSettings, SparkSource
from imnm_cohort.validation.load import load_input


def seconds(action):
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def main(n: int) -> None:
    from pyspark.sql import SparkSession

    path = DATA / f"synth_{n}_1.parquet"
    if not path.exists():
        write_extract(synthesize(n, seed=1), path)
    by_file, t_file = seconds(lambda: load_input(FileSource(path)))
    builder = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
    memory = os.environ.get("SPARK_DRIVER_MEMORY")
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    _, t_start = seconds(builder.getOrCreate)
    source = SparkSource(SparkSettings("local[2]", path=str(path)))
    _, t_print = seconds(source.fingerprint)
    _, t_read = seconds(source.read)
    by_spark, t_load = seconds(lambda: load_input(source))
    assert len(by_spark.valid) == len(by_file.valid)
    print(
        f"{n:,} patients: file load_input {t_file:.1f} s; Spark local[2]: start {t_start:.1f} s, "
        f"fingerprint {t_print:.1f} s, read {t_read:.1f} s, load_input {t_load:.1f} s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
