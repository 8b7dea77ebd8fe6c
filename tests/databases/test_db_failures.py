"""A database that fails a scheduled run: the server killed while the run reads, a login
revoked between two runs, a table dropped between two runs, an unreachable server, a column
of the wrong type, a timeout. Each is one line naming the source and the problem, exit code
1, nothing published, and ``latest`` still names the last complete run. The input is given
as a URL (``run --input postgres://...``), and the password is in no output, log or
printed line."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from imnm_cohort.cli import main
from imnm_cohort.outputs.registry import FORMATS
from imnm_cohort.synth import synthesize
from tests.databases import postgres
from tests.leaks import holding

ENV = "IMNM_TEST_FAILURE_PASSWORD"
PASSWORD = postgres.PASSWORD
SCHEMA = "imnm_failures"


def plain(url: str) -> str:
    """A libpq URL without its password."""
    parts = urllib.parse.urlsplit(url)
    where = parts.netloc.rsplit("@", 1)
    user = where[0].split(":", 1)[0] + "@" if len(where) == 2 else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=user + where[-1]))


@pytest.fixture(scope="module")
def server(pg_url: str) -> str:
    """The test tables in their own schema; the URL without the password."""
    frame = synthesize(240, seed=11, dirty=0.25).astype(object)
    frame = frame.where(frame.notna(), None)
    table = pa.Table.from_pandas(
        frame, preserve_index=False, schema=pa.schema([(c, pa.string()) for c in frame.columns])
    )
    con = ibis.connect(pg_url)
    try:
        con.raw_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}").close()
        con.create_table("patients", table, database=SCHEMA, overwrite=True)
        for sql in (
            f"DROP TABLE IF EXISTS {SCHEMA}.wrong_type",
            f"CREATE TABLE {SCHEMA}.wrong_type AS SELECT * FROM {SCHEMA}.patients",
            f"ALTER TABLE {SCHEMA}.wrong_type ALTER COLUMN ck_peak TYPE date USING NULL",
        ):
            con.raw_sql(sql).close()
    finally:
        con.disconnect()
    return plain(pg_url)


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, PASSWORD)


def url(server: str, table: str | None = None, **params: str) -> str:
    """A source URL: the table (or the query of ``params``) and the password's variable."""
    given = {**({"table": table} if table else {}), **params, "password_env": ENV}
    return f"{server}?{urllib.parse.urlencode(given)}"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-q", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def pipeline(folder: Path, formats: list[str] | None = None) -> Path:
    """A pipeline whose input the runs replace with ``--input``."""
    path = folder / "pipeline.toml"
    path.write_text(
        f'[input]\nextract = "unused.csv"\n[output]\nroot = "out"\n'
        f"formats = {json.dumps(formats or ['json', 'csv'])}\n",
        encoding="utf-8",
    )
    return path


def published(root: Path) -> tuple[str, int]:
    """Where ``latest`` points and how many complete runs there are."""
    latest = root / "latest"
    assert latest.is_symlink(), "no complete run"
    return os.readlink(latest), len(list(root.glob("*/manifest.json")))


def first_run(folder: Path, server: str, table: str = f"{SCHEMA}.patients") -> tuple[str, int]:
    code, _, err = run("run", str(pipeline(folder)), "--input", url(server, table))
    assert code == 0, err
    return published(folder / "out")


def named(given: str) -> str:
    """How messages name the database of a URL."""
    return f"postgres database {urllib.parse.urlsplit(given).path.lstrip('/')}"


def fails_alone(folder: Path, given: str, words: str) -> None:
    """A run on ``given`` fails in one line naming the source and the problem, exit code 1,
    and leaves the output root as it was."""
    before = published(folder / "out")
    code, out, err = run("run", str(pipeline(folder)), "--input", given)
    assert (code, out) == (1, ""), err
    assert err.count("\n") == 1 and words in err, err
    assert named(given) in err and PASSWORD not in err, err
    assert published(folder / "out") == before
    assert not list((folder / "out").glob(".incomplete-*"))


def test_a_table_dropped_between_two_runs(server, pg_url, tmp_path):
    con = ibis.connect(pg_url)
    try:
        con.raw_sql(f"DROP TABLE IF EXISTS {SCHEMA}.monthly").close()
        con.raw_sql(f"CREATE TABLE {SCHEMA}.monthly AS SELECT * FROM {SCHEMA}.patients").close()
        first_run(tmp_path, server, f"{SCHEMA}.monthly")
        con.raw_sql(f"DROP TABLE {SCHEMA}.monthly").close()
    finally:
        con.disconnect()
    fails_alone(tmp_path, url(server, f"{SCHEMA}.monthly"), f"no table {SCHEMA}.monthly")


def admin(cluster: postgres.Cluster | None, pg_url: str, sql: str) -> None:
    """SQL as the cluster's superuser (on a server of ``IMNM_TEST_PG_URL``: as the test
    login, which must then own the database and may alter its own role)."""
    if cluster is not None:
        cluster.psql(sql)
        return
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(sql)


