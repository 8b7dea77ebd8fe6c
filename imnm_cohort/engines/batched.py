"""Validate and classify an extract too large for memory, in Arrow record batches.

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
from imnm_cohort.errors import ExtractError, one_line
from imnm_cohort.io.tables import TABLE_SUFFIXES, _mode, as_text
from imnm_cohort.sources import files as read
from imnm_cohort.validation.validate import (
    FILE_LEVEL_MIN_ROWS,
    FILE_LEVEL_SHARE,
    ValidationResult,
    _raise_if_file_level,
    validate_rows,
)
from imnm_cohort.vocabulary import GROUPS

_EXTRACT = read.SourceOptions(keep_types=True)
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
    path: str | Path,
    output: str | Path,
    criteria: str | CriteriaSet = DEFAULT_CRITERIA,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> BatchedResult:
    """Validate and classify a CSV or Parquet extract batch by batch, streaming the output.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet``/``.pq`` extract.
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
    path, output = Path(path), Path(output)
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    if output.suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(f"{output}: output must end in {' or '.join(TABLE_SUFFIXES)}")
    criteria_set = get_criteria(criteria)
    _check_input(path)
    source = str(path)
    batches = _raw_batches(path, batch_rows)
    total_rows, duplicated = _id_pass(path)
    failing: Counter[tuple[str, str]] = Counter()
    kept: dict[str, list[pd.DataFrame]] = {"quarantine": [], "reasons": [], "warnings": []}
    groups: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    first_row, valid_rows, count = 1, 0, 0
    absent: tuple[str, ...] = ()
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(handle)
    sink = _Sink(Path(tmp))
    try:
        for raw in batches:
            result = validate_rows(
                raw, source, first_row=first_row, duplicated_ids=duplicated, file_level=False
            )
            kept["reasons"].append(result.reasons)
            _judge_file(kept["reasons"], failing, total_rows, source)
            classified = classify(result.valid, criteria_set)
            sink.write(classified)
            groups.update(
                {str(g): int(n) for g, n in classified["imnm_group"].value_counts().items()}
            )
            reasons.update(reason_counts(classified))
            kept["quarantine"].append(result.quarantine)
            kept["warnings"].append(result.warnings)
            first_row += result.input_rows
            valid_rows += result.valid_rows
            absent = result.absent_columns
            count += 1
        if first_row - 1 < total_rows:
            # Blank rows at the end are not data rows: judge the file on the rows it has, as
            # the in-memory path does.
            so_far = pd.concat(kept["reasons"], ignore_index=True)
            _raise_if_file_level(
                so_far.rename(columns={"row_number": "index"}), first_row - 1, source
            )
        sink.close()
        os.chmod(tmp, _mode())
        os.replace(tmp, output)
    except BaseException:
        sink.close()
        Path(tmp).unlink(missing_ok=True)
        raise
    return BatchedResult(
        source=source,
        output=output,
        input_rows=first_row - 1,
        valid_rows=valid_rows,
        batches=count,
        quarantine=_concat(kept["quarantine"]),
        reasons=_concat(kept["reasons"]),
        warnings=_concat(kept["warnings"]),
        group_counts={g: int(groups.get(g, 0)) for g in GROUPS},
        classification_reasons=dict(sorted(reasons.items())),
        absent_columns=absent,
        empty_rows=total_rows - (first_row - 1),
    )


def _check_input(path: Path) -> None:
    """The whole-file reader's first checks, before any output is made: a missing input is
    an input problem (exit 1), not an output that could not be written."""
    if not path.exists():
        raise ExtractError(f"{path}: file not found")
    if path.is_dir():
        raise ExtractError(f"{path}: is a folder, not an extract file")
    if path.stat().st_size == 0:
        raise ExtractError(f"{path}: file is empty")


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The batches' frames as one; the first batch's (empty) frame when all are empty."""
    filled = [f for f in frames if len(f)]
    return pd.concat(filled, ignore_index=True) if filled else frames[0]


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


def _raw_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """Text frames of about ``batch_rows`` rows, as :func:`read_extract` gives a file."""
    suffix = path.suffix.lower()
    if suffix in read.CSV_SUFFIXES:
        frames = _csv_batches(path, batch_rows)
    elif suffix in read.PARQUET_SUFFIXES:
        frames = _parquet_batches(path, batch_rows)
    else:
        raise ExtractError(f"{path}: batched reading takes .csv or .parquet files, not '{suffix}'")
    return (read._normalise(frame, path) for frame in _without_blank_tail(frames))


def _without_blank_tail(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Hold each batch's trailing blank rows back for the next one, so that only the blank
    rows at the end of the file are left out, as the whole-file reader leaves them out."""
    carry: pd.DataFrame | None = None
    yielded = False
    for frame in frames:
        if carry is not None and len(carry):
            frame = pd.concat([carry, frame], ignore_index=True)
        kept = read._drop_trailing_blank_rows(frame)
        carry = frame.iloc[len(kept) :]
        if len(kept):
            yielded = True
            yield kept.reset_index(drop=True)
    if not yielded and carry is not None:
        yield carry  # nothing but blank rows: rejected as a file without data rows


