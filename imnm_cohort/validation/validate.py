"""Validate an extract against contract v1 and split it into valid and quarantined rows.

Every failure is collected at once (pandera's lazy validation plus the parsing step), then the
rows are split. Invariant, for every input: ``input_rows == valid_rows + quarantined_rows``.

A rule that more than half of the rows break (with at least :data:`FILE_LEVEL_MIN_ROWS`
failing rows) is a problem of the file, not of its rows
(:class:`~imnm_cohort.errors.FileLevelError`).
The parsing step is checked for this before the schema runs, so a date column in another
format never makes pandera collect millions of failure cases.
"""

from __future__ import annotations

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

from imnm_cohort.contracts.coerce import FAILURE_COLUMNS, coerce_extract
from imnm_cohort.contracts.hints import CATEGORY_VALUES, expected
from imnm_cohort.contracts.patients import (
    CONTRACT_COLUMNS,
    DATE_ORDER_COLUMN,
    DATE_ORDER_RULES,
    EXTRACT_SCHEMA,
    PANDERA_RULES,
)
from imnm_cohort.errors import FileLevelError
from imnm_cohort.sources.files import CELL_PROBLEMS, EMPTY_ROWS, read_extract
from imnm_cohort.vocabulary import DAYS_PER_YEAR, days_between, malignant_icd10

DUPLICATE_ID = PANDERA_RULES["field_uniqueness"]
FILE_LEVEL_SHARE = 0.5
FILE_LEVEL_MIN_ROWS = 10

CK_IMPLAUSIBLE = 100_000.0
ONSET_AGE_IMPLAUSIBLE = (2.0, 100.0)

#: Data-quality warnings: the row stays valid, the warning is recorded.
WARNING_CODES = {
    "ck_above_100000": "ck_peak above 100,000 U/L",
    "onset_age_below_2": "onset age below 2 years",
    "onset_age_above_100": "onset age above 100 years",
    "statin_started_after_onset": "statin_start_date after onset_date",
    "cancer_code_not_malignant": "cancer_icd10 outside C00-C97 (malignant neoplasms)",
    "diagnosis_after_end_of_observation": "diagnosis_date after the end of observation "
    "(no follow-up from diagnosis)",
}

REASON_COLUMNS = ("row_number", "patient_id", "column", "rule", "value")
WARNING_COLUMNS = ("row_number", "patient_id", "column", "code", "value")


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
        counts = (
            self.reasons.groupby(["column", "rule"], sort=True)["row_number"]
            .nunique()
            .rename("rows")
            .reset_index()
        )
        return counts.sort_values(
            ["rows", "column", "rule"], ascending=[False, True, True], ignore_index=True
        )

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
    absent = tuple(raw.attrs.get("absent_columns", ()))
    empty_rows = int(raw.attrs.get(EMPTY_ROWS, 0))
    cell_problems = _cell_problems(raw.attrs.get(CELL_PROBLEMS, ()))
    raw = raw.reset_index(drop=True)
    missing_columns = [c for c in CONTRACT_COLUMNS if c not in raw.columns]
    if missing_columns:  # a frame made in code: absent columns are empty, as when read
        empty = {c: pd.Series(None, index=raw.index, dtype=object) for c in missing_columns}
        raw = raw.assign(**empty)
        absent = tuple(dict.fromkeys((*absent, *missing_columns)))
    n = len(raw)
    typed, parse_failures = coerce_extract(raw)
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
    text_part, other_part = _SCHEMA_PARTS
    with ThreadPoolExecutor(max_workers=2) as pool:
        warned = pool.submit(data_quality_warnings, every_row)
        # The text columns cannot fail to parse: their part of the schema starts at once.
        text_cases = pool.submit(_schema_cases, text_part, typed)
        # Checked before the rest of the schema runs (a column of unreadable dates would make
        # pandera collect a failure per row); the allowed values of categories are checked
        # with it, cheaply, so that every file-level problem is named at once.
        if file_level:
            categories = _outside(_category_failures(typed, raw), cell_problems)
            early = pd.concat([parse_failures, categories], ignore_index=True)
            _raise_if_file_level(early, n, source, column_sources)
        other_cases = _schema_cases(other_part, typed)
        schema_failures = _schema_failures([text_cases.result(), other_cases], raw)
        warnings = warned.result()
    if not parse_failures.empty and not schema_failures.empty:
        parsed_cells = pd.MultiIndex.from_frame(parse_failures[["index", "column"]])
        cells = pd.MultiIndex.from_frame(schema_failures[["index", "column"]])
        schema_failures = schema_failures[~cells.isin(parsed_cells)]
    found = [parse_failures, schema_failures]
    if duplicated_ids is not None:
        found.append(_other_batch_duplicates(typed, raw, schema_failures, duplicated_ids))
    failures = pd.concat(found, ignore_index=True)
    if file_level:
        _raise_if_file_level(failures, n, source, column_sources)

    failures = failures.sort_values(["index", "column", "rule"], kind="stable", ignore_index=True)
    bad = np.zeros(n, dtype=bool)
    bad[failures["index"].to_numpy(dtype=np.int64)] = True
    if bad.any():
        kept = ~bad[warnings["row_number"].to_numpy(dtype=np.int64) - first_row]
        warnings = warnings[kept].reset_index(drop=True)
    valid = typed[~bad] if bad.any() else typed  # typed is this call's own: no copy
    valid.index = row_number[~bad]
    reasons = pd.DataFrame(
        {
            "row_number": failures["index"].to_numpy(dtype=np.int64) + first_row,
            "patient_id": raw["patient_id"]
            .take(failures["index"].to_numpy(dtype=np.int64))
            .to_numpy(dtype=object),
            "column": failures["column"].to_numpy(dtype=object),
            "rule": failures["rule"].to_numpy(dtype=object),
            "value": failures["value"].to_numpy(dtype=object),
        },
        columns=list(REASON_COLUMNS),
    )
    if column_sources is not None:
        reasons["source_column"] = reasons["column"].map(column_sources)
    quarantine = _quarantine_frame(raw, bad, reasons, first_row)
    return ValidationResult(
        source=source,
        input_rows=n,
        valid=valid,
        quarantine=quarantine,
        reasons=reasons,
        warnings=warnings,
        absent_columns=absent,
        empty_rows=empty_rows,
    )


