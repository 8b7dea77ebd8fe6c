"""The database engine: a source's rows validated, classified and counted in their own
database; only failing keys with their reasons, the patients the analyses read, and
aggregates leave it.

For a source that hands over its rows as a table of its database
(:class:`~imnm_cohort.sources.base.TableSource`: the ``duckdb``, ``sql`` and ``spark``
kinds), a run uses this engine unless the source's ``[input] engine = "in_memory"`` says
otherwise:

* **validation** runs in the database (:func:`~imnm_cohort.validation.sql.validate_in_database`):
  the failing rows' keys with rule, column and value, the counts per rule and the warnings
  come back; the cells of the quarantined rows are then fetched for ``quarantine.csv``;
* **classification** is the one CASE expression of :func:`~imnm_cohort.classify.sql.classify_expr`,
  run over the valid rows where they are;
* **aggregates** are computed there: patients per group and per ``classification_reasons``;
* only the patients of :data:`~imnm_cohort.vocabulary.ANALYSED_GROUPS` (the three IMNM
  groups, and statin_toxic for the statin-latency comparison) are fetched, classified, for
  the analyses in memory; the scored classifiers run on them in memory.

The classified frame holds those patients alone; its ``attrs[IN_DATABASE]`` carries the
counts made in the database (the run's group sizes and reason counts come from them) and
what crossed the connection (:class:`~imnm_cohort.validation.sql.Fetched`: rows, bytes of
the Arrow tables fetched, queries).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from imnm_cohort.classify.procedure import _columns
from imnm_cohort.classify.registry import scored_classifiers
from imnm_cohort.contracts.patients import PATIENTS
from imnm_cohort.engines.base import ENGINES
from imnm_cohort.errors import ConfigError
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.sources.base import DatabaseTable, TableSource
from imnm_cohort.validation.sql import Fetched, counting_fetches, fetch
from imnm_cohort.validation.validate import ValidationResult, _quarantine_frame
from imnm_cohort.vocabulary import (
    ANALYSED_GROUPS,
    CLASSIFICATION_COLUMNS,
    GROUP_COLUMN,
    GROUPS,
    IN_DATABASE,
)

if TYPE_CHECKING:
    from imnm_cohort.classify.criteria import CriteriaSet
    from imnm_cohort.sources.base import Source


@dataclass(frozen=True)
class _Held:
    """What stays open between validation and classification: the source's table and the
    valid rows' expression."""

    opened: DatabaseTable
    valid: Any
    absent: tuple[str, ...]
    close: Callable[[], None] = field(repr=False)


@dataclass(frozen=True)
class DatabaseResult(ValidationResult):
    """A :class:`~imnm_cohort.validation.validate.ValidationResult` whose valid rows stay in
    the database: ``valid`` is empty (its columns only) and ``valid_rows`` is counted there.

    Attributes
    ----------
    counted_valid_rows : int
        The valid rows, counted in the database.
    held : object
        The open table and the valid rows' expression, for :meth:`DatabaseEngine.classify`
        (which closes the connection; a result dropped before it closes it when collected).
    """

    counted_valid_rows: int = 0
    held: Any = field(default=None, repr=False, compare=False)

    @property
    def valid_rows(self) -> int:
        """Number of valid rows (counted in the database)."""
        return self.counted_valid_rows