def test_a_login_revoked_between_two_runs(server, pg_url, pg_cluster, tmp_path):
    first_run(tmp_path, server)
    parts = urllib.parse.urlsplit(server)
    user, database = parts.username, parts.path.lstrip("/")
    given = url(server, f"{SCHEMA}.patients")
    for revoke, restore in (
        (f"ALTER ROLE {user} NOLOGIN", f"ALTER ROLE {user} LOGIN"),
        (
            f"REVOKE CONNECT ON DATABASE {database} FROM PUBLIC, {user}",
            f"GRANT CONNECT ON DATABASE {database} TO PUBLIC, {user}",
        ),
    ):
        admin(pg_cluster, pg_url, revoke)
        try:
            fails_alone(tmp_path, given, "the login was refused")
        finally:
            admin(pg_cluster, pg_url, restore)
    # The login back: the next run completes and becomes the latest.
    before = published(tmp_path / "out")
    code, _, err = run("run", str(pipeline(tmp_path)), "--input", given)
    assert code == 0, err
    assert published(tmp_path / "out")[1] == before[1] + 1


def test_unreachable_wrong_type_and_timeout_by_url(server, tmp_path):
    first_run(tmp_path, server)
    parts = urllib.parse.urlsplit(server)
    closed = urllib.parse.urlunsplit(
        parts._replace(netloc=f"{postgres.USER}@127.0.0.1:{postgres._free_port()}")
    )
    slow = f"SELECT p.* FROM {SCHEMA}.patients AS p CROSS JOIN pg_sleep(3)"
    for given, words in (
        (url(closed, f"{SCHEMA}.patients"), "cannot be reached"),
        (
            url(server, f"{SCHEMA}.wrong_type"),
            "column 'ck_peak' is of type date in the database, which cannot hold numbers",
        ),
        (url(server, query=slow, timeout="0.5"), "no answer within the timeout of 0.5 s"),
    ):
        fails_alone(tmp_path, given, words)


def restart(cluster: postgres.Cluster) -> None:
    """Start the cluster again once the killed server's processes have gone."""
    for attempt in range(40):
        try:
            cluster.start()
            return
        except subprocess.CalledProcessError:
            if attempt == 39:
                raise
            time.sleep(0.5)


def test_the_server_killed_while_the_run_reads(server, pg_url, pg_cluster, tmp_path):
    """The run's query waits for an advisory lock the test holds; the test sees it waiting
    and kills the postmaster (SIGKILL), so the connection is lost mid-read every time."""
    import psycopg

    first_run(tmp_path, server)
    lock = 4343
    query = (
        f"SELECT p.* FROM {SCHEMA}.patients AS p "
        f"CROSS JOIN (SELECT pg_advisory_lock_shared({lock})) AS l"
    )
    holder = psycopg.connect(pg_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (lock,))
    seen: list[int] = []
    done = threading.Event()

    def kill() -> None:
        deadline = time.monotonic() + 120  # only a broken run waits that long
        with psycopg.connect(pg_url, autocommit=True) as con:
            while time.monotonic() < deadline and not done.is_set():
                waiting = con.execute(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND objid = %s",
                    (lock,),
                ).fetchall()
                if waiting:
                    seen.append(waiting[0][0])
                    break
                time.sleep(0.05)
            if seen and pg_cluster is None:  # a server of IMNM_TEST_PG_URL: end the session
                con.execute("SELECT pg_terminate_backend(%s)", (seen[0],))
        if seen and pg_cluster is not None:
            os.kill(pg_cluster.postmaster_pid(), signal.SIGKILL)

    thread = threading.Thread(target=kill)
    thread.start()
    try:
        before = published(tmp_path / "out")
        code, out, err = run("run", str(pipeline(tmp_path)), "--input", url(server, query=query))
    finally:
        done.set()
        thread.join()
        holder.close()
        if pg_cluster is not None and seen:
            restart(pg_cluster)
    assert seen, "the run's query was not seen waiting"
    assert (code, out) == (1, "") and err.count("\n") == 1, err
    assert named(server) in err and "the connection was lost" in err, err
    assert PASSWORD not in err
    assert published(tmp_path / "out") == before


def test_the_password_is_in_no_output_log_or_printed_line(
    server, tmp_path, caplog, capfd, monkeypatch
):
    path = pipeline(tmp_path, formats=list(FORMATS))
    given = url(server, f"{SCHEMA}.patients")
    printed = ""
    with caplog.at_level(logging.DEBUG):
        out, err = io.StringIO(), io.StringIO()
        assert main(["run", str(path), "--input", given], stdout=out, stderr=err) == 0
        printed += out.getvalue() + err.getvalue()
        # A driver's error that quotes the password: scrubbed from the one line.
        import imnm_cohort.sources.sql as sql

        def quoting(self, con, names, text_sql):
            raise RuntimeError(f"server said: bad login {self._password()}")

        with monkeypatch.context() as patch:
            patch.setattr(sql.DatabaseSource, "_sums", quoting)
            code, _, err_text = run("run", str(path), "--input", given)
        printed += err_text
        assert code == 1 and "bad login ***" in err_text, err_text
        # An unexpected error (a bug) after the read: its traceback goes to a debug log in
        # the output root.
        from imnm_cohort.pipeline import stages

        def bug(*args: object) -> None:
            raise RuntimeError("a bug after the read")

        monkeypatch.setattr(stages, "classify", bug)
        code, _, err_text = run("run", str(path), "--input", given)
        printed += err_text
    assert code == 1 and "unexpected internal error" in err_text, err_text
    logs = list((tmp_path / "out").glob("imnm-cohort-debug-*.log"))
    streams = capfd.readouterr()
    manifest = json.loads((tmp_path / "out" / "latest" / "manifest.json").read_text("utf-8"))
    parts = urllib.parse.urlsplit(server)
    no_user = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
    assert manifest["config"]["input"]["url"] == no_user
    assert PASSWORD not in printed + caplog.text + streams.out + streams.err
    found = holding(tmp_path, PASSWORD)
    assert not found and logs
