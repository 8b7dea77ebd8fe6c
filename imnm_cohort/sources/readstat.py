"""SPSS (``.sav``, ``.zsav``) and Stata (``.dta``) files, read through pyreadstat.

The stored codes are what a mapping's ``values`` maps (``1``, ``2``), not the value labels
(``Female``, ``Male``): labels can be edited in the source program without the data
changing, codes cannot. Whole-number columns are read as integers so that a code reads ``1``,
not ``1.0``. The value labels are kept in :func:`value_labels` for a drafted mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.errors import ExtractError


def _reader(path: Path) -> Any:
    import pyreadstat

    from imnm_cohort.sources.files import STATA_SUFFIXES

    return pyreadstat.read_dta if path.suffix.lower() in STATA_SUFFIXES else pyreadstat.read_sav


def read_readstat(path: Path) -> pd.DataFrame:
    """Read an SPSS or Stata file's stored values; whole-number columns as integers.

    Raises
    ------
    ExtractError
        When pyreadstat cannot read the file.
    """
    try:
        frame, _ = _reader(path)(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises its own ReadstatError, OSError, ...
        text = str(exc).strip().splitlines()
        detail = text[0][:200] if text else type(exc).__name__
        raise ExtractError(f"{path}: cannot be read as SPSS/Stata data ({detail})") from None
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_float_dtype(col):
            values = col.to_numpy(dtype=np.float64)
            known = values[~np.isnan(values)]
            if len(known) and np.all(np.mod(known, 1) == 0) and np.all(np.abs(known) < 2**53):
                frame[name] = col.astype("Int64")
    return frame


def value_labels(path: str | Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Variable labels and value labels of an SPSS or Stata file (metadata only).

    Returns
    -------
    labels : dict
        Column name -> variable label.
    values : dict
        Column name -> {stored code as text -> value label}.
    """
    path = Path(path)
    try:
        _, meta = _reader(path)(str(path), metadataonly=True)
    except Exception as exc:  # as in read_readstat
        raise ExtractError(f"{path}: cannot be read as SPSS/Stata data ({exc})") from None
    labels = {n: str(lab) for n, lab in zip(meta.column_names, meta.column_labels, strict=True)}
    values = {
        name: {_code(k): str(v) for k, v in choices.items()}
        for name, choices in meta.variable_value_labels.items()
    }
    return labels, values


def _code(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
