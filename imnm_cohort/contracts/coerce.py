"""Turn the text of an extract into typed columns, whole columns at a time.

Each contract column is parsed by its kind
(:attr:`~imnm_cohort.contracts.table.TableContract.kinds`) with Arrow compute kernels, so a
million rows take seconds, not minutes. A cell that cannot
be parsed becomes missing in the typed frame and is reported as a failure with one of the
codes in :data:`~imnm_cohort.contracts.patients.PARSE_RULES`; the schema then checks the typed
values. Extra columns are carried through as they were read, untouched.

Text columns come out as Arrow-backed pandas strings (``string[pyarrow]``), dates as
``datetime64[ns]``, booleans as ``boolean`` and numbers as ``float64``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from imnm_cohort.contracts.patients import DATE_RANGE as _DATE_RANGE_TEXT
from imnm_cohort.contracts.patients import PATIENTS

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
FAILURE_COLUMNS = ("index", "column", "rule", "value")
NUMBER_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
ISO_DATE = "%Y-%m-%d"
ISO_DATE_SHAPE = r"^\d{4}-\d{2}-\d{2}$"
TEXT = pd.StringDtype("pyarrow")
DATE_RANGE = tuple(np.datetime64(day, "D") for day in _DATE_RANGE_TEXT)
OUT_OF_RANGE = "date_out_of_range"


def coerce_extract(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse the patient table's columns (:func:`coerce_table` with the patient contract)."""
    return coerce_table(raw, PATIENTS.kinds, PATIENTS.empty_values)


