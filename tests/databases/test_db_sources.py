"""The DuckDB and SQL sources: the same extract read from a CSV file, from DuckDB (a table, a
query, Parquet and CSV files in place) and from PostgreSQL validates the same; fingerprints
are computed in the database and agree; failures are one line, exit code 1, nothing
published; the password is nowhere."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from imnm_cohort.cli import main
from imnm_cohort.contracts.patients import REQUIRED_COLUMNS
from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.sources.base import make_source
from imnm_cohort.sources.sql import fingerprint_of, row_sums
from imnm_cohort.synth import synthesize, write_extract
from imnm_cohort.validation.load import load_input
from tests.databases import postgres
from tests.leaks import holding

ENV = "IMNM_TEST_DB_PASSWORD"
PASSWORD = postgres.PASSWORD


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in the sources' order: patient_id, then every other column, NULLs last
    (Python compares text by code point: UTF-8's byte order)."""
    key = ["patient_id", *(c for c in frame.columns if c != "patient_id")]
    return frame.sort_values(key, na_position="last", kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A dirty synthetic extract, sorted in the sources' order, as CSV, Parquet and DuckDB
    files; cells with spaces around them, and a blank row (it sorts last)."""
    folder = tmp_path_factory.mktemp("db")
    frame = synthesize(240, seed=11, dirty=0.25).astype(object)
    frame = frame.where(frame.notna(), None)
    frame.loc[3, "sex"] = "female "  # kept as text: validation judges it
    frame.loc[4, "site"] = "  "
    frame = pd.concat([frame, pd.DataFrame([[None] * frame.shape[1]], columns=frame.columns)])
    frame = canonical(frame)
    write_extract(frame, folder / "extract.csv")
    write_extract(frame, folder / "extract.parquet")
    # In the database, an empty text is a missing cell, as an empty CSV cell is.
    blanked = frame.copy()
    blanked.loc[blanked["statin_name"].isna() & blanked["patient_id"].notna(), "statin_name"] = ""
    write_extract(blanked, folder / "registry.duckdb")
    return folder, frame


@pytest.fixture(scope="module")
def pg(extract: tuple[Path, pd.DataFrame], pg_url: str) -> Iterator[str]:
    """The extract as the table ``imnm.patients`` (text columns), and tables broken on
    purpose; yields the URL without the password."""
    _, frame = extract
    table = pa.Table.from_pandas(
        frame, preserve_index=False, schema=pa.schema([(c, pa.string()) for c in frame.columns])
    )
    con = ibis.connect(pg_url)
    try:
        con.raw_sql("CREATE SCHEMA IF NOT EXISTS imnm").close()
        con.create_table("patients", table, database="imnm", overwrite=True)
        for sql in (
            "DROP TABLE IF EXISTS imnm.no_sex",
            "CREATE TABLE imnm.no_sex AS SELECT * FROM imnm.patients",
            "ALTER TABLE imnm.no_sex DROP COLUMN sex",
            "DROP TABLE IF EXISTS imnm.wrong_type",
            "CREATE TABLE imnm.wrong_type AS SELECT * FROM imnm.patients",
            "ALTER TABLE imnm.wrong_type ALTER COLUMN birth_date TYPE integer USING 1",
            "DROP TABLE IF EXISTS imnm.empty",
            "CREATE TABLE imnm.empty AS SELECT * FROM imnm.patients WHERE false",
        ):
            con.raw_sql(sql).close()
    finally:
        con.disconnect()
    yield pg_url.replace(f":{PASSWORD}@", "@")


def sources(folder: Path, pg_plain: str) -> dict[str, tuple[str, dict[str, object]]]:
    sql = {"url": pg_plain, "password_env": ENV}
    return {
        "duckdb table": ("duckdb", {"database": "registry.duckdb", "table": "patients"}),
        "duckdb query": (
            "duckdb",
            {"database": "registry.duckdb", "query": "SELECT * FROM main.patients"},
        ),
        "parquet in place": ("duckdb", {"table": "extract.parquet"}),
        "csv in place": ("duckdb", {"table": "extract.csv"}),
        "postgres table": ("sql", {**sql, "table": "imnm.patients"}),
        "postgres query": ("sql", {**sql, "query": "SELECT * FROM imnm.patients"}),
    }


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENV, PASSWORD)
    return PASSWORD


def test_every_database_source_validates_as_the_csv_file(extract, pg, password):
    folder, _ = extract
    by_file = load_input(make_source("file", {"path": "extract.csv"}, folder, "p"))
    assert len(by_file.quarantine) > 20 and by_file.empty_rows == 1
    fingerprints = set()
    for label, (kind, settings) in sources(folder, pg).items():
        source = make_source(kind, settings, folder, "p")
        result = load_input(source)
        for part in ("valid", "quarantine", "reasons", "warnings"):
            pd.testing.assert_frame_equal(
                getattr(result, part), getattr(by_file, part), obj=f"{label}: {part}"
            )
        shape = ("input_rows", "empty_rows", "absent_columns")
        assert [getattr(result, k) for k in shape] == [getattr(by_file, k) for k in shape]
        fingerprints.add(source.fingerprint())
        # A new connection reads the same content: the same fingerprint.
        assert make_source(kind, settings, folder, "p").fingerprint() == source.fingerprint()
    assert len(fingerprints) == 1  # equal text content, equal fingerprint on every engine


def test_the_fingerprint_is_the_documented_sums_of_the_rows(extract, pg, password):
    folder, frame = extract
    table = pa.Table.from_pandas(
        frame, preserve_index=False, schema=pa.schema([(c, pa.string()) for c in frame.columns])
    )
    expected = fingerprint_of(frame.columns, *row_sums(table.to_batches()))
    source = make_source(
        "sql", {"url": pg, "password_env": ENV, "table": "imnm.patients"}, folder, "p"
    )
    assert source.fingerprint() == expected
    # Another order of the same rows: the same fingerprint; one cell changed: another.
    shuffled = frame.sample(frac=1, random_state=3)
    write_extract(shuffled, folder / "shuffled.parquet")
    assert (
        make_source("duckdb", {"table": "shuffled.parquet"}, folder, "p").fingerprint() == expected
    )
    changed = frame.copy()
    changed.loc[0, "ck_peak"] = "1"
    write_extract(changed, folder / "changed.parquet")
    assert (
        make_source("duckdb", {"table": "changed.parquet"}, folder, "p").fingerprint() != expected
    )


def test_batches_stream_the_rows_of_read_in_order(extract, pg, password):
    folder, _ = extract
    for kind, settings in (
        sources(folder, pg)["postgres table"],
        sources(folder, pg)["duckdb table"],
    ):
        source = make_source(kind, settings, folder, "p")
        whole = source.read()
        parts = list(source.batches(37))
        assert [len(p) for p in parts[:-1]] == [37] * (len(parts) - 1)
        assert all(p.index[0] == 0 for p in parts)
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
        ids = source.read(columns=["patient_id"])
        # The column alone keeps the blank row at the end; the same order otherwise.
        assert ids["patient_id"].iloc[: len(whole)].tolist() == whole["patient_id"].tolist()


def test_typed_columns_are_cast_to_text_in_the_database(tmp_path):
    frame = synthesize(60, seed=5)
    write_extract(frame, tmp_path / "x.csv")
    import duckdb

    with duckdb.connect(str(tmp_path / "typed.duckdb")) as con:
        con.execute(
            f"CREATE TABLE patients AS SELECT * REPLACE ("
            f"CAST(birth_date AS DATE) AS birth_date, "
            f"CAST(onset_date AS TIMESTAMP) AS onset_date, "
            f"CAST(ck_peak AS DOUBLE) AS ck_peak, CAST(dm_rash AS BOOLEAN) AS dm_rash) "
            f"FROM read_csv('{tmp_path / 'x.csv'}', all_varchar = true)"
        )
        kinds = {row[0]: row[1] for row in con.execute("DESCRIBE patients").fetchall()}
    typed = make_source("duckdb", {"database": "typed.duckdb", "table": "patients"}, tmp_path, "p")
    text = make_source("duckdb", {"table": "x.csv"}, tmp_path, "p")
    a, b = load_input(typed), load_input(text)
    assert kinds["birth_date"] == "DATE" and kinds["dm_rash"] == "BOOLEAN"
    assert (a.input_rows, len(a.quarantine)) == (b.input_rows, len(b.quarantine))
    pd.testing.assert_frame_equal(
        a.valid.sort_values("patient_id", ignore_index=True),
        b.valid.sort_values("patient_id", ignore_index=True),
    )


def test_describe_names_host_and_database_never_the_user_or_password(extract, pg, password):
    folder, _ = extract
    kind, settings = sources(folder, pg)["postgres query"]
    source = make_source(kind, settings, folder, "p")
    described = source.describe()
    assert (described["kind"] == "sql" and described["host"] == "127.0.0.1") or os.environ.get(
        "IMNM_TEST_PG_URL"
    )
    assert described["query"] == "SELECT * FROM imnm.patients"
    assert len(described["text_sha256"]) == 64 and described["rows"] == 241
    text = json.dumps(described) + repr(source) + source.name + source.label
    assert postgres.USER not in text and PASSWORD not in text


# ---------------------------------------------------------------------------------------
# Whole runs: the same summary, and failures that publish nothing.


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-q", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def pipeline(folder: Path, name: str, lines: str, root: str | None = None) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'[input]\n{lines}\n[output]\nroot = "{root or name}"\nformats = ["json", "csv"]\n',
        encoding="utf-8",
    )
    return path


def sql_lines(url: str, relation: str, **extra: str) -> str:
    return "\n".join(
        ['kind = "sql"', f'url = "{url}"', f'password_env = "{ENV}"', relation]
        + [f"{k} = {v}" for k, v in extra.items()]
    )


def summary_of(root: Path) -> dict[str, object]:
    summary = json.loads((root / "latest" / "summary.json").read_text(encoding="utf-8"))
    summary.pop("input", None)
    return summary


def test_runs_on_every_kind_give_one_summary_and_leak_no_password(
    extract, pg, password, tmp_path, caplog, capfd
):
    folder, _ = extract
    files = {
        "csv": f'path = "{(folder / "extract.csv").as_posix()}"',
        "duck": f'kind = "duckdb"\ndatabase = "{(folder / "registry.duckdb").as_posix()}"\n'
        'table = "patients"',
        "pg": sql_lines(pg, 'table = "imnm.patients"'),
    }
    outs = ""
    with caplog.at_level(logging.DEBUG):
        for name, lines in files.items():
            code, out, err = run("run", str(pipeline(tmp_path, name, lines)))
            assert code == 0, err
            outs += out + err
    assert summary_of(tmp_path / "duck") == summary_of(tmp_path / "csv")
    assert summary_of(tmp_path / "pg") == summary_of(tmp_path / "csv")
    manifest = json.loads((tmp_path / "pg" / "latest" / "manifest.json").read_text("utf-8"))
    assert manifest["input"]["table"] == "imnm.patients" and manifest["input"]["rows"] == 241
    assert manifest["config"]["input"]["password_env"] == ENV
    assert f"{postgres.USER}@" not in json.dumps(manifest)
    streams = capfd.readouterr()
    assert PASSWORD not in outs + caplog.text + streams.out + streams.err
    assert not holding(tmp_path, PASSWORD)


def published(root: Path) -> tuple[str | None, int]:
    latest = root / "latest"
    target = os.readlink(latest) if latest.is_symlink() else None
    return target, len(list(root.glob("*/manifest.json")))


def killer(
    pg_url: str, cluster: postgres.Cluster | None, lock: int, stopped: list[int]
) -> threading.Thread:
    """Hold the advisory lock ``lock`` until the run's query waits for it, then stop the
    server at once (or end the run's session, on a server of ``IMNM_TEST_PG_URL``)."""
    import psycopg

    holder = psycopg.connect(pg_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (lock,))

    def kill() -> None:
        deadline = time.monotonic() + 120  # only a broken run waits that long
        with psycopg.connect(pg_url, autocommit=True) as con:
            while time.monotonic() < deadline and not stopped:
                waiting = con.execute(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND objid = %s",
                    (lock,),
                ).fetchall()
                if waiting:
                    stopped.append(waiting[0][0])
                    if cluster is None:
                        con.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
                time.sleep(0.05)
        if stopped and cluster is not None:
            cluster.stop("immediate")  # before the lock is let go: the run never gets it
        holder.close()

    thread = threading.Thread(target=kill)
    thread.start()
    return thread


def test_database_failures_are_one_line_exit_1_and_publish_nothing(
    extract, pg, pg_url, pg_cluster, password, tmp_path, monkeypatch
):
    lines = sql_lines(pg, 'table = "imnm.patients"')
    code, _, err = run("run", str(pipeline(tmp_path, "good", lines, root="out")))
    assert code == 0, err
    before = published(tmp_path / "out")
    closed = pg.rsplit("@", 1)[0] + f"@127.0.0.1:{postgres._free_port()}/registry"
    cases = {
        "unreachable": (sql_lines(closed, 'table = "imnm.patients"'), "cannot be reached"),
        "missing table": (sql_lines(pg, 'table = "imnm.gone"'), "no table imnm.gone"),
        "missing column": (sql_lines(pg, 'table = "imnm.no_sex"'), "missing required column"),
        "wrong type": (
            sql_lines(pg, 'table = "imnm.wrong_type"'),
            "column 'birth_date' is of type int32 in the database, which cannot hold dates",
        ),
        "no rows": (sql_lines(pg, 'table = "imnm.empty"'), "the table imnm.empty has no rows"),
        "timeout": (
            sql_lines(
                pg,
                'query = "SELECT p.* FROM imnm.patients AS p CROSS JOIN pg_sleep(3)"',
                timeout="0.5",
            ),
            "no answer within the timeout of 0.5 s",
        ),
    }
    for label, (lines, words) in cases.items():
        code, out, err = run("run", str(pipeline(tmp_path, label.replace(" ", "_"), lines, "out")))
        assert (code, out) == (1, ""), (label, err)
        assert err.count("\n") == 1 and words in err, (label, err)
        assert "postgres database registry" in err and PASSWORD not in err, label
        assert published(tmp_path / "out") == before, label
    # A refused login: a wrong password in the variable.
    monkeypatch.setenv(ENV, "not-the-password")
    code, _, err = run(
        "run", str(pipeline(tmp_path, "refused", sql_lines(pg, 'table = "imnm.patients"'), "out"))
    )
    assert code == 1 and "the login was refused" in err and err.count("\n") == 1
    assert "not-the-password" not in err and published(tmp_path / "out") == before
    monkeypatch.setenv(ENV, PASSWORD)
    # The connection lost mid-run: the server stopped while the run's query waits for a
    # lock the test holds.
    lock = 4242
    lines = sql_lines(
        pg,
        'query = "SELECT p.* FROM imnm.patients AS p '
        f'CROSS JOIN (SELECT pg_advisory_lock_shared({lock})) AS l"',
    )
    stopped: list[int] = []
    thread = killer(pg_url, pg_cluster, lock, stopped)
    try:
        code, _, err = run("run", str(pipeline(tmp_path, "lost", lines, "out")))
    finally:
        stopped.append(0)  # the killer stops waiting once the run has ended
        thread.join()
        if pg_cluster is not None and stopped[0]:
            pg_cluster.start()  # for the other tests
    assert stopped[0], "the run's query was not seen waiting"
    assert code == 1 and err.count("\n") == 1, err
    assert "the connection was lost" in err and PASSWORD not in err
    assert published(tmp_path / "out") == before


def test_credentials_are_never_taken_from_the_file_and_an_unset_variable_is_usage(
    extract, pg, tmp_path, monkeypatch
):
    with_password = pg.replace(f"{postgres.USER}@", f"{postgres.USER}:{PASSWORD}@")
    code, _, err = run(
        "run", str(pipeline(tmp_path, "pw", sql_lines(with_password, 'table = "t"')))
    )
    assert code == 2 and "holds a password" in err and PASSWORD not in err
    monkeypatch.delenv(ENV, raising=False)
    code, _, err = run(
        "run", str(pipeline(tmp_path, "unset", sql_lines(pg, 'table = "imnm.patients"')))
    )
    assert code == 2 and ENV in err and err.count("\n") == 1
    with pytest.raises(ConfigError, match="table = "):
        make_source("sql", {"url": pg}, tmp_path, "p")
    with pytest.raises(ConfigError, match="unknown key 'path'"):
        make_source("duckdb", {"path": "x.duckdb", "table": "t"}, tmp_path, "p")
    with pytest.raises(ConfigError, match="Parquet or CSV"):
        make_source("duckdb", {"table": "patients"}, tmp_path, "p")


def test_libpq_password_file_supplies_the_password(extract, pg, tmp_path, monkeypatch):
    parts = pg.split("@", 1)[1]  # host:port/database
    host_port, database = parts.split("/", 1)
    host, port = host_port.rsplit(":", 1)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{host}:{port}:{database}:{postgres.USER}:{PASSWORD}\n", encoding="utf-8")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    monkeypatch.delenv(ENV, raising=False)
    source = make_source("sql", {"url": pg, "table": "imnm.patients"}, tmp_path, "p")
    assert len(source.read()) == 240  # the blank row at the end left out
    # A service file says where the server is and who logs in (the port given in the URL).
    service = tmp_path / "services.conf"
    service.write_text(
        f"[registry]\nhost={host}\ndbname={database}\nuser={postgres.USER}\n", encoding="utf-8"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(service))
    by_service = make_source(
        "sql",
        {"url": f"postgres://:{port}/?service=registry", "table": "imnm.patients"},
        tmp_path,
        "p",
    )
    assert by_service.fingerprint() == source.fingerprint()
    assert by_service.describe()["service"] == "registry"
    pgpass.write_text("", encoding="utf-8")
    with pytest.raises(ExtractError, match="the login was refused"):
        make_source("sql", {"url": pg, "table": "imnm.patients"}, tmp_path, "p").fingerprint()


def test_duckdb_failures_name_the_file(tmp_path):
    frame = synthesize(20, seed=2)
    write_extract(frame.drop(columns=[REQUIRED_COLUMNS[1]]), tmp_path / "no_sex.duckdb")
    cases = [
        ({"database": "nothing.duckdb", "table": "patients"}, "nothing.duckdb: file not found"),
        ({"database": "no_sex.duckdb", "table": "other"}, "no table other"),
        ({"database": "no_sex.duckdb", "table": "patients"}, "missing required column(s): sex"),
        ({"table": "absent/*.parquet"}, "file not found"),
    ]
    for settings, words in cases:
        with pytest.raises(ExtractError) as caught:
            make_source("duckdb", settings, tmp_path, "p").read()
        assert words in str(caught.value) and "\n" not in str(caught.value)


def test_synth_writes_a_duckdb_file_and_a_parquet_folder_of_the_csv_content(tmp_path):
    for output in ("x.csv", "x.duckdb", "folder"):
        code, _, err = run(
            "synth", "--n", "80", "--seed", "9", "--dirty", "0.1", "-o", str(tmp_path / output)
        )
        assert code == 0, err
    assert (tmp_path / "folder" / "patients-00000.parquet").is_file()
    prints = {
        make_source(kind, settings, tmp_path, "p").fingerprint()
        for kind, settings in (
            ("duckdb", {"table": "x.csv"}),
            ("duckdb", {"database": "x.duckdb", "table": "patients"}),
            ("duckdb", {"table": "folder/*.parquet"}),
        )
    }
    assert len(prints) == 1
    import duckdb

    with duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True) as con:
        types = {row[1] for row in con.execute("DESCRIBE patients").fetchall()}
    assert types == {"VARCHAR"}


def test_an_export_in_duckdb_is_read_through_its_mapping_as_the_file_is(tmp_path):
    from imnm_cohort.mapping.source import MappedSource

    code, _, err = run(
        "synth", "--n", "60", "--seed", "4", "--layout", "redcap", "-o", str(tmp_path / "e.csv")
    )
    assert code == 0, err
    mapping = next(tmp_path.glob("*.toml"))
    by_file = load_input(
        MappedSource(make_source("file", {"path": "e.csv"}, tmp_path, "p"), mapping)
    )
    in_place = make_source("duckdb", {"table": "e.csv"}, tmp_path, "p")
    by_db = load_input(MappedSource(in_place, mapping))
    assert len(MappedSource(in_place, mapping).fingerprint()) == 64  # no contract column needed
    assert by_db.input_rows == by_file.input_rows and by_db.export_rows == by_file.export_rows
    pd.testing.assert_frame_equal(
        by_db.valid.sort_values("patient_id", ignore_index=True),
        by_file.valid.sort_values("patient_id", ignore_index=True),
    )
    assert sorted(by_db.quarantine["patient_id"].astype(str)) == sorted(
        by_file.quarantine["patient_id"].astype(str)
    )


def test_a_connection_lost_between_two_batches_is_one_line(
    extract, pg, pg_url, pg_cluster, password
):
    import psycopg

    folder, _ = extract
    kind, settings = sources(folder, pg)["postgres table"]
    frames = make_source(kind, settings, folder, "p").batches(50)
    assert len(next(frames)) == 50  # streamed: the rest is still on the server
    if pg_cluster is not None:
        pg_cluster.stop("immediate")
    else:  # a server of IMNM_TEST_PG_URL: end the reading session instead
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = current_user AND pid <> pg_backend_pid()"
            )
    try:
        with pytest.raises(ExtractError) as caught:
            list(frames)
    finally:
        if pg_cluster is not None:
            pg_cluster.start()
    message = str(caught.value)
    assert "the connection was lost" in message and "\n" not in message
    assert message.startswith("postgres database registry") and PASSWORD not in message
