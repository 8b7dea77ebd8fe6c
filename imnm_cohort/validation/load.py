"""Inputs: a source, or an export path plus a mapping file, read, mapped and validated.

:class:`InputSpec` is what ``validate``, ``classify`` and ``run`` share for files: it builds
the :class:`~imnm_cohort.sources.base.Source` (a
:class:`~imnm_cohort.sources.files.FileSource`, wrapped in a
:class:`~imnm_cohort.mapping.source.MappedSource` when a mapping is given). With no mapping,
the source's rows are a section-1 extract and are validated as they are. With one, the export
is read with the mapping's ``[source]`` settings, mapped
(:func:`~imnm_cohort.mapping.apply.apply_mapping`) and validated; rows of the result are then
patients, and every quarantined patient keeps its export row numbers (1-based). Invariant:
export rows = rows of valid patients + rows of quarantined patients.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from imnm_cohort.contracts.patients import CONTRACT_COLUMNS
from imnm_cohort.mapping.apply import MappedExport
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.mapping.spec import MappingSpec
from imnm_cohort.sources.base import Source
from imnm_cohort.sources.files import FileSource
from imnm_cohort.validation.validate import ValidationResult, validate_extract


@dataclass(frozen=True)
class InputSpec:
    """Where the input comes from: a file and, for a site's own export, a mapping file.

    Attributes
    ----------
    path : Path
        A section-1 extract, or an export when ``mapping`` is given.
    mapping : Path or None
        A mapping file (contract section 5).
    """

    path: Path
    mapping: Path | None = None

    def source(self) -> Source:
        """The file as a source, wrapped by the mapping when there is one."""
        file = FileSource(Path(self.path))
        return file if self.mapping is None else MappedSource(file, Path(self.mapping))


def read_mapped(
    path: str | Path | Source, mapping: str | Path | MappingSpec
) -> tuple[MappingSpec, MappedExport]:
    """Check the mapping file, read the export (a file, or any source) with its settings
    and map it.

    Raises
    ------
    MappingError
        The mapping file cannot be used (exit code 2).
    ExtractError
        The export cannot be read.
    """
    spec = mapping if isinstance(mapping, MappingSpec) else Path(mapping)
    export = path if isinstance(path, Source) else FileSource(Path(path))
    return MappedSource(export, spec).mapped()


def load_input(source: InputSpec | Source) -> ValidationResult:
    """Read, map (when a mapping is given) and validate an input.

    Parameters
    ----------
    source : InputSpec or Source
        A file and its mapping, or any source (a
        :class:`~imnm_cohort.mapping.source.MappedSource` for a site's export).

    Returns
    -------
    ValidationResult
        With a mapping: one row per patient; ``quarantine`` and ``reasons`` carry
        ``export_rows``; ``export_rows`` and ``mapping`` are set.
    """
    if isinstance(source, InputSpec):
        source = source.source()
    if not isinstance(source, MappedSource):
        return validate_extract(source.read(), source=source.name)
    spec, mapped = source.mapped()
    frame = mapped.extract.copy()
    absent = [name for name in CONTRACT_COLUMNS if name not in frame.columns]
    for name in absent:
        frame[name] = pd.Series(None, index=frame.index, dtype=object)
    frame.attrs["absent_columns"] = absent
    result = validate_extract(
        frame,
        source=source.name,
        prior_failures=mapped.failures,
        column_sources=mapped.sources,
    )
    quarantine = result.quarantine.copy()
    patients = quarantine["row_number"].to_numpy(dtype=np.int64) - 1
    quarantine.insert(1, "export_rows", mapped.rows_of(patients))
    reasons = result.reasons.copy()
    rows = pd.Series(quarantine["export_rows"].to_numpy(), index=quarantine["row_number"])
    reasons.insert(1, "export_rows", reasons["row_number"].map(rows).to_numpy(dtype=object))
    return dataclasses.replace(
        result,
        quarantine=quarantine,
        reasons=reasons,
        export_rows=mapped.export_rows,
        mapping={**spec.to_dict(), "left_out_columns": list(mapped.left_out)},
    )


@dataclass(frozen=True)
class MapResult:
    """What ``imnm-cohort map`` produced.

    Attributes
    ----------
    extract : pandas.DataFrame
        The section-1 text extract of the patients the mapping could map.
    quarantine : pandas.DataFrame
        Patients it could not map: ``export_rows``, ``quarantine_reasons``, then the mapped
        cells. Patient-level.
    export_rows, patients : int
    reason_counts : dict
        ``"column:rule"`` -> patients.
    absent_columns : tuple of str
        Contract columns the mapping does not give (read as empty downstream).
    """

    extract: pd.DataFrame
    quarantine: pd.DataFrame
    export_rows: int
    patients: int
    reason_counts: dict[str, int]
    absent_columns: tuple[str, ...]


def map_export(path: str | Path | Source, mapping: str | Path) -> MapResult:
    """Map an export into a section-1 extract, quarantining the patients it cannot map.

    Parameters
    ----------
    path : str, Path or Source
        The site's export: a file, or any source (a DuckDB table holding it).
    mapping : str or Path
        The mapping file.

    Returns
    -------
    MapResult
        Only the mapping's own reasons quarantine here (``unmapped_value``,
        ``conflicting_values``, ``missing_id``, unreadable cells); the contract's rules are
        checked by validation.

    Raises
    ------
    MappingError
        The mapping file cannot be used (exit code 2).
    ExtractError
        The export cannot be read (exit code 1).
    """
    _, mapped = read_mapped(path, mapping)
    failures = mapped.failures
    bad = np.zeros(mapped.patients, dtype=bool)
    bad[failures["index"].to_numpy(dtype=np.int64)] = True
    text = failures["column"] + ":" + failures["rule"] + "=" + failures["value"].astype(str)
    joined = text.groupby(failures["index"].to_numpy(dtype=np.int64), sort=True).agg("; ".join)
    patients = np.flatnonzero(bad)
    quarantine = mapped.extract[bad].reset_index(drop=True)
    quarantine.insert(0, "quarantine_reasons", joined.reindex(patients).to_numpy(dtype=object))
    quarantine.insert(0, "export_rows", mapped.rows_of(patients))
    tally = failures.drop_duplicates(["index", "column", "rule"])
    counts = (tally["column"] + ":" + tally["rule"]).value_counts(sort=False).sort_index()
    return MapResult(
        extract=mapped.extract[~bad].reset_index(drop=True),
        quarantine=quarantine,
        export_rows=mapped.export_rows,
        patients=mapped.patients,
        reason_counts={str(k): int(v) for k, v in counts.items()},
        absent_columns=tuple(c for c in CONTRACT_COLUMNS if c not in mapped.extract.columns),
    )