def coerce_table(
    raw: pd.DataFrame, kinds: Mapping[str, str], empty_values: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse the contract columns of a frame of text or typed cells.

    Parameters
    ----------
    raw : pandas.DataFrame
        The frame from :func:`~imnm_cohort.sources.files.read_extract`, or any frame with
        every contract column. Not modified. Text cells: surrounding spaces are ignored and
        blank cells are missing. Typed cells (a Parquet file's dates, booleans and numbers)
        are checked as what they are, not written out as text and parsed again.
    kinds : mapping of str to str
        The contract's columns, in contract order, and their parsing kinds
        (:attr:`~imnm_cohort.contracts.table.TableContract.kinds`).
    empty_values : mapping of str to str, optional
        Category columns whose empty cell is read as a value.

    Returns
    -------
    typed : pandas.DataFrame
        Same index and columns; contract columns typed (dates ``datetime64[ns]``, booleans
        ``boolean``, numbers ``float64``, categories lower-case text; empty antibody results
        read as ``not_tested``).
    failures : pandas.DataFrame
        One row per cell that could not be parsed: ``index`` (0-based position), ``column``,
        ``rule``, ``value`` (the text as it was in the file).
    """
    fill = dict(empty_values or {})
    contract = [(name, raw[name], kinds[name], fill.get(name)) for name in kinds]
    own = frozenset(kinds)
    # Extra columns are the caller's: copied (cheap for Arrow-backed text, which is immutable).
    # Contract columns hold their place here until their parsed values replace them.
    columns: dict[str, object] = {
        name: raw[name] if name in own else raw[name].copy() for name in raw.columns
    }
    # Columns are parsed independently, by Arrow kernels that release the interpreter lock:
    # a thread per core parses several at once. Results are gathered in contract order.
    with ThreadPoolExecutor(max_workers=max(1, min(pa.cpu_count(), len(contract)))) as pool:
        parsed = list(pool.map(lambda item: _coerce_column(*item), contract))
    found: list[pd.DataFrame] = []
    for (name, *_), (value, failed) in zip(contract, parsed, strict=True):
        columns[name] = value
        found.extend(failed)
    # copy=False: every column is already this call's own array, so the frame wraps them as
    # they are, a block each. The default would stack the date and number columns into 2-D
    # blocks (twice, as the kinds are interleaved): fresh memory, and the slowest step here.
    typed_frame = pd.DataFrame(
        {name: _on_index(value, raw.index) for name, value in columns.items()},
        index=raw.index,
        copy=False,
    )
    typed_frame.attrs = dict(raw.attrs)
    failures = pd.concat(found, ignore_index=True) if found else _empty_failures()
    return typed_frame, failures


def _coerce_column(
    name: str, column: pd.Series, kind: str | None = None, empty: str | None = None
) -> tuple[object, list[pd.DataFrame]]:
    """One contract column typed by its kind, and its parsing failures (if any).

    ``kind`` and ``empty`` (the value of an empty category cell) default to the patient
    table's.
    """
    found: list[pd.DataFrame] = []
    if kind is None:
        kind, empty = PATIENTS.kind(name), PATIENTS.empty_values.get(name)
    typed = _typed_arrow(column)
    if typed is not None and kind in _TYPED_PARSERS:
        parse, accepts = _TYPED_PARSERS[kind]
        if accepts(typed.type):
            value, bad = parse(typed)
            _collect_all(found, typed, bad, name)
            return value, found
    cells = _arrow_text(column) if typed is None else _as_text(typed)
    if kind in _TEXT_PARSERS:
        exact = _exact_cast(cells, kind)
        if exact is not None:  # every cell already well-formed: the common case, fast
            parse, _ = _TYPED_PARSERS[kind]
            value, bad = parse(exact)
            _collect_all(found, exact, bad, name)
            return value, found
    text = _clean_text(cells)
    if kind in _TEXT_PARSERS:
        value, bad = _TEXT_PARSERS[kind](text)
        _collect_all(found, text, bad, name)
        return value, found
    if kind == "id":
        text = nfc(text)
    elif kind == "category":
        # The allowed values are ASCII: folding ASCII letters alone is enough to match them, is
        # a copy of the bytes (no per-cell work), and never folds a look-alike letter (the
        # Kelvin sign) into an allowed value.
        text = pc.ascii_lower(text)
        if empty is not None:
            text = pc.fill_null(text, empty)
    elif kind == "msa_list":
        text = _antibody_list(pc.ascii_lower(text))
    elif kind == "icd10":
        text = pc.utf8_upper(text)
    return pd.arrays.ArrowStringArray(text), found


def _antibody_list(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Spaces around ``;`` and ``;`` at either end removed, in the cells that have a ``;``.

    Most cells name one antibody or none: the regular expression runs on the others only.
    """
    listed = pc.fill_null(pc.match_substring(text, ";"), False)
    if not pc.any(listed).as_py():
        return text
    text = text.combine_chunks()
    listed = listed.combine_chunks()
    tidy = pc.utf8_trim(pc.replace_substring_regex(text.filter(listed), r"\s*;\s*", ";"), ";")
    return pa.chunked_array([_blank_to_null(pc.replace_with_mask(text, listed, tidy))])


def _exact_cast(cells: pa.ChunkedArray, kind: str) -> pa.ChunkedArray | None:
    """Dates, booleans or numbers by one strict Arrow cast when every cell is well-formed.

    Arrow's date cast takes exactly ``YYYY-MM-DD`` with a real calendar day; its boolean
    cast ``true``/``false``/``1``/``0`` in any case (a subset of the contract's words); its
    number cast the decimal forms of the contract plus ``inf``/``nan`` (refused below). A
    column with any other cell (spaces, another format, an impossible day) goes the slow
    way, which names every failing cell. ``None`` when the slow way is needed.
    """
    target = {"date": pa.date32(), "bool": pa.bool_(), "float": pa.float64()}.get(kind)
    if target is None:
        return None
    try:
        cast = pc.cast(cells, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if kind == "float" and pc.any(pc.invert(pc.is_finite(cast))).as_py():
        return None
    return cast


def _on_index(value: object, index: pd.Index) -> object:
    if isinstance(value, pd.Series):
        return value if value.index.equals(index) else value.set_axis(index)
    return pd.Series(value, index=index, copy=False)


def _typed_arrow(column: pd.Series) -> pa.ChunkedArray | None:
    """The column as Arrow when its cells are typed (not text), else ``None``."""
    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype):
        array = pa.chunked_array(column.array.__arrow_array__())
        return (
            None
            if pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
            else array
        )
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or isinstance(dtype, pd.BooleanDtype)
        or (pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.StringDtype))
    ):
        return pa.chunked_array([pa.array(column, from_pandas=True)])
    return None


def _as_text(typed: pa.ChunkedArray) -> pa.ChunkedArray:
    """Typed cells where the contract wants something else: their text, as a CSV gives it."""
    if pa.types.is_date(typed.type):
        return pc.strftime(typed, format=ISO_DATE)
    return pc.cast(typed, pa.string())


def _arrow_text(column: pd.Series | pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(column, pa.ChunkedArray):
        return column
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        return pa.chunked_array(column.array.__arrow_array__())
    values = column.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = values.where(values.isna(), values.astype(str))  # numbers in a caller's frame
    return pa.chunked_array(
        [pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)]
    )


def _blank_to_null(text: pa.ChunkedArray) -> pa.ChunkedArray:
    blank = pc.equal(text, "")
    if not pc.any(blank).as_py():  # the usual case: no copy of the text
        return text
    return pc.if_else(blank, pa.scalar(None, text.type), text)


def _clean_text(column: pd.Series | pa.ChunkedArray) -> pa.ChunkedArray:
    """Text with surrounding spaces removed; empty and blank cells missing."""
    return _blank_to_null(pc.utf8_trim_whitespace(_arrow_text(column)))


