"""Write patient-level tables (CSV or Parquet) safely.

* Values are written as an extract would hold them: dates ``YYYY-MM-DD``, booleans
  ``true``/``false``, empty cells for missing values, so an output can be read back.
* CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return, and not a number) are prefixed with ``'``; this is the usual
  defence against formula injection when a data manager opens the file in a spreadsheet.
  It applies to every text column, identifiers included, whatever the text's Arrow type
  (``string`` or ``large_string``). Writers of other spreadsheet or document formats call
  :func:`spreadsheet_safe` (one value) or :func:`spreadsheet_safe_column` (a column).
* Files are written to a temporary name beside the target and renamed into place, so a reader
  never sees half a file.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from imnm_cohort.errors import ConfigError, OutputError

#: Suffixes of the patient-level tables the toolkit writes (CSV or Parquet, by suffix).
TABLE_SUFFIXES = (".csv", ".parquet")
_FORMULA_START = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
#: Per byte value, whether :data:`_FORMULA_START` matches a text starting with that byte
#: (all ASCII: a UTF-8 text's first byte is one of them only when its first character is).
_FORMULA_BYTES = np.zeros(256, dtype=bool)
_FORMULA_BYTES[np.frombuffer(b"=+-@\t\r", dtype=np.uint8)] = True


def _arrow_column(col: pd.Series) -> pa.Array | pa.ChunkedArray:
    """One column as Arrow, with dates, booleans and categories as extract text."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        if _all_text(col.cat.categories):  # each category's text once, not each cell's
            return pc.cast(pa.array(col, from_pandas=True), pa.string())
        return pa.array(col.astype(object).to_numpy(), type=pa.string(), from_pandas=True)
    if pd.api.types.is_datetime64_any_dtype(col):
        stamps = pa.array(col.to_numpy(dtype="datetime64[ns]"), from_pandas=True)
        return pc.cast(pc.cast(stamps, pa.date32()), pa.string())  # ISO YYYY-MM-DD, fast
    if pd.api.types.is_bool_dtype(col):
        flags = pa.array(col.astype("boolean"), from_pandas=True)
        return pc.if_else(flags, "true", "false")
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        return pa.chunked_array(col.array.__arrow_array__())
    if pd.api.types.is_numeric_dtype(col):
        return pa.array(col.to_numpy(), from_pandas=True)
    if _all_text(col):  # already text: no copy through Python's str()
        return pa.array(col.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    text = col.astype(object)
    text = text.where(text.isna(), text.astype(str))
    return pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _all_text(values: pd.Series | pd.Index) -> bool:
    """Whether every present value is a Python ``str`` (missing values aside)."""
    return bool(values.dtype == object and pd.api.types.infer_dtype(values) == "string")


def spreadsheet_safe(value: str) -> str:
    """One cell's text with a leading ``'`` if a spreadsheet would run it as a formula."""
    if re.match(_FORMULA_START, value) and not re.match(_NUMBER, value):
        return "'" + value
    return value


def spreadsheet_safe_column(column: pd.Series) -> pd.Series:
    """A column with every formula-like text cell neutralised (other values unchanged)."""
    text = column.astype("string[pyarrow]")
    matched = text.str.match(_FORMULA_START) & ~text.str.match(_NUMBER)
    risky = matched.fillna(False).to_numpy(dtype=bool)
    if not risky.any():
        return column
    out = column.astype(object).copy()
    out[risky] = "'" + text[risky].astype(str)
    return out


def _starts_like_formula(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Per cell of a ``string`` column, ``pc.match_substring_regex(values, _FORMULA_START)``
    (null where the cell is null), read from each cell's first byte instead of running a
    regular expression over every cell (about 2 s on a million-row table)."""
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([_starts_chunk(c) for c in values.chunks], type=pa.bool_())
    return _starts_chunk(values)


def _starts_chunk(chunk: pa.Array) -> pa.Array:
    n = len(chunk)
    _, offsets, data = chunk.buffers()
    start = np.frombuffer(offsets, dtype=np.int32, count=n + 1, offset=4 * chunk.offset)
    text = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    nonempty = start[1:] > start[:-1]
    starts = np.zeros(n, dtype=bool)
    if len(text):
        starts[nonempty] = _FORMULA_BYTES[text[start[:-1][nonempty]]]
    nulls = chunk.is_null().to_numpy(zero_copy_only=False) if chunk.null_count else None
    return pa.array(starts, type=pa.bool_(), mask=nulls)


def _neutralise(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    if not pa.types.is_string(values.type):
        return values
    # The cheap test first: most columns have no cell starting like a formula, and then
    # the number pattern (the costly one) need not run at all.
    starts = _starts_like_formula(values)
    if not pc.any(starts).as_py():
        return values
    risky = pc.and_(starts, pc.invert(pc.match_substring_regex(values, _NUMBER)))
    if not pc.any(risky).as_py():
        return values
    return pc.if_else(risky, pc.binary_join_element_wise("'", values, ""), values)


def as_text(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table of extract text: dates ``YYYY-MM-DD``, booleans
    ``true``/``false``, categories as text, formula-like text neutralised (header names
    included: an extract's extra column may be named ``=cmd``)."""
    return pa.Table.from_arrays(
        [_neutralise(_arrow_column(frame.iloc[:, i])) for i in range(frame.shape[1])],
        names=[spreadsheet_safe(str(name)) for name in frame.columns],
    )


def _mode() -> int:
    """File mode from the process umask (mkstemp alone would make files private)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write_atomically(path: Path, write: Callable[[str], object]) -> Path:
    """``write(tmp)`` to a temporary name beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(tmp)
        os.chmod(tmp, _mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table to ``.csv`` or ``.parquet`` (by suffix), atomically.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its index is not written.
    path : str or Path
        Target file; parent folders are created.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ValueError
        For a suffix other than ``.csv`` or ``.parquet``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"{path}: output must end in {' or '.join(TABLE_SUFFIXES)}")

    def write(tmp: str) -> None:
        if suffix == ".csv":
            pacsv.write_csv(as_text(frame), tmp, pacsv.WriteOptions(quoting_style="needed"))
        else:
            frame.reset_index(drop=True).to_parquet(tmp, index=False)

    return _write_atomically(path, write)


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file atomically (UTF-8, ``\\n`` line ends)."""
    return write_bytes(text.encode("utf-8"), path)


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write a file atomically."""
    return _write_atomically(Path(path), lambda tmp: Path(tmp).write_bytes(data))


def write_failure(where: Path, exc: OSError) -> OutputError | ConfigError:
    """The one-line error for an output that could not be written."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        return ConfigError(f"{where}: is a file, not a folder; give a folder for the outputs")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ConfigError(f"{where}: cannot write to the output folder ({reason})")
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return OutputError(
            f"{where}: the disk is full or a file size limit was reached ({reason}); "
            "nothing was published"
        )
    return OutputError(
        f"{where}: the outputs could not be written ({reason}); nothing was published"
    )