def _cell_problems(problems: tuple[tuple[int, str, str, str], ...]) -> pd.DataFrame:
    """A reader's problems in the cells of contract columns, as failures (a spreadsheet's
    error values and formulas without a saved result); extra columns are carried as read."""
    kept = [p for p in problems if p[1] in CONTRACT_COLUMNS]
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
    return pd.DataFrame(kept, columns=list(FAILURE_COLUMNS)).astype({"index": np.int64})


def _outside(failures: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """``failures`` on other cells than those of ``cells`` (same ``index`` and ``column``)."""
    if cells.empty or failures.empty:
        return failures
    taken = pd.MultiIndex.from_frame(cells[["index", "column"]])
    return failures[~pd.MultiIndex.from_frame(failures[["index", "column"]]).isin(taken)]


def _other_batch_duplicates(
    typed: pd.DataFrame, raw: pd.DataFrame, schema_failures: pd.DataFrame, duplicated: pa.Array
) -> pd.DataFrame:
    """Rows whose id the whole file repeats, not already flagged within these rows."""
    ids = pa.chunked_array(typed["patient_id"].array.__arrow_array__())
    hit = pc.fill_null(pc.is_in(ids, value_set=duplicated), False).to_numpy(zero_copy_only=False)
    flagged = schema_failures["index"][schema_failures["rule"] == DUPLICATE_ID].to_numpy()
    hit = np.asarray(hit, dtype=bool)
    hit[flagged.astype(np.int64)] = False
    index = np.flatnonzero(hit)
    return pd.DataFrame(
        {
            "index": index,
            "column": "patient_id",
            "rule": DUPLICATE_ID,
            "value": raw["patient_id"].to_numpy(dtype=object)[index],
        },
        columns=list(FAILURE_COLUMNS),
    )


def _schema_parts() -> tuple[DataFrameSchema, ...]:
    """:data:`EXTRACT_SCHEMA` in two parts, run on two threads.

    The schema's checks are independent, and their work is in Arrow and numpy kernels that
    release the interpreter lock. The patient id (its uniqueness: a hash of every id) and the
    free-text columns make the first part, which runs while the file-level checks are made
    (a text column cannot fail to parse); the other columns and the cross-column date rules
    make the second.
    """
    first = ("patient_id", "other_msa", "cancer_icd10")
    columns = EXTRACT_SCHEMA.columns
    return tuple(
        DataFrameSchema(
            columns={name: columns[name] for name in names},
            checks=checks,
            strict=False,
            coerce=False,
        )
        for names, checks in (
            (first, []),
            ([name for name in columns if name not in first], EXTRACT_SCHEMA.checks),
        )
    )


_SCHEMA_PARTS = _schema_parts()


def _schema_cases(part: DataFrameSchema, typed: pd.DataFrame) -> pd.DataFrame | None:
    """Pandera's failure cases of one part of the schema, None when every row passes."""
    try:
        # A shallow copy: no data is copied (inplace), and pandera's note of the schema it
        # validated stays on the copy, not on the frame the caller gets.
        part.validate(typed.copy(deep=False), lazy=True, inplace=True)
    except pandera.errors.SchemaErrors as exc:
        return exc.failure_cases
    return None


def _schema_failures(cases_by_part: list[pd.DataFrame | None], raw: pd.DataFrame) -> pd.DataFrame:
    """The failures in the parts' cases, as ``index``, ``column``, ``rule``, ``value``."""
    found = [cases for cases in cases_by_part if cases is not None]
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
    # As objects: a part's cases may have a column that is all missing (the wide checks').
    cases = pd.concat([part.astype(object) for part in found], ignore_index=True)
    cases = cases[cases["index"].notna()]
    wide = cases["schema_context"] == "DataFrameSchema"
    column_level = cases[~wide]
    rule = column_level["check"].astype(str).replace(PANDERA_RULES)
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
    orders = {code: (earlier, later) for code, _, earlier, later, _ in DATE_ORDER_RULES}
    for code, group in wide_cases.groupby("check", sort=True):
        earlier, later = orders[str(code)]
        column = DATE_ORDER_COLUMN[str(code)]
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


def _category_failures(typed: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """``not_allowed`` failures of the category columns, by a vectorised look-up."""
    found = []
    for name, allowed in CATEGORY_VALUES.items():
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
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
    return pd.concat(found, ignore_index=True)


def _raw_values(raw: pd.DataFrame, columns: np.ndarray, index: np.ndarray) -> np.ndarray:
    values = np.empty(len(index), dtype=object)
    for name in pd.unique(columns):
        at = columns == name
        values[at] = raw[name].take(index[at]).to_numpy(dtype=object)
    return values


def _raise_if_file_level(
    failures: pd.DataFrame,
    n_rows: int,
    source: str,
    column_sources: dict[str, str] | None = None,
) -> None:
    """Raise one error naming every (column, rule) that most rows break (and, after a
    mapping, the source column each came from)."""
    if failures.empty or n_rows == 0:
        return
    counts = failures.groupby(["column", "rule"], sort=True)["index"].nunique()
    counts = counts[(counts >= FILE_LEVEL_MIN_ROWS) & (counts > FILE_LEVEL_SHARE * n_rows)]
    if counts.empty:
        return
    problems = []
    ranked = counts.sort_values(ascending=False, kind="stable")
    for (column, rule), worst in zip(ranked.index.tolist(), ranked.tolist(), strict=True):
        hits = failures[(failures["column"] == column) & (failures["rule"] == rule)]
        shown = hits["value"].astype(object).where(hits["value"].notna(), "(empty)")
        examples = tuple(str(v)[:40] for v in pd.unique(shown.astype(str))[:3])
        hint = expected(str(column), str(rule), examples[0] if examples else None)
        problems.append((str(column), str(rule), int(worst), examples, hint))
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


def data_quality_warnings(valid: pd.DataFrame) -> pd.DataFrame:
    """Implausible-but-possible values in valid rows (the rows stay valid).

    Parameters
    ----------
    valid : pandas.DataFrame
        Typed valid rows indexed by ``row_number``.

    Returns
    -------
    pandas.DataFrame
        ``row_number``, ``patient_id``, ``column``, ``code``, ``value``; codes in
        :data:`WARNING_CODES`.
    """
    age = days_between(valid["onset_date"], valid["birth_date"]) / DAYS_PER_YEAR
    icd = valid["cancer_icd10"]
    checks = [
        ("ck_peak", "ck_above_100000", valid["ck_peak"] > CK_IMPLAUSIBLE, valid["ck_peak"]),
        ("birth_date", "onset_age_below_2", age < ONSET_AGE_IMPLAUSIBLE[0], age),
        ("birth_date", "onset_age_above_100", age > ONSET_AGE_IMPLAUSIBLE[1], age),
        (
            "statin_start_date",
            "statin_started_after_onset",
            valid["statin_start_date"] > valid["onset_date"],
            valid["statin_start_date"],
        ),
        ("cancer_icd10", "cancer_code_not_malignant", icd.notna() & ~malignant_icd10(icd), icd),
        (
            "diagnosis_date",
            "diagnosis_after_end_of_observation",
            valid["diagnosis_date"] > valid["death_date"].fillna(valid["last_followup_date"]),
            valid["diagnosis_date"],
        ),
    ]
    parts = []
    for column, code, mask, values in checks:
        hit = mask.fillna(False).to_numpy(dtype=bool)
        shown = values[hit]  # formatted for the rows that carry a warning only
        if code.startswith("onset_age"):
            shown = shown.round(2)
        elif pd.api.types.is_datetime64_any_dtype(shown):  # never NaT: a comparison held
            shown = pd.Series(np.datetime_as_string(shown.to_numpy(), unit="D"), dtype=object)
        parts.append(
            pd.DataFrame(
                {
                    "row_number": valid.index.to_numpy()[hit],
                    "patient_id": valid["patient_id"][hit].to_numpy(dtype=object),
                    "column": column,
                    "code": code,
                    "value": shown.to_numpy(dtype=object),
                },
                columns=list(WARNING_COLUMNS),
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values(
        ["row_number", "code"], kind="stable", ignore_index=True
    )
