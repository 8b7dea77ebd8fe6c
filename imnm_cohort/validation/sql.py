"""Validation in the database: a table's contract as ibis expressions, run where the data is.

:func:`validate_in_database` validates an ibis table of text cells (every column text, an
empty cell NULL or blank, as a file source gives them) against a
:class:`~imnm_cohort.contracts.table.TableContract`, with the rules the in-memory validator
(:func:`~imnm_cohort.validation.validate.validate_table`) applies and the same reason codes:

- the parsing of each column by its kind (:mod:`imnm_cohort.contracts.coerce`): dates written
  ``YYYY-MM-DD`` that are real calendar days in the supported range, booleans, numbers,
  categories (ASCII letters folded, surrounding spaces removed, an empty antibody result read
  as ``not_tested``), antibody lists, ICD-10 codes;
- the contract's column checks (allowed values, ranges, patterns, antibody lists), required
  values and duplicate keys, and its order rules;
- the data-quality warnings on valid rows;
- the file-level judgement (:data:`~imnm_cohort.validation.validate.FILE_LEVEL_SHARE`,
  :data:`~imnm_cohort.validation.validate.FILE_LEVEL_MIN_ROWS`), from counts per rule
  computed in the database.

Only failing keys with their rule, column and value, the counts per rule and the warnings
leave the database; the valid rows stay there as a typed ibis expression
(:attr:`DatabaseValidation.valid`) for the classifier to run on.

A few cells cannot be judged identically by SQL on every backend: text with a character
outside ASCII (Unicode whitespace, normal form C of ids, letter case outside ASCII) and
numbers whose magnitude could overflow a cast (``1e400``). Their distinct values are fetched
and parsed by the in-memory parser itself, and the outcome is joined back in the database
(``docs/scale.md``, "Validation in the database"). Warnings are found likewise: the database
selects the valid rows that may carry one, and the contract's own warning function judges
those rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from imnm_cohort.contracts.coerce import (
    FALSE_WORDS,
    ISO_DATE_SHAPE,
    NUMBER_PATTERN,
    OUT_OF_RANGE,
    TEXT,
    TRUE_WORDS,
    _clean_text,
    _coerce_column,
)
from imnm_cohort.contracts.patients import DATE_RANGE, PATIENTS
from imnm_cohort.contracts.table import TableContract
from imnm_cohort.validation.validate import (
    FILE_LEVEL_MIN_ROWS,
    FILE_LEVEL_SHARE,
    raise_file_level,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "DatabaseValidation",
    "Fetched",
    "SqlRule",
    "arrow_as_in_memory",
    "counting_fetches",
    "fetch",
    "fetch_arrow",
    "sql_rules",
    "validate_in_database",
]

#: The ASCII characters Arrow's ``utf8_trim_whitespace`` removes from either end of a cell.
_SPACE = r"[\x09-\x0d\x1c-\x20]"
#: What RE2's ``\s`` matches (the spaces around ``;`` in an antibody list).
_RE2_SPACE = r"[\x09\x0a\x0c\x0d\x20]"
#: A character outside ASCII (or NUL): such cells are parsed by the in-memory parser.
_NOT_ASCII = r"[^\x01-\x7f]"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()
#: A number the in-memory parser reads, with ASCII digits (RE2's ``\d`` is ASCII).
_NUMBER = NUMBER_PATTERN.replace(r"\d", "[0-9]")
#: A number whose magnitude every SQL cast to a double holds (at most 100 characters and a
#: two-digit exponent: between 1e-199 and 1e199, or zero). Others are parsed in memory.
_SAFE_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,2})?$"
_SAFE_LENGTH = 100
_DATE_SHAPE = ISO_DATE_SHAPE.replace(r"\d", "[0-9]")
_PARSE_RULES = {
    "date": ("not_a_date", OUT_OF_RANGE),
    "bool": ("not_a_boolean",),
    "float": ("not_a_number",),
    "number": ("not_a_number",),
}
_IBIS_TYPES = {"date": "date", "bool": "boolean", "float": "float64", "number": "float64"}
#: The rules whose failures are judged before the schema runs in memory (parsing and the
#: allowed values of categories): a file-level problem among them is raised alone.
_EARLY_CHECKS = frozenset({"isin"})


@dataclass(frozen=True)
class SqlRule:
    """One rule of a contract as ibis expressions over the prepared table.

    Attributes
    ----------
    column, rule : str
        The column the reason names and its rule code (as in memory).
    failing : ibis BooleanValue
        True where a row breaks the rule (never NULL).
    value : ibis StringValue
        The offending value, as the in-memory reason shows it.
    early : bool
        A parsing rule or a category's allowed values (judged first for file-level problems).
    """

    column: str
    rule: str
    failing: Any = field(repr=False)
    value: Any = field(repr=False)
    early: bool = False


@dataclass(frozen=True)
class DatabaseValidation:
    """The outcome of validating a table in the database.

    Attributes
    ----------
    table, unit, source : str
        The contract's name, what a row counts and where the rows are.
    input_rows, valid_rows, quarantined_rows : int
        Counted in the database; ``input_rows == valid_rows + quarantined_rows``.
    reasons : pandas.DataFrame
        One row per reason: the contract's ``id_column`` (the cell as stored), ``column``,
        ``rule``, ``value``, then the ``order_by`` column when one is given. Patient-level.
    rule_counts : pandas.DataFrame
        ``column``, ``rule``, ``rows`` (rows breaking the rule), most frequent first, as
        :meth:`~imnm_cohort.validation.validate.TableValidation.reason_counts`.
    warnings : pandas.DataFrame
        Data-quality warnings on valid rows: the id column, ``column``, ``code``, ``value``.
    absent_columns : tuple of str
        Contract columns the table does not have (read as empty).
    valid : ibis Table
        The valid rows, typed as in memory (dates, booleans, numbers, normalised text), the
        contract's columns first and the table's other columns after them; not executed.
    """

    table: str
    unit: str
    source: str
    input_rows: int
    valid_rows: int
    quarantined_rows: int
    reasons: pd.DataFrame = field(repr=False)
    rule_counts: pd.DataFrame = field(repr=False)
    warnings: pd.DataFrame = field(repr=False)
    absent_columns: tuple[str, ...] = ()
    valid: Any = field(default=None, repr=False)

    def reason_counts(self) -> pd.DataFrame:
        """Rows per (column, rule), most frequent first (computed in the database)."""
        return self.rule_counts

    def quarantined_ids(self) -> list[Any]:
        """The distinct keys of the quarantined rows (fetched with the reasons)."""
        id_column = self.reasons.columns[0]
        return list(pd.unique(self.reasons[id_column]))


def validate_in_database(
    table: ir.Table,
    contract: TableContract = PATIENTS,
    source: str = "<database>",
    *,
    order_by: str | None = None,
    file_level: bool | None = None,
    number_warnings: bool = False,
) -> DatabaseValidation:
    """Validate an ibis table of text cells against ``contract`` in its own database.

    Parameters
    ----------
    table : ibis Table
        One column per contract column (text; an empty cell NULL or blank). Columns the
        contract does not name are carried through. A contract column it lacks is read as
        empty and listed in ``absent_columns``.
    contract : TableContract
        The table's contract (the patient table by default).
    source : str
        Name used in messages.
    order_by : str, optional
        A column giving the rows' order in the source (a row number): the example values of
        a file-level error are then the first ones in that order, as in memory. Without it
        they are the smallest ones (a table in a database has no order of its own).
    file_level : bool, optional
        Whether a rule that most rows break raises
        :class:`~imnm_cohort.errors.FileLevelError`; by default the contract's choice.
    number_warnings : bool
        With ``order_by``: the warnings start with ``row_number``, the ``order_by`` cell
        of each warned row.

    Returns
    -------
    DatabaseValidation

    Raises
    ------
    FileLevelError
        When more than half of the rows break the same rule.
    ValueError
        A contract this module cannot run in a database (cross-table rules, a ``prepare``
        step, a check without an SQL form): a mistake of the calling code.
    """
    if file_level is None:
        file_level = contract.file_level
    prepared, absent = prepare(table, contract)
    rules = sql_rules(prepared, contract)
    bad = _any(rules)
    id_column = contract.id_column or contract.column_names[0]
    # One pass over the rows keeps a narrow temporary table: each row's typed values, the
    # table's other columns, and whether it breaks each rule (booleans). The counts and the
    # valid rows read it; the failing rows' values (text) are computed again for those rows
    # alone, in the query that fetches them.
    flags = {f"_fail{i}": r.failing for i, r in enumerate(rules)}
    kept = _keep(_typed(prepared, contract, table, _bad=bad, **flags))
    counts = _rule_counts(kept, [kept[f"_fail{i}"] for i in range(len(rules))])
    n, quarantined = counts.pop(), counts.pop()
    flagged = prepared.mutate(_bad=bad)
    if file_level and n:
        for stage in (True, False):  # the parsing rules first, as in memory
            judged = [(r, c) for r, c in zip(rules, counts, strict=True) if r.early or not stage]
            _judge(flagged, judged, n, source, contract, order_by)
    if order_by is not None:  # the failing rows alone, found by their row number
        failing = _failing(table, kept, contract, order_by)
        reasons = _reasons(failing, sql_rules(failing, contract), id_column, order_by)
    else:  # no row identity: the rules run again, over every row
        reasons = _reasons(flagged, rules, id_column, order_by)
    rule_counts = pd.DataFrame(
        {
            "column": [r.column for r, c in zip(rules, counts, strict=True) if c],
            "rule": [r.rule for r, c in zip(rules, counts, strict=True) if c],
            "rows": np.array([c for c in counts if c], dtype=np.int64),
        }
    ).sort_values(["rows", "column", "rule"], ascending=[False, True, True], ignore_index=True)
    valid = kept.filter(~kept["_bad"])
    return DatabaseValidation(
        table=contract.name,
        unit=contract.unit,
        source=source,
        input_rows=n,
        valid_rows=n - quarantined,
        quarantined_rows=quarantined,
        reasons=reasons,
        rule_counts=rule_counts,
        warnings=_warnings(
            valid, contract, id_column, order_by if number_warnings and order_by else None
        ),
        absent_columns=absent,
        valid=valid.select(*table_columns(contract, table)),
    )


def table_columns(contract: TableContract, table: ir.Table) -> list[str]:
    """The contract's columns, then the table's other columns, in their order."""
    own = list(contract.column_names)
    return own + [c for c in table.columns if c not in contract.columns]


# --- the prepared table: each contract column as raw text, clean text, parse rule, value ---


def _raw(name: str) -> str:
    return f"_raw__{name}"


def _clean(name: str) -> str:
    return f"_text__{name}"


def _parse(name: str) -> str:
    return f"_rule__{name}"


def _value(name: str) -> str:
    return f"_value__{name}"


def prepare(table: ir.Table, contract: TableContract) -> tuple[ir.Table, tuple[str, ...]]:
    """The table with, for each contract column, its cells as stored (``_raw__``), as clean
    text (``_text__``), its parsing failure (``_rule__``) and its typed value (``_value__``).

    Also returns the absent contract columns. Nothing is computed yet: the result is one
    projection over ``table`` (the few cells parsed in memory joined by their value).

    Raises
    ------
    ValueError
        For a contract with cross-table rules or a ``prepare`` step.
    """
    if contract.cross_rules or contract.prepare is not None:
        raise ValueError(
            f"table {contract.name!r} has cross-table rules or a prepare step: "
            "it is validated in memory only"
        )
    absent = tuple(c for c in contract.column_names if c not in table.columns)
    raw: dict[str, Any] = {}
    for name in contract.column_names:
        if name in absent:
            raw[_raw(name)] = ibis.null("string")
        else:
            raw[_raw(name)] = _as_text(table[name])
    raw_table = table.mutate(**raw)
    backend = _backend_name(table)
    trimmed = {
        _trim(name): _trimmed(raw_table[_raw(name)], backend) for name in contract.column_names
    }
    trimmed_table = raw_table.mutate(**trimmed)
    shapes = {  # where a date is written YYYY-MM-DD: matched once, read by the parts
        f"_shaped__{name}": trimmed_table[_trim(name)].re_search(_DATE_SHAPE).fill_null(False)
        for name, kind in contract.kinds.items()
        if kind == "date"
    }
    shaped_table = trimmed_table.mutate(**shapes)
    parts = {}  # a date's calendar day (DuckDB) or its year, month and day (elsewhere)
    for name in (n for n, kind in contract.kinds.items() if kind == "date"):
        text = shaped_table[_trim(name)]
        digits = ibis.ifelse(shaped_table[f"_shaped__{name}"], text, ibis.null("string"))
        if backend == "duckdb":
            # DuckDB's TRY_CAST of a YYYY-MM-DD text is a day exactly when the month and
            # day make a real calendar day (checked for every year 0000-9999, month 00-13
            # and day 00-32 against the arithmetic used elsewhere)
            parts[f"_day__{name}"] = digits.try_cast("date")
        else:
            parts[f"_y__{name}"] = digits.substr(0, 4).cast("int64")
            parts[f"_m__{name}"] = digits.substr(5, 2).cast("int64")
            parts[f"_d__{name}"] = digits.substr(8, 2).cast("int64")
    wide = shaped_table.mutate(**parts)
    fixed = _fixes(wide, contract)
    if fixed:  # one chain of joins, on each such column's cell
        base, joined = wide, wide
        for name, cells in fixed.items():
            joined = joined.left_join(cells, base[_raw(name)] == cells[f"_fix_raw__{name}"])
        wide = joined.select(*wide.columns, *(c for t in fixed.values() for c in t.columns))
    parsed: dict[str, Any] = {}
    for name, kind in contract.kinds.items():
        clean, rule, value = _parse_column(
            wide, name, kind, contract.empty_values.get(name), backend
        )
        if name in fixed:
            flag = wide[f"_fix_flag__{name}"].fill_null(False)
            clean = ibis.ifelse(flag, wide[f"_fix_clean__{name}"], clean)
            rule = ibis.ifelse(flag, wide[f"_fix_rule__{name}"], rule)
            value = ibis.ifelse(flag, wide[f"_fix_value__{name}"], value)
        parsed[_clean(name)] = clean
        parsed[_parse(name)] = rule
        parsed[_value(name)] = value
    prepared = wide.mutate(**parsed)
    for name, col in contract.columns.items():
        if col.unique:  # how many rows share each repeated value: an aggregate of that
            # column alone, joined back (a window would carry every column through a sort)
            value = prepared[_value(name)]
            keys = prepared.select(_key=value).filter(value.notnull())
            shared = keys.group_by("_key").aggregate(_shared=keys.count())
            shared = shared.filter(shared["_shared"] > 1)
            joined = prepared.left_join(shared, value == shared["_key"])
            prepared = joined.select(*prepared.columns, **{_repeats(name): joined["_shared"]})
    fix_columns = [
        c
        for c in prepared.columns
        if c.startswith(("_fix_", "_trim__", "_shaped__", "_day__", "_y__", "_m__", "_d__"))
    ]
    if fix_columns:
        prepared = prepared.drop(*fix_columns)
    return prepared, absent


def _keep(expr: ir.Table) -> ir.Table:
    """``expr`` computed once into a temporary table of its database (dropped when the
    connection closes). Not ibis's ``cache()``: that reuses an earlier result for the same
    expression, even after the table it reads was replaced."""
    backend = expr._find_backend(use_default=True)
    name = f"_imnm_validation_{uuid.uuid4().hex}"
    return backend.create_table(name, expr, temp=True)


def _trim(name: str) -> str:
    return f"_trim__{name}"


def _repeats(name: str) -> str:
    return f"_repeats__{name}"


def _as_text(column: Any) -> Any:
    """A column as text: a typed column (a Parquet file's) written as a CSV gives it."""
    if column.type().is_string():
        return column
    if column.type().is_date():
        return column.strftime("%Y-%m-%d")
    return column.cast("string")


def _trimmed(raw: Any, backend: str = "") -> Any:
    """Surrounding ASCII whitespace removed, blank as NULL (ASCII cells; others go to
    :func:`_fixes`). On DuckDB the regular expression runs only on the cells that start or
    end with a character at or below a space (in byte order; those spaces among them): most
    cells have none. The start is read by comparing the whole cell with ``"!"`` (a cell
    sorts before it exactly when it is empty or its first character is at or below a
    space), the end by DuckDB's ``substring`` from the end (``right`` counts grapheme
    clusters, several times slower)."""
    trimmed = raw.re_replace(f"^{_SPACE}+|{_SPACE}+$", "")
    if backend == "duckdb":
        edged = (raw < "!") | (_substring(raw, -1, 1) <= " ")
        trimmed = ibis.ifelse(edged.fill_null(False), trimmed, raw)
    return trimmed.nullif("")


@ibis.udf.scalar.builtin(name="substring")  # type: ignore[untyped-decorator]
def _substring(text: str, start: int, length: int) -> str:  # type: ignore[empty-body]
    """DuckDB's ``substring`` (a negative ``start`` counts from the end)."""


def _lower(text: Any, backend: str) -> Any:
    """ASCII letters folded (the cell is ASCII: others are parsed in memory). DuckDB's
    ``lower`` is that, and several times faster than ``translate``; elsewhere a locale (a
    Turkish one folds ``I`` to a dotless i) could change it."""
    return text.lower() if backend == "duckdb" else text.translate(_UPPER, _LOWER)


def _upper(text: Any, backend: str) -> Any:
    """ASCII letters raised, as :func:`_lower`."""
    return text.upper() if backend == "duckdb" else text.translate(_LOWER, _UPPER)


def _parse_column(
    wide: ir.Table, name: str, kind: str, empty: str | None, backend: str = ""
) -> tuple[Any, Any, Any]:
    """Clean text, parsing failure (rule code or NULL) and typed value of one column."""
    text = wide[_trim(name)]
    no_rule = ibis.null("string")
    if kind == "date":
        if f"_day__{name}" in wide.columns:  # DuckDB: the day TRY_CAST read
            day_value = wide[f"_day__{name}"]
            real = day_value.notnull()
        else:
            year, month, day = (wide[f"_{p}__{name}"] for p in "ymd")
            shaped = year.notnull()
            leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
            last = ibis.cases(
                (month == 2, ibis.ifelse(leap, 29, 28)),
                (month.isin([4, 6, 9, 11]), 30),
                else_=31,
            )
            real = (shaped & month.between(1, 12) & (day >= 1) & (day <= last)).fill_null(False)
            day_value = None
        held = (text >= DATE_RANGE[0]) & (text <= DATE_RANGE[1])
        rule = ibis.cases(
            (text.isnull(), no_rule),
            (~real, "not_a_date"),
            (~held, OUT_OF_RANGE),
            else_=no_rule,
        )
        if day_value is not None:
            value = ibis.ifelse(held.fill_null(False), day_value, ibis.null("date"))
        else:
            value = ibis.ifelse(real & held, text, ibis.null("string")).cast("date")
        return text, rule, value
    if kind == "bool":
        low = _lower(text, backend)
        value = ibis.cases(
            (low.isin(list(TRUE_WORDS)), True),
            (low.isin(list(FALSE_WORDS)), False),
            else_=ibis.null("boolean"),
        )
        # a given cell that is none of the words: the value's own test, not a second list
        rule = ibis.ifelse(text.notnull() & value.isnull(), "not_a_boolean", no_rule)
        return text, rule, value
    if kind in ("float", "number"):
        number = text.re_search(_NUMBER).fill_null(False)
        safe = (text.re_search(_SAFE_NUMBER) & (text.length() <= _SAFE_LENGTH)).fill_null(False)
        rule = ibis.ifelse(text.notnull() & ~number, "not_a_number", no_rule)
        value = ibis.ifelse(safe, text, ibis.null("string")).cast("float64")
        return text, rule, value
    if kind == "category":
        value = _lower(text, backend)
        if empty is not None:
            value = value.fill_null(empty)
        return text, no_rule, value
    if kind == "msa_list":
        low = _lower(text, backend)
        tidy = low.re_replace(f"{_RE2_SPACE}*;{_RE2_SPACE}*", ";").re_replace("^;+|;+$", "")
        tidy = ibis.ifelse(tidy == "", ibis.null("string"), tidy)
        return text, no_rule, ibis.ifelse(low.contains(";"), tidy, low)
    if kind == "icd10":
        return text, no_rule, _upper(text, backend)
    return text, no_rule, text  # id (ASCII: already in normal form C) and string


def _fixes(wide: ir.Table, contract: TableContract) -> dict[str, ir.Table]:
    """The cells SQL cannot parse as the in-memory parser does, parsed by that parser: for
    each column that has some, a table of its distinct such cells as stored
    (``_fix_raw__``) with their flag, clean text, rule and value, to join on the cell.

    Such cells hold a character outside ASCII (Unicode whitespace, normal forms and letter
    case differ between backends), or a number too long or with too large an exponent for
    every backend's cast. They are rare: one query fetches them all. The outcome depends
    on the cell alone, so a join on the cell's value needs no row number.
    """
    wanted: dict[str, Any] = {}
    backend = _backend_name(wide)
    for name, kind in contract.kinds.items():
        raw = wide[_raw(name)]
        needs = _not_ascii(raw, backend)
        if kind in ("float", "number"):
            text = wide[_trim(name)]
            safe = text.re_search(_SAFE_NUMBER) & (text.length() <= _SAFE_LENGTH)
            unsafe = ~safe if kind == "number" else text.re_search(_NUMBER) & ~safe
            needs = needs | unsafe.fill_null(False)
        wanted[name] = needs.fill_null(False)
    anywhere: Any = ibis.literal(False)
    for needs in wanted.values():
        anywhere = anywhere | needs
    picked = {
        f"c{i}": ibis.ifelse(needs, wide[_raw(name)], ibis.null("string"))
        for i, (name, needs) in enumerate(wanted.items())
    }
    found = fetch(wide.filter(anywhere).select(**picked).distinct())
    tables: dict[str, ir.Table] = {}
    for i, name in enumerate(wanted):
        cells = pd.Series(pd.unique(found[f"c{i}"].dropna().astype(object)), dtype=object)
        if len(cells):
            columns, types = _fixed_cells(name, cells, contract)
            data = {f"_fix_raw__{name}": cells.to_numpy(dtype=object), **columns}
            schema = {f"_fix_raw__{name}": "string", **types}
            tables[name] = ibis.memtable(pd.DataFrame(data), schema=schema)
    return tables


@ibis.udf.scalar.builtin(name="strlen")  # type: ignore[untyped-decorator]
def _byte_length(text: str) -> int:  # type: ignore[empty-body]
    """DuckDB's ``strlen``: a text's length in bytes."""


@ibis.udf.scalar.builtin(name="chr")  # type: ignore[untyped-decorator]
def _character(code: int) -> str:  # type: ignore[empty-body]
    """DuckDB's ``chr``: the character of a code point."""


def _not_ascii(raw: Any, backend: str) -> Any:
    """Where a cell holds a character outside ``\\x01``-``\\x7f`` (:data:`_NOT_ASCII`). On
    DuckDB without a regular expression: a character outside ASCII makes the length in
    bytes differ from the length in characters, and a NUL is looked for as such (several
    times faster over every cell)."""
    if backend != "duckdb":
        return raw.re_search(_NOT_ASCII)
    return (_byte_length(raw) != raw.length()) | raw.contains(_character(0))


def _fixed_cells(
    name: str, cells: pd.Series, contract: TableContract
) -> tuple[dict[str, Any], dict[str, str]]:
    """The in-memory parser's outcome for the non-missing ``cells`` of column ``name``."""
    kind = contract.kinds[name]
    given = cells.notna().to_numpy(dtype=bool)
    distinct = pd.Series(pd.unique(cells[given]), dtype=object)
    value, failures = _coerce_column(name, distinct, kind, contract.empty_values.get(name))
    typed = value if isinstance(value, pd.Series) else pd.Series(value)
    clean = pd.Series(_clean_text(distinct).to_pandas(), dtype=object)
    rule = pd.Series([None] * len(distinct), dtype=object)
    if failures:
        hit = pd.concat(failures, ignore_index=True)
        rule.iloc[hit["index"].to_numpy(dtype=np.int64)] = hit["rule"].to_numpy()
    if kind == "date":
        stamps = pd.Series(pd.to_datetime(np.asarray(typed)))
        typed = pd.Series([d.date() if pd.notna(d) else None for d in stamps], dtype=object)
    at = pd.Index(distinct).get_indexer(cells[given])

    def spread(values: pd.Series) -> np.ndarray:
        out = np.full(len(cells), None, dtype=object)
        shown = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
        out[given] = shown[at]
        return out

    columns = {
        f"_fix_flag__{name}": given,
        f"_fix_clean__{name}": spread(clean),
        f"_fix_rule__{name}": spread(rule),
        f"_fix_value__{name}": spread(typed.reset_index(drop=True)),
    }
    types = {
        f"_fix_flag__{name}": "boolean",
        f"_fix_clean__{name}": "string",
        f"_fix_rule__{name}": "string",
        f"_fix_value__{name}": _IBIS_TYPES.get(kind, "string"),
    }
    return columns, types


# --- the rules ---


def sql_rules(prepared: ir.Table, contract: TableContract) -> list[SqlRule]:
    """Every rule of ``contract`` as ibis expressions over a :func:`prepare`-d table.

    Raises
    ------
    ValueError
        A check of the contract without an SQL form (a mistake of the calling code: add it
        here, or validate that table in memory).
    """
    rules: list[SqlRule] = []
    backend = _backend_name(prepared)
    for name, column in contract.columns.items():
        kind = contract.kinds[name]
        raw, text = prepared[_raw(name)], prepared[_clean(name)]
        parse, value = prepared[_parse(name)], prepared[_value(name)]
        for code in _PARSE_RULES.get(kind, ()):
            rules.append(SqlRule(name, code, (parse == code).fill_null(False), text, early=True))
        if not column.nullable:
            code = contract.rule_names.get("not_nullable", "missing_required")
            rules.append(SqlRule(name, code, value.isnull() & parse.isnull(), raw))
        if column.unique:
            code = contract.rule_names.get("field_uniqueness", "duplicate_key")
            repeated = prepared[_repeats(name)] > 1
            rules.append(SqlRule(name, code, (value.notnull() & repeated).fill_null(False), raw))
        for check in column.checks:
            failing = _check(check, value, backend)
            rules.append(
                SqlRule(
                    name,
                    str(check.error),
                    (value.notnull() & failing).fill_null(False),
                    raw,
                    early=check.name in _EARLY_CHECKS,
                )
            )
    for order in contract.order_rules:
        first, second = prepared[_value(order.earlier)], prepared[_value(order.later)]
        broken = (second <= first) if order.strict else (second < first)
        other = order.earlier if order.column == order.later else order.later
        shown = (
            ibis.literal(f"{order.column}=")
            .concat(prepared[_raw(order.column)])
            .concat(f", {other}=")
            .concat(prepared[_raw(other)])
        )
        rules.append(SqlRule(order.column, order.code, broken.fill_null(False), shown))
    return rules


def _check(check: Any, value: Any, backend: str) -> Any:
    """Where ``value`` breaks one pandera check (NULL where ``value`` is NULL)."""
    stats: Mapping[str, Any] = check.statistics or {}
    name = check.name
    if name == "in_range":
        low = value >= stats["min_value"] if stats.get("include_min", True) else None
        low = low if low is not None else value > stats["min_value"]
        high = value <= stats["max_value"] if stats.get("include_max", True) else None
        high = high if high is not None else value < stats["max_value"]
        return ~(low & high)
    simple: dict[str, Callable[[Any], Any]] = {
        "greater_than": lambda v: ~(v > stats.get("min_value")),
        "greater_than_or_equal_to": lambda v: ~(v >= stats.get("min_value")),
        "less_than": lambda v: ~(v < stats.get("max_value")),
        "less_than_or_equal_to": lambda v: ~(v <= stats.get("max_value")),
        "equal_to": lambda v: ~(v == stats.get("value")),
        "not_equal_to": lambda v: v == stats.get("value"),
        "isin": lambda v: ~v.isin(list(stats.get("allowed_values", ()))),
        "notin": lambda v: v.isin(list(stats.get("forbidden_values", ()))),
        "whole_number": lambda v: ~v.isinf() & (v != v.round()),
    }
    if name in simple:
        return simple[name](value)
    if name == "str_matches":
        pattern = getattr(stats["pattern"], "pattern", stats["pattern"])
        if not str(pattern).startswith("^"):
            pattern = "^" + str(pattern)  # pandas' str.match anchors at the start
        return ~value.re_search(_for_backend(str(pattern), backend))
    if name == "token_list":
        tokens = "|".join(re.escape(t) for t in stats["allowed"])
        alone = re.escape(stats["alone"])
        return ~value.re_search(f"^({alone}|({tokens})(;({tokens}))*)$")
    raise ValueError(f"check {name!r} (rule {check.error!r}) has no SQL form")


def _for_backend(pattern: str, backend: str) -> str:
    """A pattern for the backend's regular expressions.

    PostgreSQL's text holds no NUL character and its parser refuses ``\\x00``: ``\\x01``
    there means the same. Its repetition counts stop at 255: a bracket expression repeated
    ``{m,n}`` times with ``n`` above 255 is written ``{m,255}`` and ``n - 255`` optional
    ones (the same strings match).
    """
    if backend != "postgres":
        return pattern

    def bounded(match: re.Match[str]) -> str:
        item, low, high = match.group(1), int(match.group(2)), int(match.group(3))
        if high <= _PG_REPEAT_MAX:
            return match.group(0)
        return f"{item}{{{low},{_PG_REPEAT_MAX}}}" + f"{item}?" * (high - _PG_REPEAT_MAX)

    pattern = pattern.replace(r"\x00", r"\x01")
    return re.sub(r"(\[[^\]]*\])\{(\d+),(\d+)\}", bounded, pattern)


_PG_REPEAT_MAX = 255


def _backend_name(table: ir.Table) -> str:
    try:
        return str(table._find_backend().name)
    except Exception:  # an unbound table (SQL text only): the generic form
        return ""


# --- running them ---


def _rule_counts(kept: ir.Table, failing: list[Any]) -> list[int]:
    """Rows breaking each rule (``failing``: a boolean column per rule), then the
    quarantined rows and all rows, counted in the database in one pass."""
    sums = {f"r{i}": f.sum() for i, f in enumerate(failing)}
    counted = fetch(kept.aggregate(**sums, bad=kept["_bad"].sum(), rows=kept.count()))
    return [0 if pd.isna(v) else int(v) for v in counted.iloc[0].tolist()]


def _any(rules: list[SqlRule]) -> Any:
    bad: Any = ibis.literal(False)
    for rule in rules:
        bad = bad | rule.failing
    return bad


def _failing(table: ir.Table, kept: ir.Table, contract: TableContract, row: str) -> ir.Table:
    """The failing rows of ``table`` (by their row number ``row``), prepared, with each
    rule's outcome read from ``kept`` (``_fail<i>``) and ``_bad``: the rules' values are
    computed for these rows alone."""
    hits = kept.filter(kept["_bad"])
    flags = [c for c in kept.columns if c.startswith("_fail")]
    picked = hits.select(_hit_row=hits[row], _bad=hits["_bad"], **{c: hits[c] for c in flags})
    rows = table.inner_join(picked, table[row] == picked["_hit_row"]).drop("_hit_row")
    prepared, _ = prepare(rows, contract)
    return prepared


def _reasons(
    prepared: ir.Table, rules: list[SqlRule], id_column: str, order_by: str | None = None
) -> pd.DataFrame:
    """Every failing row's key, column, rule and value (and its ``order_by`` cell, when
    given), in one query over the failing rows (a flag and a value per rule), laid out one
    row per reason here. A rule's outcome is read from the column ``_fail<i>`` when
    ``prepared`` has it (:func:`_failing`)."""
    columns = [id_column, "column", "rule", "value"]
    if order_by is not None:
        columns.append(order_by)
    if not rules:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    picked = {"key": prepared[_raw(id_column)]}
    if order_by is not None:
        picked["order"] = prepared[order_by]
    for i, r in enumerate(rules):
        failing = prepared[f"_fail{i}"] if f"_fail{i}" in prepared.columns else r.failing
        picked[f"f{i}"] = failing
        picked[f"v{i}"] = ibis.ifelse(failing, r.value.cast("string"), ibis.null("string"))
    rows = fetch(prepared.filter(prepared["_bad"]).select(**picked))
    parts = []
    for i, r in enumerate(rules):
        hit = rows[rows[f"f{i}"].astype(bool)]
        if len(hit):
            parts.append(
                pd.DataFrame(
                    {
                        id_column: hit["key"].to_numpy(dtype=object),
                        "column": r.column,
                        "rule": r.rule,
                        "value": hit[f"v{i}"].to_numpy(dtype=object),
                        **({order_by: hit["order"].to_numpy()} if order_by is not None else {}),
                    },
                    columns=columns,
                )
            )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    found = pd.concat(parts, ignore_index=True).astype(object)
    found = found.where(found.notna(), None)
    return found.sort_values(
        [id_column, "column", "rule"], kind="stable", ignore_index=True, na_position="first"
    )


def _judge(
    prepared: ir.Table,
    judged: list[tuple[SqlRule, int]],
    n: int,
    source: str,
    contract: TableContract,
    order_by: str | None,
) -> None:
    """Raise a file-level error for the (column, rule) pairs most rows break, as in memory."""
    over = [(r, c) for r, c in judged if c >= FILE_LEVEL_MIN_ROWS and c > FILE_LEVEL_SHARE * n]
    if not over:
        return
    ranked = sorted(over, key=lambda rc: (-rc[1], rc[0].column, rc[0].rule))
    problems = []
    for rule, worst in ranked:
        shown = rule.value.cast("string").fill_null("(empty)")
        hits = prepared.filter(rule.failing)
        if order_by is not None:
            firsts = hits.group_by(shown=shown).aggregate(at=hits[order_by].min())
            examples = fetch(firsts.order_by("at").limit(3))["shown"]
        else:
            examples = hits.select(shown=shown).distinct().order_by("shown").limit(3)
            examples = fetch(examples)["shown"]
        problems.append((rule.column, rule.rule, worst, tuple(str(v)[:40] for v in examples)))
    raise_file_level(problems, n, source, None, contract)


def _typed(prepared: ir.Table, contract: TableContract, table: ir.Table, **more: Any) -> ir.Table:
    """Each contract column's typed value under its name, then the table's other columns,
    then ``more`` (expressions over ``prepared``)."""
    typed = {name: prepared[_value(name)] for name in contract.column_names}
    extra = [c for c in table.columns if c not in contract.columns]
    projected = prepared.select(*extra, **typed, **more)
    return projected.select(*contract.column_names, *extra, *more)


#: For a contract with warnings: the valid rows that may carry one (a superset; the
#: contract's own warning function then judges those rows in memory).
WARNING_CANDIDATES: dict[str, Callable[[Any], Any]] = {}


def _patients_candidates(t: Any) -> Any:
    age_days = t.onset_date.epoch_days() - t.birth_date.epoch_days()
    end = t.death_date.fill_null(t.last_followup_date)
    malignant = t.cancer_icd10.re_search("^C(0[0-9]|[1-8][0-9]|9[0-7])").fill_null(False)
    found = [
        t.ck_peak > 99_999,
        age_days < 740,
        age_days > 36_520,
        t.statin_start_date > t.onset_date,
        t.cancer_icd10.notnull() & ~malignant,
        t.diagnosis_date > end,
    ]
    hit: Any = ibis.literal(False)
    for one in found:
        hit = hit | one.fill_null(False)
    return hit


WARNING_CANDIDATES[PATIENTS.name] = _patients_candidates


def _warnings(
    valid: ir.Table, contract: TableContract, id_column: str, numbered_by: str | None = None
) -> pd.DataFrame:
    """The contract's data-quality warnings on the valid rows that may carry one; with
    ``numbered_by`` (a row-number column), each warning's ``row_number`` first."""
    columns = [id_column, "column", "code", "value"]
    if numbered_by is not None:
        columns.insert(0, "row_number")
    if contract.warnings is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    pick = WARNING_CANDIDATES.get(contract.name)
    rows = valid.filter(pick(valid)) if pick is not None else valid
    fetched = fetch(rows.select(*contract.column_names, *([numbered_by] if numbered_by else [])))
    typed = _as_in_memory(fetched, contract)
    if numbered_by is not None:
        numbers = fetched[numbered_by].to_numpy(dtype=np.int64)
        typed.index = pd.Index(numbers, name="row_number")
        found = contract.warnings(typed)
        if "row_number" not in found.columns:
            found = found.reset_index()
        return found[columns].reset_index(drop=True)
    typed.index = pd.RangeIndex(1, len(typed) + 1, name="row_number")
    found = contract.warnings(typed)
    return found.drop(columns=["row_number"], errors="ignore")[columns].reset_index(drop=True)


# --- what leaves the database, counted ---


@dataclass
class Fetched:
    """What crossed the connection from the database: result rows and their bytes (the
    size of the Arrow tables fetched), and the queries that returned them. A meter, added
    to while :func:`counting_fetches` is active."""

    rows: int = 0
    bytes: int = 0
    queries: int = 0

    def add(self, rows: int, size: int) -> None:
        """Count one fetched result of ``rows`` rows and ``size`` bytes."""
        self.rows += rows
        self.bytes += size
        self.queries += 1


_FETCHED: ContextVar[Fetched | None] = ContextVar("imnm_fetched", default=None)


@contextmanager
def counting_fetches(meter: Fetched | None = None) -> Iterator[Fetched]:
    """Count every :func:`fetch` inside the block into ``meter`` (a new one by default)."""
    counted = meter if meter is not None else Fetched()
    token = _FETCHED.set(counted)
    try:
        yield counted
    finally:
        _FETCHED.reset(token)


def fetch(expr: ir.Table) -> pd.DataFrame:
    """Run ``expr`` and return its rows as ibis's ``to_pandas`` gives them; inside
    :func:`counting_fetches`, fetched as Arrow and counted (rows, bytes)."""
    meter = _FETCHED.get()
    if meter is None:
        fetched: pd.DataFrame = expr.to_pandas()
        return fetched

    import pyarrow.types as pat

    table = expr.to_pyarrow()
    meter.add(table.num_rows, table.nbytes)
    frame = pd.DataFrame(
        {
            name: (
                column.to_pylist()
                if pat.is_nested(column.type) or pat.is_dictionary(column.type) or column.null_count
                else column.to_pandas()
            )
            for name, column in zip(table.column_names, table.columns, strict=True)
        },
        columns=table.column_names,
    )
    result: pd.DataFrame = expr.__pandas_result__(
        _converter(expr).convert_table(frame, expr.schema())
    )
    return result


def fetch_arrow(expr: ir.Table) -> Any:
    """Run ``expr`` and return its rows as an Arrow table (counted inside
    :func:`counting_fetches`): for many rows, :func:`arrow_as_in_memory` then makes the
    in-memory frame without a detour through Python objects."""
    table = expr.to_pyarrow()
    meter = _FETCHED.get()
    if meter is not None:
        meter.add(table.num_rows, table.nbytes)
    return table


def _converter(expr: ir.Table) -> Any:
    """The backend's own converter of fetched columns to pandas (as its ``to_pandas``)."""
    backend = _backend_name(expr)
    if backend == "duckdb":
        from ibis.backends.duckdb.converter import DuckDBPandasData

        return DuckDBPandasData
    if backend == "postgres":
        from ibis.backends.postgres.converter import PostgresPandasData

        return PostgresPandasData
    from ibis.formats.pandas import PandasData

    return PandasData


def arrow_as_in_memory(table: Any, contract: TableContract) -> pd.DataFrame:
    """Fetched typed rows (an Arrow table with the contract's columns, as
    :func:`fetch_arrow` gives them) with the in-memory dtypes of their kinds: the frame
    :func:`_as_in_memory` makes of the same rows fetched by :func:`fetch`, column by column
    from Arrow (dates as ``datetime64[ns]``, booleans as ``boolean``, numbers as
    ``float64``, text as Arrow-backed strings)."""
    import pyarrow as pa

    out: dict[str, Any] = {}
    for name, kind in contract.kinds.items():
        column = table[name]
        if kind == "date":
            stamps = column.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
            out[name] = pd.Series(stamps, dtype="datetime64[ns]")
        elif kind == "bool":
            out[name] = pd.Series(pd.array(column.to_numpy(zero_copy_only=False), dtype="boolean"))
        elif kind in ("float", "number"):
            values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
            out[name] = pd.Series(values, dtype="float64")
        else:
            text = column.cast(pa.large_string())
            out[name] = pd.Series(pd.arrays.ArrowStringArray(text), dtype=TEXT)
    return pd.DataFrame(out)


def _as_in_memory(frame: pd.DataFrame, contract: TableContract) -> pd.DataFrame:
    """Fetched typed rows with the in-memory dtypes of their kinds."""
    out: dict[str, pd.Series[Any]] = {}
    for name, kind in contract.kinds.items():
        column = frame[name]
        if kind == "date":
            out[name] = pd.to_datetime(column).astype("datetime64[ns]")
        elif kind == "bool":
            out[name] = column.astype("boolean")
        elif kind in ("float", "number"):
            out[name] = column.astype("float64")
        else:
            out[name] = column.astype(object).where(column.notna(), None).astype(TEXT)
    return pd.DataFrame(out, index=frame.index)
