"""Read a registry extract file into a frame of text, one row per input row.

The reader only gets the text of the cells; typing and rules come later
(:mod:`imnm_cohort.contracts.coerce`, :mod:`imnm_cohort.validation.validate`). Every problem that
makes the whole file unusable raises :class:`~imnm_cohort.errors.ExtractError` with one line
that names the file and the problem.

Decisions (see ``docs/extract-format.md``):

* The format is chosen by suffix from the table of source files :data:`SOURCE_FILES`, the one
  home of the suffixes the toolkit reads:
  ``.csv`` (UTF-8, with or without byte-order mark, unless another encoding is declared),
  ``.parquet``/``.pq``, ``.xlsx`` (the first sheet), SPSS ``.sav`` and Stata ``.dta``
  (:mod:`imnm_cohort.sources.readstat`). A new source is one row of that table.
* Header names are matched to contract columns ignoring case and surrounding spaces; other
  columns keep their exact names (``site`` and ``Site`` are two columns). A blank header
  name is carried as ``column_<position>``; an extra column named like a column the toolkit
  adds (``imnm_group``, ``row_number``, ...) is carried under the prefix ``extract.``.
* A column whose value is required must be present; an absent optional column is read as
  empty everywhere and listed in the validation report.
* Rows with every cell empty at the end of the file (a spreadsheet's trailing ``,,,``) are
  not data rows. A NUL character anywhere makes the file unusable.
* Timezone-aware timestamps (Parquet) are read as their local calendar date, never shifted
  to UTC first.
* A file with a header but no data rows cannot be used: a scheduled report on an empty
  extract would hide a failed export.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from imnm_cohort.contracts.patients import CONTRACT_COLUMNS, REQUIRED_COLUMNS
from imnm_cohort.contracts.table import TableContract
from imnm_cohort.errors import ConfigError, ExtractError, one_line
from imnm_cohort.sources.base import CELL_PROBLEMS, SOURCES, TABLE_SOURCES, slices
from imnm_cohort.vocabulary import (
    CLASSIFICATION_COLUMNS,
    SCORED_CLASSIFIER_COLUMNS,
    VALIDATION_COLUMNS,
)

#: Columns the toolkit adds to its outputs (validation's, classification's and every scored
#: classifier's): an extract's own column of that name (in any case, with or without
#: surrounding spaces) is carried as ``extract.<name>``.
RESERVED_COLUMNS = (
    *VALIDATION_COLUMNS,
    *CLASSIFICATION_COLUMNS,
    *(column for columns in SCORED_CLASSIFIER_COLUMNS.values() for column in columns),
)
#: Every column a scored classifier adds starts with one of these: an extract's column that
#: does too is carried under the prefix as well (``eular_acr_2017_category``).
RESERVED_PREFIXES = tuple(f"{name}_" for name in SCORED_CLASSIFIER_COLUMNS)
EXTRA_PREFIX = "extract."
#: ``DataFrame.attrs`` key of the number of rows, every cell empty, that a reader left out
#: after the last data row (a spreadsheet's formatted empty rows, a CSV's ``,,,`` lines):
#: they are no patients, and are counted so that none goes unreported.
EMPTY_ROWS = "empty_rows"

_SNIFF_BYTES = 65_536
_BLOCK_BYTES = 1 << 24
_ARROW_TEXT = dict.fromkeys((pa.string(), pa.large_string()), pd.StringDtype("pyarrow"))


@dataclass(frozen=True)
class SourceOptions:
    """How to read a source file (a mapping file's ``[source]`` section sets these).

    Attributes
    ----------
    encoding : str or None
        A Python codec name for CSV text; None reads UTF-8 (with or without byte-order mark).
    delimiter : str
        The CSV field delimiter.
    required : tuple of str
        Columns the header must have (the contract's required columns for a section-1
        extract; none for an export read through a mapping, which checks its own).
    keep_types : bool
        Keep a Parquet file's typed columns (dates, booleans, numbers) as Arrow-backed typed
        columns instead of text; validation checks them as what they are.
    columns : tuple of str
        The table's contract columns, whose header names are matched ignoring case and
        surrounding spaces (the patient table's, or an event table's).
    """

    encoding: str | None = None
    delimiter: str = ","
    required: tuple[str, ...] = REQUIRED_COLUMNS
    keep_types: bool = False
    columns: tuple[str, ...] = CONTRACT_COLUMNS


#: A source reader: ``reader(path, options)`` returns the file's cells as text, one column
#: per file column under the file's own header names, index 0..n-1.
Reader = Callable[[Path, SourceOptions], pd.DataFrame]


def read_extract(path: str | Path) -> pd.DataFrame:
    """Read an extract file into a frame of text cells.

    Parameters
    ----------
    path : str or Path
        A file of a format in :data:`READERS` (``.csv``, ``.parquet``/``.pq``, ``.xlsx``,
        ``.sav``, ``.dta``), one row per patient.

    Returns
    -------
    pandas.DataFrame
        One column per file column (contract columns renamed to their contract names,
        absent optional contract columns added empty), values as ``str``, empty cells
        missing. The index is the
        0-based position of the row in the file's data rows.

    Raises
    ------
    ExtractError
        When the file cannot be used at all; nothing has been written.
    """
    path = Path(path)
    return normalise_extract(read_source(path, SourceOptions(keep_types=True)), path)


def read_table(path: str | Path, contract: TableContract) -> pd.DataFrame:
    """Read an event table's file (contract section 6) into a frame of text cells.

    The same formats and parsing as the patient table (:func:`read_extract`), with the
    table's own contract columns: their header names matched ignoring case and spaces, its
    required columns checked, absent optional ones added empty.

    Parameters
    ----------
    path : str or Path
        A file of a format in :data:`READERS`.
    contract : TableContract
        The table's contract (:data:`~imnm_cohort.contracts.events.EVENT_TABLES`).

    Raises
    ------
    ExtractError
        When the file cannot be used at all.
    """
    path = Path(path)
    columns = contract.column_names
    options = SourceOptions(required=contract.required, keep_types=True, columns=columns)
    return normalise_extract(read_source(path, options), path, columns)


def read_source(path: str | Path, options: SourceOptions | None = None) -> pd.DataFrame:
    """Read any source file into text cells under its own header, by the reader registry.

    Parameters
    ----------
    path : str or Path
        A file whose suffix is in :data:`READERS`.
    options : SourceOptions, optional
        Encoding, delimiter and required columns (defaults: UTF-8, comma, the contract's
        required columns).

    Returns
    -------
    pandas.DataFrame
        Text cells (``string[pyarrow]``), empty cells missing, index 0..n-1.

    Raises
    ------
    ExtractError
        When the file cannot be used at all.
    """
    path = Path(path)
    check_file(path)
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise ExtractError(
            f"{path}: unsupported file type '{suffix or '(none)'}'; use one of: {known}"
        )
    return reader(path, options or SourceOptions())


def _read_csv(path: Path, options: SourceOptions) -> pd.DataFrame:
    header = _csv_header(path, options)
    try:
        arrow_options = _csv_options(header, options, text=pa.large_string())
        # Blocks of 16 MB: columns in a few long chunks make every later kernel cheaper
        # (a regular expression is compiled once per chunk).
        arrow_options["read_options"].block_size = _BLOCK_BYTES  # type: ignore[attr-defined]
        table = pacsv.read_csv(path, **arrow_options)
    except UnicodeDecodeError:  # a declared encoding, transcoded by Python for Arrow
        _locate_bad_utf8(path, options.encoding or "utf-8-sig")
        raise
    except pa.ArrowInvalid as exc:
        raise _csv_error(path, exc, options) from None
    frame = table.to_pandas(types_mapper=_ARROW_TEXT.get, self_destruct=True)
    frame.columns = pd.Index(header)
    return frame


def _csv_header(path: Path, options: SourceOptions) -> list[str]:
    """The header row of a CSV file, after the checks that reject the whole file."""
    encoding = _text_encoding(options.encoding)
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if options.encoding is None and head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractError(f"{path}: is UTF-16 text; save the file as 'CSV UTF-8'")
    if options.encoding is None and b"\x00" in head:
        raise ExtractError(
            f"{path}: contains NUL bytes; this is a binary file, not a CSV text file"
        )
    if _codec(encoding) in _WIDE_CODECS:
        _refuse_nul_characters(path, encoding)
    else:
        _refuse_nul_bytes(path)
    try:
        with path.open(encoding=encoding, newline="") as handle:
            header = next(csv.reader(handle, delimiter=options.delimiter), None)
    except UnicodeDecodeError as exc:
        raise ExtractError(_decode_message(path, exc, encoding=encoding)) from None
    except csv.Error as exc:
        raise ExtractError(f"{path}: the header row cannot be read as CSV ({exc})") from None
    if not header or all(not h.strip() for h in header):
        raise ExtractError(f"{path}: the first line is empty; expected a header row")
    _check_header(path, header, options.required, options.columns)
    return header


def _csv_options(
    header: list[str],
    options: SourceOptions,
    include: list[str] | None = None,
    text: pa.DataType | None = None,
) -> dict[str, object]:
    """Arrow's options for the data rows: every cell as text, empty cells missing.

    The whole-file reader asks for ``large_string``, the storage of pandas' Arrow-backed
    strings, so that the frame wraps Arrow's columns without copying them.
    """
    names = [f"column_{i}" for i in range(len(header))]  # unique even if the header is not
    return {
        "read_options": pacsv.ReadOptions(
            column_names=names, skip_rows=1, encoding=options.encoding or "utf8"
        ),
        "parse_options": pacsv.ParseOptions(delimiter=options.delimiter, newlines_in_values=True),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, text or pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            include_columns=include,
        ),
    }


def _csv_error(path: Path, exc: pa.ArrowInvalid, options: SourceOptions) -> ExtractError:
    """Arrow's error reading a CSV file as the toolkit's one-line error."""
    detail = str(exc).strip().splitlines()[0][:200]
    if "utf8" in detail.lower() and options.encoding is None:
        _locate_bad_utf8(path)  # raises with the offset of the first bad byte
        return ExtractError(f"{path}: is not UTF-8 text ({detail}); save the file as 'CSV UTF-8'")
    return ExtractError(f"{path}: not a well-formed CSV file ({detail})")


#: Codecs that write every character in two or four bytes: a NUL byte is part of most
#: characters, so the text, not the bytes, is searched for a NUL character.
_WIDE_CODECS = frozenset(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"))


def _codec(encoding: str) -> str:
    """The codec's canonical name (``UTF8`` and ``utf_8`` are ``utf-8``)."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding.lower()


def _text_encoding(declared: str | None) -> str:
    """The codec that reads a CSV file's text: UTF-8 skips a byte-order mark, declared or
    not (a BOM glued to the first header name would hide the column)."""
    if declared is None or _codec(declared) == "utf-8":
        return "utf-8-sig"
    return declared


def _refuse_nul_characters(path: Path, encoding: str) -> None:
    """A NUL character anywhere in a file of a two- or four-byte encoding (UTF-16, UTF-32)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines_before = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            try:
                text = decoder.decode(block, final=len(block) < 1 << 24)
            except UnicodeDecodeError as exc:
                raise ExtractError(_decode_message(path, exc, lines_before, encoding)) from None
            at = text.find("\x00")
            if at >= 0:
                line = lines_before + text.count("\n", 0, at) + 1
                raise ExtractError(
                    f"{path}: contains a NUL character on line {line}; this is not a CSV text file"
                )
            lines_before += text.count("\n")


def _refuse_nul_bytes(path: Path) -> None:
    """A NUL byte anywhere in a CSV file (not only its first block) makes it unusable."""
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            at = block.find(b"\x00")
            if at >= 0:
                raise ExtractError(
                    f"{path}: contains a NUL byte at offset {offset + at}; "
                    "this is not a CSV text file"
                )
            offset += len(block)


def _locate_bad_utf8(path: Path, encoding: str = "utf-8") -> None:
    """After Arrow found invalid text: decode in blocks to name the line of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines_before = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            try:
                decoder.decode(block, final=len(block) < 1 << 24)
            except UnicodeDecodeError as exc:
                raise ExtractError(_decode_message(path, exc, lines_before, encoding)) from None
            lines_before += block.count(b"\n")


def _decode_message(
    path: Path,
    exc: UnicodeDecodeError,
    lines_before: int = 0,
    encoding: str = "utf-8",
    advice: str = "save the file as 'CSV UTF-8', or declare its encoding in a mapping file "
    "([source] encoding)",
) -> str:
    """Name the line (1 = the header) and data row of the bad byte, not its byte offset."""
    data = exc.object or b""
    byte = data[exc.start : exc.start + 1].hex() if data else "?"
    line = lines_before + data.count(b"\n", 0, exc.start) + 1
    where = "the header line" if line == 1 else f"line {line}, data row {line - 1}"
    if encoding.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig"):
        return f"{path}: is not UTF-8 text (byte 0x{byte} on {where}); {advice}"
    return f"{path}: cannot be decoded as {encoding} (byte 0x{byte} on {where})"


def not_utf8_message(path: Path, exc: UnicodeDecodeError, advice: str) -> str:
    """One line for a small text file that is not UTF-8: its line and row, and ``advice``
    (``exc`` must come from decoding the whole file at once)."""
    return _decode_message(path, exc, advice=advice)


def _read_parquet(path: Path, options: SourceOptions) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        _check_header(path, schema.names, options.required, options.columns)
        refuse_nested_columns(path, schema)
        table = pq.read_table(path)
    except ExtractError:
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise ExtractError(f"{path}: cannot be read as Parquet ({one_line(exc)})") from None
    table = bytes_as_text(table, path)
    if not options.keep_types:
        # Whole numbers stay whole (a 64-bit id above 2**53 keeps every digit): pandas'
        # nullable integers, not floats, for a column with empty cells.
        frame = _to_text(table.to_pandas(types_mapper=_nullable_integers))
    else:
        # Typed columns stay typed (Arrow-backed): validation checks dates, booleans and
        # numbers as what they are instead of writing them out as text and parsing them again.
        frame = table.to_pandas(types_mapper=_arrow_backed, self_destruct=True)
        frame = frame.reset_index(drop=True)
    _refuse_nul_cells(frame, path)
    return frame


def refuse_nested_columns(path: Path, schema: pa.Schema) -> None:
    """A Parquet column of lists, structs or maps holds several values per cell, where an
    extract holds one: the file is refused, naming the column and its type."""
    for field in schema:
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_nested(kind):
            raise ExtractError(
                f"{path}: column '{field.name}' holds {_nested_words(kind)} "
                f"values (Parquet type {str(field.type)[:80]}); an extract holds one value "
                "per cell: write the column as text or split it into columns"
            )


def _nested_words(kind: pa.DataType) -> str:
    if pa.types.is_struct(kind):
        return "struct"
    if pa.types.is_map(kind):
        return "map"
    return "nested" if pa.types.is_union(kind) else "list"


def bytes_as_text(table: pa.Table, path: Path | str) -> pa.Table:
    """Binary Parquet columns (ids written as bytes) as UTF-8 text; bytes that are not UTF-8
    make the file unusable, naming the column and the first such row."""
    for i, field in enumerate(table.schema):
        kind = field.type
        if not (
            pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
            or pa.types.is_fixed_size_binary(kind)
        ):
            continue
        column = table.column(i)
        try:
            text = pc.cast(column, pa.large_string())
        except pa.ArrowInvalid:
            row = next(
                n for n, v in enumerate(column.to_pylist(), 1) if v is not None and not _utf8(v)
            )
            raise ExtractError(
                f"{path}: column '{field.name}' holds bytes that are not UTF-8 text (data row "
                f"{row}); write it as text"
            ) from None
        table = table.set_column(i, field.name, text)
    return table


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _nullable_integers(arrow_type: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    if pa.types.is_unsigned_integer(arrow_type):
        return pd.UInt64Dtype()
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    return None


def _arrow_backed(arrow_type: pa.DataType) -> pd.api.extensions.ExtensionDtype:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow")
    return pd.ArrowDtype(arrow_type)


def _read_excel(path: Path, options: SourceOptions) -> pd.DataFrame:
    from imnm_cohort.sources.xlsx import data_problems, read_xlsx

    cells, problems = read_xlsx(path)
    width = max(map(len, cells), default=0)
    grid = pd.DataFrame([row + [None] * (width - len(row)) for row in cells], dtype=object)
    rows = len(grid)
    grid = _without_blank_tail(grid)
    if grid.empty:
        raise ExtractError(f"{path}: the first sheet is empty")
    header = ["" if pd.isna(v) else str(v) for v in grid.iloc[0]]
    _check_header(path, header, options.required, options.columns)
    frame = grid.iloc[1:].reset_index(drop=True)
    names = _name_columns(pd.Index(header))
    frame.columns = pd.Index(names)
    frame = _to_text(frame)
    _refuse_nul_cells(frame, path)
    frame.attrs[CELL_PROBLEMS] = data_problems(problems, names, len(frame))
    frame.attrs[EMPTY_ROWS] = rows - len(grid)
    return frame


def _without_blank_tail(grid: pd.DataFrame) -> pd.DataFrame:
    """Drop the rows below the last row with a visible value (a stray space is not a row)."""
    blank = grid.isna() | grid.map(lambda v: isinstance(v, str) and not v.strip())
    filled = np.flatnonzero(~blank.all(axis=1).to_numpy())
    return grid.iloc[: filled[-1] + 1] if len(filled) else grid.iloc[:0]


def _check_header(
    path: Path | str,
    header: list[str],
    required: tuple[str, ...] = REQUIRED_COLUMNS,
    columns: tuple[str, ...] = CONTRACT_COLUMNS,
) -> None:
    names = [str(h).strip() for h in header]
    lowered = [n.lower() for n in names]
    # Only contract columns are matched ignoring case and spaces; other names are compared
    # exactly, and blank ones are named by position (see _name_columns).
    keys = [low if low in columns else str(h) for low, h in zip(lowered, header, strict=True)]
    seen: set[str] = set()
    duplicates = sorted(
        {k for k in keys if k.strip() and (k in seen or seen.add(k))}  # type: ignore[func-returns-value]
    )
    if duplicates:
        raise ExtractError(f"{path}: duplicated column(s) in the header: {', '.join(duplicates)}")
    missing = [c for c in required if c not in lowered]
    if missing:
        hint = ""
        if len(names) == 1:
            for sep in (";", "\t", "|"):
                if sep in names[0]:
                    hint = f" (the header is one column; is the file delimited by {sep!r}?)"
                    break
        raise ExtractError(f"{path}: missing required column(s): {', '.join(missing)}{hint}")


def _to_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn typed cells (Parquet, Excel) into the text the CSV reader would give."""
    frame = frame.reset_index(drop=True)
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            text = pd.Series(
                np.datetime_as_string(_local_dates(col), unit="D"),
                index=col.index,
                dtype=object,
            )
            out[name] = text.where(col.notna(), None)
        elif pd.api.types.is_bool_dtype(col):
            out[name] = col.map({True: "true", False: "false"}).astype(object)
        elif pd.api.types.is_numeric_dtype(col):
            out[name] = (
                col.astype(object)
                .where(col.notna(), None)
                .map(
                    lambda v: None if v is None else repr(v) if isinstance(v, float) else str(v),
                    na_action="ignore",
                )
            )
        else:
            out[name] = col.map(_cell_text, na_action="ignore").astype(object)
        out[name] = out[name].astype(_ARROW_TEXT[pa.string()])
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _cell_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, dt.datetime):  # a date cell with a time of day is still a date
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _local_dates(col: pd.Series) -> np.ndarray:
    """Calendar dates of timestamps; a timezone-aware one gives its local date, not UTC's."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        col = col.dt.tz_localize(None)
    stamps = np.asarray(col.to_numpy(dtype="datetime64[ns]"))
    # Integer floor division: numpy's own cast to days overflows near 1677.
    days = (stamps.view(np.int64) // np.int64(86_400_000_000_000)).view("datetime64[D]")
    days[np.isnat(stamps)] = np.datetime64("NaT")
    return days


def _never_blank_text(col: pd.Series) -> bool:
    """Whether a present value of this column always reads as some text (a number, a
    date, a duration or a truth value), so that only a missing one is a blank cell."""
    return bool(
        pd.api.types.is_numeric_dtype(col)
        or pd.api.types.is_datetime64_any_dtype(col)
        or pd.api.types.is_timedelta64_dtype(col)
    )


def _drop_trailing_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with every cell empty at the end of the file are not data rows."""
    end = len(frame)
    while end > 0 and frame.shape[1]:  # usually one look at the last rows is enough
        start = max(0, end - 1024)
        chunk = frame.iloc[start:end]
        blank = np.ones(len(chunk), dtype=bool)
        for i in range(chunk.shape[1]):
            col = chunk.iloc[:, i]
            if _never_blank_text(col):  # a number, date or truth value: blank if missing
                blank &= col.isna().to_numpy(dtype=bool)
            else:
                text = col.astype("string").str.strip()
                blank &= (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
            if not blank[-1]:  # the last row holds data: nothing to drop
                break
        if not blank.all():
            end = start + int(np.flatnonzero(~blank)[-1]) + 1
            break
        end = start
    return frame if end == len(frame) else frame.iloc[:end]


def _name_columns(columns: pd.Index) -> list[str]:
    """Blank header names become ``column_<position>``; extra columns named like a column
    the toolkit adds get the ``extract.`` prefix (repeated until the name is free)."""
    names = [str(c) if str(c).strip() else f"column_{i + 1}" for i, c in enumerate(columns)]
    return carried_names(names)


def carried_names(names: list[str]) -> list[str]:
    """The names under which extra columns are carried: a name the toolkit's outputs use
    (:func:`is_reserved`) gets the ``extract.`` prefix, repeated until the name is free;
    every other name is kept."""
    taken = set(names)
    out = []
    for name in names:
        if is_reserved(name):
            new = EXTRA_PREFIX + name
            while new in taken:
                new = EXTRA_PREFIX + new
            taken.add(new)
            name = new
        out.append(name)
    return out


def shown_names(names: list[str]) -> tuple[list[str], str]:
    """The names a database table's columns are read under, as a file's header is: a
    contract column's name trimmed and in lower case, a blank name ``column_<i>``, an
    output's name carried (:func:`carried_names`); and a name none of them has, for the row
    number."""
    from imnm_cohort.contracts.patients import CONTRACT_COLUMNS

    blank_named = [n if n.strip() else f"column_{i + 1}" for i, n in enumerate(names)]
    shown = [
        n.strip().lower() if n.strip().lower() in CONTRACT_COLUMNS else n
        for n in carried_names(blank_named)
    ]
    row = "_imnm_row_number"
    while row in shown:
        row = "_" + row
    return shown, row


def is_reserved(name: str) -> bool:
    """Whether an extract's column name is one the toolkit's outputs use (any case, spaces
    around it ignored): a column the toolkit adds, or a scored classifier's ``<name>_*``."""
    key = str(name).strip().lower()
    return key in RESERVED_COLUMNS or key.startswith(RESERVED_PREFIXES)


def empty_rows_skipped(n: int) -> str:
    """The words for ``n`` empty rows left out after the last data row (:data:`EMPTY_ROWS`)."""
    return (
        f"{n} empty row{'s' if n != 1 else ''} (every cell empty) after the last data row skipped"
    )


def _refuse_nul_cells(frame: pd.DataFrame, path: Path | str) -> None:
    """A NUL character in a cell (Parquet, Excel) makes the file unusable."""
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
            # An Arrow kernel on the Arrow-backed text, without copying it to Python strings.
            found = pc.match_substring(pa.chunked_array(col.array.__arrow_array__()), "\x00")
            hit = np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), bool)
        elif col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            text = col.astype("string").str.contains("\x00", regex=False)
            hit = text.fillna(False).to_numpy(dtype=bool)
        else:
            continue
        if hit.any():
            row = int(np.flatnonzero(hit)[0]) + 1
            raise ExtractError(
                f"{path}: column '{name}' holds a NUL character (data row {row}); "
                "the file is damaged"
            )


def normalise_extract(
    frame: pd.DataFrame, path: Path | str, columns: tuple[str, ...] = CONTRACT_COLUMNS
) -> pd.DataFrame:
    problems = frame.attrs.get(CELL_PROBLEMS)
    read_names = list(frame.columns)
    rows, empty = len(frame), int(frame.attrs.get(EMPTY_ROWS, 0))
    frame = _drop_trailing_blank_rows(frame)
    if len(frame) == 0:
        raise ExtractError(f"{path}: has a header but no data rows")
    frame.columns = pd.Index(_name_columns(frame.columns))
    rename = {}
    for name in frame.columns:
        key = str(name).strip().lower()
        if key in columns and name != key:
            rename[name] = key
    frame = frame.rename(columns=rename)
    frame.index = pd.RangeIndex(len(frame))
    absent = [name for name in columns if name not in frame.columns]
    for name in absent:
        frame[name] = pd.Series(None, index=frame.index, dtype=object)
    frame.attrs["absent_columns"] = absent
    frame.attrs[EMPTY_ROWS] = empty + rows - len(frame)
    if problems:  # the cells' problems under the columns' final names
        names = dict(zip(read_names, frame.columns, strict=False))
        frame.attrs[CELL_PROBLEMS] = tuple(
            (row, names[column], rule, value)
            for row, column, rule, value in problems
            if row < len(frame)
        )
    return frame


def _readstat(path: Path, options: SourceOptions) -> pd.DataFrame:
    from imnm_cohort.sources.readstat import read_readstat

    frame = read_readstat(path)
    _check_header(path, [str(c) for c in frame.columns], options.required, options.columns)
    return _to_text(frame)


@dataclass(frozen=True)
class FileKind:
    """A kind of source file.

    Attributes
    ----------
    name : str
        ``csv``, ``parquet``, ``xlsx``, ``spss`` or ``stata``.
    reader : Reader
        Reads the whole file (:func:`read_source`).
    batched : bool
        The batched engine can read it a block of rows at a time.
    """

    name: str
    reader: Reader
    batched: bool = False


_CSV = FileKind("csv", _read_csv, batched=True)
_PARQUET = FileKind("parquet", _read_parquet, batched=True)
_SPSS = FileKind("spss", _readstat)

#: The one table of source files, by suffix (lower case): every suffix the toolkit reads.
SOURCE_FILES: dict[str, FileKind] = {
    ".csv": _CSV,
    ".parquet": _PARQUET,
    ".pq": _PARQUET,
    ".xlsx": FileKind("xlsx", _read_excel),
    ".sav": _SPSS,
    ".zsav": _SPSS,
    ".dta": FileKind("stata", _readstat),
}
#: The registry of source readers, by file suffix (from :data:`SOURCE_FILES`).
READERS: dict[str, Reader] = {suffix: kind.reader for suffix, kind in SOURCE_FILES.items()}


def suffixes_of(kind: str) -> tuple[str, ...]:
    """The suffixes of one kind of source file (``suffixes_of("parquet")``)."""
    return tuple(suffix for suffix, k in SOURCE_FILES.items() if k.name == kind)


CSV_SUFFIXES = suffixes_of("csv")
PARQUET_SUFFIXES = suffixes_of("parquet")
EXCEL_SUFFIXES = suffixes_of("xlsx")
STATA_SUFFIXES = suffixes_of("stata")
#: Suffixes the batched engine reads a block at a time (CSV and Parquet).
BATCHED_SUFFIXES = tuple(suffix for suffix, kind in SOURCE_FILES.items() if kind.batched)
#: A REDCap data dictionary may also be a macro-enabled workbook.
WORKBOOK_SUFFIXES = (*EXCEL_SUFFIXES, ".xlsm")


# ---------------------------------------------------------------------------------------
# The batch API: a CSV or Parquet extract read in frames of rows, and single columns read
# alone, with the whole-file reader's checks and messages.

_EXTRACT = SourceOptions(keep_types=True)


def check_file(path: Path) -> None:
    """The whole-file reader's first checks, which need no reading: the file exists, is not
    a folder and is not empty.

    Raises
    ------
    ExtractError
    """
    if not path.exists():
        raise ExtractError(f"{path}: file not found")
    if path.is_dir():
        raise ExtractError(f"{path}: is a folder, not an extract file")
    if path.stat().st_size == 0:
        raise ExtractError(f"{path}: file is empty")


def read_batches(path: str | Path, rows: int) -> Iterator[pd.DataFrame]:
    """An extract in frames of about ``rows`` rows, each as :func:`read_extract` gives a
    file (only the blank rows at the end of the file are left out).

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet``/``.pq`` extract.
    rows : int
        Rows per frame (at least 1).

    Raises
    ------
    ExtractError
        When the file cannot be used; the frames read before a damaged part have been given.
    """
    path = Path(path)
    check_file(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        frames = _csv_batches(path, rows)
    elif suffix in PARQUET_SUFFIXES:
        frames = _parquet_batches(path, rows)
    else:
        raise ExtractError(f"{path}: batched reading takes .csv or .parquet files, not '{suffix}'")
    return (normalise_extract(frame, path) for frame in blank_tail_held_back(frames))


def read_columns(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """Contract columns of a CSV or Parquet extract read alone, as text, one row per row of
    the file (blank rows at its end included: finding them takes every column).

    Raises
    ------
    ExtractError
        When the file cannot be used.
    """
    path = Path(path)
    check_file(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        try:
            names = pq.ParquetFile(path).schema_arrow.names
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise ExtractError(f"{path}: cannot be read as Parquet ({one_line(exc)})") from None
        _check_header(path, names, _EXTRACT.required)
        chosen = [_named(names, column, path) for column in columns]
        table = bytes_as_text(pq.read_table(path, columns=chosen), path)
        arrays = [c if pa.types.is_string(c.type) else pc.cast(c, pa.string()) for c in table]
    elif path.suffix.lower() in CSV_SUFFIXES:
        header = _csv_header(path, _EXTRACT)
        positions = [header.index(_named(header, column, path)) for column in columns]
        reader = _csv_reader(path, header, include=[f"column_{i}" for i in positions])
        batches = list(_arrow_errors(path, reader))
        arrays = [
            pa.chunked_array([b.column(i) for b in batches], type=pa.string())
            for i in range(len(positions))
        ]
    else:
        raise ExtractError(
            f"{path}: batched reading takes .csv or .parquet files, not '{path.suffix.lower()}'"
        )
    table = pa.table(dict(zip(columns, arrays, strict=True)))
    return table.to_pandas(types_mapper=_arrow_backed)


def _named(names: Sequence[str], column: str, path: Path) -> str:
    """The file's own name of a contract column (matched ignoring case and spaces)."""
    for name in names:
        if str(name).strip().lower() == column:
            return str(name)
    raise ExtractError(f"{path}: missing required column(s): {column}")


def blank_tail_held_back(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Hold each batch's trailing blank rows back for the next one, so that only the blank
    rows at the end of the file are left out, as the whole-file reader leaves them out."""
    carry: pd.DataFrame | None = None
    yielded = False
    for frame in frames:
        if carry is not None and len(carry):
            frame = pd.concat([carry, frame], ignore_index=True)
        kept = _drop_trailing_blank_rows(frame)
        carry = frame.iloc[len(kept) :]
        if len(kept):
            yielded = True
            yield kept.reset_index(drop=True)
    if not yielded and carry is not None:
        yield carry  # nothing but blank rows: rejected as a file without data rows


def _csv_reader(
    path: Path, header: list[str], include: list[str] | None = None
) -> pacsv.CSVStreamingReader:
    """A streaming reader over the data rows, with the whole-file reader's options."""
    options = _csv_options(header, _EXTRACT, include)
    options["read_options"].block_size = _BLOCK_BYTES  # type: ignore[attr-defined]
    return pacsv.open_csv(path, **options)


def _csv_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    header = _csv_header(path, _EXTRACT)
    schema = pa.schema([(f"column_{i}", pa.string()) for i in range(len(header))])
    pending: list[pa.RecordBatch] = []
    rows, yielded = 0, False
    for batch in _arrow_errors(path, _csv_reader(path, header)):
        pending.append(batch)
        rows += batch.num_rows
        while rows >= batch_rows:
            table = pa.Table.from_batches(pending, schema=schema)
            yield _batch_frame(table.slice(0, batch_rows), header)
            yielded = True
            rest = table.slice(batch_rows)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows or not yielded:  # the rest, or a file without data rows (rejected there)
        yield _batch_frame(pa.Table.from_batches(pending, schema=schema), header)


def _arrow_errors(path: Path, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Arrow's errors in the middle of a file as the toolkit's one-line ExtractError."""
    try:
        yield from batches
    except pa.ArrowInvalid as exc:
        raise _csv_error(path, exc, _EXTRACT) from None


def _batch_frame(table: pa.Table, header: list[str]) -> pd.DataFrame:
    frame = table.to_pandas(types_mapper=_arrow_backed)
    frame.columns = pd.Index(header)
    return frame


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise ExtractError(f"{path}: cannot be read as Parquet ({one_line(exc)})") from None
    _check_header(path, parquet.schema_arrow.names, _EXTRACT.required)
    refuse_nested_columns(path, parquet.schema_arrow)
    empty = True
    for batch in parquet.iter_batches(batch_size=batch_rows):
        empty = False
        table = bytes_as_text(pa.Table.from_batches([batch]), path)
        frame = table.to_pandas(types_mapper=_arrow_backed)
        frame = frame.reset_index(drop=True)
        _refuse_nul_cells(frame, path)
        yield frame
    if empty:
        raise ExtractError(f"{path}: has a header but no data rows")


# ---------------------------------------------------------------------------------------
# Rows from elsewhere: an extract's cells that another source fetched as an Arrow table.


def check_header(
    name: str, header: Sequence[str], required: tuple[str, ...] = REQUIRED_COLUMNS
) -> None:
    """An extract's header checks, for a source that is not a file: every ``required``
    contract column present (names matched ignoring case and spaces), none duplicated.

    Raises
    ------
    ExtractError
        Naming ``name`` and the missing or duplicated columns.
    """
    _check_header(name, [str(h) for h in header], required)


def extract_from_arrow(table: pa.Table, name: str) -> pd.DataFrame:
    """An extract's cells fetched from elsewhere as Arrow text (a Spark table's rows, cast
    to text where they are) as :func:`read_extract` gives a file of the same cells.

    The header is checked, binary columns become UTF-8 text, a NUL character is refused,
    contract columns take their contract names, absent optional ones are added empty and
    the blank rows at the end are left out; messages name ``name``.

    Raises
    ------
    ExtractError
        When the rows cannot be used (no data rows, a required column missing, ...).
    """
    check_header(name, table.schema.names)
    table = bytes_as_text(table, name)
    frame = table.to_pandas(types_mapper=_arrow_backed, self_destruct=True)
    _refuse_nul_cells(frame, name)
    return normalise_extract(frame, name)


def columns_from_arrow(table: pa.Table) -> pd.DataFrame:
    """Single columns fetched from elsewhere as Arrow text, as :func:`read_columns` gives
    them (Arrow-backed text, index 0..n-1)."""
    return table.to_pandas(types_mapper=_arrow_backed)


# ---------------------------------------------------------------------------------------
# The file source: ``[input] kind = "file"``.


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class _OneFile:
    """What a source read from one file says of itself: its name, label, fingerprint and
    manifest record (shared by :class:`FileSource` and :class:`TableFile`)."""

    path: Path

    @property
    def name(self) -> str:
        """The path (messages name it)."""
        return str(self.path)

    @property
    def label(self) -> str:
        """The file's name."""
        return self.path.name

    def fingerprint(self) -> str:
        """The file's SHA-256.

        Raises
        ------
        ExtractError
            The file is missing.
        """
        if not self.path.is_file():
            raise ExtractError(f"{self.path}: file not found")
        return sha256_of(self.path)

    def describe(self) -> dict[str, Any]:
        """``{"file": <name>}``: the manifest's record of a file, beside its SHA-256."""
        return {"file": self.label}


@dataclass(frozen=True)
class FileSource(_OneFile):
    """A registry extract in a file, read by its suffix (:data:`READERS`).

    Attributes
    ----------
    path : Path
        The file, as given.
    options : SourceOptions or None
        None for a section-1 extract (:func:`read_extract`); a mapping file's ``[source]``
        settings for a site's own export, which :meth:`read_export` reads under its own
        column names.
    """

    path: Path
    options: SourceOptions | None = None
    kind: ClassVar[str] = "file"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], base: Path) -> FileSource:
        """``[input] path = "..."`` (or ``extract``, its older name), relative to ``base``.

        Raises
        ------
        ConfigError
            No path, both names, an unknown key or a path that is not text.
        """
        unknown = sorted(set(settings) - {"path", "extract"})
        if unknown:
            raise ConfigError(
                f"unknown key '{unknown[0]}' for kind = \"file\"; known keys: path, mapping"
            )
        given = [k for k in ("path", "extract") if k in settings]
        if len(given) != 1:
            raise ConfigError(
                'give the file as path = "..."' if not given else "give path or extract, not both"
            )
        value = settings[given[0]]
        if not isinstance(value, str):
            raise ConfigError(f"{given[0]} must be str, not {type(value).__name__} ({value!r})")
        return cls((base / value).resolve())

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The extract (:func:`read_extract`), or some of its columns
        (:func:`read_columns`)."""
        if columns is not None:
            return read_columns(self.path, columns)
        return read_extract(self.path)

    def read_export(self, options: SourceOptions) -> pd.DataFrame:
        """The file's cells under its own header (:func:`read_source`), for a mapping."""
        return read_source(self.path, options)

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """Frames of ``rows`` rows streamed from a CSV or Parquet file
        (:func:`read_batches`)."""
        return read_batches(self.path, rows)


SOURCES["file"] = FileSource.from_settings


@dataclass(frozen=True)
class TableFile(_OneFile):
    """An event table (contract section 6) in a file, read by its suffix
    (:func:`read_table`): the source of one ``[input.tables]`` entry of ``kind = "file"``.

    Attributes
    ----------
    path : Path
        The file.
    contract : TableContract
        The table's contract.
    """

    path: Path
    contract: TableContract
    kind: ClassVar[str] = "file"

    @classmethod
    def from_setting(cls, setting: Any, base: Path, contract: TableContract) -> TableFile:
        """``NAME = "path"`` in ``[input.tables]``, relative to ``base``.

        Raises
        ------
        ConfigError
            A setting that is not text, or a path that is no file.
        """
        if not isinstance(setting, str):
            raise ConfigError(
                f"give the file as a path (text), not {type(setting).__name__} ({setting!r})"
            )
        path = (base / setting).resolve()
        if not path.is_file():
            raise ConfigError(f"{setting!r}: no such file ({path})")
        return cls(path, contract)

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The table's rows (:func:`read_table`), or some of its columns."""
        frame = read_table(self.path, self.contract)
        return frame if columns is None else frame[list(columns)]

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`read` in slices of ``rows`` rows."""
        return slices(self.read(), rows)


TABLE_SOURCES["file"] = TableFile.from_setting
