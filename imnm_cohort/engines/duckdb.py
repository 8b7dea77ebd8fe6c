"""The DuckDB engine: a source's rows validated and classified in an in-memory DuckDB
database, through :mod:`imnm_cohort.validation.sql` and :mod:`imnm_cohort.classify.sql`.

The source's text cells are loaded into a DuckDB connection with their row numbers; the
contract's rules run there (:func:`~imnm_cohort.validation.sql.validate_in_database`, the
row number giving the order of a file-level error's examples), and the failing rows' reasons,
the warnings and the valid rows come back as the in-memory engine gives them: the same
:class:`~imnm_cohort.validation.validate.ValidationResult`. The decision procedure and the
derived columns run in DuckDB (:func:`~imnm_cohort.classify.sql.classify_expr`); the scored
classifiers run in memory, as :func:`~imnm_cohort.classify` runs them.

ibis and DuckDB are imported when the engine first validates or classifies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from imnm_cohort.classify.procedure import _carry_reserved, _columns
from imnm_cohort.classify.registry import scored_classifiers
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS, PATIENTS
from imnm_cohort.engines.base import ENGINES
from imnm_cohort.errors import ConfigError
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.sources.files import EMPTY_ROWS
from imnm_cohort.validation.validate import ValidationResult, _quarantine_frame
from imnm_cohort.vocabulary import CLASSIFICATION_COLUMNS

if TYPE_CHECKING:
    from imnm_cohort.classify.criteria import CriteriaSet
    from imnm_cohort.sources.base import Source

#: The row-number column added to the loaded table (lengthened while a column has its name).
_ROW = "_imnm_row_number"


@dataclass(frozen=True)
class DuckdbEngine:
    """Validates a source and classifies its valid rows in an in-memory DuckDB database;
    the results equal the in-memory engine's.

    Parameters
    ----------
    name : str
        The engine's name.
    connect : callable or None
        Opens the ibis connection the rows are loaded into (as temporary tables, closed
        when the call returns); None for an in-memory DuckDB database. The specification
        tests pass a PostgreSQL connection here, to run every rule on that server too.
    """

    name: str = "duckdb"
    connect: Callable[[], Any] | None = None

    def _connection(self) -> Any:
        import ibis

        return ibis.duckdb.connect() if self.connect is None else self.connect()

    def validate(self, source: Source) -> ValidationResult:
        """Every row of the source, validated in DuckDB.

        Raises
        ------
        ConfigError
            The source is an export read through a mapping (map the export first).
        ExtractError
            As the in-memory engine.
        """
        if isinstance(source, MappedSource):
            raise ConfigError(
                f"{source.name}: the duckdb engine reads an extract, not an export through a "
                "mapping; map the export first (map)"
            )
        raw = source.read()
        row = _free_name(raw.columns)
        con = self._connection()
        try:
            return self._validate(source, raw, row, _load(con, raw, row))
        finally:
            con.disconnect()

    def _validate(
        self, source: Source, raw: pd.DataFrame, row: str, table: Any
    ) -> ValidationResult:
        from imnm_cohort.validation.sql import _as_in_memory, validate_in_database

        found = validate_in_database(table, PATIENTS, source.name, order_by=row)
        n = found.input_rows
        at = found.reasons[row].to_numpy(dtype=np.int64) - 1 if n else np.zeros(0, np.int64)
        ids = found.reasons["patient_id"].to_numpy(dtype=object)
        if "patient_id" in raw.columns:
            ids = raw["patient_id"].take(at).to_numpy(dtype=object)
        reasons = pd.DataFrame(
            {
                "row_number": at + 1,
                "patient_id": ids,
                "column": found.reasons["column"].to_numpy(dtype=object),
                "rule": found.reasons["rule"].to_numpy(dtype=object),
                "value": found.reasons["value"].to_numpy(dtype=object),
            }
        ).sort_values(["row_number", "column", "rule"], kind="stable", ignore_index=True)
        bad = np.zeros(n, dtype=bool)
        bad[at] = True
        fetched = found.valid.order_by(row).to_pandas()
        rows = pd.Index(fetched.pop(row).to_numpy(dtype=np.int64), name="row_number")
        typed = _as_in_memory(fetched, PATIENTS)
        extra = [c for c in fetched.columns if c not in PATIENTS.columns]
        valid = pd.concat(
            [typed, raw.iloc[rows.to_numpy() - 1][extra].set_axis(fetched.index)], axis=1
        )
        valid.index = rows
        # In memory's order: the source's columns, then the absent contract columns.
        order = [*map(str, raw.columns), *(c for c in PATIENTS.column_names if c not in raw)]
        valid = valid[order]
        absent = {  # read as empty, as in memory
            c: pd.Series(None, index=raw.index, dtype=object)
            for c in found.absent_columns
            if c not in raw
        }
        warnings = found.warnings.copy()
        number = pd.Series(rows.to_numpy(), index=valid["patient_id"].astype(object).to_numpy())
        warnings.insert(0, "row_number", warnings["patient_id"].map(number).to_numpy(np.int64))
        warnings = warnings.sort_values("row_number", kind="stable", ignore_index=True)
        return ValidationResult(
            source=source.name,
            input_rows=n,
            valid=valid,
            quarantine=_quarantine_frame(raw.assign(**absent), bad, reasons),
            reasons=reasons,
            warnings=warnings,
            absent_columns=found.absent_columns,
            empty_rows=int(raw.attrs.get(EMPTY_ROWS, 0)),
        )

    def classify(self, result: ValidationResult, criteria: CriteriaSet) -> pd.DataFrame:
        """The valid rows, classified: the decision procedure and the derived columns in
        DuckDB, the scored classifiers in memory."""
        from imnm_cohort.classify.sql import classified_frame, classify_expr

        patients = _carry_reserved(result.valid)
        own = [c for c in CONTRACT_COLUMNS if c in result.valid.columns]
        row = _free_name(own)
        loaded = result.valid[own].reset_index(drop=True)
        loaded[row] = np.arange(len(loaded), dtype=np.int64)
        con = self._connection()
        try:
            table = con.create_table(
                _table_name("patients"), _arrow(loaded, _typed_schema(loaded)), temp=True
            )
            expr = classify_expr(table, criteria)
            added = list(CLASSIFICATION_COLUMNS)
            frame = classified_frame(expr.order_by(row).select(*added))
        finally:
            con.disconnect()
        frame.index = result.valid.index
        parts: list[pd.DataFrame] = [frame]
        for scorer in scored_classifiers(None):
            parts.append(scorer.classify(_columns(scorer.columns_required, patients, *parts)))
        return pd.concat([patients, *parts], axis=1)


def _free_name(columns: Any) -> str:
    """The row-number column's name, unused by ``columns``."""
    name = _ROW
    while name in set(map(str, columns)):
        name = "_" + name
    return name


