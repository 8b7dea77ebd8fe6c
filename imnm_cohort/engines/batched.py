"""The batched engine: validate and classify a source too large for memory, in batches.

:func:`classify_in_batches` streams the classified rows to a file (``classify
--batch-rows``); :class:`BatchedEngine` keeps them for a run's analyses (``run
--batch-rows``). Both read any :class:`~imnm_cohort.sources.base.Source` (a CSV or Parquet
file is streamed by :func:`~imnm_cohort.sources.files.read_batches`).

The file is read twice. A first pass reads the ``patient_id`` column alone, counting the
rows and finding the ids that occur more than once anywhere in the file. The second pass
reads batches of rows, validates each (a row whose id the whole file repeats is quarantined
as ``duplicate_patient_id`` whichever batch holds the other rows), classifies the valid rows
and appends them to the output file. Only the quarantine, its reasons and the data-quality
warnings are kept in memory, so memory follows the batch size, not the file size.

The result equals the in-memory path (:func:`~imnm_cohort.load_extract` then
:func:`~imnm_cohort.classify`): the same valid rows and groups, the same quarantine with the
same reasons, and the same file-level judgement, made on the whole file (a rule broken by
more than half of all rows stops the run as soon as that is certain; nothing is written).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imnm_cohort.classify.criteria import DEFAULT_CRITERIA, CriteriaSet, get_criteria
from imnm_cohort.classify.procedure import classify, reason_counts
from imnm_cohort.contracts.coerce import nfc
from imnm_cohort.engines.base import ENGINES
from imnm_cohort.errors import ConfigError
from imnm_cohort.io.tables import TABLE_SUFFIXES, _mode, as_text
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.sources.base import Source
from imnm_cohort.sources.files import FileSource
from imnm_cohort.validation.validate import (
    FILE_LEVEL_MIN_ROWS,
    FILE_LEVEL_SHARE,
    ValidationResult,
    _raise_if_file_level,
    validate_rows,
)
from imnm_cohort.vocabulary import GROUPS

PATIENT_ID = "patient_id"
#: Rows per batch by default: about 1 GB of working memory for a contract extract.
DEFAULT_BATCH_ROWS = 500_000
#: Above this input size the command line classifies in batches without being asked.
AUTOMATIC_BATCH_BYTES = 1 << 30


@dataclass(frozen=True)
class BatchedResult:
    """The outcome of :func:`classify_in_batches`.

    Attributes
    ----------
    source : str
        The extract.
    output : Path
        The classified rows (CSV or Parquet, as :func:`~imnm_cohort.io.tables.write_table`).
    input_rows, valid_rows : int
        Data rows in the file; rows that passed validation and were classified.
    batches : int
        Batches read.
    quarantine, reasons, warnings : pandas.DataFrame
        As in :class:`~imnm_cohort.ValidationResult`, for the whole file.
    group_counts : dict
        Classified patients per group.
    classification_reasons : dict
        Classified patients per reason code.
    absent_columns : tuple of str
        Optional contract columns the file does not have.
    empty_rows : int
        Rows with every cell empty after the last data row, left out and counted as in
        :class:`~imnm_cohort.ValidationResult`.
    """

    source: str
    output: Path
    input_rows: int
    valid_rows: int
    batches: int
    quarantine: pd.DataFrame = field(repr=False)
    reasons: pd.DataFrame = field(repr=False)
    warnings: pd.DataFrame = field(repr=False)
    group_counts: dict[str, int] = field(default_factory=dict)
    classification_reasons: dict[str, int] = field(default_factory=dict)
    absent_columns: tuple[str, ...] = ()
    empty_rows: int = 0

    @property
    def quarantined_rows(self) -> int:
        """Number of quarantined rows."""
        return len(self.quarantine)

    @property
    def export_rows(self) -> None:
        """Always None: batches read an extract, not an export through a mapping."""
        return None

    def reason_counts(self) -> pd.DataFrame:
        """Rows per (column, rule), as :meth:`ValidationResult.reason_counts`."""
        return self._tallies().reason_counts()

    def warning_counts(self) -> pd.DataFrame:
        """Rows per warning code, as :meth:`ValidationResult.warning_counts`."""
        return self._tallies().warning_counts()

    def _tallies(self) -> ValidationResult:
        # The tallies read only the reasons and the warnings.
        empty = self.quarantine.iloc[:0]
        return ValidationResult(
            self.source, self.input_rows, empty, self.quarantine, self.reasons, self.warnings
        )


def classify_in_batches(
    path: str | Path | Source,
    output: str | Path,
    criteria: str | CriteriaSet = DEFAULT_CRITERIA,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> BatchedResult:
    """Validate and classify a source batch by batch, streaming the output.

    Parameters
    ----------
    path : str, Path or Source
        A ``.csv`` or ``.parquet``/``.pq`` extract, or any source.
    output : str or Path
        Where the classified rows go (``.csv`` or ``.parquet``); written under a temporary
        name and renamed into place when the whole file has been read.
    criteria : str or CriteriaSet
        As for :func:`~imnm_cohort.classify`.
    batch_rows : int
        Rows per batch (at least 1).

    Returns
    -------
    BatchedResult

    Raises
    ------
    ExtractError
        The file cannot be used, or more than half of its rows break one rule
        (:class:`~imnm_cohort.FileLevelError`); nothing is written.
    """
    output = Path(output)
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    if output.suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(f"{output}: output must end in {' or '.join(TABLE_SUFFIXES)}")
    criteria_set = get_criteria(criteria)
    source = path if isinstance(path, Source) else FileSource(Path(path))
    checked = _checked_batches(source, batch_rows)
    total_rows = next(checked)  # the source's first checks, before any output is made
    assert isinstance(total_rows, int)
    kept: dict[str, list[pd.DataFrame]] = {"quarantine": [], "reasons": [], "warnings": []}
    groups: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    input_rows, valid_rows, count = 0, 0, 0
    absent: tuple[str, ...] = ()
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(handle)
    sink = _Sink(Path(tmp))
    try:
        for result in checked:
            assert isinstance(result, ValidationResult)
            classified = classify(result.valid, criteria_set)
            sink.write(classified)
            groups.update(
                {str(g): int(n) for g, n in classified["imnm_group"].value_counts().items()}
            )
            reasons.update(reason_counts(classified))
            kept["reasons"].append(result.reasons)
            kept["quarantine"].append(result.quarantine)
            kept["warnings"].append(result.warnings)
            input_rows += result.input_rows
            valid_rows += result.valid_rows
            absent = result.absent_columns
            count += 1
        sink.close()
        os.chmod(tmp, _mode())
        os.replace(tmp, output)
    except BaseException:
        sink.close()
        Path(tmp).unlink(missing_ok=True)
        raise
    return BatchedResult(
        source=source.name,
        output=output,
        input_rows=input_rows,
        valid_rows=valid_rows,
        batches=count,
        quarantine=_concat(kept["quarantine"]),
        reasons=_concat(kept["reasons"]),
        warnings=_concat(kept["warnings"]),
        group_counts={g: int(groups.get(g, 0)) for g in GROUPS},
        classification_reasons=dict(sorted(reasons.items())),
        absent_columns=absent,
        empty_rows=total_rows - input_rows,
    )


@dataclass(frozen=True)
class BatchedEngine:
    """Validates a source batch by batch (the rules of :func:`classify_in_batches`: ids
    repeated anywhere in the source are found first, and the file-level judgement is made
    on the whole source) and classifies the valid rows batch by batch. The valid rows are
    kept, so that a run can analyse them. The results equal the in-memory engine's.

    Attributes
    ----------
    batch_rows : int
        Rows per batch (at least 1).
    """

    batch_rows: int = DEFAULT_BATCH_ROWS
    name: str = "batched"

    def validate(self, source: Source) -> ValidationResult:
        """Every row of the source, validated in batches.

        Raises
        ------
        ConfigError
            The source is an export read through a mapping (a mapping combines each
            patient's rows, so the whole export is needed).
        ExtractError
            As the in-memory engine.
        """
        if isinstance(source, MappedSource):
            raise ConfigError(
                f"{source.name}: batches read an extract, not an export through a mapping; "
                "map the export first (map)"
            )
        checked = _checked_batches(source, self.batch_rows)
        total_rows = next(checked)
        assert isinstance(total_rows, int)
        results = [r for r in checked if isinstance(r, ValidationResult)]
        input_rows = sum(r.input_rows for r in results)
        return ValidationResult(
            source=source.name,
            input_rows=input_rows,
            valid=_concat([r.valid for r in results], keep_index=True),
            quarantine=_concat([r.quarantine for r in results]),
            reasons=_concat([r.reasons for r in results]),
            warnings=_concat([r.warnings for r in results]),
            absent_columns=results[-1].absent_columns,
            empty_rows=total_rows - input_rows,
        )

    def classify(self, result: ValidationResult, criteria: CriteriaSet) -> pd.DataFrame:
        """The valid rows classified in batches of :attr:`batch_rows` rows."""
        valid = result.valid
        parts = [
            classify(valid.iloc[start : start + self.batch_rows], criteria)
            for start in range(0, max(len(valid), 1), self.batch_rows)
        ]
        return _concat(parts, keep_index=True)


ENGINES["batched"] = lambda batch_rows: BatchedEngine(batch_rows or DEFAULT_BATCH_ROWS)


def _checked_batches(source: Source, batch_rows: int) -> Iterator[ValidationResult | int]:
    """The source's rows (blank ones at its end included) once its first checks have
    passed, then each batch validated, with the
    file-level judgement made on the whole source (raised as soon as it is certain, and at
    the end on the rows the source has)."""
    batches = source.batches(batch_rows)
    total_rows, duplicated = _id_pass(source)
    yield total_rows
    failing: Counter[tuple[str, str]] = Counter()
    reasons: list[pd.DataFrame] = []
    first_row = 1
    for raw in batches:
        result = validate_rows(
            raw, source.name, first_row=first_row, duplicated_ids=duplicated, file_level=False
        )
        reasons.append(result.reasons)
        _judge_file(reasons, failing, total_rows, source.name)
        yield result
        first_row += result.input_rows
    if first_row - 1 < total_rows:
        # Blank rows at the end are not data rows: judge the file on the rows it has, as
        # the in-memory path does.
        so_far = pd.concat(reasons, ignore_index=True)
        _raise_if_file_level(
            so_far.rename(columns={"row_number": "index"}), first_row - 1, source.name
        )


def _concat(frames: list[pd.DataFrame], *, keep_index: bool = False) -> pd.DataFrame:
    """The batches' frames as one; the first batch's (empty) frame when all are empty."""
    filled = [f for f in frames if len(f)]
    if not filled:
        return frames[0]
    if len(filled) == 1:
        return filled[0] if keep_index else filled[0].reset_index(drop=True)
    return pd.concat(filled, ignore_index=not keep_index)


def _judge_file(
    reasons: list[pd.DataFrame], failing: Counter[tuple[str, str]], total_rows: int, source: str
) -> None:
    """Add the last batch's failing rows per rule; once a rule is broken by most of the
    file, raise the in-memory path's file-level error on every batch's reasons so far."""
    latest = reasons[-1]
    for (column, rule), rows in latest.groupby(["column", "rule"], sort=True)["row_number"]:
        failing[(str(column), str(rule))] += int(rows.nunique())
    if any(
        n >= FILE_LEVEL_MIN_ROWS and n > FILE_LEVEL_SHARE * total_rows for n in failing.values()
    ):
        so_far = pd.concat(reasons, ignore_index=True).rename(columns={"row_number": "index"})
        _raise_if_file_level(so_far, total_rows, source)


class _Sink:
    """Appends classified batches to one CSV or Parquet file, as ``write_table`` writes."""

    def __init__(self, path: Path) -> None:
        self.path, self.csv = path, path.name.endswith(".csv.tmp") or ".csv." in path.name
        self.writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        self.schema: pa.Schema | None = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.csv:
            table = as_text(frame)
        else:
            table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = (
                pacsv.CSVWriter(self.path, table.schema, write_options=_CSV_OPTIONS)
                if self.csv
                else pq.ParquetWriter(self.path, table.schema)
            )
        elif self.schema is not None:
            table = table.cast(self.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


_CSV_OPTIONS = pacsv.WriteOptions(quoting_style="needed")


def _id_pass(source: Source) -> tuple[int, pa.Array]:
    """Rows in the source (at least) and the patient ids (trimmed) that occur more than once."""
    column = source.read(columns=[PATIENT_ID])[PATIENT_ID]
    ids = pa.array(column.astype("string[pyarrow]"), type=pa.string())
    trimmed = nfc(pc.utf8_trim_whitespace(ids))  # as validation reads an id
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    counts = pc.value_counts(trimmed.drop_null())
    repeated = pc.greater(counts.field("counts"), 1)
    return len(ids), counts.field("values").filter(repeated)
