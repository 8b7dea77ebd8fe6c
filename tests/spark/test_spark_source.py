"""``[input] kind = "spark"``: a synthesized extract written as Parquet and read through Spark
(``local[2]``) gives what the file source gives the same file, from the cells to the
published ``summary.json``; the fingerprint is computed in Spark and stable; a missing table
stops a run in one line."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip(
    "pyspark", reason="pyspark is an optional extra: pip install 'imnm-cohort[spark]'"
)

from imnm_cohort.cli import main
from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.sources.files import FileSource
from imnm_cohort.sources.spark import SparkSettings, SparkSource
from imnm_cohort.synth import synthesize, write_extract
from imnm_cohort.validation.load import load_input
from tests.spark.conftest import SOCKET_WARNING

pytestmark = pytest.mark.filterwarnings(SOCKET_WARNING)  # see tests/spark/conftest.py
N, SEED = 80, 11
TABLE = "registry.patients"
ODD_NAME = "lab ck.`raw`"


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dirty synthesized extract (about one row in four breaks a rule) as Parquet, with an
    extra column whose name Spark must quote."""
    frame = synthesize(N, seed=SEED, dirty=0.25)
    frame[ODD_NAME] = frame["ck_peak"]
    return write_extract(frame, tmp_path_factory.mktemp("x") / "cohort.parquet")


@pytest.fixture(scope="module")
def table(spark, extract: Path) -> str:
    """The same rows as a catalog table (one Parquet part file)."""
    spark.sql("CREATE DATABASE IF NOT EXISTS registry")
    spark.read.parquet(str(extract)).coalesce(1).write.mode("overwrite").saveAsTable(TABLE)
    return TABLE


def by_path(path: Path, master: str | None = "local[2]") -> SparkSource:
    return SparkSource(SparkSettings(master, path=str(path)))


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def pipeline(folder: Path, name: str, input_lines: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'[input]\n{input_lines}\n[output]\nroot = "{name}"\nformats = ["json", "csv"]\n',
        encoding="utf-8",
    )
    return path


def test_read_gives_the_cells_the_file_source_gives(spark, extract):
    by_file = FileSource(extract).read()
    read = by_path(extract).read()
    pd.testing.assert_frame_equal(read, by_file)
    assert read.attrs["absent_columns"] == by_file.attrs["absent_columns"]
    assert read[ODD_NAME].notna().any()
    some = ["patient_id", "anti_hmgcr", "ck_peak"]
    pd.testing.assert_frame_equal(by_path(extract).read(some), FileSource(extract).read(some))


@pytest.mark.parametrize("where", ["path", "table", "active session"])
def test_load_input_gives_the_file_sources_results(spark, extract, table, where):
    by_file = load_input(FileSource(extract))
    if where == "table":
        source = SparkSource(SparkSettings("local[2]", table=table))
    else:
        source = by_path(extract, None if where == "active session" else "local[2]")
    by_spark = load_input(source)
    assert len(by_file.quarantine) > 0 and len(by_file.valid) > 0  # both kinds of rows
    pd.testing.assert_frame_equal(by_spark.valid, by_file.valid)
    pd.testing.assert_frame_equal(by_spark.quarantine, by_file.quarantine)
    pd.testing.assert_frame_equal(by_spark.reasons, by_file.reasons)
    if where != "table":  # the summary names the source: a path's file name
        assert by_spark.to_dict() == by_file.to_dict()


def test_run_publishes_the_summary_of_the_file_run(spark, extract, tmp_path):
    spark_run = pipeline(
        tmp_path,
        "spark",
        f'kind = "spark"\nmaster = "local[2]"\npath = "{extract.as_posix()}"\nengine = "in_memory"',
    )
    file_run = pipeline(tmp_path, "file", f'path = "{extract.as_posix()}"')
    for toml in (spark_run, file_run):
        code, _, err = run(["run", str(toml)])
        assert code == 0, err
    published = {
        name: next((tmp_path / name).glob("*/manifest.json")).parent for name in ("spark", "file")
    }
    for output in ("summary.json", "quarantine.csv", "classified.csv"):
        assert (published["spark"] / output).read_bytes() == (
            published["file"] / output
        ).read_bytes(), output
    manifest = json.loads((published["spark"] / "manifest.json").read_text(encoding="utf-8"))
    described = manifest["input"]
    assert described["kind"] == "spark" and described["master"] == "local[2]"
    assert described["path"] == str(extract) and described["rows"] == N
    assert described["sha256"] == by_path(extract).fingerprint()


