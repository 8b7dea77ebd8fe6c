"""A table of patients in Spark: a catalog table or Parquet files, past one machine.

``[input] kind = "spark"`` reads a section-1 extract that Spark holds::

    [input]
    kind = "spark"
    master = "local[2]"          # or "spark://host:7077"; omitted: the active session
    table = "registry.patients"  # or: path = "s3a://bucket/patients/*.parquet"

Without ``master`` the source uses the session already running in the process (a
Databricks notebook or job), and never stops it. With one it asks Spark's builder for a
session (``getOrCreate``: a session already running in the process is reused as it is).

What is computed where:

* **In Spark**: every cell cast to text (a date as ``yyyy-MM-dd``, a timestamp as its
  calendar date in the session's time zone, a boolean as ``true``/``false``, a number as
  Spark writes it), the rows put in their canonical order, and the fingerprint.
* **On the driver**: the text cells, fetched as Arrow, then read exactly as a file's cells
  are (:func:`~imnm_cohort.sources.files.extract_from_arrow`): validation and
  classification run on them unchanged.

The canonical order is the rows' place in their files: by file path, then by row within the
file (Spark's ``_metadata.file_path`` and ``_metadata.row_index``), so that one Parquet file
gives its rows in the file's order, as the file source does, and a folder of part files
gives them file by file. A source that has no files (a view, a JDBC table) has no order of
its own: its rows come in the order Spark gives them.

The fingerprint is computed in Spark and only three numbers leave it: the row count and two
sums, each over every row, of a 64-bit hash (``xxhash64``, salted two ways) of the row's
place (its file's name and its row within the file) and its text cells (as a JSON array,
so that an empty cell and a missing one differ). The SHA-256 of the column names and these
three numbers is the fingerprint: the same cells in the same places give the same
fingerprint, wherever the files are kept; a changed cell, a row added, removed or moved
changes it.

With the ``database`` engine (the default; ``[input] engine = "in_memory"`` reads every
row to the driver instead), the rows stay in Spark (:meth:`SparkSource.open_table`): the text
cells are numbered in the canonical order without a sort (a file's first row number is the
count of the rows of the files before it), kept as a persisted temporary view, and
validated, classified and counted there through ibis's pyspark backend; only the failing
keys with their reasons, the analysed groups' patients and aggregates reach the driver
(:mod:`imnm_cohort.engines.database`).

Every failure (pyspark missing, no session, Spark failing to start, a missing table or
path, a column of nested values) is one line; nothing else of Spark's error is shown.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import re
import sys
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imnm_cohort.errors import ConfigError, ExtractError, one_line
from imnm_cohort.sources.base import SOURCES, slices
from imnm_cohort.sources.files import check_header, columns_from_arrow, extract_from_arrow

if TYPE_CHECKING:
    import pandas as pd
    from ibis.backends.pyspark import Backend as PySparkBackend
    from pyspark.sql import Column, DataFrame, SparkSession

    from imnm_cohort.sources.base import DatabaseTable

#: The one line when the optional dependency is missing.
NEEDS_EXTRA = "kind = \"spark\" needs the spark extra: pip install 'imnm-cohort[spark]'"
#: The Spark application's name when the source starts a session.
APP_NAME = "imnm-cohort"
#: Names the fingerprint's method in the manifest.
FINGERPRINT_METHOD = "spark-rows-xxhash64-v1"
_POSITION = ("_imnm_file", "_imnm_row")


@dataclass(frozen=True)
class SparkSettings:
    """Where the rows are (a pipeline's ``[input]``).

    Attributes
    ----------
    master : str or None
        Spark's master URL (``local[2]``, ``spark://host:7077``); None uses the session
        already active in the process (Databricks).
    table : str or None
        A catalog table (``db.table``).
    path : str or None
        Parquet files (a file, a folder or a glob; any Hadoop file system URL: ``s3a://``).
    """

    master: str | None
    table: str | None = None
    path: str | None = None


def require_pyspark() -> None:
    """Raise the one-line :class:`ConfigError` (exit code 2) when pyspark is not installed."""
    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError(NEEDS_EXTRA)


class SparkSource:
    """Patients held by Spark, read as a section-1 extract (``[input] kind = "spark"``).

    The session and the fingerprint's figures are kept once found.

    Attributes
    ----------
    settings : SparkSettings
    """

    kind = "spark"

    def __init__(self, settings: SparkSettings) -> None:
        if (settings.table is None) == (settings.path is None):
            raise ValueError("give exactly one of table and path")
        self.settings = settings
        self._session: SparkSession | None = None
        self._figures: tuple[int, str] | None = None
        #: The engine a run uses (``[input] engine``): ``database`` (validation and
        #: classification in Spark, the default) or ``in_memory`` (every row to the driver).
        self.engine = "database"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], base: Path) -> SparkSource:
        """``[input] master`` and one of ``table`` and ``path`` (a relative local path is
        read from ``base``); ``engine`` (``database``, the default, or ``in_memory``).

        Raises
        ------
        ConfigError
            pyspark not installed, a key missing, unknown or not text, both ``table``
            and ``path``, or an unknown engine.
        """
        from imnm_cohort.sources.sql import engine_setting

        unknown = sorted(set(settings) - {"master", "table", "path", "engine"})
        if unknown:
            raise ConfigError(
                f"unknown key '{unknown[0]}' for kind = \"spark\"; known keys: master, table, "
                "path, engine"
            )
        engine = engine_setting(settings)
        for key in ("master", "table", "path"):
            if key in settings and (not isinstance(settings[key], str) or not settings[key]):
                raise ConfigError(f'kind = "spark": {key} must be text, not {settings[key]!r}')
        if ("table" in settings) == ("path" in settings):
            raise ConfigError(
                'kind = "spark" reads table = "db.table" or path = "..." (Parquet), one of the two'
            )
        require_pyspark()
        path = settings.get("path")
        if path is not None and "://" not in path and not path.startswith("file:"):
            path = str((base / path).resolve())
        source = cls(SparkSettings(settings.get("master"), settings.get("table"), path))
        source.engine = engine
        return source

    def __repr__(self) -> str:
        where = self.settings.table or _public(self.settings.path or "")
        return f"SparkSource({where!r})"

    @property
    def name(self) -> str:
        """``Spark table db.table``, or the Parquet path (without any user or password)."""
        if self.settings.table is not None:
            return f"Spark table {self.settings.table}"
        return _public(self.settings.path or "")

    @property
    def label(self) -> str:
        """The table's name, or the path's last part."""
        if self.settings.table is not None:
            return self.settings.table
        return self.name.rstrip("/").rsplit("/", 1)[-1]

    # -- Spark ----------------------------------------------------------------------------

    def session(self) -> SparkSession:
        """The Spark session: the active one, or the master's (started when needed).

        Raises
        ------
        ConfigError
            pyspark not installed, or no master and no active session.
        ExtractError
            Spark cannot start (no Java, an unreachable master).
        """
        if self._session is not None:
            return self._session
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError(NEEDS_EXTRA) from None
        if self.settings.master is None:
            active = SparkSession.getActiveSession()
            if active is None:
                raise ConfigError(
                    'kind = "spark" without master uses the active Spark session, and none is '
                    'running: set master = "local[2]" or "spark://host:7077"'
                )
            self._session = active
            return active
        builder = (
            SparkSession.builder.master(self.settings.master)
            .appName(APP_NAME)
            .config("spark.ui.showConsoleProgress", "false")
        )
        try:
            self._session = builder.getOrCreate()
        except Exception as exc:  # py4j and Spark raise many types when the JVM fails
            if _jvm_exit_code() is not None:  # the driver this process started has died
                raise ExtractError(f"{self.name}: {_problem(exc)}") from None
            raise ExtractError(
                f"{self.name}: Spark could not start at master {self.settings.master} "
                f"({one_line(exc)})"
            ) from None
        quiet_lost_connections(self._session)
        return self._session

    def _rows(self) -> tuple[DataFrame, bool]:
        """The rows as Spark holds them, with their place (file, row) when they have one.

        Returns the frame (the position as two extra columns when ``True``) and whether it
        has them.
        """
        session = self.session()
        with self._failures():
            if self.settings.table is not None:
                frame = session.table(self.settings.table)
            else:
                frame = session.read.parquet(self.settings.path or "")
            _refuse_nested(frame, self.name)
        from pyspark.errors import AnalysisException
        from pyspark.sql import functions as F

        try:  # file-based: each row's file and row within it
            placed = frame.select(
                "*",
                F.col("_metadata.file_path").alias(_POSITION[0]),
                F.col("_metadata.row_index").alias(_POSITION[1]),
            )
        except AnalysisException:  # a view or a table without files: no place
            return frame, False
        return placed, True

    def _text(self, columns: Sequence[str] | None = None) -> tuple[DataFrame, list[str], bool]:
        """The text cells in canonical order, as Spark computes them: every column (or the
        named contract columns, under their contract names) cast to text."""
        from pyspark.sql import functions as F

        frame, placed = self._rows()
        names = [n for n in frame.columns if n not in _POSITION]
        with self._failures():
            check_header(self.name, names)
        if columns is None:
            chosen = [(n, n) for n in names]
        else:
            own = {n.strip().lower(): n for n in names}
            absent = [c for c in columns if c not in own]
            if absent:
                raise ExtractError(f"{self.name}: missing required column(s): {', '.join(absent)}")
            chosen = [(own[c], c) for c in columns]
        types = dict(frame.dtypes)
        cells = [_as_text(_column(held), types[held]).alias(name) for held, name in chosen]
        if placed:
            ordered = frame.orderBy(*_POSITION).select(*cells, *(F.col(p) for p in _POSITION))
        else:
            ordered = frame.select(*cells)
        return ordered, [name for _, name in chosen], placed

    def _failures(self) -> contextlib.AbstractContextManager[None]:
        return _spark_failures(self.name)

    # -- the Source protocol ----------------------------------------------------------------

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows as an extract's text cells (cast to text in Spark), in canonical order,
        as :func:`~imnm_cohort.sources.files.read_extract` gives a file of the same cells.

        Raises
        ------
        ExtractError
            The table or path cannot be read, a required column is missing, no data rows.
        """
        ordered, names, _ = self._text(columns)
        with self._failures():
            table = ordered.select(*(_column(n) for n in names)).toArrow()
        if columns is not None:
            return columns_from_arrow(table)
        return extract_from_arrow(table, self.name)

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`read` in slices of ``rows`` rows (fetched in one read)."""
        return slices(self.read(), rows)

    def open_table(self) -> DatabaseTable:
        """The rows as a table of Spark, for the ``database`` engine: the text cells
        :meth:`read` fetches (a cell empty or NULL as NULL), computed in Spark and not
        fetched, contract columns under their contract names, numbered in the canonical
        order, the rows blank in every column at the end left out.

        The numbers need no sort: a row's number is its row within its file plus the rows
        of the files before its own (a few numbers, one per file, fetched and joined back).
        Rows without a file (a view) are numbered in the order Spark gives them. The table
        is persisted (memory, then local disk) as a temporary view, and so is every
        temporary table validation makes (ibis's pyspark backend has none); ``close``
        drops them and leaves the session running (a notebook's, or the next read's).

        Raises
        ------
        ExtractError
            The table or path cannot be read, a required column is missing, no data rows.
        """
        from imnm_cohort.sources.base import DatabaseTable

        session = self.session()
        con, close = _backend(session)
        try:
            with self._failures():
                table, row, shown, empty = self._numbered(con)
        except BaseException:
            close()
            raise
        return DatabaseTable(table, row, shown, empty, close, self._failures)

    def _numbered(self, con: PySparkBackend) -> tuple[Any, str, tuple[str, ...], int]:
        """The text cells renamed as an extract's columns, with row numbers in the canonical
        order, persisted; the row-number column, the columns' names and the number of blank
        rows left out at the end."""
        import ibis
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        from imnm_cohort.sources.files import shown_names

        frame, placed = self._rows()
        names = [n for n in frame.columns if n not in _POSITION]
        check_header(self.name, names)
        shown, row = shown_names(names)
        types = dict(frame.dtypes)
        cells = []
        for held, name in zip(names, shown, strict=True):
            text = _as_text(_column(held), types[held])
            cells.append(F.when(text != "", text).alias(name))
        if placed:
            file, within = (F.col(p) for p in _POSITION)
            sizes = frame.groupBy(file.alias("_imnm_f")).count().collect()  # one row a file
            before, offsets = 0, []
            for size in sorted(sizes, key=lambda r: str(r["_imnm_f"])):
                offsets.append((size["_imnm_f"], before))
                before += int(size["count"])
            starts = frame.sparkSession.createDataFrame(offsets, "_imnm_f string, _imnm_o long")
            joined = frame.join(F.broadcast(starts), file == F.col("_imnm_f"))
            number = F.col("_imnm_o") + within + 1
        else:
            joined = frame.withColumn("_imnm_o", F.monotonically_increasing_id())
            number = F.row_number().over(Window.orderBy("_imnm_o"))
        numbered = joined.select(*cells, number.cast("long").alias(row))
        table = con.create_table(f"_imnm_rows_{uuid.uuid4().hex}", numbered, temp=True)
        blank: Any = ibis.literal(True)  # as every database source judges a blank row
        for column in shown:
            cell = table[column]
            blank = blank & (cell.isnull() | (cell.strip() == "")).fill_null(True)
        last = ibis.ifelse(blank, ibis.null("int64"), table[row]).max()
        found = table.aggregate(rows=table.count(), last=last).to_pyarrow().to_pylist()[0]
        rows, data_rows = int(found["rows"]), int(found["last"] or 0)
        if rows == 0:
            what = f"table {self.settings.table}" if self.settings.table else "path"
            raise ExtractError(f"{self.name}: the {what} has no rows")
        if data_rows == 0:
            raise ExtractError(f"{self.name}: has a header but no data rows")
        if data_rows < rows:
            table = table.filter(table[row] <= data_rows)
        return table, row, tuple(shown), rows - data_rows

    def fingerprint(self) -> str:
        """SHA-256 of the column names, the row count and two sums of row hashes computed
        in Spark (see the module's notes).

        Raises
        ------
        ExtractError
            The table or path cannot be read.
        """
        return self._measure()[1]

    def describe(self) -> dict[str, Any]:
        """Kind, master, table or path, rows, Spark's version and the fingerprint's method:
        never a credential (a path's user and password are left out)."""
        rows, _ = self._measure()
        where = (
            {"table": self.settings.table}
            if self.settings.table is not None
            else {"path": self.name}
        )
        return {
            "kind": self.kind,
            "master": self.settings.master or "active session",
            **where,
            "rows": rows,
            "spark_version": self.session().version,
            "fingerprint": FINGERPRINT_METHOD,
        }

    def _measure(self) -> tuple[int, str]:
        """The row count and the fingerprint, computed once."""
        if self._figures is not None:
            return self._figures
        from pyspark.sql import functions as F

        ordered, names, placed = self._text()
        cells = F.to_json(F.array(*(_column(n) for n in names)))
        if placed:
            place = [F.element_at(F.split(F.col(_POSITION[0]), "/"), -1), F.col(_POSITION[1])]
        else:
            place = []
        sums = [
            F.sum(F.xxhash64(F.lit(salt), *place, cells).cast("decimal(20,0)")).alias(salt)
            for salt in ("a", "b")
        ]
        with self._failures():
            figures = ordered.agg(F.count(F.lit(1)).alias("rows"), *sums).collect()[0]
        rows = int(figures["rows"])
        digest = hashlib.sha256(FINGERPRINT_METHOD.encode())
        for part in (*names, str(rows), str(figures["a"] or 0), str(figures["b"] or 0)):
            digest.update(b"\x1f" + part.encode("utf-8"))
        self._figures = (rows, digest.hexdigest())
        return self._figures


@contextlib.contextmanager
def _spark_failures(name: str) -> Iterator[None]:
    """Spark's errors inside the block as one-line ExtractErrors naming the source."""
    try:
        yield
    except (ExtractError, ConfigError):
        raise
    except Exception as exc:  # Spark's AnalysisException, py4j's errors, ...
        raise ExtractError(f"{name}: {_problem(exc)}") from None


def quiet_lost_connections(session: SparkSession) -> None:
    """Spark's driver dying mid-job (the kernel's out-of-memory killer) closes the
    connection on which it sends accumulator updates to this process; pyspark's
    accumulator server, a thread of this process, would print that ``EOFError`` as a
    traceback on standard error beside the run's one line. A connection lost so is
    dropped in silence; any other error of the server is printed as before. Only for a
    session the source asked for by its ``master`` (a notebook's own session is left as
    it is)."""
    server = getattr(session.sparkContext, "_accumulatorServer", None)
    if server is None or getattr(server, "_imnm_quiet", False):
        return
    printed = server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (EOFError, ConnectionError)):
            return
        printed(request, client_address)

    server.handle_error = handle_error
    server._imnm_quiet = True


#: The exit code Spark's handler of uncaught errors gives a driver out of memory
#: (``SparkExitCode.OOM``).
OOM_EXIT = 52


def _jvm_exit_code() -> int | None:
    """The exit code of the Spark driver's Java process when it has stopped; None while it
    runs, or when this process did not start it (a cluster's driver, Databricks Connect)."""
    pyspark = sys.modules.get("pyspark")
    if pyspark is None:
        return None
    gateway = getattr(getattr(pyspark, "SparkContext", None), "_gateway", None)
    process = getattr(gateway, "proc", None)
    try:
        return None if process is None else process.poll()
    except OSError:
        return None


#: Spark's refusal of a result larger than the driver takes (``spark.driver.maxResultSize``).
_RESULT_SIZE = re.compile(
    r"serialized results of \d+ tasks \((?P<sent>[\d.]+ \w+)\) is bigger than "
    r"spark\.driver\.maxResultSize \((?P<limit>[\d.]+ \w+)\)"
)


def _problem(exc: Exception) -> str:
    """Spark's error in one short phrase: its condition and first sentence. A JVM error
    that py4j reports as ``An error occurred while calling o12.x.`` is named by the Java
    exception on the next line; a driver out of memory, or a result larger than the driver
    takes (``spark.driver.maxResultSize``), says so. A driver whose Java
    process has died (py4j then reports only "Connection refused" or an empty answer) is
    named as such, with its exit code or signal (the kernel's out-of-memory killer sends
    signal 9)."""
    stopped = _jvm_exit_code()
    if stopped is not None:
        if stopped < 0:
            how = f"was killed by signal {-stopped}"
            how += " (most often the kernel's out-of-memory killer)" if stopped == -9 else ""
        else:
            how = f"stopped with exit code {stopped}"
            how += " (Spark's code for java.lang.OutOfMemoryError)" if stopped == OOM_EXIT else ""
        return (
            f"the Spark driver's Java process {how}; a driver out of memory stops so: "
            "give it more (spark.driver.memory)"
        )
    lines = [line.strip(" :\t") for line in str(exc).strip().splitlines()]
    lines = [line for line in lines if line]
    if "OutOfMemoryError" in str(exc):
        return (
            "Spark ran out of memory (java.lang.OutOfMemoryError); the driver holds the whole "
            "extract: give it more (spark.driver.memory)"
        )
    too_much = _RESULT_SIZE.search(str(exc))
    if too_much is not None:
        return (
            f"the results sent to the driver ({too_much['sent']} and more) exceed "
            f"spark.driver.maxResultSize ({too_much['limit']}); the analysed patients reach "
            "the driver: raise spark.driver.maxResultSize, and spark.driver.memory with it"
        )
    if len(lines) > 1 and lines[0].startswith("An error occurred while calling"):
        text = lines[1][:200]
    else:
        text = one_line(exc)
    return text.split(". ", 1)[0].rstrip(".")


def _refuse_nested(frame: DataFrame, name: str) -> None:
    """A column of arrays, maps or structs holds several values per cell: refused, as the
    file source refuses a nested Parquet column."""
    for field in frame.schema.fields:
        kind = field.dataType.typeName()
        if kind in ("array", "map", "struct"):
            raise ExtractError(
                f"{name}: column '{field.name}' holds {kind} values (Spark type "
                f"{field.dataType.simpleString()[:80]}); an extract holds one value per cell: "
                "write the column as text or split it into columns"
            )


def _column(name: str) -> Column:
    """A column by its exact name (dots, spaces and backticks in it quoted)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _as_text(column: Column, kind: str) -> Column:
    """A Spark column as text: a timestamp as its calendar date (in the session's time
    zone), everything else as Spark casts it to a string."""
    if kind.startswith("timestamp"):
        column = column.cast("date")
    return column.cast("string")


def _backend(session: SparkSession) -> tuple[PySparkBackend, Callable[[], None]]:
    """ibis's pyspark backend over ``session``, whose temporary tables (which it does not
    have) are persisted temporary views (``MEMORY_AND_DISK``: computed once, on first use),
    and whose results Spark collects as Arrow; and what drops them all. The backend's
    ``disconnect`` drops them too: ibis's own would stop the session, which belongs to the
    process."""
    import ibis
    import ibis.expr.types as ir

    con = ibis.pyspark.connect(session)
    made: list[tuple[str, DataFrame]] = []
    plain = con.create_table

    def create_table(
        name: str,
        /,
        obj: Any = None,
        *,
        schema: Any = None,
        database: str | None = None,
        temp: bool = False,
        overwrite: bool = False,
    ) -> ir.Table:
        if not temp or obj is None:
            return plain(
                name, obj, schema=schema, database=database, temp=temp, overwrite=overwrite
            )
        if isinstance(obj, ir.Table):
            con._register_in_memory_tables(obj)
            frame = session.sql(con.compile(obj))
        elif hasattr(obj, "sparkSession"):  # a Spark DataFrame
            frame = obj
        else:
            return create_table(name, ibis.memtable(obj, schema=schema), temp=True)
        from pyspark import StorageLevel

        kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
        kept.createOrReplaceTempView(name)
        made.append((name, kept))
        return con.table(name)

    def close() -> None:
        while made:
            name, kept = made.pop()
            with contextlib.suppress(Exception):  # a session already stopped holds nothing
                session.catalog.dropTempView(name)
                kept.unpersist()

    def to_pyarrow(
        expr: Any,
        /,
        *,
        params: Mapping[Any, Any] | None = None,
        limit: int | str | None = None,
        **kwargs: Any,
    ) -> Any:
        # Spark's own Arrow collection (toArrow): ibis's would go through toPandas, which
        # (Arrow being off in a session by default) collects every row as a Python object
        # in the driver, many times the Arrow size; at 10,000,000 patients the driver's
        # Java process outgrew the machine there.
        from ibis.formats.pyarrow import PyArrowData

        table_expr = expr.as_table()
        con._run_pre_execute_hooks(table_expr)
        frame = session.sql(con.compile(table_expr, params=params, limit=limit, **kwargs))
        table = PyArrowData.convert_table(frame.toArrow(), table_expr.schema())
        return expr.__pyarrow_result__(table)

    con.create_table = create_table
    con.to_pyarrow = to_pyarrow
    con.disconnect = close
    return con, close


def _public(path: str) -> str:
    """A path or URL without the user and password a URL may carry."""
    parts = urllib.parse.urlsplit(path)
    if parts.username is None and parts.password is None:
        return path
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


SOURCES["spark"] = SparkSource.from_settings
