"""A source named by a URL, where the command line takes an input path (contract section 7).

``validate``, ``classify``, ``map`` and ``run --input`` take, in place of a file's path, a URL
that names a source of another kind. A URL is read here, and here only, into the kind and the
``[input]`` settings a pipeline file would give; the source is then built by
:func:`~imnm_cohort.sources.base.make_source`, through the same registry (:data:`SOURCES`) as
a pipeline's ``[input]``:

* ``duckdb:///registry.duckdb?table=patients`` (or ``?query=SELECT ...``): ``kind = "duckdb"``
  with ``database``. Three slashes begin a path relative to the current folder, four an
  absolute one (``duckdb:////srv/registry.duckdb``), as SQLAlchemy's URLs do. A path ending
  in ``.parquet``, ``.pq`` or ``.csv`` (a glob allowed) is files queried in place, the
  ``table`` of a source without a database.
* ``postgres://host:5432/db?table=imnm.patients`` (and ``postgresql://``, or another ibis
  backend's scheme, untested): ``kind = "sql"`` with ``url`` the URL without the settings.
* ``<kind>+<url>``, such as ``omop+duckdb:///cdm.duckdb`` or ``redcap+https://host/api/``:
  the source of ``kind`` with ``url`` the inner URL, as a pipeline file writes it.

A query parameter named in :data:`SETTINGS` is an ``[input]`` setting of the kind
(``table``, ``query``, ``password_env``, ``timeout``, ...); any other parameter stays in the
connection URL (libpq's ``service`` or ``sslmode``). No URL may hold a password, in its user
part or as a ``password`` parameter: it is refused in one line that does not show it. The
password comes from the environment variable named by ``?password_env=NAME``, or from the
database's own store (libpq's ``.pgpass`` or service file).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imnm_cohort.errors import ConfigError
from imnm_cohort.sources.base import known_kinds, make_source

if TYPE_CHECKING:
    from imnm_cohort.sources.base import Source

#: A URL begins with a scheme and ``://`` (a Windows path ``C:\\...`` does not).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: Query parameters that are ``[input]`` settings of the URL's kind, not of its connection.
SETTINGS = (
    "table",
    "query",
    "password_env",
    "token_env",
    "timeout",
    "batch_size",
    "cdm_schema",
    "vocabulary_schema",
    "concept_sets",
    "engine",
    "memory_limit",
)
#: Settings that are numbers (the rest are text).
_NUMBERS: dict[str, type] = {"timeout": float, "batch_size": int}
#: Schemes of ibis backends that are not SQL databases reached by URL.
_NOT_SQL = ("duckdb", "polars", "pyspark", "datafusion", "flink")


def is_url(text: str) -> bool:
    """Whether a command-line input is a URL (``scheme://...``) rather than a path."""
    return bool(_URL.match(text))


@dataclass(frozen=True)
class SourceUrl:
    """A URL read into what a pipeline's ``[input]`` would say.

    Attributes
    ----------
    kind : str
        The ``[input] kind``.
    settings : dict
        The other ``[input]`` settings (``url``, ``database``, ``table``, ...).
    shown : str
        The URL as messages show it: without a user or a password.
    """

    kind: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    shown: str = ""

    def local_path(self, base: Path) -> Path | None:
        """The local file the URL names (a DuckDB database or files in place), if any."""
        if self.kind != "duckdb":
            return None
        named = self.settings.get("database")
        if named is None and _in_place(str(self.settings.get("table", ""))):
            named = self.settings["table"]
        return None if named is None else (base / str(named)).resolve()


def shown(text: str) -> str:
    """A URL without its user and password (in the user part or as a parameter), as a
    message or a manifest may show it."""
    head, _, query = text.partition("?")
    query = query.partition("#")[0]
    scheme, sep, rest = head.partition("://")
    where, slash, path = rest.partition("/")
    head = f"{scheme}{sep}{where.rsplit('@', 1)[-1]}{slash}{path}"
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    if any(k.lower() == "password" for k, _ in pairs):
        query = urllib.parse.urlencode([(k, v) for k, v in pairs if k.lower() != "password"])
    return f"{head}?{query}" if query else head


def parse_source_url(text: str) -> SourceUrl:
    """The kind and the ``[input]`` settings of a source URL (see the module's description).

    Raises
    ------
    ConfigError
        Not a URL, a URL holding a password, an unknown scheme, a parameter given twice,
        a setting that is not a number where one is needed.
    """
    if not is_url(text):
        raise ConfigError(f"{text}: not a URL (scheme://...)")
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    parts = urllib.parse.urlsplit(f"{scheme}://{rest}")
    where = shown(text)
    try:
        secret = parts.password
    except ValueError:  # a port that is not a number: the connection says so later
        secret = None
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if secret or any(k.lower() == "password" for k, _ in pairs):
        raise ConfigError(
            f"{where}: a URL never holds a password; give it in the environment variable "
            "named by ?password_env=NAME, or in libpq's .pgpass or service file"
        )
    names = [k for k, _ in pairs]
    twice = sorted({k for k in names if names.count(k) > 1})
    if twice:
        raise ConfigError(f"{where}: the parameter {twice[0]!r} is given twice")
    settings: dict[str, Any] = {}
    kept: list[tuple[str, str]] = []
    for key, value in pairs:
        if key in SETTINGS:
            settings[key] = _number(where, key, value) if key in _NUMBERS else value
        else:
            kept.append((key, value))
    if "+" in scheme:
        kind, _, inner = scheme.partition("+")
        return SourceUrl(kind, {"url": _rebuilt(text, inner, kept), **settings}, where)
    if scheme == "duckdb":
        return SourceUrl("duckdb", _duckdb(where, parts, kept, settings), where)
    if scheme == "postgresql" or (scheme in _sql_schemes()):
        return SourceUrl("sql", {"url": _rebuilt(text, scheme, kept), **settings}, where)
    raise ConfigError(
        f"{where}: unknown URL scheme {scheme!r}; use duckdb://, postgres:// (or another "
        "database ibis reaches), or <kind>+<url> such as omop+duckdb://"
    )


def source_from_url(text: str, base: Path | None = None) -> Source:
    """The source a URL names, built by :func:`~imnm_cohort.sources.base.make_source`.

    Parameters
    ----------
    text : str
        The URL.
    base : Path, optional
        The folder relative paths are read from (the current folder by default).

    Raises
    ------
    ConfigError
        The URL cannot be used (:func:`parse_source_url`), names an unknown source kind,
        or settings its source refuses; the message shows the URL without a password.
    """
    url = parse_source_url(text)
    if url.kind not in known_kinds():
        raise ConfigError(
            f"{url.shown}: unknown source kind {url.kind!r}; known kinds: "
            + ", ".join(known_kinds())
        )
    return make_source(url.kind, url.settings, base or Path.cwd(), url.shown, section="")


def _sql_schemes() -> set[str]:
    """The schemes of the SQL databases ibis reaches by URL (its installed backends)."""
    from importlib.metadata import entry_points

    return {e.name for e in entry_points(group="ibis.backends")} - set(_NOT_SQL)


def _rebuilt(text: str, scheme: str, kept: list[tuple[str, str]]) -> str:
    """The connection URL: ``text`` with the scheme given and only the parameters that are
    not settings."""
    head = text.partition("?")[0].partition("#")[0]
    rest = head.partition("://")[2]
    query = urllib.parse.urlencode(kept)
    return f"{scheme}://{rest}" + (f"?{query}" if query else "")


def _duckdb(
    where: str,
    parts: urllib.parse.SplitResult,
    kept: list[tuple[str, str]],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """``duckdb://`` settings: a database file, or files in place as the table."""
    if kept:
        raise ConfigError(
            f"{where}: unknown parameter {kept[0][0]!r} for duckdb://; known: "
            "table, query, engine, memory_limit"
        )
    # SQLAlchemy's convention: duckdb:///relative.duckdb, duckdb:////absolute.duckdb.
    path = urllib.parse.unquote(parts.netloc + parts.path if parts.netloc else parts.path[1:])
    if not path:
        return settings  # an in-memory database: a query over files (read_parquet(...))
    if _in_place(path):
        if "table" in settings or "query" in settings:
            raise ConfigError(
                f"{where}: files queried in place are the table; give no table or query"
            )
        return {**settings, "table": path}
    return {"database": path, **settings}


def _in_place(path: str) -> bool:
    """Whether a path names files DuckDB queries in place (Parquet or CSV), not a database
    (the file source's suffixes, imported when needed: telling a URL from a path loads
    no pandas)."""
    from imnm_cohort.sources.files import CSV_SUFFIXES, PARQUET_SUFFIXES

    return path.lower().endswith((*PARQUET_SUFFIXES, *CSV_SUFFIXES))


def _number(where: str, key: str, value: str) -> float | int:
    try:
        return _NUMBERS[key](value)  # type: ignore[no-any-return]
    except ValueError:
        raise ConfigError(f"{where}: {key} must be a number, not {value!r}") from None
