"""Validate the event tables of contract section 6 against the patient table.

Each table named in a pipeline's ``[input.tables]`` is read through its source
(:data:`~imnm_cohort.sources.base.TABLE_SOURCES`) and validated from its contract
(:data:`~imnm_cohort.contracts.events.EVENT_TABLES`) by
:func:`~imnm_cohort.validation.validate.validate_table`, with the patient table's outcome
for the cross-table rules (``unknown_patient``, ``patient_quarantined``,
``outside_observation``). The result is one :class:`EventTables` bundle that a run carries
beside the patient table's :class:`~imnm_cohort.validation.validate.ValidationResult`.

Invariant, per table: input rows = valid rows + quarantined rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from imnm_cohort.contracts.events import EVENT_TABLES
from imnm_cohort.contracts.observation import PATIENT_TABLE
from imnm_cohort.contracts.table import KIND_DTYPES
from imnm_cohort.contracts.treatments import CLASS_COLUMN, drug_class
from imnm_cohort.sources.base import Source
from imnm_cohort.sources.files import EXTRA_PREFIX
from imnm_cohort.validation.validate import TableValidation, ValidationResult, validate_table


@dataclass(frozen=True)
class EventTables:
    """The validated event tables of a run, by name (contract section 6).

    Attributes
    ----------
    tables : mapping of str to TableValidation
        Each table given, in contract order: its valid rows (typed, indexed by
        ``row_number``, the contract's columns under their contract names), its quarantine
        (every reason of each rejected row) and its counts (``unit`` = ``"rows"``).
    labels : mapping of str to str
        Each table's source label (a file's name), for reports and the manifest.
    descriptions : mapping of str to dict
        Each table's ``Source.describe()`` and the SHA-256 of its content, for the manifest.

    Examples
    --------
    A stage reads a table's valid rows with :meth:`frame`; a table not given is an empty
    frame with the contract's columns, so an analysis needs no special case:

    >>> visits = tables.frame("visits")  # doctest: +SKIP
    >>> visits.groupby("patient_id")["ck"].max()  # doctest: +SKIP
    """

    tables: Mapping[str, TableValidation] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    def __getitem__(self, name: str) -> TableValidation:
        return self.tables[name]

    def frame(self, name: str) -> pd.DataFrame:
        """The valid rows of table ``name``: typed, indexed by ``row_number``, with the
        section-6 columns under their contract names (treatments also ``drug_class``);
        an empty frame of those columns when the table was not given.

        Raises
        ------
        KeyError
            ``name`` is not an event table of the contract.
        """
        if name not in EVENT_TABLES:
            raise KeyError(f"{name!r} is not an event table; known: {', '.join(EVENT_TABLES)}")
        if name in self.tables:
            return self.tables[name].valid
        return _empty(name)

    def to_dict(self) -> dict[str, Any]:
        """Aggregate counts per table (rows, never patients): ``unit``, ``input_rows``,
        ``valid_rows``, ``quarantined_rows`` and the quarantine reasons by column and rule."""
        return {
            name: {
                "source": self.labels.get(name, checked.source),
                **checked.counts.to_dict(),
                "quarantine_reasons": [
                    {"column": str(r["column"]), "rule": str(r["rule"]), "rows": int(r["rows"])}
                    for r in checked.reason_counts().to_dict("records")
                ],
            }
            for name, checked in self.tables.items()
        }


def _empty(name: str) -> pd.DataFrame:
    """The valid rows of a table not given: none, with the contract's columns and dtypes."""
    contract = EVENT_TABLES[name]
    columns = {c: pd.Series(dtype=KIND_DTYPES[k]) for c, k in contract.kinds.items()}
    if name == "treatments":
        columns[CLASS_COLUMN] = pd.Series(dtype=pd.StringDtype("pyarrow"))
    return pd.DataFrame(columns, index=pd.RangeIndex(0, name="row_number"))


def patient_table(result: ValidationResult) -> TableValidation:
    """The patient table's outcome as the cross-table rules take it."""
    return TableValidation(
        table=PATIENT_TABLE,
        unit="patients",
        source=result.source,
        input_rows=result.input_rows,
        valid=result.valid,
        quarantine=result.quarantine,
        reasons=result.reasons,
        warnings=result.warnings,
        absent_columns=result.absent_columns,
    )


def validate_events(
    raw: Mapping[str, pd.DataFrame],
    patients: ValidationResult,
    sources: Mapping[str, str] | None = None,
) -> EventTables:
    """Validate event tables given as frames of text cells, against the patient table.

    Parameters
    ----------
    raw : mapping of str to pandas.DataFrame
        Table name -> its rows as text cells (as :func:`~imnm_cohort.sources.files.read_table`
        gives a file). Not modified.
    patients : ValidationResult
        The patient table's outcome.
    sources : mapping of str to str, optional
        Table name -> the name messages use (a path).

    Returns
    -------
    EventTables

    Raises
    ------
    KeyError
        A name that is not an event table.
    FileLevelError
        Most rows of a table break one rule of its own (never a cross-table rule).
    """
    unknown = sorted(set(raw) - set(EVENT_TABLES))
    if unknown:
        raise KeyError(f"not event tables: {', '.join(unknown)}; known: {', '.join(EVENT_TABLES)}")
    others = {PATIENT_TABLE: patient_table(patients)}
    names = sources or {}
    checked = {}
    for name, contract in EVENT_TABLES.items():  # contract order, whatever the caller's
        if name not in raw:
            continue
        table = validate_table(raw[name], contract, names.get(name, name), tables=others)
        checked[name] = _with_classes(table) if name == "treatments" else table
    return EventTables(checked, labels={n: names.get(n, n) for n in checked})


def read_events(sources: Mapping[str, Source], patients: ValidationResult) -> EventTables:
    """Read each event table from its source and validate it (:func:`validate_events`).

    Raises
    ------
    ExtractError
        A table's source cannot be used (one line naming it), or most of its rows break one
        rule (:class:`~imnm_cohort.errors.FileLevelError`).
    """
    raw = {name: source.read() for name, source in sources.items()}
    found = validate_events(raw, patients, {n: s.name for n, s in sources.items()})
    return EventTables(
        found.tables,
        labels={n: sources[n].label for n in found.tables},
        descriptions={
            n: {**sources[n].describe(), "sha256": sources[n].fingerprint()} for n in found.tables
        },
    )


def _with_classes(table: TableValidation) -> TableValidation:
    """The valid treatments with each drug's class (``drug_class``); a file's own column of
    that name is carried as ``extract.drug_class``."""
    valid = table.valid
    if CLASS_COLUMN in valid.columns:
        valid = valid.rename(columns={CLASS_COLUMN: EXTRA_PREFIX + CLASS_COLUMN})
    valid = valid.assign(**{CLASS_COLUMN: drug_class(valid["drug"])})
    return dataclasses.replace(table, valid=valid)
