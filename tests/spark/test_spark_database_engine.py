"""The ``database`` engine on a Spark source (``local[2]``): the rows stay in Spark and give
what the in-memory engine gives the same rows (counts, reasons, warnings, groups, the
analysed patients, the published run), with the row numbers of the canonical order across
several Parquet part files and a blank row at the end; the temporary views it made are
dropped and the session keeps running."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip(
    "pyspark", reason="pyspark is an optional extra: pip install 'imnm-cohort[spark]'"
)

from imnm_cohort import get_criteria
from imnm_cohort.cli import main
from imnm_cohort.engines.base import engine_for, engine_for_source
from imnm_cohort.errors import ConfigError
from imnm_cohort.sources.base import make_source
from imnm_cohort.synth import synthesize, write_extract
from imnm_cohort.vocabulary import ANALYSED_GROUPS, GROUP_COLUMN, IN_DATABASE
from tests.spark.conftest import SOCKET_WARNING

pytestmark = pytest.mark.filterwarnings(SOCKET_WARNING)  # see tests/spark/conftest.py


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dirty extract (rows quarantined, warnings, every group) as two Parquet part files,
    the second ending in a row blank in every column."""
    folder = tmp_path_factory.mktemp("spark-engine") / "patients"
    folder.mkdir()
    frame = synthesize(160, seed=21, dirty=0.25).astype(object)
    frame = frame.where(frame.notna(), None)
    frame.loc[5, "sex"] = " Female "  # normalised by both engines
    blank = pd.DataFrame([[None] * frame.shape[1]], columns=frame.columns)
    write_extract(frame.iloc[:90].reset_index(drop=True), folder / "part-0.parquet")
    second = pd.concat([frame.iloc[90:], blank], ignore_index=True)
    write_extract(second, folder / "part-1.parquet")
    return folder


def test_the_database_engine_on_spark_gives_the_in_memory_results(spark, parts):
    source = make_source("spark", {"master": "local[2]", "path": str(parts)}, parts, "test")
    assert engine_for_source(source).name == "database"
    memory, database = engine_for(name="in_memory"), engine_for(name="database")
    expected, got = memory.validate(source), database.validate(source)
    assert (got.input_rows, got.valid_rows, got.quarantined_rows, got.empty_rows) == (
        expected.input_rows,
        expected.valid_rows,
        expected.quarantined_rows,
        expected.empty_rows,
    )
    assert got.empty_rows == 1 and got.quarantined_rows > 0 and got.valid.empty
    for name in ("reasons", "warnings"):  # the quarantine: published alike (below)
        pd.testing.assert_frame_equal(
            getattr(got, name), getattr(expected, name), check_dtype=False, obj=name
        )
    assert got.reasons["row_number"].max() > 90  # a row of the second file, numbered after
    assert got.to_dict() == expected.to_dict()
    criteria = get_criteria("enmc2017")
    classified, everyone = database.classify(got, criteria), memory.classify(expected, criteria)
    assert (
        classified.attrs[IN_DATABASE]["groups"] == everyone[GROUP_COLUMN].value_counts().to_dict()
    )
    analysed = everyone[everyone[GROUP_COLUMN].isin(ANALYSED_GROUPS)]
    assert classified.index.equals(analysed.index)
    assert list(classified.columns) == list(everyone.columns)
    for name in ("patient_id", GROUP_COLUMN, "classification_reasons", "onset_date", "ck_peak"):
        pd.testing.assert_series_equal(classified[name], analysed[name], obj=name)
    # classify() closed the table: its persisted views are gone, the session still runs.
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("_imnm_")]
    assert spark.range(1).count() == 1


def test_the_database_engine_collects_through_sparks_arrow_not_python_rows(
    spark, parts, monkeypatch
):
    """Every result reaches the driver as Arrow (``toArrow``): ``toPandas`` with Arrow off,
    a session's default, would hold every fetched row as a Python object in the driver
    (the 10,000,000-patient run's driver outgrew the machine in the analysed patients'
    fetch)."""
    frames = type(spark.range(1))  # the session's own DataFrame class (Spark 4: classic)
    collected: list[int] = []
    arrow = frames.toArrow

    def counted(frame):  # type: ignore[no-untyped-def]
        table = arrow(frame)
        collected.append(table.num_rows)
        return table

    def refused(frame):  # type: ignore[no-untyped-def]
        raise AssertionError("a result was collected through toPandas")

    monkeypatch.setattr(frames, "toPandas", refused)
    monkeypatch.setattr(frames, "toArrow", counted)
    source = make_source("spark", {"master": "local[2]", "path": str(parts)}, parts, "test")
    database = engine_for(name="database")
    result = database.validate(source)
    classified = database.classify(result, get_criteria("enmc2017"))
    assert len(classified) > 0 and result.quarantined_rows > 0
    assert len(classified) in collected  # the analysed patients came as one Arrow table
    assert sum(collected) >= database.fetched.rows


def test_a_spark_run_publishes_what_the_in_memory_run_publishes(spark, parts, tmp_path):
    where = f'kind = "spark"\nmaster = "local[2]"\npath = "{parts.as_posix()}"'
    for name, extra in (("db", ""), ("memory", '\nengine = "in_memory"')):
        toml = tmp_path / f"{name}.toml"
        toml.write_text(
            f'[input]\n{where}{extra}\n[output]\nroot = "{name}"\nformats = ["json", "csv"]\n',
            encoding="utf-8",
        )
        out, err = io.StringIO(), io.StringIO()
        assert main(["-q", "run", str(toml)], stdout=out, stderr=err) == 0, err.getvalue()
    latest = {name: tmp_path / name / "latest" for name in ("db", "memory")}
    summaries = [json.loads((latest[n] / "summary.json").read_text("utf-8")) for n in latest]
    assert summaries[0] == summaries[1]
    assert (latest["db"] / "quarantine.csv").read_bytes() == (
        latest["memory"] / "quarantine.csv"
    ).read_bytes()
    notes = json.loads((latest["db"] / "manifest.json").read_text("utf-8"))["notes"]
    assert "rows in the database; fetched" in " ".join(notes)
    with pytest.raises(ConfigError, match="engine must be one of"):
        make_source("spark", {"master": "local[2]", "path": "x", "engine": "spark"}, tmp_path, "t")


def test_a_result_larger_than_the_driver_takes_is_named_in_one_line(spark, parts, tmp_path):
    """The analysed patients reach the driver in one collection; past
    ``spark.driver.maxResultSize`` Spark refuses it. The run stops in one line naming the
    setting (Spark's own error names only ``Exception thrown in awaitResult``)."""
    conf = spark.sparkContext._jsc.sc().conf()  # the running context's own (read per job)
    before = conf.get("spark.driver.maxResultSize", "1g")
    pipeline = tmp_path / "pipeline.toml"
    pipeline.write_text(
        f'[input]\nkind = "spark"\nmaster = "local[2]"\npath = "{parts.as_posix()}"\n'
        '[output]\nroot = "out"\nformats = ["json"]\n',
        encoding="utf-8",
    )
    conf.set("spark.driver.maxResultSize", "1k")
    try:
        out, stderr = io.StringIO(), io.StringIO()
        code = main(["-q", "run", str(pipeline)], stdout=out, stderr=stderr)
    finally:
        conf.set("spark.driver.maxResultSize", before)
    err = stderr.getvalue()
    assert code == 1
    assert "spark.driver.maxResultSize (1024.0 B)" in err and "raise" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out" / "latest").exists()
