"""A table or query in a SQL database, read through ibis (``[input] kind = "sql"``).

:class:`DatabaseSource` holds what every database source shares (the DuckDB source of
:mod:`imnm_cohort.sources.duckdb` is one); :class:`SqlSource` reaches any database ibis
reaches by URL (PostgreSQL is tested). The rows leave the database as an extract's text
cells, exactly as the file reader gives a CSV file's:

* every column is cast to text **in the database** (a date as ``YYYY-MM-DD``, a timestamp
  as its date, a boolean as ``true``/``false``, a number as the database writes it); NULL
  and empty text are missing cells; spaces around a value are kept, for validation to judge;
* contract column names are matched ignoring case and surrounding spaces, other columns
  keep their names, as a file's header (:func:`~imnm_cohort.sources.files.read_extract`);
* a table has no row order: rows are read ordered by ``patient_id``, then by every other
  column, in byte order (``COLLATE "C"`` on PostgreSQL), NULLs last. The row numbers of the
  quarantine count in that order, and rows whose every cell is NULL come last and are
  skipped as a file's blank rows at its end are.

The fingerprint is computed in the database (:data:`FINGERPRINT_METHOD`): the row count and
two sums over the rows of 60-bit slices of the MD5 of each row's canonical text. The MD5
of a row encodes each cell, in column order, as ``<length>:<text>`` (``-`` for a missing
cell); the sums do not depend on the row order. The manifest's ``sha256`` is the SHA-256 of
the column names, the count and the sums, so equal text content gives equal fingerprints on
DuckDB and PostgreSQL.

No credential is written anywhere: the password comes from the environment variable named
by ``password_env`` (or libpq's ``.pgpass`` or service file), a URL holding one is refused,
the manifest records host and database without the user, and every message is scrubbed of
the password. Every failure to use the database (unreachable server, refused login, missing
table or column, a column of the wrong type, a lost connection, a timeout) raises
:class:`~imnm_cohort.errors.ExtractError` with one line naming the source (exit code 1).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd
import pyarrow as pa

from imnm_cohort.contracts.patients import PATIENTS, REQUIRED_COLUMNS
from imnm_cohort.errors import ConfigError, ExtractError, quoted
from imnm_cohort.sources.base import SOURCES

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from imnm_cohort.sources.base import DatabaseTable

#: How :meth:`DatabaseSource.fingerprint` is computed (recorded in the manifest).
FINGERPRINT_METHOD = "rows + sums of md5 slices of <length>:<text> cells, v1"
#: The contract columns' parsing kinds, and the database types that can hold each.
_KINDS = PATIENTS.kinds
_HOLDS: dict[str, tuple[str, ...]] = {
    "id": ("string", "integer", "uuid"),
    "category": ("string",),
    "msa_list": ("string",),
    "icd10": ("string",),
    "date": ("string", "date", "timestamp"),
    "bool": ("string", "boolean", "integer"),
    "float": ("string", "integer", "floating", "decimal"),
}
#: Types any other column may have (cast to text); lists, structs, maps and bytes are refused.
_ANY = ("string", "integer", "floating", "decimal", "boolean", "date", "timestamp", "uuid")
_HOLDS_WORDS = {
    "date": "dates",
    "bool": "booleans",
    "float": "numbers",
    "id": "identifiers",
    "category": "category codes",
    "msa_list": "lists of antibodies",
    "icd10": "ICD-10 codes",
}
_STORE_AS = {
    "date": "a date or text",
    "bool": "a boolean or text",
    "float": "a number or text",
    "id": "text or an integer",
}
_TEXT = pd.StringDtype("pyarrow")
#: Seconds a connection attempt may take (libpq's ``connect_timeout``).
CONNECT_TIMEOUT = 30
#: Rows per fetch when the whole table is read.
_FETCH_ROWS = 100_000


def _family(dtype: Any) -> str:
    """An ibis type's family: ``string``, ``integer``, ``date``... (``other`` for the rest)."""
    for family in ("string", "integer", "floating", "decimal", "boolean", "date", "timestamp"):
        if getattr(dtype, f"is_{family}")():
            return family
    return "uuid" if dtype.is_uuid() else "other"


