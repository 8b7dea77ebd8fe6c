"""A DuckDB database, or Parquet and CSV files queried in place (``[input] kind = "duckdb"``).

The embedded default for data too big for files read whole: a ``.duckdb`` file's table or
query, or, with no ``database``, Parquet or CSV files (a path or a glob) given as the
table and read by DuckDB where they are. The rows leave DuckDB as text cells, in the
canonical order, with the fingerprint computed by DuckDB, as every database source gives
them (:class:`~imnm_cohort.sources.sql.DatabaseSource`). The database is opened read-only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.sources.base import SOURCES
from imnm_cohort.sources.files import CSV_SUFFIXES, PARQUET_SUFFIXES
from imnm_cohort.sources.sql import DatabaseSource, _common_settings, engine_setting

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend


#: An amount of memory as DuckDB's ``memory_limit`` takes it.
_MEMORY = r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)"


class DuckdbSource(DatabaseSource):
    """A table or query of a DuckDB file, or files queried in place.

    Parameters
    ----------
    database : Path or None
        The ``.duckdb`` file; None to query the files named by ``table``.
    table, query : str or None
        Exactly one: a table of the database (``schema.table``) or, without a database,
        the path (or glob) of Parquet or CSV files; or the text of a ``SELECT``.
    files : Path or None
        The resolved path (or glob) of the files of ``table`` when there is no database.
    """

    kind: ClassVar[str] = "duckdb"

    def __init__(
        self,
        database: Path | None,
        table: str | None,
        query: str | None,
        files: Path | None = None,
        timeout: float | None = None,
    ) -> None:
        self.database, self.files = database, files
        if database is not None:
            name, label = str(database), database.name
        elif files is not None:
            name, label = str(files), files.name
        else:
            name, label = "DuckDB (in memory)", "query"
        super().__init__(name, label, table, query, timeout)
        #: DuckDB's ``memory_limit`` for the database engine's session (``"2GB"``); None
        #: leaves DuckDB's default (80 % of the machine's memory).
        self.memory_limit: str | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], base: Path) -> DuckdbSource:
        """``database`` (relative to ``base``), ``table`` or ``query``.

        Raises
        ------
        ConfigError
            A key missing, unknown or of the wrong type; files of another kind than
            Parquet or CSV given as the table without a database.
        """
        known = ("database", "table", "query", "engine", "memory_limit")
        table, query, timeout = _common_settings(settings, known, "duckdb")
        memory_limit = settings.get("memory_limit")
        if memory_limit is not None and (
            not isinstance(memory_limit, str) or not re.fullmatch(_MEMORY, memory_limit)
        ):
            raise ConfigError('memory_limit must be an amount such as "2GB" or "500MB"')
        database = settings.get("database")
        if database is not None and (not isinstance(database, str) or not database):
            raise ConfigError("database must be the path of a .duckdb file (text)")
        if database is not None:
            found = cls((base / database).resolve(), table, query)
            found.engine, found.memory_limit = engine_setting(settings), memory_limit
            return found
        files = None
        if table is not None:
            suffix = Path(table).suffix.lower()
            if suffix not in (*PARQUET_SUFFIXES, *CSV_SUFFIXES):
                raise ConfigError(
                    f'without database = "...", table must name Parquet or CSV files '
                    f"(.parquet, .pq, .csv), not {table!r}"
                )
            files = (base / table).resolve()
        found = cls(None, table, query, files, timeout)
        found.engine, found.memory_limit = engine_setting(settings), memory_limit
        return found

    def _where(self) -> dict[str, Any]:
        if self.database is not None:
            return {"database": self.database.name}
        return {"files": self.files.name} if self.files is not None else {}

    def _connect(self) -> BaseBackend:
        import ibis

        if self.database is not None:
            if not self.database.is_file():
                raise ExtractError(f"{self.name}: file not found")
            return ibis.duckdb.connect(self.database, read_only=True)
        return ibis.duckdb.connect()

    def _connect_for_tables(self) -> BaseBackend:
        """A connection whose temporary tables (validation's) may spill to a folder of their
        own under the system's temporary folder, within ``memory_limit`` when one is set."""
        import shutil
        import tempfile

        con = self._connect()
        spill = tempfile.mkdtemp(prefix="imnm-duckdb-")
        try:
            con.raw_sql(f"SET temp_directory = '{spill}'")
            if self.memory_limit is not None:
                con.raw_sql(f"SET memory_limit = '{self.memory_limit}'")
        except BaseException:
            con.disconnect()
            shutil.rmtree(spill, ignore_errors=True)
            raise
        close = con.disconnect

        def disconnect() -> None:
            try:
                close()
            finally:
                shutil.rmtree(spill, ignore_errors=True)

        con.disconnect = disconnect
        return con

    def _relation(self, con: BaseBackend) -> ir.Table:
        if self.files is None:
            return super()._relation(con)
        if not any(self.files.parent.glob(self.files.name)):
            raise ExtractError(f"{self.name}: file not found")
        if self.files.suffix.lower() in PARQUET_SUFFIXES:
            return con.read_parquet(self.files)
        return con.read_csv(
            self.files, all_varchar=True, header=True, delim=",", quote='"', escape='"'
        )


SOURCES["duckdb"] = DuckdbSource.from_settings
