"""Read a registry extract file into a frame of text, one row per input row.

The reader only gets the text of the cells; typing and rules come later
(:mod:`imnm_cohort.extract.coerce`, :mod:`imnm_cohort.extract.validate`). Every problem that
makes the whole file unusable raises :class:`~imnm_cohort.errors.ExtractError` with one line
that names the file and the problem.

Decisions (see ``docs/extract-format.md``):

* The format is chosen by suffix: ``.csv`` (UTF-8, with or without byte-order mark),
  ``.parquet``/``.pq`` and ``.xlsx`` (the first sheet).
* Header names are matched to contract columns ignoring case and surrounding spaces.
* A column whose value is required must be present; an absent optional column is read as
  empty everywhere and listed in the validation report.
* A file with a header but no data rows cannot be used: a scheduled report on an empty
  extract would hide a failed export.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from imnm_cohort.errors import ExtractError
from imnm_cohort.extract.schema import CONTRACT_COLUMNS, REQUIRED_COLUMNS

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx",)
_SNIFF_BYTES = 65_536
_ARROW_TEXT = {pa.string(): pd.StringDtype("pyarrow")}


def read_extract(path: str | Path) -> pd.DataFrame:
    """Read an extract file into a frame of text cells.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.parquet``/``.pq`` or ``.xlsx`` file, one row per patient.

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
    if not path.exists():
        raise ExtractError(f"{path}: file not found")
    if path.is_dir():
        raise ExtractError(f"{path}: is a folder, not an extract file")
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise ExtractError(f"{path}: file is empty")
    if suffix in CSV_SUFFIXES:
        frame = _read_csv(path)
    elif suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path)
    elif suffix in EXCEL_SUFFIXES:
        frame = _read_excel(path)
    else:
        raise ExtractError(
            f"{path}: unsupported file type '{suffix or '(none)'}'; use .csv, .parquet or .xlsx"
        )
    return _normalise(frame, path)


def _read_csv(path: Path) -> pd.DataFrame:
    header = _csv_header(path)
    names = [f"column_{i}" for i in range(len(header))]  # unique even if the header is not
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _csv_error(path, exc) from None
    frame = table.to_pandas(types_mapper=_ARROW_TEXT.get, self_destruct=True)
    frame.columns = pd.Index(header)
    return frame


def _csv_header(path: Path) -> list[str]:
    """The header row of a CSV file, after the checks that reject the whole file."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractError(f"{path}: is UTF-16 text; save the file as 'CSV UTF-8'")
    if b"\x00" in head:
        raise ExtractError(
            f"{path}: contains NUL bytes; this is a binary file, not a CSV text file"
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise ExtractError(_decode_message(path, exc)) from None
    except csv.Error as exc:
        raise ExtractError(f"{path}: the header row cannot be read as CSV ({exc})") from None
    if not header or all(not h.strip() for h in header):
        raise ExtractError(f"{path}: the first line is empty; expected a header row")
    _check_header(path, header)
    return header


def _csv_error(path: Path, exc: pa.ArrowInvalid) -> ExtractError:
    """Arrow's error reading a CSV file as the toolkit's one-line error."""
    detail = str(exc).strip().splitlines()[0][:200]
    if "utf8" in detail.lower():
        _locate_bad_utf8(path)  # raises with the offset of the first bad byte
        return ExtractError(f"{path}: is not UTF-8 text ({detail}); save the file as 'CSV UTF-8'")
    return ExtractError(f"{path}: not a well-formed CSV file ({detail})")


def _locate_bad_utf8(path: Path) -> None:
    """After Arrow found invalid UTF-8: decode in blocks to name the first bad byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            try:
                decoder.decode(block, final=len(block) < 1 << 24)
            except UnicodeDecodeError as exc:
                raise ExtractError(_decode_message(path, exc, offset)) from None
            offset += len(block)


def _decode_message(path: Path, exc: UnicodeDecodeError, offset: int = 0) -> str:
    byte = exc.object[exc.start : exc.start + 1].hex() if exc.object else "?"
    return (
        f"{path}: is not UTF-8 text (byte 0x{byte} at offset {offset + exc.start}); "
        "save the file as 'CSV UTF-8'"
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        _check_header(path, names)
        table = pq.read_table(path)
    except ExtractError:
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise ExtractError(f"{path}: cannot be read as Parquet ({_one_line(exc)})") from None
    # Typed columns stay typed (Arrow-backed): validation checks dates, booleans and
    # numbers as what they are instead of writing them out as text and parsing them again.
    frame = table.to_pandas(types_mapper=_arrow_backed, self_destruct=True)
    return frame.reset_index(drop=True)


def _arrow_backed(arrow_type: pa.DataType) -> pd.api.extensions.ExtensionDtype:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow")
    return pd.ArrowDtype(arrow_type)


def _read_excel(path: Path) -> pd.DataFrame:
    try:
        grid = pd.read_excel(path, sheet_name=0, engine="openpyxl", dtype=object, header=None)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError ... for bad files
        raise ExtractError(
            f"{path}: cannot be read as an .xlsx workbook ({_one_line(exc)})"
        ) from None
    if grid.empty:
        raise ExtractError(f"{path}: the first sheet is empty")
    header = ["" if pd.isna(v) else str(v) for v in grid.iloc[0]]
    _check_header(path, header)
    frame = grid.iloc[1:].reset_index(drop=True)
    frame.columns = pd.Index(header)
    return _to_text(frame)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _check_header(path: Path, header: list[str]) -> None:
    names = [str(h).strip() for h in header]
    lowered = [n.lower() for n in names]
    seen: set[str] = set()
    duplicates = sorted({n for n in lowered if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if duplicates:
        raise ExtractError(f"{path}: duplicated column(s) in the header: {', '.join(duplicates)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in lowered]
    if missing:
        hint = ""
        if len(names) == 1:
            for sep in (";", "\t", "|"):
                if sep in names[0]:
                    hint = f" (the header is one column; is the file delimited by {sep!r}?)"
                    break
        raise ExtractError(f"{path}: missing required column(s): {', '.join(missing)}{hint}")


def _to_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn typed cells (Excel) into the text the CSV reader would give."""
    frame = frame.reset_index(drop=True)
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            text = pd.Series(
                np.datetime_as_string(col.to_numpy(dtype="datetime64[D]"), unit="D"),
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
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _normalise(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    if len(frame) == 0:
        raise ExtractError(f"{path}: has a header but no data rows")
    rename = {}
    for name in frame.columns:
        key = str(name).strip().lower()
        if key in CONTRACT_COLUMNS and name != key:
            rename[name] = key
    frame = frame.rename(columns=rename)
    frame.index = pd.RangeIndex(len(frame))
    absent = [name for name in CONTRACT_COLUMNS if name not in frame.columns]
    for name in absent:
        frame[name] = pd.Series(None, index=frame.index, dtype=object)
    frame.attrs["absent_columns"] = absent
    return frame
