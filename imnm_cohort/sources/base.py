"""The source protocol: where a table of patients comes from, whatever holds it.

A source gives the rows of a patient table as text cells (the frame validation takes), a
fingerprint of its content for the manifest and the run's name, and a description of where
it is (never a credential). A pipeline file's ``[input] kind`` picks the source from
:data:`SOURCES`; ``kind = "file"`` (the default) is a file read by its suffix
(:mod:`imnm_cohort.sources.files`). A new kind is one module with a class that follows
:class:`Source` and one line that registers its factory::

    SOURCES["toy"] = ToySource.from_settings

A factory takes the ``[input]`` settings other than ``kind`` and ``mapping`` (values as
the TOML file gives them) and the pipeline file's folder (relative paths are read from
there); it raises :class:`~imnm_cohort.errors.ConfigError` for a setting it cannot use.
Reading a site's own export through a mapping file wraps any source
(:class:`~imnm_cohort.mapping.source.MappedSource`); the source never validates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from imnm_cohort.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from imnm_cohort.contracts.table import TableContract

#: The kind a pipeline's ``[input]`` has when it names none.
DEFAULT_KIND = "file"
#: ``DataFrame.attrs`` key of a reader's problems in cells (a spreadsheet's error values,
#: formulas without a saved result): a tuple of ``(index, column, rule, value)``, the
#: 0-based data row, the column's name, the rule code and the cell's text.
CELL_PROBLEMS = "cell_problems"


@runtime_checkable
class Source(Protocol):
    """A table of patients, one row per patient, wherever it is kept.

    Attributes
    ----------
    kind : str
        The ``[input] kind`` that makes it (``"file"``).
    name : str
        How messages name the source (a file's path as given).
    label : str
        A short name for reports and the manifest (a file's name).
    """

    @property
    def kind(self) -> str:
        """The ``[input] kind`` that makes it."""
        ...

    @property
    def name(self) -> str:
        """How messages name the source."""
        ...

    @property
    def label(self) -> str:
        """A short name for reports and the manifest."""
        ...

    def fingerprint(self) -> str:
        """The SHA-256 (hexadecimal) of the content: equal content, equal fingerprint. The
        run's name and the manifest's ``input.sha256`` take it.

        Raises
        ------
        ExtractError
            The source cannot be reached.
        """
        ...

    def describe(self) -> dict[str, Any]:
        """Where the data is, JSON-ready, for the manifest's ``input`` (never a
        credential): a file gives ``{"file": name}``; another kind starts with
        ``"kind"``."""
        ...

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows as an extract's text cells.

        Without ``columns``: what :func:`~imnm_cohort.sources.files.read_extract` gives a
        file (contract columns under their contract names, absent optional columns added
        empty and listed in ``attrs["absent_columns"]``, trailing blank rows left out),
        index 0..n-1. With ``columns``: those contract columns only; a source may keep the
        rows at the end that are blank in every column (finding them needs every column),
        so such a frame's length is at least the number of data rows.

        Raises
        ------
        ExtractError
            The source cannot be used at all; one line naming it and the problem.
        """
        ...

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`read` in consecutive frames of about ``rows`` rows each (at
        least one frame; each indexed from 0)."""
        ...


@dataclass(frozen=True)
class DatabaseTable:
    """A source's rows handed over where they are: a table of the source's own database.

    Attributes
    ----------
    table : ibis Table
        The rows as an extract's text cells: every column text (NULL for an empty cell),
        contract columns under their contract names, other columns under their own, and the
        row-number column; the rows blank in every column at the end of the canonical order
        are left out, as a file's blank rows at its end are. Nothing has run yet.
    row_column : str
        The column holding each row's number (1 = the first row in the source's canonical
        order): the quarantine's ``row_number``.
    columns : tuple of str
        The source's columns in their order, under the names ``table`` gives them (without
        the row-number column).
    empty_rows : int
        The rows blank in every column left out at the end (counted in the database).
    close : callable
        Closes the connection (the engine calls it when it is done).
    failures : callable
        A context manager that turns any error of the database inside it into the source's
        one-line :class:`~imnm_cohort.errors.ExtractError`.
    """

    table: Any = field(repr=False)
    row_column: str
    columns: tuple[str, ...]
    empty_rows: int
    close: Callable[[], None] = field(repr=False)
    failures: Callable[[], AbstractContextManager[None]] = field(repr=False)


@runtime_checkable
class TableSource(Protocol):
    """A source whose rows can stay in their database: besides :meth:`Source.read`, it
    hands over an ibis table of them (the ``database`` engine validates and classifies it
    there, :mod:`imnm_cohort.engines.database`)."""

    def open_table(self) -> DatabaseTable:
        """A connection to the source's database and its rows as a :class:`DatabaseTable`.

        Raises
        ------
        ExtractError
            The database cannot be used (one line naming the source).
        """
        ...


#: A source factory: ``factory(settings, base)`` -> a source; ``settings`` are the
#: ``[input]`` keys other than ``kind`` and ``mapping``, ``base`` the pipeline's folder.
SourceFactory = Callable[[Mapping[str, Any], Path], Source]

#: The registry of sources, by ``[input] kind``.
SOURCES: dict[str, SourceFactory] = {}
#: The package's own kinds besides files, each imported when first asked for (its module
#: registers it): importing them all would slow every start.
_BUILT_IN = {
    "redcap": "imnm_cohort.sources.redcap",
    "duckdb": "imnm_cohort.sources.duckdb",
    "omop": "imnm_cohort.sources.omop",
    "sql": "imnm_cohort.sources.sql",
    "spark": "imnm_cohort.sources.spark",
}


def known_kinds() -> list[str]:
    """Every kind a source can be made of: those registered and the package's own (each
    registered when first asked for), sorted."""
    import imnm_cohort.sources.files  # noqa: F401  (registers "file")

    return sorted({*SOURCES, *_BUILT_IN})


def make_source(
    kind: str, settings: Mapping[str, Any], base: Path, where: str, *, section: str = "[input]"
) -> Source:
    """The source of ``[input] kind`` built from its settings.

    Parameters
    ----------
    kind : str
        A key of :data:`SOURCES`.
    settings : mapping
        The other ``[input]`` keys.
    base : Path
        The folder relative paths are read from.
    where : str
        The pipeline file (or the URL, without a password), for messages.
    section : str
        What the settings are, after ``where`` in messages (``""`` for a URL's).

    Raises
    ------
    ConfigError
        An unknown kind, or settings the source cannot use (the message names the file).
    """
    import imnm_cohort.sources.files  # noqa: F401  (registers "file")

    if kind not in SOURCES and kind in _BUILT_IN:  # the package's own, registered on import
        import_module(_BUILT_IN[kind])
    factory = SOURCES.get(kind)
    context = f"{where}: {section} " if section else f"{where}: "
    if factory is None:
        raise ConfigError(
            f"{context}kind = {kind!r} is not a known source; "
            f"choose one of: {', '.join(known_kinds())}"
        )
    try:
        return factory(settings, base)
    except ConfigError as exc:
        raise ConfigError(f"{context}{exc}") from None


#: An event table's source factory: ``factory(setting, base, contract)`` -> a source whose
#: :meth:`Source.read` gives that table's rows as text cells under the contract's column names
#: (``setting`` is the table's value in ``[input.tables]``, ``base`` the pipeline's folder).
TableSourceFactory = Callable[[Any, Path, "TableContract"], Source]

#: The registry of event-table sources (contract section 6), by ``[input] kind``.
TABLE_SOURCES: dict[str, TableSourceFactory] = {}


def make_table_source(
    kind: str, setting: Any, base: Path, where: str, contract: TableContract
) -> Source:
    """The source of one event table named in ``[input.tables]``.

    Parameters
    ----------
    kind : str
        The pipeline's ``[input] kind``; a key of :data:`TABLE_SOURCES`.
    setting : object
        The table's value in ``[input.tables]`` (a file's path, for ``kind = "file"``).
    base : Path
        The folder relative paths are read from.
    where : str
        The pipeline file, for messages.
    contract : TableContract
        The event table's contract.

    Raises
    ------
    ConfigError
        A kind that reads no event tables, or a setting its factory cannot use (the message
        names the file and the table).
    """
    import imnm_cohort.sources.files  # noqa: F401  (registers "file")

    factory = TABLE_SOURCES.get(kind)
    if factory is None:
        raise ConfigError(
            f"{where}: [input.tables] is read for kind = "
            + " or ".join(f'"{k}"' for k in sorted(TABLE_SOURCES))
            + f' only, not kind = "{kind}"'
        )
    try:
        return factory(setting, base, contract)
    except ConfigError as exc:
        raise ConfigError(f"{where}: [input.tables] {contract.name}: {exc}") from None


def without_user(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``[input]`` settings as a manifest records them: a URL's user (and password) left
    out, keeping the scheme, host, port, path and query (contract section 7)."""
    from urllib.parse import urlsplit, urlunsplit

    out = dict(settings)
    for key, value in settings.items():
        if isinstance(value, str) and "://" in value:
            parts = urlsplit(value)
            if "@" in parts.netloc:
                host = parts.netloc.rsplit("@", 1)[1]
                out[key] = urlunsplit(parts._replace(netloc=host))
    return out


def slices(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """A frame in consecutive slices of ``rows`` rows, each indexed from 0 (one empty
    slice for an empty frame), keeping the frame's ``attrs`` (its cells' problems renumbered
    within each slice)."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    problems = frame.attrs.get(CELL_PROBLEMS, ())
    for start in range(0, max(len(frame), 1), rows):
        part = frame.iloc[start : start + rows].reset_index(drop=True)
        part.attrs = dict(frame.attrs)
        if problems:
            part.attrs[CELL_PROBLEMS] = tuple(
                (row - start, *rest) for row, *rest in problems if start <= row < start + rows
            )
        yield part
