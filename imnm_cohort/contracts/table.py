"""What a table is: its columns and their kinds, its rules, its key and what its rows count.

A :class:`TableContract` is everything the validator
(:func:`~imnm_cohort.validation.validate.validate_table`) needs to know about one input table:
the pandera schema (each column's kind and whether its value is required are in the column's
metadata), the allowed values of its categories, its cross-column order rules, its key, and
whether a row is a patient or an event. Every table is validated by the same machinery from
its contract: the patient table (:data:`~imnm_cohort.contracts.patients.PATIENTS`), the
reference-rate file (:data:`~imnm_cohort.contracts.rates.REFERENCE_RATES`) and the event
tables of contract section 6.

A rule that needs another table (an event's ``patient_id`` must be a patient of the patient
table) is a :class:`CrossTableRule`; the validator is given the other table's outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera import extensions

#: What a table's rows count: one row per patient, or many rows per patient (events).
Unit = Literal["patients", "rows"]
UNITS: tuple[str, ...] = ("patients", "rows")

#: pandas and Arrow dtype of each column kind (the parsing kinds of
#: :mod:`imnm_cohort.contracts.coerce`). ``number`` is a decimal number as the reference-rate
#: file has always read it: ``inf`` is a number there (refused by the column's range).
KIND_DTYPES: dict[str, Any] = {
    "id": pd.StringDtype("pyarrow"),
    "string": pd.StringDtype("pyarrow"),
    "category": pd.StringDtype("pyarrow"),
    "date": "datetime64[ns]",
    "bool": "boolean",
    "float": "float64",
    "number": "float64",
    "msa_list": pd.StringDtype("pyarrow"),
    "icd10": pd.StringDtype("pyarrow"),
}
#: Kinds whose text cannot fail to parse: their part of the schema runs first.
TEXT_KINDS = frozenset({"id", "string", "msa_list", "icd10"})

#: pandera's own check names, renamed to the toolkit's stable codes (a contract may rename
#: uniqueness to its own code, as the patient table does).
PANDERA_RULES: dict[str, str] = {
    "not_nullable": "missing_required",
    "field_uniqueness": "duplicate_key",
}


def _register_order_check() -> None:
    """Register the order rule's check so that a schema that uses it serialises to JSON."""
    if "date_order" in getattr(pa.Check, "REGISTERED_CUSTOM_CHECKS", {}):
        return

    @extensions.register_check_method(
        statistics=["earlier", "later", "strict"], supported_types=pd.DataFrame
    )
    def date_order(df: pd.DataFrame, *, earlier: str, later: str, strict: bool) -> pd.Series:
        """``later`` is on or after (``strict``: after) ``earlier``; empty values pass."""
        a, b = df[earlier], df[later]
        ok = (b > a) if strict else (b >= a)
        return ok | a.isna() | b.isna()


_register_order_check()


def column(
    kind: str,
    *,
    required: bool = False,
    checks: list[pa.Check] | None = None,
    description: str,
    title: str,
    unique: bool = False,
) -> pa.Column:
    """A contract column: its pandas dtype from its kind; kind and requirement in metadata.

    Parameters
    ----------
    kind : str
        One of :data:`KIND_DTYPES`: how the text of the column is parsed.
    required : bool
        Whether every row must give a value (an empty cell is ``missing_required``).
    checks : list of pandera.Check, optional
        The column's rules, each with its stable rule code as ``error``.
    description, title : str
        Words for the generated documentation.
    unique : bool
        Whether no two rows may share a value.
    """
    return pa.Column(
        KIND_DTYPES[kind],
        checks=checks or [],
        nullable=not required,
        unique=unique,
        required=True,
        description=description,
        title=title,
        metadata={"kind": kind, "value_required": required},
    )


def allowed(values: tuple[str, ...]) -> list[pa.Check]:
    """The check that a category takes one of ``values`` (rule ``not_allowed``)."""
    return [pa.Check.isin(list(values), error="not_allowed")]


@dataclass(frozen=True)
class OrderRule:
    """``later`` is on or after (``strict``: after) ``earlier`` where both are given.

    Attributes
    ----------
    code : str
        The stable rule code (a quarantine reason).
    column : str
        The column the reason is reported against (``earlier`` or ``later``).
    earlier, later : str
        The two columns compared (dates, or numbers).
    strict : bool
        Whether equal values break the rule.
    """

    code: str
    column: str
    earlier: str
    later: str
    strict: bool = False

    def check(self) -> pa.Check:
        """The rule as a wide pandera check carrying its code."""
        # The check passes empty values itself; pandera's own pass for rows whose every cell
        # is empty (a look at the whole frame for each rule) cannot change its outcome.
        return pa.Check.date_order(
            earlier=self.earlier,
            later=self.later,
            strict=self.strict,
            error=self.code,
            ignore_na=False,
        )