def _dates(text: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    # The exact shape YYYY-MM-DD (zero-padded) by an Arrow regex, then Arrow's strptime. It
    # rolls impossible days over (2021-02-29 -> 2021-03-01), so the day written must be the
    # day parsed; and the date must fit datetime64[ns] (else date_out_of_range: a real day
    # the toolkit cannot hold is not called "not a date").
    shaped = pc.fill_null(pc.match_substring_regex(text, ISO_DATE_SHAPE), False)
    candidates = pc.if_else(shaped, text, pa.scalar(None, pa.string()))
    parsed = pc.strptime(candidates, format=ISO_DATE, unit="s", error_is_null=True)
    days = _days(parsed)
    written = pc.cast(pc.utf8_slice_codeunits(candidates, 8, 10), pa.int64())
    written_day = written.to_numpy(zero_copy_only=False).astype(float)
    parsed_day = (days - days.astype("datetime64[M]")).astype(float) + 1
    real = parsed_day == written_day  # False where the text did not parse (NaN)
    ok = real & _in_range(days)
    bad = {"not_a_date": true_mask(pc.is_valid(text)) & ~real, OUT_OF_RANGE: real & ~ok}
    return np.where(ok, days, np.datetime64("NaT")).astype("datetime64[ns]"), bad


def _days(values: pa.ChunkedArray) -> np.ndarray:
    """Dates or naive timestamps as datetime64[D] (times of day dropped), missing as NaT."""
    if pa.types.is_timestamp(values.type):
        values = pc.cast(values, pa.timestamp("s"), safe=False)
    elif pa.types.is_date64(values.type):
        values = pc.cast(values, pa.date32())
    return np.asarray(values.to_numpy(zero_copy_only=False)).astype("datetime64[D]")


def _in_range(days: np.ndarray) -> np.ndarray:
    """Known and within what datetime64[ns] holds (1677-09-22 to 2262-04-11)."""
    return (days >= DATE_RANGE[0]) & (days <= DATE_RANGE[1])


def typed_dates(values: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Dates from a typed column (Parquet ``date32``/``date64``/``timestamp``).

    The one place where typed dates are turned into the toolkit's dates: a timestamp keeps
    its calendar day (a timezone-aware one its local day, never shifted to UTC); a date
    outside what ``datetime64[ns]`` holds is ``date_out_of_range``.

    Returns
    -------
    values : numpy.ndarray
        ``datetime64[ns]``, missing as NaT.
    bad : dict
        ``{"date_out_of_range": mask}``: where a date was given but cannot be held.
    """
    if pa.types.is_timestamp(values.type) and values.type.tz is not None:
        # The time-zone policy (as the text readers): the local calendar date, never UTC's.
        values = pc.local_timestamp(values)
    if pa.types.is_timestamp(values.type):
        values = pc.floor_temporal(values, unit="day")
    days = pc.cast(values, pa.date32())
    low, high = (pa.scalar(d.astype(object), pa.date32()) for d in DATE_RANGE)
    ok = pc.and_(pc.greater_equal(days, low), pc.less_equal(days, high))  # missing stays missing
    kept = pc.if_else(ok, days, pa.scalar(None, pa.date32()))
    stamps = pc.cast(kept, pa.timestamp("ns")).to_numpy(zero_copy_only=False)
    return np.asarray(stamps, dtype="datetime64[ns]"), {OUT_OF_RANGE: true_mask(pc.invert(ok))}


def _typed_booleans(
    values: pa.ChunkedArray,
) -> tuple[pd.arrays.BooleanArray, dict[str, np.ndarray]]:
    known = true_mask(pc.is_valid(values))
    return pd.arrays.BooleanArray(true_mask(values), ~known), {}


def _typed_numbers(values: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    # safe=False: an integer beyond 2**53 becomes the nearest float (far outside any range
    # of the contract, so the schema's range check names it) instead of an Arrow error.
    numbers = pc.cast(values, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    numbers = np.array(numbers, np.float64)
    bad = np.isinf(numbers)  # NaN is an empty cell, as pandas writes one
    numbers[bad] = np.nan
    return numbers, {"not_a_number": bad}


#: Typed cells: kind -> (parser, the Arrow types it takes). A parser returns the values and
#: ``{rule: where a cell breaks it}``.
_TYPED_PARSERS: dict[str, tuple[Callable, Callable[[pa.DataType], bool]]] = {
    "date": (typed_dates, lambda t: pa.types.is_date(t) or pa.types.is_timestamp(t)),
    "bool": (_typed_booleans, pa.types.is_boolean),
    "float": (_typed_numbers, lambda t: pa.types.is_integer(t) or pa.types.is_floating(t)),
}


def text_booleans(text: pa.ChunkedArray) -> tuple[pd.arrays.BooleanArray, np.ndarray]:
    """Booleans from text: ``true``/``1``/``yes`` and ``false``/``0``/``no`` in any case.

    Returns the values (missing where empty or unreadable) and where a cell was unreadable.
    """
    lower = pc.utf8_lower(text)
    is_true = true_mask(pc.is_in(lower, value_set=pa.array(TRUE_WORDS)))
    is_false = true_mask(pc.is_in(lower, value_set=pa.array(FALSE_WORDS)))
    known = is_true | is_false
    bad = true_mask(pc.is_valid(text)) & ~known
    return pd.arrays.BooleanArray(is_true, ~known), bad


def _numbers(text: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    ok = pc.fill_null(pc.match_substring_regex(text, NUMBER_PATTERN), False)
    numbers = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    values = numbers.to_numpy(zero_copy_only=False).astype(np.float64)
    finite = np.isfinite(values)
    values[~finite] = np.nan
    bad = true_mask(pc.is_valid(text)) & ~(finite & true_mask(ok))
    return values, {"not_a_number": bad}


def decimal_point_text(text: pa.ChunkedArray, decimal: str = ".") -> pa.ChunkedArray:
    """Numbers written with ``decimal`` as their decimal mark, rewritten with a point.

    With ``decimal = ","`` the comma and the point swap places in every cell: ``133,5``
    becomes ``133.5``, while a cell with a point (``5.000``, ``1.234,5``) gets a comma that
    :data:`NUMBER_PATTERN` refuses, so it is ``not_a_number``. A point in a decimal-comma
    export is a thousands separator or a typing slip (``5.000`` is 5,000 U/L in German),
    and the toolkit does not guess which.

    Parameters
    ----------
    text : pyarrow.ChunkedArray
        Text cells (missing allowed).
    decimal : str
        ``"."`` (returns ``text`` as it is) or ``","``.

    Returns
    -------
    pyarrow.ChunkedArray
        Text to match against :data:`NUMBER_PATTERN` and cast to ``float64``.
    """
    if decimal == ".":
        return text
    if decimal != ",":
        raise ValueError(f"decimal must be '.' or ',', not {decimal!r}")
    has_point = pc.fill_null(pc.match_substring(text, "."), False)
    return pc.if_else(
        has_point, pc.replace_substring(text, ".", ","), pc.replace_substring(text, ",", ".")
    )


def nfc(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text in Unicode normal form C: canonically equivalent ids become one id.

    A Mac export may write ``Zoë`` as ``e`` + combining diaeresis (NFD) where another
    system wrote the single letter (NFC); both are the same id. Only non-ASCII cells can
    change, so a column of ASCII ids is returned as it is, without a copy.
    """
    if pc.all(pc.fill_null(pc.string_is_ascii(text), True)).as_py():
        return text
    return pc.utf8_normalize(text, form="NFC")


def _booleans(text: pa.ChunkedArray) -> tuple[pd.arrays.BooleanArray, dict[str, np.ndarray]]:
    values, bad = text_booleans(text)
    return values, {"not_a_boolean": bad}


def _lenient_numbers(text: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Numbers as :func:`pandas.to_numeric` reads them (kind ``number``): ``inf`` is a number
    (that the column's range refuses), ``nan`` and a number too large for a float are not."""
    cells = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
    bad = true_mask(pc.is_valid(text)) & np.isnan(values)
    return values, {"not_a_number": bad}


#: Text cells: kind -> parser (values and ``{rule: where a cell breaks it}``).
_TEXT_PARSERS: dict[str, Callable] = {
    "date": _dates,
    "bool": _booleans,
    "float": _numbers,
    "number": _lenient_numbers,
}


def true_mask(values: pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, missing as False."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _collect_all(
    found: list[pd.DataFrame], cells: pa.ChunkedArray, bad: dict[str, np.ndarray], column: str
) -> None:
    for rule, mask in bad.items():
        _collect(found, cells, mask, column, rule)


def _collect(
    found: list[pd.DataFrame], cells: pa.ChunkedArray, bad: np.ndarray, column: str, rule: str
) -> None:
    if not bad.any():
        return
    where = np.flatnonzero(bad)
    taken = cells.take(pa.array(where))
    if not pa.types.is_string(taken.type):
        taken = _as_text(taken)
    values = taken.to_numpy(zero_copy_only=False)
    found.append(
        pd.DataFrame(
            {"index": where, "column": column, "rule": rule, "value": values.astype(object)},
            columns=list(FAILURE_COLUMNS),
        )
    )


def _empty_failures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
