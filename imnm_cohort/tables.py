"""Write patient-level tables (CSV or Parquet) safely.

* Values are written as an extract would hold them: dates ``YYYY-MM-DD``, booleans
  ``true``/``false``, empty cells for missing values, so an output can be read back.
* CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return, and not a number) are prefixed with ``'``; this is the usual
  defence against formula injection when a data manager opens the file in a spreadsheet.
* Files are written to a temporary name beside the target and renamed into place, so a reader
  never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

_FORMULA_START = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with dates, booleans and categories as the text an extract holds."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            out[name] = col.astype(object)
        elif pd.api.types.is_datetime64_any_dtype(col):
            values = col.to_numpy(dtype="datetime64[D]")
            text = np.datetime_as_string(values, unit="D").astype(object)
            text[np.isnat(values)] = None
            out[name] = pd.Series(text, index=col.index)
        elif pd.api.types.is_bool_dtype(col):
            out[name] = col.map({True: "true", False: "false"}).astype(object)
        else:
            out[name] = col
    return pd.DataFrame(out, index=frame.index)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells a spreadsheet would evaluate as a formula."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if not pd.api.types.is_string_dtype(col.dtype):
            continue
        text = col.astype("string")
        risky = text.str.match(_FORMULA_START).fillna(False) & ~text.str.match(_NUMBER).fillna(
            False
        )
        if risky.any():
            out[name] = col.where(~risky.to_numpy(dtype=bool), "'" + text)
    return out


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
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{path}: output must end in .csv or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        if suffix == ".csv":
            neutralise_formulas(as_text(frame)).to_csv(tmp, index=False, lineterminator="\n")
        else:
            frame.reset_index(drop=True).to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file atomically (UTF-8)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
