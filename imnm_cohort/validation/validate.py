"""Validate a table against its contract and split it into valid and quarantined rows.

:func:`validate_table` validates any table from its
:class:`~imnm_cohort.contracts.table.TableContract` (the patient table, the reference-rate
file, event tables); :func:`validate_extract` is the patient table's entry point.

Every failure is collected at once (pandera's lazy validation plus the parsing step), then the
rows are split. Invariant, for every input: ``input_rows == valid_rows + quarantined_rows``.

A rule that more than half of the rows break (with at least :data:`FILE_LEVEL_MIN_ROWS`
failing rows) is a problem of the file, not of its rows
(:class:`~imnm_cohort.errors.FileLevelError`).
The parsing step is checked for this before the schema runs, so a date column in another
format never makes pandera collect millions of failure cases.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.compute as pc
from pandera.pandas import DataFrameSchema

from imnm_cohort.contracts.coerce import FAILURE_COLUMNS, coerce_table
from imnm_cohort.contracts.hints import did_you_mean, expected
from imnm_cohort.contracts.patients import CK_IMPLAUSIBLE as CK_IMPLAUSIBLE
from imnm_cohort.contracts.patients import ONSET_AGE_IMPLAUSIBLE as ONSET_AGE_IMPLAUSIBLE
from imnm_cohort.contracts.patients import PATIENTS, WARNING_CODES
from imnm_cohort.contracts.patients import WARNING_COLUMNS as WARNING_COLUMNS
from imnm_cohort.contracts.patients import data_quality_warnings as data_quality_warnings
from imnm_cohort.contracts.table import TableContract
from imnm_cohort.errors import FileLevelError
from imnm_cohort.sources.base import CELL_PROBLEMS
from imnm_cohort.sources.files import EMPTY_ROWS, read_extract

DUPLICATE_ID = PATIENTS.rule_names["field_uniqueness"]
FILE_LEVEL_SHARE = 0.5
FILE_LEVEL_MIN_ROWS = 10

REASON_COLUMNS = ("row_number", "patient_id", "column", "rule", "value")

# pandera gathers its failure cases with a pandas concatenation that warns (FutureWarning)
# when one check's cases are all missing: an empty required number, in the reference-rate
# file. The warning is about pandera's own frame, never about the data: kept off stderr.
warnings.filterwarnings(
    "ignore",
    message="The behavior of DataFrame concatenation with empty or all-NA entries",
    category=FutureWarning,
    module=r"pandera\.",
)


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of validating one extract.

    Attributes
    ----------
    source : str
        Where the extract came from (a path, or a name given by the caller).
    input_rows : int
        Data rows in the input.
    valid : pandas.DataFrame
        The valid rows, typed, indexed by ``row_number`` (1 = the first row below the header),
        contract columns first and extra columns after them, untouched.
    quarantine : pandas.DataFrame
        One row per rejected input row: ``row_number``, ``quarantine_reasons`` (every reason
        as ``column:rule=value``, ``; ``-separated), then the row's cells as they were read.
        Patient-level: it carries patient ids.
    reasons : pandas.DataFrame
        One row per reason: ``row_number``, ``patient_id``, ``column``, ``rule``, ``value``.
    warnings : pandas.DataFrame
        Data-quality warnings on valid rows: ``row_number``, ``patient_id``, ``column``,
        ``code``, ``value`` (codes in :data:`WARNING_CODES`).
    absent_columns : tuple of str
        Optional contract columns that the file did not have (read as empty).
    export_rows : int or None
        Rows of the export, when the extract was made from it by a mapping file (rows of the
        extract are then patients); None otherwise.
    mapping : dict or None
        The mapping file used (``file``, ``sha256``, and ``left_out_columns`` of a combined
        export), or None.
    empty_rows : int
        Rows with every cell empty after the last data row, left out by the reader and not
        counted in ``input_rows`` (the file's rows below the header are
        ``input_rows + empty_rows``).
    """

    source: str
    input_rows: int
    valid: pd.DataFrame = field(repr=False)
    quarantine: pd.DataFrame = field(repr=False)
    reasons: pd.DataFrame = field(repr=False)
    warnings: pd.DataFrame = field(repr=False)
    absent_columns: tuple[str, ...] = ()
    export_rows: int | None = None
    mapping: dict[str, Any] | None = None
    empty_rows: int = 0

    @property
    def valid_rows(self) -> int:
        """Number of valid rows."""
        return len(self.valid)

    @property
    def quarantined_rows(self) -> int:
        """Number of quarantined rows."""
        return len(self.quarantine)

    def reason_counts(self) -> pd.DataFrame:
        """Rows per (column, rule), most frequent first; a row counts once per reason."""
        return _reason_counts(self.reasons)

    def warning_counts(self) -> pd.DataFrame:
        """Rows per warning code, most frequent first."""
        counts = self.warnings.groupby("code")["row_number"].nunique().rename("rows").reset_index()
        return counts.sort_values(["rows", "code"], ascending=[False, True], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """Aggregate summary (no patient-level values), for reports and JSON."""
        counts = {
            "input_rows": self.input_rows,
            "valid_rows": self.valid_rows,
            "quarantined_rows": self.quarantined_rows,
        }
        if self.export_rows is not None:
            counts["export_rows"] = self.export_rows
        if self.empty_rows:
            counts["empty_rows"] = self.empty_rows
        extra = {"mapping": self.mapping} if self.mapping is not None else {}
        return {
            "source": Path(self.source).name,
            "counts": counts,
            "quarantine_reasons": [
                {"column": str(r["column"]), "rule": str(r["rule"]), "rows": int(r["rows"])}
                for r in self.reason_counts().to_dict("records")
            ],
            "warnings": [
                {
                    "code": str(r["code"]),
                    "description": WARNING_CODES[str(r["code"])],
                    "rows": int(r["rows"]),
                }
                for r in self.warning_counts().to_dict("records")
            ],
            "absent_columns": list(self.absent_columns),
            **extra,
        }


def load_extract(path: str | Path) -> ValidationResult:
    """Read and validate an extract file.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.parquet`` or ``.xlsx`` extract.

    Returns
    -------
    ValidationResult

    Raises
    ------
    ExtractError
        The file cannot be used (including :class:`~imnm_cohort.errors.FileLevelError`).
    """
    return validate_extract(read_extract(path), source=str(path))


def validate_extract(
    raw: pd.DataFrame,
    source: str = "<frame>",
    *,
    prior_failures: pd.DataFrame | None = None,
    column_sources: dict[str, str] | None = None,
) -> ValidationResult:
    """Validate a text frame against contract v1 and quarantine the rows that break it.

    Parameters
    ----------
    raw : pandas.DataFrame
        Text cells as returned by :func:`~imnm_cohort.sources.files.read_extract`. Not
        modified; contract columns it lacks are read as empty (and listed in
        ``absent_columns``).
    source : str
        Name used in messages.
    prior_failures : pandas.DataFrame, optional
        Failures found before validation (by a mapping): ``index``, ``column``, ``rule``,
        ``value``; counted with the parsing failures.
    column_sources : dict, optional
        Contract column -> the source column it came from (by a mapping); reasons then
        carry a ``source_column`` and the quarantine text names both.

    Returns
    -------
    ValidationResult

    Raises
    ------
    FileLevelError
        When more than half of the rows break the same rule.
    """
    return validate_rows(raw, source, prior_failures=prior_failures, column_sources=column_sources)


def validate_rows(
    raw: pd.DataFrame,
    source: str = "<frame>",
    *,
    prior_failures: pd.DataFrame | None = None,
    column_sources: dict[str, str] | None = None,
    first_row: int = 1,
    duplicated_ids: pa.Array | None = None,
    file_level: bool = True,
) -> ValidationResult:
    """Validate rows that may be one batch of a larger file (see :func:`validate_extract`).

    Parameters
    ----------
    raw : pandas.DataFrame
        Text cells, as for :func:`validate_extract`. Not modified.
    source : str
        Name used in messages.
    prior_failures, column_sources : optional
        As for :func:`validate_extract`.
    first_row : int
        ``row_number`` of the first row (the batch's place in the file).
    duplicated_ids : pyarrow.Array, optional
        Patient ids (trimmed) that occur more than once in the whole file: rows carrying one
        are quarantined as ``duplicate_patient_id`` even when the other rows sharing it are
        in other batches.
    file_level : bool
        Raise :class:`~imnm_cohort.errors.FileLevelError` for these rows alone; a batched
        reader passes False and judges the whole file at the end.

    Returns
    -------
    ValidationResult
    """
    checked = validate_table(
        raw,
        PATIENTS,
        source,
        prior_failures=prior_failures,
        column_sources=column_sources,
        first_row=first_row,
        duplicated_ids=duplicated_ids,
        file_level=file_level,
    )
    return ValidationResult(
        source=checked.source,
        input_rows=checked.input_rows,
        valid=checked.valid,
        quarantine=checked.quarantine,
        reasons=checked.reasons,
        warnings=checked.warnings,
        absent_columns=checked.absent_columns,
        empty_rows=int(raw.attrs.get(EMPTY_ROWS, 0)),
    )


@dataclass(frozen=True)
class Counts:
    """The rows of one validated table, with what they count.

    Attributes
    ----------
    unit : {"patients", "rows"}
        What a row is (:attr:`~imnm_cohort.contracts.table.TableContract.unit`): a count of
        event rows is never a count of patients.
    input, valid, quarantined : int
        Rows read, kept and quarantined; ``input == valid + quarantined``.
    """

    unit: str
    input: int
    valid: int
    quarantined: int

    def to_dict(self) -> dict[str, Any]:
        """``unit``, ``input_rows``, ``valid_rows``, ``quarantined_rows``."""
        return {
            "unit": self.unit,
            "input_rows": self.input,
            "valid_rows": self.valid,
            "quarantined_rows": self.quarantined,
        }


@dataclass(frozen=True)
class TableValidation:
    """The outcome of validating one table against its contract.

    Attributes
    ----------
    table : str
        The contract's name.
    unit : {"patients", "rows"}
        What one row counts.
    source : str
        Where the rows came from (a path, or a name given by the caller).
    input_rows : int
        Data rows in the input.
    valid : pandas.DataFrame
        The valid rows, typed, indexed by ``row_number`` (1 = the first row below the header),
        contract columns first and extra columns after them, untouched.
    quarantine : pandas.DataFrame
        One row per rejected input row: ``row_number``, ``quarantine_reasons`` (every reason
        as ``column:rule=value``, ``; ``-separated), then the row's cells as they were read.
    reasons : pandas.DataFrame
        One row per reason: ``row_number``, the contract's ``id_column`` (when it has one),
        ``column``, ``rule``, ``value``.
    warnings : pandas.DataFrame
        Data-quality warnings on valid rows (the contract's ``warnings``; else empty).
    absent_columns : tuple of str
        Contract columns that the input did not have (read as empty).
    """

    table: str
    unit: str
    source: str
    input_rows: int
    valid: pd.DataFrame = field(repr=False)
    quarantine: pd.DataFrame = field(repr=False)
    reasons: pd.DataFrame = field(repr=False)
    warnings: pd.DataFrame = field(repr=False)
    absent_columns: tuple[str, ...] = ()

    @property
    def valid_rows(self) -> int:
        """Number of valid rows."""
        return len(self.valid)

    @property
    def quarantined_rows(self) -> int:
        """Number of quarantined rows."""
        return len(self.quarantine)

    @property
    def counts(self) -> Counts:
        """The counts of rows, with their unit."""
        return Counts(self.unit, self.input_rows, self.valid_rows, self.quarantined_rows)

    def reason_counts(self) -> pd.DataFrame:
        """Rows per (column, rule), most frequent first; a row counts once per reason."""
        return _reason_counts(self.reasons)


def _reason_counts(reasons: pd.DataFrame) -> pd.DataFrame:
    counts = (
        reasons.groupby(["column", "rule"], sort=True)["row_number"]
        .nunique()
        .rename("rows")
        .reset_index()
    )
    return counts.sort_values(
        ["rows", "column", "rule"], ascending=[False, True, True], ignore_index=True
    )


def validate_table(
    raw: pd.DataFrame,
    contract: TableContract,
    source: str = "<frame>",
    *,
    tables: Mapping[str, TableValidation] | None = None,
    prior_failures: pd.DataFrame | None = None,
    column_sources: dict[str, str] | None = None,
    first_row: int = 1,
    duplicated_ids: pa.Array | None = None,
    file_level: bool | None = None,
) -> TableValidation:
    """Validate a frame of text cells against a table's contract; quarantine broken rows.

    Every failure is collected at once: the parsing of each column by its kind, the
    contract's pandera schema (column rules, uniqueness, order rules) and its cross-table
    rules. A row with any failure goes to the quarantine with every reason; the others are
    valid. Invariant: ``input_rows == valid_rows + quarantined_rows``.

    Parameters
    ----------
    raw : pandas.DataFrame
        Text (or typed) cells, one column per contract column; extra columns are carried
        through. Not modified. Contract columns it lacks are read as empty (and listed in
        ``absent_columns``).
    contract : TableContract
        The table's contract.
    source : str
        Name used in messages.
    tables : mapping of str to TableValidation, optional
        The outcome of other tables, by contract name, for the contract's cross-table rules
        (each rule's table must be given).
    prior_failures : pandas.DataFrame, optional
        Failures found before validation (by a mapping): ``index``, ``column``, ``rule``,
        ``value``; counted with the parsing failures.
    column_sources : dict, optional
        Contract column -> the source column it came from (by a mapping); reasons then
        carry a ``source_column`` and the quarantine text names both.
    first_row : int
        ``row_number`` of the first row (a batch's place in the file).
    duplicated_ids : pyarrow.Array, optional
        Values of the ``id_column`` that occur more than once in the whole file (batches).
    file_level : bool, optional
        Whether a rule that most rows break raises
        :class:`~imnm_cohort.errors.FileLevelError`; by default the contract's choice.

    Returns
    -------
    TableValidation

    Raises
    ------
    FileLevelError
        When more than half of the rows break the same rule (and the contract or the caller
        asks for file-level checks).
    ValueError
        When a cross-table rule's table is not given (a mistake of the calling code).
    """
    if file_level is None:
        file_level = contract.file_level
    rules = contract.cross_rules
    missing_tables = sorted({r.table for r in rules} - set(tables or {}))
    if missing_tables:
        raise ValueError(f"table {contract.name!r} has rules that need the tables {missing_tables}")
    absent = tuple(raw.attrs.get("absent_columns", ()))
    cell_problems = _cell_problems(raw.attrs.get(CELL_PROBLEMS, ()), contract)
    raw = raw.reset_index(drop=True)
    missing_columns = [c for c in contract.columns if c not in raw.columns]
    if missing_columns:  # a frame made in code: absent columns are empty, as when read
        empty = {c: pd.Series(None, index=raw.index, dtype=object) for c in missing_columns}
        raw = raw.assign(**empty)
        absent = tuple(dict.fromkeys((*absent, *missing_columns)))
    n = len(raw)
    typed, parse_failures = coerce_table(raw, contract.kinds, contract.empty_values)
    if contract.prepare is not None:
        typed = contract.prepare(typed)
    if not cell_problems.empty:  # the reader's reason for a cell replaces the parser's
        parse_failures = pd.concat(
            [cell_problems, _outside(parse_failures, cell_problems)], ignore_index=True
        )
    if prior_failures is not None and not prior_failures.empty:
        parse_failures = pd.concat([prior_failures, parse_failures], ignore_index=True)
    row_number = pd.RangeIndex(first_row, first_row + n, name="row_number")
    # The data-quality warnings are row by row: found for every row on a second thread while
    # the rows are checked, then kept for the valid rows only.
    every_row = typed.copy(deep=False)  # the same columns, numbered as rows
    every_row.index = row_number
    text_part, other_part = contract.schema_parts
    with ThreadPoolExecutor(max_workers=2) as pool:
        warned = pool.submit(_warnings, contract, every_row)
        # The text columns cannot fail to parse: their part of the schema starts at once.
        text_cases = pool.submit(_schema_cases, text_part, typed)
        # Checked before the rest of the schema runs (a column of unreadable dates would make
        # pandera collect a failure per row); the allowed values of categories are checked
        # with it, cheaply, so that every file-level problem is named at once.
        if file_level:
            categories = _outside(_category_failures(typed, raw, contract), cell_problems)
            early = pd.concat([parse_failures, categories], ignore_index=True)
            _raise_if_file_level(early, n, source, column_sources, contract)
        other_cases = _schema_cases(other_part, typed)
        schema_failures = _schema_failures([text_cases.result(), other_cases], raw, contract)
        warnings = warned.result()
    if not parse_failures.empty and not schema_failures.empty:
        parsed_cells = pd.MultiIndex.from_frame(parse_failures[["index", "column"]])
        cells = pd.MultiIndex.from_frame(schema_failures[["index", "column"]])
        schema_failures = schema_failures[~cells.isin(parsed_cells)]
    found = [parse_failures, schema_failures]
    if duplicated_ids is not None and contract.id_column is not None:
        found.append(_other_batch_duplicates(typed, raw, schema_failures, duplicated_ids, contract))
    failures = pd.concat(found, ignore_index=True)
    if file_level:
        _raise_if_file_level(failures, n, source, column_sources, contract)
    if rules:  # never file-level: a table of unknown patients is a quarantine, not an error
        across = _cross_table_failures(typed, raw, contract, tables or {})
        if not across.empty:
            failures = pd.concat([failures, across], ignore_index=True)

    failures = failures.sort_values(["index", "column", "rule"], kind="stable", ignore_index=True)
    bad = np.zeros(n, dtype=bool)
    bad[failures["index"].to_numpy(dtype=np.int64)] = True
    if bad.any() and not warnings.empty:
        kept = ~bad[warnings["row_number"].to_numpy(dtype=np.int64) - first_row]
        warnings = warnings[kept].reset_index(drop=True)
    valid = typed[~bad] if bad.any() else typed  # typed is this call's own: no copy
    valid.index = row_number[~bad]
    at = failures["index"].to_numpy(dtype=np.int64)
    named = {"row_number": at + first_row}
    if contract.id_column is not None:
        named[contract.id_column] = raw[contract.id_column].take(at).to_numpy(dtype=object)
    reasons = pd.DataFrame(
        {
            **named,
            "column": failures["column"].to_numpy(dtype=object),
            "rule": failures["rule"].to_numpy(dtype=object),
            "value": failures["value"].to_numpy(dtype=object),
        },
        columns=[*named, "column", "rule", "value"],
    )
    if column_sources is not None:
        reasons["source_column"] = reasons["column"].map(column_sources)
    quarantine = _quarantine_frame(raw, bad, reasons, first_row)
    return TableValidation(
        table=contract.name,
        unit=contract.unit,
        source=source,
        input_rows=n,
        valid=valid,
        quarantine=quarantine,
        reasons=reasons,
        warnings=warnings,
        absent_columns=absent,
    )


def _warnings(contract: TableContract, rows: pd.DataFrame) -> pd.DataFrame:
    if contract.warnings is not None:
        return contract.warnings(rows)
    return pd.DataFrame(
        {c: pd.Series(dtype=object) for c in ("row_number", "column", "code", "value")}
    )


def _cross_table_failures(
    typed: pd.DataFrame,
    raw: pd.DataFrame,
    contract: TableContract,
    tables: Mapping[str, TableValidation],
) -> pd.DataFrame:
    """The failures of the contract's cross-table rules, against the other tables."""
    found = []
    for rule in contract.cross_rules:
        other = tables[rule.table]
        hit = np.asarray(rule.check(typed, other.valid, other.quarantine), dtype=bool)
        where = np.flatnonzero(hit)
        if len(where):
            found.append(
                pd.DataFrame(
                    {"index": where, "column": rule.column, "rule": rule.code,
                     "value": raw[rule.column].to_numpy(dtype=object)[where]},
                    columns=list(FAILURE_COLUMNS),
                )
            )  # fmt: skip
    if not found:
        return _no_failures()
    return pd.concat(found, ignore_index=True)


def _no_failures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})


