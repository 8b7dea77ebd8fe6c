"""Validate the event tables of contract section 6 against the patient table.

Each table named in a pipeline's ``[input.tables]`` is read through its source
(:data:`~imnm_cohort.sources.base.TABLE_SOURCES`), or filled from a site's export by the
mapping's ``[tables.NAME]`` sections (:func:`~imnm_cohort.mapping.apply.apply_tables`), and
validated from its contract
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
from imnm_cohort.contracts.table import KIND_DTYPES, TableContract
from imnm_cohort.errors import ConfigError
from imnm_cohort.mapping.apply import MappedTable
from imnm_cohort.mapping.source import MappedSource
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
        section-6 columns under their contract names and the contract's derived ones
        (treatments: ``drug_class``); an empty frame of those columns when the table was
        not given.

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
    return _derived(pd.DataFrame(columns, index=pd.RangeIndex(0, name="row_number")), contract)


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
    *,
    mapped: Mapping[str, MappedTable] | None = None,
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
    mapped : mapping of str to MappedTable, optional
        Tables filled from an export by a mapping's ``[tables.NAME]``
        (:func:`~imnm_cohort.mapping.apply.apply_tables`): validated with the mapping's own
        reasons and source columns; their quarantine names each row's ``export_rows``.

    Returns
    -------
    EventTables

    Raises
    ------
    KeyError
        A name that is not an event table.
    ValueError
        A table given both in ``raw`` and in ``mapped``.
    FileLevelError
        Most rows of a table break one rule of its own (never a cross-table rule).
    """
    mapped = mapped or {}
    unknown = sorted((set(raw) | set(mapped)) - set(EVENT_TABLES))
    if unknown:
        raise KeyError(f"not event tables: {', '.join(unknown)}; known: {', '.join(EVENT_TABLES)}")
    both = sorted(set(raw) & set(mapped))
    if both:
        raise ValueError(f"{', '.join(both)}: given both as a table and by a mapping")
    others = {PATIENT_TABLE: patient_table(patients)}
    names = sources or {}
    checked = {}
    for name, contract in EVENT_TABLES.items():  # contract order, whatever the caller's
        if name in mapped:
            table = _validate_mapped(mapped[name], contract, names.get(name, name), others)
        elif name in raw:
            table = validate_table(raw[name], contract, names.get(name, name), tables=others)
        else:
            continue
        checked[name] = dataclasses.replace(table, valid=_derived(table.valid, contract))
    return EventTables(checked, labels={n: names.get(n, n) for n in checked})


def _validate_mapped(
    table: MappedTable,
    contract: TableContract,
    source: str,
    others: Mapping[str, TableValidation],
) -> TableValidation:
    """A mapped table validated with the mapping's reasons; its quarantine gains
    ``export_rows`` (the export row of each quarantined row) after ``row_number``."""
    checked = validate_table(
        table.rows,
        contract,
        source,
        tables=others,
        prior_failures=table.failures,
        column_sources=table.sources,
    )
    quarantine = checked.quarantine
    if "row_number" in quarantine.columns:
        at = quarantine["row_number"].to_numpy(dtype="int64") - 1
        quarantine = quarantine.copy()
        quarantine.insert(1, "export_rows", table.export_rows[at].astype(str))
    return dataclasses.replace(checked, quarantine=quarantine)


def read_events(
    sources: Mapping[str, Source],
    patients: ValidationResult,
    export: MappedSource | None = None,
) -> EventTables:
    """Read each event table from its source, or fill it from a site's export by the
    mapping's ``[tables.NAME]`` sections, and validate it (:func:`validate_events`).

    Parameters
    ----------
    sources : mapping of str to Source
        The tables of ``[input.tables]``.
    patients : ValidationResult
        The patient table's outcome.
    export : MappedSource, optional
        The pipeline's input when it is an export read through a mapping: its
        ``[tables.NAME]`` sections fill those tables.

    Raises
    ------
    ConfigError
        A table given both in ``[input.tables]`` and by the mapping (one line).
    MappingError
        The mapping's tables cannot be filled from the export (exit code 2).
    ExtractError
        A table's source cannot be used (one line naming it), or most of its rows break one
        rule (:class:`~imnm_cohort.errors.FileLevelError`).
    """
    spec, mapped = export.tables() if export is not None else (None, {})
    both = [name for name in mapped if name in sources]
    if spec is not None and both:
        raise ConfigError(
            f"{spec.path}: [tables.{both[0]}] fills the {both[0]} table that [input.tables] "
            f"also names ({sources[both[0]].name}); give each table one way"
        )
    raw = {name: source.read() for name, source in sources.items()}
    names = {n: s.name for n, s in sources.items()}
    labels = {n: s.label for n, s in sources.items()}
    descriptions = {n: {**s.describe(), "sha256": s.fingerprint()} for n, s in sources.items()}
    if export is not None and spec is not None:
        for name in mapped:
            names[name] = f"{export.name} [tables.{name}]"
            labels[name] = f"{export.label} [tables.{name}]"
            descriptions[name] = {
                **export.describe(),
                "sha256": export.fingerprint(),
                "mapping": spec.to_dict(),
            }
    found = validate_events(raw, patients, names, mapped=mapped)
    return EventTables(
        found.tables,
        labels={n: labels[n] for n in found.tables},
        descriptions={n: descriptions[n] for n in found.tables},
    )


def _derived(valid: pd.DataFrame, contract: TableContract) -> pd.DataFrame:
    """The valid rows with the contract's derived columns (``TableContract.derived``, the
    treatments' ``drug_class``); a file's own column of such a name is carried as
    ``extract.<name>``."""
    if not contract.derived:
        return valid
    own = [c for c in contract.derived if c in valid.columns]
    valid = valid.rename(columns={c: EXTRA_PREFIX + c for c in own})
    return valid.assign(**{c: derive(valid) for c, derive in contract.derived.items()})