@dataclass(frozen=True)
class DatabaseEngine:
    """Validates, classifies and counts a database source's rows where they are.

    Attributes
    ----------
    fetched : Fetched
        What this engine has fetched from the database so far (rows, bytes, queries).
    """

    name: str = "database"
    fetched: Fetched = field(default_factory=Fetched, compare=False)

    def validate(self, source: Source) -> ValidationResult:
        """Every row of the source, validated in its database.

        Raises
        ------
        ConfigError
            The source does not keep its rows in a database, or is an export read through a
            mapping.
        ExtractError
            The database cannot be used, or most rows break one rule (as in memory).
        """
        if isinstance(source, MappedSource) or not isinstance(source, TableSource):
            raise ConfigError(
                f"{source.name}: the database engine reads a source kept in a database "
                '(kind = "duckdb", "sql" or "spark") holding an extract; use the in_memory engine'
            )
        with counting_fetches(self.fetched):
            opened = source.open_table()
            try:
                with opened.failures():
                    return self._validate(source, opened)
            except BaseException:
                opened.close()
                raise

    def _validate(self, source: Source, opened: DatabaseTable) -> DatabaseResult:
        from imnm_cohort.validation.sql import validate_in_database

        row = opened.row_column
        found = validate_in_database(
            opened.table, PATIENTS, source.name, order_by=row, number_warnings=True
        )
        reasons = pd.DataFrame(
            {
                "row_number": found.reasons[row].to_numpy(dtype=np.int64),
                "patient_id": _missing_as_na(found.reasons["patient_id"]),
                "column": found.reasons["column"].to_numpy(dtype=object),
                "rule": found.reasons["rule"].to_numpy(dtype=object),
                "value": _missing_as_na(found.reasons["value"]),
            }
        ).sort_values(["row_number", "column", "rule"], kind="stable", ignore_index=True)
        absent = tuple(c for c in PATIENTS.column_names if c not in opened.columns)
        columns = [*opened.columns, *absent]
        quarantine = self._quarantine(opened, reasons, columns)
        warnings = found.warnings.sort_values("row_number", kind="stable", ignore_index=True)
        warnings["row_number"] = warnings["row_number"].astype(np.int64)
        close = _once(opened.close)
        result = DatabaseResult(
            source=source.name,
            input_rows=found.input_rows,
            valid=pd.DataFrame({c: pd.Series(dtype=object) for c in columns}),
            quarantine=quarantine,
            reasons=reasons,
            warnings=warnings,
            absent_columns=found.absent_columns,
            empty_rows=opened.empty_rows,
            counted_valid_rows=found.valid_rows,
            held=_Held(opened, found.valid, absent, close),
        )
        # Closed by classify(); or, when the run stops before it, once the result is gone.
        weakref.finalize(result, close)
        return result

    def _quarantine(
        self, opened: DatabaseTable, reasons: pd.DataFrame, columns: list[str]
    ) -> pd.DataFrame:
        """The quarantined rows' cells as stored, fetched by their row numbers, with their
        reasons (as the in-memory quarantine)."""
        import ibis

        row = opened.row_column
        numbers = np.unique(reasons["row_number"].to_numpy(dtype=np.int64))
        if not len(numbers):
            return _quarantine_frame(
                pd.DataFrame({c: pd.Series(dtype=object) for c in columns}),
                np.zeros(0, dtype=bool),
                reasons,
            )
        wanted = ibis.memtable(pd.DataFrame({"_imnm_wanted": numbers}))
        table = opened.table
        picked = table.inner_join(wanted, table[row] == wanted["_imnm_wanted"])
        cells = fetch(picked.select(*opened.columns, row).order_by(row))
        raw = cells[list(opened.columns)].astype(object)
        raw = raw.where(raw.notna(), None)
        for name in columns[len(opened.columns) :]:
            raw[name] = None
        frame = _quarantine_frame(raw, np.ones(len(raw), dtype=bool), reasons)
        frame["row_number"] = cells[row].to_numpy(dtype=np.int64)
        return frame

    def classify(self, result: ValidationResult, criteria: CriteriaSet) -> pd.DataFrame:
        """The patients of :data:`~imnm_cohort.vocabulary.ANALYSED_GROUPS`, classified in
        the database (the scored classifiers in memory), indexed by row number; the counts of
        every group and reason, made in the database, in ``attrs[IN_DATABASE]``. The
        connection is closed afterwards.

        Raises
        ------
        ValueError
            ``result`` was not made by this engine's :meth:`validate`.
        """
        held = getattr(result, "held", None)
        if not isinstance(result, DatabaseResult) or not isinstance(held, _Held):
            raise ValueError("the database engine classifies the result of its own validate()")
        try:
            with counting_fetches(self.fetched), held.opened.failures():
                return self._classify(result, held, criteria)
        finally:
            held.close()

    def _classify(self, result: DatabaseResult, held: _Held, criteria: CriteriaSet) -> pd.DataFrame:
        from imnm_cohort.classify.sql import classify_expr
        from imnm_cohort.validation.sql import arrow_as_in_memory, fetch_arrow

        row = held.opened.row_column
        expr = classify_expr(held.valid, criteria)
        counted = fetch(
            expr.group_by([GROUP_COLUMN, "classification_reasons"]).aggregate(patients=expr.count())
        )
        groups = dict.fromkeys(GROUPS, 0)
        reasons: dict[str, int] = {}
        for group, combination, n in counted.itertuples(index=False):  # a few dozen rows
            groups[str(group)] += int(n)
            for code in str(combination).split(";"):
                reasons[code] = reasons.get(code, 0) + int(n)
        analysed = expr.filter(expr[GROUP_COLUMN].isin(list(ANALYSED_GROUPS)))
        order = [*held.opened.columns, *held.absent]
        # Fetched as Arrow and typed column by column: the analysed patients are most of
        # the rows, and a detour through Python objects would cost more than the query.
        fetched = fetch_arrow(analysed.select(*order, row, *CLASSIFICATION_COLUMNS).order_by(row))
        index = pd.Index(fetched[row].to_numpy(zero_copy_only=False), name="row_number")
        index = index.astype(np.int64)
        typed = arrow_as_in_memory(fetched, PATIENTS)
        extra = [c for c in held.opened.columns if c not in PATIENTS.columns]
        text = pd.DataFrame({c: _objects(fetched[c]) for c in extra}, index=typed.index)
        patients = pd.concat([typed, text], axis=1)[order]
        patients.index = index
        added = pd.DataFrame(
            {
                GROUP_COLUMN: pd.Categorical(
                    _objects(fetched[GROUP_COLUMN]), categories=list(GROUPS)
                ),
                **{c: _objects(fetched[c]) for c in CLASSIFICATION_COLUMNS[1:3]},
                **{
                    c: fetched[c].to_numpy(zero_copy_only=False).astype(float)
                    for c in CLASSIFICATION_COLUMNS[3:]
                },
            },
            index=index,
        )
        parts: list[pd.DataFrame] = [added]
        for scorer in scored_classifiers(None):
            parts.append(scorer.classify(_columns(scorer.columns_required, patients, *parts)))
        classified = pd.concat([patients, *parts], axis=1)
        classified.attrs[IN_DATABASE] = {
            "groups": groups,
            "levels": _levels(held.valid),
            "classification_reasons": dict(sorted(reasons.items())),
            "rows": result.input_rows,
            "fetched": {
                "rows": self.fetched.rows,
                "bytes": self.fetched.bytes,
                "queries": self.fetched.queries,
            },
        }
        return classified


