"""Apply a checked mapping to an export: whole columns at a time, a group-by per patient.

The steps, each over whole columns:

1. Trim header names and cells; a cell holding one of ``[source] missing_codes`` is empty.
2. Make each contract column's row-level text from its source: the column's own ``missing``
   codes are empty, rows its ``where`` filter rejects are empty, then ``values`` (trimmed,
   case insensitive; anything else is ``unmapped_value``), ``checkboxes``/``tested`` (a
   ticked box of the same field that the mapping leaves out is ``unmapped_value``), a date
   ``format`` (written back as ``YYYY-MM-DD``), a decimal comma and a ``unit``. A yes/no or
   category column without ``values`` whose cells hold bare codes (``0``, ``1``, ``2``) is
   refused (contract section 5a): a code is never read by its truthiness.
3. With ``[source] id``, give every row its patient (rows with an empty id are each a patient
   of their own, ``missing_id``) and combine each column with its rule
   (:mod:`imnm_cohort.mapping.combine`).
4. Carry the ``[source] keep`` columns; every other source column is left out.

The result is a section-1 text frame, one row per patient, plus the mapping's own failures in
the form validation uses (patient position, column, rule, value), so that validation can
quarantine patients with every reason at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from imnm_cohort.contracts.coerce import (
    FAILURE_COLUMNS,
    ISO_DATE_SHAPE,
    NUMBER_PATTERN,
    TRUE_WORDS,
    decimal_point_text,
    text_booleans,
    true_mask,
)
from imnm_cohort.contracts.events import EVENT_TABLES
from imnm_cohort.contracts.hints import did_you_mean
from imnm_cohort.contracts.patients import PATIENTS
from imnm_cohort.contracts.table import TableContract
from imnm_cohort.errors import MappingError
from imnm_cohort.mapping.combine import combine
from imnm_cohort.mapping.spec import ColumnMap, MappingSpec, TableMap
from imnm_cohort.sources.base import CELL_PROBLEMS

TEXT = pd.StringDtype("pyarrow")
TICKED = ("1", "checked", "yes", "true")
#: A bare code: a cell that is a whole or decimal number (``0``, ``1``, ``2``, ``-9``).
BARE_CODE = r"^[+-]?\d+([.,]\d+)?$"
#: Column kinds whose text words section 1 reads, and whose bare codes need ``values``.
_WORD_KINDS = ("bool", "category")
#: Reasons the mapping itself gives (validation adds its own after mapping).
MAPPING_RULES = {
    "unmapped_value": "a non-empty value that is neither in the column's values nor a missing code",
    "conflicting_values": "a patient's rows disagree (combine = same)",
    "missing_id": "an export row with an empty id; it is quarantined alone",
}


@dataclass(frozen=True)
class MappedExport:
    """A mapped export: section-1 text, one row per patient, and how it was made.

    Attributes
    ----------
    extract : pandas.DataFrame
        Section-1 text cells, one row per patient (index 0..P-1): the mapped contract
        columns, then the ``[source] keep`` columns (trimmed, missing codes empty).
    failures : pandas.DataFrame
        The mapping's reasons: ``index`` (patient position), ``column``, ``rule``, ``value``.
    groups : numpy.ndarray
        The patient (0..P-1) of each export row.
    sources : dict
        Contract column -> the source column(s) it came from.
    left_out : tuple of str
        Source columns no entry reads and ``keep`` does not name: left out of every output.
    """

    extract: pd.DataFrame = field(repr=False)
    failures: pd.DataFrame = field(repr=False)
    groups: np.ndarray = field(repr=False)
    sources: dict[str, str]
    left_out: tuple[str, ...] = ()

    @property
    def export_rows(self) -> int:
        """Rows in the export."""
        return len(self.groups)

    @property
    def patients(self) -> int:
        """Patients (rows of the mapped extract)."""
        return len(self.extract)

    def rows_of(self, patients: np.ndarray) -> np.ndarray:
        """The export rows (1-based, ``;``-separated) of the given patient positions."""
        wanted = np.isin(self.groups, patients)
        rows = pd.Series(np.flatnonzero(wanted) + 1).astype(str)
        joined = rows.groupby(self.groups[wanted], sort=True).agg(";".join)
        return joined.reindex(patients).to_numpy(dtype=object)


def apply_mapping(raw: pd.DataFrame, spec: MappingSpec) -> MappedExport:
    """Turn an export (text cells under its own header) into a section-1 extract.

    Parameters
    ----------
    raw : pandas.DataFrame
        From :func:`~imnm_cohort.sources.files.read_source`. Not modified.
    spec : MappingSpec

    Returns
    -------
    MappedExport

    Raises
    ------
    MappingError
        When the mapping names a column the export does not have, leaves out a required
        column, or leaves a yes/no or category column of bare codes without ``values``.
    """
    problems = raw.attrs.get(CELL_PROBLEMS, ())
    raw = raw.reset_index(drop=True)
    raw.columns = pd.Index([str(c).strip() for c in raw.columns])
    columns = spec.resolve(list(raw.columns))
    cells = _Cells(raw, spec.missing_codes)
    found: list[pd.DataFrame] = []
    refused: list[str] = []
    text: dict[str, pd.Series] = {}
    keys: dict[str, pd.Series] = {}
    for name, column in columns.items():
        text[name], keys[name] = _row_values(name, column, spec, cells, found, refused)
    if refused:
        raise MappingError(spec.path, refused)
    if problems:
        found.append(_cell_problems(problems, columns, spec))
    for kept in spec.keep:
        text[kept] = keys[kept] = cells.get(kept)

    n = len(raw)
    used = {c for column in columns.values() for c in column.read_columns()}
    used |= {c for table in spec.tables.values() for c in table.read_columns()}
    left_out = tuple(
        c for c in raw.columns if c not in used and c != spec.id and c not in spec.keep
    )
    if spec.id is None:
        groups = np.arange(n)
        extract = pd.DataFrame(text, index=pd.RangeIndex(n))
    else:
        id_text = cells.get(spec.id)
        groups, n_patients = _patients(id_text)
        per_patient = {}
        rules = {name: column.combine for name, column in columns.items()}
        for name in text:  # kept columns combine as "same": a patient's rows must agree
            rule = rules.get(name, "same")
            combined = combine(rule, text[name], keys[name], groups, n_patients, keys)
            per_patient[name] = combined.values
            if len(combined.conflicts):
                _collect(
                    found,
                    combined.conflicts.index.to_numpy(),
                    name,
                    "conflicting_values",
                    combined.conflicts.to_numpy(dtype=object),
                    already_patients=True,
                )
        extract = pd.DataFrame(per_patient, index=pd.RangeIndex(n_patients))
    id_source = spec.id or (columns["patient_id"].source if "patient_id" in columns else None)
    if id_source is not None:
        missing = np.flatnonzero(cells.get(id_source).isna().to_numpy())
        _collect(found, missing, "patient_id", "missing_id", np.full(len(missing), ""))
    failures = _failures(found, groups)
    return MappedExport(
        extract=extract,
        failures=failures,
        groups=groups,
        sources={name: column.label() for name, column in columns.items()},
        left_out=left_out,
    )


@dataclass(frozen=True)
class MappedTable:
    """One event table (contract section 6) filled from an export's rows.

    Attributes
    ----------
    name : str
        The event table.
    rows : pandas.DataFrame
        Text cells, one row per export row that has a value in any of the table's columns
        other than ``patient_id`` (index 0..m-1, in export order): the mapped columns.
    failures : pandas.DataFrame
        The mapping's reasons: ``index`` (table row position), ``column``, ``rule``,
        ``value``; validation quarantines those rows with every reason.
    export_rows : numpy.ndarray
        The export row (1-based) of each table row.
    sources : dict
        Contract column -> the source column it came from.
    """

    name: str
    rows: pd.DataFrame = field(repr=False)
    failures: pd.DataFrame = field(repr=False)
    export_rows: np.ndarray = field(repr=False)
    sources: dict[str, str] = field(default_factory=dict)


def apply_tables(raw: pd.DataFrame, spec: MappingSpec) -> dict[str, MappedTable]:
    """Fill the mapping's event tables (``[tables.NAME]``) from an export's rows.

    Each table row is one export row (a REDCap event, or one instance of a repeating
    instrument) with a value in any of the table's columns other than ``patient_id``,
    after the missing codes and the row filters. A value the mapping cannot read (an
    unmapped code, a date not in its format) still makes the row: the row carries the
    reason, so that every export row with a value ends in a table row or its quarantine.

    Parameters
    ----------
    raw : pandas.DataFrame
        From :func:`~imnm_cohort.sources.files.read_source`. Not modified.
    spec : MappingSpec

    Returns
    -------
    dict
        Table name -> :class:`MappedTable`, in contract order; empty when the mapping
        names no tables.

    Raises
    ------
    MappingError
        A column the export lacks, a required column not named, or a category column of
        bare codes without ``values`` (every problem in one line).
    """
    if not spec.tables:
        return {}
    problems = raw.attrs.get(CELL_PROBLEMS, ())
    raw = raw.reset_index(drop=True)
    raw.columns = pd.Index([str(c).strip() for c in raw.columns])
    tables = spec.resolve_tables(list(raw.columns))
    cells = _Cells(raw, spec.missing_codes)
    refused: list[str] = []
    made = {}
    for name, table in tables.items():
        contract = EVENT_TABLES[name]
        keep = _rows_matching(table.where, cells)
        found: list[pd.DataFrame] = []
        text = {
            column: _row_values(column, cmap, spec, cells, found, refused, contract, keep)[0]
            for column, cmap in table.columns.items()
        }
        if problems:
            found.append(_table_cell_problems(problems, table, keep))
        made[name] = _table_rows(table, text, found, len(raw))
    if refused:
        raise MappingError(spec.path, refused)
    return made


def _rows_matching(
    where: tuple[tuple[str, tuple[str, ...]], ...], cells: _Cells
) -> pa.ChunkedArray | None:
    """The rows every key of a ``where`` filter accepts (None: no filter)."""
    return _where_mask(ColumnMap("", None, where=where), cells)


def _table_cell_problems(
    problems: tuple[tuple[int, str, str, str], ...],
    table: TableMap,
    keep: pa.ChunkedArray | None,
) -> pd.DataFrame:
    """A reader's problems in the cells a table reads, as failures of the table's columns
    (rows its filter rejects are not the table's)."""
    cells = pd.DataFrame(list(problems), columns=["index", "source", "rule", "value"])
    readers = [(c, name) for name, column in table.columns.items() for c in column.read_columns()]
    read = pd.DataFrame(readers, columns=["source", "column"]).drop_duplicates()
    failures = cells.merge(read, on="source")[["index", "column", "rule", "value"]]
    if keep is not None:
        failures = failures[true_mask(keep)[failures["index"].to_numpy(dtype=np.int64)]]
    return failures.assign(index=failures["index"].astype(np.int64), by_row=True)


def _table_rows(
    table: TableMap, text: dict[str, pd.Series], found: list[pd.DataFrame], n: int
) -> MappedTable:
    """The export rows with a value (or a reason) in any column but ``patient_id``."""
    has_value = np.zeros(n, dtype=bool)
    for column, values in text.items():
        if column != "patient_id":
            has_value |= values.notna().to_numpy()
    reasons = pd.concat(found, ignore_index=True) if found else None
    if reasons is not None:
        own = reasons["column"].to_numpy() != "patient_id"
        has_value[reasons["index"].to_numpy(dtype=np.int64)[own]] = True
    selected = np.flatnonzero(has_value)
    position = np.full(n, -1, dtype=np.int64)
    position[selected] = np.arange(len(selected))
    rows = pd.DataFrame(
        {column: values.iloc[selected].reset_index(drop=True) for column, values in text.items()},
        index=pd.RangeIndex(len(selected)),
    )
    if reasons is None:
        failures = pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
    else:
        at = position[reasons["index"].to_numpy(dtype=np.int64)]
        failures = reasons.assign(index=at)[at >= 0][list(FAILURE_COLUMNS)]
        failures = failures.drop_duplicates().reset_index(drop=True)
    failures["index"] = failures["index"].astype(np.int64)  # a position, even when none
    return MappedTable(
        name=table.name,
        rows=rows,
        failures=failures,
        export_rows=selected + 1,
        sources={name: column.label() for name, column in table.columns.items()},
    )


def _cell_problems(
    problems: tuple[tuple[int, str, str, str], ...],
    columns: dict[str, ColumnMap],
    spec: MappingSpec,
) -> pd.DataFrame:
    """A reader's problems in cells (a spreadsheet's error values, formulas without a saved
    result) as failures of every contract or kept column that reads the cell's source column.

    A cell the mapping does not read is left alone; a cell it reads is never taken as text:
    ``#DIV/0!`` in an antibody column or a formula in the id column quarantines the patient.
    """
    readers = [(source, name) for name, c in columns.items() for source in c.read_columns()]
    readers += [(kept, kept) for kept in spec.keep]
    if spec.id is not None:
        readers.append((spec.id, "patient_id"))
    cells = pd.DataFrame(list(problems), columns=["index", "source", "rule", "value"])
    read = pd.DataFrame(readers, columns=["source", "column"]).drop_duplicates()
    failures = cells.merge(read, on="source")[["index", "column", "rule", "value"]]
    return failures.assign(index=failures["index"].astype(np.int64), by_row=True)


class _Cells:
    """Source columns as trimmed Arrow text, missing codes and blanks read as empty."""

    def __init__(self, raw: pd.DataFrame, missing_codes: tuple[str, ...]) -> None:
        self.raw = raw
        self.codes = pa.array(["", *missing_codes], type=pa.string())
        self.cache: dict[str, pd.Series] = {}

    def raw_arrow(self, name: str) -> pa.ChunkedArray:
        """A source column as read, as Arrow text."""
        column = self.raw[name]
        if not (isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"):
            column = (
                column.astype(object)
                .where(column.notna(), None)
                .astype(str)
                .where(column.notna(), None)
                .astype(TEXT)
            )
        return pa.chunked_array(column.array.__arrow_array__())

    def get(self, name: str) -> pd.Series:
        """A source column trimmed, blanks and missing codes empty (cached)."""
        if name not in self.cache:
            arr = pc.utf8_trim_whitespace(self.raw_arrow(name))
            empty = pc.fill_null(pc.is_in(arr, value_set=self.codes), False)
            arr = pc.if_else(empty, pa.scalar(None, pa.string()), arr)
            self.cache[name] = pd.Series(pd.arrays.ArrowStringArray(arr), index=self.raw.index)
        return self.cache[name]


def _row_values(
    name: str,
    column: ColumnMap,
    spec: MappingSpec,
    cells: _Cells,
    found: list[pd.DataFrame],
    refused: list[str],
    table: TableContract = PATIENTS,
    keep: pa.ChunkedArray | None = None,
) -> tuple[pd.Series, pd.Series]:
    """One contract column, row by row (as whole columns): its text and its typed key.

    Rows that the column's ``where`` filter (and ``keep``, a table's own filter) rejects are
    empty; the column's own ``missing`` codes are empty. A bare code in a yes/no or category
    column without ``values`` is added to ``refused`` (a mapping problem). ``table`` is the
    contract whose column ``name`` is (the patient table, or an event table).
    """
    kind = table.kind(name)
    own = _where_mask(column, cells)
    keep = own if keep is None else (keep if own is None else pc.and_(keep, own))
    if column.checkboxes:
        return _checkbox_rows(column, cells, keep, found)
    assert column.source is not None
    text = cells.get(column.source)
    if column.missing:
        text = _drop(text, pc.is_in(pc.utf8_lower(_arrow(text)), pa.array(column.missing)))
    if keep is not None:
        text = _drop(text, pc.invert(keep))
    if column.values is not None:
        mapped = _lookup(text, column.values)
        unmapped = (text.notna() & mapped.isna()).to_numpy()
        _collect(
            found,
            np.flatnonzero(unmapped),
            name,
            "unmapped_value",
            _with_hints(text[unmapped].to_numpy(dtype=object), column.values),
        )
        text = mapped
    elif kind in _WORD_KINDS:
        refused += _bare_codes(name, column, text, table)
    if kind == "date":
        return _date_rows(text, column.date_format or spec.date_format, name, found)
    if kind == "float":
        return _number_rows(text, spec.decimal, column.factor, name, found)
    if kind == "bool":
        return _boolean_rows(text, name, found)
    if kind in ("category", "msa_list"):
        return text, _text(pc.utf8_lower(_arrow(text)), text.index)
    return text, text


def _where_mask(column: ColumnMap, cells: _Cells) -> pa.ChunkedArray | None:
    """The rows that every key of the column's ``where`` filter accepts (None: no filter).

    Cells are compared as read, trimmed and ignoring case; an empty cell matches nothing.
    """
    mask = None
    for source, accepted in column.where:
        cell = pc.utf8_lower(pc.utf8_trim_whitespace(cells.raw_arrow(source)))
        match = pc.fill_null(pc.is_in(cell, value_set=pa.array(accepted, pa.string())), False)
        mask = match if mask is None else pc.and_(mask, match)
    return mask


def _drop(text: pd.Series, empty: pa.ChunkedArray) -> pd.Series:
    """``text`` with the cells where ``empty`` holds made empty."""
    cleared = pc.if_else(pc.fill_null(empty, False), pa.scalar(None, pa.string()), _arrow(text))
    return _text(cleared, text.index)


def _bare_codes(
    name: str, column: ColumnMap, text: pd.Series, table: TableContract = PATIENTS
) -> list[str]:
    """A refusal when a yes/no or category column without ``values`` holds bare codes."""
    arrow = _arrow(text)
    coded = pc.fill_null(pc.match_substring_regex(arrow, BARE_CODE), False)
    if not pc.any(coded).as_py():
        return []
    codes = sorted(pc.unique(pc.filter(arrow, coded)).to_pylist(), key=lambda c: (len(c), c))
    shown = ", ".join(codes[:5]) + (", ..." if len(codes) > 5 else "")
    if table.kind(name) == "bool":
        what, example = "yes/no", '"1" = "true", "0" = "false"'
    else:
        what, example = "a category", f'"{codes[0]}" = "{table.allowed[name][0]}"'
    section = "[columns]" if table is PATIENTS else f"[tables.{table.name}]"
    return [
        f"{section} {name}: source column '{column.source}' holds codes ({shown}) and no "
        f"values; a code is never read as {what}: give values (e.g. values = {{ {example} }}) "
        'and missing for the codes that mean unknown (e.g. missing = ["9"])'
    ]


def _with_hints(values: np.ndarray, known: dict[str, str]) -> np.ndarray:
    """Each unmapped value, with the closest known code where one is close.

    One ``difflib`` search per distinct value, not per row.
    """
    if len(values) == 0:
        return values
    unique = pd.unique(values)
    # A code is not near another code: '10' is not a typing slip for '1'.
    coded = pd.Series(unique, dtype=object).astype(str).str.fullmatch(BARE_CODE).to_numpy()
    hints = {
        v: str(v) + ("" if code else did_you_mean(str(v), known))
        for v, code in zip(unique, coded, strict=True)
    }
    return pd.Series(values).map(hints).to_numpy(dtype=object)


def _lookup(text: pd.Series, values: dict[str, str]) -> pd.Series:
    """``values[lower(cell)]`` for every cell, by an Arrow hash lookup (missing if absent)."""
    where = pc.index_in(pc.utf8_lower(_arrow(text)), value_set=pa.array(list(values), pa.string()))
    found = pc.take(pa.array(list(values.values()), pa.string()), where)
    return pd.Series(pd.arrays.ArrowStringArray(found), index=text.index)


def _arrow(text: pd.Series) -> pa.ChunkedArray:
    return pa.chunked_array(text.array.__arrow_array__())


def _text(values: pa.ChunkedArray | pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(
        pd.arrays.ArrowStringArray(
            pa.chunked_array([values]) if isinstance(values, pa.Array) else values
        ),
        index=index,
    )


def _date_rows(
    text: pd.Series, fmt: str | None, name: str, found: list[pd.DataFrame]
) -> tuple[pd.Series, pd.Series]:
    """Dates in ``fmt``, written ``YYYY-MM-DD``; cells already ``YYYY-MM-DD`` (as typed
    Excel, Parquet, SPSS and Stata cells read) are accepted whatever the format."""
    arrow = _arrow(text)
    none = pa.scalar(None, pa.string())
    iso = pc.fill_null(pc.match_substring_regex(arrow, ISO_DATE_SHAPE), False)
    stamps = pc.strptime(pc.if_else(iso, arrow, none), format="%Y-%m-%d", unit="s",
                         error_is_null=True)  # fmt: skip
    if fmt is not None and fmt != "%Y-%m-%d":
        other = pc.strptime(pc.if_else(iso, none, arrow), format=fmt, unit="s",
                            error_is_null=True)  # fmt: skip
        stamps = pc.coalesce(stamps, other)
    bad = true_mask(pc.and_(pc.is_valid(arrow), pc.is_null(stamps)))
    if bad.any():
        _collect(found, np.flatnonzero(bad), name, "not_a_date",
                 text[bad].to_numpy(dtype=object), expected=fmt or "%Y-%m-%d")  # fmt: skip
    written = pc.if_else(pc.is_valid(stamps), arrow, none)  # YYYY-MM-DD cells as they are
    if fmt is not None and fmt != "%Y-%m-%d":
        iso_text = pc.cast(pc.cast(stamps, pa.date32()), pa.string())
        written = pc.if_else(iso, written, iso_text)
    key = pd.Series(stamps.to_numpy(zero_copy_only=False), index=text.index)
    return _text(written, text.index), key


def _number_rows(
    text: pd.Series, decimal: str, factor: float, name: str, found: list[pd.DataFrame]
) -> tuple[pd.Series, pd.Series]:
    arrow = decimal_point_text(_arrow(text), decimal)
    ok = pc.fill_null(pc.match_substring_regex(arrow, NUMBER_PATTERN), False)
    none = pa.scalar(None, pa.string())
    numbers = pc.cast(pc.if_else(ok, arrow, none), pa.float64())
    bad = true_mask(pc.and_(pc.is_valid(arrow), pc.invert(ok)))
    if bad.any():
        _collect(found, np.flatnonzero(bad), name, "not_a_number",
                 text[bad].to_numpy(dtype=object))  # fmt: skip
    if factor != 1.0:
        numbers = pc.multiply(numbers, factor)
        arrow = pc.cast(numbers, pa.string())
    # A number too large for a float (1e400), or made so by the unit, is not a number.
    infinite = true_mask(pc.and_(ok, pc.invert(pc.is_finite(numbers))))
    if infinite.any():
        _collect(found, np.flatnonzero(infinite), name, "not_a_number",
                 text[infinite].to_numpy(dtype=object))  # fmt: skip
        ok = pc.and_(ok, pa.array(~infinite))
        numbers = pc.if_else(ok, numbers, pa.scalar(None, pa.float64()))
    key = pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    return _text(pc.if_else(ok, arrow, none), text.index), key


def _boolean_rows(
    text: pd.Series, name: str, found: list[pd.DataFrame]
) -> tuple[pd.Series, pd.Series]:
    values, bad = text_booleans(_arrow(text))
    if bad.any():
        _collect(found, np.flatnonzero(bad), name, "not_a_boolean",
                 text[bad].to_numpy(dtype=object))  # fmt: skip
    return text.where(~bad, pd.NA), pd.Series(values, index=text.index)


def _checkbox_rows(
    column: ColumnMap, cells: _Cells, keep: pa.ChunkedArray | None, found: list[pd.DataFrame]
) -> tuple[pd.Series, pd.Series]:
    """``other_msa`` from tick boxes: ticked antibodies, ``none`` when tested, else empty.

    A box named with an empty antibody is ignored. A ticked box of the same field
    (``PREFIX___CODE``) that the mapping does not name is ``unmapped_value``. Rows that the
    ``where`` filter rejects say nothing.
    """
    parts = []
    for box, antibody in column.checkboxes:  # a missing code is not a tick: no need to clear
        if antibody:
            parts.append(pc.if_else(_ticked(cells, box), f"{antibody};", ""))
    if parts:
        joined = pc.utf8_rtrim(pc.binary_join_element_wise(*parts, ""), characters=";")
        listed = joined.to_numpy(zero_copy_only=False)
    else:
        listed = np.full(len(cells.raw), "", dtype=object)
    any_ticked = listed != ""
    value = np.full(len(listed), None, dtype=object)
    if column.tested is not None:
        tested = cells.get(column.tested).str.lower().isin(TRUE_WORDS).fillna(False)
        value[tested.to_numpy(dtype=bool)] = "none"
    value[any_ticked] = listed[any_ticked]
    rows = np.ones(len(listed), dtype=bool) if keep is None else true_mask(keep)
    value[~rows] = None
    for box in _unnamed_boxes(column, list(cells.raw.columns)):
        ticked = true_mask(_ticked(cells, box)) & rows
        _collect(found, np.flatnonzero(ticked), column.contract, "unmapped_value",
                 np.full(int(ticked.sum()), f"{box} ticked", dtype=object))  # fmt: skip
    text = pd.Series(value, index=cells.raw.index, dtype=TEXT)
    return text, text


def _ticked(cells: _Cells, box: str) -> pa.ChunkedArray:
    cell = pc.utf8_lower(pc.utf8_trim_whitespace(cells.raw_arrow(box)))
    return pc.fill_null(pc.is_in(cell, value_set=pa.array(TICKED)), False)


def _unnamed_boxes(column: ColumnMap, header: list[str]) -> list[str]:
    """The export's boxes of each named field (``PREFIX___*``) that the mapping leaves out."""
    named = {box for box, _ in column.checkboxes}
    prefixes = tuple({box.split("___", 1)[0] + "___" for box in named if "___" in box})
    if not prefixes:
        return []
    return [h for h in header if h.startswith(prefixes) and h not in named]


def _patients(id_text: pd.Series) -> tuple[np.ndarray, int]:
    """Patient codes in order of first appearance; each row with an empty id alone."""
    codes, uniques = pd.factorize(id_text, use_na_sentinel=True)
    missing = codes < 0
    codes = codes.astype(np.int64)
    codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    first_row = np.full(len(uniques) + int(missing.sum()), len(codes), dtype=np.int64)
    np.minimum.at(first_row, codes, np.arange(len(codes)))
    renumber = np.empty_like(first_row)
    renumber[np.argsort(first_row, kind="stable")] = np.arange(len(first_row))
    return renumber[codes], len(first_row)


def _collect(
    found: list[pd.DataFrame],
    where: np.ndarray,
    column: str,
    rule: str,
    values: np.ndarray,
    *,
    already_patients: bool = False,
    expected: str = "",
) -> None:
    if len(where) == 0:
        return
    if expected:
        values = (
            pd.Series(values, dtype=object).astype(str) + f" (expected {expected})"
        ).to_numpy()
    found.append(
        pd.DataFrame(
            {
                "index": where,
                "column": column,
                "rule": rule,
                "value": values,
                "by_row": not already_patients,
            },
            columns=[*FAILURE_COLUMNS, "by_row"],
        )
    )


def _failures(found: list[pd.DataFrame], groups: np.ndarray) -> pd.DataFrame:
    """Row-level failures become patient-level ones (one per patient, column and rule)."""
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
    frame = pd.concat(found, ignore_index=True)
    by_row = frame["by_row"].to_numpy(dtype=bool)
    index = frame["index"].to_numpy(dtype=np.int64)
    index[by_row] = groups[index[by_row]]
    frame["index"] = index
    frame = frame.drop_duplicates(["index", "column", "rule", "value"])
    return frame[list(FAILURE_COLUMNS)].reset_index(drop=True)