class DatabaseSource:
    """A table or a query in a database, as a source (shared by the database kinds).

    Subclasses give :meth:`_connect` (an ibis backend) and :meth:`_relation`.

    Parameters
    ----------
    name : str
        How messages name the source.
    label : str
        The short name in reports.
    table, query : str or None
        Exactly one: the table (``schema.table``), or the text of a ``SELECT``.
    timeout : float or None
        Seconds a statement may run (PostgreSQL), None for no limit.
    """

    kind: ClassVar[str] = "sql"

    def __init__(
        self,
        name: str,
        label: str,
        table: str | None,
        query: str | None,
        timeout: float | None = None,
    ) -> None:
        self._name, self._label = name, label
        self.table, self.query, self.timeout = table, query, timeout
        self._fingerprint: tuple[int, str] | None = None
        #: The engine a run uses (``[input] engine``): ``database`` (validation and
        #: classification in the database, the default) or ``in_memory``.
        self.engine = DEFAULT_ENGINE

    # -- what subclasses give ---------------------------------------------------------

    def _connect(self) -> BaseBackend:
        raise NotImplementedError

    def _relation(self, con: BaseBackend) -> ir.Table:
        """The table or the query as an ibis table."""
        if self.query is not None:
            return con.sql(self.query)
        assert self.table is not None
        *where, table = self.table.split(".")
        database = None if not where else where[0] if len(where) == 1 else tuple(where)
        return con.table(table, database=database)

    def _secret(self) -> str | None:
        """The text no message may show (a password)."""
        return None

    def _where(self) -> dict[str, Any]:
        """Where the database is, for :meth:`describe` (never a user or a password)."""
        return {}

    # -- the Source protocol ----------------------------------------------------------

    @property
    def name(self) -> str:
        """How messages name the source."""
        return self._name

    @property
    def label(self) -> str:
        """A short name for reports and the manifest."""
        return self._label

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r})"

    def fingerprint(self) -> str:
        """SHA-256 of the column names, the row count and the database's sums of the rows'
        MD5 slices (see the module's description).

        Raises
        ------
        ExtractError
            The database cannot be used.
        """
        if self._fingerprint is None:
            with self._failures(), self._connected() as con:
                # No column is required here: an export read through a mapping has its own
                # names (an extract's missing column fails its read).
                names, text_sql = self._text_sql(con, required=())
                rows, first, second = self._sums(con, names, text_sql)
            self._fingerprint = (rows, fingerprint_of(names, rows, first, second))
        return self._fingerprint[1]

    def describe(self) -> dict[str, Any]:
        """Kind, where the database is (host and database, no user or password), the table
        or the query with the SHA-256 of its text, and the row count."""
        self.fingerprint()
        assert self._fingerprint is not None
        text = self.table if self.table is not None else self.query or ""
        return {
            "kind": self.kind,
            **self._where(),
            **({"table": self.table} if self.table is not None else {"query": self.query}),
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "rows": self._fingerprint[0],
            "fingerprint_method": FINGERPRINT_METHOD,
        }

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Every row as text cells (as :func:`~imnm_cohort.sources.files.read_extract` gives
        a file), or the given contract columns only.

        Raises
        ------
        ExtractError
            The database cannot be used, or the table has no rows.
        """
        with self._failures(), self._connected() as con:
            names, text_sql = self._text_sql(con)
            if columns is not None:
                chosen = [self._named(names, c) for c in columns]
                batches = list(self._stream(con, self._ordered(con, names, text_sql, chosen)))
                table = pa.Table.from_batches(batches, schema=_schema(chosen))
                frame: pd.DataFrame = table.to_pandas(types_mapper={pa.large_string(): _TEXT}.get)
                frame.columns = pd.Index(list(columns))
                return frame
            batches = list(self._stream(con, self._ordered(con, names, text_sql)))
        return self._extract(pa.Table.from_batches(batches, schema=_schema(names)))

    def read_export(self, options: Any = None) -> pd.DataFrame:
        """The rows as text cells under the database's own column names, in the canonical
        order, for a mapping file (:class:`~imnm_cohort.mapping.source.MappedSource`); the
        mapping's ``[source]`` reading options are those of files and do not apply.

        Raises
        ------
        ExtractError
            The database cannot be used, or the table has no rows.
        """
        with self._failures(), self._connected() as con:
            names, text_sql = self._text_sql(con, required=())
            batches = list(self._stream(con, self._ordered(con, names, text_sql)))
        table = pa.Table.from_batches(batches, schema=_schema(names))
        frame: pd.DataFrame = table.to_pandas(types_mapper={pa.large_string(): _TEXT}.get)
        frame.columns = pd.Index(names)
        return self._refuse_empty(frame)

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`read` in the same order, streamed from the database in frames
        of ``rows`` rows (the last one shorter); the rows blank in every column at the end
        are left out, as :meth:`read` leaves them out.

        Raises
        ------
        ExtractError
            The database cannot be used, or the connection is lost between two frames.
        """
        if rows < 1:
            raise ValueError("rows must be at least 1")
        return self._batches(rows)

    def _batches(self, rows: int) -> Iterator[pd.DataFrame]:
        from imnm_cohort.sources.files import blank_tail_held_back, normalise_extract

        with self._failures(), self._connected() as con:
            names, text_sql = self._text_sql(con)
            stream = self._stream(con, self._ordered(con, names, text_sql), rows)
            frames = (
                t.to_pandas(types_mapper={pa.large_string(): _TEXT}.get)
                for t in _rebatched(stream, _schema(names), rows)
            )
            for frame in blank_tail_held_back(frames):
                yield normalise_extract(self._refuse_empty(frame), self.name)

    def open_table(self) -> DatabaseTable:
        """The rows as a table of the database, for the ``database`` engine: the text cells
        :meth:`read` fetches, computed but not fetched (contract columns under their contract
        names), numbered in the canonical order, the blank rows at the end left out. The
        connection stays open until the table's ``close`` is called; it may create the
        temporary tables of validation in the database (on PostgreSQL the session is then
        not read-only; nothing but temporary tables is written).

        Raises
        ------
        ExtractError
            The database cannot be used, a required column is missing, or no data rows.
        """
        from imnm_cohort.sources.base import DatabaseTable

        con = self._connect_for_tables()
        try:
            with self._failures():
                table, row, shown, empty = self._numbered(con)
        except BaseException:
            with suppress(Exception):
                con.disconnect()
            raise
        return DatabaseTable(table, row, shown, empty, con.disconnect, self._failures)

    def _connect_for_tables(self) -> BaseBackend:
        """A connection that may create temporary tables (the read-only one by default)."""
        return self._connect()

    def _numbered(self, con: BaseBackend) -> tuple[ir.Table, str, tuple[str, ...], int]:
        """The text relation renamed as an extract's columns, with row numbers in the
        canonical order and the blank rows at the end left out; the row-number column, the
        columns' names and the number of blank rows left out."""
        import ibis

        from imnm_cohort.sources.files import shown_names

        names, text_sql = self._text_sql(con)
        shown, row = shown_names(names)
        cells = ", ".join(
            f"{self._quoted(con, n)} AS {self._quoted(con, new)}"
            for n, new in zip(names, shown, strict=True)
        )
        sql = self._numbering_sql(con, names, text_sql, cells, self._quoted(con, row))
        schema = ibis.schema({**dict.fromkeys(shown, "string"), row: "int64"})
        # Numbered once, into a temporary table: the sort over every column is the costly
        # part, and validation reads the rows several times.
        name = f"_imnm_rows_{uuid.uuid4().hex}"
        numbered = con.create_table(name, con.sql(sql, schema=schema), temp=True)
        blank: Any = ibis.literal(True)
        for name in shown:
            cell = numbered[name]
            blank = blank & (cell.isnull() | (cell.strip() == "")).fill_null(True)
        last = ibis.ifelse(blank, ibis.null("int64"), numbered[row]).max()
        found = numbered.aggregate(rows=numbered.count(), last=last).to_pyarrow().to_pylist()[0]
        rows, data_rows = int(found["rows"]), int(found["last"] or 0)
        if rows == 0:
            what = f"table {self.table}" if self.table is not None else "query"
            raise ExtractError(f"{self.name}: the {what} has no rows")
        if data_rows == 0:
            raise ExtractError(f"{self.name}: has a header but no data rows")
        kept = numbered if data_rows == rows else numbered.filter(numbered[row] <= data_rows)
        return kept, row, tuple(shown), rows - data_rows

    def _numbering_sql(
        self, con: BaseBackend, names: list[str], text_sql: str, cells: str, row: str
    ) -> str:
        """The SQL of ``cells`` with each row's number in the canonical order (``row``).

        By default ``row_number()`` over the canonical order: a sort on every column. On
        DuckDB, with a ``patient_id`` column, the same numbers from one grouping of that
        column instead: a row's number is the count of rows whose ``patient_id`` comes
        before its own in that order (a running sum over the distinct ids), plus one; the
        rows sharing a ``patient_id`` (rare: duplicate keys) are then numbered among
        themselves by every column, as the canonical order does.
        """
        order = self._ordered(con, names, text_sql).split(" ORDER BY ", 1)[1]
        ids = [n for n in names if n.strip().lower() == "patient_id"]
        if con.name != "duckdb" or not ids:
            return (
                f"SELECT {cells}, row_number() OVER (ORDER BY {order}) AS {row} "
                f"FROM ({text_sql}) AS imnm_rows"
            )
        key = self._quoted(con, ids[0])
        return (
            f"WITH imnm_rows AS ({text_sql}), imnm_ids AS ("
            f"SELECT {key} AS _imnm_key_, count(*) AS _imnm_count_, CAST(sum(count(*)) OVER "
            f"(ORDER BY {key} ASC NULLS LAST) - count(*) AS BIGINT) AS _imnm_before_ "
            f"FROM imnm_rows GROUP BY {key}) "
            f"SELECT {cells}, _imnm_before_ + 1 AS {row} FROM imnm_rows "
            f"JOIN imnm_ids ON {key} IS NOT DISTINCT FROM _imnm_key_ WHERE _imnm_count_ = 1 "
            f"UNION ALL SELECT {cells}, _imnm_before_ + row_number() OVER "
            f"(PARTITION BY {key} ORDER BY {order}) AS {row} FROM imnm_rows "
            f"JOIN imnm_ids ON {key} IS NOT DISTINCT FROM _imnm_key_ WHERE _imnm_count_ > 1"
        )

    # -- the database's side ----------------------------------------------------------

    @contextmanager
    def _connected(self) -> Iterator[BaseBackend]:
        """A connection for one read, closed after it (a run reads two or three times: no
        session is left open between them)."""
        con = self._connect()
        try:
            yield con
        finally:
            with suppress(Exception):  # a connection already lost has nothing to close
                con.disconnect()

    def _text_sql(
        self, con: BaseBackend, required: tuple[str, ...] = REQUIRED_COLUMNS
    ) -> tuple[list[str], str]:
        """The columns' names and the SQL of the relation with every column as text, after
        the checks of the columns' names and types."""
        from imnm_cohort.sources.files import check_header

        relation = self._relation(con)
        schema = relation.schema()
        names = list(schema.names)
        check_header(self.name, names, required)
        cells = {}
        for name in names:
            family = _family(schema[name])
            kind = _KINDS.get(name.strip().lower())
            allowed = _HOLDS[kind] if kind is not None else _ANY
            if family not in allowed:
                raise ExtractError(
                    f"{self.name}: column '{name}' is of type {schema[name]} in the database, "
                    f"which cannot hold {_HOLDS_WORDS.get(kind or '', 'one value per cell')}; "
                    f"store it as {_STORE_AS.get(kind or '', 'text')}"
                )
            column = relation[name]
            if family == "string":
                cells[name] = column.nullif("")
            elif family == "date":
                cells[name] = column.strftime("%Y-%m-%d")
            elif family == "timestamp":
                cells[name] = column.date().strftime("%Y-%m-%d")
            else:
                cells[name] = column.cast("string")
        return names, str(con.compile(relation.select(**cells)))

    def _quoted(self, con: BaseBackend, name: str) -> str:
        import sqlglot as sg

        return str(sg.to_identifier(name, quoted=True).sql(con.dialect))

    def _ordered(
        self, con: BaseBackend, names: list[str], text_sql: str, chosen: list[str] | None = None
    ) -> str:
        """The text relation's rows in the canonical order: ``patient_id`` first (when there
        is one: an export read through a mapping may have none), then every other column in
        the table's order, in byte order, NULLs last."""
        ids = [n for n in names if n.strip().lower() == "patient_id"]
        collate = ' COLLATE "C"' if con.name == "postgres" else ""
        order = ", ".join(
            f"{self._quoted(con, n)}{collate} ASC NULLS LAST"
            for n in [*ids, *(n for n in names if n not in ids)]
        )
        shown = ", ".join(self._quoted(con, n) for n in (chosen or names))
        return f"SELECT {shown} FROM ({text_sql}) AS imnm_rows ORDER BY {order}"

    def _named(self, names: list[str], column: str) -> str:
        for name in names:
            if name.strip().lower() == column:
                return name
        raise ExtractError(f"{self.name}: missing required column(s): {column}")

    def _stream(
        self, con: BaseBackend, sql: str, rows: int = _FETCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``sql`` (every column text), a batch at a time."""
        if con.name == "duckdb":
            reader = con.con.execute(sql).to_arrow_reader(rows)
            for batch in reader:
                yield pa.RecordBatch.from_arrays(
                    [c.cast(pa.large_string()) for c in batch.columns], names=batch.schema.names
                )
        elif con.name == "postgres":
            raw = con.con
            with raw.transaction(), raw.cursor(name="imnm_rows") as cursor:
                cursor.execute(sql)
                while fetched := cursor.fetchmany(rows):
                    columns = list(zip(*fetched, strict=True))
                    yield pa.RecordBatch.from_arrays(
                        [pa.array(c, pa.large_string()) for c in columns],
                        names=[d.name for d in cursor.description],
                    )
        else:  # another ibis backend (untested): its own batches
            for batch in con.to_pyarrow_batches(con.sql(sql), chunk_size=rows):
                yield pa.RecordBatch.from_arrays(
                    [c.cast(pa.large_string()) for c in batch.columns], names=batch.schema.names
                )

    def _sums(self, con: BaseBackend, names: list[str], text_sql: str) -> tuple[int, int, int]:
        """The row count and the two sums of the fingerprint, computed in the database
        (on DuckDB and PostgreSQL; another backend's rows are summed as they stream)."""
        cells = " || ".join(
            f"coalesce(CAST(length({q}) AS VARCHAR) || ':' || {q}, '-')"
            for q in (self._quoted(con, n) for n in names)
        )
        if con.name == "duckdb":
            part = "CAST('0x' || substr(h, {start}, 15) AS BIGINT)"
        elif con.name == "postgres":
            part = "('x' || lpad(substr(h, {start}, 15), 16, '0'))::bit(64)::bigint"
        else:
            return row_sums(self._stream(con, f"SELECT * FROM ({text_sql}) AS imnm_rows"))
        sql = (
            f"SELECT count(*), sum({part.format(start=1)}), sum({part.format(start=16)}) "
            f"FROM (SELECT md5({cells}) AS h FROM ({text_sql}) AS imnm_rows) AS imnm_hashes"
        )
        if con.name == "duckdb":
            found = con.con.execute(sql).fetchone()
        else:
            with con.con.cursor() as cursor:
                found = cursor.execute(sql).fetchone()
        rows, first, second = found
        return int(rows), int(first or 0), int(second or 0)

    def _extract(self, table: pa.Table) -> pd.DataFrame:
        """The rows as the file reader gives a file's (names matched, blank rows at the end
        left out, absent optional columns added)."""
        from imnm_cohort.sources.files import normalise_extract

        frame = table.to_pandas(types_mapper={pa.large_string(): _TEXT}.get)
        return normalise_extract(self._refuse_empty(frame), self.name)

    def _refuse_empty(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A table without rows cannot be used: a scheduled report on an empty table would
        hide a failed load."""
        if len(frame) == 0:
            what = f"table {self.table}" if self.table is not None else "query"
            raise ExtractError(f"{self.name}: the {what} has no rows")
        return frame

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Any error of the database or its driver as one line naming the source."""
        try:
            yield
        except (ExtractError, ConfigError):
            raise
        except Exception as exc:  # drivers raise many unrelated types
            raise ExtractError(f"{self.name}: {self._problem(exc)}") from None

    def _problem(self, exc: BaseException) -> str:
        """The problem in words, scrubbed of the password."""
        low = quoted(exc, self._secret(), None).lower()
        kind = type(exc).__name__
        if kind == "TableNotFound" or ("does not exist" in low and "relation" in low):
            problem = f"no table {self.table}" if self.table else "the query names a missing table"
        elif (
            "password authentication failed" in low
            or "no password supplied" in low
            or ("role" in low and "does not exist" in low)
            or "pg_hba.conf" in low
            or "is not permitted to log in" in low  # a role made NOLOGIN
            or ("permission denied for database" in low)  # CONNECT revoked
        ):
            problem = "the login was refused"
        elif "statement timeout" in low or kind == "QueryCanceled":
            problem = f"no answer within the timeout of {self.timeout:g} s"
        elif (
            "connection refused" in low
            or "could not translate host" in low
            or ("timeout expired" in low)
            or "could not connect" in low
            or "connection failed" in low
        ):
            problem = "cannot be reached"
        elif (
            "terminating connection" in low
            or "server closed the connection" in low
            or ("connection" in low and ("lost" in low or "closed" in low))
            or kind in ("AdminShutdown", "OperationalError", "InterfaceError")
        ):
            problem = "the connection was lost"
        else:
            problem = "the database refused the read"
        return f"{problem} ({quoted(exc, self._secret())})"


def _rebatched(
    batches: Iterator[pa.RecordBatch], schema: pa.Schema, rows: int
) -> Iterator[pa.Table]:
    """Record batches regrouped into tables of exactly ``rows`` rows (the last shorter; one
    empty table when there are none)."""
    pending: list[pa.RecordBatch] = []
    held, given = 0, False
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            table = pa.Table.from_batches(pending, schema=schema)
            yield table.slice(0, rows)
            given = True
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held or not given:
        yield pa.Table.from_batches(pending, schema=schema)


def _schema(names: list[str]) -> pa.Schema:
    return pa.schema([(n, pa.large_string()) for n in names])


def fingerprint_of(names: Sequence[str], rows: int, first: int, second: int) -> str:
    """The fingerprint: SHA-256 of the compact JSON ``{"columns": [...], "rows": n,
    "sums": ["<first>", "<second>"]}`` (the sums as decimal text)."""
    content = json.dumps(
        {"columns": list(names), "rows": rows, "sums": [str(first), str(second)]},
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode()).hexdigest()


def row_text(cells: Sequence[str | None]) -> str:
    """A row's canonical text for the fingerprint: each cell as ``<length>:<text>``
    (length in characters), ``-`` for a missing one."""
    return "".join("-" if c is None else f"{len(c)}:{c}" for c in cells)


def row_sums(batches: Iterable[pa.RecordBatch]) -> tuple[int, int, int]:
    """The fingerprint's count and sums, computed here over rows of text cells: for a
    backend whose SQL is not written here, and to check a database's own."""
    rows = first = second = 0
    for batch in batches:
        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
            digest = hashlib.md5(row_text(row).encode(), usedforsecurity=False).hexdigest()
            rows, first, second = (
                rows + 1,
                first + int(digest[:15], 16),
                second + int(digest[15:30], 16),
            )
    return rows, first, second


# ---------------------------------------------------------------------------------------
# ``[input] kind = "sql"``: any database ibis reaches by URL.


#: PostgreSQL's types a query's column may have, as ibis types (others are refused).
_POSTGRES_TYPES = {
    **dict.fromkeys(("text", "varchar", "bpchar", "name", "citext"), "string"),
    "int2": "int16",
    "int4": "int32",
    "int8": "int64",
    "float4": "float32",
    "float8": "float64",
    "numeric": "decimal",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp('UTC')",
    "uuid": "uuid",
}


def _url_parts(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme:
        raise ConfigError('kind = "sql" needs url = "<backend>://[user@]host[:port]/database"')
    try:
        secret = parts.password
    except ValueError:
        secret = None
    if secret:
        raise ConfigError(
            "the url holds a password; remove it, and give the password in the environment "
            "variable named by password_env (or libpq's .pgpass or service file)"
        )
    return parts


class SqlSource(DatabaseSource):
    """A table or query in any database ibis reaches by URL (``[input] kind = "sql"``).

    Parameters
    ----------
    url : str
        ``postgres://[user@]host[:port]/database`` (or another ibis backend's URL), with no
        password.
    password_env : str or None
        The environment variable holding the password; None leaves it to the database's
        own store (libpq's ``.pgpass`` or service file).
    table, query : str or None
        Exactly one.
    timeout : float or None
        Seconds a statement may run.
    """

    kind: ClassVar[str] = "sql"

    def __init__(
        self,
        url: str,
        password_env: str | None,
        table: str | None,
        query: str | None,
        timeout: float | None = None,
    ) -> None:
        parts = _url_parts(url)
        self._url, self.password_env = url, password_env
        self.backend = "postgres" if parts.scheme in ("postgres", "postgresql") else parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port if parts.hostname else None
        self.database = parts.path.lstrip("/")
        #: libpq's service (``?service=name``): the service file says where the server is.
        self.service = dict(urllib.parse.parse_qsl(parts.query)).get("service")
        where = f" at {self.host}" + (f":{self.port}" if self.port else "") if self.host else ""
        shown = self.database or (f"of service {self.service}" if self.service else "(default)")
        name = f"{self.backend} database {shown}{where}"
        label = f"{self.database}:{table}" if table else f"{self.database}:query"
        super().__init__(name, label, table, query, timeout)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], base: Path) -> SqlSource:
        """``url``, ``password_env``, ``table`` or ``query``, and ``timeout`` (``base`` is not
        used: nothing is a path).

        Raises
        ------
        ConfigError
            A key missing, unknown or of the wrong type; a password in the URL.
        """
        known = ("url", "password_env", "table", "query", "timeout", "engine")
        table, query, timeout = _common_settings(settings, known, "sql")
        url = settings.get("url")
        if not isinstance(url, str) or not url:
            raise ConfigError('kind = "sql" needs url = "..." (text)')
        password_env = settings.get("password_env")
        if password_env is not None and (not isinstance(password_env, str) or not password_env):
            raise ConfigError("password_env must name an environment variable (text)")
        found = cls(url, password_env, table, query, timeout)
        found.engine = engine_setting(settings)
        return found

    def _password(self) -> str | None:
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env, "")
        if not value:
            raise ConfigError(
                f"{self.name}: the password is read from the environment variable "
                f"{self.password_env}, which is not set or empty"
            )
        return value

    def _secret(self) -> str | None:
        return os.environ.get(self.password_env, "") or None if self.password_env else None

    def _where(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            **({"host": self.host} if self.host else {}),
            **({"port": self.port} if self.port else {}),
            "database": self.database,
            **({"service": self.service} if self.service else {}),
        }

    def _relation(self, con: BaseBackend) -> ir.Table:
        """The table, or the query; on PostgreSQL the query's columns are described by the
        server (``LIMIT 0``, in the read-only session) rather than through a view, which a
        read-only session cannot create."""
        if self.query is None or con.name != "postgres":
            return super()._relation(con)
        import ibis

        raw = con.con
        with raw.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({self.query}) AS imnm_query LIMIT 0")
            described = cursor.description
            types = raw.adapters.types
        schema = {}
        for column in described:
            info = types.get(column.type_code)
            known = info.name if info is not None and info.oid == column.type_code else None
            if known not in _POSTGRES_TYPES:
                shown = known or (f"{info.name}[]" if info is not None else "unknown")
                raise ExtractError(
                    f"{self.name}: column '{column.name}' is of type {shown} in the database, "
                    "which cannot hold one value per cell as text; cast it in the query"
                )
            schema[column.name] = _POSTGRES_TYPES[known]
        return con.sql(self.query, schema=ibis.schema(schema))

    def _connect_for_tables(self) -> BaseBackend:
        return self._connect(read_only=False)

    def _connect(self, read_only: bool = True) -> BaseBackend:
        import ibis

        password = self._password()
        extra: dict[str, Any] = {}
        if password is not None:
            extra["password"] = password
        if self.backend == "postgres":
            options = ["-c default_transaction_read_only=on"] if read_only else []
            if self.timeout is not None:
                options.append(f"-c statement_timeout={int(self.timeout * 1000)}")
            extra["connect_timeout"] = CONNECT_TIMEOUT
            if options:
                extra["options"] = " ".join(options)
        return ibis.connect(self._url, **extra)


#: The engine a run over a database source uses unless ``[input] engine`` says otherwise.
DEFAULT_ENGINE = "database"
#: The engines ``[input] engine`` may name for a source kept in a database.
TABLE_ENGINES = ("database", "in_memory")


def engine_setting(settings: Mapping[str, Any]) -> str:
    """``[input] engine``, checked: ``database`` (the default) or ``in_memory``.

    Raises
    ------
    ConfigError
        Another value.
    """
    engine = settings.get("engine", DEFAULT_ENGINE)
    if engine not in TABLE_ENGINES:
        raise ConfigError(
            f"engine must be one of: {', '.join(repr(e) for e in TABLE_ENGINES)}; not {engine!r}"
        )
    return str(engine)


def _common_settings(
    settings: Mapping[str, Any], known: tuple[str, ...], kind: str
) -> tuple[str | None, str | None, float | None]:
    """``table`` or ``query`` (exactly one) and ``timeout``, checked."""
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key '{unknown[0]}' for kind = \"{kind}\"; known keys: "
            + ", ".join((*known, "mapping"))
        )
    table, query = settings.get("table"), settings.get("query")
    if (table is None) == (query is None):
        raise ConfigError(f'kind = "{kind}" needs table = "..." or query = "SELECT ...", not both')
    for key, value in (("table", table), ("query", query)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{key} must be text")
    timeout = settings.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ConfigError("timeout must be a number of seconds above 0")
    return table, query, None if timeout is None else float(timeout)


SOURCES["sql"] = SqlSource.from_settings