def _levels(valid: Any) -> dict[str, list[str]]:
    """The values held by the valid patients in each category and boolean column of the
    contract (booleans as ``no`` / ``yes``), found in the database in one pass (each
    column's distinct values collected by one aggregate): Table 1 lists a level any valid
    patient holds, fetched or not, as in memory."""
    kinds = {n: k for n, k in PATIENTS.kinds.items() if k in ("category", "bool")}
    if not kinds:
        return {}
    collected = {
        f"c{i}": valid[name].cast("string").collect(distinct=True) for i, name in enumerate(kinds)
    }
    found = fetch(valid.aggregate(**collected)).iloc[0]
    words = {"true": "yes", "false": "no"}
    levels: dict[str, list[str]] = {}
    for i, (name, kind) in enumerate(kinds.items()):
        values = found[f"c{i}"]
        listed = values if isinstance(values, (list, tuple, np.ndarray)) else []  # no rows
        held = [str(v) for v in listed if v is not None and not pd.isna(v)]
        if kind == "bool":
            held = [words.get(v.lower(), v.lower()) for v in held]
        levels[name] = sorted(set(held))
    return levels


def _once(close: Callable[[], None]) -> Callable[[], None]:
    """``close``, run the first time only."""
    done: list[bool] = []

    def run() -> None:
        if not done:
            done.append(True)
            close()

    return run


def _objects(column: Any) -> np.ndarray:
    """An Arrow column of text as Python objects, a missing cell ``None``."""
    return np.asarray(column.to_pandas(), dtype=object)


def _missing_as_na(values: pd.Series) -> np.ndarray:
    """Cells as the source's text frame holds them: a missing one is ``pd.NA``."""
    out = values.to_numpy(dtype=object)
    out[pd.isna(out)] = pd.NA
    return out


ENGINES["database"] = lambda batch_rows: DatabaseEngine()