def _typed_schema(loaded: pd.DataFrame) -> Any:
    """The ibis schema of the valid rows, a column with no value typed by its contract kind
    (a server such as PostgreSQL does not take a column of type NULL)."""
    import ibis

    from imnm_cohort.validation.sql import _IBIS_TYPES

    kinds = PATIENTS.kinds
    inferred = ibis.memtable(loaded).schema()
    return ibis.schema(
        {
            name: _IBIS_TYPES.get(kinds.get(name, ""), "string") if kind.is_null() else kind
            for name, kind in inferred.items()
        }
    )


def _table_name(prefix: str) -> str:
    """A temporary table's name no other session's table has (a shared server's)."""
    import uuid

    return f"imnm_{prefix}_{uuid.uuid4().hex}"


def _load(con: Any, raw: pd.DataFrame, row: str) -> Any:
    """The text cells as a temporary table of ``con`` (NULL for a missing cell) with their
    row numbers."""
    import ibis

    cells = raw.astype(object).where(raw.notna(), None).reset_index(drop=True)
    cells[row] = np.arange(1, len(cells) + 1, dtype=np.int64)
    schema = ibis.schema({**{str(c): "string" for c in raw.columns}, row: "int64"})
    return con.create_table(_table_name("extract"), _arrow(cells, schema), temp=True)


def _arrow(frame: pd.DataFrame, schema: Any) -> Any:
    """``frame`` as an Arrow table of ``schema``: typed before it reaches the connection,
    which may not take a column of type NULL (PostgreSQL through ibis)."""
    import pyarrow as pa

    columns = frame.set_axis(list(schema.names), axis=1)
    return pa.Table.from_pandas(columns, schema=schema.to_pyarrow(), preserve_index=False)


ENGINES["duckdb"] = lambda batch_rows: DuckdbEngine()