def _cell_problems(
    problems: tuple[tuple[int, str, str, str], ...], contract: TableContract = PATIENTS
) -> pd.DataFrame:
    """A reader's problems in the cells of contract columns, as failures (a spreadsheet's
    error values and formulas without a saved result); extra columns are carried as read."""
    kept = [p for p in problems if p[1] in contract.columns]
    if not kept:
        return _no_failures()
    return pd.DataFrame(kept, columns=list(FAILURE_COLUMNS)).astype({"index": np.int64})


def _outside(failures: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """``failures`` on other cells than those of ``cells`` (same ``index`` and ``column``)."""
    if cells.empty or failures.empty:
        return failures
    taken = pd.MultiIndex.from_frame(cells[["index", "column"]])
    return failures[~pd.MultiIndex.from_frame(failures[["index", "column"]]).isin(taken)]


def _other_batch_duplicates(
    typed: pd.DataFrame,
    raw: pd.DataFrame,
    schema_failures: pd.DataFrame,
    duplicated: pa.Array,
    contract: TableContract = PATIENTS,
) -> pd.DataFrame:
    """Rows whose id the whole file repeats, not already flagged within these rows."""
    id_column = contract.id_column or "patient_id"
    duplicate = contract.rule_names.get("field_uniqueness", DUPLICATE_ID)
    ids = pa.chunked_array(typed[id_column].array.__arrow_array__())
    hit = pc.fill_null(pc.is_in(ids, value_set=duplicated), False).to_numpy(zero_copy_only=False)
    flagged = schema_failures["index"][schema_failures["rule"] == duplicate].to_numpy()
    hit = np.asarray(hit, dtype=bool)
    hit[flagged.astype(np.int64)] = False
    index = np.flatnonzero(hit)
    return pd.DataFrame(
        {
            "index": index,
            "column": id_column,
            "rule": duplicate,
            "value": raw[id_column].to_numpy(dtype=object)[index],
        },
        columns=list(FAILURE_COLUMNS),
    )


#: :data:`~imnm_cohort.contracts.patients.EXTRACT_SCHEMA` in two parts, run on two threads
#: (:attr:`~imnm_cohort.contracts.table.TableContract.schema_parts`).
_SCHEMA_PARTS = PATIENTS.schema_parts


def _schema_cases(part: DataFrameSchema, typed: pd.DataFrame) -> pd.DataFrame | None:
    """Pandera's failure cases of one part of the schema, None when every row passes."""
    try:
        # A shallow copy: no data is copied (inplace), and pandera's note of the schema it
        # validated stays on the copy, not on the frame the caller gets.
        part.validate(typed.copy(deep=False), lazy=True, inplace=True)
    except pandera.errors.SchemaErrors as exc:
        return exc.failure_cases
    return None


def _schema_failures(
    cases_by_part: list[pd.DataFrame | None],
    raw: pd.DataFrame,
    contract: TableContract = PATIENTS,
) -> pd.DataFrame:
    """The failures in the parts' cases, as ``index``, ``column``, ``rule``, ``value``."""
    found = [cases for cases in cases_by_part if cases is not None]
    if not found:
        return _no_failures()
    # As objects: a part's cases may have a column that is all missing (the wide checks').
    cases = pd.concat([part.astype(object) for part in found], ignore_index=True)
    cases = cases[cases["index"].notna()]
    wide = cases["schema_context"] == "DataFrameSchema"
    column_level = cases[~wide]
    rule = column_level["check"].astype(str).replace(dict(contract.rule_names))
    index = column_level["index"].to_numpy(dtype=np.int64)
    col_failures = pd.DataFrame(
        {
            "index": index,
            "column": column_level["column"].to_numpy(dtype=object),
            "rule": rule.to_numpy(dtype=object),
            "value": _raw_values(raw, column_level["column"].to_numpy(), index),
        },
        columns=list(FAILURE_COLUMNS),
    )
    wide_cases = cases[wide].drop_duplicates(["check", "index"])
    found = [col_failures]
    orders = {r.code: (r.earlier, r.later) for r in contract.order_rules}
    order_column = contract.order_column
    for code, group in wide_cases.groupby("check", sort=True):
        earlier, later = orders[str(code)]
        column = order_column[str(code)]
        other = earlier if column == later else later
        idx = group["index"].to_numpy(dtype=np.int64)
        value = (
            column
            + "="
            + raw[column].to_numpy(dtype=object)[idx].astype(str)
            + ", "
            + other
            + "="
            + raw[other].to_numpy(dtype=object)[idx].astype(str)
        )
        found.append(
            pd.DataFrame(
                {"index": idx, "column": column, "rule": str(code), "value": value},
                columns=list(FAILURE_COLUMNS),
            )
        )
    return pd.concat(found, ignore_index=True)


def _category_failures(
    typed: pd.DataFrame, raw: pd.DataFrame, contract: TableContract = PATIENTS
) -> pd.DataFrame:
    """``not_allowed`` failures of the category columns, by a vectorised look-up."""
    found = []
    for name, allowed in contract.allowed.items():
        values = typed[name]
        bad = (values.notna() & ~values.isin(allowed)).to_numpy(dtype=bool)
        if bad.any():
            where = np.flatnonzero(bad)
            found.append(
                pd.DataFrame(
                    {"index": where, "column": name, "rule": "not_allowed",
                     "value": raw[name].to_numpy(dtype=object)[where]},
                    columns=list(FAILURE_COLUMNS),
                )
            )  # fmt: skip
    if not found:
        return _no_failures()
    return pd.concat(found, ignore_index=True)


def _raw_values(raw: pd.DataFrame, columns: np.ndarray, index: np.ndarray) -> np.ndarray:
    values = np.empty(len(index), dtype=object)
    for name in pd.unique(columns):
        at = columns == name
        values[at] = raw[name].take(index[at]).to_numpy(dtype=object)
    return values


def _expected(contract: TableContract, column: str, rule: str, example: str | None) -> str:
    """What a rule expects, in words: the patient table's hints, or a category's values."""
    if contract is PATIENTS:
        return expected(column, rule, example)
    choices = contract.allowed.get(column)
    if rule == "not_allowed" and choices:
        close = did_you_mean(example, choices) if example is not None else ""
        return "one of " + ", ".join(choices) + close
    return expected("", rule)


def _raise_if_file_level(
    failures: pd.DataFrame,
    n_rows: int,
    source: str,
    column_sources: dict[str, str] | None = None,
    contract: TableContract = PATIENTS,
) -> None:
    """Raise one error naming every (column, rule) that most rows break (and, after a
    mapping, the source column each came from)."""
    if failures.empty or n_rows == 0:
        return
    counts = failures.groupby(["column", "rule"], sort=True)["index"].nunique()
    counts = counts[(counts >= FILE_LEVEL_MIN_ROWS) & (counts > FILE_LEVEL_SHARE * n_rows)]
    if counts.empty:
        return
    found = []
    ranked = counts.sort_values(ascending=False, kind="stable")
    for (column, rule), worst in zip(ranked.index.tolist(), ranked.tolist(), strict=True):
        hits = failures[(failures["column"] == column) & (failures["rule"] == rule)]
        shown = hits["value"].astype(object).where(hits["value"].notna(), "(empty)")
        examples = tuple(str(v)[:40] for v in pd.unique(shown.astype(str))[:3])
        found.append((str(column), str(rule), int(worst), examples))
    raise_file_level(found, n_rows, source, column_sources, contract)


def raise_file_level(
    found: list[tuple[str, str, int, tuple[str, ...]]],
    n_rows: int,
    source: str,
    column_sources: dict[str, str] | None = None,
    contract: TableContract = PATIENTS,
) -> None:
    """Raise the file-level error for ``found``: (column, rule, failing rows, up to three
    example values), most failing rows first (the in-memory and the database validators)."""
    problems = []
    for column, rule, worst, examples in found:
        hint = _expected(contract, column, rule, examples[0] if examples else None)
        problems.append((column, rule, worst, examples, hint))
    sources = column_sources or {}

    def named(c: str) -> str:
        origin = sources.get(c)
        return f"'{c}' (from '{origin}')" if origin and origin != c else f"'{c}'"

    column, rule, worst, examples, hint = problems[0]
    raise FileLevelError(
        Path(source).name if source else source,
        column,
        rule,
        worst,
        n_rows,
        examples,
        expected=hint,
        source_column=sources.get(column, ""),
        more=tuple(
            f"column {named(c)} breaks rule '{r}' in {w} rows (for example "
            + ", ".join(map(repr, e))
            + (f"; expected {h})" if h else ")")
            for c, r, w, e, h in problems[1:]
        ),
    )


def _quarantine_frame(
    raw: pd.DataFrame, bad: np.ndarray, reasons: pd.DataFrame, first_row: int = 1
) -> pd.DataFrame:
    if not bad.any():
        columns = ["row_number", "quarantine_reasons", *raw.columns]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    value = reasons["value"].astype(str).str.slice(0, 80)
    label = reasons["column"]
    if "source_column" in reasons:
        named = reasons["source_column"].notna() & (reasons["source_column"] != reasons["column"])
        label = label.where(~named, label + " (from " + reasons["source_column"].astype(str) + ")")
    text = label + ":" + reasons["rule"] + "=" + value
    joined = text.groupby(reasons["row_number"], sort=True).agg("; ".join)
    rows = raw[bad].copy()
    rows.insert(0, "quarantine_reasons", joined.to_numpy())
    rows.insert(0, "row_number", np.flatnonzero(bad) + first_row)
    return rows.reset_index(drop=True)
