"""A DuckDB database, or Parquet and CSV files queried in place (``[input] kind = "duckdb"``).

The embedded default for data too big for files read whole: a ``.duckdb`` file's table or
query, or, with no ``database``, Parquet or CSV files (a path or a glob) given as the
table and read by DuckDB where they are. The rows leave DuckDB as text cells, in the
canonical order, with the fingerprint computed by DuckDB, as every database source gives
them (:class:`~imnm_cohort.sources.sql.DatabaseSource`). The database is opened read-only.
"""

from __future__ import annotations

import contextlib
import os
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
#: The container's memory limit, where the machine runs under cgroup v2 (else no file).
_CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")
#: The share of memory DuckDB may hold by default: the rest is the run's own (pandas holds
#: the analysed patients it fetches, and the analyses' work) and the machine's.
DEFAULT_MEMORY_SHARE = 0.5


def default_memory_limit() -> str | None:
    """DuckDB's ``memory_limit`` when the pipeline sets none: half of this machine's memory,
    or of its container's limit where that is smaller, in MiB.

    DuckDB's own default is 80 % of the memory it sees, and the run's process needs the rest
    and more: with it, a 10,000,000-patient validation was stopped by the kernel's
    out-of-memory killer at 17.9 GB on a 23 GB machine (``docs/scale.md``). Within the
    limit, validation's temporary tables spill to disk. None where the memory cannot be
    read (DuckDB then keeps its own default).
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None
    with contextlib.suppress(OSError, ValueError):  # no cgroup v2 limit file, or "max"
        total = min(total, int(_CGROUP_LIMIT.read_text().strip()))
    if total <= 0:
        return None
    return f"{max(1, int(total * DEFAULT_MEMORY_SHARE) // 2**20)}MiB"


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
        #: for :func:`default_memory_limit` (half of the machine's memory).
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
        own under the system's temporary folder, within ``memory_limit`` (or
        :func:`default_memory_limit`)."""
        import shutil
        import tempfile

        con = self._connect()
        spill = tempfile.mkdtemp(prefix="imnm-duckdb-")
        try:
            con.raw_sql(f"SET temp_directory = '{spill}'")
            limit = self.memory_limit or default_memory_limit()
            if limit is not None:
                con.raw_sql(f"SET memory_limit = '{limit}'")
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