def test_the_fingerprint_follows_the_cells_and_their_order(spark, extract, tmp_path):
    first = by_path(extract).fingerprint()
    assert len(first) == 64 and by_path(extract).fingerprint() == first  # stable
    copy = tmp_path / "elsewhere" / extract.name
    copy.parent.mkdir()
    shutil.copy(extract, copy)
    assert by_path(copy).fingerprint() == first  # where the file is kept does not count
    rows = pq.read_table(extract).to_pandas()
    changed = rows.copy()
    changed.loc[5, "ck_peak"] = "1234"
    swapped = rows.iloc[[1, 0, *range(2, len(rows))]].reset_index(drop=True)
    emptied = rows.copy()
    emptied.loc[3, "statin_name"] = ""  # an empty cell is not a missing one
    emptied_before = rows.copy()
    emptied_before.loc[3, "statin_name"] = None
    prints = {}
    for name, frame in (
        ("changed", changed),
        ("swapped", swapped),
        ("empty", emptied),
        ("missing", emptied_before),
    ):
        other = tmp_path / name / extract.name
        other.parent.mkdir()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), other)
        prints[name] = by_path(other).fingerprint()
    assert len(set(prints.values())) == 4  # an empty cell and a missing one differ
    assert first not in {prints["changed"], prints["swapped"], prints["empty"]}


def test_a_missing_table_stops_the_run_in_one_line(spark, tmp_path, capfd):
    toml = pipeline(
        tmp_path, "gone", 'kind = "spark"\nmaster = "local[2]"\ntable = "registry.gone"'
    )
    code, out, err = run(["run", str(toml)])
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Spark table registry.gone" in err
    assert "TABLE_OR_VIEW_NOT_FOUND" in err and "Traceback" not in err
    assert "TABLE_OR_VIEW_NOT_FOUND" not in capfd.readouterr().err  # nor a log line of Spark's
    assert not list(tmp_path.glob("gone/*/manifest.json"))  # nothing published
    with pytest.raises(ExtractError, match="PATH_NOT_FOUND"):
        by_path(tmp_path / "nothing.parquet").read()


def test_a_column_of_nested_values_is_refused(spark, extract, tmp_path):
    rows = pq.read_table(extract)
    lists = pa.array([[1, 2]] * rows.num_rows, type=pa.list_(pa.int64()))
    nested = tmp_path / "nested.parquet"
    pq.write_table(rows.append_column("visits", lists), nested)
    with pytest.raises(ExtractError, match=r"column 'visits' holds array values") as found:
        by_path(nested).read()
    assert "\n" not in str(found.value)


def test_without_master_and_without_a_session_the_source_says_so(spark, extract, monkeypatch):
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    with pytest.raises(ConfigError, match='none is running: set master = "local'):
        by_path(extract, None).read()


DRIVER_KILLED = """
import sys
from pyspark import SparkContext
from pyspark.sql import SparkSession
from imnm_cohort.errors import ExtractError
from imnm_cohort.sources.spark import SparkSettings, SparkSource

session = (
    SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
)
session.sparkContext.setLogLevel("OFF")
running = SparkSource(SparkSettings("local[1]", path=sys.argv[1]))
running.session()  # mid-run: the source has its session
SparkContext._gateway.proc.kill()  # as the kernel's out-of-memory killer does
SparkContext._gateway.proc.wait()
for source in (running, SparkSource(SparkSettings("local[1]", path=sys.argv[1]))):
    try:
        source.read()
    except ExtractError as exc:
        print(exc)
"""


def test_a_driver_killed_mid_run_is_named_in_one_line(extract, tmp_path):
    """A real driver's Java process killed (signal 9): py4j says only "Connection refused";
    the line names the stopped driver and what to do. In a process of its own, so that the
    session of the other tests lives on."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", DRIVER_KILLED, str(extract)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 2  # mid-run, and a source starting its session after the death
    for line in lines:
        assert ": the Spark driver's Java process was killed by signal 9 (most often" in line
        assert "Connection refused" not in line and "spark.driver.memory" in line


def test_a_lost_accumulator_connection_prints_no_traceback(spark, extract, capfd):
    """The driver dying mid-job closes the connection on which it sends accumulator updates
    to pyspark's server in this process; that server printed the ``EOFError`` as a
    traceback beside the run's one line. A session the source asked for drops it, and
    still prints any other error of the server.

    pyspark's server is a single-threaded ``TCPServer`` whose one handler keeps the Java
    side's connection for the life of the session, so a second connection would wait for
    ever once any job has run. The server's own handler is therefore driven here on one end
    of a socket pair, as ``socketserver`` drives it: ``process_request``, and on an
    exception ``handle_error``."""
    import socket

    session = SparkSource(SparkSettings("local[2]", path=str(extract))).session()
    server = session.sparkContext._accumulatorServer
    token = server.auth_token.encode()

    def serve(sent: bytes) -> Exception | None:
        """What pyspark's handler raised, after the server's ``handle_error`` saw it."""
        ours, theirs = socket.socketpair()
        with ours, theirs:
            ours.sendall(sent)
            ours.close()  # the connection lost: the Java side gone after its token
            try:
                server.process_request(theirs, ("127.0.0.1", 0))
            except Exception as exc:
                server.handle_error(theirs, ("127.0.0.1", 0))
                return exc
        return None

    capfd.readouterr()
    # authenticated, then the count of updates cut off: the handler's own EOFError
    assert isinstance(serve(token), EOFError)
    stderr = capfd.readouterr().err
    assert "Traceback" not in stderr and "EOFError" not in stderr, stderr
    # a wrong token is still the server's error to print
    assert isinstance(serve(b"x" * len(token)), ValueError)
    stderr = capfd.readouterr().err
    assert "Traceback" in stderr and "ValueError" in stderr, stderr