#: ``(rows, other_valid, other_quarantine) -> True where a row breaks the rule``: ``rows`` are
#: this table's typed rows (positions as in the input), the others the other table's outcome.
CrossCheck = Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame], Any]


@dataclass(frozen=True)
class CrossTableRule:
    """A rule that needs another table's outcome (contract section 6, cross-table rules).

    Attributes
    ----------
    code : str
        The stable rule code, e.g. ``unknown_patient``.
    column : str
        The column of this table the reason is reported against (its value is shown).
    table : str
        The name of the other table's contract; the validator must be given its outcome.
    check : callable
        ``check(rows, other_valid, other_quarantine)`` returns a boolean array (or Series)
        over ``rows``: True where the row breaks the rule. Vectorised: a join or ``isin``.
    """

    code: str
    column: str
    table: str
    check: CrossCheck = field(repr=False)


def _arrow_text(values: pd.Series) -> pyarrow.Array:
    """A column's values as one Arrow text array (Arrow-backed text without a copy)."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        values = values.astype(pd.StringDtype("pyarrow"))
    array = pyarrow.array(values)
    if isinstance(array, pyarrow.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pyarrow.large_string())


def key_in(
    table: str,
    column: str = "patient_id",
    other: str | None = None,
    *,
    unknown: str = "unknown_patient",
    quarantined: str = "patient_quarantined",
) -> tuple[CrossTableRule, CrossTableRule]:
    """Rules that ``column`` names a valid row of ``table`` (by its column ``other``).

    A value that the other table does not have at all breaks ``unknown``; a value that the
    other table has only in its quarantine breaks ``quarantined``. Empty values break
    neither (a required column says ``missing_required`` itself).
    """
    target = other or column

    def _ids(frame: pd.DataFrame) -> pyarrow.Array:
        if target not in frame.columns:
            return pyarrow.array([], type=pyarrow.large_string())
        return pc.utf8_trim_whitespace(pc.drop_null(_arrow_text(frame[target])))

    def _look_up(rows: pd.DataFrame, *frames: pd.DataFrame) -> tuple[np.ndarray, ...]:
        ids = _arrow_text(rows[column])
        given = ids.is_valid().to_numpy(zero_copy_only=False)
        found = [
            pc.fill_null(pc.is_in(ids, value_set=_ids(f)), False).to_numpy(zero_copy_only=False)
            for f in frames
        ]
        return (np.asarray(given, dtype=bool), *(np.asarray(f, dtype=bool) for f in found))

    def in_quarantine(rows: pd.DataFrame, valid: pd.DataFrame, quarantine: pd.DataFrame) -> Any:
        given, held, known = _look_up(rows, quarantine, valid)
        return given & held & ~known

    def unknown_value(rows: pd.DataFrame, valid: pd.DataFrame, quarantine: pd.DataFrame) -> Any:
        given, known, held = _look_up(rows, valid, quarantine)
        return given & ~(known | held)

    return (
        CrossTableRule(unknown, column, table, unknown_value),
        CrossTableRule(quarantined, column, table, in_quarantine),
    )


@dataclass(frozen=True, eq=False)
class TableContract:
    """One input table: columns with kinds, rules, key and the unit its rows count.

    Attributes
    ----------
    name : str
        The table's name (``patients``, ``reference_rates``, ``visits``...).
    unit : {"patients", "rows"}
        What one row is: a patient (the patient table) or a row of many per patient.
    columns : mapping of str to pandera.Column
        The contract's columns in contract order, made with :func:`column` (their kind and
        whether a value is required are in their metadata).
    order_rules : tuple of OrderRule
        Cross-column order rules, checked on the whole frame.
    key : tuple of str
        The columns that identify a row (unique in the patient table).
    id_column : str or None
        The column every reason names beside the row number (``patient_id``), if any.
    title, description, schema_name : str
        For the pandera schema and the generated documentation.
    empty_values : mapping of str to str
        Category columns whose empty cell stands for a value (``anti_hmgcr``: ``not_tested``).
    rule_names : mapping of str to str
        pandera's own check names renamed to this table's rule codes.
    file_level : bool
        Whether a rule that most rows break is a problem of the file (an error) rather than a
        quarantine of every row (contract section 1, bad input).
    first_columns : tuple of str or None
        The columns of the first part of the schema (run while the file-level checks are
        made); by default the columns whose kind cannot fail to parse (:data:`TEXT_KINDS`).
    warnings : callable or None
        ``warnings(typed_rows) -> frame`` of data-quality warnings (the rows stay valid).
    prepare : callable or None
        ``prepare(typed) -> typed``: a tidying of parsed values before the rules run (the
        rate file's site codes, written with any case and spaces).
    cross_rules : tuple of CrossTableRule
        Rules that need another table.
    derived : mapping of str to callable
        Columns added to the valid rows after validation, ``name -> derive(valid) -> Series``
        (the treatments' ``drug_class``); never read from the input.
    """

    name: str
    unit: Unit
    columns: Mapping[str, pa.Column] = field(repr=False)
    order_rules: tuple[OrderRule, ...] = ()
    key: tuple[str, ...] = ()
    id_column: str | None = None
    title: str = ""
    description: str = ""
    schema_name: str | None = None
    empty_values: Mapping[str, str] = field(default_factory=dict)
    rule_names: Mapping[str, str] = field(default_factory=lambda: dict(PANDERA_RULES))
    file_level: bool = True
    first_columns: tuple[str, ...] | None = None
    warnings: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, repr=False)
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, repr=False)
    cross_rules: tuple[CrossTableRule, ...] = ()
    derived: Mapping[str, Callable[[pd.DataFrame], pd.Series]] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"table {self.name!r}: unit must be one of {UNITS}, not {self.unit!r}")
        named = [*self.key, *(r.column for r in self.cross_rules)]
        named += [c for r in self.order_rules for c in (r.column, r.earlier, r.later)]
        if self.id_column is not None:
            named.append(self.id_column)
        unknown = sorted(set(named) - set(self.columns))
        if unknown:
            raise ValueError(f"table {self.name!r}: rules name unknown columns {unknown}")
        kinds = {name: col.metadata.get("kind") for name, col in self.columns.items()}
        odd = sorted(name for name, kind in kinds.items() if kind not in KIND_DTYPES)
        if odd:
            raise ValueError(f"table {self.name!r}: columns without a known kind {odd}")

    @cached_property
    def schema(self) -> pa.DataFrameSchema:
        """The pandera schema: the columns and the order rules as wide checks."""
        return pa.DataFrameSchema(
            name=self.schema_name or self.name,
            title=self.title or None,
            description=self.description or None,
            strict=False,
            coerce=False,
            columns=dict(self.columns),
            checks=[rule.check() for rule in self.order_rules],
        )

    @property
    def column_names(self) -> tuple[str, ...]:
        """The contract's columns, in contract order."""
        return tuple(self.columns)

    @cached_property
    def kinds(self) -> dict[str, str]:
        """Column -> its parsing kind."""
        return {name: str(col.metadata["kind"]) for name, col in self.columns.items()}

    def kind(self, name: str) -> str:
        """The parsing kind of one column (``date``, ``bool``, ``float``, ...)."""
        return self.kinds[name]

    @property
    def required(self) -> tuple[str, ...]:
        """The columns whose value is required."""
        return tuple(n for n, col in self.columns.items() if col.metadata["value_required"])

    @cached_property
    def allowed(self) -> dict[str, tuple[str, ...]]:
        """The allowed values of each category column (from its ``isin`` check)."""
        found = {}
        for name, col in self.columns.items():
            for check in col.checks:
                if check.name == "isin" and self.kinds[name] == "category":
                    found[name] = tuple(check.statistics["allowed_values"])
        return found

    @property
    def order_column(self) -> dict[str, str]:
        """For each order rule's code, the column it is reported against."""
        return {rule.code: rule.column for rule in self.order_rules}

    @cached_property
    def schema_parts(self) -> tuple[pa.DataFrameSchema, pa.DataFrameSchema]:
        """The schema in two parts, run on two threads.

        The schema's checks are independent, and their work is in Arrow and numpy kernels
        that release the interpreter lock. The first part (by default the columns whose
        text cannot fail to parse: ids and free text, among them the key's uniqueness, a
        hash of every value) runs while the file-level checks are made; the other columns
        and the cross-column rules make the second.
        """
        first = self.first_columns
        if first is None:
            first = tuple(n for n, kind in self.kinds.items() if kind in TEXT_KINDS)
        columns = self.schema.columns
        return (
            pa.DataFrameSchema(
                columns={name: columns[name] for name in first},
                checks=[],
                strict=False,
                coerce=False,
            ),
            pa.DataFrameSchema(
                columns={name: columns[name] for name in columns if name not in first},
                checks=self.schema.checks,
                strict=False,
                coerce=False,
            ),
        )


def whole_numbers(code: str = "not_whole_number") -> pa.Check:
    """The check that finite numbers are whole (infinities are left to range checks)."""
    return pa.Check(lambda s: ~np.isfinite(s) | (s == np.round(s)), error=code, name="whole_number")
