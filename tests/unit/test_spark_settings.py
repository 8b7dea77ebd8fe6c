"""``[input] kind = "spark"`` settings, checked before Spark is asked for anything: these
tests need no pyspark, and one shows the one line a user without it gets."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from imnm_cohort.cli import main
from imnm_cohort.errors import ConfigError
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.sources import spark
from imnm_cohort.sources.spark import NEEDS_EXTRA, SparkSettings, SparkSource


def pipeline(tmp_path: Path, input_lines: str) -> Path:
    path = tmp_path / "pipeline.toml"
    path.write_text(f'[input]\nkind = "spark"\n{input_lines}\n', encoding="utf-8")
    return path


def test_without_pyspark_the_run_stops_in_one_line_exit_2(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if it were not installed
    toml = pipeline(tmp_path, 'master = "local[2]"\ntable = "registry.patients"')
    out, err = io.StringIO(), io.StringIO()
    assert main(["run", str(toml)], stdout=out, stderr=err) == 2
    assert err.getvalue().count("\n") == 1 and out.getvalue() == ""
    assert err.getvalue().rstrip().endswith(NEEDS_EXTRA)
    assert NEEDS_EXTRA == "kind = \"spark\" needs the spark extra: pip install 'imnm-cohort[spark]'"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('table = "a.b"\npath = "x.parquet"', "one of the two"),
        ('master = "local[2]"', "one of the two"),
        ('table = "a.b"\nwarehouse = "w"', "unknown key 'warehouse'"),
        ("table = 3", "table must be text"),
        ('table = "a.b"\nmaster = ""', "master must be text"),
    ],
)
def test_unusable_settings_name_the_key(tmp_path, lines, message):
    with pytest.raises(ConfigError, match=message) as found:
        load_pipeline(pipeline(tmp_path, lines))
    assert str(found.value).startswith(f"{tmp_path / 'pipeline.toml'}: [input] ")


def test_a_relative_path_is_read_from_the_pipelines_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(spark, "require_pyspark", lambda: None)  # installed or not
    config = load_pipeline(pipeline(tmp_path, 'path = "data/patients.parquet"'))
    source = config.input_source()
    assert isinstance(source, SparkSource)
    assert source.settings == SparkSettings(None, path=str(tmp_path / "data/patients.parquet"))
    assert source.label == "patients.parquet"


def test_a_urls_user_and_password_never_name_the_source():
    source = SparkSource(SparkSettings("local[2]", path="s3a://key:secret@bucket/p/*.parquet"))
    assert source.name == "s3a://bucket/p/*.parquet"
    assert "secret" not in repr(source) and "key" not in source.name


def test_spark_errors_are_one_phrase():
    # The shape of py4j's Py4JJavaError text: a first line naming the JVM call, then the
    # Java exception and its stack.
    java = RuntimeError(
        "An error occurred while calling o802.getResult.\n"
        ": org.apache.spark.SparkException: Job aborted due to stage failure. Task 0 lost\n"
        "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages\n"
    )
    assert spark._problem(java) == (
        "org.apache.spark.SparkException: Job aborted due to stage failure"
    )
    condition = RuntimeError(
        "[PATH_NOT_FOUND] Path does not exist: file:/x.parquet. SQLSTATE: 42K03\nmore"
    )
    assert spark._problem(condition) == "[PATH_NOT_FOUND] Path does not exist: file:/x.parquet"
    memory = RuntimeError(
        "An error occurred while calling o9.toArrow.\n: java.lang.OutOfMemoryError: Java heap"
    )
    assert "spark.driver.memory" in spark._problem(memory)


def test_a_driver_whose_java_process_died_is_named_not_connection_refused(monkeypatch):
    """py4j reports a dead driver as "Connection refused"; the line says what happened."""
    import types

    from imnm_cohort.errors import ExtractError

    class Process:
        def __init__(self, code):
            self.code = code

        def poll(self):
            return self.code

    gateway = types.SimpleNamespace(proc=Process(None))
    fake = types.SimpleNamespace(SparkContext=types.SimpleNamespace(_gateway=gateway))
    monkeypatch.setitem(sys.modules, "pyspark", fake)
    refused = ConnectionRefusedError(111, "Connection refused")
    # the driver runs: the error is Spark's own, in one line
    assert spark._problem(refused) == "[Errno 111] Connection refused"
    gateway.proc = Process(-9)  # the kernel's out-of-memory killer
    with pytest.raises(ExtractError) as caught, spark._spark_failures("registry.patients"):
        raise refused
    message = str(caught.value)
    assert message.startswith("registry.patients: the Spark driver's Java process was killed")
    assert "signal 9 (most often the kernel's out-of-memory killer)" in message
    assert "spark.driver.memory" in message and "\n" not in message
    gateway.proc = Process(1)
    assert "stopped with exit code 1;" in spark._problem(refused)
    gateway.proc = Process(52)  # Spark's own exit on java.lang.OutOfMemoryError
    assert "exit code 52 (Spark's code for java.lang.OutOfMemoryError)" in spark._problem(refused)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # pyspark not imported: Spark's words
    assert spark._problem(refused) == "[Errno 111] Connection refused"