def _csv_reader(path: Path, header: list[str], include: list[str] | None = None):
    """A streaming reader over the data rows, with the whole-file reader's options."""
    options = read._csv_options(header, _EXTRACT, include)
    options["read_options"].block_size = 1 << 24  # type: ignore[attr-defined]
    return pacsv.open_csv(path, **options)


def _csv_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    header = read._csv_header(path, _EXTRACT)
    schema = pa.schema([(f"column_{i}", pa.string()) for i in range(len(header))])
    pending: list[pa.RecordBatch] = []
    rows, yielded = 0, False
    for batch in _arrow_errors(path, _csv_reader(path, header)):
        pending.append(batch)
        rows += batch.num_rows
        while rows >= batch_rows:
            table = pa.Table.from_batches(pending, schema=schema)
            yield _frame(table.slice(0, batch_rows), header, path)
            yielded = True
            rest = table.slice(batch_rows)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows or not yielded:  # the rest, or a file without data rows (rejected there)
        yield _frame(pa.Table.from_batches(pending, schema=schema), header, path)


def _arrow_errors(path: Path, batches) -> Iterator[pa.RecordBatch]:
    """Arrow's errors in the middle of a file as the toolkit's one-line ExtractError."""
    try:
        yield from batches
    except pa.ArrowInvalid as exc:
        raise read._csv_error(path, exc, _EXTRACT) from None


def _frame(table: pa.Table, header: list[str], path: Path) -> pd.DataFrame:
    frame = table.to_pandas(types_mapper=read._arrow_backed)
    frame.columns = pd.Index(header)
    return frame


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise ExtractError(f"{path}: cannot be read as Parquet ({one_line(exc)})") from None
    read._check_header(path, parquet.schema_arrow.names, _EXTRACT.required)
    read.refuse_nested_columns(path, parquet.schema_arrow)
    empty = True
    for batch in parquet.iter_batches(batch_size=batch_rows):
        empty = False
        table = read.bytes_as_text(pa.Table.from_batches([batch]), path)
        frame = table.to_pandas(types_mapper=read._arrow_backed)
        frame = frame.reset_index(drop=True)
        read._refuse_nul_cells(frame, path)
        yield frame
    if empty:
        raise ExtractError(f"{path}: has a header but no data rows")


def _id_pass(path: Path) -> tuple[int, pa.Array]:
    """Rows in the file and the patient ids (trimmed) that occur more than once."""
    if path.suffix.lower() in read.PARQUET_SUFFIXES:
        names = pq.ParquetFile(path).schema_arrow.names
        column = next(n for n in names if n.strip().lower() == "patient_id")
        ids = read.bytes_as_text(pq.read_table(path, columns=[column]), path).column(0)
        ids = ids if pa.types.is_string(ids.type) else pc.cast(ids, pa.string())
    else:
        header = read._csv_header(path, _EXTRACT)
        position = next(i for i, n in enumerate(header) if n.strip().lower() == "patient_id")
        reader = _csv_reader(path, header, include=[f"column_{position}"])
        ids = pa.chunked_array([b.column(0) for b in _arrow_errors(path, reader)], type=pa.string())
    trimmed = nfc(pc.utf8_trim_whitespace(ids))  # as validation reads an id
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    counts = pc.value_counts(trimmed.drop_null())
    repeated = pc.greater(counts.field("counts"), 1)
    return len(ids), counts.field("values").filter(repeated)
